"""Deterministic defect injection, and the manifest that records exactly what was injected.

Every row defect is built so that it raises exactly the rule codes it lists and nothing
else (the row is otherwise clean; rules that depend on a broken value are not evaluated):
a test can compare the pipeline's quarantine with ``Manifest.row_defects`` line for line.
File defects each break one file rule and are listed in ``Manifest.file_defects``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from pipelines.contract import STREETS, is_known_street
from pipelines.contract.datasets import CASE_CLOSED_STATUS

from .identifiers import id_check_char, make_uscc
from .model import PlantedSignal
from .randomness import rng_for
from .writers import FileFormat, PlannedFile, StringTable, format_date

UNKNOWN_STREET = "110101099"
FAKE_DOC = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504  # an OLE2 (Word 97-2003) header


# --- the manifest ------------------------------------------------------------------------


@dataclass
class FileEntry:
    path: str
    dataset: str
    street_code: str
    format: str
    encoding: str | None
    rows: int | None
    sha256: str


@dataclass
class RowDefect:
    path: str
    line: int  # CSV/JSONL physical line (CSV header = line 1), XLSX sheet row
    codes: list[str]
    column: str | None
    defect: str


@dataclass
class FileDefect:
    path: str
    code: str
    column: str | None = None
    duplicate_of: str | None = None


@dataclass
class DatasetDefect:
    """A whole-file problem no single row shows: the quality gate must hold the file back."""

    path: str
    suite: str
    expectation: str
    column: str | None
    defect: str


@dataclass
class Manifest:
    seed: int
    scale: float
    defects: bool
    files: list[FileEntry] = field(default_factory=list)
    row_defects: list[RowDefect] = field(default_factory=list)
    file_defects: list[FileDefect] = field(default_factory=list)
    dataset_defects: list[DatasetDefect] = field(default_factory=list)
    planted_signals: list[PlantedSignal] = field(default_factory=list)  # the warnings it must raise

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        return cls(
            seed=data["seed"],
            scale=data["scale"],
            defects=data["defects"],
            files=[FileEntry(**f) for f in data["files"]],
            row_defects=[RowDefect(**r) for r in data["row_defects"]],
            file_defects=[FileDefect(**f) for f in data["file_defects"]],
            dataset_defects=[DatasetDefect(**d) for d in data.get("dataset_defects", [])],
            planted_signals=[PlantedSignal(**{**p, "datasets": tuple(p["datasets"])})
                             for p in data.get("planted_signals", [])],
        )


def load_manifest(path: Path | str) -> Manifest:
    return Manifest.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


# --- helpers ----------------------------------------------------------------------------------

_ZH_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


def parse_date(text: str, style: str) -> date:
    """Parse a date as rendered in ``style`` (iso, slash, zh)."""
    if style == "slash":
        y, m, d = (int(x) for x in text.split("/"))
        return date(y, m, d)
    if style == "zh" and (match := _ZH_DATE.match(text)):
        return date(*(int(x) for x in match.groups()))
    return date.fromisoformat(text)


def bad_date_text(style: str) -> str:
    return {"iso": "2015-02-30", "slash": "2015/2/30", "zh": "2015年2月30日"}[style]


def line_of(pf: PlannedFile, row: int) -> int:
    """1-based physical line (CSV: header is line 1; JSONL: no header) or XLSX sheet row."""
    return row + (1 if pf.fmt.kind == "jsonl" else 2)


@dataclass
class Target:
    """The file and row a defect is injected into."""

    pf: PlannedFile
    row: int
    rng: random.Random
    used: set[int]

    @property
    def table(self) -> StringTable:
        assert self.pf.table is not None
        return self.pf.table

    def get(self, column: str) -> str | None:
        return self.table.get(self.row, column)

    def set(self, column: str, value: str | None) -> None:
        self.table.set(self.row, column, value)

    def date(self, column: str) -> date:
        return parse_date(self.get(column) or "", self.table.style.date_style)

    def date_text(self, value: date) -> str:
        return format_date(value, self.table.style.date_style)

    @property
    def yes(self) -> str:
        return self.table.style.bool_values[0]


# A defect returns the other rows it flagged besides its own (0-based), e.g. the second
# copy of a duplicated key; most return [].
Apply = Callable[[Target], list[int]]
Eligible = Callable[[Target], bool]


def _always(t: Target) -> bool:
    return True


@dataclass(frozen=True)
class RowDefectKind:
    name: str
    dataset: str
    column: str | None
    codes: tuple[str, ...]
    apply: Apply
    eligible: Eligible = _always
    needs_csv: bool = False
    needs_column: str | None = None


# --- row defects -------------------------------------------------------------------------------


def _bad_id_check(t: Target) -> list[int]:
    value = t.get("id_number") or ""
    t.set("id_number", value[:17] + next(c for c in "0123456789" if c != value[17]))
    return []


def _bad_id_format(t: Target) -> list[int]:
    t.set("id_number", (t.get("id_number") or "")[:17])
    return []


def _flip_gender(t: Target) -> list[int]:
    t.set("gender", "女" if t.get("gender") == "男" else "男")
    return []


def _birth_mismatch(t: Target) -> list[int]:
    t.set("birth_date", t.date_text(t.date("birth_date") - timedelta(days=1)))
    return []


def _under_16(t: Target) -> list[int]:
    ident = t.get("id_number") or ""
    birth = date(int(ident[6:10]), int(ident[10:12]), int(ident[12:14]))
    t.set("join_date", t.date_text(birth.replace(year=birth.year + 15, day=min(birth.day, 28))))
    return []


def _bad_phone(t: Target) -> list[int]:
    t.set("phone", "1381234567")
    return []


def _bad_bool(t: Target) -> list[int]:
    t.set("jingka_issued", "已办")
    return []


def _other_id(t: Target, ident: str) -> str:
    """A different valid ID with the same birth date and gender (same street partition)."""
    taken = set(t.table.frame["id_number"].drop_nulls().to_list())
    parity = int(ident[16]) % 2
    for d17 in range(parity, 10, 2):
        body = ident[:16] + str(d17)
        candidate = body + id_check_char(body)
        if candidate not in taken:
            return candidate
    raise RuntimeError("no free ID for a duplicated member row")


def _duplicate_member(t: Target) -> list[int]:
    """The same member_id twice; the copy gets another valid ID so that only
    duplicate_key_in_file is raised (not id_number.duplicate_active)."""
    row = t.table.row(t.row)
    row["id_number"] = _other_id(t, row["id_number"] or "")
    return [t.table.append(row)]


def _duplicate_event(t: Target) -> list[int]:
    return [t.table.append(t.table.row(t.row))]


def _duplicate_active_id(t: Target) -> list[int]:
    """A second 在会 member (another row) carrying this row's ID: both rows are flagged."""
    mine = t.table.row(t.row)
    frame = t.table.frame.with_row_index("_i")
    others = [
        i for i in frame.filter(
            (pl.col("_i") != t.row) & (pl.col("status") == "在会") & (pl.col("gender") == mine["gender"])
        )["_i"].to_list()
        if i not in t.used
    ]
    other = t.rng.choice(others)
    t.table.set(other, "id_number", mine["id_number"])
    t.table.set(other, "birth_date", mine["birth_date"])
    t.table.set(other, "join_date", mine["join_date"])
    return [other]


def _bad_uscc_check(t: Target) -> list[int]:
    value = t.get("credit_code") or ""
    t.set("credit_code", value[:17] + next(c for c in "0123456789ABCDEF" if c != value[17]))
    return []


def _founded_after_as_of(t: Target) -> list[int]:
    t.set("founded_date", t.date_text(t.date("as_of_date") + timedelta(days=10)))
    return []


def _union_code_missing(t: Target) -> list[int]:
    t.set("union_credit_code", None)
    return []


def _union_code_prefix(t: Target) -> list[int]:
    t.set("union_credit_code", make_uscc("91110101", t.rng))
    return []


def _as_of_differs(t: Target) -> list[int]:
    t.set("as_of_date", t.date_text(t.date("as_of_date") - timedelta(days=92)))
    return []


def _founded_before_previous_quarter(t: Target) -> bool:
    return t.date("founded_date") <= t.date("as_of_date") - timedelta(days=92) and t.row > 0


def _impossible_date(column: str) -> Apply:
    def apply(t: Target) -> list[int]:
        t.set(column, bad_date_text(t.table.style.date_style))
        return []

    return apply


def _set(column: str, value: str | None) -> Apply:
    def apply(t: Target) -> list[int]:
        t.set(column, value)
        return []

    return apply


def _other_street(t: Target) -> list[int]:
    mine = t.pf.street_code
    t.set("street_code", t.rng.choice([s.code for s in STREETS if s.code != mine]))
    return []


def _end_before_start(t: Target) -> list[int]:
    t.set("end_date", t.date_text(t.date("start_date") - timedelta(days=365)))
    return []


def _closed_before_received(t: Target) -> list[int]:
    t.set("closed_date", t.date_text(t.date("received_date") - timedelta(days=3)))
    return []


def _deadline_equals_received(t: Target) -> list[int]:
    t.set("deadline_at", t.get("received_at"))
    return []


def _malformed(t: Target) -> list[int]:
    """One CSV line gets an extra field (a stray separator)."""
    line = line_of(t.pf, t.row)
    encoding = "utf-8" if t.pf.fmt.encoding == "utf-8-sig" else (t.pf.fmt.encoding or "utf-8")

    def edit(data: bytes) -> bytes:
        lines = data.split(b"\n")
        extra = ",多余内容".encode(encoding)
        body = lines[line - 1]
        lines[line - 1] = body[:-1] + extra + b"\r" if body.endswith(b"\r") else body + extra
        return b"\n".join(lines)

    t.pf.post.append(edit)
    return []


def file_period(pf: PlannedFile) -> tuple[date, date] | None:
    """The period an event file covers, from its name (``<dataset>_2015-Q3``, ``_2015-07``)."""
    stem = pf.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    label = stem.removeprefix(f"{pf.dataset}_")
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        year, q = int(match[1]), int(match[2])
        start = date(year, 3 * q - 2, 1)
        return start, (date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1))
    if match := re.fullmatch(r"(\d{4})-(\d{2})", label):
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return None


def _first_version_here(t: Target) -> bool:
    """The row is its record's first version (received in this file's period): losing it
    to quarantine loses the record, it does not bring an earlier, still-open version back
    as the latest (which would look like an overdue case or ticket, W05/W09)."""
    period = file_period(t.pf)
    if period is None:
        return False
    if "received_date" in t.table.frame.columns:
        received = t.date("received_date")
    else:
        received = date.fromisoformat((t.get("received_at") or "")[:10])
    return period[0] <= received <= period[1]


def _closed(t: Target) -> bool:
    return (t.get("status") in CASE_CLOSED_STATUS and t.get("closed_date") is not None
            and _first_version_here(t))


def _first_with_street(t: Target) -> bool:
    return t.get("street_code") is not None and _first_version_here(t)


def _not_a_renewal(t: Target) -> bool:
    """Losing a renewal would leave the contract it renews looking unrenewed (W04)."""
    return not t.get("renews_contract_id")


def _active(t: Target) -> bool:
    return t.get("status") == "在会"


ROW_DEFECTS: tuple[RowDefectKind, ...] = (
    RowDefectKind("bad id check digit", "members", "id_number", ("id_number.check_digit",), _bad_id_check, _active),
    RowDefectKind("id not 18 characters", "members", "id_number", ("id_number.format",), _bad_id_format, _active),
    RowDefectKind("gender disagrees with id", "members", "gender", ("gender.id_mismatch",), _flip_gender),
    RowDefectKind("birth_date disagrees with id", "members", "birth_date", ("birth_date.id_mismatch",),
                  _birth_mismatch, lambda t: t.get("birth_date") is not None),
    RowDefectKind("joined before 16", "members", "join_date", ("join_date.under_16",), _under_16),
    RowDefectKind("bad phone", "members", "phone", ("phone.format",), _bad_phone),
    RowDefectKind("bad boolean", "members", "jingka_issued", ("bool.invalid",), _bad_bool),
    RowDefectKind("duplicated member_id (copy has another valid id)", "members", "member_id",
                  ("duplicate_key_in_file",), _duplicate_member, _active),
    RowDefectKind("same id on two active members", "members", "id_number", ("id_number.duplicate_active",),
                  _duplicate_active_id, _active),
    RowDefectKind("bad uscc check char", "union_orgs", "credit_code", ("uscc.check_digit",), _bad_uscc_check),
    RowDefectKind("founded after as_of_date", "union_orgs", "founded_date", ("date.after_as_of",),
                  _founded_after_as_of),
    RowDefectKind("registered union without union code", "union_orgs", "union_credit_code",
                  ("union_credit_code.required",), _union_code_missing,
                  lambda t: t.get("legal_person_registered") == t.yes and t.get("union_credit_code") is not None),
    RowDefectKind("union code not starting 81", "union_orgs", "union_credit_code", ("union_credit_code.prefix",),
                  _union_code_prefix, lambda t: t.get("union_credit_code") is not None),
    RowDefectKind("as_of_date differs from the file's", "union_orgs", "as_of_date", ("as_of_date.inconsistent",),
                  _as_of_differs, _founded_before_previous_quarter),
    RowDefectKind("impossible date", "legal_services", "service_date", ("date.invalid",),
                  _impossible_date("service_date")),
    RowDefectKind("not an integer", "legal_services", "people_served", ("int.invalid",), _set("people_served", "十二")),
    RowDefectKind("unknown enum value", "dispute_cases", "dispute_type", ("enum.unknown",),
                  _set("dispute_type", "劳动报酬"), _first_version_here),
    RowDefectKind("closed case without closed_date", "dispute_cases", "closed_date", ("closed_date.required",),
                  _set("closed_date", None), _closed),
    RowDefectKind("closed before received", "dispute_cases", "closed_date", ("closed_date.before_received",),
                  _closed_before_received, _closed),
    RowDefectKind("no workers involved", "dispute_cases", "workers_involved", ("int.range",),
                  _set("workers_involved", "0"), _first_version_here),
    RowDefectKind("row of another street", "hotline_tickets", "street_code", ("street_mismatch",), _other_street,
                  _first_with_street, needs_column="street_code"),
    RowDefectKind("deadline not after received", "hotline_tickets", "deadline_at",
                  ("deadline_at.not_after_received",), _deadline_equals_received, _first_version_here),
    RowDefectKind("end_date before start_date", "collective_contracts", "end_date", ("end_date.not_after_start",),
                  _end_before_start, _not_a_renewal),
    RowDefectKind("negative integer", "training_events", "participants", ("int.range",), _set("participants", "-12")),
    RowDefectKind("required value blank", "training_events", "title", ("required",), _set("title", None)),
    RowDefectKind("duplicated event_id", "training_events", "event_id", ("duplicate_key_in_file",),
                  _duplicate_event),
    RowDefectKind("not an amount", "hardship_cases", "aid_amount", ("money.invalid",), _set("aid_amount", "两千")),
    RowDefectKind("extra field (stray separator)", "hotline_tickets", None, ("row.malformed",), _malformed,
                  _first_version_here, needs_csv=True),
)


# --- file defects ------------------------------------------------------------------------------


def _truncate(encoding: str) -> Callable[[bytes], bytes]:
    """Cut the file in the middle of its last row: fewer fields and no final newline."""

    def edit(data: bytes) -> bytes:
        text = data.decode(encoding)
        body = text.rstrip("\r\n")
        start = max(body.rfind("\n") + 1, 0)
        last = body[start:]
        commas = [i for i, ch in enumerate(last) if ch == ","]
        cut = commas[len(commas) // 2] + 2
        return body[: start + cut].encode(encoding)

    return edit


def _sibling(path: str, suffix: str, ext: str | None = None) -> str:
    stem, _, old_ext = path.rpartition(".")
    return f"{stem}{suffix}.{ext or old_ext}"


class Injector:
    """Chooses targets (spread over streets, deterministic) and records the manifest."""

    def __init__(self, files: list[PlannedFile], seed: int,
                 protected: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.files = files
        self.protected = protected  # (street, dataset) files that carry planted signals
        self.rng = rng_for(seed, "defects")
        self.seed = seed
        self.reserved: set[str] = set()
        self.used: dict[str, set[int]] = {}
        self.rows: list[tuple[PlannedFile, int, RowDefectKind]] = []
        self.file_defects: list[FileDefect] = []
        self.dataset_defects: list[DatasetDefect] = []
        self.extra: list[PlannedFile] = []
        self.turn = self.rng.randrange(len(STREETS))

    # targets ------------------------------------------------------------------------------

    def candidates(self, dataset: str, *, csv: bool = False, column: str | None = None,
                   min_rows: int = 3) -> list[PlannedFile]:
        return [
            pf for pf in self.files
            if pf.dataset == dataset and pf.table is not None and pf.path not in self.reserved
            and (pf.street_code, pf.dataset) not in self.protected
            and pf.table.height >= min_rows and is_known_street(pf.street_code)
            and (not csv or pf.fmt.kind == "csv") and (column is None or column in pf.table.frame.columns)
        ]

    def pick_file(self, options: list[PlannedFile]) -> PlannedFile:
        """Prefer the next street in rotation, so defects spread across streets."""
        self.turn += 1
        code = STREETS[self.turn % len(STREETS)].code
        local = [pf for pf in options if pf.street_code == code]
        return self.rng.choice(local or options)

    # row defects --------------------------------------------------------------------------

    def inject_row(self, kind: RowDefectKind) -> None:
        options = self.candidates(kind.dataset, csv=kind.needs_csv, column=kind.needs_column)
        for pf in self._files_to_try(kind, options):
            used = self.used.setdefault(pf.path, set())
            assert pf.table is not None
            order = list(range(pf.table.height))
            self.rng.shuffle(order)
            for row in order[:200]:
                target = Target(pf, row, rng_for(self.seed, "defect", kind.name), used)
                if row in used or not kind.eligible(target):
                    continue
                extra = kind.apply(target)
                for r in (row, *extra):
                    used.add(r)
                    self.rows.append((pf, r, kind))
                return
        raise RuntimeError(f"no row found for defect {kind.name!r}")

    def _files_to_try(self, kind: RowDefectKind, options: list[PlannedFile]) -> Iterator[PlannedFile]:
        """Twenty picks in street rotation, then (small districts) every file, even short."""
        for _ in range(20 if options else 0):
            yield self.pick_file(options)
        rest = self.candidates(kind.dataset, csv=kind.needs_csv, column=kind.needs_column, min_rows=1)
        self.rng.shuffle(rest)
        yield from rest

    # file defects -------------------------------------------------------------------------

    def reserve(self, pf: PlannedFile) -> PlannedFile:
        self.reserved.add(pf.path)
        return pf

    def _safe_to_reject(self, dataset: str, csv: bool = False, min_rows: int = 3) -> list[PlannedFile]:
        """Event files holding only first versions (every record received in the file's
        period): rejecting one loses its records, it brings no earlier, still-open
        version of a record back as the latest (an overdue case or ticket, W05/W09)."""
        out = []
        for pf in self.candidates(dataset, csv=csv, min_rows=min_rows):
            assert pf.table is not None
            rows = range(pf.table.height)
            if all(_first_version_here(Target(pf, r, self.rng, set())) for r in rows):
                out.append(pf)
        return out

    def missing_column(self) -> None:
        pf = self.reserve(self.pick_file(self._safe_to_reject("hotline_tickets")))
        assert pf.table is not None
        pf.table.frame = pf.table.frame.drop("received_at")
        self.file_defects.append(FileDefect(pf.path, "file.missing_column", column="received_at"))

    def truncated(self) -> None:
        options = [pf for pf in self._safe_to_reject("dispute_cases", csv=True, min_rows=1)
                   if pf.table is not None and '"' not in pf.table.frame.tail(1).write_csv(include_header=False)]
        pf = self.reserve(self.pick_file(options))
        enc = "utf-8" if pf.fmt.encoding == "utf-8-sig" else (pf.fmt.encoding or "utf-8")
        pf.post.append(_truncate(enc))
        self.file_defects.append(FileDefect(pf.path, "file.truncated"))

    def duplicate(self) -> None:
        pf = self.reserve(self.pick_file(self.candidates("dispute_cases", min_rows=1)))
        copy = PlannedFile(_sibling(pf.path, "_resubmit"), pf.dataset, pf.street_code, pf.fmt,
                           copy_of=pf.path, rows=pf.row_count,
                           submitted_at=(pf.submitted_at or datetime(2015, 12, 31)) + timedelta(days=2))
        self.reserve(copy)
        self.extra.append(copy)
        self.file_defects.append(FileDefect(copy.path, "file.duplicate", duplicate_of=pf.path))

    def unsupported(self) -> None:
        street = STREETS[self.rng.randrange(len(STREETS))].code
        txt = f"inbox/{street}/dispute_cases/dispute_cases_2015-Q3_notes.txt"
        doc = f"inbox/{street}/members/members_2015-12-31.doc"
        note = "第三季度调解案件情况说明：本季度共受理劳动争议案件若干件，详见附表。\n".encode("gbk")
        sent = datetime(2015, 10, 8, 10, 30)
        self.extra.append(PlannedFile(txt, "dispute_cases", street, FileFormat("txt", "gbk"), raw=note, submitted_at=sent))
        self.extra.append(PlannedFile(doc, "members", street, FileFormat("doc", None), raw=FAKE_DOC, submitted_at=sent))
        self.file_defects += [FileDefect(txt, "file.unsupported_format"), FileDefect(doc, "file.unsupported_format")]

    def _copy_table(self, dataset: str, path: str, street: str | None = None) -> PlannedFile:
        src = self.pick_file(self.candidates(dataset))
        assert src.table is not None
        frame = src.table.frame
        if street is not None and "street_code" in frame.columns:
            frame = frame.with_columns(pl.lit(street, dtype=pl.String).alias("street_code"))
        table = StringTable(src.table.dataset, frame, dict(src.table.headers), src.table.style)
        return PlannedFile(path, dataset, street or src.street_code, FileFormat("csv", "utf-8"), table=table,
                           submitted_at=src.submitted_at)

    def unknown_street(self) -> None:
        pf = self._copy_table("members", f"inbox/{UNKNOWN_STREET}/members/members_2015-12-31.csv", UNKNOWN_STREET)
        self.extra.append(pf)
        self.file_defects.append(FileDefect(pf.path, "file.unknown_street"))

    def unknown_dataset(self) -> None:
        street = STREETS[self.rng.randrange(len(STREETS))].code
        pf = self._copy_table("training_events", f"inbox/{street}/activities/activities_2015-Q3.csv")
        pf.dataset, pf.street_code = "activities", street
        if pf.table is not None and "street_code" in pf.table.frame.columns:
            pf.table.frame = pf.table.frame.with_columns(pl.lit(street, dtype=pl.String).alias("street_code"))
        self.extra.append(pf)
        self.file_defects.append(FileDefect(pf.path, "file.unknown_dataset"))

    # dataset defects: every row is fine, the file as a whole is not ----------------------

    def _latest_members_snapshot(self) -> PlannedFile:
        options = [pf for pf in self.candidates("members", min_rows=20) if "2015-12-31" in pf.path]
        return self.reserve(self.pick_file(options))

    def half_snapshot(self) -> None:
        """A street's year-end member list with most of its people missing (an export
        cut short): loaded, then held back by the snapshot-volume expectation."""
        pf = self._latest_members_snapshot()
        assert pf.table is not None
        pf.table.frame = pf.table.frame.head(int(pf.table.height * 0.4))
        self.dataset_defects.append(DatasetDefect(
            pf.path, "members", "expect_table_row_count_to_be_between", None, "snapshot 40% of the previous"))

    def null_phones(self) -> None:
        """A street's year-end member list where 30% of phones are blank."""
        pf = self._latest_members_snapshot()
        assert pf.table is not None
        blank = pl.int_range(pl.len()) % 10 < 3
        pf.table.frame = pf.table.frame.with_columns(
            pl.when(blank).then(None).otherwise(pl.col("phone")).alias("phone"))
        self.dataset_defects.append(DatasetDefect(
            pf.path, "members", "expect_column_values_to_not_be_null", "phone", "30% of phones blank"))

    def empty(self) -> None:
        src = self.pick_file(self.candidates("legal_services"))
        assert src.table is not None
        table = StringTable(src.table.dataset, src.table.frame.head(0), dict(src.table.headers), src.table.style)
        pf = PlannedFile(_sibling(src.path, "_extra", "csv"), src.dataset, src.street_code,
                         FileFormat("csv", "utf-8"), table=table, submitted_at=src.submitted_at)
        self.reserve(pf)
        self.extra.append(pf)
        self.file_defects.append(FileDefect(pf.path, "file.empty"))

    # manifest -------------------------------------------------------------------------------

    def row_defects(self) -> list[RowDefect]:
        out = [RowDefect(pf.path, line_of(pf, row), list(kind.codes), kind.column, kind.name)
               for pf, row, kind in self.rows]
        return sorted(out, key=lambda d: (d.path, d.line))


def inject_defects(
    files: list[PlannedFile], seed: int, protected: frozenset[tuple[str, str]] = frozenset()
) -> tuple[list[PlannedFile], list[RowDefect], list[FileDefect], list[DatasetDefect]]:
    """Inject every file defect once and every row defect kind once (in place); returns
    the files to write (originals first, then added files) and the defect records.
    ``protected``: (street, dataset) pairs left alone (they carry planted signals)."""
    inj = Injector(files, seed, protected)
    inj.half_snapshot()
    inj.null_phones()
    inj.missing_column()
    inj.truncated()
    inj.duplicate()
    for kind in ROW_DEFECTS:
        inj.inject_row(kind)
    inj.unsupported()
    inj.unknown_street()
    inj.unknown_dataset()
    inj.empty()
    return (files + inj.extra, inj.row_defects(), sorted(inj.file_defects, key=lambda d: d.path),
            sorted(inj.dataset_defects, key=lambda d: d.path))


__all__ = [
    "DatasetDefect",
    "FileDefect",
    "FileEntry",
    "Manifest",
    "RowDefect",
    "inject_defects",
    "load_manifest",
]
