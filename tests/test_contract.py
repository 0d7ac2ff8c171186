"""The contract in code: consistent with itself and with the files generated from it."""

from pathlib import Path

from pipelines.contract import CATALOGUE, DATASETS, STREETS, Severity, applicable_rules
from pipelines.contract.rules import FILE_RULES, all_row_codes
from pipelines.contract.schema import ColumnType
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
