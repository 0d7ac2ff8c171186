"""Ingestion end to end on small hand-written files: ledger, landing, quarantine."""

from __future__ import annotations

import os

import polars as pl
import pytest

from pipelines.ingest import process as process_mod
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.ingest.process import ingest_pending, pending
from pipelines.ingest.reconcile import reconcile

from .conftest import drop

S1, S2 = "110101001", "110101002"

CASES_HEADER = "案件编号,街道代码,用人单位,受理日期,争议类型,涉及人数,案件状态,结案日期\n"


def cases(*rows: str) -> str:
    return CASES_HEADER + "".join(r + "\n" for r in rows)


def landed(settings, dataset: str) -> pl.DataFrame:
    files = sorted((settings.landing_dir / dataset).glob("1*/*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal") if files else pl.DataFrame()


def test_good_rows_land_bad_rows_quarantine_and_the_ledger_reconciles(settings) -> None:
    drop(settings, S1, "dispute_cases", "2015-07.csv", cases(
        "C1,,甲公司,2015-07-01,工资报酬,3,受理,",
        "C2,,乙公司,2015-07-02,欠钱,3,受理,",  # unknown enum
        "C3,,丙公司,2015-07-03,加班,2,调解成功,",  # closed without closed_date
    ))
    result = ingest_pending(settings)
    [e] = result.entries
    assert (e.status, e.rows_read, e.rows_loaded, e.rows_quarantined) == (Status.LOADED, 3, 1, 2)
    assert landed(settings, "dispute_cases")["case_id"].to_list() == ["C1"]
    q = pl.read_parquet(settings.data_dir / e.quarantine_path)
    reasons = {row["_line_number"]: {r["code"] for r in row["_reasons"]} for row in q.to_dicts()}
    assert reasons == {3: {"enum.unknown"}, 4: {"closed_date.required"}}
    assert q.filter(pl.col("_line_number") == 3)["dispute_type"].item() == "欠钱"  # original value kept
    assert reconcile(settings).ok


def test_running_again_changes_nothing(settings) -> None:
    drop(settings, S1, "dispute_cases", "a.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,"))
    ingest_pending(settings)
    before = settings.ledger_path.read_bytes()
    landing_files = sorted(p.stat().st_mtime_ns for p in settings.landing_dir.rglob("*.parquet"))
    again = ingest_pending(settings)
    assert again.entries == []
    assert settings.ledger_path.read_bytes() == before
    assert sorted(p.stat().st_mtime_ns for p in settings.landing_dir.rglob("*.parquet")) == landing_files
    assert pending(settings) == []


def test_the_same_bytes_under_a_new_name_are_a_duplicate_and_land_nothing(settings) -> None:
    body = cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,")
    drop(settings, S1, "dispute_cases", "a.csv", body)
    ingest_pending(settings)
    drop(settings, S1, "dispute_cases", "a (1).csv", body)
    [dup] = ingest_pending(settings).entries
    assert dup.status == Status.DUPLICATE
    assert dup.duplicate_of == f"inbox/{S1}/dispute_cases/a.csv"
    assert dup.rows_read == 0 and dup.landing_path is None
    assert landed(settings, "dispute_cases").height == 1


def test_a_touched_file_is_not_processed_twice(settings) -> None:
    """Touched (or copied over with the same bytes): hashed once, no new ledger entry, no
    new receipt; the state cache remembers the new state so it is not hashed again."""
    p = drop(settings, S1, "dispute_cases", "a.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,"))
    ingest_pending(settings)
    before = settings.ledger_path.read_bytes()
    os.utime(p, ns=(5 * 10**18, 5 * 10**18))
    assert ingest_pending(settings).entries == []
    assert settings.ledger_path.read_bytes() == before
    assert pending(settings) == []
    assert landed(settings, "dispute_cases").height == 1


def test_rows_for_another_street_cannot_change_its_data(settings) -> None:
    drop(settings, S2, "dispute_cases", "own.csv", cases("C9,,丁公司,2015-07-01,加班,2,受理,"))
    drop(settings, S1, "dispute_cases", "mixed.csv", cases(
        "C1,,甲公司,2015-07-01,工资报酬,3,受理,",
        f"C9,{S2},冒充公司,2015-07-09,其他,50,受理,",
    ))
    ingest_pending(settings)
    s2_rows = pl.read_parquet(next((settings.landing_dir / "dispute_cases" / S2).glob("*.parquet")))
    assert s2_rows["employer_name"].to_list() == ["丁公司"]
    s1_rows = pl.read_parquet(next((settings.landing_dir / "dispute_cases" / S1).glob("*.parquet")))
    assert s1_rows["case_id"].to_list() == ["C1"]
    assert set(s1_rows["street_code"]) == {S1}  # a blank street_code takes the folder's


def test_bad_files_are_rejected_whole_with_one_reason_and_the_rest_goes_on(settings) -> None:
    drop(settings, S1, "dispute_cases", "good.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,"))
    drop(settings, S1, "dispute_cases", "nocol.csv", "案件编号,受理日期\nC2,2015-07-01\n")
    drop(settings, S1, "dispute_cases", "notes.docx", b"PK\x03\x04")
    drop(settings, S1, "no_such_dataset", "x.csv", "a,b\n1,2\n")
    drop(settings, "110101099", "dispute_cases", "x.csv", cases("C3,,甲,2015-07-01,加班,1,受理,"))
    drop(settings, S1, "dispute_cases", "empty.csv", "")
    result = ingest_pending(settings)
    by_name = {e.path.rsplit("/", 1)[1] + "@" + e.path.split("/")[2]: e for e in result.entries}
    got = {k: (e.status, e.error_code) for k, e in by_name.items()}
    assert got == {
        "good.csv@dispute_cases": (Status.LOADED, None),
        "nocol.csv@dispute_cases": (Status.REJECTED, "file.missing_column"),
        "notes.docx@dispute_cases": (Status.REJECTED, "file.unsupported_format"),
        "x.csv@no_such_dataset": (Status.REJECTED, "file.unknown_dataset"),
        "x.csv@dispute_cases": (Status.REJECTED, "file.unknown_street"),
        "empty.csv@dispute_cases": (Status.REJECTED, "file.empty"),
    }
    assert by_name["nocol.csv@dispute_cases"].error_column == "employer_name"
    assert all(e.rows_read == 0 for e in result.entries if e.status == Status.REJECTED)
    assert reconcile(settings).ok


def test_a_file_over_the_size_limit_is_rejected_without_being_read(settings, monkeypatch) -> None:
    from dataclasses import replace

    small = replace(settings, max_file_bytes=100)
    drop(small, S1, "dispute_cases", "big.csv", cases(*["C1,,甲公司,2015-07-01,工资报酬,3,受理,"] * 10))
    monkeypatch.setattr(process_mod, "read_submission", lambda *a: pytest.fail("read a too-large file"))
    [e] = ingest_pending(small).entries
    assert (e.status, e.error_code) == (Status.REJECTED, "file.too_large")


def test_an_internal_error_leaves_the_file_pending_and_others_proceed(settings, monkeypatch) -> None:
    drop(settings, S1, "dispute_cases", "a.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,"))
    drop(settings, S1, "hotline_tickets", "t.csv", "工单编号,派单时间,诉求类别,办理时限\nT1,2015-07-01 09:00,欠薪,2015-07-05 09:00\n")
    real = process_mod.validate

    def flaky(frame, dataset, street):
        if dataset.name == "hotline_tickets" and frame.height:
            raise RuntimeError("disk on fire")
        return real(frame, dataset, street)

    monkeypatch.setattr(process_mod, "validate", flaky)
    result = ingest_pending(settings)
    assert [e.dataset for e in result.entries] == ["dispute_cases"]
    assert result.errors == [(f"inbox/{S1}/hotline_tickets/t.csv", "RuntimeError")]
    assert [f.path for f in pending(settings)] == [f"inbox/{S1}/hotline_tickets/t.csv"]
    monkeypatch.setattr(process_mod, "validate", real)
    [e] = ingest_pending(settings).entries
    assert e.dataset == "hotline_tickets" and e.status == Status.LOADED


def test_reconciliation_notices_a_landing_file_that_disagrees_with_the_ledger(settings) -> None:
    drop(settings, S1, "dispute_cases", "a.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,", "C2,,乙,2015-07-01,加班,1,受理,"))
    [e] = ingest_pending(settings).entries
    path = settings.data_dir / e.landing_path
    pl.read_parquet(path).head(1).write_parquet(path)
    rep = reconcile(settings)
    assert not rep.ok and "landing holds 1 rows, ledger says 2" in rep.failures[0]


def test_later_files_get_later_sequence_numbers(settings) -> None:
    drop(settings, S1, "dispute_cases", "a.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,受理,"))
    ingest_pending(settings)
    drop(settings, S1, "dispute_cases", "b.csv", cases("C1,,甲公司,2015-07-01,工资报酬,3,调解成功,2015-07-20"))
    ingest_pending(settings)
    rows = landed(settings, "dispute_cases").sort("_ingest_seq")
    assert rows["status"].to_list() == ["受理", "调解成功"]
    assert rows["_ingest_seq"].to_list() == [1, 2]
    assert [e.seq for e in read_ledger(settings.ledger_path)] == [1, 2]
