"""The receipts asset: after the quality gate, one receipt per file, counts as metadata."""

from __future__ import annotations

import json

import dagster as dg

from pipelines.config import Settings
from pipelines.contract import DATASETS
from pipelines.feedback.receipts import read_receipt, receipt_paths
from pipelines.feedback.summaries import summary_path
from pipelines.ingest.ledger import read_ledger
from pipelines.orchestration.landing import LEDGER_KEY, ingest_submissions, landing_key
from pipelines.orchestration.quality import quality_suites
from pipelines.orchestration.receipts import QUALITY_RESULTS_KEY, RECEIPTS_KEY, street_receipts
from pipelines.orchestration.resources import AsOf, UnionPaths

from .conftest import drop
from .test_dagster_pipeline import members_csv

A, B = "110101001", "110101002"


def _run(settings: Settings) -> dg.ExecuteInProcessResult:
    quality_results = dg.AssetSpec(QUALITY_RESULTS_KEY, group_name="landing")
    return dg.materialize(
        [ingest_submissions, quality_suites, quality_results, street_receipts],
        resources={"paths": UnionPaths.from_settings(settings), "as_of": AsOf(as_of="2024-12-31")},
        raise_on_error=False,
    )


def test_the_asset_sits_after_the_ledger_the_gate_and_the_landing_datasets() -> None:
    spec = street_receipts.specs_by_key[RECEIPTS_KEY]
    assert spec.group_name == "landing"
    deps = {d.asset_key for d in spec.deps}
    assert {LEDGER_KEY, QUALITY_RESULTS_KEY} | {landing_key(d.name) for d in DATASETS} == deps


def test_receipts_carry_the_gates_verdict_and_the_metadata_only_counts(settings: Settings) -> None:
    drop(settings, A, "members", "m_06.csv", members_csv(14, "2024-06-30", A))
    first = _run(settings)
    assert first.success
    [entry] = read_ledger(settings.ledger_path)
    receipt = read_receipt(receipt_paths(settings, entry).json)
    assert receipt["quality"]["state"] == "passed"  # written after the gate ran
    assert summary_path(settings, first.run_id).exists()

    drop(settings, A, "members", "m_09.csv", members_csv(6, "2024-09-30", A))  # < half of 14
    drop(settings, B, "members", "m_09.csv", members_csv(9, "2024-09-30", B, start=100))
    second = _run(settings)
    assert second.success
    entries = {e.path: e for e in read_ledger(settings.ledger_path)}
    held = read_receipt(receipt_paths(settings, entries[f"inbox/{A}/members/m_09.csv"]).json)
    assert held["status"] == "held_back"
    assert "不足本街道上一期名单的一半" in held["quality"]["failures"][0]["message_zh"]
    fine = read_receipt(receipt_paths(settings, entries[f"inbox/{B}/members/m_09.csv"]).json)
    assert fine["status"] == "loaded" and fine["quality"]["state"] == "passed"

    [mat] = [e for e in second.get_asset_materialization_events() if e.asset_key == RECEIPTS_KEY]
    meta = mat.materialization.metadata
    assert meta["receipts_written"].value == 2
    assert meta["receipts_held_back"].value == 1 and meta["receipts_loaded"].value == 1
    assert meta["streets"].value == 2
    text = json.dumps({k: str(v.value) for k, v in meta.items()}, ensure_ascii=False)
    assert "m_09" not in text and "inbox/" not in text
    ledger_rows = read_ledger(settings.ledger_path)
    assert all(e.sha256[:12] not in text for e in ledger_rows)
    assert '"name-' not in text and "member_id-" not in text
    import pyarrow.parquet as pq

    rows = {
        r["street_code"]: r
        for r in pq.read_table(summary_path(settings, second.run_id)).to_pylist()
    }
    assert rows[A]["files_held_back"] == 1 and rows[B]["files_held_back"] == 0
    assert rows[A]["files_quality_pending"] == 0
