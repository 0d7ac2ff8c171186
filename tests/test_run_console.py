"""What an operator sees while ``union-warehouse run`` goes: a line as each step starts and
ends, with its counts; dbt's one-line outcome, the tests that warned or failed named, its
per-node lines in a log file; no colour codes. The run through the real CLI is checked by
:func:`check_the_console_of_a_cli_run` (called from tests/test_crash_safety.py, whose
uninterrupted run it reads); the pieces are tested here on their own."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import dagster as dg
import pytest

from pipelines.orchestration.dbt_log import (
    SUMMARY_ATTR,
    DbtSummary,
    StampedLines,
    dbt_log,
    dbt_log_path,
    prune_logs,
    quietly,
)
from pipelines.orchestration.progress import (
    INGEST_PROGRESS_ATTR,
    STEP_LABELS,
    RunProgress,
    progress_logger,
)

ANSI = "\x1b["
STAMP = r"\[\d\d:\d\d:\d\d\]"

RUN_RESULTS = {
    "elapsed_time": 26.583,
    "args": {"which": "build"},
    "results": [
        {"unique_id": "model.union_warehouse.dim_member", "status": "success", "message": "OK"},
        {"unique_id": "model.union_warehouse.fct_cases", "status": "success", "message": "OK"},
        {"unique_id": "seed.union_warehouse.streets", "status": "success", "message": "INSERT 17"},
        {"unique_id": "model.union_warehouse.int_broken", "status": "error",
         "message": "Conversion Error: could not convert '王小明' to INT32"},
        {"unique_id": "test.union_warehouse.not_null_dim_member_member_key.1a2b3c", "status": "pass"},
        {"unique_id": "test.union_warehouse.relationships_dim_member_org_key__org_key__ref_dim_union_org_.9f8e",
         "status": "warn", "message": "Got 3 results, configured to warn if != 0"},
        {"unique_id": "test.union_warehouse.unique_fct_cases_case_key.77aa", "status": "fail",
         "message": "Got 2 results, configured to fail if != 0"},
        {"unique_id": "test.union_warehouse.not_null_int_broken_x.55cc", "status": "skipped", "message": None},
    ],
}


def test_the_dbt_summary_counts_and_names_what_warned_or_failed(tmp_path: Path) -> None:
    log = dbt_log_path(tmp_path, "run-1")
    assert log == tmp_path / "logs" / "dbt-run-1.log"
    summary = DbtSummary.from_run_results(RUN_RESULTS, log)
    assert summary.line() == (f"dbt build: 2 models, 1 seeds built; 1 not built; 4 tests: 1 pass, 1 warn, 1 error, "
                              f"1 skipped in 26.6 s (log: {log})")
    assert not summary.ok
    details = "\n".join(summary.detail_lines())
    assert "1 tests warned:\n  relationships_dim_member_org_key__org_key__ref_dim_union_org_ (warn): Got 3 results" in details
    assert "1 tests failed:\n  unique_fct_cases_case_key (fail): Got 2 results, configured to fail if != 0" in details
    assert "1 not built:\n  int_broken (error)" in details and str(log) in details
    # an error's message may quote a value of the data: it stays in dbt's log
    assert "王小明" not in details and "Conversion" not in details
    clean = DbtSummary.from_run_results({"elapsed_time": 3, "results": RUN_RESULTS["results"][:3]}, log)
    assert clean.ok and clean.detail_lines() == []
    assert DbtSummary.read(tmp_path / "missing.json", log) is None


def test_the_list_of_warned_tests_stays_short(tmp_path: Path) -> None:
    many = {"results": [{"unique_id": f"test.p.t{i}.x", "status": "warn", "message": "Got 1 result"}
                        for i in range(25)]}
    lines = DbtSummary.from_run_results(many, tmp_path / "l.log").detail_lines()
    assert lines[0] == "25 tests warned:" and "  ... and 15 more" in lines and len(lines) == 13


def test_what_dbt_prints_while_streaming_goes_to_the_log_file_only(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    def producer():  # as dagster-dbt does: prints dbt's line, then yields the event
        for i in range(3):
            print(f"{i + 1} of 3 OK created sql table model m{i} .... [\x1b[32mOK\x1b[0m in 0.1s]")
            yield i

    path = tmp_path / "logs" / "dbt-r.log"
    with dbt_log(path) as log:
        for event in quietly(producer(), log):
            print(f"consumer got {event}")
        print("partial line", end="", file=log)
    out = capsys.readouterr().out
    assert out == "consumer got 0\nconsumer got 1\nconsumer got 2\n"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and re.fullmatch(r"\d\d:\d\d:\d\d 1 of 3 OK created sql table model m0 .*", lines[0])
    assert lines[-1].endswith(" partial line")
    echo = io.StringIO()
    sink = StampedLines(io.StringIO(), echo)
    sink.write("a\nb")
    assert echo.getvalue() == "a\nb"


def test_old_dbt_logs_are_pruned(tmp_path: Path) -> None:
    import os

    for i in range(5):
        p = tmp_path / f"dbt-{i}.log"
        p.write_text("x")
        os.utime(p, (1000 + i, 1000 + i))
    (tmp_path / "other.txt").write_text("kept")
    gone = prune_logs(tmp_path, keep=3, spare=tmp_path / "dbt-new.log")
    assert sorted(p.name for p in gone) == ["dbt-0.log", "dbt-1.log", "dbt-2.log"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt-3.log", "dbt-4.log", "other.txt"]


def _progress_job() -> dg.JobDefinition:
    """Three steps named as the pipeline's: ingestion (with its progress and counts), the
    build (with a dbt summary), and a failing publish."""
    ledger = dg.AssetKey(["audit", "ingestion_ledger"])

    @dg.multi_asset(name="ingest_submissions", specs=[dg.AssetSpec(ledger)])
    def ingest(context):  # type: ignore[no-untyped-def]
        context.log.info("ingested 50/136 files", extra={INGEST_PROGRESS_ATTR: (50, 136)})
        yield dg.MaterializeResult(asset_key=ledger, metadata={
            "files_processed": 136, "files_loaded": 134, "files_rejected": 1, "files_duplicate": 1,
            "files_failed_internal_error": 0, "rows_read": 1200, "rows_loaded": 1190, "rows_quarantined": 10})

    @dg.multi_asset(name="warehouse_models", specs=[dg.AssetSpec("dim_member", deps=[ledger])])
    def build(context):  # type: ignore[no-untyped-def]
        summary = DbtSummary.from_run_results(
            {**RUN_RESULTS, "results": [r for r in RUN_RESULTS["results"] if r["status"] in ("success", "pass", "warn")
                                        and "int_broken" not in r["unique_id"]]},
            Path("/data/logs/dbt-x.log"))
        context.log.info(summary.line(), extra={SUMMARY_ATTR: summary})
        yield dg.MaterializeResult(asset_key="dim_member")

    @dg.asset(key=["published", "warehouse"], deps=["dim_member"])
    def published__warehouse() -> None:
        raise RuntimeError("disk trouble")

    return dg.Definitions(assets=[ingest, build, published__warehouse]).resolve_implicit_global_asset_job_def()


def test_each_step_gets_a_line_as_it_starts_and_ends_with_its_counts() -> None:
    out = io.StringIO()
    job = _progress_job()
    job = job.with_logger_defs({**job.loggers, "progress": progress_logger(out)})
    result = job.execute_in_process(raise_on_error=False, run_config={
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}, "progress": {}}})
    assert not result.success
    lines = out.getvalue().splitlines()
    assert ANSI not in out.getvalue()
    assert re.fullmatch(rf"{STAMP} run {result.run_id} started", lines[0])
    text = "\n".join(lines)
    assert re.search(rf"{STAMP} 入库 ingest_submissions: started\n", text)
    assert re.search(rf"{STAMP} 入库 ingest_submissions: 136 files \(134 loaded, 1 rejected, 1 duplicate\); "
                     r"rows 1190 of 1200 loaded, 10 quarantined in \d+\.\d s\n", text)
    assert re.search(rf"{STAMP} 建模 warehouse_models: dbt build: 2 models, 1 seeds built; 2 tests: 1 pass, 1 warn, "
                     r"0 error in \d+\.\d s \(dbt 26\.6 s\); dbt log: /data/logs/dbt-x\.log\n"
                     r"    1 tests warned:\n"
                     r"      relationships_dim_member_org_key__org_key__ref_dim_union_org_ \(warn\): Got 3 results", text)
    assert re.search(rf"{STAMP} 发布 published__warehouse: FAILED after \d+\.\d s \(.*\); the reason is given at the end",
                     text)
    assert "disk trouble" not in text  # the reason is the CLI's to give, once, at the end
    # the ingestion's "50/136 files" waits for 15 s of silence: not here, in a fast step
    assert "50/136" not in text


def test_ingestion_progress_is_said_at_most_every_15_seconds() -> None:
    out = io.StringIO()
    now = [0.0]
    handler = RunProgress(out, clock=lambda: now[0])
    for done, at in ((50, 5.0), (100, 16.0), (150, 20.0), (200, 40.0), (250, 41.0)):
        now[0] = at
        handler.handle(logging.makeLogRecord({"msg": "ingested", INGEST_PROGRESS_ATTR: (done, 250),
                                              "dagster_meta": {"step_key": "ingest_submissions"}}))
    said = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert said == ["入库 ingest_submissions: 100/250 files", "入库 ingest_submissions: 200/250 files"]


def check_the_console_of_a_cli_run(stdout: str, stderr: str, data_dir: Path) -> None:
    """What ``union-warehouse run`` of a small district wrote to a file (not a terminal):
    a line per step with its counts, dbt's outcome in one line naming its log file, which
    holds dbt's per-node lines; no colour code; tens of lines, not hundreds."""
    for said in (stdout, stderr):
        assert ANSI not in said
        assert not re.search(r"\d+ of \d+ (START|OK created|PASS) ", said)  # no dbt per-node line
    lines = stdout.splitlines()
    assert len(lines) < 80, "\n".join(lines)
    [run_id] = re.findall(rf"^{STAMP} run (\S+) started$", stdout, flags=re.M)
    for step, label in STEP_LABELS.items():
        assert re.search(rf"^{STAMP} {label} {step}: started$", stdout, flags=re.M), step
        assert re.search(rf"^{STAMP} {label} {step}: .+ in \d+\.\d s", stdout, flags=re.M), step
    assert re.search(rf"^{STAMP} 入库 ingest_submissions: 135 files \(133 loaded, 1 rejected, 1 duplicate\); "
                     r"rows \d+ of \d+ loaded, \d+ quarantined in", stdout, flags=re.M)
    assert re.search(rf"^{STAMP} 质检 quality_suites: \d+ suites run on 133 submissions", stdout, flags=re.M)
    log = dbt_log_path(data_dir, run_id)
    assert re.search(rf"^{STAMP} 建模 warehouse_models: dbt build: \d+ models, 6 seeds built; \d+ tests: \d+ pass, "
                     rf"0 warn, 0 error in [\d.]+ s \(dbt [\d.]+ s\); dbt log: {re.escape(str(log))}$",
                     stdout, flags=re.M)
    assert re.search(rf"^{STAMP} 发布 published__warehouse: publish 1: \d+ indicator rows", stdout, flags=re.M)
    written = log.read_text(encoding="utf-8")
    assert ANSI not in written
    assert re.search(r"^\d\d:\d\d:\d\d \d+ of \d+ OK created sql (table|incremental) model marts\.dim_member ",
                     written, flags=re.M)
    assert re.search(r"^\d\d:\d\d:\d\d \d+ of \d+ PASS unique_dim_member_member_key ", written, flags=re.M)
    assert "Catalog written to" in written  # the docs step's dbt too
