"""Header matching (contract §2 rule 7): canonical or Chinese names, ignoring surrounding
spaces, full-width/half-width and case; extra columns kept; file rules for headers."""

from __future__ import annotations

import random

import pytest

from pipelines.contract import Column, get_dataset
from pipelines.ingest.headers import UNKNOWN_HEADER_CHARS, match_headers, normalise_header
from pipelines.ingest.model import FileRejected

LEGAL = get_dataset("legal_services")  # service_id*, street_code, service_date*, service_type*,
#                                        lawyer_name, people_served*
LEGAL_ZH = ["服务编号", "服务日期", "服务类型", "服务人次"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("org_id", "org_id"),
        ("  ORG_ID ", "org_id"),
        ("ｏｒｇ＿ｉｄ", "org_id"),  # full-width letters and underscore
        ("Ｏｒｇ＿ＩＤ", "org_id"),
        (" 工会组织编号 ", "工会组织编号"),
        ("\u3000工会组织编号\u3000", "工会组织编号"),  # ideographic spaces
        ("工会 组织\t编号", "工会组织编号"),  # internal whitespace removed
        ("\ufeff会员编号", "会员编号"),  # a BOM left in the first cell
        ("Street Code", "streetcode"),
    ],
)
def test_normalise_header(raw: str, expected: str) -> None:
    assert normalise_header(raw) == expected


def test_matches_chinese_headers_and_reports_them_as_written() -> None:
    m = match_headers([" 服务编号 ", "服务日期", "服务类型", "服务人次"], LEGAL)
    assert m.columns == ("service_id", "service_date", "service_type", "people_served")
    assert m.names == m.columns
    assert m.headers == {
        "service_id": " 服务编号 ",
        "service_date": "服务日期",
        "service_type": "服务类型",
        "people_served": "服务人次",
    }
    assert m.extra_columns == ()


def test_matches_english_mixed_case_and_full_width_headers() -> None:
    m = match_headers(["Service_ID", "SERVICE_DATE", "ｓｅｒｖｉｃｅ＿ｔｙｐｅ", " People_Served "], LEGAL)
    assert m.columns == ("service_id", "service_date", "service_type", "people_served")


def test_mixing_english_and_chinese_headers_is_fine() -> None:
    m = match_headers(["service_id", "服务日期", "service_type", "服务人次", "律师"], LEGAL)
    assert m.columns[-1] == "lawyer_name"


def test_extra_columns_are_kept_under_their_stripped_header() -> None:
    m = match_headers(["服务编号", " 备注 ", "服务日期", "服务类型", "服务人次", "联系人"], LEGAL)
    assert m.columns == ("service_id", None, "service_date", "service_type", "people_served", None)
    assert m.names[1] == "备注"
    assert m.extra_columns == ("备注", "联系人")
    assert "备注" not in m.headers


def test_trailing_empty_header_cells_are_dropped() -> None:
    m = match_headers([*LEGAL_ZH, "", "  ", None], LEGAL)
    assert m.width == 4
    assert m.extra_columns == ()


def test_an_empty_header_cell_in_the_middle_becomes_a_numbered_extra_column() -> None:
    m = match_headers(["服务编号", "", "服务日期", "服务类型", "服务人次"], LEGAL)
    assert m.names[1] == "_col2"
    assert m.extra_columns == ("_col2",)


def test_extra_column_names_are_made_unique() -> None:
    m = match_headers([*LEGAL_ZH, "备注", " 备注", "_line_number"], LEGAL)
    assert m.extra_columns == ("备注", "备注_2", "_line_number_2")


def test_optional_columns_may_be_absent_street_code_included() -> None:
    m = match_headers(LEGAL_ZH, LEGAL)
    assert "street_code" not in m.headers
    assert "lawyer_name" not in m.headers


def test_no_header_when_no_cell_names_a_column() -> None:
    with pytest.raises(FileRejected) as info:
        match_headers(["S001", "2024-01-02", "法律咨询", "3"], LEGAL)
    assert info.value.code == "file.no_header"


def test_no_header_for_an_empty_row() -> None:
    with pytest.raises(FileRejected) as info:
        match_headers([], LEGAL)
    assert info.value.code == "file.no_header"


def test_duplicate_column_names_the_canonical_column() -> None:
    with pytest.raises(FileRejected) as info:
        match_headers([*LEGAL_ZH, "SERVICE_DATE"], LEGAL)
    assert info.value.code == "file.duplicate_column"
    assert info.value.column == "service_date"


def test_missing_column_names_every_missing_required_column_in_contract_order() -> None:
    with pytest.raises(FileRejected) as info:
        match_headers(["服务人次", "服务编号"], LEGAL)
    assert info.value.code == "file.missing_column"
    assert info.value.columns == ("service_date", "service_type")
    assert info.value.column == "service_date"  # the first, as error_column always held
    assert info.value.unknown_headers == ()


def test_missing_columns_come_with_every_header_that_names_no_column() -> None:
    """A misspelt header is both missing and unknown: the clerk sees both at once. Blank
    cells name nothing; an unknown header written twice is named once."""
    raw = ["服务编号", " 服务日起 ", "备注", "", "服务人次", "备注", "Service-Type"]
    with pytest.raises(FileRejected) as info:
        match_headers(raw, LEGAL)
    assert info.value.columns == ("service_date", "service_type")
    assert info.value.unknown_headers == ("服务日起", "备注", "Service-Type")


def test_an_unknown_header_is_named_clipped() -> None:
    long = "备注" * 100
    with pytest.raises(FileRejected) as info:
        match_headers(["服务编号", long], LEGAL)
    [named] = info.value.unknown_headers
    assert len(named) == UNKNOWN_HEADER_CHARS and named == long[: UNKNOWN_HEADER_CHARS - 1] + "…"


def test_unknown_headers_alone_never_reject_a_file() -> None:
    m = match_headers([*LEGAL_ZH, "服务日起", "备注"], LEGAL)
    assert m.extra_columns == ("服务日起", "备注")


# headers no dataset has a column called (after normalise_header)
UNKNOWN_POOL = ("备注", "联系人", "服务日起", "Remarks", "证件号码", "序号", "col_x", "其他说明")


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _spelling(rng: random.Random, col: Column) -> str:
    """One way a clerk may write ``col``'s header: Chinese or English, padded, in either
    case, full-width."""
    return rng.choice((col.zh, f" {col.zh}\u3000", col.name, col.name.upper(), _full_width(col.name)))


@pytest.mark.parametrize("seed", range(20))
def test_a_random_set_of_dropped_columns_is_named_exactly(seed: int) -> None:
    """From a valid header of a random dataset, drop a random subset of the required
    columns and add random unknown headers, in a random order: exactly the dropped columns
    are named (in contract order), and exactly the unknown headers (in file order)."""
    from pipelines.contract import DATASETS

    rng = random.Random(seed)
    for _ in range(50):
        ds = rng.choice(DATASETS)
        required = [c.name for c in ds.required_columns]
        dropped = set(rng.sample(required, rng.randint(0, len(required))))
        cells = [_spelling(rng, c) for c in ds.columns if c.name not in dropped]
        unknown = rng.sample(UNKNOWN_POOL, rng.randint(0, 3))
        for u in unknown:
            cells.insert(rng.randint(0, len(cells)), u)
        order = list(range(len(cells)))
        rng.shuffle(order)
        cells = [cells[i] for i in order]
        in_file_order = tuple(c for c in cells if c in unknown)
        if not dropped:
            assert match_headers(cells, ds).extra_columns == in_file_order
            continue
        with pytest.raises(FileRejected) as info:
            match_headers(cells, ds)
        assert info.value.code == "file.missing_column"
        assert info.value.columns == tuple(c for c in required if c in dropped), (ds.name, cells)
        assert info.value.unknown_headers == in_file_order, (ds.name, cells)


def test_missing_column_for_another_dataset() -> None:
    members = get_dataset("members")
    headers = [c.zh for c in members.columns if c.name != "jingka_issued"]
    with pytest.raises(FileRejected) as info:
        match_headers(headers, members)
    assert (info.value.code, info.value.column) == ("file.missing_column", "jingka_issued")


def test_duplicate_is_reported_before_missing() -> None:
    with pytest.raises(FileRejected) as info:
        match_headers(["服务编号", "service_id"], LEGAL)
    assert (info.value.code, info.value.column) == ("file.duplicate_column", "service_id")


def test_every_dataset_matches_its_own_chinese_and_english_headers() -> None:
    from pipelines.contract import DATASETS

    for ds in DATASETS:
        zh = match_headers([c.zh for c in ds.columns], ds)
        en = match_headers([c.name.upper() for c in ds.columns], ds)
        assert zh.columns == en.columns == ds.column_names
