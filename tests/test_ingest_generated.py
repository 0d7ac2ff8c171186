"""Acceptance: a generated district with defects is ingested exactly as its manifest says."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.generate import generate_district
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.ingest.process import ingest_pending
from pipelines.ingest.reconcile import reconcile


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("district")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="k")
    manifest = generate_district(settings.raw_dir, scale=0.15, seed=7, defects=True)
    result = ingest_pending(settings)
    return settings, manifest, result


def _quarantine(settings: Settings) -> dict[tuple[str, int], set[str]]:
    by_sha = {e.sha256: e.path for e in read_ledger(settings.ledger_path)}
    out: dict[tuple[str, int], set[str]] = {}
    for f in sorted(settings.quarantine_dir.rglob("*.parquet")):
        q = pl.read_parquet(f, columns=["_line_number", "_reasons", "_submission_sha256"])
        for row in q.iter_rows(named=True):
            out[(by_sha[row["_submission_sha256"]], row["_line_number"])] = {r["code"] for r in row["_reasons"]}
    return out


def test_every_injected_row_defect_is_quarantined_with_its_reason_and_nothing_else(district) -> None:
    settings, manifest, _ = district
    expected: dict[tuple[str, int], set[str]] = {}
    for d in manifest.row_defects:
        expected.setdefault((d.path, d.line), set()).update(d.codes)
    assert len(expected) >= 10
    assert _quarantine(settings) == expected


def test_every_injected_file_defect_is_rejected_with_its_reason(district) -> None:
    settings, manifest, result = district
    ledger = {e.path: e for e in read_ledger(settings.ledger_path)}
    for d in manifest.file_defects:
        e = ledger[d.path]
        assert e.error_code == d.code, d.path
        if d.code == "file.duplicate":
            assert e.status == Status.DUPLICATE and e.duplicate_of == d.duplicate_of
        else:
            assert e.status == Status.REJECTED
    defective = {d.path for d in manifest.file_defects}
    others = [e for p, e in ledger.items() if p not in defective]
    assert others and all(e.status == Status.LOADED for e in others)
    assert set(ledger) == {f.path for f in manifest.files}
    assert not result.errors


def test_every_file_reconciles_and_rows_read_match_what_was_written(district) -> None:
    settings, manifest, _ = district
    assert reconcile(settings).ok
    ledger = {e.path: e for e in read_ledger(settings.ledger_path)}
    for f in manifest.files:
        e = ledger[f.path]
        if e.status == Status.LOADED and f.rows is not None:
            assert e.rows_read == f.rows, f.path


def test_a_second_pass_over_the_same_drop_zone_changes_nothing(district) -> None:
    settings, _, _ = district
    before = settings.ledger_path.read_bytes()
    assert ingest_pending(settings).entries == []
    assert settings.ledger_path.read_bytes() == before


def test_the_quality_gate_holds_back_exactly_the_planted_dataset_defects(district) -> None:
    from datetime import date
    from pathlib import Path

    from pipelines.quality.runner import QualityRunner, blocked_submissions, check_pending

    settings, manifest, _ = district
    root = Path(__file__).resolve().parents[1]
    verdicts = check_pending(settings, QualityRunner(root / "expectations"), "test-run", date(2015, 12, 31),
                             datasets={"members"})
    assert verdicts
    path_of = {e.sha256: e.path for e in read_ledger(settings.ledger_path)}
    held = {path_of[sha]: names for sha, names in blocked_submissions(settings).items()}
    expected = {
        d.path: [f"{d.expectation}({d.column})" if d.column else d.expectation] for d in manifest.dataset_defects
    }
    assert held == expected
    streets_held = {p.split("/")[1] for p in held}
    members_files = {e.path for e in read_ledger(settings.ledger_path)
                     if e.dataset == "members" and e.status == Status.LOADED}
    assert {p.split("/")[1] for p in members_files} - streets_held  # the other streets flow
