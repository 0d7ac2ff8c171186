"""The one status a receipt states, and what it means for the clerk.

:func:`receipt_status` decides it from the ledger's status, the quality gate's verdict
and the row counts (a pure function): the code (``status`` in the json twin), the line
on sheet 1 (处理结果), what it means (说明), what to do (如何处理) and how the row
counts are labelled. The workbook, the json twin and ``union-warehouse validate`` all
show what it returns and nothing else, so a receipt never says two things at once (a
file held back by the quality gate never claims rows were 入库).

Words: 入库 means in the warehouse. Rows that passed the row checks of a file the gate
has not judged yet, or held back, are "通过逐行检查", never 入库.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipelines.contract import Severity
from pipelines.ingest.ledger import Status

from .wording import SEVERITY_ZH

LOADED = "loaded"  # every row in the warehouse
PARTLY_LOADED = "partly_loaded"  # some rows in the warehouse, the others quarantined
NOT_LOADED = "not_loaded"  # read, but no row passed the row checks
PENDING = "pending"  # rows passed the row checks; the quality gate has not judged the file
HELD_BACK = "held_back"  # the quality gate held the whole file back: no row in the warehouse
REJECTED = "rejected"  # a file rule was broken: nothing read
DUPLICATE = "duplicate"  # the same bytes were loaded before
STATUS_CODES: tuple[str, ...] = (
    LOADED,
    PARTLY_LOADED,
    NOT_LOADED,
    PENDING,
    HELD_BACK,
    REJECTED,
    DUPLICATE,
)

# what a duplicate repeats: a loaded file of the same street, a rejected one, another street's
DuplicateOf = Literal["same_street", "same_street_rejected", "other_street"]


@dataclass(frozen=True)
class Rows:
    read: int
    passed: int  # passed the row checks (the ledger's rows_loaded)
    quarantined: int
    warned: int  # passed with a warning (counted in ``passed`` too)


@dataclass(frozen=True)
class Submission:
    """What a receipt's status is decided from (no value of the file)."""

    ledger_status: str  # Status.LOADED | REJECTED | DUPLICATE
    quality_state: str  # not_applicable | pending | passed | held_back
    rows: Rows
    quality_reasons: tuple[str, ...] = ()  # the failed critical expectations, in Chinese
    reason_zh: str = ""  # a rejected file's one reason
    duplicate_zh: str = ""  # what a duplicate repeats
    duplicate_of: DuplicateOf | None = None
    registry: bool | None = None  # a registry snapshot (None: unknown dataset)


@dataclass(frozen=True)
class ReceiptStatus:
    code: str  # one of STATUS_CODES
    label_zh: str  # 处理结果
    detail_zh: str  # 说明
    todo_zh: str  # 如何处理
    rows_zh: tuple[tuple[str, int], ...]  # the row counts, each with its label

    @property
    def ok(self) -> bool:
        """Nothing for the clerk to worry about (shown plain, not in red)."""
        return self.code == LOADED


def resubmit_hint(registry: bool | None) -> str:
    if registry is None:
        return ""
    if registry:
        return "名单类数据请上报本街道完整名单（新名单会替代旧名单），不要只报修改的行。"
    return "事件类数据可只上报改正的行（按编号更新），也可重新上报整个文件。"


def rows_zh(code: str, rows: Rows) -> tuple[tuple[str, int], ...]:
    """The row counts as sheet 1 labels them: 入库 only where the rows are in the warehouse."""
    if code in (PENDING, HELD_BACK):
        passed = (
            "通过逐行检查的行数（暂缓汇总，未入库）"
            if code == HELD_BACK
            else "通过逐行检查的行数（待数据质量检查）"
        )
        return (
            ("读取行数", rows.read),
            (passed, rows.passed),
            ("未通过逐行检查的行数", rows.quarantined),
            ("有提示的行数", rows.warned),
        )
    in_warehouse = code in (LOADED, PARTLY_LOADED)
    return (
        ("读取行数", rows.read),
        ("入库行数", rows.passed),
        ("未入库行数", rows.quarantined),
        ("有提示的行数（已入库）" if in_warehouse else "有提示的行数", rows.warned),
    )


def severity_zh(code: str, severity: str) -> str:
    """What happens to a row with a problem of ``severity`` (处理方式), in a receipt of
    status ``code``: a warned row of a file not in the warehouse is not 已入库."""
    if severity == Severity.WARNING and code in (PENDING, HELD_BACK):
        return "仅提示（该行通过了逐行检查）"
    return SEVERITY_ZH[Severity(severity)]


def _join(*parts: str) -> str:
    return "".join(p for p in parts if p)


def _warned(rows: Rows) -> str:
    return f"其中 {rows.warned} 行有提示（见「问题明细」），请核对。" if rows.warned else ""


def _status(code: str, s: Submission, label: str, detail: str, todo: str) -> ReceiptStatus:
    return ReceiptStatus(code, label, detail, todo, rows_zh(code, s.rows))


def _loaded(s: Submission) -> ReceiptStatus:
    r = s.rows
    todo = (
        _join("请核对「问题明细」中有提示的行，确有错误的改正后重新上报。", resubmit_hint(s.registry))
        if r.warned
        else "无需处理。"
    )
    return _status(LOADED, s, "已入库", f"全部 {r.passed} 行已入库。" + _warned(r), todo)


def _partly_loaded(s: Submission) -> ReceiptStatus:
    r = s.rows
    detail = (
        f"{r.passed} 行已入库，{r.quarantined} 行未通过检查、未入库。"
        "未入库的行见「问题明细」：按行号找到原文件中的行，按说明修改。"
    ) + _warned(r)
    todo = _join("请按「问题明细」改正未入库的行后重新上报。", resubmit_hint(s.registry))
    return _status(PARTLY_LOADED, s, f"部分入库（{r.quarantined} 行未入库）", detail, todo)


def _not_loaded(s: Submission) -> ReceiptStatus:
    r = s.rows
    if r.read == 0:
        return _status(
            NOT_LOADED,
            s,
            "未入库（文件中没有数据）",
            "文件中没有读到数据行，没有数据入库。",
            "请填好数据后重新上报。",
        )
    return _status(
        NOT_LOADED,
        s,
        "未入库（没有一行通过检查）",
        f"读取 {r.read} 行，没有一行通过检查，本文件没有数据入库。每行的问题见「问题明细」。",
        _join("请按「问题明细」改正后重新上报。", resubmit_hint(s.registry)),
    )


def _pending(s: Submission) -> ReceiptStatus:
    r = s.rows
    failed = f"，{r.quarantined} 行未通过（见「问题明细」）" if r.quarantined else ""
    detail = (
        f"{r.passed} 行通过了逐行检查{failed}。"
        "数据质量检查完成后才会汇总入库，届时本回执会更新。"
    )
    todo = _join(
        "暂时无需处理，请等待本回执更新。",
        "未通过的行可先按「问题明细」改正。" if r.quarantined else "",
    )
    return _status(PENDING, s, "已收到，待数据质量检查", detail, todo)


def _held_back(s: Submission) -> ReceiptStatus:
    r = s.rows
    why = f"原因：{'；'.join(s.quality_reasons)}。" if s.quality_reasons else ""
    detail = _join(
        f"{r.passed} 行通过了逐行检查，但本文件未通过数据质量检查，整个文件暂缓汇总，"
        "这些行都没有入库。",
        why,
        f"另有 {r.quarantined} 行未通过逐行检查，见「问题明细」。" if r.quarantined else "",
    )
    todo = "请逐项核对原因：如有错漏，改正后重新上报完整的文件；如数据确实无误，请联系区总工会。"
    return _status(HELD_BACK, s, "已收到，暂缓汇总（未通过数据质量检查）", detail, todo)


def _rejected(s: Submission) -> ReceiptStatus:
    detail = s.reason_zh or "本文件被退回，没有数据入库。"
    todo = "请按「说明」修改后，重新上报整个文件。"
    return _status(REJECTED, s, "已退回（整个文件未入库）", detail, todo)


_DUPLICATE_TODO: dict[DuplicateOf | None, str] = {
    "same_street": "无需处理，不必重复上报。",
    "same_street_rejected": "先前那份文件已被退回：请按其回执修改后再上报。",
    "other_street": "请确认是否放错了街道文件夹。",
    None: "无需处理，不必重复上报。",
}


def _duplicate(s: Submission) -> ReceiptStatus:
    detail = s.duplicate_zh or "该文件与先前上报的文件内容完全相同，未重复入库。"
    return _status(
        DUPLICATE, s, "重复文件（未重复入库）", detail, _DUPLICATE_TODO[s.duplicate_of]
    )


def receipt_status(s: Submission) -> ReceiptStatus:
    """The one status of a receipt. Order matters: a rejected or duplicate file loaded
    nothing; a file none of whose rows passed has nothing the gate could hold back; a
    held-back or not yet judged file has nothing in the warehouse; only then do the row
    counts say loaded or partly loaded."""
    if s.ledger_status == Status.REJECTED:
        return _rejected(s)
    if s.ledger_status == Status.DUPLICATE:
        return _duplicate(s)
    if s.ledger_status != Status.LOADED:
        raise ValueError(f"unknown ledger status {s.ledger_status!r}")
    if s.rows.passed == 0:
        return _not_loaded(s)
    if s.quality_state == "held_back":
        return _held_back(s)
    if s.quality_state == "pending":
        return _pending(s)
    if s.rows.quarantined:
        return _partly_loaded(s)
    return _loaded(s)
