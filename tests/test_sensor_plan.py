from pipelines.ingest.dropzone import FileState, path_digest
from pipelines.orchestration.sensors import plan_requests, run_key

NOW = 10_000 * 10**9


def _files(n: int, mtime_ns: int = 1) -> list[FileState]:
    return [FileState(mtime_ns, f"inbox/110101001/members/f{i:04d}.csv", 10) for i in range(n)]


def test_a_burst_becomes_few_batched_runs() -> None:
    plan = plan_requests(_files(1000), {}, NOW, max_files=200, max_runs=5)
    assert [len(b) for b in plan.batches] == [200] * 5
    assert plan.waiting == 0
    assert len(plan.cursor) == 1000


def test_backlog_over_the_cap_waits_for_the_next_tick_without_repeats() -> None:
    files = _files(30)
    first = plan_requests(files, {}, NOW, max_files=10, max_runs=2)
    assert sum(len(b) for b in first.batches) == 20 and first.waiting == 10
    second = plan_requests(files, first.cursor, NOW, max_files=10, max_runs=2)
    got_first = {f.path for b in first.batches for f in b}
    got_second = {f.path for b in second.batches for f in b}
    assert len(got_second) == 10 and not got_first & got_second


def test_a_restarted_sensor_neither_skips_nor_repeats() -> None:
    files = _files(5)
    plan = plan_requests(files, {}, NOW)
    # restart with the saved cursor: files still pending (run not finished) are not re-requested
    again = plan_requests(files, plan.cursor, NOW)
    assert again.batches == []
    # once ledgered (no longer pending) they leave the cursor; a new file is requested
    new = FileState(2, "inbox/110101001/members/new.csv", 10)
    later = plan_requests([new], again.cursor, NOW)
    assert [f.path for b in later.batches for f in b] == [new.path]
    assert set(later.cursor) == {path_digest(new.path)}


def test_a_file_replaced_by_new_bytes_is_requested_again() -> None:
    f = _files(1)[0]
    plan = plan_requests([f], {}, NOW)
    changed = FileState(5, f.path, 99)
    again = plan_requests([changed], plan.cursor, NOW)
    assert [x.path for b in again.batches for x in b] == [f.path]


def test_files_still_being_written_wait() -> None:
    recent = FileState(NOW - 10**8, "inbox/110101001/members/busy.csv", 10)
    plan = plan_requests([recent], {}, NOW, settle_s=2)
    assert plan.batches == [] and plan.waiting == 1 and plan.cursor == {}


def test_run_key_is_stable_for_the_same_batch() -> None:
    assert run_key(_files(3)) == run_key(_files(3))
    assert run_key(_files(3)) != run_key(_files(4))


def test_the_sensor_requests_a_file_rewritten_with_its_old_size_and_mtime(settings) -> None:  # type: ignore[no-untyped-def]
    """``cp -p`` / ``rsync -a`` / unzip of a corrected file keep its size and mtime: its
    ctime (or inode) changes, so the sensor sees it, whether or not the earlier run's
    request is still in its cursor."""
    import os
    import time

    from pipelines.ingest.process import ingest_pending, pending

    from .conftest import drop

    header = "案件编号,街道代码,用人单位,受理日期,争议类型,涉及人数,案件状态,结案日期\n"
    p = drop(settings, "110101001", "dispute_cases", "a.csv", header + "C1,,甲公司,2015-07-01,工资报酬,3,受理,\n")
    old = 1_420_000_000 * 10**9
    os.utime(p, ns=(old, old))
    first = plan_requests(pending(settings), {}, time.time_ns())
    [[f]] = first.batches
    ingest_pending(settings, paths=[f.path])
    idle = plan_requests(pending(settings), first.cursor, time.time_ns())
    assert idle.batches == [] and idle.cursor == {}
    p.write_text(header + "C1,,甲公司,2015-07-01,工资报酬,4,受理,\n", encoding="utf-8")
    os.utime(p, ns=(old, old))
    [changed] = pending(settings)
    assert (changed.path, changed.size, changed.mtime_ns) == (f.path, f.size, f.mtime_ns)
    assert changed.token() != f.token()
    for cursor in (idle.cursor, first.cursor):  # the old request forgotten, or still in flight
        plan = plan_requests(pending(settings), cursor, time.time_ns())
        assert [x.path for b in plan.batches for x in b] == [f.path]
        assert plan.cursor[path_digest(f.path)] == changed.token()
    assert run_key([changed]) != run_key([f])
    [entry] = ingest_pending(settings, paths=[f.path]).entries
    assert entry.status == "loaded" and entry.path == f.path
