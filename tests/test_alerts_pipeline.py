"""Acceptance: a generated district (with defects) run through the real pipeline raises
exactly the planted warnings at their levels, and the operator alerts its defects call
for; a second evaluation sends nothing; no personal data leaves in an alert."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli import run_pipeline
from pipelines.config import Settings
from pipelines.generate import Manifest, generate_district
from pipelines.generate.district import build_district
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.orchestration.alerts import AlertSinks, alert_state
from pipelines.orchestration.resources import AsOf, UnionPaths

AS_OF = date(2015, 12, 31)
SEED, SCALE = 2015, 0.2

pytestmark = pytest.mark.slow


def _evaluate(settings: Settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [alert_state],
        resources={
            "paths": UnionPaths.from_settings(settings),
            "as_of": AsOf(as_of=AS_OF.isoformat()),
            "alert_sinks": AlertSinks(),
        },
    )


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("alerts_e2e")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    mp = pytest.MonkeyPatch()
    (root / "dagster_home").mkdir()
    mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    for var in ("UNION_ALERT_WEBHOOK_URL", "UNION_SMTP_HOST", "UNION_WARNING_RULES"):
        mp.delenv(var, raising=False)
    manifest = generate_district(settings.raw_dir, scale=SCALE, seed=SEED, defects=True)
    result = run_pipeline(settings, AS_OF)
    assert result.success
    evaluated = _evaluate(settings)
    assert evaluated.success
    yield settings, manifest
    mp.undo()


def _alerts(settings: Settings, where: str = "true") -> set[tuple[str, str, str, str, str]]:
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        rows = con.execute(
            f"select rule_code, level, area_code, entity_key, alert_window from alerts "
            f"where status = 'open' and {where}"
        ).fetchall()
    return set(rows)


def test_the_district_raises_exactly_the_planted_warnings(
    district: tuple[Settings, Manifest],
) -> None:
    settings, manifest = district
    planted = {
        (p.rule_code, p.level, p.area_code, p.entity_key, p.window)
        for p in manifest.planted_signals
    }
    assert sorted(p[0] for p in planted) == [f"W0{i}" for i in range(1, 10)]
    assert len({p[2] for p in planted}) == 9  # a street each
    assert _alerts(settings, "rule_kind = 'labour'") == planted


def test_the_operator_alerts_are_the_defects_that_need_a_person(
    district: tuple[Settings, Manifest],
) -> None:
    settings, manifest = district
    ledger = read_ledger(settings.ledger_path)
    by_path = {e.path: e for e in ledger}

    def resent(path: str) -> bool:  # the same name (any extension) loaded later
        e = by_path[path]
        stem = path.rsplit(".", 1)[0]
        return any(
            o.path != path
            and o.path.rsplit(".", 1)[0] == stem
            and o.status == Status.LOADED
            and o.seq > e.seq
            for o in ledger
        )

    rejected = {d.path for d in manifest.file_defects if d.code != "file.duplicate"}
    assert {by_path[p].status for p in rejected} == {Status.REJECTED}
    expected = {f"submission:{by_path[p].sha256}" for p in rejected if not resent(p)}
    assert expected and {a[3] for a in _alerts(settings, "rule_code = 'OPS_REJECTED'")} == expected
    held = {f"submission:{by_path[d.path].sha256}" for d in manifest.dataset_defects}
    assert {a[3] for a in _alerts(settings, "rule_code = 'OPS_QUALITY_GATE'")} == held
    assert _alerts(settings, "rule_code in ('OPS_SILENT', 'OPS_RUN_FAILED')") == set()


def test_a_second_evaluation_sends_nothing_new(district: tuple[Settings, Manifest]) -> None:
    settings, _ = district
    before = settings.outbox_path.read_text(encoding="utf-8")
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        events = con.execute("select count(*) from alert_events").fetchone()
    result = _evaluate(settings)
    [mat] = result.asset_materializations_for_node("alerts__alert_state")
    assert mat.metadata["opened"].value == 0 and mat.metadata["resolved"].value == 0
    assert settings.outbox_path.read_text(encoding="utf-8") == before
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        assert con.execute("select count(*) from alert_events").fetchone() == events
        assert con.execute(
            "select count(*) from alert_deliveries where status <> 'delivered'"
        ).fetchone() == (0,)
    lines = [json.loads(x) for x in before.splitlines()]
    assert len(lines) == len(_alerts(settings)) and {x["event_type"] for x in lines} == {"opened"}


def _personal_data() -> set[str]:
    """Every ID number, phone and (three-character or longer) person name in the district."""
    d = build_district(SEED, SCALE)
    out: set[str] = set()
    for sd in d.streets:
        pop = sd.population
        out |= set(pop["id_number"].to_list()) | {p for p in pop["phone"].to_list() if p}
        out |= {n for n in pop["name"].to_list() if len(n) >= 3}
        out |= {s.name for s in sd.staff if len(s.name) >= 3}
        for rec in sd.events["legal_services"]:
            name = rec.versions[-1][1]["lawyer_name"]
            if name and len(name) >= 3:
                out.add(name)
    return out


def test_no_personal_data_in_alerts_events_or_the_outbox(
    district: tuple[Settings, Manifest],
) -> None:
    settings, _ = district
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        texts = [
            str(v)
            for table in ("alerts", "alert_events")
            for row in con.execute(f"select * from {table}").fetchall()
            for v in row
        ]
    texts.append(Path(settings.outbox_path).read_text(encoding="utf-8"))
    blob = "\n".join(texts)
    personal = _personal_data()
    assert len(personal) > 1000
    assert [p for p in personal if p in blob] == []
