"""The Dagster side: the Definitions hold what operators expect, a run ingests and gates."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import dagster as dg
import pytest

from pipelines.contract import DATASETS, get_dataset
from pipelines.definitions import PIPELINE_JOB, build_definitions
from pipelines.ingest.dropzone import log_ref, path_digest
from pipelines.ingest.ledger import read_ledger
from pipelines.orchestration.landing import LEDGER_KEY, ingest_submissions, landing_key
from pipelines.orchestration.quality import quality_suites
from pipelines.orchestration.resources import AsOf, UnionPaths
from pipelines.quality.runner import blocked_submissions

from .conftest import drop
from .test_validate import valid_row

A, B = "110101001", "110101002"


def members_csv(n: int, as_of: str, street: str, start: int = 0) -> str:
    ds = get_dataset("members")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(ds.column_names))
    w.writeheader()
    for i in range(start, start + n):
        row = valid_row(ds, i)
        row.update(as_of_date=as_of, street_code=street, member_id=f"M{street}-{i}")
        w.writerow(row)
    return buf.getvalue()


def test_definitions_hold_the_assets_checks_sensor_and_job(settings) -> None:
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert {landing_key(d.name) for d in DATASETS} | {LEDGER_KEY} <= keys
    checks = {(k.asset_key, k.name) for k in graph.asset_check_keys}
    assert (LEDGER_KEY, "reconciliation") in checks
    assert {(landing_key(d.name), "quality_suite") for d in DATASETS} <= checks
    assert defs.resolve_sensor_def("inbox_sensor")
    assert defs.resolve_job_def(PIPELINE_JOB)


def _materialize(settings, as_of: str = "2024-12-31") -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [ingest_submissions, quality_suites],
        resources={"paths": UnionPaths.from_settings(settings), "as_of": AsOf(as_of=as_of)},
        raise_on_error=False,
    )


def _check(result: dg.ExecuteInProcessResult, asset: dg.AssetKey, name: str) -> dg.AssetCheckEvaluation:
    [ev] = [e for e in result.get_asset_check_evaluations() if e.asset_key == asset and e.check_name == name]
    return ev


def test_a_shrunken_snapshot_is_held_back_by_name_while_other_streets_flow(settings) -> None:
    drop(settings, A, "members", "m_06.csv", members_csv(14, "2024-06-30", A))
    first = _materialize(settings)
    assert first.success
    assert _check(first, LEDGER_KEY, "reconciliation").passed
    assert _check(first, landing_key("members"), "quality_suite").passed
    meta = first.get_asset_materialization_events()
    assert any(e.asset_key == landing_key("members") for e in meta)

    drop(settings, A, "members", "m_09.csv", members_csv(6, "2024-09-30", A))  # < half of 14
    drop(settings, B, "members", "m_09.csv", members_csv(9, "2024-09-30", B, start=100))
    second = _materialize(settings)
    ev = _check(second, landing_key("members"), "quality_suite")
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.WARN
    text = json.dumps({k: str(v.value) for k, v in ev.metadata.items()}, ensure_ascii=False)
    # the file by its reference: the name a street gives a file may carry a person's name
    assert "expect_table_row_count_to_be_between" in text and log_ref(f"inbox/{A}/members/m_09.csv") in text
    assert "m_09" not in text
    assert "expectations/members.json" in text

    sha = {e.path: e.sha256 for e in read_ledger(settings.ledger_path)}
    blocked = blocked_submissions(settings)
    assert set(blocked) == {sha[f"inbox/{A}/members/m_09.csv"]}
    assert blocked[sha[f"inbox/{A}/members/m_09.csv"]] == ["expect_table_row_count_to_be_between"]


def test_checked_submissions_are_not_checked_again(settings) -> None:
    drop(settings, A, "members", "m_06.csv", members_csv(5, "2024-06-30", A))
    _materialize(settings)
    again = _materialize(settings)
    ev = _check(again, landing_key("members"), "quality_suite")
    assert ev.passed and ev.metadata["submissions_checked"].value == 0


def test_the_sensor_requests_one_run_for_a_batch_and_not_again(settings) -> None:
    for i in range(3):
        drop(settings, A, "dispute_cases", f"c{i}.csv", "案件编号,用人单位,受理日期,争议类型,涉及人数,案件状态\n"
             f"C{i},甲公司,2015-07-01,加班,2,受理\n")
    time.sleep(2.1)  # past the settle time
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources={"paths": UnionPaths.from_settings(settings)})
        result = sensor(ctx)
        assert len(result.run_requests) == 1
        [req] = result.run_requests
        files = req.run_config["ops"]["ingest_submissions"]["config"]["files"]
        # the instance stores digests of the paths, never a street's own file name
        assert sorted(files) == sorted(path_digest(f"inbox/{A}/dispute_cases/c{i}.csv") for i in range(3))
        assert "c0.csv" not in json.dumps(req.run_config) + (result.cursor or "")
        dg.validate_run_config(defs.resolve_job_def(PIPELINE_JOB), req.run_config)
        ctx2 = dg.build_sensor_context(
            instance=instance, cursor=result.cursor, resources={"paths": UnionPaths.from_settings(settings)}
        )
        again = sensor(ctx2)
        assert not again.run_requests


@pytest.mark.parametrize("bad", ["not-a-date"])
def test_as_of_resource_rejects_a_bad_date(bad: str) -> None:
    with pytest.raises(ValueError):
        AsOf(as_of=bad).date()


def test_data_docs_show_the_failed_submission_without_personal_data(settings) -> None:
    drop(settings, A, "members", "m_06.csv", members_csv(14, "2024-06-30", A))
    _materialize(settings)
    drop(settings, A, "members", "m_09.csv", members_csv(6, "2024-09-30", A))
    _materialize(settings)
    docs = settings.reports_dir / "data_docs"
    assert (docs / "index.html").exists()
    assert (docs / "expectations" / "members.html").exists()
    pages = list((docs / "validations" / "members").rglob("*.html"))
    assert len(pages) == 1  # only the held-back submission gets a validation page
    html = pages[0].read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Must have greater than or equal to 7 rows" in text  # the failed row-count expectation
    assert "Unsuccessful Expectations 1 " in text
    rows = [valid_row(get_dataset("members"), i) for i in range(14)]
    for personal in ("id_number", "name", "phone"):
        assert not any(r[personal] in html for r in rows), personal

