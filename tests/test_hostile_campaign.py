"""A seeded campaign of hostile street submissions against the pipeline's invariants.

Two levels (docs/hostile-testing.md):

* ingestion: ``HOSTILE_CASES`` generated cases (default 208: every kind eight times), in
  batches of ``HOSTILE_BATCH``, each batch one ``ingest_pending`` over a fresh drop zone,
  checked against every case's ground truth (:mod:`tests.hostile.invariants`);
* the whole pipeline: one case of every kind for three streets beside clean files, two
  ``union-warehouse run --as-of 2015-12-31`` in this process: the first publishes and
  leaks no personal value anywhere, receipts stay within their street, the second
  changes nothing.

``HOSTILE_SEED`` picks the campaign; ``HOSTILE_CASE=kind@seed[,kind@seed...]`` runs just
those cases (the ids the failures print); ``HOSTILE_KINDS=a,b`` restricts the kinds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.ingest.process import ingest_pending

from .helpers import deadline, instance_home, instance_text
from .hostile.generator import (
    GENERAL_DATASETS,
    KINDS,
    STREET_CODES,
    Case,
    campaign,
    case_seed,
    clean_case,
    make_case,
    materialise,
    parse_case_id,
)
from .hostile.invariants import TOKEN, check_ingestion, find_planted, planted_forms, token_folders

REPO = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("HOSTILE_SEED", "2015"))
CASES = int(os.environ.get("HOSTILE_CASES", "208"))
BATCH = int(os.environ.get("HOSTILE_BATCH", "52"))
ONLY = [parse_case_id(c.strip()) for c in os.environ.get("HOSTILE_CASE", "").split(",") if c.strip()]
KIND_NAMES = [k.strip() for k in os.environ.get("HOSTILE_KINDS", "").split(",") if k.strip()] or list(KINDS)
STREETS = tuple(s.strip() for s in os.environ.get("HOSTILE_STREETS", "").split(",") if s.strip()) or STREET_CODES
E2E_SKIP = {k.strip() for k in os.environ.get("HOSTILE_E2E_SKIP", "").split(",") if k.strip()}
INGEST_TIMEOUT_S = 120  # a FIFO opened for reading blocks forever: fail instead of hanging
RUN_TIMEOUT_S = 900
MAX_LINES = 40


def _batches() -> list[tuple[int, ...]]:
    if ONLY:
        return [tuple(range(len(ONLY)))]
    return [tuple(range(start, min(start + BATCH, CASES))) for start in range(0, CASES, BATCH)]


def _cases(indices: tuple[int, ...]) -> list[Case]:
    if ONLY:
        return [make_case(kind, seed, STREETS) for kind, seed in ONLY]
    unknown = set(KIND_NAMES) - set(KINDS)
    assert not unknown, f"unknown kinds in HOSTILE_KINDS: {sorted(unknown)}"
    return campaign(SEED, indices, KIND_NAMES, STREETS)


def report(violations: list[str], cases: list[Case], selection: str = "hostile_ingestion_batch") -> str:
    """The violations (at most MAX_LINES) and how to run the failing case (or batch) again."""
    ids = sorted({v.split(" ", 1)[0] for v in violations if "@" in v.split(" ", 1)[0]})
    more = len(violations) - MAX_LINES
    lines = violations[:MAX_LINES] + ([f"... and {more} more"] if more > 0 else [])
    test = f"uv run pytest tests/{Path(__file__).name}"
    streets = f"HOSTILE_STREETS={','.join(E2E_STREETS)} " if selection == "e2e" else ""
    how = [f"reproduce one case: {streets}HOSTILE_CASE={ids[0]} {test} -k hostile_ingestion_batch"] if ids else []
    how.append(f"reproduce all: HOSTILE_SEED={SEED} HOSTILE_CASES={CASES} HOSTILE_BATCH={BATCH} {test} -k '{selection}'")
    return f"{len(violations)} violation(s) over {len(cases)} cases\n" + "\n".join(lines + how)


def _log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(r) for r in records)


# --- level (a): ingestion --------------------------------------------------------------------


@pytest.mark.parametrize("batch", _batches(), ids=lambda b: f"cases{b[0]}-{b[-1]}")
def test_hostile_ingestion_batch(batch: tuple[int, ...], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cases = _cases(batch)
    settings = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data", pii_key="hostile-key")
    settings.inbox.mkdir(parents=True)
    materialise(cases, settings.raw_dir, tmp_path / "outside")
    caplog.set_level(logging.DEBUG, logger="pipelines")
    caplog.set_level(logging.INFO)
    raised: BaseException | None = None
    errors: list[tuple[str, str]] = []
    try:
        with deadline(INGEST_TIMEOUT_S):
            result = ingest_pending(settings, run_id="hostile")
        errors = result.errors
    except Exception as exc:  # recorded as a violation: one file must never stop the batch
        raised = exc
    violations = check_ingestion(settings, cases, raised=raised, errors=errors,
                                 log_text=_log_text(caplog.records))
    if raised is None:
        before = settings.ledger_path.read_bytes()
        with deadline(INGEST_TIMEOUT_S):
            again = ingest_pending(settings, run_id="hostile-again")
        if again.entries or settings.ledger_path.read_bytes() != before:
            violations.append(f"(batch) a second pass over the same drop zone ledgered {len(again.entries)} more")
    assert not violations, report(violations, cases, f"hostile_ingestion_batch and cases{batch[0]}-{batch[-1]}")


def test_every_kind_is_generated_with_its_ground_truth() -> None:
    """The generator itself: each kind builds, deterministically, files with a truth."""
    for i, kind in enumerate(KINDS):
        seed = case_seed(SEED, i)
        a, b = make_case(kind, seed), make_case(kind, seed)
        assert [f.data for f in a.files] == [f.data for f in b.files], kind
        assert a.files and all(f.outcome for f in a.files), kind
        for f in a.files:
            if f.outcome == "load":
                assert f.records and f.data, (kind, f.note)


# --- level (b): the whole pipeline ---------------------------------------------------------------

E2E_STREETS = ("110101003", "110101007", "110101014")
AS_OF = "2015-12-31"


def e2e_cases(seed: int) -> list[Case]:
    """Clean files for every (street, dataset), then one case of every kind."""
    cases = [clean_case(case_seed(seed, 1000 + i), street, ds)
             for i, (street, ds) in enumerate((s, d) for s in E2E_STREETS for d in GENERAL_DATASETS)]
    cases += [make_case(kind, case_seed(seed, i), E2E_STREETS) for i, kind in enumerate(KINDS) if kind not in E2E_SKIP]
    return cases


@dataclass
class CliRun:
    code: int | str
    seconds: float
    output: str  # stdout and stderr (fd level and Python level) and every log record


@contextlib.contextmanager
def captured(out: Path, err: Path) -> Iterator[None]:
    """File descriptors 1 and 2 (subprocesses too) and sys.stdout/sys.stderr into files."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    old = sys.stdout, sys.stderr
    with out.open("wb") as o, err.open("wb") as e:
        os.dup2(o.fileno(), 1)
        os.dup2(e.fileno(), 2)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = old
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def run_cli(root: Path, name: str) -> CliRun:
    from pipelines.cli import main

    handler = _Records()
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    out, err = root / f"{name}.stdout", root / f"{name}.stderr"
    started = time.perf_counter()
    code: int | str
    try:
        with captured(out, err), deadline(RUN_TIMEOUT_S):
            try:
                code = main(["run", "--as-of", AS_OF])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else str(exc.code)
            except Exception as exc:
                code = f"raised {type(exc).__name__}"
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(level)
    text = "\n".join([out.read_text(errors="replace"), err.read_text(errors="replace"), _log_text(handler.records)])
    return CliRun(code, time.perf_counter() - started, text)


def published_digests(path: Path) -> dict[str, tuple[int, str]]:
    from .test_crash_safety import RANDOM_IDS, RUN_IDS, WALL_CLOCK, table_digests

    if not path.exists():
        return {}
    return table_digests(path, RUN_IDS | WALL_CLOCK | RANDOM_IDS | {"code_version", "manifest_id", "publish_id"})


@dataclass
class E2E:
    root: Path
    settings: Settings
    cases: list[Case]
    home: Path
    first: CliRun
    second: CliRun
    published_after_first: dict[str, tuple[int, str]]
    published_after_second: dict[str, tuple[int, str]]
    ledger_after_first: bytes
    ledger_after_second: bytes


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    root = tmp_path_factory.mktemp("hostile_e2e")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="hostile-e2e-key")
    settings.inbox.mkdir(parents=True)
    cases = e2e_cases(SEED)
    materialise(cases, settings.raw_dir, root / "outside")
    home = instance_home(root / "dagster_home")
    mp = pytest.MonkeyPatch()
    for key, value in (("UNION_RAW_DIR", settings.raw_dir), ("UNION_DATA_DIR", settings.data_dir),
                       ("DAGSTER_HOME", home), ("UNION_PII_KEY", settings.pii_key), ("UNION_LOG_LEVEL", "INFO")):
        mp.setenv(key, str(value))
    try:
        first = run_cli(root, "run1")
        after_first = published_digests(settings.published_path)
        ledger_first = settings.ledger_path.read_bytes() if settings.ledger_path.exists() else b""
        second = run_cli(root, "run2")
        yield E2E(root, settings, cases, home, first, second, after_first,
                  published_digests(settings.published_path), ledger_first,
                  settings.ledger_path.read_bytes() if settings.ledger_path.exists() else b"")
    finally:
        mp.undo()


@pytest.mark.slow  # two whole-pipeline runs: several minutes
def test_e2e_first_run_publishes(e2e: E2E) -> None:
    tail = "\n".join(line for line in e2e.first.output.splitlines() if "NOT PUBLISHED" in line or "failed" in line)
    assert e2e.first.code == 0, f"run 1 exit {e2e.first.code} after {e2e.first.seconds:.0f} s\n{tail[-3000:]}"
    assert e2e.settings.published_path.exists()


@pytest.mark.slow  # two whole-pipeline runs: several minutes
def test_e2e_row_accounting_holds_in_a_real_run(e2e: E2E) -> None:
    violations = check_ingestion(e2e.settings, e2e.cases, log_text=e2e.first.output)
    assert not violations, report(violations, e2e.cases, "e2e")


def _published_hits(path: Path, planted: set[str]) -> list[str]:
    import duckdb

    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("select schema_name, table_name, column_name from duckdb_columns() "
                              "where database_name = current_database() order by all").fetchall()
        for schema, table, column in columns:
            values = con.execute(f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" '
                                 f'where "{column}" is not null').fetchall()
            n = find_planted("\n".join(v for (v,) in values), planted)
            if n:
                hits.append(f"published {schema}.{table}.{column}: {n} planted value(s)")
    return hits


@pytest.mark.slow  # two whole-pipeline runs: several minutes
def test_e2e_no_personal_value_leaks_anywhere(e2e: E2E) -> None:
    planted = planted_forms(e2e.cases)
    assert len(planted) > 100
    hits: list[str] = []
    if e2e.settings.published_path.exists():
        hits += _published_hits(e2e.settings.published_path, planted)
    else:
        hits.append("nothing was published to check")
    outbox = e2e.settings.outbox_path
    if outbox.exists() and (n := find_planted(outbox.read_text(errors="replace"), planted)):
        hits.append(f"outbox: {n} planted value(s)")
    for run in (e2e.first, e2e.second):
        if n := find_planted(run.output, planted):
            hits.append(f"stdout/stderr/log records of a run: {n} planted value(s)")
    if n := find_planted(instance_text(e2e.home), planted):
        hits.append(f"Dagster event log: {n} planted value(s)")
    assert not hits, "\n".join(hits)


@pytest.mark.slow  # two whole-pipeline runs: several minutes
def test_e2e_receipts_hold_only_their_streets_rows(e2e: E2E) -> None:
    import json

    folders = token_folders(e2e.cases)
    problems: list[str] = []
    receipts = [p for p in e2e.settings.receipts_dir.glob("*/*.json") if not p.parent.name.startswith("_")]
    assert receipts, "no receipt was written"
    for path in receipts:
        street = path.parent.name
        text = path.read_text(encoding="utf-8")
        head = json.loads(text)
        ref = f"receipts/{street}/{head.get('dataset')}#{str(head.get('ledger_seq'))}"
        if head.get("street_code") != street:
            problems.append(f"{ref}: a receipt of street {head.get('street_code')}")
        if not str((head.get("file") or {}).get("path", "")).startswith(f"inbox/{street}/"):
            problems.append(f"{ref}: about a file outside the street's folder")
        for token in sorted(set(TOKEN.findall(text))):
            if street not in folders.get(token, set()):
                problems.append(f"{ref}: holds rows of a file that is not in {street}'s folder (token {token})")
    assert not problems, "\n".join(problems[:MAX_LINES])


@pytest.mark.slow  # two whole-pipeline runs: several minutes
def test_e2e_second_run_with_nothing_new_changes_nothing(e2e: E2E) -> None:
    assert e2e.second.code == 0, f"run 2 exit {e2e.second.code}"
    assert e2e.ledger_after_second == e2e.ledger_after_first, "the ledger changed"
    compared = [t for t in e2e.published_after_first if t.startswith(("indicators.indicator_values",
                                                                      "audit.ingestion_ledger", "marts."))]
    assert "indicators.indicator_values" in compared, "run 1 published no indicator values to compare"
    changed = [t for t in compared if e2e.published_after_second.get(t) != e2e.published_after_first[t]]
    assert not changed, f"changed by a run with nothing new: {changed}"
