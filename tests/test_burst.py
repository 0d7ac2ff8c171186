"""A burst of files and an oversized one: the backlog is worked through in bounded
batches, every file is ledgered exactly once, and nothing crashes.

The batches are the inbox sensor's own plan (:func:`plan_requests` with the sensor's
limits); each is processed as the sensor's run would process it,
``ingest_pending(settings, paths=batch)``, without the Dagster run around it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from pipelines.config import DEFAULT_MAX_FILE_BYTES, Settings
from pipelines.contract.streets import STREETS
from pipelines.ingest import process as process_mod
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.ingest.process import ingest_pending, pending
from pipelines.ingest.reconcile import reconcile
from pipelines.orchestration.sensors import (
    MAX_FILES_PER_RUN,
    MAX_RUNS_PER_TICK,
    SETTLE_SECONDS,
    plan_requests,
)

from .conftest import drop

BURST = 1_000
CASES_HEADER = "案件编号,街道代码,用人单位,受理日期,争议类型,涉及人数,案件状态,结案日期\n"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _drop_burst(settings: Settings, n: int) -> set[str]:
    """``n`` small, distinct dispute-case files spread over every street (one bad row in
    every tenth), all old enough to have settled."""
    codes = [s.code for s in STREETS]
    settled = time.time() - 10 * SETTLE_SECONDS
    paths = set()
    for i in range(n):
        street = codes[i % len(codes)]
        rows = [f"B{i:04d}-1,,企业{i},2015-07-01,工资报酬,{1 + i % 5},受理,"]
        if i % 10 == 0:
            rows.append(f"B{i:04d}-2,,企业{i},2015-07-02,不存在的类型,1,受理,")  # quarantined
        p = drop(settings, street, "dispute_cases", f"burst_{i:04d}.csv", CASES_HEADER + "\n".join(rows) + "\n")
        os.utime(p, (settled, settled))
        paths.add(p.relative_to(settings.raw_dir).as_posix())
    return paths


def test_a_burst_of_a_thousand_files_is_ledgered_once_each_in_bounded_batches(settings: Settings) -> None:
    dropped = _drop_burst(settings, BURST)
    cursor: dict[str, str] = {}
    batches: list[int] = []
    rss_after: list[int] = []
    ticks = 0
    while True:
        plan = plan_requests(pending(settings), cursor, time.time_ns())
        cursor = plan.cursor
        if not plan.batches:
            break
        ticks += 1
        assert len(plan.batches) <= MAX_RUNS_PER_TICK
        for batch in plan.batches:
            assert 0 < len(batch) <= MAX_FILES_PER_RUN
            result = ingest_pending(settings, paths=[f.path for f in batch], run_id=f"burst-{len(batches)}")
            # a run does its batch, nothing more, and nothing of it fails
            assert sorted(e.path for e in result.entries) == sorted(f.path for f in batch)
            assert result.errors == []
            batches.append(len(batch))
            rss_after.append(_rss_bytes())

    assert sum(batches) == BURST and ticks == -(-BURST // (MAX_FILES_PER_RUN * MAX_RUNS_PER_TICK))
    entries = read_ledger(settings.ledger_path)
    counts = Counter(e.path for e in entries)
    assert set(counts) == dropped and set(counts.values()) == {1}  # every file, exactly once
    assert {e.status for e in entries} == {Status.LOADED}
    assert sorted(e.seq for e in entries) == list(range(1, BURST + 1))
    assert sum(e.rows_quarantined for e in entries) == BURST // 10
    assert reconcile(settings).ok

    # the backlog is gone: nothing pending, a new plan requests nothing and forgets the cursor
    assert pending(settings) == []
    again = plan_requests(pending(settings), cursor, time.time_ns())
    assert again.batches == [] and again.waiting == 0 and again.cursor == {}
    assert ingest_pending(settings).entries == []

    # memory is the batch's, not the backlog's: the last batches cost no more than the first
    growth = max(rss_after) - rss_after[0]
    print(f"{len(batches)} batches {batches}; RSS after each (MiB): {[r // 1024**2 for r in rss_after]}")
    assert growth < 150 * 1024**2, f"RSS grew by {growth / 1024**2:.0f} MiB over {len(batches)} batches"


def test_a_file_over_two_gigabytes_is_rejected_by_the_size_limit(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default limit (2 GiB) on a sparse file one byte over it: rejected with
    ``file.too_large`` without being read (only hashed, in 8 MiB pieces), and the file
    beside it in the same batch loads."""
    assert settings.max_file_bytes == DEFAULT_MAX_FILE_BYTES
    street = STREETS[0].code
    big = settings.inbox / street / "members" / "members_2015-12-31.csv"
    big.parent.mkdir(parents=True)
    with big.open("wb") as fh:
        fh.truncate(DEFAULT_MAX_FILE_BYTES + 1)  # sparse: no disk, no memory
    small = drop(settings, street, "dispute_cases", "ok.csv", CASES_HEADER + "C1,,甲公司,2015-07-01,加班,2,受理,\n")
    real_read = process_mod.read_submission

    def read_only_small(path: Path, dataset):  # type: ignore[no-untyped-def]
        assert path == small, f"read a file over the size limit: {path}"
        return real_read(path, dataset)

    monkeypatch.setattr(process_mod, "read_submission", read_only_small)
    result = ingest_pending(settings)
    by_name = {Path(e.path).name: e for e in result.entries}
    assert result.errors == []
    assert (by_name[big.name].status, by_name[big.name].error_code) == (Status.REJECTED, "file.too_large")
    assert by_name[big.name].bytes == DEFAULT_MAX_FILE_BYTES + 1 and by_name[big.name].rows_read == 0
    assert (by_name[small.name].status, by_name[small.name].rows_loaded) == (Status.LOADED, 1)
    assert not list(settings.landing_dir.glob("members/1*/*.parquet"))
    assert pending(settings) == []  # rejected once, not retried
