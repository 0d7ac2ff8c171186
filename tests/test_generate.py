"""The synthetic district generator: determinism, coverage, validity, formats, defects.

The reader and row checks at the bottom are an independent re-implementation of the
contract written for this test (not the pipeline's): the clean district must raise
nothing, and the defective district must raise exactly what the manifest lists.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.contract import DATASETS, DATASETS_BY_NAME, STREETS, Column, ColumnType, Dataset
from pipelines.contract.schema import (
    IdentityAgreement,
    NotAfter,
    Ordered,
    Prefix,
    RequiredWhen,
    UniqueWhere,
)
from pipelines.generate import (
    Manifest,
    generate_district,
    is_valid_id,
    is_valid_uscc,
    load_manifest,
    write_members_csv,
)
from pipelines.generate.district import build_district
from pipelines.generate.members import member_snapshot

SCALE = 0.2


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    raw = tmp_path_factory.mktemp("clean")
    return raw, generate_district(raw, scale=SCALE, seed=2015)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    raw = tmp_path_factory.mktemp("dirty")
    return raw, generate_district(raw, scale=SCALE, seed=2015, defects=True)


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- determinism, coverage, manifest ----------------------------------------------------------


def test_same_seed_gives_identical_bytes(dirty: tuple[Path, Manifest], tmp_path: Path) -> None:
    raw, _ = dirty
    generate_district(tmp_path, scale=SCALE, seed=2015, defects=True)
    assert _digests(tmp_path) == _digests(raw)  # every file, manifest.json included


def test_other_seed_gives_other_data(clean: tuple[Path, Manifest], tmp_path: Path) -> None:
    _, manifest = clean
    other = generate_district(tmp_path, scale=SCALE, seed=2016)
    before = {f.path: f.sha256 for f in manifest.files}
    after = {f.path: f.sha256 for f in other.files}
    same = sum(1 for p, h in after.items() if before.get(p) == h)
    assert same <= len(after) // 100


def test_every_street_and_dataset_has_a_file(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    seen = {(f.street_code, f.dataset) for f in manifest.files if f.rows}
    assert seen == {(s.code, d.name) for s in STREETS for d in DATASETS}
    for s in STREETS:
        for d in DATASETS:
            assert any((raw / "inbox" / s.code / d.name).iterdir())


def test_manifest_matches_disk(dirty: tuple[Path, Manifest]) -> None:
    raw, manifest = dirty
    on_disk = {
        k: v
        for k, v in _digests(raw).items()
        if k.startswith("inbox/") and not k.endswith(".gitkeep")
    }
    assert on_disk == {f.path: f.sha256 for f in manifest.files}
    assert load_manifest(raw / "manifest.json") == manifest
    data = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))
    assert list(data) == ["seed", "scale", "defects", "files", "row_defects", "file_defects", "dataset_defects",
                          "planted_signals"]
    assert data["scale"] == SCALE and data["defects"] is True
    assert set(data["files"][0]) == {
        "path",
        "dataset",
        "street_code",
        "format",
        "encoding",
        "rows",
        "sha256",
    }


def test_file_names_and_formats(clean: tuple[Path, Manifest]) -> None:
    _, manifest = clean
    names = [f.path.rsplit("/", 1)[1] for f in manifest.files]
    assert "members_2015-09-30" in {n.rsplit(".", 1)[0] for n in names}
    assert any(re.fullmatch(r"dispute_cases_2015-Q[1-4]\.\w+", n) for n in names)
    assert any(re.fullmatch(r"hotline_tickets_2015-\d\d\.\w+", n) for n in names)
    kinds = Counter((f.format, f.encoding) for f in manifest.files)
    for kind in (
        ("csv", "utf-8"),
        ("csv", "utf-8-sig"),
        ("csv", "gbk"),
        ("xlsx", None),
        ("jsonl", "utf-8"),
    ):
        assert kinds[kind] > 0, kind


def test_registries_have_three_snapshots_with_churn(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    snaps = Counter(
        (f.street_code, f.dataset) for f in manifest.files if f.dataset in ("union_orgs", "members")
    )
    assert set(snaps.values()) == {3}
    d = build_district(2015, SCALE)
    sd = d.streets[0]
    june = member_snapshot(sd.population, date(2015, 6, 30), 0.6, "x")
    dec = member_snapshot(sd.population, date(2015, 12, 31), 0.6, "x")
    assert set(dec["member_id"]) - set(june["member_id"])  # new members joined
    gone = set(june["member_id"]) - set(dec["member_id"])
    left = dec.filter(pl.col("status") != "在会")
    assert gone or left.height  # members left, silently or with a status


# --- validity of identities -------------------------------------------------------------------

ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def spec_id_ok(value: str) -> bool:
    """Written from the spec, independently of the generator's helper."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return "10X98765432"[sum(int(value[i]) * ID_W[i] for i in range(17)) % 11] == value[17]


def spec_uscc_ok(value: str) -> bool:
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        return False
    check = 31 - sum(USCC_CHARS.index(value[i]) * USCC_W[i] for i in range(17)) % 31
    return USCC_CHARS[0 if check == 31 else check] == value[17]


def test_spec_helpers_agree_on_known_values() -> None:
    assert spec_id_ok("11010519491231002X") and is_valid_id("11010519491231002X")
    assert not spec_id_ok("110105194912310021") and not is_valid_id("110105194912310021")
    assert spec_uscc_ok("91350100M000100Y43") and is_valid_uscc("91350100M000100Y43")
    assert not spec_uscc_ok("91350100M000100Y44") and not is_valid_uscc("91350100M000100Y44")


def test_clean_ids_and_credit_codes_are_valid(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    ids = codes = local = 0
    for f in manifest.files:
        if f.dataset not in ("members", "union_orgs", "dispute_cases", "hotline_tickets"):
            continue
        rows = read_submission(raw / f.path, DATASETS_BY_NAME[f.dataset]).rows
        for _, row in rows:
            assert row is not None
            if f.dataset == "members":
                ident = row["id_number"]
                assert is_valid_id(ident) and spec_id_ok(ident), ident
                local += ident.startswith("1101")
                assert (int(ident[16]) % 2 == 1) == (row["gender"] == "男")
                assert 1955 <= int(ident[6:10]) <= 1997
                ids += 1
            for col in ("credit_code", "union_credit_code"):
                if row.get(col):
                    assert is_valid_uscc(row[col]) and spec_uscc_ok(row[col]), row[col]
                    codes += 1
            if f.dataset == "union_orgs":
                assert row["credit_code"][:2] in ("91", "11", "12", "51", "52")
                if row.get("union_credit_code"):
                    assert row["union_credit_code"].startswith("81110101")
    assert ids > 1000 and codes > 100
    assert 0.5 < local / ids < 0.95  # mostly Beijing residents, some from other provinces


# --- formats -----------------------------------------------------------------------------------


def test_gbk_files_are_really_gbk(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    gbk = [f for f in manifest.files if f.encoding == "gbk"]
    assert gbk
    for f in gbk:
        data = (raw / f.path).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("gb18030")  # decodes without error
        assert re.search(r"[\u4e00-\u9fff]", text)


def test_bom_files_start_with_bom(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    for f in manifest.files:
        starts = (raw / f.path).read_bytes()[:3] == b"\xef\xbb\xbf"
        assert starts == (f.encoding == "utf-8-sig"), f.path


def test_xlsx_open_and_hold_date_cells(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    xlsx = [f for f in manifest.files if f.format == "xlsx"]
    assert xlsx
    dated = 0
    for f in xlsx[:40]:
        wb = openpyxl.load_workbook(raw / f.path, read_only=True)
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        assert len(rows) == f.rows + 1
        dated += any(isinstance(v, datetime) for row in rows[1:] for v in row)
        wb.close()
        props = openpyxl.load_workbook(raw / f.path).properties
        assert props.created == datetime(2015, 12, 31, 18, 0)
    assert dated == min(len(xlsx), 40)


def test_members_csv_for_benchmarks(tmp_path: Path) -> None:
    out = tmp_path / "members.csv"
    assert write_members_csv(out, 5_000, seed=7, street_code="110101003") == 5_000
    assert (
        write_members_csv(tmp_path / "again.csv", 5_000, seed=7, street_code="110101003") == 5_000
    )
    assert out.read_bytes() == (tmp_path / "again.csv").read_bytes()
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.height == 5_000 and frame.columns[:3] == ["会员编号", "姓名", "身份证号"]
    assert frame["身份证号"].n_unique() == 5_000
    assert all(spec_id_ok(v) for v in frame["身份证号"].to_list())
    assert (frame["街道代码"] == "110101003").all()
    table = read_submission(out, DATASETS_BY_NAME["members"])
    problems = check_rows(table, DATASETS_BY_NAME["members"], "110101003")
    assert not problems


def test_scale_grows_members_linearly() -> None:
    def members(scale: float) -> int:
        d = build_district(2015, scale)
        return sum(
            member_snapshot(sd.population, date(2015, 12, 31), 0.5, "x").height for sd in d.streets
        )

    small, big = members(0.1), members(0.4)
    assert 3.4 < big / small < 4.6


def test_scale_one_timing(tmp_path: Path) -> None:
    start = time.perf_counter()
    manifest = generate_district(tmp_path, scale=1.0)
    elapsed = time.perf_counter() - start
    rows = Counter()
    for f in manifest.files:
        rows[f.dataset] += f.rows or 0
    print(f"\nscale=1: {len(manifest.files)} files in {elapsed:.1f}s; rows {dict(rows)}")


# --- defects --------------------------------------------------------------------------------------

REQUIRED_ROW_CODES = {
    "id_number.check_digit",
    "uscc.check_digit",
    "date.invalid",
    "enum.unknown",
    "street_mismatch",
    "duplicate_key_in_file",
    "gender.id_mismatch",
    "closed_date.required",
    "end_date.not_after_start",
    "as_of_date.inconsistent",
    "int.range",
}
REQUIRED_FILE_CODES = {
    "file.missing_column",
    "file.truncated",
    "file.duplicate",
    "file.unsupported_format",
    "file.unknown_street",
}


def test_defect_manifest_lists_every_kind(dirty: tuple[Path, Manifest]) -> None:
    _, manifest = dirty
    row_codes = {c for d in manifest.row_defects for c in d.codes}
    assert row_codes >= REQUIRED_ROW_CODES
    assert {d.code for d in manifest.file_defects} >= REQUIRED_FILE_CODES
    dup = [d for d in manifest.file_defects if d.code == "file.duplicate"]
    assert all(d.duplicate_of and d.duplicate_of != d.path for d in dup)
    assert len({d.path.split("/")[1] for d in manifest.row_defects}) >= 10  # spread over streets
    for key_dup in [d for d in manifest.row_defects if d.codes == ["duplicate_key_in_file"]]:
        assert (
            sum(
                1
                for d in manifest.row_defects
                if d.path == key_dup.path and d.codes == key_dup.codes
            )
            == 2
        )


def test_defects_leave_other_files_untouched(
    clean: tuple[Path, Manifest], dirty: tuple[Path, Manifest]
) -> None:
    _, c = clean
    _, d = dirty
    touched = {r.path for r in d.row_defects} | {f.path for f in d.file_defects} | {x.path for x in d.dataset_defects}
    before = {f.path: f.sha256 for f in c.files}
    for f in d.files:
        if f.path not in touched:
            assert before[f.path] == f.sha256, f.path


def test_clean_district_breaks_no_rule(clean: tuple[Path, Manifest]) -> None:
    raw, manifest = clean
    problems, rejected = audit(raw, manifest)
    assert rejected == {}
    assert problems == {}


def test_injected_defects_raise_exactly_the_listed_codes(dirty: tuple[Path, Manifest]) -> None:
    raw, manifest = dirty
    problems, rejected = audit(raw, manifest)
    assert rejected == {d.path: d.code for d in manifest.file_defects}
    expected: dict[tuple[str, int], list[str]] = {
        (d.path, d.line): sorted(d.codes) for d in manifest.row_defects
    }
    assert problems == expected


# --- an independent reader and row checker (test-only) -----------------------------------------

BOOLS = {
    "是": True,
    "否": False,
    "y": True,
    "n": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
}
PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-\d{7,8}")
MONEY = re.compile(r"(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")


class Rejected(Exception):  # noqa: N818
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Table:
    def __init__(self, rows: list[tuple[int, dict | None]]) -> None:
        self.rows = rows  # (line, canonical values) ; None = malformed


def _norm(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def _header_map(ds: Dataset) -> dict[str, str]:
    out = {}
    for c in ds.columns:
        for h in (c.name, c.zh):
            out[unicodedata.normalize("NFKC", h).strip().casefold()] = c.name
    return out


def _raw_rows(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [
            (i, list(r))
            for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1)
        ]
        wb.close()
        return [str(v) for v in rows[0][1]] if rows else [], rows[1:]
    if path.suffix == ".jsonl":
        out, header = [], []
        for i, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            obj = json.loads(line)
            header = header or list(obj)
            out.append((i, [obj.get(h) for h in header] if isinstance(obj, dict) else None))
        return header, out
    if path.suffix != ".csv":
        raise Rejected("file.unsupported_format")
    if data and not data.endswith(b"\n"):
        raise Rejected("file.truncated")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    return header, [(reader.line_num, r) for r in reader if r]


def read_submission(path: Path, ds: Dataset) -> Table:
    header, raw = _raw_rows(path)
    if not raw:
        raise Rejected("file.empty")
    hmap = _header_map(ds)
    names = [
        hmap.get(unicodedata.normalize("NFKC", str(h)).strip().casefold(), f"extra:{h}")
        for h in header
    ]
    for c in ds.required_columns:
        if c.name not in names:
            raise Rejected("file.missing_column")
    rows: list[tuple[int, dict | None]] = []
    for line, values in raw:
        if values is None or len(values) != len(names):
            rows.append((line, None))
        else:
            rows.append((line, {n: _norm(v) for n, v in zip(names, values, strict=True)}))
    return Table(rows)


def _date(text: str) -> date | None:
    for pattern in (
        r"(\d{4})-(\d{1,2})-(\d{1,2})",
        r"(\d{4})/(\d{1,2})/(\d{1,2})",
        r"(\d{4})年(\d{1,2})月(\d{1,2})日",
    ):
        if m := re.fullmatch(pattern, text):
            try:
                return date(*(int(g) for g in m.groups()))
            except ValueError:
                return None
    return None


def _datetime(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _typed(value: str, col: Column) -> tuple[object, list[str]]:
    t = col.type
    if t is ColumnType.INT:
        if not re.fullmatch(r"[+-]?\d+", value):
            return None, ["int.invalid"]
        v = int(value)
        lo, hi = col.effective_minimum, col.maximum
        return v, ["int.range"] if (lo is not None and v < lo) or (
            hi is not None and v > hi
        ) else []
    if t is ColumnType.DECIMAL:
        if not re.fullmatch(r"[+-]?\d+(\.\d+)?", value):
            return None, ["decimal.invalid"]
        v = float(value)
        bad = (col.minimum is not None and v < col.minimum) or (
            col.maximum is not None and v > col.maximum
        )
        return v, ["decimal.range"] if bad else []
    if t is ColumnType.MONEY:
        return value, [] if MONEY.fullmatch(value) else ["money.invalid"]
    if t is ColumnType.DATE:
        d = _date(value)
        return d, [] if d else ["date.invalid"]
    if t is ColumnType.DATETIME:
        dt = _datetime(value)
        return dt, [] if dt else ["datetime.invalid"]
    if t is ColumnType.BOOL:
        b = BOOLS.get(value.casefold())
        return b, [] if b is not None else ["bool.invalid"]
    if t is ColumnType.ENUM:
        return value, [] if value in col.enum else ["enum.unknown"]
    if t is ColumnType.ID18:
        if not re.fullmatch(r"\d{17}[\dXx]", value):
            return None, ["id_number.format"]
        if _date(f"{value[6:10]}-{value[10:12]}-{value[12:14]}") is None:
            return None, ["id_number.birth_date"]
        return (
            (value.upper(), []) if spec_id_ok(value.upper()) else (None, ["id_number.check_digit"])
        )
    if t is ColumnType.USCC:
        if len(value) != 18 or any(c not in USCC_CHARS for c in value):
            return None, ["uscc.format"]
        return (value, []) if spec_uscc_ok(value) else (None, ["uscc.check_digit"])
    if t is ColumnType.PHONE:
        return value, [] if PHONE.fullmatch(value) else ["phone.format"]
    return value, []


def _row_codes(row: dict, ds: Dataset, street: str) -> tuple[dict, set[str]]:
    codes: set[str] = set()
    typed: dict = {}
    for col in ds.columns:
        value = row.get(col.name)
        if value is None:
            if col.required:
                codes.add("required")
            typed[col.name] = None
            continue
        typed[col.name], errs = _typed(value, col)
        codes.update(errs)
    if typed.get("street_code") and typed["street_code"] != street:
        codes.add("street_mismatch")
    for r in ds.rules:
        codes.update(_cross(r, typed))
    return typed, codes


def _cross(r: object, v: dict) -> set[str]:
    match r:
        case IdentityAgreement():
            ident = v.get(r.id_column)
            if not ident:
                return set()
            birth = date(int(ident[6:10]), int(ident[10:12]), int(ident[12:14]))
            out = set()
            gender = v.get(r.gender_column)
            if gender and (gender == "男") != (int(ident[16]) % 2 == 1):
                out.add("gender.id_mismatch")
            if v.get(r.birth_column) and v[r.birth_column] != birth:
                out.add("birth_date.id_mismatch")
            join = v.get(r.join_column)
            if join and join < birth.replace(
                year=birth.year + r.min_join_age, day=min(birth.day, 28)
            ):
                out.add("join_date.under_16")
            return out
        case NotAfter():
            a, b = v.get(r.column), v.get(r.other)
            return {r.code} if a and b and a > b else set()
        case Ordered():
            a, b = v.get(r.column), v.get(r.other)
            bad = a is not None and b is not None and (a <= b if r.strict else a < b)
            return {r.code} if bad else set()
        case RequiredWhen():
            when = v.get(r.when_column)
            hit = str(when).lower() in r.values if isinstance(when, bool) else when in r.values
            return {r.code} if hit and v.get(r.column) is None else set()
        case Prefix():
            a = v.get(r.column)
            return {r.code} if a and not a.startswith(r.prefix) else set()
    return set()


def check_rows(table: Table, ds: Dataset, street: str) -> dict[int, list[str]]:
    problems: dict[int, set[str]] = {}
    typed_rows: list[tuple[int, dict]] = []
    for line, row in table.rows:
        if row is None:
            problems[line] = {"row.malformed"}
            continue
        typed, codes = _row_codes(row, ds, street)
        if codes:
            problems[line] = codes
        typed_rows.append((line, typed))
    keys = Counter(t[ds.key] for _, t in typed_rows if t.get(ds.key))
    for line, t in typed_rows:
        if keys[t.get(ds.key)] > 1:
            problems.setdefault(line, set()).add("duplicate_key_in_file")
    for r in ds.rules:
        if isinstance(r, UniqueWhere):
            where = [
                (line, t)
                for line, t in typed_rows
                if t.get(r.where_column) == r.where_value and t.get(r.column)
            ]
            seen = Counter(t[r.column] for _, t in where)
            for line, t in where:
                if seen[t[r.column]] > 1:
                    problems.setdefault(line, set()).add(r.code)
    if ds.is_registry:
        dates = Counter(t["as_of_date"] for _, t in typed_rows if t.get("as_of_date"))
        if dates:
            mode = dates.most_common(1)[0][0]
            for line, t in typed_rows:
                if t.get("as_of_date") and t["as_of_date"] != mode:
                    problems.setdefault(line, set()).add("as_of_date.inconsistent")
    return {line: sorted(codes) for line, codes in problems.items()}


def audit(raw: Path, manifest: Manifest) -> tuple[dict[tuple[str, int], list[str]], dict[str, str]]:
    """Read every file of the manifest as the contract says; returns the row problems and
    the rejected files with their file-rule code."""
    problems: dict[tuple[str, int], list[str]] = {}
    rejected: dict[str, str] = {}
    seen: set[str] = set()
    known = {s.code for s in STREETS}
    for f in sorted(manifest.files, key=lambda f: f.path):
        _, street, dataset, _ = f.path.split("/")
        try:
            if f.sha256 in seen:
                raise Rejected("file.duplicate")
            seen.add(f.sha256)
            if not f.path.endswith((".csv", ".xlsx", ".jsonl")):
                raise Rejected("file.unsupported_format")
            if street not in known:
                raise Rejected("file.unknown_street")
            if dataset not in DATASETS_BY_NAME:
                raise Rejected("file.unknown_dataset")
            ds = DATASETS_BY_NAME[dataset]
            table = read_submission(raw / f.path, ds)
        except Rejected as exc:
            rejected[f.path] = exc.code
            continue
        assert len(table.rows) == f.rows, f.path
        for line, codes in check_rows(table, ds, street).items():
            problems[(f.path, line)] = codes
    return problems, rejected


def test_dataset_defects_shrink_one_snapshot_and_blank_phones_in_another(
    clean: tuple[Path, Manifest], dirty: tuple[Path, Manifest]
) -> None:
    _, c = clean
    _, d = dirty
    kinds = {x.expectation: x for x in d.dataset_defects}
    assert set(kinds) == {"expect_table_row_count_to_be_between", "expect_column_values_to_not_be_null"}
    rows = {f.path: f.rows for f in c.files}
    half = kinds["expect_table_row_count_to_be_between"]
    shrunk = next(f for f in d.files if f.path == half.path)
    assert shrunk.rows is not None and shrunk.rows < 0.5 * rows[half.path]
    assert half.path != kinds["expect_column_values_to_not_be_null"].path
