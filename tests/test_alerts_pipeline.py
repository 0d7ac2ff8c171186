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
from pipelines.definitions import build_definitions
from pipelines.generate import Manifest, generate_district
from pipelines.generate.district import build_district
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.orchestration.alerts import ALERTS_KEY, AlertSinks, alert_state
from pipelines.orchestration.dbt import build_dbt_assets
from pipelines.orchestration.resources import AsOf, UnionPaths

from .helpers import instance_home

AS_OF = date(2015, 12, 31)
SEED, SCALE = 2015, 0.1

pytestmark = pytest.mark.slow


def _evaluate(settings: Settings, as_of: date = AS_OF) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [alert_state],
        resources={
            "paths": UnionPaths.from_settings(settings),
            "as_of": AsOf(as_of=as_of.isoformat()),
            "alert_sinks": AlertSinks(),
        },
    )


def _build_and_evaluate(settings: Settings, as_of: date) -> dg.ExecuteInProcessResult:
    """The warehouse built as of ``as_of`` and the alerts evaluated: what ``union-warehouse
    run --as-of`` does once nothing new is in the inbox (the warning rules' findings are
    part of the build), without the publish and the reports."""
    # the dbt tests were run by the district's build: the models alone (dbt's tests are
    # not what this asserts, and they are half of a build's time)
    job = dg.define_asset_job(
        "build_and_evaluate",
        selection=dg.AssetSelection.assets(*build_dbt_assets().keys, ALERTS_KEY).without_checks(),
    )
    defs = dg.Definitions.merge(build_definitions(settings), dg.Definitions(jobs=[job]))
    result = defs.resolve_job_def("build_and_evaluate").execute_in_process(
        run_config={"resources": {"as_of": {"config": {"as_of": as_of.isoformat()}}}},
    )
    assert result.success
    return result


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("alerts_e2e")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(instance_home(root / "dagster_home")))
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


def _live_state(settings: Settings, kind: str = "%") -> dict[str, list[tuple[object, ...]]]:
    """The live alert state as a receiver or an analyst sees it (not the wall-clock time
    or run id of the latest sighting, which every evaluation refreshes): the alerts of
    rule kind ``kind`` (all by default), every event and delivery."""
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        return {
            "alerts": con.execute(
                "select * exclude (last_seen, last_run_id) from alerts where rule_kind like ? "
                "order by alert_id", [kind]
            ).fetchall(),
            "alert_events": con.execute("select * from alert_events order by event_seq").fetchall(),
            "alert_deliveries": con.execute(
                "select event_id, sink, status, attempts from alert_deliveries order by all"
            ).fetchall(),
        }


def test_as_of_runs_beyond_the_data_or_in_the_past_notify_nobody(
    district: tuple[Settings, Manifest],
) -> None:
    """#15.5: the year's data, evaluated live as of 2015-12-31; then as of 2016-06-30
    (half a year past the last record: contracts look 'expired unrenewed' and cases 'in
    mediation for months' only because 2016's records do not exist) and as of 2015-06-30
    (a past date). Neither notifies anyone or changes a live alert; what they found is
    in alert_whatif; going back to 2015-12-31 gives the state the detour never touched."""
    settings, _ = district
    before, warnings = _live_state(settings), _live_state(settings, "labour")
    outbox = settings.outbox_path.read_text(encoding="utf-8")
    for as_of, mode in ((date(2016, 6, 30), "what-if"), (date(2015, 6, 30), "backfill")):
        [mat] = _build_and_evaluate(settings, as_of).asset_materializations_for_node("alerts__alert_state")
        assert mat.metadata["mode"].value == mode
        assert (mat.metadata["opened"].value, mat.metadata["resolved"].value) == (0, 0)
        assert settings.outbox_path.read_text(encoding="utf-8") == outbox
        # the operator alerts are live in every mode (they note the date they were seen at)
        assert _live_state(settings, "labour") == warnings
        with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
            [(found, unknown_live)] = con.execute(
                "select count(*), count(*) filter (where live_status is null) "
                "from alert_whatif where as_of = ?", [as_of]
            ).fetchall()
        # what the evaluation found is kept, and it holds what the old code would have
        # opened (and sent): warnings no live evaluation has raised
        assert found == mat.metadata["whatif_alerts"].value and unknown_live > 0
    [mat] = _build_and_evaluate(settings, AS_OF).asset_materializations_for_node("alerts__alert_state")
    assert mat.metadata["mode"].value == "live"
    assert settings.outbox_path.read_text(encoding="utf-8") == outbox
    assert _live_state(settings) == before
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        modes = con.execute("select mode from alert_runs order by evaluated_at, rowid").fetchall()
    assert [m for (m,) in modes][-3:] == ["what-if", "backfill", "live"]
