"""Planning the submission files: which file each street sends for each snapshot and
period, in which format and style (typed frames -> styled string tables, with the
habits of real clerks' exports).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import polars as pl

from pipelines.contract import ColumnType, Dataset, get_dataset

from .events import rows_in_period
from .members import member_snapshot
from .model import District, StreetData
from .orgs import org_snapshot_rows
from .profiles import FORMAT_HABITS, StreetProfile
from .randomness import VecRng, rng_for
from .staff import staff_snapshot_rows
from .vocabularies import REMARKS
from .writers import (
    JSONL_MAX_ROWS,
    XLSX_MAX_ROWS,
    FileFormat,
    PlannedFile,
    StringTable,
    TextStyle,
    planned_bytes,
    render_table,
)
from .year import SNAPSHOT_DATES, YEAR, month_end

REGISTRIES = ("union_orgs", "members", "street_staff")
EVENT_PERIODS: dict[str, str] = {  # dataset -> Q (quarterly files) or M (monthly files)
    "collective_contracts": "Q",
    "dispute_cases": "Q",
    "hotline_tickets": "M",
    "legal_services": "M",
    "training_events": "Q",
    "education_grants": "Q",
    "facilities": "Q",
    "hardship_cases": "Q",
}


POLARS_TYPES: dict[ColumnType, pl.DataType] = {
    ColumnType.DATE: pl.Date(),
    ColumnType.DATETIME: pl.Datetime("us"),
    ColumnType.BOOL: pl.Boolean(),
    ColumnType.INT: pl.Int64(),
    ColumnType.MONEY: pl.Int64(),  # cents
    ColumnType.DECIMAL: pl.Int64(),  # tenths
}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def typed_frame(dataset: Dataset, rows: Sequence[dict]) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES.get(c.type, pl.String()) for c in dataset.columns}
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def periods(kind: str) -> list[tuple[str, date, date]]:
    if kind == "M":
        return [(f"{YEAR}-{m:02d}", date(YEAR, m, 1), month_end(YEAR, m)) for m in range(1, 13)]
    return [(f"{YEAR}-Q{q}", date(YEAR, 3 * q - 2, 1), month_end(YEAR, 3 * q)) for q in range(1, 5)]


def choose_format(rng: random.Random, habit: str, rows: int) -> FileFormat:
    """A street mostly sends what its clerk's software exports (its habit)."""
    kind = habit if rng.random() < 0.7 else rng.choices(FORMAT_HABITS, (40, 20, 15, 18, 7))[0]
    if (kind == "xlsx" and rows > XLSX_MAX_ROWS) or (kind == "jsonl" and rows > JSONL_MAX_ROWS):
        kind = "csv-bom"
    match kind:
        case "csv-bom":
            return FileFormat("csv", "utf-8-sig", rng.choice(("\r\n", "\n")))
        case "csv-gbk":
            return FileFormat("csv", "gbk", "\r\n")
        case "xlsx":
            return FileFormat("xlsx", None)
        case "jsonl":
            return FileFormat("jsonl", "utf-8")
    return FileFormat("csv", "utf-8", "\n")


def choose_style(rng: random.Random, fmt: FileFormat, dataset: Dataset) -> TextStyle:
    lang = "en" if rng.random() < 0.15 else "zh"
    case = "plain"
    if lang == "en" and rng.random() < 0.2:
        case = "upper"
    elif lang == "zh" and rng.random() < 0.08:
        case = "spaced"
    has_money = any(c.type is ColumnType.MONEY for c in dataset.columns)
    return TextStyle(
        header_lang=lang,
        header_case=case,
        bool_values=rng.choices((("是", "否"), ("Y", "N"), ("1", "0")), (80, 10, 10))[0],
        date_style="iso" if fmt.kind == "xlsx" else rng.choices(("iso", "slash", "zh"), (80, 12, 8))[0],
        thousands=fmt.kind == "csv" and has_money and rng.random() < 0.2,
    )


def _clerk_habits(typed: pl.DataFrame, dataset: Dataset, rng: random.Random, key: tuple) -> pl.DataFrame:
    """What real exports look like: 劳模级别 left blank for 无, street_code sometimes
    omitted or left blank (it defaults to the folder's street), a 备注 column."""
    r = VecRng(typed.height, *key)
    if "model_worker" in typed.columns and rng.random() < 0.7:
        typed = typed.with_columns(pl.when(pl.col("model_worker") != "无").then(pl.col("model_worker")).alias("model_worker"))
    u = rng.random()
    if u < 0.1:
        typed = typed.drop("street_code")
    elif u < 0.25:
        blank = pl.lit(r.uniform("blank_street") < 0.03)
        typed = typed.with_columns(pl.when(~blank).then(pl.col("street_code")).alias("street_code"))
    if rng.random() < 0.1 and typed.height <= XLSX_MAX_ROWS:
        note = pl.lit(r.choice("remark", REMARKS))
        typed = typed.with_columns(pl.when(pl.lit(r.uniform("has_remark")) < 0.05).then(note).alias("remark"))
    return typed


def _full_width_cell(table: StringTable, rng: random.Random) -> None:
    """Rarely, a clerk types a number with full-width digits (valid after NFKC)."""
    ints = [c for c in table.frame.columns if table.column_type(c) is ColumnType.INT]
    if not ints or table.height == 0:
        return
    row, col = rng.randrange(table.height), rng.choice(ints)
    value = table.get(row, col)
    if value:
        table.set(row, col, value.translate(FULL_WIDTH))


def plan_file(seed: int, profile: StreetProfile, dataset: str, stem: str, typed: pl.DataFrame,
              due: date) -> PlannedFile:
    code = profile.street.code
    ds = get_dataset(dataset)
    rng = rng_for(seed, "file", code, dataset, stem)
    fmt = choose_format(rng, profile.format_habit, typed.height)
    style = choose_style(rng, fmt, ds)
    table = render_table(_clerk_habits(typed, ds, rng, (seed, "habits", code, stem)), ds, style)
    if fmt.kind == "csv" and rng.random() < 0.05:
        _full_width_cell(table, rng)
    sent = datetime.combine(due + timedelta(days=rng.randint(1, 6)), datetime.min.time()) + timedelta(
        seconds=rng.randint(9 * 3600, 17 * 3600)
    )
    pf = PlannedFile(path=f"inbox/{code}/{dataset}/{stem}.{fmt.ext}", dataset=dataset, street_code=code,
                     fmt=fmt, table=table, submitted_at=sent)
    if fmt.encoding == "gbk" and table.height <= 50 and _valid_utf8(planned_bytes(pf)):
        # A short GBK export with little Chinese can happen to be valid UTF-8 too (欠薪 is):
        # no reader could tell, so the clerk's software writes UTF-8 with a BOM instead.
        pf.fmt = FileFormat("csv", "utf-8-sig", "\r\n")
    return pf


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def plan_street(seed: int, sd: StreetData) -> list[PlannedFile]:
    p, code = sd.profile, sd.profile.street.code
    out = []
    for k, as_of in enumerate(SNAPSHOT_DATES):
        orgs = typed_frame(get_dataset("union_orgs"), org_snapshot_rows(sd.orgs, k, code))
        members = member_snapshot(sd.population, as_of, sd.jingka_rate(k), code)
        staff = typed_frame(get_dataset("street_staff"), staff_snapshot_rows(sd.staff, k, code))
        for name, frame in (("union_orgs", orgs), ("members", members), ("street_staff", staff)):
            if frame.height:
                out.append(plan_file(seed, p, name, f"{name}_{as_of.isoformat()}", frame, as_of))
    for name, kind in EVENT_PERIODS.items():
        ds = get_dataset(name)
        for label, start, end in periods(kind):
            rows = rows_in_period(sd.events[name], start, end)
            if rows:
                out.append(plan_file(seed, p, name, f"{name}_{label}", typed_frame(ds, rows), end))
    return out


def plan_files(district: District) -> list[PlannedFile]:
    return [pf for sd in district.streets for pf in plan_street(district.seed, sd)]
