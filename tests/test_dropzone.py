import os
import random
from pathlib import Path

from pipelines.contract import DATASETS, dataset_for_folder
from pipelines.contract.datasets import folder_key
from pipelines.ingest.dropzone import Location, ledger_names, list_inbox, locate, log_ref


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


# --- dataset folders by their Chinese names ---------------------------------------------------


def test_locate_names_the_dataset_whichever_of_its_names_the_folder_bears() -> None:
    for d in DATASETS:
        for folder in (d.name, d.folder_zh, d.zh.replace("/", "_")):
            assert locate(f"inbox/110101003/{folder}/x.csv") == Location("110101003", d.name), folder
    assert locate("inbox/110101003/会员信息/x.csv").dataset == "members"
    assert locate("inbox/110101003/职工之家、职工书屋、创新工作室/x.csv").dataset == "facilities"
    # a folder naming no dataset is kept as written (the rejection names it)
    for folder in ("会员", "disputes", "Members", "members ", "会员信息2", "\\xd5\\xc5", "争议"):
        assert locate(f"inbox/110101003/{folder}/x.csv").dataset == folder


_SEPARATORS = (" ", "\u3000", "_", "、", "/", "／", "-", "·", "\t")
_OTHER_CHARS = "会员信息工作职人法律之家书屋帮扶困难集体合同案件派单平台x1"


def _spread(name: str, rng: random.Random) -> str:
    """``name`` with separators a clerk might leave between its characters, and some
    characters in their full-width or compatibility forms (NFKC undoes them)."""
    out = []
    for ch in name:
        out.append(ch)
        if rng.random() < 0.3:
            out.append(rng.choice(_SEPARATORS))
    spread = "".join(out).replace("/", "／") if rng.random() < 0.5 else "".join(out)
    return spread if "/" not in spread else spread.replace("/", "、")  # a folder name holds no "/"


def _mutated(name: str, rng: random.Random) -> str:
    """``name`` with one character changed, removed or added: no dataset's name."""
    i = rng.randrange(len(name))
    match rng.randrange(3):
        case 0:
            return name[:i] + rng.choice([c for c in _OTHER_CHARS if c != name[i]]) + name[i + 1:]
        case 1:
            return name[:i] + name[i + 1:]
    return name[:i] + rng.choice(_OTHER_CHARS) + name[i:]


def test_generated_spellings_of_chinese_folder_names_name_their_dataset_and_near_misses_none() -> None:
    rng = random.Random(19)
    keys = {folder_key(d.zh) for d in DATASETS}
    for _ in range(400):
        d = rng.choice(DATASETS)
        spelled = _spread(d.folder_zh, rng)
        assert dataset_for_folder(spelled) is d, spelled
        assert locate(f"inbox/110101003/{spelled}/x.csv").dataset == d.name
        near = _mutated(d.folder_zh, rng)
        if folder_key(near) in keys:  # changed into another separator: still the name
            continue
        assert dataset_for_folder(near) is None, near
        assert locate(f"inbox/110101003/{near}/x.csv").dataset == near


def test_english_folder_names_are_matched_exactly_as_before() -> None:
    for d in DATASETS:
        variants = {d.name.upper(), f" {d.name}", f"{d.name}s", d.name.replace("_", "-"),
                    d.name.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})} - {d.name}
        for folder in variants:
            assert dataset_for_folder(folder) is None, folder
        assert dataset_for_folder(d.name) is d
