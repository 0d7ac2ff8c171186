"""What a receipt's first sheet says (and its json twin holds besides the problems):
pure functions of a ledger entry, its problem counts and its quality verdict."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pipelines.contract import DATASETS_BY_NAME, Dataset, Severity, rule
from pipelines.ingest.ledger import LedgerEntry, Status

from .locations import receipt_id
from .sources import QualityVerdict
from .wording import (
    expectation_zh,
    header,
    problem_message,
    rejection_message,
    status_zh,
    street_label,
)

RECEIPT_VERSION = 1
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
SHA_PREFIX = 12


def beijing_time(iso_utc: str | None) -> str:
    if not iso_utc:
        return ""
    moment = datetime.fromisoformat(iso_utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _status(entry: LedgerEntry, verdict: QualityVerdict) -> str:
    if entry.status == Status.LOADED and verdict.state == "held_back":
        return "held_back"
    return entry.status


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


def quality_text(quality: dict[str, Any]) -> str:
    if quality["state"] != "held_back":
        return _QUALITY_ZH[quality["state"]]
    reasons = "；".join(f["message_zh"] for f in quality["failures"])
    return (
        f"未通过：本文件已收到，但暂缓汇入统计。原因：{reasons}。请核对后重新上报完整、正确的文件。"
    )


def build_head(
    entry: LedgerEntry,
    original: LedgerEntry | None,
    counts: Counter[tuple[str, str | None, str]],
    verdict: QualityVerdict,
) -> dict[str, Any]:
    """Everything sheet 1 shows (and the json twin holds besides the problems)."""
    dataset = DATASETS_BY_NAME.get(entry.dataset or "")
    quality = _quality(dataset, verdict)
    status = _status(entry, verdict)
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
        "status": status,
        "status_zh": status_zh(entry.status, status == "held_back"),
        "reason": _reason(entry, dataset),
        "duplicate_of": _duplicate_of(entry, original),
        "quality": quality,
        "as_of_date": entry.as_of_date,
        "rows": {
            "read": entry.rows_read,
            "loaded": entry.rows_loaded,
            "quarantined": entry.rows_quarantined,
            "warned": entry.rows_warned,
        },
        "problem_counts": problem_rows,
        "ledger_seq": entry.seq,
        "run_id": entry.run_id,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def problem_text(dataset: Dataset | None, code: str, column: str | None) -> str:
    if dataset is None:
        return rule(code).message_zh(header=column or "", column=column or "")
    return problem_message(dataset, code, column)


def outcome_text(head: dict[str, Any]) -> str:
    if head["reason"]:
        return head["reason"]["message_zh"]
    if head["duplicate_of"]:
        return duplicate_text(head["duplicate_of"])
    rows = head["rows"]
    if rows["quarantined"]:
        return (
            f"{rows['loaded']} 行已入库，{rows['quarantined']} 行未入库。"
            "未入库的行见「问题明细」：按行号找到原文件中的行，按说明修改后重新上报。"
        )
    return f"全部 {rows['loaded']} 行已入库。" + ("有提示项，请核对。" if rows["warned"] else "")


def resubmit_hint(head: dict[str, Any]) -> str:
    dataset = DATASETS_BY_NAME.get(head["dataset"] or "")
    if dataset is not None and dataset.is_registry:
        return "名单类数据：修改后请上报本街道完整名单（新名单会替代旧名单），不要只上报修改的行。"
    return "事件类数据：修改后可只上报改正的行（按编号更新），也可重新上报整个文件。"
