"""Seeded generator of hostile street submissions, each knowing its ground truth.

A :class:`Case` is one hostile situation (one file, or a few files that only make sense
together: a file and a symlink to it, a misplaced copy and the right one, identical
bytes in two streets' folders). It is built from its own seed by a *kind* function
(``KINDS``), so ``make_case(kind, seed)`` rebuilds exactly the same bytes: a failing
case is reproduced from the ``kind@seed`` the test prints (docs/hostile-testing.md).

Every file of a case (:class:`FileTruth`) says what must happen to it:

* ``outcome``: ``load`` (status loaded), ``reject`` (status rejected with one of
  ``codes``), ``load_or_reject`` (the contract leaves the choice open: either is fine,
  but a load must account for every record and a rejection must carry a code),
  ``duplicate``, ``dup_or_quarantined`` (identical bytes from another street's folder:
  a duplicate, or loaded with every row quarantined), ``not_read`` (a symlink or a FIFO:
  no ledger entry or a rejected one, nothing landed), ``ignored`` (a name the drop zone
  ignores by design: no ledger entry);
* ``records``: every data record the file really holds, with the physical line (CSV,
  JSONL) or sheet row (XLSX) it starts on, its key as written, and its fate: ``load``
  (a good row: must land), ``quarantine`` (a bad row: must be quarantined) or ``any``
  (loaded or quarantined, but it must never vanish);
* ``planted``: the personal values it carries (names, ID numbers, phones; in its cells
  or in its file name), which must never leak.

All values are synthetic: names are drawn from rare compound surnames and characters no
other text of the project uses, ID numbers and credit codes carry valid check digits.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

from pipelines.contract import STREETS, Column, ColumnType, Dataset, get_dataset
from pipelines.generate.identifiers import make_id, make_uscc

STREET_CODES: tuple[str, ...] = tuple(s.code for s in STREETS)
AS_OF = date(2015, 12, 31)

# outcomes of a file
LOAD = "load"
REJECT = "reject"
EITHER = "load_or_reject"
DUPLICATE = "duplicate"
DUP_OR_QUARANTINED = "dup_or_quarantined"
NOT_READ = "not_read"
IGNORED = "ignored"

# fates of a record
MUST_LOAD, MUST_QUARANTINE, ANY = "load", "quarantine", "any"

# Datasets the generic kinds draw from; ``facilities`` is kept for the symlinked-folder
# case so that no other case of a batch creates that folder.
GENERAL_DATASETS = ("members", "street_staff", "dispute_cases", "legal_services",
                    "training_events", "hotline_tickets")
LINK_DIR_DATASET = "facilities"

REMARK = "备注"  # an extra (non-contract) column streets add
SURNAMES = ("慕容", "欧阳", "司马", "上官", "诸葛", "皇甫", "尉迟", "公孙", "令狐", "宇文")
GIVEN = "翊琰彧瑾璇昀曦婧珂瑄璟玥珺"
EMPLOYERS = ("甲乙科技有限公司", "丙丁餐饮管理有限公司", "戊己物业服务中心", "庚辛商贸有限公司",
             "壬癸建筑工程有限公司", "子丑文化传媒有限公司")
REMARKS = ("已核实", "补录", "新增", "信息变更", "待核实")
TITLES = ("职工大讲堂", "通识课程", "技能大赛", "技师培训班")
NON_GBK = "𠮷"  # encodable in GB18030, not in GBK


# --- ground truth ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    line: int | None  # physical line / sheet row it starts on; None: not on the first sheet
    key: str | None  # the record's key as written (None when the row has no usable key)
    fate: str  # MUST_LOAD | MUST_QUARANTINE | ANY


@dataclass
class FileTruth:
    rel: bytes  # path relative to the raw dir (bytes: names need not be UTF-8)
    street: str  # the street folder it sits in (maybe not a known street)
    dataset: str  # the dataset folder it sits in (maybe not a dataset)
    outcome: str
    data: bytes | None = None  # None for links and FIFOs
    node: str = "file"  # file | symlink | dirlink | fifo
    link_target: bytes | None = None  # symlinks: path relative to the raw dir, or b"@outside/<name>"
    codes: frozenset[str] = frozenset()  # acceptable error codes when rejected (empty: any)
    records: tuple[Record, ...] = ()
    planted: tuple[str, ...] = ()
    token: str = ""
    note: str = ""

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None

    @property
    def rel_text(self) -> str | None:
        """The relative path as the ledger spells it, when the name is UTF-8."""
        try:
            return self.rel.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass
class Case:
    kind: str
    seed: int
    description: str
    files: list[FileTruth]
    outside: list[tuple[str, bytes]] = field(default_factory=list)  # files outside the raw dir
    tokens: dict[str, str] = field(default_factory=dict)  # token -> the street folder it belongs in

    @property
    def case_id(self) -> str:
        return f"{self.kind}@{self.seed}"

    def label(self) -> str:
        return f"[{self.case_id}: {self.description}]"

    @property
    def planted(self) -> set[str]:
        return {p for f in self.files for p in f.planted}


# --- values --------------------------------------------------------------------------------


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def rand_date(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


@dataclass
class Style:
    """How a clerk writes values and headers in one file."""

    header: str = "zh"  # zh | en | en_upper | en_title | fullwidth | spaced | mixed
    date: str = "iso"  # iso | slash | zh
    bools: tuple[str, str] = ("是", "否")
    thousands: bool = False

    @classmethod
    def draw(cls, rng: random.Random, header: str | None = None) -> Style:
        return cls(
            header=header or rng.choice(("zh", "zh", "en", "en_upper", "en_title", "fullwidth", "spaced", "mixed")),
            date=rng.choice(("iso", "iso", "slash", "zh")),
            bools=rng.choice((("是", "否"), ("Y", "N"), ("true", "false"), ("1", "0"))),
            thousands=rng.random() < 0.3,
        )

    def d(self, value: date) -> str:
        if self.date == "slash":
            return f"{value.year}/{value.month}/{value.day}"
        if self.date == "zh":
            return f"{value.year}年{value.month}月{value.day}日"
        return value.isoformat()

    def b(self, value: bool) -> str:
        return self.bools[0] if value else self.bools[1]

    def money(self, cents: int) -> str:
        yuan, fen = divmod(cents, 100)
        return f"{yuan:,}.{fen:02d}" if self.thousands else f"{yuan}.{fen:02d}"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def header_cell(col: Column, style: str, rng: random.Random) -> str:
    if style == "mixed":
        style = rng.choice(("zh", "en", "en_upper", "en_title", "fullwidth", "spaced"))
    match style:
        case "en":
            return col.name
        case "en_upper":
            return col.name.upper()
        case "en_title":
            return col.name.title()
        case "fullwidth":
            return _fullwidth(rng.choice((col.name, col.name.upper())))
        case "spaced":
            return rng.choice((" ", "\u3000", "  ")) + col.zh + rng.choice((" ", "\u3000", ""))
    return col.zh


# --- rows -----------------------------------------------------------------------------------


@dataclass
class RowCtx:
    rng: random.Random
    token: str
    street: str  # the folder's street
    style: Style
    street_mode: str  # own | blank | mixed
    as_of: date = AS_OF

    def key(self, n: int) -> str:
        return f"{self.token}-{n:03d}"

    def street_value(self) -> str | None:
        if self.street_mode == "own" or (self.street_mode == "mixed" and self.rng.random() < 0.5):
            return self.street
        return None


Row = dict[str, str | None]


def _members(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    birth = date(r.randint(1960, 1994), r.randint(1, 12), r.randint(1, 28))
    male = r.random() < 0.5
    seq = r.randrange(0, 100) * 10 + r.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    idn = make_id("110101", birth, seq)
    name, phone = person_name(r), mobile(r)
    sixteen = date(birth.year + 16, birth.month, birth.day)
    join = rand_date(r, max(sixteen + timedelta(days=1), date(1995, 1, 1)), c.as_of)
    written_id = idn.lower() if idn.endswith("X") and r.random() < 0.5 else idn
    row: Row = {
        "member_id": c.key(n), "name": name, "id_number": written_id, "gender": "男" if male else "女",
        "birth_date": s.d(birth) if r.random() < 0.7 else None, "phone": phone,
        "org_id": f"{c.token}-ORG{r.randint(1, 3)}", "street_code": c.street_value(),
        "join_date": s.d(join), "status": r.choice(("在会",) * 6 + ("转出", "退会")),
        "worker_type": r.choice(("合同制", "劳务派遣", "农民工", "灵活就业", "其他")),
        "jingka_issued": s.b(r.random() < 0.6), "model_worker": r.choice((None, "无", "区级")),
        "as_of_date": s.d(c.as_of),
    }
    return row, [name, idn, phone]


def _street_staff(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    name = person_name(r)
    row: Row = {
        "staff_id": c.key(n), "name": name,
        "role": r.choice(("集体协商专职指导员", "工会专干", "联络员", "其他")),
        "appointed_date": s.d(rand_date(r, date(2005, 1, 1), c.as_of)), "active": s.b(r.random() < 0.8),
        "street_code": c.street_value(), "as_of_date": s.d(c.as_of),
    }
    return row, [name]


def _dispute_cases(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    received = rand_date(r, date(2015, 1, 1), date(2015, 11, 30))
    status = r.choice(("受理", "调解中", "调解成功", "调解不成", "撤回", "转仲裁"))
    closed = status not in ("受理", "调解中")
    row: Row = {
        "case_id": c.key(n), "street_code": c.street_value(), "employer_name": r.choice(EMPLOYERS),
        "credit_code": make_uscc("91110101", r) if r.random() < 0.7 else None,
        "org_id": f"{c.token}-ORG1" if r.random() < 0.5 else None, "received_date": s.d(received),
        "dispute_type": r.choice(("工资报酬", "社会保险", "解除劳动合同", "工伤待遇", "加班", "经济补偿", "其他")),
        "workers_involved": str(r.randint(1, 40)),
        "amount_claimed": s.money(r.randint(0, 5_000_000)) if r.random() < 0.7 else None,
        "status": status,
        "closed_date": s.d(received + timedelta(days=r.randint(0, 30))) if closed else None,
        "amount_settled": s.money(r.randint(0, 1_000_000)) if closed and r.random() < 0.5 else None,
    }
    return row, []


def _legal_services(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    lawyer = person_name(r)
    row: Row = {
        "service_id": c.key(n), "street_code": c.street_value(),
        "service_date": s.d(rand_date(r, date(2015, 1, 1), c.as_of)),
        "service_type": r.choice(("律师志愿服务", "菜单式法律服务", "案例大讲堂", "法律援助申报", "法律咨询")),
        "lawyer_name": lawyer, "people_served": str(r.randint(0, 200)),
    }
    return row, [lawyer]


def _training_events(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    row: Row = {
        "event_id": c.key(n), "street_code": c.street_value(),
        "event_type": r.choice(("通识课程", "职工大讲堂", "技能大赛", "技师培训", "名师带徒", "演讲比赛")),
        "title": f"{r.choice(TITLES)}第{r.randint(1, 30)}期", "event_date": s.d(rand_date(r, date(2015, 1, 1), c.as_of)),
        "venue_type": r.choice((None, "社区", "楼宇", "企业", "学校", "其他")),
        "participants": str(r.randint(0, 500)),
    }
    return row, []


def _hotline_tickets(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    received = datetime(2015, r.randint(1, 11), r.randint(1, 28), r.randint(8, 17), r.randint(0, 59))
    fmt = "%Y-%m-%d %H:%M:%S" if r.random() < 0.5 else "%Y-%m-%d %H:%M"
    responded = received + timedelta(hours=r.randint(1, 48))
    closed = responded + timedelta(days=r.randint(0, 10)) if r.random() < 0.6 else None
    row: Row = {
        "ticket_id": c.key(n), "street_code": c.street_value(), "received_at": received.strftime(fmt),
        "category": r.choice(("欠薪", "劳动合同", "社会保险", "工伤", "休息休假", "其他")),
        "employer_name": r.choice(EMPLOYERS) if r.random() < 0.8 else None,
        "credit_code": make_uscc("91110101", r) if r.random() < 0.5 else None,
        "deadline_at": (received + timedelta(days=r.randint(3, 15))).strftime(fmt),
        "responded_at": responded.strftime(fmt) if r.random() < 0.8 else None,
        "closed_at": closed.strftime(fmt) if closed else None,
        "satisfied": s.b(r.random() < 0.7) if closed else None,
    }
    return row, []


def _facilities(c: RowCtx, n: int) -> tuple[Row, list[str]]:
    r, s = c.rng, c.style
    row: Row = {
        "facility_id": c.key(n), "org_id": f"{c.token}-ORG1", "street_code": c.street_value(),
        "facility_type": r.choice(("职工之家", "职工书屋", "职工创新工作室")),
        "level": r.choice((None, "基层", "区级", "市级")), "stage": r.choice(("建设", "抽查", "验收")),
        "stage_date": s.d(rand_date(r, date(2015, 1, 1), c.as_of)),
        "funding_amount": s.money(r.randint(0, 10_000_000)) if r.random() < 0.5 else None,
        "subsidy_amount": None,
    }
    return row, []


ROW_BUILDERS: dict[str, Callable[[RowCtx, int], tuple[Row, list[str]]]] = {
    "members": _members, "street_staff": _street_staff, "dispute_cases": _dispute_cases,
    "legal_services": _legal_services, "training_events": _training_events,
    "hotline_tickets": _hotline_tickets, "facilities": _facilities,
}


# --- tables ---------------------------------------------------------------------------------


@dataclass
class TRow:
    values: Row
    fate: str = MUST_LOAD
    raw: str | None = None  # the line as written, when it is not the plain rendering
    split: bool = False  # a value runs over lines where no column allows it: one record a line


@dataclass
class Table:
    dataset: Dataset
    columns: list[str]  # contract column names and extra columns, in file order
    headers: list[str]
    rows: list[TRow]
    planted: list[str]
    style: Style

    def key_of(self, row: TRow) -> str | None:
        return row.values.get(self.dataset.key)


def make_table(
    c: RowCtx, dataset_name: str, n_rows: int, *, shuffle: bool | None = None, need_street: bool = False,
    remark: bool | None = None, optional_share: float = 0.7,
) -> Table:
    r = c.rng
    ds = get_dataset(dataset_name)
    cols: list[str] = []
    for col in ds.columns:
        if col.name == "street_code":  # blank mode: no column, or a column left blank
            keep = need_street or c.street_mode != "blank" or r.random() < 0.5
        else:
            keep = col.required or r.random() < optional_share
        if keep:
            cols.append(col.name)
    if remark if remark is not None else r.random() < 0.3:
        cols.append(REMARK)
    if shuffle if shuffle is not None else r.random() < 0.3:
        r.shuffle(cols)
    headers = [header_cell(ds.column(n), c.style.header, r) if n != REMARK else REMARK for n in cols]
    rows, planted = [], []
    builder = ROW_BUILDERS[dataset_name]
    for i in range(1, n_rows + 1):
        values, pii = builder(c, i)
        values[REMARK] = r.choice(REMARKS) if REMARK in cols else None
        if "closed_date" in values and "closed_date" not in cols:  # a closed case needs it
            values["status"] = r.choice(("受理", "调解中"))
        rows.append(TRow({k: values.get(k) for k in cols}))
        if dataset_name == "legal_services" and "lawyer_name" not in cols:
            pii = []
        if dataset_name == "members" and "phone" not in cols:
            pii = pii[:2]
        planted.extend(pii)
    return Table(ds, cols, headers, rows, planted, c.style)


def enum_columns(t: Table) -> list[str]:
    return [n for n in t.columns if n != REMARK and t.dataset.column(n).type is ColumnType.ENUM]


def break_row(t: Table, row: TRow, rng: random.Random, street: str) -> str:
    """Make a good row certainly bad (quarantined); returns what was done."""
    ds = t.dataset
    options = ["required", "enum", "date"]
    if any(ds.column(n).type is ColumnType.INT for n in t.columns if n != REMARK):
        options.append("int")
    if "street_code" in t.columns:
        options.append("street")
    if ds.name == "members":
        options.append("id_check")
    how = rng.choice(options)
    v = row.values
    if how == "required":
        col = rng.choice([c.name for c in ds.required_columns if c.name != ds.key])
        v[col] = None
    elif how == "enum":
        cols = enum_columns(t)
        v[rng.choice(cols)] = "不详"
    elif how == "date":
        cols = [n for n in t.columns if n != REMARK and ds.column(n).type is ColumnType.DATE]
        if not cols:  # hotline tickets: datetimes
            cols = [n for n in t.columns if n != REMARK and ds.column(n).type is ColumnType.DATETIME]
        v[rng.choice(cols)] = "2015-02-30"
    elif how == "int":
        cols = [n for n in t.columns if n != REMARK and ds.column(n).type is ColumnType.INT]
        v[rng.choice(cols)] = "三十"
    elif how == "street":
        v["street_code"] = rng.choice([s for s in STREET_CODES if s != street])
    elif how == "id_check":
        idn = str(v["id_number"])
        last = "0" if idn[-1] not in "0" else "1"
        v["id_number"] = idn[:-1] + last
    row.fate = MUST_QUARANTINE
    return how


# --- CSV ------------------------------------------------------------------------------------


def csv_field(value: str | None) -> str:
    if value is None:
        return ""
    if any(ch in value for ch in ',"\r\n') or value[:1] == '"':
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_line(values: Sequence[str | None]) -> str:
    return ",".join(csv_field(v) for v in values)


@dataclass
class Line:
    text: str
    key: str | None = None
    fate: str | None = None  # None: not a record (header, title, blank line)
    split: bool = False  # each physical line of the text is a record of its own (fate ANY)


_BREAK = re.compile(r"\r\n|\r|\n")


def assemble(lines: Sequence[Line], eol: str, final_eol: bool, rng: random.Random) -> tuple[str, tuple[Record, ...]]:
    """Join lines with ``eol`` (lf | crlf | cr | mixed); returns the text and every record
    with the physical line it starts on (line breaks counted as universal newlines)."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for i, line in enumerate(lines):
        starts.append(pos)
        parts.append(line.text)
        pos += len(line.text)
        if i < len(lines) - 1 or final_eol:
            if eol == "mixed":
                sep = rng.choice(("\n", "\r\n", "\r"))
                if sep == "\r" and i + 1 < len(lines) and lines[i + 1].text.startswith("\n"):
                    sep = "\n"
            else:
                sep = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}[eol]
            parts.append(sep)
            pos += len(sep)
    text = "".join(parts)
    breaks = [m.end() for m in _BREAK.finditer(text)]
    records: list[Record] = []
    for line, start in zip(lines, starts, strict=True):
        if line.fate is None:
            continue
        first = bisect.bisect_right(breaks, start) + 1
        records.append(Record(first, line.key, ANY if line.split else line.fate))
        if line.split:  # the readers split a record whose value runs over lines (no column allows it)
            inner = len(_BREAK.findall(line.text))
            records.extend(Record(first + k, None, ANY) for k in range(1, inner + 1))
    return text, tuple(records)


def table_lines(t: Table) -> list[Line]:
    lines = [Line(csv_line(t.headers))]
    for row in t.rows:
        text = row.raw if row.raw is not None else csv_line([row.values.get(c) for c in t.columns])
        lines.append(Line(text, t.key_of(row), row.fate, row.split))
    return lines


def encode_text(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def sprinkle_blank_lines(lines: list[Line], rng: random.Random, width: int, share: float = 0.3) -> list[Line]:
    """Blank lines (empty, spaces, only delimiters) between records: not records."""
    out = [lines[0]]
    for line in lines[1:]:
        while rng.random() < share:
            out.append(Line(rng.choice(("", "   ", "," * (width - 1), " ," * (width - 1)))))
        out.append(line)
    return out


# --- XLSX and JSONL ---------------------------------------------------------------------------


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[tuple[int, Sequence[str | None]]]]]) -> bytes:
    """A workbook: per sheet (name, [(0-based row, cells)])."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": datetime(2015, 12, 31, 18, 0, 0)})
    for name, rows in sheets:
        ws = wb.add_worksheet(name)
        for r, cells in rows:
            for c, value in enumerate(cells):
                if value is None:
                    continue
                if value.isdigit() and len(value) < 10 and not value.startswith("0"):
                    ws.write_number(r, c, int(value))
                else:
                    ws.write_string(r, c, value)
    wb.close()
    return buf.getvalue()


def table_sheet(t: Table, rng: random.Random, first_row: int = 0,
                blank_rows: bool = True) -> tuple[list[tuple[int, list[str | None]]], list[Record]]:
    rows: list[tuple[int, list[str | None]]] = [(first_row, list(t.headers))]
    records: list[Record] = []
    r = first_row + 1
    for row in t.rows:
        while blank_rows and rng.random() < 0.2:
            r += 1  # an empty sheet row: not a record
        rows.append((r, [row.values.get(c) for c in t.columns]))
        records.append(Record(r + 1, t.key_of(row), row.fate))
        r += 1
    return rows, records


def jsonl_lines(t: Table, rng: random.Random) -> list[Line]:
    lines = []
    for row in t.rows:
        obj: dict[str, object] = {}
        for col, header in zip(t.columns, t.headers, strict=True):
            value = row.values.get(col)
            if value is None and rng.random() < 0.5:
                continue  # a key left out
            obj[header] = int(value) if value is not None and value.isdigit() and len(value) < 10 \
                and not value.startswith("0") and rng.random() < 0.5 else value
        text = row.raw if row.raw is not None else json.dumps(obj, ensure_ascii=False)
        lines.append(Line(text, t.key_of(row), row.fate))
    return lines


# --- the kinds --------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a kind function gets: its seeded randomness and the batch's streets."""

    rng: random.Random
    seed: int
    streets: tuple[str, ...]
    names_given: int = 0

    def token(self) -> str:
        return f"H{self.seed % 10**9:09d}"

    def street(self) -> str:
        return self.rng.choice(self.streets)

    def two_streets(self) -> tuple[str, str]:
        a, b = self.rng.sample(list(self.streets), 2)
        return a, b

    def dataset(self) -> str:
        return self.rng.choice(GENERAL_DATASETS)

    def row_ctx(self, street: str, token: str | None = None, style: Style | None = None,
                street_mode: str | None = None) -> RowCtx:
        r = self.rng
        return RowCtx(r, token or self.token(), street, style or Style.draw(r),
                      street_mode or r.choice(("own", "blank", "mixed")))

    def name(self, ext: str) -> str:
        r = self.rng
        stem = r.choice(("submission", "会员名单", "2015年12月报表", "data (1)", "汇总 表", "export_final"))
        self.names_given += 1  # the seed keeps names of different cases apart
        return f"{stem}_{self.seed % 10**6:06d}{self.names_given}{ext if r.random() < 0.85 else ext.upper()}"


def _rel(street: str, dataset: str, name: str | bytes) -> bytes:
    raw = name if isinstance(name, bytes) else name.encode("utf-8")
    return f"inbox/{street}/{dataset}/".encode() + raw


def csv_file(x: Ctx, t: Table, street: str, *, outcome: str = LOAD, eol: str | None = None,
             final_eol: bool | None = None, encoding: str | None = None, blank_lines: bool = False,
             name: str | bytes | None = None, extra_lines: Sequence[Line] = (), note: str = "",
             token: str | None = None) -> FileTruth:
    r = x.rng
    lines = [*extra_lines, *table_lines(t)]
    if blank_lines:
        lines = sprinkle_blank_lines(lines, r, len(t.columns))
    eol = eol or r.choice(("lf", "lf", "crlf", "cr", "mixed"))
    final_eol = r.random() < 0.8 if final_eol is None else final_eol
    encoding = encoding or r.choice(("utf-8", "utf-8", "utf-8-sig", "gbk", "gb18030"))
    text, records = assemble(lines, eol, final_eol, r)
    data = encode_text(text, encoding)
    return FileTruth(_rel(street, t.dataset.name, name or x.name(".csv")), street, t.dataset.name, outcome,
                     data, records=records, planted=tuple(t.planted), token=token or x.token(),
                     note=note or f"csv {encoding} eol={eol} final_eol={final_eol} header={t.style.header}")


def _good_rows(x: Ctx, n: tuple[int, int] = (3, 8)) -> int:
    return x.rng.randint(*n)


def k_encoding(x: Ctx) -> Case:
    s, ds = x.street(), x.dataset()
    enc = x.rng.choice(("utf-8", "utf-8-sig", "gbk", "gb18030"))
    t = make_table(x.row_ctx(s), ds, _good_rows(x), remark=True if enc == "gb18030" else None)
    if enc == "gb18030":
        for row in t.rows:
            row.values[REMARK] = f"{NON_GBK}{row.values[REMARK]}"
    f = csv_file(x, t, s, encoding=enc)
    return Case("encoding", x.seed, f"{ds} in {enc}", [f])


def k_line_endings(x: Ctx) -> Case:
    s, ds = x.street(), x.dataset()
    eol = x.rng.choice(("lf", "crlf", "cr", "mixed"))
    final = x.rng.random() < 0.5
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    f = csv_file(x, t, s, eol=eol, final_eol=final, blank_lines=x.rng.random() < 0.5)
    return Case("line_endings", x.seed, f"{ds} eol={eol} final_newline={final}", [f])


def k_header_variant(x: Ctx) -> Case:
    s, ds = x.street(), x.dataset()
    header = x.rng.choice(("zh", "en", "en_upper", "en_title", "fullwidth", "spaced", "mixed"))
    t = make_table(x.row_ctx(s, style=Style.draw(x.rng, header)), ds, _good_rows(x), shuffle=True)
    f = csv_file(x, t, s)
    return Case("header_variant", x.seed, f"{ds} headers={header}, columns shuffled", [f])


def k_title_row(x: Ctx) -> Case:
    """A title (and maybe a date line) above the header: the contract wants the header on
    row 1 (file.no_header), a reader that finds the header lower is fine too, as long as
    every record keeps its physical line."""
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    width = len(t.columns)
    title = f"东城区{r.choice(('交道口', '东四', '前门'))}街道{t.dataset.zh}（2015年12月）"
    titles = [Line(title + ("," * (width - 1) if r.random() < 0.5 else ""))]
    if r.random() < 0.5:
        titles.append(Line("填报单位：街道总工会,,填报日期：2015-12-31"))
    if r.random() < 0.5:
        sheet, records = table_sheet(t, r, first_row=len(titles), blank_rows=False)
        data = xlsx_bytes([("Sheet1", [(i, [tl.text.split(",")[0]]) for i, tl in enumerate(titles)] + sheet)])
        f = FileTruth(_rel(s, ds, x.name(".xlsx")), s, ds, EITHER, data, codes=frozenset({"file.no_header"}),
                      records=tuple(records), planted=tuple(t.planted), token=x.token(), note="xlsx")
    else:
        f = csv_file(x, t, s, outcome=EITHER, extra_lines=titles)
        f.codes = frozenset({"file.no_header"})
    return Case("title_row", x.seed, f"{ds} with {len(titles)} title row(s) above the header ({f.note})", [f])


def k_blank_lines_columns(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x), remark=True)
    # an empty header cell in the middle (a blank column), and empty trailing header cells
    at = r.randint(1, len(t.columns) - 1)
    blank_values = r.random() < 0.7
    t.columns.insert(at, "__blank__")
    t.headers.insert(at, "")
    for row in t.rows:
        row.values["__blank__"] = None if blank_values else r.choice(REMARKS)
    trailing = r.randint(0, 3)
    t.columns.extend(f"__trail{i}__" for i in range(trailing))
    t.headers.extend("" for _ in range(trailing))
    f = csv_file(x, t, s, blank_lines=True)
    return Case("blank_lines_columns", x.seed,
                f"{ds} blank lines, blank column at {at} ({'empty' if blank_values else 'with text'}), "
                f"{trailing} trailing empty columns", [f])


def _remark_last(t: Table, rng: random.Random) -> None:
    """Move the remark column to the end so a shifted row always has text beyond the header."""
    t.columns.remove(REMARK)
    t.headers.remove(REMARK)
    t.columns.append(REMARK)
    t.headers.append(REMARK)
    for row in t.rows:
        row.values[REMARK] = rng.choice(REMARKS)


def k_quotes_delimiters(x: Ctx) -> Case:
    """Legal CSV quoting (embedded commas, doubled quotes, a value over several lines), a
    literal quote inside an unquoted value, and one row with an unquoted comma (its fields
    shift: it must be quarantined, never loaded)."""
    r = x.rng
    s, ds = x.street(), x.dataset()
    style = Style.draw(r)
    style.thousands = True
    t = make_table(x.row_ctx(s, style=style), ds, r.randint(4, 8), remark=True)
    _remark_last(t, r)
    rows = t.rows
    rows[0].values[REMARK] = "甲,乙,丙"  # quoted by the writer
    rows[1].values[REMARK] = '他说"已核实"'  # quoted, quotes doubled
    multi = rows[2]  # no column of the contract allows a line break: one broken row a line
    multi.values[REMARK] = "第一行\n第二行" if r.random() < 0.5 else "第一行\r\n第二行\n第三行"
    multi.split = True
    literal = rows[3]
    lit_text = csv_line([literal.values.get(c) for c in t.columns])
    literal.raw = lit_text[: lit_text.rfind(",") + 1] + '备注"含引号'  # a quote inside an unquoted value
    literal.fate = ANY
    shifted = r.choice(rows[4:]) if len(rows) > 4 else None
    if shifted is not None:
        shifted.values[REMARK] = None
        text = csv_line([shifted.values.get(c) for c in t.columns])
        shifted.raw = text + "已核实,待补充"  # unquoted comma in the last value
        shifted.fate = MUST_QUARANTINE
    f = csv_file(x, t, s)
    return Case("quotes_delimiters", x.seed, f"{ds} quoted commas/quotes/newlines, literal quote"
                + (", unquoted comma row" if shifted else ""), [f])


def k_stray_quote(x: Ctx) -> Case:
    """A quote opens a field on line N and a quote closes one on line N+1 (or none does,
    and the file ends with a line break): each line is a record of its own and must be
    loaded or quarantined, never merged away; the rows before it load."""
    r = x.rng
    s, ds = x.street(), x.dataset()
    style = Style.draw(r)
    style.thousands = False
    t = make_table(x.row_ctx(s, style=style), ds, r.randint(3, 8))
    fields = [[csv_field(row.values.get(c)) for c in t.columns] for row in t.rows]
    if any('"' in f for row in fields for f in row):
        return k_stray_quote(Ctx(random.Random(r.random()), x.seed, x.streets))
    i = r.randrange(0, len(t.rows) - 1)
    width = len(t.columns)
    ca = r.randrange(0, width)
    fields[i][ca] = '"' + fields[i][ca]
    unclosed = r.random() < 0.25
    if unclosed:  # never closed: every line from N on is a record of its own
        affected = range(i, len(t.rows))
        how = "is never closed (the file ends with a line break)"
    else:
        cb = ca if r.random() < 0.5 else r.randrange(0, width)
        fields[i + 1][cb] = fields[i + 1][cb] + '"'
        affected = range(i, i + 2)
        how = f"closes column {cb} on the next"
    for k in affected:
        t.rows[k].raw = ",".join(fields[k])
        t.rows[k].fate = ANY
    last = affected[-1] == len(t.rows) - 1
    f = csv_file(x, t, s, final_eol=True if last else None)
    return Case("stray_quote", x.seed, f"{ds} quote opens column {ca} on data row {i + 1}, {how}", [f])


def k_huge_cell(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, r.randint(3, 6), remark=True)
    size = r.randint(131_073, 300_000)
    victims = r.sample(range(len(t.rows)), r.randint(1, 2))
    text_cols = [n for n in t.columns if n == REMARK or n in ("employer_name", "title")]
    col = r.choice(text_cols)
    for v in victims:
        t.rows[v].values[col] = ("很长的说明文字" * (size // 7 + 1))[:size]
        t.rows[v].fate = ANY
    f = csv_file(x, t, s, encoding=r.choice(("utf-8", "gbk")))
    return Case("huge_cell", x.seed, f"{ds} {len(victims)} cell(s) of {size} chars in {col}", [f])


def k_nul_bytes(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, r.randint(3, 6), remark=True)
    victims = r.sample(range(len(t.rows)), r.randint(1, 2))
    for v in victims:
        t.rows[v].values[REMARK] = r.choice(("补\x00录", "\x00", "已核实\x00\x00"))
        t.rows[v].fate = ANY
    f = csv_file(x, t, s, encoding=r.choice(("utf-8", "utf-8-sig", "gbk")))
    return Case("nul_bytes", x.seed, f"{ds} NUL bytes in {len(victims)} cell(s)", [f])


def k_invalid_bytes(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, r.randint(3, 8))
    enc = r.choice(("utf-8", "utf-8-sig", "gbk"))
    f = csv_file(x, t, s, encoding=enc)
    assert f.data is not None
    lines = f.data.split(b"\n") if b"\n" in f.data else f.data.split(b"\r")
    target = r.randrange(1, len(lines))
    line = lines[target]
    cut = line.find(b",") + 1 if b"," in line else 0
    bad = r.choice((b"\xff", b"\x80", b"\xff\xfe"))
    lines[target] = line[:cut] + bad + line[cut:]
    f.data = (b"\n" if b"\n" in f.data else b"\r").join(lines)
    f.outcome, f.codes, f.records = REJECT, frozenset({"file.encoding"}), ()
    return Case("invalid_bytes", x.seed, f"{ds} {enc} with bytes {bad!r} in physical line {target + 1}", [f])


def k_truncated(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s, style=Style.draw(r)), ds, r.randint(3, 8))
    for row in t.rows:
        row.values = {k: (v.replace(",", "") if v else v) for k, v in row.values.items()}
    how = r.choice(("csv_text", "csv_bytes", "xlsx", "jsonl"))
    if how == "xlsx":
        sheet, _ = table_sheet(t, r)
        data = xlsx_bytes([("Sheet1", sheet)])
        data = data[: int(len(data) * r.uniform(0.3, 0.95))]
        f = FileTruth(_rel(s, ds, x.name(".xlsx")), s, ds, REJECT, data,
                      codes=frozenset({"file.unreadable", "file.truncated"}), token=x.token(),
                      planted=tuple(t.planted))
    elif how == "jsonl":
        lines = jsonl_lines(t, r)
        text, _ = assemble(lines, "lf", False, r)
        last = lines[-1].text
        text = text[: len(text) - len(last) + r.randint(1, len(last) - 2)]
        f = FileTruth(_rel(s, ds, x.name(".jsonl")), s, ds, REJECT, text.encode("utf-8"),
                      codes=frozenset({"file.truncated"}), token=x.token(), planted=tuple(t.planted))
    else:
        lines = table_lines(t)
        text, _ = assemble(lines, r.choice(("lf", "crlf")), False, r)
        last = lines[-1].text
        keep = r.randint(1, last.rfind(","))  # at least one delimiter of the last record is lost
        text = text[: len(text) - len(last) + keep]
        enc = r.choice(("utf-8", "gbk"))
        data = encode_text(text, enc)
        codes = {"file.truncated"}
        if how == "csv_bytes":  # cut in the middle of a multi-byte character, maybe
            data = data[: len(data) - r.randint(0, 1)]
            codes.add("file.encoding")
        f = FileTruth(_rel(s, ds, x.name(".csv")), s, ds, REJECT, data, codes=frozenset(codes),
                      token=x.token(), planted=tuple(t.planted))
    return Case("truncated", x.seed, f"{ds} cut short ({how})", [f])


def k_row_defects(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, r.randint(4, 9))
    done = [break_row(t, row, r, s) for row in r.sample(t.rows, r.randint(1, 3))]
    f = csv_file(x, t, s)
    return Case("row_defects", x.seed, f"{ds} bad rows: {','.join(done)}", [f])


def k_street_mismatch_rows(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s, street_mode="mixed"), ds, r.randint(4, 9), need_street=True)
    others = r.sample(t.rows, r.randint(1, 3))
    for row in others:
        row.values["street_code"] = r.choice([c for c in STREET_CODES if c != s])
        row.fate = MUST_QUARANTINE
    fmt = r.choice(("csv", "xlsx"))
    if fmt == "xlsx":
        sheet, records = table_sheet(t, r)
        f = FileTruth(_rel(s, ds, x.name(".xlsx")), s, ds, LOAD, xlsx_bytes([("Sheet1", sheet)]),
                      records=tuple(records), planted=tuple(t.planted), token=x.token())
    else:
        f = csv_file(x, t, s)
    return Case("street_mismatch_rows", x.seed, f"{ds} {fmt}: {len(others)} row(s) for another street", [f])


def k_xlsx(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x), shuffle=r.random() < 0.5)
    if r.random() < 0.5:
        break_row(t, r.choice(t.rows), r, s)
    sheet, records = table_sheet(t, r)
    f = FileTruth(_rel(s, ds, x.name(".xlsx")), s, ds, LOAD, xlsx_bytes([("Sheet1", sheet)]),
                  records=tuple(records), planted=tuple(t.planted), token=x.token())
    return Case("xlsx", x.seed, f"{ds} xlsx, headers={t.style.header}, blank sheet rows", [f])


def k_xlsx_second_sheet(x: Ctx) -> Case:
    """Rows on a second sheet must not vanish silently: the workbook is rejected with a
    reason, or its every sheet's rows are read (and counted)."""
    r = x.rng
    s, ds = x.street(), x.dataset()
    c = x.row_ctx(s)
    n1, n2 = r.randint(2, 6), r.randint(1, 6)
    t = make_table(c, ds, n1 + n2)
    first = Table(t.dataset, t.columns, t.headers, t.rows[:n1], t.planted, t.style)
    second = Table(t.dataset, t.columns, t.headers, t.rows[n1:], t.planted, t.style)
    s1, rec1 = table_sheet(first, r)
    s2, rec2 = table_sheet(second, r)
    names = r.choice((("Sheet1", "Sheet2"), ("2015年", "续表"), ("名单", "名单(2)")))
    data = xlsx_bytes([(names[0], s1), (names[1], s2)])
    records = tuple(rec1) + tuple(Record(None, rec.key, rec.fate) for rec in rec2)
    f = FileTruth(_rel(s, ds, x.name(".xlsx")), s, ds, EITHER, data, records=records,
                  planted=tuple(t.planted), token=x.token())
    return Case("xlsx_second_sheet", x.seed, f"{ds} xlsx: {n1} rows on sheet 1, {n2} on sheet 2", [f])


def k_jsonl(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    lines = jsonl_lines(t, r)
    garbage = r.random() < 0.5
    if garbage:
        at = r.randint(0, len(lines))
        lines.insert(at, Line(r.choice(('[1, 2, 3]', '{"会员编号": ', 'not json', '"a string"')), None,
                              MUST_QUARANTINE))
    if r.random() < 0.5:  # blank lines between the objects: not records
        spaced: list[Line] = []
        for ln in lines:
            while r.random() < 0.3:
                spaced.append(Line(r.choice(("", "  ", "\t"))))
            spaced.append(ln)
        lines = spaced
    eol = r.choice(("lf", "crlf"))
    text, records = assemble(lines, eol, r.random() < 0.8 or garbage, r)
    enc = r.choice(("utf-8", "utf-8", "gbk"))
    f = FileTruth(_rel(s, ds, x.name(".jsonl")), s, ds, LOAD, encode_text(text, enc), records=records,
                  planted=tuple(t.planted), token=x.token())
    return Case("jsonl", x.seed, f"{ds} jsonl {enc} eol={eol}{' + a line that is not an object' if garbage else ''}",
                [f])


def k_file_rules(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, r.randint(2, 5))
    how = r.choice(("empty", "header_only", "missing_column", "duplicate_column", "unsupported", "data_in_row_1"))
    name = x.name(".csv")
    if how == "empty":
        text, code = r.choice(("", "\n\n", "   \r\n")), "file.empty"
    elif how == "header_only":
        text, code = csv_line(t.headers) + r.choice(("\n", "\n\n", "\n,,,\n")), "file.empty"
    elif how == "missing_column":
        drop = r.choice([c.name for c in t.dataset.required_columns])
        keep = [i for i, c in enumerate(t.columns) if c != drop]
        rows = [t.headers, *[[rw.values.get(c) for c in t.columns] for rw in t.rows]]
        text = "\n".join(csv_line([row[i] for i in keep]) for row in rows) + "\n"
        code = "file.missing_column"
    elif how == "duplicate_column":
        i = r.randrange(len(t.columns))
        rows = [t.headers, *[[rw.values.get(c) for c in t.columns] for rw in t.rows]]
        text = "\n".join(csv_line([*row, row[i]]) for row in rows) + "\n"
        code = "file.duplicate_column"
    elif how == "unsupported":
        text = "\n".join(csv_line(row) for row in [t.headers, *[[rw.values.get(c) for c in t.columns] for rw in t.rows]])
        name = name.rsplit(".", 1)[0] + r.choice((".txt", ".numbers", ".docx", ".pdf", ".csv.zip", ""))
        code = "file.unsupported_format"
    else:
        text = "\n".join(csv_line([rw.values.get(c) for c in t.columns]) for rw in t.rows) + "\n"
        code = "file.no_header"
    f = FileTruth(_rel(s, ds, name), s, ds, REJECT, text.encode("utf-8"), codes=frozenset({code}),
                  planted=tuple(t.planted), token=x.token())
    return Case("file_rules", x.seed, f"{ds} {how}", [f])


def k_misplaced_then_correct(x: Ctx) -> Case:
    """The same bytes first in a wrong folder (rejected for the folder), then in the right
    one: the right one must load; a rejection for the folder is no verdict on the bytes."""
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    good = csv_file(x, t, s)
    where = r.choice(("unknown_street", "unknown_dataset", "no_dataset_folder"))
    name = good.rel.rsplit(b"/", 1)[1]
    if where == "unknown_street":
        bad_street = r.choice(("110101099", "110102001", "1101010031", "交道口"))
        rel, code, st, d = _rel(bad_street, ds, name), "file.unknown_street", bad_street, ds
    elif where == "unknown_dataset":
        bad_ds = r.choice((f"{ds}_old", "会员", "misc", "2015"))
        rel, code, st, d = _rel(s, bad_ds, name), "file.unknown_dataset", s, bad_ds
    else:
        rel, code, st, d = f"inbox/{s}/".encode() + name, "file.unknown_dataset", s, ""
    wrong = FileTruth(rel, st, d, REJECT, good.data, codes=frozenset({code}), planted=good.planted,
                      token=good.token)
    return Case("misplaced_then_correct", x.seed, f"{ds} first at {where}, then in the right folder",
                [wrong, good])


def _gbk_name(x: Ctx, ext: str, pii: Sequence[str] = ()) -> bytes:
    r = x.rng
    stem = r.choice(("会员名单", "交道口街道报表", "张表", *pii))
    try:
        raw = stem.encode("gbk")
    except UnicodeEncodeError:
        raw = "会员名单".encode("gbk")
    raw += b"_" + str(r.randint(1, 999)).encode()
    if r.random() < 0.3:
        raw += b"_caf\xe9"  # a Latin-1 byte too
    try:
        raw.decode("utf-8")
        raw += b"\xc4\xfa"  # make sure it is not UTF-8
    except UnicodeDecodeError:
        pass
    return raw + ext.encode()


def k_gbk_file_name(x: Ctx) -> Case:
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    name = _gbk_name(x, ".csv", t.planted[:1])
    f = csv_file(x, t, s, name=name)
    return Case("gbk_file_name", x.seed, f"{ds} file name in GBK bytes", [f])


def _pii_name(x: Ctx, ext: str) -> tuple[str, list[str]]:
    r = x.rng
    birth = date(r.randint(1960, 1995), r.randint(1, 12), r.randint(1, 28))
    name, idn, phone = person_name(r), make_id("110101", birth, r.randint(0, 999)), mobile(r)
    pattern = r.choice(("{n}_{i}_{p}", "会员{n}身份证{i}电话{p}", "{n} {p} {i}", "{i}{n}入会申请{p}"))
    return pattern.format(n=name, i=idn, p=phone) + ext, [name, idn, phone]


def k_pii_file_name(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    if r.random() < 0.4:
        sheet, records = table_sheet(t, r)
        name, pii = _pii_name(x, ".xlsx")
        f = FileTruth(_rel(s, ds, name), s, ds, LOAD, xlsx_bytes([("Sheet1", sheet)]), records=tuple(records),
                      planted=tuple(t.planted), token=x.token())
    else:
        name, pii = _pii_name(x, ".csv")
        if r.random() < 0.3:  # and the name in GBK bytes
            f = csv_file(x, t, s, name=name.encode("gbk"))
        else:
            f = csv_file(x, t, s, name=name)
    f.planted = (*f.planted, *pii)
    files = [f]
    if r.random() < 0.5:  # the same bytes again under a plain name: a duplicate naming the first
        files.append(FileTruth(_rel(s, ds, x.name("." + f.rel.rsplit(b".", 1)[1].decode())), s, ds, DUPLICATE,
                               f.data, planted=f.planted, token=f.token))
    return Case("pii_file_name", x.seed, f"{ds} named after a person (name, ID, phone)"
                + (" + a copy" if len(files) > 1 else ""), files)


def k_symlink_other_street(x: Ctx) -> Case:
    a, b = x.two_streets()
    ds = x.dataset()
    t = make_table(x.row_ctx(b), ds, _good_rows(x))
    target = csv_file(x, t, b)
    link = FileTruth(_rel(a, ds, x.name(".csv")), a, ds, NOT_READ, node="symlink", link_target=target.rel,
                     token=target.token, planted=target.planted)
    return Case("symlink_other_street", x.seed, f"{ds}: a link in {a}'s folder to {b}'s file", [target, link],
                tokens={target.token: b})


def k_symlink_outside(x: Ctx) -> Case:
    s, ds = x.street(), x.dataset()
    tok = "OUT" + x.token()[1:]
    t = make_table(x.row_ctx(s, token=tok), ds, _good_rows(x))
    secret = csv_file(x, t, s, token=tok)
    outside = f"secret_{x.seed}.csv"
    link = FileTruth(_rel(s, ds, x.name(".csv")), s, ds, NOT_READ, node="symlink",
                     link_target=b"@outside/" + outside.encode(), token=tok, planted=secret.planted)
    return Case("symlink_outside", x.seed, f"{ds}: a link in {s}'s folder to a file outside the drop zone",
                [link], outside=[(outside, secret.data or b"")], tokens={tok: "@outside"})


def k_symlink_dir(x: Ctx) -> Case:
    a, b = x.two_streets()
    ds = LINK_DIR_DATASET
    t = make_table(x.row_ctx(b), ds, _good_rows(x))
    target = csv_file(x, t, b)
    link = FileTruth(f"inbox/{a}/{ds}".encode(), a, ds, NOT_READ, node="dirlink",
                     link_target=f"inbox/{b}/{ds}".encode(), token=target.token)
    return Case("symlink_dir", x.seed, f"{a}'s {ds} folder is a link to {b}'s", [target, link],
                tokens={target.token: b})


def k_fifo(x: Ctx) -> Case:
    s, ds = x.street(), x.dataset()
    ext = x.rng.choice((".csv", ".xlsx", ".jsonl"))
    f = FileTruth(_rel(s, ds, x.name(ext)), s, ds, NOT_READ, node="fifo", token=x.token())
    return Case("fifo", x.seed, f"a FIFO named *{ext} in {ds}", [f])


def k_identical_bytes_two_streets(x: Ctx) -> Case:
    """The same bytes in two streets' folders; every row names the first street. The first
    loads; the second lands nothing for its street (a duplicate, or every row quarantined)."""
    a, b = x.two_streets()
    ds = x.dataset()
    t = make_table(x.row_ctx(a, street_mode="own"), ds, _good_rows(x), need_street=True)
    first = csv_file(x, t, a)
    name = first.rel.rsplit(b"/", 1)[1] if x.rng.random() < 0.5 else x.name(".csv").encode()
    records = tuple(Record(rec.line, rec.key, MUST_QUARANTINE) for rec in first.records)
    second = FileTruth(_rel(b, ds, name), b, ds, DUP_OR_QUARANTINED, first.data, records=records,
                       planted=first.planted, token=first.token)
    return Case("identical_bytes_two_streets", x.seed, f"{ds}: {a}'s file, byte for byte also in {b}'s folder",
                [first, second], tokens={first.token: a})


def k_ignored_names(x: Ctx) -> Case:
    r = x.rng
    s, ds = x.street(), x.dataset()
    t = make_table(x.row_ctx(s), ds, _good_rows(x))
    name = r.choice((".hidden.csv", "upload.csv.part", "~$lock.xlsx", "x.tmp", "d.csv.crdownload",
                     "e.CSV.PART", ".~lock.csv#"))
    f = csv_file(x, t, s, name=f"{r.randint(1, 99)}{name}" if not name.startswith((".", "~$")) else name)
    f.outcome, f.records = IGNORED, ()
    return Case("ignored_names", x.seed, f"{ds} under an ignored name {name!r}", [f])


def clean_case(seed: int, street: str, dataset: str) -> Case:
    """A clean file (every row good) of ``dataset`` in ``street``'s folder: the ordinary
    submissions the hostile ones sit among."""
    x = Ctx(random.Random(f"clean|{seed}"), seed, (street,))
    t = make_table(x.row_ctx(street, style=Style(), street_mode="own"), dataset, x.rng.randint(5, 12))
    f = csv_file(x, t, street, encoding="utf-8", eol="lf", final_eol=True)
    case = Case("clean", seed, f"clean {dataset} of {street}", [f])
    case.tokens[f.token] = street
    return case


KINDS: dict[str, Callable[[Ctx], Case]] = {
    "encoding": k_encoding,
    "line_endings": k_line_endings,
    "header_variant": k_header_variant,
    "title_row": k_title_row,
    "blank_lines_columns": k_blank_lines_columns,
    "quotes_delimiters": k_quotes_delimiters,
    "stray_quote": k_stray_quote,
    "huge_cell": k_huge_cell,
    "nul_bytes": k_nul_bytes,
    "invalid_bytes": k_invalid_bytes,
    "truncated": k_truncated,
    "row_defects": k_row_defects,
    "street_mismatch_rows": k_street_mismatch_rows,
    "xlsx": k_xlsx,
    "xlsx_second_sheet": k_xlsx_second_sheet,
    "jsonl": k_jsonl,
    "file_rules": k_file_rules,
    "misplaced_then_correct": k_misplaced_then_correct,
    "gbk_file_name": k_gbk_file_name,
    "pii_file_name": k_pii_file_name,
    "symlink_other_street": k_symlink_other_street,
    "symlink_outside": k_symlink_outside,
    "symlink_dir": k_symlink_dir,
    "fifo": k_fifo,
    "identical_bytes_two_streets": k_identical_bytes_two_streets,
    "ignored_names": k_ignored_names,
}


def case_seed(campaign_seed: int, index: int) -> int:
    digest = hashlib.sha256(f"hostile|{campaign_seed}|{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def make_case(kind: str, seed: int, streets: Sequence[str] = STREET_CODES) -> Case:
    """The case of ``kind`` built from ``seed`` (the same bytes every time)."""
    case = KINDS[kind](Ctx(random.Random(f"{kind}|{seed}"), seed, tuple(streets)))
    for f in case.files:
        if f.node == "file" and f.token and f.outcome in (LOAD, EITHER):
            case.tokens.setdefault(f.token, f.street)
    return case


def parse_case_id(text: str) -> tuple[str, int]:
    kind, _, seed = text.partition("@")
    if kind not in KINDS or not seed.isdigit():
        raise ValueError(f"not a case id (kind@seed): {text!r}")
    return kind, int(seed)


def campaign(seed: int, indices: Sequence[int], kinds: Sequence[str] | None = None,
             streets: Sequence[str] = STREET_CODES) -> list[Case]:
    """The cases of the campaign ``seed`` at ``indices``; case ``i`` is of kind
    ``kinds[i % len(kinds)]`` (every kind comes in turn), built from ``case_seed(seed, i)``."""
    names = list(kinds or KINDS)
    cases: list[Case] = []
    links: set[str] = set()  # streets whose facilities folder is a link
    targets: set[str] = set()  # streets whose facilities folder is real
    for i in indices:
        kind = names[i % len(names)]
        s = case_seed(seed, i)
        case = make_case(kind, s, streets)
        if kind == "symlink_dir":  # the folders of two such cases of a batch must not collide
            for attempt in range(s, s + 50):
                case = make_case(kind, attempt, streets)
                link, target = case.files[1].street, case.files[0].street
                if link not in links | targets and target not in links:
                    break
            else:
                continue
            links.add(link)
            targets.add(target)
        cases.append(case)
    return cases


# --- on disk ---------------------------------------------------------------------------------


BASE_MTIME_NS = 1_440_000_000 * 10**9  # 2015-08-19: every file is old enough to be taken


def materialise(cases: Sequence[Case], raw_dir: Path, outside_dir: Path) -> None:
    """Write the cases' files (in order: their modification times follow that order, so
    ingestion takes them in it), links and FIFOs."""
    raw = os.fsencode(raw_dir)
    outside_dir.mkdir(parents=True, exist_ok=True)
    tick = 0
    for case in cases:
        for name, data in case.outside:
            (outside_dir / name).write_bytes(data)
        for f in case.files:
            path = raw + b"/" + f.rel
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if f.node == "file":
                with open(path, "xb") as fh:  # two cases never share a path
                    fh.write(f.data or b"")
            elif f.node == "fifo":
                os.mkfifo(path)
            elif f.node in ("symlink", "dirlink"):
                assert f.link_target is not None
                if f.link_target.startswith(b"@outside/"):
                    target = os.fsencode(outside_dir) + b"/" + f.link_target[len(b"@outside/"):]
                else:
                    target = raw + b"/" + f.link_target
                os.symlink(target, path)
            tick += 1
            if f.node != "dirlink":
                t = BASE_MTIME_NS + tick * 10**9
                os.utime(path, ns=(t, t), follow_symlinks=f.node != "symlink")
