import os
from pathlib import Path

from pipelines.ingest.dropzone import ledger_names, list_inbox, locate, log_ref


def test_locate_reads_street_and_dataset_from_the_path() -> None:
    loc = locate("inbox/110101003/members/m.csv")
    assert (loc.street_code, loc.dataset) == ("110101003", "members")
    assert locate("inbox/110101003/m.csv").dataset is None
    assert locate("inbox/m.csv").street_code is None


def test_listing_skips_partial_uploads_and_hidden_files(tmp_path: Path) -> None:
    d = tmp_path / "inbox" / "110101001" / "members"
    d.mkdir(parents=True)
    for name in ("a.csv", "b.csv.part", ".hidden.csv", "~$lock.xlsx", "c.tmp"):
        (d / name).write_text("x")
    (tmp_path / "inbox" / "110101001" / ".staging").mkdir()
    (tmp_path / "inbox" / "110101001" / ".staging" / "x.csv").write_text("x")
    assert [f.path for f in list_inbox(tmp_path)] == ["inbox/110101001/members/a.csv"]


def test_listing_is_oldest_first(tmp_path: Path) -> None:
    d = tmp_path / "inbox" / "110101001" / "members"
    d.mkdir(parents=True)
    (d / "new.csv").write_text("x")
    (d / "old.csv").write_text("x")
    os.utime(d / "old.csv", ns=(1_000_000_000, 1_000_000_000))
    assert [f.path.rsplit("/", 1)[1] for f in list_inbox(tmp_path)] == ["old.csv", "new.csv"]


def test_listing_never_follows_a_link_and_names_every_entry_in_utf8(tmp_path: Path) -> None:
    d = tmp_path / "inbox" / "110101001" / "members"
    d.mkdir(parents=True)
    (d / "a.csv").write_text("x")
    (d / "to_a.csv").symlink_to(d / "a.csv")
    (tmp_path / "inbox" / "110101002").symlink_to(tmp_path / "inbox" / "110101001")  # a linked folder
    os.mkfifo(d / "fifo.csv")
    with open(os.path.join(os.fsencode(d), "张三.csv".encode("gbk")), "wb") as fh:
        fh.write(b"y")
    got = {f.path: f.kind for f in list_inbox(tmp_path)}
    assert got == {
        "inbox/110101001/members/a.csv": "file",
        "inbox/110101001/members/to_a.csv": "link",
        "inbox/110101002": "link",
        "inbox/110101001/members/fifo.csv": "special",
        "inbox/110101001/members/张三.csv": "file",
    }
    [gbk] = [f for f in list_inbox(tmp_path) if f.path.endswith("张三.csv")]
    assert os.fsencode(gbk.os_path).endswith("张三.csv".encode("gbk"))
    link = next(f for f in list_inbox(tmp_path) if f.kind == "link" and f.path.endswith(".csv"))
    assert link.size == len(os.fsencode(str(d / "a.csv")))  # the link's own size, not its target's


def test_ledger_names_are_one_to_one_utf8_and_utf8_names_are_themselves() -> None:
    gbk = os.fsdecode("张三.csv".encode("gbk"))
    bad = os.fsdecode(b"\xff.csv")
    names = ledger_names(["a.csv", "李四.csv", gbk, bad])
    assert names == {"a.csv": "a.csv", "李四.csv": "李四.csv", gbk: "张三.csv", bad: "\\xff.csv"}
    assert ledger_names(["张三.csv", gbk])[gbk] == "\\xd5\\xc5\\xc8\\xfd.csv"  # the UTF-8 one keeps its name
    for name in names.values():
        name.encode("utf-8")


def test_log_ref_is_unchanged_for_utf8_paths_and_never_raises() -> None:
    import hashlib

    path = "inbox/110101003/members/王小明入会申请.csv"
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:10]
    assert log_ref(path) == f"inbox/110101003/members/#{digest}.csv"
    assert log_ref("inbox/110101003/members/" + os.fsdecode(b"\xd5\xc5.csv")).startswith("inbox/110101003/members/#")
