"""A full disk is recognised however it surfaces, and the space reserve is kept."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from pipelines import disk


def _wrapped(inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("step failed") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("inner", [
    OSError(errno.ENOSPC, "No space left on device"),
    sqlite3.OperationalError("database or disk is full"),
    RuntimeError('IO Error: Could not write file "x.duckdb": No space left on device'),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
])
def test_a_full_disk_is_recognised_through_the_cause_chain(tmp_path: Path, inner: BaseException) -> None:
    assert disk.is_disk_full(_wrapped(inner), tmp_path)
    assert disk.is_disk_full(str(inner), tmp_path)


def test_sqlite_disk_io_error_is_a_full_disk_only_when_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = _wrapped(sqlite3.OperationalError("disk I/O error"))
    assert not disk.is_disk_full(error, tmp_path)  # this disk has room: something else
    monkeypatch.setattr(disk, "free_bytes", lambda path: 4096)
    assert disk.is_disk_full(error, tmp_path)
    assert not disk.is_disk_full(_wrapped(ValueError("bad value")), tmp_path)


def test_the_reserve_is_made_once_and_given_up_once(tmp_path: Path) -> None:
    assert disk.ensure_reserve(tmp_path, size=1 << 20)
    path = disk.reserve_path(tmp_path)
    assert path.stat().st_size == 1 << 20 and not list(tmp_path.glob("*.partial"))
    mtime = path.stat().st_mtime_ns
    assert disk.ensure_reserve(tmp_path, size=1 << 20) and path.stat().st_mtime_ns == mtime
    assert disk.release_reserve(tmp_path) and not path.exists()
    assert not disk.release_reserve(tmp_path)


def test_the_line_names_the_disk_and_its_space(tmp_path: Path) -> None:
    line = disk.disk_full_line(tmp_path / "not-yet")
    assert str(tmp_path / "not-yet") in line and "MB free of" in line and "run again" in line


def test_runs_starting_together_each_make_the_reserve_without_tripping_on_the_other(tmp_path: Path) -> None:
    """Two ``union-warehouse run`` started together both make the reserve before the
    pipeline lock: neither may rename the other's half-made file away (it did: one run
    died with FileNotFoundError). Threads here, each making it again and again."""
    import threading

    data = tmp_path / "data"
    errors: list[BaseException] = []

    def make(times: int) -> None:
        try:
            for _ in range(times):
                disk.reserve_path(data).unlink(missing_ok=True)
                assert disk.ensure_reserve(data, size=1 << 16)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(40,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert disk.ensure_reserve(data, size=1 << 16) and disk.reserve_path(data).stat().st_size == 1 << 16
    assert list(data.glob("*.partial")) == []


def test_a_partial_reserve_left_by_a_killed_run_is_removed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    stale = data / "space-reserve.999999999-deadbeef.partial"  # no such pid
    stale.write_bytes(b"\0" * 1024)
    mine = data / f"space-reserve.{os.getpid()}-cafecafe.partial"  # a live process's: kept
    mine.write_bytes(b"\0")
    assert disk.ensure_reserve(data, size=1 << 16)
    assert not stale.exists() and mine.exists()
