"""A receipt states one status, and it is true: the table of every case a clerk meets
(pure: :func:`pipelines.feedback.outcome.receipt_status`, no files)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from pipelines.feedback.head import quality_text
from pipelines.feedback.outcome import (
    DUPLICATE,
    HELD_BACK,
    LOADED,
    NOT_LOADED,
    PARTLY_LOADED,
    PENDING,
    REJECTED,
    STATUS_CODES,
    ReceiptStatus,
    Rows,
    Submission,
    receipt_status,
    severity_zh,
)
from pipelines.ingest.ledger import Status

REASON = "缺少必填列「身份证号」，请按模板补齐后重新上报。"
SHRUNK = "本次名单只有6行，不足本街道上一期名单的一半，疑似名单不完整［expect_table_row_count_to_be_between］"
DUP = "该文件与本街道先前上报的文件「inbox/110101001/members/a.csv」（收到于 2015-12-07 09:00:00）内容完全相同，已记录，无需重复上报。"
NOTHING = Rows(0, 0, 0, 0)


@dataclass(frozen=True)
class Case:
    """One line of the table: what the pipeline knows, and what the clerk must read."""

    id: str
    submission: Submission
    code: str
    label: str
    detail: tuple[str, ...]  # each is in 说明
    todo: str  # in 如何处理
    rows: tuple[tuple[str, int], ...]


def loaded(quality: str, rows: Rows, **kw: object) -> Submission:
    return Submission(Status.LOADED, quality, rows, registry=True, **kw)  # type: ignore[arg-type]


CASES = [
    Case("loaded, every row", loaded("passed", Rows(7, 7, 0, 0)), LOADED, "已入库",
         ("全部 7 行已入库。",), "无需处理。",
         (("读取行数", 7), ("入库行数", 7), ("未入库行数", 0), ("有提示的行数（已入库）", 0))),
    Case("loaded, a warned row", loaded("passed", Rows(7, 7, 0, 1)), LOADED, "已入库",
         ("全部 7 行已入库。", "其中 1 行有提示"), "请核对「问题明细」中有提示的行",
         (("读取行数", 7), ("入库行数", 7), ("未入库行数", 0), ("有提示的行数（已入库）", 1))),
    Case("loaded with quarantined rows", loaded("passed", Rows(7, 2, 5, 0)), PARTLY_LOADED,
         "部分入库（5 行未入库）", ("2 行已入库，5 行未通过检查、未入库。", "问题明细"),
         "请按「问题明细」改正未入库的行后重新上报。名单类数据请上报本街道完整名单",
         (("读取行数", 7), ("入库行数", 2), ("未入库行数", 5), ("有提示的行数（已入库）", 0))),
    Case("loaded, every row quarantined", loaded("passed", Rows(4, 0, 4, 0)), NOT_LOADED,
         "未入库（没有一行通过检查）", ("读取 4 行，没有一行通过检查",), "请按「问题明细」改正后重新上报。",
         (("读取行数", 4), ("入库行数", 0), ("未入库行数", 4), ("有提示的行数", 0))),
    Case("held back", loaded("held_back", Rows(6, 6, 0, 0), quality_reasons=(SHRUNK,)), HELD_BACK,
         "已收到，暂缓汇总（未通过数据质量检查）",
         ("6 行通过了逐行检查，但本文件未通过数据质量检查，整个文件暂缓汇总，这些行都没有入库。",
          f"原因：{SHRUNK}。"),
         "如有错漏，改正后重新上报完整的文件；如数据确实无误，请联系区总工会。",
         (("读取行数", 6), ("通过逐行检查的行数（暂缓汇总，未入库）", 6), ("未通过逐行检查的行数", 0),
          ("有提示的行数", 0))),
    Case("held back, with quarantined rows",
         loaded("held_back", Rows(8, 6, 2, 1), quality_reasons=(SHRUNK, "「性别」为空的行过多")), HELD_BACK,
         "已收到，暂缓汇总（未通过数据质量检查）",
         (f"原因：{SHRUNK}；「性别」为空的行过多。", "另有 2 行未通过逐行检查，见「问题明细」。"),
         "请逐项核对原因",
         (("读取行数", 8), ("通过逐行检查的行数（暂缓汇总，未入库）", 6), ("未通过逐行检查的行数", 2),
          ("有提示的行数", 1))),
    Case("not judged yet", loaded("pending", Rows(3, 2, 1, 0)), PENDING, "已收到，待数据质量检查",
         ("2 行通过了逐行检查，1 行未通过（见「问题明细」）。", "届时本回执会更新"),
         "暂时无需处理，请等待本回执更新。未通过的行可先按「问题明细」改正。",
         (("读取行数", 3), ("通过逐行检查的行数（待数据质量检查）", 2), ("未通过逐行检查的行数", 1),
          ("有提示的行数", 0))),
    Case("rejected file", Submission(Status.REJECTED, "not_applicable", NOTHING, reason_zh=REASON),
         REJECTED, "已退回（整个文件未入库）", (REASON,), "请按「说明」修改后，重新上报整个文件。",
         (("读取行数", 0), ("入库行数", 0), ("未入库行数", 0), ("有提示的行数", 0))),
    Case("duplicate of a loaded file",
         Submission(Status.DUPLICATE, "not_applicable", NOTHING, duplicate_zh=DUP, duplicate_of="same_street"),
         DUPLICATE, "重复文件（未重复入库）", (DUP,), "无需处理，不必重复上报。",
         (("读取行数", 0), ("入库行数", 0), ("未入库行数", 0), ("有提示的行数", 0))),
    Case("duplicate of a rejected file",
         Submission(Status.DUPLICATE, "not_applicable", NOTHING, duplicate_zh=DUP,
                    duplicate_of="same_street_rejected"),
         DUPLICATE, "重复文件（未重复入库）", (DUP,), "先前那份文件已被退回：请按其回执修改后再上报。",
         (("读取行数", 0), ("入库行数", 0), ("未入库行数", 0), ("有提示的行数", 0))),
    Case("duplicate of another street's file",
         Submission(Status.DUPLICATE, "not_applicable", NOTHING, duplicate_zh="与其他街道的文件相同",
                    duplicate_of="other_street"),
         DUPLICATE, "重复文件（未重复入库）", ("与其他街道的文件相同",), "请确认是否放错了街道文件夹。",
         (("读取行数", 0), ("入库行数", 0), ("未入库行数", 0), ("有提示的行数", 0))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_has_its_one_status_meaning_and_next_step(case: Case) -> None:
    status = receipt_status(case.submission)
    assert (status.code, status.label_zh) == (case.code, case.label)
    for part in case.detail:
        assert part in status.detail_zh, (part, status.detail_zh)
    assert case.todo in status.todo_zh, status.todo_zh
    assert status.rows_zh == case.rows
    assert status.ok == (case.code == LOADED)


def test_the_table_covers_every_status() -> None:
    assert {c.code for c in CASES} == set(STATUS_CODES)


def _words(status: ReceiptStatus) -> str:
    return " ".join([status.label_zh, status.detail_zh, status.todo_zh, *(label for label, _ in status.rows_zh)])


ROW_SHAPES = [Rows(0, 0, 0, 0), Rows(5, 5, 0, 0), Rows(5, 5, 0, 2), Rows(5, 3, 2, 1), Rows(5, 0, 5, 0)]


@pytest.mark.parametrize(
    ("ledger", "quality", "rows"),
    list(itertools.product((Status.LOADED,), ("pending", "passed", "held_back"), ROW_SHAPES))
    + [(s, "not_applicable", NOTHING) for s in (Status.REJECTED, Status.DUPLICATE)],
)
def test_no_status_claims_rows_are_in_the_warehouse_unless_they_are(
    ledger: str, quality: str, rows: Rows
) -> None:
    """Every combination: 已入库 is said only of a file whose rows are in the warehouse
    (the gate passed it and some rows passed the row checks); the counts shown are the
    ledger's; a held-back file is said to be held back."""
    status = receipt_status(Submission(ledger, quality, rows, quality_reasons=("原因",)))
    in_warehouse = ledger == Status.LOADED and quality == "passed" and rows.passed > 0
    assert (status.code in (LOADED, PARTLY_LOADED)) == in_warehouse
    assert ("已入库" in _words(status)) == in_warehouse, _words(status)
    assert [n for _, n in status.rows_zh] == [rows.read, rows.passed, rows.quarantined, rows.warned]
    if status.code == HELD_BACK:
        assert "暂缓汇总" in status.label_zh and "原因" in status.detail_zh
    assert status.label_zh and status.detail_zh and status.todo_zh


def test_an_unknown_ledger_status_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unknown ledger status"):
        receipt_status(Submission("lost", "passed", Rows(1, 1, 0, 0)))


@pytest.mark.parametrize(
    ("code", "said"),
    [(LOADED, "仅提示，该行已入库"), (PARTLY_LOADED, "仅提示，该行已入库"),
     (PENDING, "仅提示（该行通过了逐行检查）"), (HELD_BACK, "仅提示（该行通过了逐行检查）")],
)
def test_a_warned_row_is_said_to_be_loaded_only_when_its_file_is(code: str, said: str) -> None:
    assert severity_zh(code, "warning") == said
    assert severity_zh(code, "quarantine") == "该行未入库"


def test_the_gates_reasons_are_said_once_on_sheet_1() -> None:
    """A held-back file's reasons are in its 说明, so the quality line points there; a
    file with no row in the warehouse anyway says them on the quality line."""
    quality = {"state": "held_back", "failures": [{"message_zh": "「性别」为空的行过多"}]}
    assert quality_text(quality, HELD_BACK) == "未通过（1 项，原因见上方「说明」）"
    assert quality_text(quality, NOT_LOADED) == "未通过：「性别」为空的行过多。"
    assert quality_text({"state": "passed", "failures": []}, LOADED) == "通过"
