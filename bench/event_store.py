"""What storing one Dagster event costs on the SQLite instance: Dagster's own event log
(an engine, a connection and a checkpoint per write) against the pooled one the managed
instance names (pipelines/orchestration/sqlite_event_log.py).

    uv run python bench/event_store.py [EVENTS] [ROUNDS]     # default: 400 events, 3 rounds

Each round stores EVENTS asset materializations (one per dbt model) and EVENTS asset
check evaluations (one per dbt test: the same two writes, the run's database and the
cross-run index, and Dagster asks whether the check tables exist before each) into a
fresh instance of each kind, the kinds alternating, with the pragma ``union-warehouse`` sets (``UNION_DAGSTER_SQLITE_SYNC``,
default ``off``). Prints the median milliseconds per event of each kind and their ratio,
and writes bench/results/event_store.json.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]


def _check_event(i: int):  # type: ignore[no-untyped-def]
    import dagster as dg
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
    from dagster._core.events import DagsterEvent, DagsterEventType

    return DagsterEvent(
        event_type_value=DagsterEventType.ASSET_CHECK_EVALUATION.value, job_name="bench",
        event_specific_data=AssetCheckEvaluation(
            asset_key=dg.AssetKey(["bench", f"model_{i % 50}"]), check_name=f"test_{i}", passed=True,
            metadata={"failures": 0}),
    )


def store(kind: str, events: int, what: str = "materialization") -> tuple[float, float]:
    """(wall ms, CPU ms) per event of ``what`` (materialization, check) stored into a
    fresh instance of ``kind``."""
    import dagster as dg
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    from pipelines.orchestration.instance_config import write_instance_yaml

    home = Path(tempfile.mkdtemp(prefix=f"event-store-{kind}-"))
    try:
        if kind == "pooled":
            write_instance_yaml(home, ROOT / "dagster.yaml", {})
        else:
            shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
        os.environ["DAGSTER_HOME"] = str(home)  # the pragma applies to files under it
        with dg.DagsterInstance.from_config(str(home)) as instance:
            run_id = f"bench-{kind}"
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(events):
                event = _check_event(i) if what == "check" else DagsterEvent(
                    event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value, job_name="bench",
                    event_specific_data=StepMaterializationData(
                        dg.AssetMaterialization(asset_key=["bench", f"model_{i}"], metadata={"rows": i})),
                )
                instance.store_event(EventLogEntry(
                    error_info=None, level=20, user_message="", run_id=run_id, timestamp=time.time(),
                    step_key="warehouse_models", job_name="bench", dagster_event=event))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert len(instance.get_records_for_run(run_id, limit=events + 1).records) == events
        return wall / events * 1000, cpu / events * 1000
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    from pipelines.orchestration.instance_config import (
        relax_sqlite_instance_syncs,
        sqlite_sync_mode,
    )

    relax_sqlite_instance_syncs()
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in (
        "dagster", "pooled", "dagster_check", "pooled_check")}
    for r in range(rounds):
        order = ("dagster", "pooled") if r % 2 == 0 else ("pooled", "dagster")
        for what in ("materialization", "check"):
            for kind in order:
                name = kind if what == "materialization" else f"{kind}_check"
                samples[name].append(store(kind, events, what))
                print(f"round {r + 1}/{rounds} {kind} {what}: {samples[name][-1][0]:.2f} ms per event", flush=True)
    result = {
        "events": events, "rounds": rounds, "sqlite_sync": sqlite_sync_mode(), "cores": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **{f"{kind}_ms_per_event": round(median(w for w, _ in s), 2) for kind, s in samples.items()},
        **{f"{kind}_cpu_ms_per_event": round(median(c for _, c in s), 2) for kind, s in samples.items()},
    }
    result["ratio"] = round(result["dagster_ms_per_event"] / result["pooled_ms_per_event"], 2)
    result["check_ratio"] = round(result["dagster_check_ms_per_event"] / result["pooled_check_ms_per_event"], 2)
    out = ROOT / "bench" / "results" / "event_store.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Dagster's SQLite event log {result['dagster_ms_per_event']} ms per event, pooled "
          f"{result['pooled_ms_per_event']} ms ({result['ratio']}x); check evaluations "
          f"{result['dagster_check_ms_per_event']} ms against {result['pooled_check_ms_per_event']} ms "
          f"({result['check_ratio']}x); wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
