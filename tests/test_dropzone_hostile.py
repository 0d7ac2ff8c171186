"""The drop zone as streets (and their tools) really leave it: file names that are not
UTF-8, links, FIFOs, files moved out of the wrong folder, identical bytes in another
street's folder, corrections copied over with the old modification time.

Real files on disk, through :func:`pipelines.ingest.process.ingest_pending`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.contract import get_dataset
from pipelines.feedback.receipts import read_receipt, receipt_paths, write_receipts
from pipelines.ingest import dropzone
from pipelines.ingest import process as process_mod
from pipelines.ingest.dropzone import (
    STATE_CACHE_NAME,
    NotRegularFile,
    hash_regular,
    link_digest,
    list_inbox,
    resolve,
)
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.ingest.process import ingest_pending, pending
from pipelines.ingest.reconcile import reconcile

from .conftest import drop
from .helpers import deadline
from .test_validate import valid_row

S1, S2 = "110101001", "110101002"
OLD_NS = 1_420_000_000 * 10**9  # 2014-12-31: an mtime that unzip / cp -p would keep
CASES_HEADER = "案件编号,街道代码,用人单位,受理日期,争议类型,涉及人数,案件状态,结案日期\n"


def cases(*rows: str) -> str:
    return CASES_HEADER + "".join(r + "\n" for r in rows)


ROW1 = "C1,,甲公司,2015-07-01,工资报酬,3,受理,"
ROW2 = "C2,,乙公司,2015-07-02,加班,2,受理,"


def drop_bytes(settings: Settings, street: str | bytes, dataset: str | bytes, name: bytes,
               content: str | bytes) -> bytes:
    """A file whose folder or file name is raw bytes, as unzip leaves a GBK-named zip."""
    folder = os.path.join(os.fsencode(settings.inbox), os.fsencode(street), os.fsencode(dataset))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(content.encode() if isinstance(content, str) else content)
    return path


def by_path(entries) -> dict:  # type: ignore[no-untyped-def]
    return {e.path: e for e in entries}


def landed(settings: Settings, dataset: str, street: str) -> pl.DataFrame:
    files = sorted((settings.landing_dir / dataset / street).glob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame()


# --- 1. names that are not UTF-8 ---------------------------------------------------------------


def test_a_gbk_file_name_is_ingested_and_the_ledger_path_maps_back_to_it(settings: Settings) -> None:
    raw = drop_bytes(settings, S1, "dispute_cases", "张三会员.csv".encode("gbk"), cases(ROW1))
    os.utime(raw, ns=(OLD_NS, OLD_NS))  # first in line: before the fix it stopped the batch
    later = drop(settings, S2, "dispute_cases", "later.csv", cases(ROW2))
    result = ingest_pending(settings)
    assert result.errors == []
    entries = by_path(result.entries)
    gbk = entries[f"inbox/{S1}/dispute_cases/张三会员.csv"]
    assert (gbk.status, gbk.rows_loaded, gbk.street_code) == (Status.LOADED, 1, S1)
    assert gbk.sha256 == hashlib.sha256(Path(os.fsdecode(raw)).read_bytes()).hexdigest()
    assert entries[f"inbox/{S2}/dispute_cases/later.csv"].status == Status.LOADED
    text = settings.ledger_path.read_bytes().decode("utf-8")  # valid UTF-8 JSON lines
    assert [json.loads(line)["path"] for line in text.splitlines()][0] == gbk.path
    assert resolve(settings.raw_dir, gbk.path) == Path(os.fsdecode(raw))
    assert resolve(settings.raw_dir, gbk.path.replace("张三", "李四")) is None
    assert landed(settings, "dispute_cases", S1)["case_id"].to_list() == ["C1"]
    assert pending(settings) == [] and ingest_pending(settings).entries == []
    assert later.exists() and reconcile(settings).ok


def test_a_name_that_is_not_gb18030_either_is_escaped_reversibly(settings: Settings) -> None:
    raw = drop_bytes(settings, S1, "dispute_cases", b"\xff\xfe\x80-export.csv", cases(ROW1))
    [e] = ingest_pending(settings).entries
    assert e.path == f"inbox/{S1}/dispute_cases/\\xff\\xfe\\x80-export.csv"
    assert e.status == Status.LOADED
    assert resolve(settings.raw_dir, e.path) == Path(os.fsdecode(raw))


def test_a_gbk_name_beside_the_same_name_in_utf8_takes_the_escaped_form(settings: Settings) -> None:
    utf8 = drop(settings, S1, "dispute_cases", "张三.csv", cases(ROW1))
    gbk = drop_bytes(settings, S1, "dispute_cases", "张三.csv".encode("gbk"), cases(ROW2))
    result = ingest_pending(settings)
    entries = by_path(result.entries)
    assert set(entries) == {f"inbox/{S1}/dispute_cases/张三.csv", f"inbox/{S1}/dispute_cases/\\xd5\\xc5\\xc8\\xfd.csv"}
    for path, real in ((f"inbox/{S1}/dispute_cases/张三.csv", utf8),
                       (f"inbox/{S1}/dispute_cases/\\xd5\\xc5\\xc8\\xfd.csv", Path(os.fsdecode(gbk)))):
        assert resolve(settings.raw_dir, path) == real
        assert entries[path].sha256 == hashlib.sha256(real.read_bytes()).hexdigest()
        assert entries[path].status == Status.LOADED


def test_folders_that_are_not_utf8_name_no_street_or_dataset_and_crash_nothing(settings: Settings) -> None:
    drop_bytes(settings, "东城".encode("gbk"), "dispute_cases", b"a.csv", cases(ROW1))
    drop_bytes(settings, S1, "争议".encode("gbk"), b"b.csv", cases(ROW1))
    drop(settings, S1, "dispute_cases", "c.csv", cases(ROW2))
    result = ingest_pending(settings)
    assert result.errors == []
    got = {e.path: (e.status, e.error_code) for e in result.entries}
    assert got == {
        "inbox/东城/dispute_cases/a.csv": (Status.REJECTED, "file.unknown_street"),
        f"inbox/{S1}/争议/b.csv": (Status.REJECTED, "file.unknown_dataset"),
        f"inbox/{S1}/dispute_cases/c.csv": (Status.LOADED, None),
    }


# --- 1b. dataset folders by their Chinese names --------------------------------------------------

MEMBERS = get_dataset("members")


def members_csv(*ns: int) -> str:
    """A members list of valid rows (the street code left blank: the folder's street),
    with the template's Chinese headers."""
    rows = [valid_row(MEMBERS, n) | {"member_id": f"M{n}", "street_code": ""} for n in ns]
    lines = [",".join(c.zh for c in MEMBERS.columns)]
    lines += [",".join(r[c.name] or "" for c in MEMBERS.columns) for r in rows]
    return "\n".join(lines) + "\n"


def test_a_file_in_the_chinese_named_folder_is_ingested_as_that_dataset(settings: Settings) -> None:
    drop(settings, S1, "会员信息", "x.csv", members_csv(0, 1))
    drop(settings, S1, "平台派单", "t.csv", "工单编号,派单时间,诉求类别,办理时限\nT1,2015-07-01 09:00,欠薪,2015-07-03 09:00\n")
    result = ingest_pending(settings)
    assert result.errors == []
    entries = by_path(result.entries)
    member = entries[f"inbox/{S1}/会员信息/x.csv"]  # the path as the clerk made it
    assert (member.status, member.dataset, member.street_code, member.rows_loaded) == (
        Status.LOADED, "members", S1, 2)
    assert member.landing_path == f"landing/members/{S1}/{member.sha256}.parquet"
    assert landed(settings, "members", S1)["member_id"].to_list() == ["M0", "M1"]
    ticket = entries[f"inbox/{S1}/平台派单/t.csv"]
    assert (ticket.status, ticket.dataset, ticket.rows_loaded) == (Status.LOADED, "hotline_tickets", 1)
    # the ledger file and the receipt record the dataset by its one name
    [ledgered] = [e for e in read_ledger(settings.ledger_path) if e.path == member.path]
    assert ledgered.dataset == "members"
    write_receipts(settings)
    receipt = read_receipt(receipt_paths(settings, member).json)
    assert receipt["dataset"] == "members"
    assert pending(settings) == [] and reconcile(settings).ok


@pytest.mark.parametrize(("first", "second"), [("members", "会员信息"), ("会员信息", "members")])
def test_the_same_bytes_in_the_english_and_the_chinese_folder_are_a_duplicate(
    settings: Settings, first: str, second: str
) -> None:
    body = members_csv(0)
    drop(settings, S1, first, "a.csv", body)
    [original] = ingest_pending(settings).entries
    drop(settings, S1, second, "b.csv", body)
    [copy] = ingest_pending(settings).entries
    assert (original.status, original.dataset) == (Status.LOADED, "members")
    assert (copy.status, copy.error_code, copy.dataset) == (Status.DUPLICATE, "file.duplicate", "members")
    assert copy.duplicate_of == original.path == f"inbox/{S1}/{first}/a.csv"
    assert landed(settings, "members", S1)["member_id"].to_list() == ["M0"]  # landed once
    assert reconcile(settings).ok


def test_a_gbk_named_chinese_folder_is_that_dataset_and_an_undecodable_one_is_unknown(
    settings: Settings,
) -> None:
    """Folder names that are not UTF-8 are read as today (GB18030 when the bytes round-trip,
    else escaped): the decoded name 会员信息 is the members folder; an escaped one, or a
    GBK twin beside the UTF-8 folder (it takes the escaped form), names no dataset."""
    gbk = drop_bytes(settings, S1, "会员信息".encode("gbk"), b"a.csv", members_csv(0))
    drop_bytes(settings, S2, b"\xff\xfe", b"b.csv", members_csv(1))
    drop(settings, S2, "会员信息", "c.csv", members_csv(2))
    twin = drop_bytes(settings, S2, "会员信息".encode("gbk"), b"d.csv", members_csv(3))
    escaped = "会员信息".encode("gbk").decode("utf-8", "backslashreplace")
    result = ingest_pending(settings)
    assert result.errors == []
    got = {e.path: (e.status, e.error_code, e.dataset) for e in result.entries}
    assert got == {
        f"inbox/{S1}/会员信息/a.csv": (Status.LOADED, None, "members"),
        f"inbox/{S2}/\\xff\\xfe/b.csv": (Status.REJECTED, "file.unknown_dataset", None),
        f"inbox/{S2}/会员信息/c.csv": (Status.LOADED, None, "members"),
        f"inbox/{S2}/{escaped}/d.csv": (Status.REJECTED, "file.unknown_dataset", None),
    }
    assert resolve(settings.raw_dir, f"inbox/{S1}/会员信息/a.csv") == Path(os.fsdecode(gbk))
    assert resolve(settings.raw_dir, next(p for p in got if p.endswith("d.csv"))) == Path(os.fsdecode(twin))


def test_a_failing_ledger_append_leaves_that_file_pending_and_the_batch_goes_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(settings, S1, "dispute_cases", "a.csv", cases(ROW1))
    drop(settings, S2, "dispute_cases", "b.csv", cases(ROW2))
    real = process_mod.append_entries

    def failing_for_a(path, entries):  # type: ignore[no-untyped-def]
        entries = list(entries)
        if any(e.path.endswith("/a.csv") for e in entries):
            raise OSError("disk full")
        real(path, entries)

    monkeypatch.setattr(process_mod, "append_entries", failing_for_a)
    result = ingest_pending(settings)
    assert [e.path for e in result.entries] == [f"inbox/{S2}/dispute_cases/b.csv"]
    assert result.errors == [(f"inbox/{S1}/dispute_cases/a.csv", "OSError")]
    assert [f.path for f in pending(settings)] == [f"inbox/{S1}/dispute_cases/a.csv"]
    monkeypatch.setattr(process_mod, "append_entries", real)
    [e] = ingest_pending(settings).entries
    assert e.path == f"inbox/{S1}/dispute_cases/a.csv" and e.status == Status.LOADED
    assert reconcile(settings).ok


def test_a_non_utf8_name_is_never_named_in_the_log(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    drop_bytes(settings, S1, "dispute_cases", "王小明.csv".encode("gbk"), cases(ROW1))
    with caplog.at_level(logging.INFO):
        [e] = ingest_pending(settings).entries
    assert e.path.endswith("王小明.csv")
    assert f"ingested file={e.file_ref} " in caplog.text
    assert "王小明" not in caplog.text and "\\x" not in caplog.text


# --- 2. links and special files ----------------------------------------------------------------


def _spy_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], list[str]]:
    """What the reader was given, and every path the process opened with ``os.open``."""
    reads: list[Path] = []
    opened: list[str] = []
    real_read, real_open = process_mod.read_submission, os.open

    def read(path, dataset):  # type: ignore[no-untyped-def]
        reads.append(path)
        return real_read(path, dataset)

    def spy_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.path.realpath(os.fsdecode(path)) if isinstance(path, str | bytes | Path) else str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(process_mod, "read_submission", read)
    monkeypatch.setattr(os, "open", spy_open)
    return reads, opened


def test_a_link_to_another_streets_file_is_rejected_unread_and_that_file_loads_for_its_street(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = drop(settings, S2, "dispute_cases", "own.csv", cases(ROW1))
    link = settings.inbox / S1 / "dispute_cases" / "borrowed.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(own)
    reads, _ = _spy_reads(monkeypatch)
    result = ingest_pending(settings)
    assert result.errors == []
    entries = by_path(result.entries)
    rejected = entries[f"inbox/{S1}/dispute_cases/borrowed.csv"]
    assert (rejected.status, rejected.error_code, rejected.street_code) == (Status.REJECTED, "file.link", S1)
    # its sha256 is the link's own text, never its target's bytes
    assert rejected.sha256 == hashlib.sha256(b"symlink\0" + os.fsencode(str(own))).hexdigest()
    assert rejected.sha256 != hashlib.sha256(own.read_bytes()).hexdigest()
    assert rejected.bytes == len(os.fsencode(str(own))) and rejected.rows_read == 0
    mine = entries[f"inbox/{S2}/dispute_cases/own.csv"]
    assert (mine.status, mine.rows_loaded) == (Status.LOADED, 1)
    assert reads == [own]
    assert not (settings.landing_dir / "dispute_cases" / S1).exists()
    assert landed(settings, "dispute_cases", S2)["case_id"].to_list() == ["C1"]
    assert pending(settings) == [] and reconcile(settings).ok


def test_a_link_out_of_the_drop_zone_is_never_opened_or_hashed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(cases(ROW1), encoding="utf-8")
    folder = settings.inbox / S1 / "dispute_cases"
    folder.mkdir(parents=True)
    (folder / "secret.csv").symlink_to(secret)
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "dangling.csv").symlink_to(tmp_path / "nothing-here.csv")
    reads, opened = _spy_reads(monkeypatch)
    result = ingest_pending(settings)
    assert result.errors == [] and reads == []
    assert {(Path(e.path).name, e.status, e.error_code) for e in result.entries} == {
        (name, Status.REJECTED, "file.link") for name in ("secret.csv", "passwd.csv", "dangling.csv")
    }
    secret_entry = by_path(result.entries)[f"inbox/{S1}/dispute_cases/secret.csv"]
    assert secret_entry.sha256 == link_digest(folder / "secret.csv")
    assert secret_entry.sha256 != hashlib.sha256(secret.read_bytes()).hexdigest()
    assert str(secret) not in opened and "/etc/passwd" not in opened
    assert not list(settings.landing_dir.glob("dispute_cases/1*/*.parquet"))
    assert pending(settings) == []


def test_a_retargeted_link_is_a_new_rejection_and_a_real_file_in_its_place_loads(settings: Settings) -> None:
    folder = settings.inbox / S1 / "dispute_cases"
    folder.mkdir(parents=True)
    link = folder / "a.csv"
    link.symlink_to("/etc/hostname")
    [first] = ingest_pending(settings).entries
    assert ingest_pending(settings).entries == []  # the same link: judged once
    link.unlink()
    link.symlink_to("/etc/passwd")
    [second] = ingest_pending(settings).entries
    assert second.error_code == "file.link" and second.sha256 != first.sha256
    link.unlink()
    drop(settings, S1, "dispute_cases", "a.csv", cases(ROW1))
    [third] = ingest_pending(settings).entries
    assert third.status == Status.LOADED and third.path == first.path


def test_a_linked_folder_is_not_descended(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    drop(settings, S2, "dispute_cases", "own.csv", cases(ROW1))
    (settings.inbox / S1).mkdir()
    (settings.inbox / S1 / "dispute_cases").symlink_to(settings.inbox / S2 / "dispute_cases")
    outside = tmp_path / "outside"
    (outside / "dispute_cases").mkdir(parents=True)
    (outside / "dispute_cases" / "x.csv").write_text(cases(ROW2), encoding="utf-8")
    (settings.inbox / S2 / "legal_services").symlink_to(outside / "dispute_cases", target_is_directory=True)
    reads, _ = _spy_reads(monkeypatch)
    result = ingest_pending(settings)
    got = {e.path: (e.status, e.error_code) for e in result.entries}
    assert got == {
        f"inbox/{S2}/dispute_cases/own.csv": (Status.LOADED, None),
        f"inbox/{S1}/dispute_cases": (Status.REJECTED, "file.link"),
        f"inbox/{S2}/legal_services": (Status.REJECTED, "file.link"),
    }
    assert reads == [settings.inbox / S2 / "dispute_cases" / "own.csv"]


def test_a_fifo_is_never_opened_and_the_batch_goes_on(settings: Settings) -> None:
    folder = settings.inbox / S1 / "dispute_cases"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.csv")
    drop(settings, S1, "dispute_cases", "good.csv", cases(ROW1))
    with deadline(60):
        result = ingest_pending(settings)
        assert pending(settings) == []
    assert result.errors == []
    got = {Path(e.path).name: (e.status, e.error_code) for e in result.entries}
    assert got == {"pipe.csv": (Status.REJECTED, "file.unreadable"), "good.csv": (Status.LOADED, None)}
    assert "not a regular file" in by_path(result.entries)[f"inbox/{S1}/dispute_cases/pipe.csv"].error


def test_a_file_swapped_for_a_fifo_or_a_link_after_the_listing_is_not_opened(settings: Settings) -> None:
    p = drop(settings, S1, "dispute_cases", "a.csv", cases(ROW1))
    [listed] = list_inbox(settings.raw_dir)
    p.unlink()
    os.mkfifo(p)
    with deadline(60):
        with pytest.raises(NotRegularFile):
            hash_regular(p)
        [e] = ingest_pending(settings).entries  # judged as what it is now
    assert (e.status, e.error_code) == (Status.REJECTED, "file.unreadable")
    p.unlink()
    p.symlink_to("/etc/passwd")
    with pytest.raises(NotRegularFile):
        hash_regular(p)
    assert listed.kind == "file"


# --- 3. duplicates and identity ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("street", "dataset", "code"),
    [("110101099", "dispute_cases", "file.unknown_street"), (S1, "disputes", "file.unknown_dataset")],
)
def test_a_file_rejected_for_its_folder_loads_once_moved_to_the_right_one(
    settings: Settings, street: str, dataset: str, code: str
) -> None:
    wrong = drop(settings, street, dataset, "a.csv", cases(ROW1))
    [first] = ingest_pending(settings).entries
    assert (first.status, first.error_code) == (Status.REJECTED, code)
    right = settings.inbox / S1 / "dispute_cases" / "a.csv"
    right.parent.mkdir(parents=True, exist_ok=True)
    os.rename(wrong, right)
    [second] = ingest_pending(settings).entries
    assert (second.status, second.sha256, second.duplicate_of) == (Status.LOADED, first.sha256, None)
    assert landed(settings, "dispute_cases", S1)["case_id"].to_list() == ["C1"]
    assert reconcile(settings).ok


def test_no_rejection_makes_the_same_bytes_a_duplicate_later(settings: Settings) -> None:
    body = cases(ROW1, ROW2)
    small = replace(settings, max_file_bytes=50)
    drop(small, S1, "dispute_cases", "big.csv", body)
    [first] = ingest_pending(small).entries
    assert first.error_code == "file.too_large"
    assert ingest_pending(settings).entries == []  # the same file, the same bytes: judged once
    drop(settings, S1, "dispute_cases", "big (1).csv", body)
    [second] = ingest_pending(settings).entries
    assert (second.status, second.rows_loaded) == (Status.LOADED, 2)
    drop(settings, S1, "dispute_cases", "big (2).csv", body)  # now there is a loaded one
    [third] = ingest_pending(settings).entries
    assert (third.status, third.duplicate_of) == (Status.DUPLICATE, second.path)


def test_the_same_bytes_in_another_streets_folder_are_a_duplicate_that_says_so_and_land_nothing(
    settings: Settings,
) -> None:
    """Decision (docs/operations.md, "Duplicates and identity"): a loaded submission is
    identified by its SHA-256 alone across the warehouse, so the same bytes load once.
    Street B's copy of street A's file is recorded for B as a duplicate of another
    street's file: B's receipt says so (without naming A's file), nothing of it lands."""
    body = cases(f"C1,{S1},甲公司,2015-07-01,工资报酬,3,受理,")
    drop(settings, S1, "dispute_cases", "a.csv", body)
    [original] = ingest_pending(settings).entries
    drop(settings, S2, "dispute_cases", "a.csv", body)
    [copy] = ingest_pending(settings).entries
    assert (copy.status, copy.street_code, copy.error_code) == (Status.DUPLICATE, S2, "file.duplicate")
    assert copy.duplicate_of == original.path and f"of street {S1}" in (copy.error or "")
    assert copy.rows_read == 0 and copy.landing_path is None
    assert not (settings.landing_dir / "dispute_cases" / S2).exists()
    loaded = [e for e in read_ledger(settings.ledger_path) if e.status == Status.LOADED]
    assert len({e.sha256 for e in loaded}) == len(loaded)  # one loaded submission per sha256


# --- 4. a correction with the old size and modification time ---------------------------------


def test_a_correction_with_the_same_size_and_mtime_is_a_new_submission(settings: Settings) -> None:
    p = drop(settings, S1, "dispute_cases", "a.csv", cases(ROW1))
    os.utime(p, ns=(OLD_NS, OLD_NS))
    [first] = ingest_pending(settings).entries
    corrected = cases(ROW1.replace(",3,", ",4,"))  # same length: what cp -p / rsync -a / unzip leave
    p.write_text(corrected, encoding="utf-8")
    os.utime(p, ns=(OLD_NS, OLD_NS))
    assert (p.stat().st_size, p.stat().st_mtime_ns) == (first.bytes, first.mtime_ns)
    assert [f.path for f in pending(settings)] == [first.path]
    [second] = ingest_pending(settings).entries
    assert (second.path, second.status) == (first.path, Status.LOADED)
    assert second.sha256 == hashlib.sha256(corrected.encode()).hexdigest() != first.sha256
    assert second.seq > first.seq
    rows = landed(settings, "dispute_cases", S1).sort("_ingest_seq")
    assert rows["workers_involved"].to_list()[-1] == 4
    assert pending(settings) == [] and ingest_pending(settings).entries == []


def test_a_changed_state_is_hashed_once_and_the_cache_heals(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = drop(settings, S1, "dispute_cases", "a.csv", cases(ROW1))
    drop(settings, S1, "dispute_cases", "b.csv", cases(ROW2))
    ingest_pending(settings)
    cache = settings.ledger_path.with_name(STATE_CACHE_NAME)
    assert cache.exists()
    hashed: list[Path] = []
    real = dropzone.hash_regular

    def counting(path, *args):  # type: ignore[no-untyped-def]
        hashed.append(path)
        return real(path, *args)

    monkeypatch.setattr(dropzone, "hash_regular", counting)
    assert pending(settings) == [] and hashed == []  # unchanged files: listing only
    os.utime(p, ns=(OLD_NS, OLD_NS))  # touched: same bytes
    assert pending(settings) == [] and hashed == [p]
    assert pending(settings) == [] and hashed == [p]  # remembered: not hashed again
    assert ingest_pending(settings).entries == [] and hashed == [p]
    cache.unlink()  # lost: each ledgered file is hashed once more, nothing else happens
    assert pending(settings) == [] and len(hashed) == 3 and cache.exists()
    cache.write_text("{not json", encoding="utf-8")
    assert pending(settings) == [] and len(hashed) == 5
    assert pending(settings) == [] and len(hashed) == 5
    settings.ledger_path.unlink()  # the ledger is the truth: a cache entry alone means nothing
    assert len(pending(settings)) == 2


def test_pending_never_raises_for_a_file_it_cannot_hash(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    p = drop(settings, S1, "dispute_cases", "a.csv", cases(ROW1))
    ingest_pending(settings)
    p.write_text(cases(ROW2), encoding="utf-8")
    real = dropzone.hash_regular

    def denied(path, *args):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(dropzone, "hash_regular", denied)
    assert [f.path for f in pending(settings)] == [f"inbox/{S1}/dispute_cases/a.csv"]
    result = ingest_pending(settings)
    assert result.entries == [] and result.errors == [(f"inbox/{S1}/dispute_cases/a.csv", "PermissionError")]
    monkeypatch.setattr(dropzone, "hash_regular", real)
    [e] = ingest_pending(settings).entries
    assert e.status == Status.LOADED and e.rows_loaded == 1
