import os
from pathlib import Path

from pipelines.ingest.dropzone import list_inbox, locate


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
