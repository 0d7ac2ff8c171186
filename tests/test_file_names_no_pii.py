"""A street's file name is personal data past the street's own receipt.

Streets name files after the member they concern (``张三_<ID number>_<phone>会员.csv``).
One real run (``pipelines.cli.run_pipeline``, then ``report_run`` as ``union-warehouse
run`` does) of such files: one loaded, one rejected (a required column missing), one
held back by the quality gate (a snapshot under half the street's previous one) and one
duplicate. None of the name's parts may then appear in the published warehouse (every
textual column of every table), the working warehouse, the alert state, the outbox, the
Dagster instance (every run, event and file under ``DAGSTER_HOME``), the log records or
what the run wrote to stdout and stderr. A file is named by its file reference
(``LedgerEntry.file_ref``) instead.

Where the name is kept (the decision): the ledger file and the drop-zone state cache
next to it (``data/ledger/``, operators only, like the landing and quarantine folders)
and the street's own receipts (``data/receipts/``: the clerk sees the name they gave).
No table of the working warehouse is an exception.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.config import Settings
from pipelines.ingest.ledger import LedgerEntry, Status, read_ledger

from .conftest import drop
from .helpers import instance_home, instance_text
from .test_dagster_pipeline import members_csv

NAME = "张三_110101199003071234_13812345678会员"
PARTS = ("张三", "110101199003071234", "13812345678")  # a name, a resident ID, a phone
A, B, C = "110101001", "110101002", "110101003"
AS_OF = date(2024, 12, 31)

# Where the name is kept, relative to the data dir (everything else is searched).
KEPT_IN_DATA_DIR = (
    re.compile(r"ledger/ingestion_ledger\.jsonl"),  # the ledger file (operators only)
    re.compile(r"ledger/dropzone_state\.json"),  # the drop zone's state cache, beside it
    re.compile(r"receipts/(?!_summaries/)[^/]+/.+"),  # the street's receipts (not the published summaries)
    re.compile(r"receipts/_pending/.+"),  # markers of receipts written before the gate's verdict
)
# Tables of the working warehouse that may hold a file name: none.
OPERATOR_ONLY_TABLES: frozenset[str] = frozenset()

_NOT_TEXT = re.compile(
    r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL\(.*\)|DATE|TIME|TIMESTAMP.*|BOOLEAN|INTERVAL|UUID)"
)


def _forms(part: str) -> list[bytes]:
    """How a string can appear in a file: UTF-8, or JSON-escaped (``\\u5f20\\u4e09``)."""
    return sorted({part.encode("utf-8"), json.dumps(part)[1:-1].encode("ascii")})


def found(data: str | bytes) -> list[str]:
    """The parts of the file name that ``data`` holds."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    return [p for p in PARTS if any(f in raw for f in _forms(p))]


def table_hits(database: Path) -> dict[str, list[str]]:
    """``schema.table.column`` -> the parts found in it, over every column of every table
    of ``database`` that is not a number, a date, a time or a boolean (text, JSON, lists,
    structs, maps: cast to text)."""
    hits: dict[str, list[str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.sql("select table_schema, table_name, column_name, data_type from information_schema.columns "
                          "where table_catalog = current_database()").fetchall()
        assert columns, database
        for schema, table, column, dtype in columns:
            if _NOT_TEXT.fullmatch(dtype):
                continue
            parts = [p for p in PARTS if con.execute(
                f'select count(*) from "{schema}"."{table}" where strpos(cast("{column}" as varchar), ?) > 0',
                [p]).fetchone()[0]]  # type: ignore[index]
            if parts:
                hits[f"{schema}.{table}.{column}"] = parts
    return hits


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(levelname)s %(message)s").format(record))
        self.lines.append(repr(record.args))


@contextmanager
def captured(root: Path) -> Iterator[dict[str, Path]]:
    """What is written to stdout and stderr, by Python (``sys.stdout``/``sys.stderr``)
    and below it (file descriptors 1 and 2: subprocesses, C libraries), into files."""
    files = {name: root / f"{name}.txt" for name in ("stdout", "stderr", "fd1", "fd2")}
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with (files["stdout"].open("w", encoding="utf-8", errors="surrogateescape") as out,
          files["stderr"].open("w", encoding="utf-8", errors="surrogateescape") as err,
          files["fd1"].open("wb") as fd1, files["fd2"].open("wb") as fd2):
        os.dup2(fd1.fileno(), 1)
        os.dup2(fd2.fileno(), 2)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                yield files
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)


@dataclass
class Run:
    settings: Settings
    home: Path
    result: dg.ExecuteInProcessResult
    status: int
    logs: str
    output: dict[str, str]

    def entry(self, street: str, dataset: str, name: str) -> LedgerEntry:
        path = f"inbox/{street}/{dataset}/{name}"
        return next(e for e in read_ledger(self.settings.ledger_path) if e.path == path)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    from pipelines.cli import report_run, run_pipeline

    root = tmp_path_factory.mktemp("file_names")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    settings.inbox.mkdir(parents=True)
    home = instance_home(root / "dagster_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(home))
    mp.setenv("UNION_LOG_LEVEL", "INFO")  # the console logger says as much as it can
    members_a = members_csv(5, "2024-06-30", A)
    drops = [  # in this order (modification times an hour ago, a second apart)
        (A, "members", f"{NAME}.csv", members_a),  # loaded
        (B, "dispute_cases", f"{NAME}.csv", "案件编号,受理日期\nC2,2024-07-01\n"),  # rejected: required columns missing
        (C, "members", "m_06.csv", members_csv(14, "2024-06-30", C, start=100)),  # C's previous snapshot
        (C, "members", f"{NAME}.csv", members_csv(6, "2024-09-30", C, start=100)),  # < half of it: held back
        (A, "members", f"{NAME}(1).csv", members_a),  # the same bytes again: a duplicate
    ]
    start = time.time() - 3600
    for i, (street, dataset, name, body) in enumerate(drops):
        p = drop(settings, street, dataset, name, body)
        os.utime(p, (start + i, start + i))

    handler = _Records()
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    try:
        with captured(root) as files:
            result = run_pipeline(settings, AS_OF)
            status = report_run(result, settings, AS_OF)
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(level)
    output = {k: p.read_text(encoding="utf-8", errors="surrogateescape") for k, p in files.items()}
    yield Run(settings, home, result, status, "\n".join(handler.lines), output)
    mp.undo()


def test_the_scan_finds_a_name_where_there_is_one(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema s")
        con.execute("create table s.t as select 1 as n, ['a', ?] as l, {'p': ?} as st, ? as v",
                    [f"inbox/1/m/{NAME}.csv", "110101199003071234", "no"])
    assert table_hits(db) == {"s.t.l": ["张三", "110101199003071234", "13812345678"], "s.t.st": ["110101199003071234"]}
    assert found(json.dumps({"m": f"文件{NAME}"})) == list(PARTS)
    assert found("inbox/110101001/members/#4894d496e7.csv") == []


def test_the_run_loads_rejects_and_holds_back_the_named_files(ran: Run) -> None:
    from pipelines.feedback.receipts import read_receipt, receipt_paths
    from pipelines.quality.runner import blocked_submissions

    assert ran.result.success and ran.status == 0, ran.output["stderr"][-3000:]
    loaded = ran.entry(A, "members", f"{NAME}.csv")
    rejected = ran.entry(B, "dispute_cases", f"{NAME}.csv")
    held = ran.entry(C, "members", f"{NAME}.csv")
    again = ran.entry(A, "members", f"{NAME}(1).csv")
    assert (loaded.status, rejected.status, held.status, again.status) == (
        Status.LOADED, Status.REJECTED, Status.LOADED, Status.DUPLICATE)
    assert rejected.error_code == "file.missing_column"
    assert set(blocked_submissions(ran.settings)) == {held.sha256}
    # the ledger file and the street's receipt keep the name the clerk gave the file
    assert all(found(e.path) == list(PARTS) for e in (loaded, rejected, held, again))
    for e in (loaded, rejected, held, again):
        receipt = read_receipt(receipt_paths(ran.settings, e).json)
        assert receipt["file"]["path"] == e.path
    assert read_receipt(receipt_paths(ran.settings, held).json)["status"] == "held_back"


def test_no_published_table_holds_the_file_name(ran: Run) -> None:
    assert table_hits(ran.settings.published_path) == {}


def test_the_working_warehouse_holds_no_file_name(ran: Run) -> None:
    hits = table_hits(ran.settings.warehouse_path)
    assert {c for c in hits if c.rsplit(".", 1)[0] not in OPERATOR_ONLY_TABLES} == set(), hits


def test_an_analyst_counts_files_per_street_and_status_and_joins_on_the_sha256(ran: Run) -> None:
    with duckdb.connect(str(ran.settings.published_path), read_only=True) as con:
        counts = con.sql("select street_code, status, count(*) from audit.ingestion_ledger "
                         "group by all order by 1, 2").fetchall()
        assert counts == [(A, "duplicate", 1), (A, "loaded", 1), (B, "rejected", 1), (C, "loaded", 2)]
        for table in ("audit.ingestion_ledger", "audit.quality_results", "audit.quarantine",
                      "indicators.indicator_manifest"):
            columns = {r[0] for r in con.sql(f"describe {table}").fetchall()}
            assert "file_ref" in columns and not columns & {"path", "duplicate_of", "error"}, table
        held = ran.entry(C, "members", f"{NAME}.csv")
        assert con.execute("select file_ref, quality_verdict from indicators.indicator_manifest "
                           "where submission_sha256 = ?", [held.sha256]).fetchall() == [(held.file_ref, "held_back")]
        assert con.execute("select distinct file_ref from audit.quality_results where submission_sha256 = ?",
                           [held.sha256]).fetchall() == [(held.file_ref,)]
        loaded = ran.entry(A, "members", f"{NAME}.csv")
        again = ran.entry(A, "members", f"{NAME}(1).csv")
        assert con.execute("select file_ref, duplicate_of_file_ref from audit.ingestion_ledger where seq = ?",
                           [again.seq]).fetchall() == [(again.file_ref, loaded.file_ref)]
        assert re.fullmatch(rf"inbox/{C}/members/#[0-9a-f]{{10}}\.csv", held.file_ref)


def test_alerts_and_the_outbox_name_the_file_by_its_reference(ran: Run) -> None:
    assert table_hits(ran.settings.alerts_state_path) == {}
    outbox = ran.settings.outbox_path.read_text(encoding="utf-8")
    assert found(outbox) == []
    rejected = ran.entry(B, "dispute_cases", f"{NAME}.csv")
    held = ran.entry(C, "members", f"{NAME}.csv")
    with duckdb.connect(str(ran.settings.published_path), read_only=True) as con:
        alerts = dict(con.sql("select entity_key, message from alerts.alerts where rule_kind = 'operator'").fetchall())
    assert rejected.file_ref in alerts[f"submission:{rejected.sha256}"]
    assert held.file_ref in alerts[f"submission:{held.sha256}"]
    sent = [json.loads(line) for line in outbox.splitlines()]
    assert any(rejected.file_ref in json.dumps(x, ensure_ascii=False) for x in sent)


def test_the_dagster_instance_holds_no_file_name(ran: Run) -> None:
    events = instance_text(ran.home)
    assert "ASSET_MATERIALIZATION" in events and found(events) == []
    # nor any file of the instance (run and event storage, compute logs, ...)
    files = [p for p in ran.home.rglob("*") if p.is_file()]
    assert files
    assert {str(p.relative_to(ran.home)): found(p.read_bytes()) for p in files if found(p.read_bytes())} == {}
    # the metadata names the files by their reference
    rejected = ran.entry(B, "dispute_cases", f"{NAME}.csv")
    held = ran.entry(C, "members", f"{NAME}.csv")
    assert rejected.file_ref in events and held.file_ref in events


def test_log_records_and_output_hold_no_file_name(ran: Run) -> None:
    assert found(ran.logs) == []
    assert {k: found(v) for k, v in ran.output.items() if found(v)} == {}
    held = ran.entry(C, "members", f"{NAME}.csv")
    assert f"quality gate held back {held.file_ref}" in ran.logs
    assert "Step timings:" in ran.output["stdout"]


def test_the_name_is_kept_only_in_the_ledger_folder_and_the_streets_receipts(ran: Run) -> None:
    data = ran.settings.data_dir
    holding = set()
    for p in data.rglob("*"):
        rel = p.relative_to(data).as_posix()
        if found(rel) or (p.is_file() and found(p.read_bytes())):
            holding.add(rel)
    outside = {rel for rel in holding if not any(k.fullmatch(rel) for k in KEPT_IN_DATA_DIR)}
    assert outside == set()
    assert {"ledger/ingestion_ledger.jsonl"} <= holding and any(r.startswith(f"receipts/{C}/") for r in holding)
