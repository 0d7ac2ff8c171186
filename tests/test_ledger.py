from pathlib import Path

from pipelines.ingest.ledger import LedgerEntry, LedgerIndex, Status, append_entries, read_ledger


def _entry(seq: int, path: str = "inbox/110101001/members/a.csv", sha: str = "a" * 64, **kw) -> LedgerEntry:
    return LedgerEntry(
        seq=seq, path=path, sha256=sha, bytes=10, mtime_ns=1, dataset="members",
        street_code="110101001", first_seen="2015-07-01T00:00:00+00:00", status=kw.pop("status", Status.LOADED), **kw,
    )


def test_append_and_read_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "ledger.jsonl"
    append_entries(p, [_entry(1, rows_read=3, rows_loaded=2, rows_quarantined=1)])
    append_entries(p, [_entry(2, path="inbox/110101001/members/b.csv", sha="b" * 64)])
    got = read_ledger(p)
    assert [e.seq for e in got] == [1, 2]
    assert got[0].rows_quarantined == 1 and got[0].reconciles


def test_torn_last_line_is_ignored_and_cut_before_next_append(tmp_path: Path) -> None:
    p = tmp_path / "ledger.jsonl"
    append_entries(p, [_entry(1)])
    with p.open("ab") as fh:  # a crash in the middle of writing entry 2
        fh.write(b'{"seq": 2, "path": "inbox/1101')
    assert [e.seq for e in read_ledger(p)] == [1]
    append_entries(p, [_entry(2, sha="c" * 64)])
    assert [e.seq for e in read_ledger(p)] == [1, 2]
    assert p.read_bytes().count(b"\n") == 2


def test_index_knows_originals_and_next_sequence(tmp_path: Path) -> None:
    entries = [
        _entry(1, sha="a" * 64),
        _entry(2, path="inbox/110101001/members/copy.csv", sha="a" * 64, status=Status.DUPLICATE),
        _entry(3, path="inbox/110101001/members/c.csv", sha="c" * 64, status=Status.REJECTED),
    ]
    idx = LedgerIndex.build(entries)
    assert idx.next_seq == 4
    assert idx.original_by_sha["a" * 64].path == "inbox/110101001/members/a.csv"
    assert idx.original_by_sha["c" * 64].status == Status.REJECTED


def test_unbalanced_entry_does_not_reconcile() -> None:
    assert not _entry(1, rows_read=5, rows_loaded=3, rows_quarantined=1).reconciles


def test_only_loaded_submissions_make_later_files_duplicates() -> None:
    entries = [
        _entry(1, path="inbox/110101099/members/a.csv", sha="a" * 64, status=Status.REJECTED),
        _entry(2, path="inbox/110101001/members/a.csv", sha="a" * 64),
        _entry(3, path="inbox/110101001/members/b.csv", sha="b" * 64, status=Status.REJECTED),
        _entry(4, path="inbox/110101001/members/a.csv", sha="c" * 64),
    ]
    idx = LedgerIndex.build(entries)
    assert set(idx.loaded_by_sha) == {"a" * 64, "c" * 64}
    assert idx.loaded_by_sha["a" * 64].seq == 2
    assert idx.original_by_sha["a" * 64].seq == 2  # what a duplicate of these bytes repeats
    assert idx.original_by_sha["b" * 64].seq == 3  # (older ledgers: a duplicate of a rejected file)
    assert idx.last_by_path["inbox/110101001/members/a.csv"].seq == 4
    idx.add(_entry(5, path="inbox/110101001/members/b.csv", sha="b" * 64))
    assert idx.loaded_by_sha["b" * 64].seq == 5 and idx.original_by_sha["b" * 64].seq == 5
    assert idx.next_seq == 6
