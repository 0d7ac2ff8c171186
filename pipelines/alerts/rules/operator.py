"""Operator alerts, for the data engineers: from the ingestion ledger, the quality
verdicts and Dagster's run status, not from the warehouse.

OPS_REJECTED     a submission was rejected whole (a file rule broke);
OPS_QUALITY_GATE a blocking quality suite held a loaded submission back;
OPS_SILENT       a street has sent nothing for a dataset in ``silent_days`` days;
OPS_RUN_FAILED   a pipeline run failed (raised by the run-failure sensor, resolved by
                 the next successful run of the same job).

A submission is named by its file reference (``LedgerEntry.file_ref``: folders, a digest
of the path, the extension) and its SHA-256, never by the name the street gave the file,
which may carry a person's name (the operators' ledger file maps one to the other). The
identity of an alert is the SHA-256, so it is the same whatever the file is called.

The clock of OPS_SILENT is the ledger's ``first_seen`` (when the pipeline first saw a
file) against the wall-clock date of the evaluating run: how long since the street last
*sent* anything, whatever the files' as-of dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.alerts.model import Finding, area_name, area_of
from pipelines.contract import DATASETS, STREETS
from pipelines.ingest.ledger import LedgerEntry, Status


@dataclass(frozen=True)
class OperatorInputs:
    entries: Sequence[LedgerEntry]
    blocked: Mapping[str, Sequence[str]]  # sha256 -> failed critical expectations
    now: datetime  # UTC, naive


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return (name.rsplit(".", 1)[0] if "." in name else name).lower()


def _seen_at(entry: LedgerEntry) -> datetime:
    seen = datetime.fromisoformat(entry.first_seen)
    return seen.astimezone(UTC).replace(tzinfo=None) if seen.tzinfo else seen


def _resent(e: LedgerEntry, inputs: OperatorInputs) -> LedgerEntry | None:
    """A later accepted submission that replaces ``e``: same street and dataset, and the
    same file name (any extension) or, for registry snapshots, the same as-of date."""
    for later in inputs.entries:
        if (
            later.seq > e.seq
            and later.status == Status.LOADED
            and later.sha256 not in inputs.blocked
            and later.street_code == e.street_code
            and later.dataset == e.dataset
            and (
                _stem(later.path) == _stem(e.path)
                or (e.as_of_date is not None and later.as_of_date == e.as_of_date)
            )
        ):
            return later
    return None


def _submission_finding(
    rule_code: str, e: LedgerEntry, evidence: Mapping[str, Any], what: str
) -> Finding:
    """A finding about one submission: keyed by its SHA-256, named by its file reference
    (never the street's file name), ``what`` happened to it said after that."""
    area = area_of(e.street_code)
    return Finding(
        rule_code=rule_code,
        area_code=area,
        entity_key=f"submission:{e.sha256}",
        metrics={},
        evidence={
            "file_ref": e.file_ref,
            "sha256": e.sha256,
            "street_code": e.street_code,
            "dataset": e.dataset,
            "ledger_seq": e.seq,
            "first_seen": e.first_seen,
            "as_of_date": e.as_of_date,
            **evidence,
        },
        message=f"{area_name(area)}提交的文件{e.file_ref}{what}",
    )


def rejected_submissions(inputs: OperatorInputs, p: Mapping[str, Any]) -> list[Finding]:
    """Every rejected submission not since replaced by an accepted one of the same name."""
    out = []
    for e in inputs.entries:
        if e.status != Status.REJECTED or _resent(e, inputs) is not None:
            continue
        reason = (e.error_code or "unknown") + (f"（{e.error_column}）" if e.error_column else "")
        out.append(
            _submission_finding(
                "OPS_REJECTED", e, {"error_code": e.error_code, "error_column": e.error_column},
                f"被拒收：{reason}；请街道更正后以同名文件重新报送",
            )
        )
    return out


def held_back_submissions(inputs: OperatorInputs, p: Mapping[str, Any]) -> list[Finding]:
    """Every loaded submission a critical expectation held back, until replaced."""
    by_sha = {e.sha256: e for e in inputs.entries if e.status == Status.LOADED}
    out = []
    for sha, failed in sorted(inputs.blocked.items()):
        e = by_sha.get(sha)
        if e is None or _resent(e, inputs) is not None:
            continue
        out.append(
            _submission_finding(
                "OPS_QUALITY_GATE", e, {"failed_expectations": sorted(failed)},
                f"未通过质量门禁（{', '.join(sorted(failed))}），已暂缓入库",
            )
        )
    return out


def silent_feeds(inputs: OperatorInputs, p: Mapping[str, Any]) -> list[Finding]:
    """(street, dataset) pairs with no file first seen in the last ``silent_days`` days
    (``silent_days_by_dataset`` overrides per dataset). A pair that never sent anything
    is timed from the street's first file of any dataset; a street that never sent
    anything is not watched yet."""
    last: dict[tuple[str | None, str | None], datetime] = {}
    street_first: dict[str | None, datetime] = {}
    for e in inputs.entries:
        seen = _seen_at(e)
        key = (e.street_code, e.dataset)
        last[key] = max(last.get(key, seen), seen)
        street_first[e.street_code] = min(street_first.get(e.street_code, seen), seen)
    today = inputs.now.date()
    out = []
    for street in STREETS:
        if street.code not in street_first:
            continue
        for ds in DATASETS:
            limit = p["silent_days_by_dataset"].get(ds.name, p["silent_days"])
            since = last.get((street.code, ds.name))
            days = (today - (since or street_first[street.code]).date()).days
            if days < limit:
                continue
            what = f"最近一次报送于{since.date()}" if since else "从未报送"
            out.append(
                Finding(
                    rule_code="OPS_SILENT",
                    area_code=street.code,
                    entity_key=f"feed:{street.code}:{ds.name}",
                    metrics={"days_silent": days},
                    evidence={
                        "street_code": street.code,
                        "dataset": ds.name,
                        "days_silent": days,
                        "last_first_seen": since.isoformat(timespec="seconds") if since else None,
                        "silent_days_limit": limit,
                        "checked_on": today,
                    },
                    message=f"{street.name}已{days}天未报送{ds.zh}（{ds.name}），{what}",
                )
            )
    return out


def run_failure(
    job_name: str,
    run_id: str,
    failed_steps: Sequence[str],
    error: str,
    previous: Mapping[str, Any] | None,
) -> Finding:
    """The open OPS_RUN_FAILED finding of a job after a failed run; ``previous`` is the
    evidence of the job's alert if it is already open (the failures are counted)."""
    count = int(previous.get("failed_runs", 0)) + 1 if previous else 1
    runs = [*(previous or {}).get("failed_run_ids", []), run_id][-10:]
    return Finding(
        rule_code="OPS_RUN_FAILED",
        area_code=area_of(None),
        entity_key=f"job:{job_name}",
        metrics={"failed_runs": count},
        evidence={
            "job_name": job_name,
            "failed_runs": count,
            "failed_run_ids": runs,
            "last_failed_run_id": run_id,
            "failed_steps": sorted(failed_steps)[:20],
            "error": error[:300],
        },
        message=f"流水线作业{job_name}运行失败（连续{count}次，最近一次运行{run_id[:8]}，失败步骤：{', '.join(sorted(failed_steps)[:5]) or '无'}）",
    )
