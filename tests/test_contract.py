"""The contract in code: consistent with itself and with the files generated from it."""

from pathlib import Path

import pytest

from pipelines.contract import (
    CATALOGUE,
    DATASETS,
    STREETS,
    Severity,
    applicable_rules,
    dataset_for_folder,
)
from pipelines.contract.datasets import folder_key
from pipelines.contract.industry import SECTIONS
from pipelines.contract.rules import FILE_RULES, all_row_codes
from pipelines.contract.schema import Column, ColumnType
from pipelines.sync import sync

ROOT = Path(__file__).resolve().parents[1]


def test_generated_files_are_in_step_with_the_contract() -> None:
    stale = sync(ROOT, check=True)
    assert stale == [], f"run `uv run union-warehouse contract-sync`; stale: {stale}"


def test_every_catalogue_code_is_either_a_file_rule_or_raised_by_some_dataset() -> None:
    assert set(CATALOGUE) == set(FILE_RULES) | all_row_codes()


def test_file_rules_reject_or_record_and_row_rules_quarantine_or_warn() -> None:
    for code, r in CATALOGUE.items():
        if code in FILE_RULES:
            assert r.severity in (Severity.REJECT, Severity.DUPLICATE), code
        else:
            assert r.severity in (Severity.QUARANTINE, Severity.WARNING), code


def test_every_rule_speaks_chinese_to_the_clerk_and_english_to_the_operator() -> None:
    for r in CATALOGUE.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.zh), r.code
        assert r.en and r.en.split("(")[0].isascii(), r.code


def test_the_contract_has_the_eleven_datasets_and_seventeen_streets() -> None:
    assert [d.name for d in DATASETS] == [
        "union_orgs", "members", "street_staff", "collective_contracts", "dispute_cases",
        "hotline_tickets", "legal_services", "training_events", "education_grants",
        "facilities", "hardship_cases",
    ]
    assert len(STREETS) == 17 and len({s.code for s in STREETS}) == 17


def test_headers_are_unique_within_each_dataset() -> None:
    for d in DATASETS:
        assert len({c.zh for c in d.columns}) == len(d.columns), d.name
        assert len(set(d.column_names)) == len(d.columns), d.name
        assert d.key in d.column_names and d.column(d.key).required


def test_registries_carry_an_as_of_date_and_personal_columns_are_marked() -> None:
    for d in DATASETS:
        if d.is_registry:
            assert d.column("as_of_date").required
    members = next(d for d in DATASETS if d.name == "members")
    assert set(members.personal_columns) == {"name", "id_number", "phone"}


def test_rules_reference_real_columns() -> None:
    for d in DATASETS:
        for a in applicable_rules(d):
            for col in (a.column, a.other):
                assert col is None or col in d.column_names, (d.name, a)


def test_enum_columns_list_the_contract_values() -> None:
    orgs = next(d for d in DATASETS if d.name == "union_orgs")
    assert orgs.column("industry").enum == tuple("ABCDEFGHIJKLMNOPQRST")
    assert orgs.column("industry").type is ColumnType.ENUM


def test_industry_sections_name_every_letter_once_and_offer_code_and_name() -> None:
    industry = next(d for d in DATASETS if d.name == "union_orgs").column("industry")
    assert industry.enum == tuple(s.code for s in SECTIONS)
    assert industry.enum_labels == tuple(s.name for s in SECTIONS)
    assert len(set(industry.enum_labels)) == 20 and all(industry.enum_labels)
    assert industry.choices[0] == "A 农、林、牧、渔业" and industry.choices[2] == "C 制造业"
    # the warehouse's seed is rendered from the same list (kept in step by the sync test)
    seed = (ROOT / "dbt_project" / "seeds" / "industry_sections.csv").read_text(encoding="utf-8")
    assert "C,制造业,Manufacturing" in seed.splitlines()
    # only named enums carry names; the others offer their values as they are
    for d in DATASETS:
        for c in d.columns:
            if not c.enum_labels:
                assert c.choices == c.enum


def test_enum_names_must_match_the_values() -> None:
    with pytest.raises(ValueError, match="names 1 of 2"):
        Column("x", "甲", ColumnType.ENUM, enum=("A", "B"), enum_labels=("甲",))
    with pytest.raises(ValueError, match="same name"):
        Column("x", "甲", ColumnType.ENUM, enum=("A", "B"), enum_labels=("甲", "甲"))


def test_every_dataset_has_a_chinese_folder_name_that_is_its_own() -> None:
    english = {d.name for d in DATASETS}
    keys = [folder_key(d.folder_zh) for d in DATASETS]
    assert len(set(keys)) == len(DATASETS) and not set(keys) & english
    for d in DATASETS:
        assert not set(d.folder_zh) & set('/\\:*?"<>|'), d.folder_zh  # a valid folder name
        assert dataset_for_folder(d.name) is d
        assert dataset_for_folder(d.folder_zh) is d and dataset_for_folder(d.zh) is d
    assert dataset_for_folder("平台派单").name == "hotline_tickets"  # type: ignore[union-attr]
    assert dataset_for_folder("会员信息").name == "members"  # type: ignore[union-attr]
    assert next(d for d in DATASETS if d.name == "facilities").folder_zh == "职工之家、职工书屋、创新工作室"
    for unknown in ("", "members2", "会员", "disputes", "会员信息表"):
        assert dataset_for_folder(unknown) is None, unknown


def test_the_unknown_folder_message_names_both_kinds_of_folder() -> None:
    message = CATALOGUE["file.unknown_dataset"].message_zh()
    assert "members" in message and "会员信息" in message
