"""Fault injection over the state the pipeline keeps (#15): each file damaged or deleted
in turn, then a plain ``union-warehouse run`` (a real process) with nothing new to do.

For each, the run either heals the file and publishes the same tables as a run on
undamaged state, sending no notification twice; or stops with exit status 1 and one
line naming the file and the fix. Which, for each file, is the table in
``docs/operations.md``; this module is what keeps that table true.

Also here: a full disk (a real tmpfs, filled) ends in one clear line and the operators'
alert, publishes nothing half-way, and the run after space is freed publishes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.ingest.ledger import read_ledger

from .test_crash_safety import (
    RANDOM_IDS,
    RUN_IDS,
    WALL_CLOCK,
    CliRun,
    clean_district_run,
    cli_settings,
    copy_of_clean_run,
    fresh_copy,
    table_digests,
)

pytestmark = pytest.mark.slow

# Tables that gain rows with every run, damaged state or not: compared by what each run adds.
PER_RUN = {"audit.publish_manifest", "alerts.alert_runs"}
EXCLUDE = RUN_IDS | RANDOM_IDS | WALL_CLOCK | {"code_version"}


def published_tables(settings: Settings) -> dict[str, tuple[int, str]]:
    return {k: v for k, v in table_digests(settings.published_path, EXCLUDE).items() if k not in PER_RUN}


def outbox_ids(settings: Settings) -> list[str]:
    """The event id of every outbox line (every line must be whole JSON)."""
    if not settings.outbox_path.exists():
        return []
    return [json.loads(line)["event_id"] for line in settings.outbox_path.read_text(encoding="utf-8").splitlines()]


def truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


@dataclass
class Baseline:
    root: Path
    tables: dict[str, tuple[int, str]]
    outbox: list[str]
    pristine: Path  # data/ as the clean run left it (read only)

    @property
    def settings(self) -> Settings:
        return cli_settings(self.root)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The small district, run once (a copy of the clean run the crash and Spark modules
    read): every run after a fault (nothing new to load) must publish the same tables. (A
    second clean run publishes exactly these: checked when this fixture ran the district
    twice, which cost a minute of every suite.)"""
    root = copy_of_clean_run(tmp_path_factory, "state_faults")
    settings = cli_settings(root)
    assert outbox_ids(settings), "the district should raise alerts"
    # the clean run's own data directory is what the copy started as, and nothing changes it
    pristine = clean_district_run(tmp_path_factory).settings.data_dir
    return Baseline(root, published_tables(settings), outbox_ids(settings), pristine)


def rerun(baseline: Baseline) -> tuple[int, str]:
    """One ``union-warehouse run``: (exit status, what it printed on stdout and stderr)."""
    before = (baseline.root / "cli.stdout").read_bytes() if (baseline.root / "cli.stdout").exists() else b""
    run = CliRun.start(baseline.root)
    code = run.wait()
    out = (baseline.root / "cli.stdout").read_bytes()[len(before):].decode(errors="replace")
    return code, out + run.stderr_path.read_text(errors="replace")


def assert_healed(baseline: Baseline, code: int, said: str) -> None:
    settings = baseline.settings
    assert code == 0, said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    mine = published_tables(settings)
    assert sorted(mine) == sorted(baseline.tables)
    assert {t: mine[t] for t in mine if mine[t] != baseline.tables[t]} == {}
    ids = outbox_ids(settings)
    assert len(ids) == len(set(ids)), "an event was appended to the outbox twice"


def _tear_last_ledger_line(s: Settings) -> None:
    with s.ledger_path.open("ab") as fh:
        fh.write(b'{"seq": 9999, "path": "inbox/110101003/members/x.csv", "sha')


def _landed(s: Settings) -> list[Path]:
    """The landing and quarantine files of the first loaded submission with both."""
    e = next(e for e in read_ledger(s.ledger_path) if e.landing_path and e.quarantine_path)
    return [s.data_dir / e.landing_path, s.data_dir / e.quarantine_path]


def _delete_landed(s: Settings) -> None:
    landing, quarantine = _landed(s)
    landing.unlink()
    truncate_half(quarantine)


def _alert_state(s: Settings) -> None:
    truncate_half(s.alerts_state_path)


def _instance(s: Settings) -> None:
    truncate_half(s.data_dir / "dagster" / "history" / "runs.db")


def _tear_outbox(s: Settings) -> None:
    with s.outbox_path.open("ab") as fh:
        fh.write(b'{"event_id": "torn-by-a-crash", "mess')


@dataclass(frozen=True)
class Fault:
    what: str
    damage: Callable[[Settings], None]
    says: str = ""  # what the run must print about it ('' = nothing in particular)


LEDGER_TORN = Fault("ledger: a torn last line", _tear_last_ledger_line)
LANDING = Fault("landing: a file deleted, a quarantine file truncated", _delete_landed)
WAREHOUSE_TRUNCATED = Fault("working warehouse: truncated", lambda s: truncate_half(s.warehouse_path))
WAREHOUSE_DELETED = Fault("working warehouse: deleted", lambda s: s.warehouse_path.unlink())
ALERTS_TRUNCATED = Fault("alert state: truncated", _alert_state)
ALERTS_DELETED = Fault("alert state: deleted", lambda s: s.alerts_state_path.unlink())
INSTANCE_TRUNCATED = Fault("Dagster instance: runs.db truncated", _instance,
                           "the Dagster instance's storage was damaged")
INSTANCE_DELETED = Fault("Dagster instance: deleted", lambda s: shutil.rmtree(s.data_dir / "dagster"))
PUBLISHED_TRUNCATED = Fault("published warehouse: truncated", lambda s: truncate_half(s.published_path))
PUBLISHED_DELETED = Fault("published warehouse: deleted", lambda s: s.published_path.unlink())
OUTBOX_TORN = Fault("outbox: a torn last line", _tear_outbox)
OUTBOX_DELETED = Fault("outbox: deleted", lambda s: s.outbox_path.unlink())
FAULTS = [LEDGER_TORN, LANDING, WAREHOUSE_TRUNCATED, WAREHOUSE_DELETED, ALERTS_TRUNCATED, ALERTS_DELETED,
          INSTANCE_TRUNCATED, INSTANCE_DELETED, PUBLISHED_TRUNCATED, PUBLISHED_DELETED, OUTBOX_TORN,
          OUTBOX_DELETED]

# Each fault alone takes a run of its own (about 40 s each): UNION_FAULT_CAMPAIGN=each
# does that. By default the faults go in four rounds, every fault in exactly one, each
# round damaging several files at once (a harder case than one at a time). The alert
# state is rebuilt from the published warehouse, so the two are never damaged together
# (losing both loses the alert history: docs/operations.md).
ROUNDS = [
    [LEDGER_TORN, LANDING, WAREHOUSE_TRUNCATED, INSTANCE_TRUNCATED, PUBLISHED_TRUNCATED, OUTBOX_TORN],
    [WAREHOUSE_DELETED, INSTANCE_DELETED, PUBLISHED_DELETED, OUTBOX_DELETED],
    [ALERTS_TRUNCATED],
    [ALERTS_DELETED],
]
CAMPAIGN = [[f] for f in FAULTS] if os.environ.get("UNION_FAULT_CAMPAIGN") == "each" else ROUNDS
assert sorted(f.what for r in ROUNDS for f in r) == sorted(f.what for f in FAULTS)


@pytest.mark.parametrize("faults", CAMPAIGN, ids=[" + ".join(f.what for f in r) for r in CAMPAIGN])
def test_damaged_state_is_healed_by_the_next_run(baseline: Baseline, faults: list[Fault]) -> None:
    outbox_before = outbox_ids(baseline.settings)
    for fault in faults:
        fault.damage(baseline.settings)
    code, said = rerun(baseline)
    assert_healed(baseline, code, said)
    for fault in faults:
        assert fault.says in said, (fault.what, said[-3000:])
    if OUTBOX_DELETED in faults:
        # the outbox is a channel a consumer may take away: what it held was delivered,
        # a new file gets only news (here: none)
        assert outbox_ids(baseline.settings) == []
    else:
        # a torn fragment is cut; nothing is sent again
        assert outbox_ids(baseline.settings) == [i for i in outbox_before if i != "torn-by-a-crash"]


# --- a full disk ---------------------------------------------------------------------------


def _mount_tmpfs(path: Path, mb: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


def _fill(path: Path) -> Path:
    """Fill the file system holding ``path`` to the last byte; the ballast file."""
    ballast = path / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return ballast


def _webhook_events(server) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return [json.loads(req.get_data()) for req, _ in server.log]


def test_a_full_disk_ends_in_one_line_and_the_operators_alert(
    baseline: Baseline, tmp_path_factory: pytest.TempPathFactory, httpserver,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """#15.6 on a real file system: the published district's data directory on a 200 MB
    tmpfs, filled to the last byte while a new file waits. The run stops with NOT
    PUBLISHED and one line naming the disk and its free space (no traceback), the
    operators' alert reaches the webhook, the published warehouse is the previous one
    byte for byte; once space is freed, a plain rerun loads the file, publishes and
    resolves the alert."""
    root = fresh_copy(tmp_path_factory, "full_disk")
    settings = cli_settings(root)
    if not _mount_tmpfs(settings.data_dir, 200):
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    httpserver.expect_request("/hook").respond_with_data("ok")
    monkeypatch.setenv("UNION_ALERT_WEBHOOK_URL", httpserver.url_for("/hook"))
    monkeypatch.setenv("UNION_ALERT_WEBHOOK_SECRET", "s3cret")
    try:
        shutil.copytree(baseline.pristine, settings.data_dir, symlinks=True, dirs_exist_ok=True)
        published = settings.published_path.read_bytes()
        new = settings.inbox / "110101003" / "dispute_cases" / "late.csv"
        new.write_text("案件编号,用人单位,受理日期,争议类型,涉及人数,案件状态\nLATE-1,甲公司,2015-12-30,加班,2,受理\n",
                       encoding="utf-8")
        ballast = _fill(settings.data_dir)
        assert shutil.disk_usage(settings.data_dir).free < 1 << 16

        run = CliRun.start(root)
        code = run.wait()
        said = (root / "cli.stdout").read_text(errors="replace") + run.tail(20000)
        assert code == 1, said[-3000:]
        assert "Traceback" not in run.tail(20000), run.tail()
        assert "NOT PUBLISHED" in said and f"the disk holding {settings.data_dir} is full" in said, said[-3000:]
        assert settings.published_path.read_bytes() == published
        failed = [e for e in _webhook_events(httpserver) if e["rule_code"] == "OPS_RUN_FAILED"]
        assert [e["event_type"] for e in failed] == ["opened"], failed
        assert "disk full" in json.dumps(failed[0], ensure_ascii=False)  # the evidence says why

        ballast.unlink()
        run = CliRun.start(root)
        assert run.wait() == 0, run.tail()
        assert any(e.path.endswith("late.csv") and e.status == "loaded" for e in read_ledger(settings.ledger_path))
        failed = [e for e in _webhook_events(httpserver) if e["rule_code"] == "OPS_RUN_FAILED"]
        assert [e["event_type"] for e in failed] == ["opened", "resolved"], failed
    finally:
        subprocess.run(["umount", "-l", str(settings.data_dir)], check=False)
