"""A receipt for every submission file: what was loaded, and what to fix.

``$UNION_DATA_DIR/receipts/<street_code>/<file name>_回执_<digest>.xlsx`` for the
street's clerk and a ``.json`` twin with the same content for machines. Sheet 1 (回执):
the file, its SHA-256 prefix, when it was received, when the receipt was generated, its
one status (:mod:`.outcome`: loaded, partly loaded, nothing loaded, waiting for the
quality gate, held back by it with the failed expectations in Chinese, rejected with its
one reason naming every column it concerns and the header cells that name no column, a
duplicate naming the earlier file it repeats), what that means and what to do, the row
counts, problems per rule. Sheet 2 (问题明细, header frozen, autofilter on): one line per
problem (a rejected file: one per column its reason names): line number, column
(Chinese header), rule code, what happens to the row, how to fix it, and the row's own
values from that file (quarantine for rows not loaded, landing for rows that passed
with a warning) so the clerk can find it. A receipt reads only its own file's outputs:
nothing from any other file or street.

Decisions:

* One receipt per distinct (path, SHA-256), named after the clerk's own file plus 8 hex
  of sha256(path + sha256) (:mod:`.locations`): the same bytes under another name get a
  receipt of their own (a duplicate naming the earlier file), the same file touched
  again does not. The name never leaves the street's receipts folder: a failed receipt
  is logged by ledger seq and street.
* A file in a street folder that is not in the street list (``file.unknown_street``)
  has no street: its receipt goes to ``receipts/_unknown/`` for the operators.
* A duplicate of another street's file says so without naming that file.
* Idempotent and crash-safe: the xlsx and then the json are written under temporary
  names and renamed into place; a receipt exists once both are there. A loaded file's
  receipt written before the quality gate judged it is marked pending (a marker under
  ``receipts/_pending/``, created before and removed after the write) and written again
  once the verdict exists.
* Memory is bounded: the xlsx is streamed (xlsxwriter ``constant_memory``), the json is
  written problem by problem, problems and row values are read in record batches.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pipelines.config import Settings
from pipelines.contract import DATASETS_BY_NAME, Dataset, Severity
from pipelines.files import replacing
from pipelines.ingest.ledger import LedgerEntry, LedgerIndex, Status, read_ledger
from pipelines.spreadsheet import StreamingSheet, StreamingWorkbook

from .head import (
    build_head,
    duplicate_text,
    problem_text,
    quality_text,
    reason_lines,
)
from .locations import (
    PENDING_DIR,
    UNKNOWN_STREET_DIR,
    ReceiptPaths,
    needs_receipt,
    receipt_entries,
    receipt_id,
    receipt_paths,
)
from .outcome import LOADED, STATUS_CODES, severity_zh
from .sources import (
    LineLookup,
    Problem,
    data_path,
    iter_problems,
    json_line,
    problem_counts,
    quality_verdict,
)
from .summaries import write_summaries
from .wording import header

__all__ = [
    "PENDING_DIR",
    "STATUS_CODES",
    "UNKNOWN_STREET_DIR",
    "ReceiptOutcome",
    "ReceiptPaths",
    "ReceiptRun",
    "needs_receipt",
    "read_receipt",
    "receipt_id",
    "receipt_paths",
    "write_receipt",
    "write_receipts",
]

log = logging.getLogger(__name__)

# Receipts with at most this many problems are assembled in memory (tens of MB at most:
# far faster per file); larger ones are streamed through xlsxwriter's temporary files.
SMALL_RECEIPT_PROBLEMS = 5_000

RECEIPT_SHEET = "回执"
PROBLEMS_SHEET = "问题明细"
GENERATED_LABEL = "回执生成时间（北京时间）"
TODO_LABEL = "如何处理"
PROBLEM_HEADERS = ("行号", "列", "规则代码", "处理方式", "问题说明及修改方法")

_TITLE = {"bold": True, "font_size": 14}
_LABEL = {"bold": True, "bg_color": "#F2F2F2", "border": 1, "valign": "top"}
_VALUE = {"text_wrap": True, "border": 1, "valign": "top"}
_HEADER = {"bold": True, "bg_color": "#DDEBF7", "border": 1}
_FLAGGED = {"bg_color": "#FFEB9C"}  # the problem's own cell among the row's values
_BAD_STATUS = {**_VALUE, "bold": True, "font_color": "#C00000"}


# --- sheet 1 ----------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(UTC)


def _write_receipt_sheet(sheet: StreamingSheet, head: dict[str, Any]) -> None:
    """Sheet 1; every status word comes from the head (decided once, by .outcome)."""
    sheet.set_widths([26, 90, 12, 12])
    sheet.write_row(["数据上报回执"], _TITLE)
    status_style = _VALUE if head["status"] == LOADED else _BAD_STATUS
    quality_style = _BAD_STATUS if head["quality"]["state"] == "held_back" else _VALUE
    dataset = (
        f"{head['dataset_zh']}（{head['dataset']}）"
        if head["dataset_zh"]
        else (head["dataset"] or "（未知数据集）")
    )
    facts: list[tuple[str, Any, dict[str, Any]]] = [
        ("街道", head["street"], _VALUE),
        ("数据集", dataset, _VALUE),
        ("文件", head["file"]["path"], _VALUE),
        ("文件指纹（SHA-256 前12位）", head["file"]["sha256_prefix"], _VALUE),
        ("收到时间（北京时间）", head["received_at_beijing"], _VALUE),
        (GENERATED_LABEL, head["generated_at_beijing"], _VALUE),
        ("处理结果", head["status_zh"], status_style),
        ("说明", head["outcome_zh"], _VALUE),
        ("数据质量检查", quality_text(head["quality"], head["status"]), quality_style),
        ("统计日期", head["as_of_date"] or "", _VALUE),
        *((label, n, _VALUE) for label, n in head["rows_zh"]),
    ]
    for label, value, style in facts:
        sheet.write_row([label, value], [_LABEL, style])
    sheet.skip()
    if head["problem_counts"]:
        sheet.write_row(["问题统计（明细见「问题明细」）"], {"bold": True})
        sheet.write_row(["规则代码", "说明及修改方法", "处理方式", "条数"], _HEADER)
        for p in head["problem_counts"]:
            sheet.write_row(
                [p["code"], p["message_zh"], severity_zh(head["status"], p["severity"]), p["count"]],
                _VALUE,
            )
        sheet.skip()
    sheet.write_row([TODO_LABEL], {"bold": True})
    sheet.write_row([head["todo_zh"]])
    sheet.write_row(["规则代码的说明见 docs/rules.md（规则目录）；如有疑问请联系区总工会。"])


# --- sheet 2 and the json's problem list ------------------------------------------------


class _ProblemWriter:
    """Writes each problem to sheet 2 and to the json, with its row's own values."""

    def __init__(
        self, wb: StreamingWorkbook, dataset: Dataset | None, out: IO[str], status: str
    ) -> None:
        self.dataset = dataset
        self.status = status
        self.columns = [c.name for c in dataset.columns] if dataset else []
        headers = (
            [*PROBLEM_HEADERS, *(c.zh for c in dataset.columns)]
            if dataset
            else list(PROBLEM_HEADERS)
        )
        widths = [8, 16, 26, 18, 60, *([16] * len(self.columns))]
        self.table = wb.add_table(PROBLEMS_SHEET, headers, widths)
        self.out = out
        self.count = 0
        self._styles: dict[str | None, list[dict[str, Any] | None]] = {}

    def _style(self, column: str | None) -> list[dict[str, Any] | None]:
        if column not in self._styles:
            self._styles[column] = [None] * len(PROBLEM_HEADERS) + [
                _FLAGGED if c == column else None for c in self.columns
            ]
        return self._styles[column]

    def write(self, p: Problem, values: dict[str, str | None], message: str) -> None:
        head = header(self.dataset, p.column) if self.dataset and p.column else (p.column or "")
        severity = severity_zh(self.status, p.severity)
        cells = [p.line, head or "（整行）", p.code, severity, message]
        cells += [values.get(c) for c in self.columns]
        self.table.append(cells, self._style(p.column))
        item = {
            "line": p.line,
            "column": p.column,
            "header": head or None,
            "code": p.code,
            "severity": p.severity,
            "message_zh": message,
            "values": values,
        }
        self.out.write(("" if self.count == 0 else ",\n") + json_line(item))
        self.count += 1

    def finish(self) -> None:
        """An autofilter over each sheet's header and rows (the header is frozen by the
        table), so the clerk can filter by rule code or column."""
        last_col = len(self.table.headers) - 1
        for sheet in self.table.sheets:
            sheet.ws.autofilter(0, 0, max(sheet.next_row - 1, 0), last_col)


def _write_problems(
    settings: Settings, entry: LedgerEntry, head: dict[str, Any], writer: _ProblemWriter
) -> None:
    dataset = writer.dataset
    if head["reason"] is not None:
        reason = head["reason"]
        for column, message in reason_lines(dataset, reason):
            writer.write(Problem(None, column, reason["code"], Severity.REJECT), {}, message)
        return
    if head["duplicate_of"] is not None:
        writer.write(
            Problem(None, None, "file.duplicate", Severity.DUPLICATE),
            {},
            duplicate_text(head["duplicate_of"]),
        )
        return
    quarantine = LineLookup(data_path(settings, entry.quarantine_path), writer.columns)
    landing = LineLookup(data_path(settings, entry.landing_path), writer.columns)
    for p in iter_problems(settings, entry):
        source = landing if p.severity == Severity.WARNING else quarantine
        writer.write(p, source.get(p.line), problem_text(dataset, p.code, p.column))


# --- writing one receipt ----------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptOutcome:
    """What one receipt said, in counts, and where it is (never a value): for the
    Dagster metadata, which takes only the counts."""

    street_code: str | None
    dataset: str | None
    status: str  # one of STATUS_CODES
    quality: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_warned: int
    problems: int
    xlsx: Path


def write_receipt(
    settings: Settings,
    entry: LedgerEntry,
    original: LedgerEntry | None = None,
    now: datetime | None = None,
) -> ReceiptOutcome:
    """Write (or rewrite) the receipt of one ledgered file; atomic, see the module doc.
    ``now``: the generation time it states (default: the current time)."""
    paths = receipt_paths(settings, entry)
    verdict = quality_verdict(settings, entry)
    counts = problem_counts(settings, entry)
    head = build_head(entry, original, counts, verdict, now or utc_now())
    if verdict.state == "pending":
        paths.pending.parent.mkdir(parents=True, exist_ok=True)
        paths.pending.touch()
    dataset = DATASETS_BY_NAME.get(entry.dataset or "")
    title = f"数据上报回执 {head['street']} {head['receipt_id']}"
    properties = {"title": title, "author": "东城区总工会"}
    small = sum(counts.values()) <= SMALL_RECEIPT_PROBLEMS
    with (
        replacing(paths.json) as json_tmp,
        json_tmp.open("w", encoding="utf-8") as out,
        StreamingWorkbook(paths.xlsx, properties, small=small) as wb,
    ):
        _write_receipt_sheet(wb.add_sheet(RECEIPT_SHEET), head)
        out.write(json_line(head)[:-1] + ', "problems": [\n')
        writer = _ProblemWriter(wb, dataset, out, head["status"])
        _write_problems(settings, entry, head, writer)
        writer.finish()
        out.write("\n]}\n")
    if verdict.state != "pending":
        paths.pending.unlink(missing_ok=True)
    rows = head["rows"]
    return ReceiptOutcome(
        street_code=entry.street_code,
        dataset=entry.dataset,
        status=head["status"],
        quality=verdict.state,
        rows_read=rows["read"],
        rows_loaded=rows["loaded"],
        rows_quarantined=rows["quarantined"],
        rows_warned=rows["warned"],
        problems=sum(n for (_, _, sev), n in counts.items() if sev in ("quarantine", "warning")),
        xlsx=paths.xlsx,
    )


def read_receipt(path: Path) -> dict[str, Any]:
    """A receipt's json twin (for tests and tools; it holds every problem)."""
    return json.loads(path.read_text(encoding="utf-8"))


# --- after every run ----------------------------------------------------------------------


@dataclass
class ReceiptRun:
    outcomes: list[ReceiptOutcome] = field(default_factory=list)
    summaries: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    errors: int = 0

    def by_street(self) -> dict[str, dict[str, int]]:
        """Per street (``_unknown`` for unknown folders): counts of this run's receipts."""
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            s = out.setdefault(o.street_code or UNKNOWN_STREET_DIR, Counter())
            s["receipts"] += 1
            s[o.status] += 1
            s["rows_read"] += o.rows_read
            s["rows_loaded"] += o.rows_loaded
            s["rows_quarantined"] += o.rows_quarantined
            s["problems"] += o.problems
        return {k: dict(v) for k, v in sorted(out.items())}


def pending_receipts(settings: Settings, entries: list[LedgerEntry]) -> list[LedgerEntry]:
    return [e for e in receipt_entries(entries) if needs_receipt(settings, e)]


def write_receipts(
    settings: Settings, run_id: str | None = None, clock: Callable[[], datetime] = utc_now
) -> ReceiptRun:
    """Write the summaries of the runs (``run_id`` and those of the files below), then
    the receipt of every ledgered file that has none yet or whose quality verdict
    arrived since. Safe to call at any time, any number of times. ``clock``: the
    receipts' generation time (an aware datetime)."""
    result = ReceiptRun()
    started = time.perf_counter()
    entries = read_ledger(settings.ledger_path)
    index = LedgerIndex.build(entries)
    todo = pending_receipts(settings, entries)
    result.timings["scan_s"] = time.perf_counter() - started
    # summaries first: they read the ledger, not the receipts, so a crash below leaves
    # the receipts pending (redone next time) and the summaries already right
    runs = {e.run_id for e in todo} | ({run_id} if run_id else set())
    result.summaries = write_summaries(settings, entries, runs)
    result.timings["summaries_s"] = time.perf_counter() - started - result.timings["scan_s"]
    receipts_started = time.perf_counter()
    for e in todo:
        original = index.original_by_sha.get(e.sha256) if e.status == Status.DUPLICATE else None
        try:
            result.outcomes.append(write_receipt(settings, e, original, clock()))
        except Exception as exc:  # one file's receipt must not stop the others'
            # the type only: a traceback would quote the receipt's path, i.e. the file's name
            log.error("receipt failed for ledger seq %d (street %s): %s", e.seq, e.street_code,
                      type(exc).__name__)
            result.errors += 1
    result.timings["receipts_s"] = time.perf_counter() - receipts_started
    result.timings["total_s"] = time.perf_counter() - started
    return result
