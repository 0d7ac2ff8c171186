"""What a receipt's first sheet says (and its json twin holds besides the problems):
pure functions of a ledger entry, its problem counts, its quality verdict and the time
the receipt is generated. The status shown is decided by :mod:`.outcome` alone."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pipelines.config import BEIJING
from pipelines.contract import DATASETS_BY_NAME, Dataset, Severity, rule
from pipelines.ingest.ledger import LedgerEntry, Status

from .locations import receipt_id
from .outcome import HELD_BACK, DuplicateOf, ReceiptStatus, Rows, Submission, receipt_status
from .sources import QualityVerdict
from .wording import (
    expectation_zh,
    header,
    problem_message,
    rejection_message,
    street_label,
)

# 2: one status decided by .outcome (new codes partly_loaded, not_loaded, pending),
# status_zh / outcome_zh / todo_zh / rows_zh, generated_at(_beijing) instead of written_at
RECEIPT_VERSION = 2
SHA_PREFIX = 12


GENERATED_FORMAT = "%Y-%m-%d %H:%M"  # 回执生成时间, e.g. 2026-12-07 17:45


def beijing_time(iso_utc: str | None) -> str:
    if not iso_utc:
        return ""
    moment = datetime.fromisoformat(iso_utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def generated_times(now: datetime) -> dict[str, str]:
    """When a receipt is generated: ISO 8601 in UTC, and to the minute in Beijing time."""
    if now.tzinfo is None:
        raise ValueError("the receipt's clock must give an aware datetime")
    return {
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "generated_at_beijing": now.astimezone(BEIJING).strftime(GENERATED_FORMAT),
    }


def _reason(entry: LedgerEntry, dataset: Dataset | None) -> dict[str, Any] | None:
    """A rejected file's one reason, naming every column it concerns (``column`` and
    ``header``: the first, as receipts always said) and the header cells naming none."""
    if entry.status != Status.REJECTED or not entry.error_code:
        return None
    columns = entry.rejected_columns
    headers = [header(dataset, c) if dataset is not None else c for c in columns]
    unknown = list(entry.unknown_headers or [])
    return {
        "code": entry.error_code,
        "column": entry.error_column,
        "header": headers[0] if headers else None,
        "columns": columns,
        "headers": headers,
        "unknown_headers": unknown,
        "message_zh": rejection_message(dataset, entry.error_code, columns, unknown),
    }


def reason_lines(dataset: Dataset | None, reason: dict[str, Any]) -> list[tuple[str | None, str]]:
    """A rejected file's lines among the problems, as (column, message): one per column
    the reason names, each saying its own; the one reason when it names none."""
    if not reason["columns"]:
        return [(reason["column"], reason["message_zh"])]
    return [(c, rejection_message(dataset, reason["code"], [c])) for c in reason["columns"]]


def _duplicate_of(entry: LedgerEntry, original: LedgerEntry | None) -> dict[str, Any] | None:
    if entry.status != Status.DUPLICATE:
        return None
    if original is None or original.street_code != entry.street_code:
        # the earlier file is another street's (or unknown): say so, name nothing of it
        return {
            "path": None,
            "received_at": None,
            "receipt_id": None,
            "same_street": False,
            "status": None,
        }
    return {
        "path": original.path,
        "received_at": original.first_seen,
        "receipt_id": receipt_id(original),
        "same_street": True,
        "status": original.status,
    }


def duplicate_text(dup: dict[str, Any]) -> str:
    if not dup["same_street"]:
        return "该文件与其他街道已上报的文件内容完全相同，已记录，未入库。请确认是否放错了文件夹。"
    text = (
        f"该文件与本街道先前上报的文件「{dup['path']}」（收到于 {beijing_time(dup['received_at'])}）"
        "内容完全相同，已记录，无需重复上报。"
    )
    if dup["status"] == Status.REJECTED:
        text += "注意：先前那份文件已被退回，请按其回执修改后再上报。"
    return text


def _quality(dataset: Dataset | None, verdict: QualityVerdict) -> dict[str, Any]:
    failures = [
        {
            "expectation": f.expectation,
            "column": f.column,
            "unexpected_count": f.unexpected_count,
            "element_count": f.element_count,
            "message_zh": expectation_zh(
                dataset,
                f.expectation,
                f.column,
                f.unexpected_count,
                f.element_count,
                f.observed_value,
            )
            if dataset is not None
            else f.expectation,
        }
        for f in verdict.failures
    ]
    return {"state": verdict.state, "failures": failures}


_QUALITY_ZH = {
    "not_applicable": "不适用（文件未入库）",
    "pending": "尚未完成（完成后本回执会更新）",
    "passed": "通过",
}


def quality_text(quality: dict[str, Any], status: str) -> str:
    """The quality line of sheet 1; a held-back file's reasons are in its 说明 already."""
    if quality["state"] != "held_back":
        return _QUALITY_ZH[quality["state"]]
    if status == HELD_BACK:
        return f"未通过（{len(quality['failures'])} 项，原因见上方「说明」）"
    return "未通过：" + "；".join(f["message_zh"] for f in quality["failures"]) + "。"


def _duplicate_of_kind(dup: dict[str, Any] | None) -> DuplicateOf | None:
    if dup is None:
        return None
    if not dup["same_street"]:
        return "other_street"
    return "same_street_rejected" if dup["status"] == Status.REJECTED else "same_street"


def decide_status(
    entry: LedgerEntry,
    dataset: Dataset | None,
    quality: dict[str, Any],
    reason: dict[str, Any] | None,
    duplicate_of: dict[str, Any] | None,
) -> ReceiptStatus:
    """The receipt's one status (:func:`.outcome.receipt_status`) from what sheet 1 shows."""
    return receipt_status(
        Submission(
            ledger_status=entry.status,
            quality_state=quality["state"],
            rows=Rows(entry.rows_read, entry.rows_loaded, entry.rows_quarantined, entry.rows_warned),
            quality_reasons=tuple(f["message_zh"] for f in quality["failures"]),
            reason_zh=reason["message_zh"] if reason else "",
            duplicate_zh=duplicate_text(duplicate_of) if duplicate_of else "",
            duplicate_of=_duplicate_of_kind(duplicate_of),
            registry=dataset.is_registry if dataset is not None else None,
        )
    )


def build_head(
    entry: LedgerEntry,
    original: LedgerEntry | None,
    counts: Counter[tuple[str, str | None, str]],
    verdict: QualityVerdict,
    now: datetime,
) -> dict[str, Any]:
    """Everything sheet 1 shows (and the json twin holds besides the problems); ``now``:
    when the receipt is generated (an aware datetime)."""
    dataset = DATASETS_BY_NAME.get(entry.dataset or "")
    quality = _quality(dataset, verdict)
    reason = _reason(entry, dataset)
    duplicate_of = _duplicate_of(entry, original)
    status = decide_status(entry, dataset, quality, reason, duplicate_of)
    problem_rows = [
        {
            "code": code,
            "column": column,
            "header": header(dataset, column) if dataset is not None else column,
            "severity": severity,
            "count": n,
            "message_zh": problem_text(dataset, code, column),
        }
        for (code, column, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
        if severity in (Severity.QUARANTINE, Severity.WARNING)
    ]
    return {
        "receipt_version": RECEIPT_VERSION,
        "receipt_id": receipt_id(entry),
        "street_code": entry.street_code,
        "street": street_label(entry.street_code),
        "dataset": entry.dataset,
        "dataset_zh": dataset.zh if dataset else None,
        "file": {
            "path": entry.path,
            "sha256": entry.sha256,
            "sha256_prefix": entry.sha256[:SHA_PREFIX],
            "bytes": entry.bytes,
            "format": entry.file_format,
            "encoding": entry.encoding,
        },
        "received_at": entry.first_seen,
        "received_at_beijing": beijing_time(entry.first_seen),
        **generated_times(now),
        "status": status.code,
        "status_zh": status.label_zh,
        "outcome_zh": status.detail_zh,
        "todo_zh": status.todo_zh,
        "reason": reason,
        "duplicate_of": duplicate_of,
        "quality": quality,
        "as_of_date": entry.as_of_date,
        "rows": {
            "read": entry.rows_read,
            "loaded": entry.rows_loaded,
            "quarantined": entry.rows_quarantined,
            "warned": entry.rows_warned,
        },
        "rows_zh": [list(pair) for pair in status.rows_zh],
        "problem_counts": problem_rows,
        "ledger_seq": entry.seq,
        "run_id": entry.run_id,
    }


def problem_text(dataset: Dataset | None, code: str, column: str | None) -> str:
    if dataset is None:
        return rule(code).message_zh(header=column or "", column=column or "")
    return problem_message(dataset, code, column)
