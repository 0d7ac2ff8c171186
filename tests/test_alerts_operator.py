"""Operator alerts: rejected submissions, the quality gate, silent streets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pipelines.alerts import load_rules
from pipelines.alerts.evaluate import evaluate_operator
from pipelines.alerts.rules import OperatorInputs
from pipelines.contract import DATASETS, STREETS
from pipelines.ingest.ledger import LedgerEntry, Status

NOW = datetime(2016, 3, 1, 8, 0)
A, B = "110101001", "110101002"
RULES = load_rules()


def entry(
    seq: int,
    path: str,
    status: str = Status.LOADED,
    *,
    seen: datetime = NOW,
    as_of: str | None = None,
    error: str | None = None,
    sha: str | None = None,
) -> LedgerEntry:
    _, street, dataset, _ = path.split("/")
    return LedgerEntry(
        seq=seq,
        path=path,
        sha256=sha or f"{seq:064x}",
        bytes=10,
        mtime_ns=0,
        dataset=dataset,
        street_code=street,
        first_seen=seen.isoformat() + "+00:00",
        status=status,
        error_code=error,
        as_of_date=as_of,
    )


def firings(
    entries: list[LedgerEntry],
    blocked: dict[str, list[str]] | None = None,
    now: datetime = NOW,
    code: str | None = None,
) -> dict[str, str]:
    out = evaluate_operator(OperatorInputs(entries, blocked or {}, now), RULES)
    return {f.entity_key: f.level for f in out if code is None or f.rule_code == code}


def every_dataset(street: str, seen: datetime, start: int = 100) -> list[LedgerEntry]:
    return [
        entry(start + i, f"inbox/{street}/{d.name}/x.csv", seen=seen)
        for i, d in enumerate(DATASETS)
    ]


def test_a_rejected_submission_alerts_until_it_is_sent_again_under_its_name() -> None:
    bad = entry(
        1,
        f"inbox/{A}/members/members_2015-12-31.xlsx",
        Status.REJECTED,
        error="file.missing_column",
    )
    other = entry(2, f"inbox/{A}/members/members_2015-09-30.csv")
    assert firings([bad, other], code="OPS_REJECTED") == {f"submission:{bad.sha256}": "黄"}
    fixed = entry(3, f"inbox/{A}/members/members_2015-12-31.csv")  # the same name, another format
    assert firings([bad, other, fixed], code="OPS_REJECTED") == {}
    earlier = entry(0, f"inbox/{A}/members/members_2015-12-31.csv")  # sent before the bad one
    assert firings([earlier, bad], code="OPS_REJECTED") == {f"submission:{bad.sha256}": "黄"}


def test_a_rejected_file_of_an_unknown_street_is_the_districts() -> None:
    bad = entry(1, "inbox/110101099/members/m.csv", Status.REJECTED, error="file.unknown_street")
    [f] = evaluate_operator(OperatorInputs([bad], {}, NOW), RULES)
    assert f.area_code == "110101" and "file.unknown_street" in f.message


def test_a_held_back_submission_alerts_until_a_later_snapshot_of_its_date_passes() -> None:
    held = entry(1, f"inbox/{A}/members/m1.csv", as_of="2015-12-31")
    blocked = {held.sha256: ["expect_table_row_count_to_be_between"]}
    assert firings([held], blocked, code="OPS_QUALITY_GATE") == {f"submission:{held.sha256}": "橙"}
    again_blocked = entry(2, f"inbox/{A}/members/m2.csv", as_of="2015-12-31")
    blocked2 = {**blocked, again_blocked.sha256: ["expect_column_values_to_not_be_null(phone)"]}
    assert set(firings([held, again_blocked], blocked2, code="OPS_QUALITY_GATE")) == {
        f"submission:{held.sha256}",
        f"submission:{again_blocked.sha256}",
    }
    passed = entry(3, f"inbox/{A}/members/m3.csv", as_of="2015-12-31")
    assert firings([held, passed], blocked, code="OPS_QUALITY_GATE") == {}


@pytest.mark.parametrize(("days", "fires"), [(34, False), (35, True), (90, True)])
def test_a_street_silent_for_35_days(days: int, fires: bool) -> None:
    entries = every_dataset(A, NOW - timedelta(days=1))
    entries.append(entry(1, f"inbox/{A}/hotline_tickets/t.csv", seen=NOW - timedelta(days=days)))
    entries = [e for e in entries if not (e.dataset == "hotline_tickets" and e.seq != 1)]
    got = firings(entries, code="OPS_SILENT")
    assert got == ({f"feed:{A}:hotline_tickets": "蓝"} if fires else {})


def test_never_sent_is_timed_from_the_streets_first_file_and_quiet_streets_are_not_watched() -> (
    None
):
    first = entry(1, f"inbox/{A}/members/m.csv", seen=NOW - timedelta(days=40))
    out = [
        f
        for f in evaluate_operator(OperatorInputs([first], {}, NOW), RULES)
        if f.rule_code == "OPS_SILENT"
    ]
    assert {f.entity_key for f in out} == {
        f"feed:{A}:{d.name}" for d in DATASETS
    }  # B never sent anything
    never = {f.entity_key: f.evidence["last_first_seen"] for f in out}
    assert never[f"feed:{A}:members"] is not None and never[f"feed:{A}:hotline_tickets"] is None
    assert all(f.evidence["days_silent"] == 40 for f in out)
    assert (
        firings(
            [entry(1, f"inbox/{A}/members/m.csv", seen=NOW - timedelta(days=10))], code="OPS_SILENT"
        )
        == {}
    )


def test_the_silence_limit_can_differ_per_dataset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = RULES.path.read_text(encoding="utf-8").replace(
        "silent_days_by_dataset: {}", "silent_days_by_dataset: {education_grants: 100}"
    )
    custom = tmp_path / "rules.yaml"
    custom.write_text(text, encoding="utf-8")
    entries = every_dataset(A, NOW - timedelta(days=60))
    out = evaluate_operator(OperatorInputs(entries, {}, NOW), load_rules(custom))
    assert {f.entity_key for f in out if f.rule_code == "OPS_SILENT"} == {
        f"feed:{A}:{d.name}" for d in DATASETS if d.name != "education_grants"
    }
    assert all(f.evidence["days_silent"] == 60 for f in out)


def test_every_street_sending_everything_recently_is_quiet() -> None:
    entries = [e for s in STREETS for e in every_dataset(s.code, NOW - timedelta(days=3))]
    assert firings(entries) == {}


def test_a_submission_is_named_by_its_file_reference_not_its_name() -> None:
    """Streets name files after the member they concern: the alert names the file by its
    file reference and its identity is the SHA-256, however the file is called."""
    name = "张三_110101199003071234_13812345678会员"
    bad = entry(1, f"inbox/{A}/members/{name}.csv", Status.REJECTED, error="file.missing_column")
    held = entry(2, f"inbox/{A}/members/{name}.xlsx", as_of="2015-12-31")
    out = evaluate_operator(OperatorInputs([bad, held], {held.sha256: ["expect_table_row_count_to_be_between"]}, NOW),
                            RULES)
    by_rule = {f.rule_code: f for f in out if f.rule_code != "OPS_SILENT"}
    assert set(by_rule) == {"OPS_REJECTED", "OPS_QUALITY_GATE"}
    for f, e in ((by_rule["OPS_REJECTED"], bad), (by_rule["OPS_QUALITY_GATE"], held)):
        assert f.entity_key == f"submission:{e.sha256}"
        assert e.file_ref in f.message and f.evidence["file_ref"] == e.file_ref and "path" not in f.evidence
        text = f.message + repr(dict(f.evidence))
        assert not [s for s in ("张三", "110101199003071234", "13812345678") if s in text], text
    # the street sends the file again under its name: the alert resolves (names compared, not shown)
    fixed = entry(3, f"inbox/{A}/members/{name}.csv")
    assert firings([bad, fixed], code="OPS_REJECTED") == {}
