"""Event latency: one file dropped into the inbox of a running ``dagster dev`` until its
street's receipt is on disk, and until the published warehouse has a new publish, and
where that time goes.

    uv run python bench/event_latency.py [--scale 1.0] [--repeats 5] [--seed 2015]

In a temporary directory: a generated district is written to the drop zone and
processed once with ``union-warehouse run`` (the warm warehouse a day's drop lands on;
not timed). Then ``dagster dev -m pipelines.definitions`` starts on the same instance
(``DAGSTER_HOME`` configured as ``union-warehouse`` configures the instance it manages:
the repository's ``dagster.yaml`` and the pooled SQLite event log), the ``inbox_sensor`` is
started (``dagster sensor start``; it runs by default, this covers an instance where
an operator stopped it), and REPEATS times one
new submission (a street's dispute-case file of one case, written as ``.part`` and
renamed, as upload tools should) is dropped; the script polls every 0.25 s for a new
receipt (``receipts/<street>/*.json``) and the published warehouse's
``audit.publish_manifest`` until ``max(publish_id)`` grows, then waits for that run to
end before the next drop. Goals (issue 18): median drop → receipt at most 10 s, drop →
publish at most 20 s.

The breakdown comes from the instance's event log: the run's creation (sensor wait:
the 2 s settle time, the sensor's 3 s interval, the daemon's loop), queue and launch of
the run worker, each step's own duration (``STEP_SUCCESS``) and the rest of the time
between the run's start and the publish step's end (step worker processes starting,
waiting for the writer pool). Writes ``bench/results/event_latency.json`` (with
``--executor in_process``: ``event_latency_in_process.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import duckdb

from pipelines.generate import generate_district

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_S = 20.0  # drop -> publish, median
RECEIPT_TARGET_S = 10.0  # drop -> receipt, median
STREET = "110101001"
HEADER = "案件编号,街道代码,用人单位,受理日期,争议类型,涉及人数,案件状态,结案日期\n"
BIN = Path(sys.executable).parent
# steps that end before the publish (the path from the drop to the new published file)
PUBLISH_STEP = "published__warehouse"
EXECUTOR_ENV = "UNION_BENCH_EXECUTOR"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def max_publish_id(published: Path) -> int:
    """The newest publish of the published file (attached afresh: never a cached handle)."""
    if not published.exists():
        return 0
    with duckdb.connect(":memory:") as con:
        con.execute("attach ? as p (read_only)", [str(published)])
        [(value,)] = con.execute("select coalesce(max(publish_id), 0) from p.audit.publish_manifest").fetchall()
    return int(value)


def drop_submission(raw: Path, i: int) -> tuple[str, float]:
    """A new one-case dispute file, written under a temporary name and renamed: returns
    its inbox path and the time it appeared."""
    folder = raw / "inbox" / STREET / "dispute_cases"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"dispute_cases_latency_{i:02d}_{int(time.time())}.csv"
    part = target.with_name(target.name + ".part")
    part.write_text(HEADER + f"LAT-{i:02d}-{time.time_ns()},,延迟测试公司{i},2015-12-20,工资报酬,2,受理,\n",
                    encoding="utf-8")
    os.replace(part, target)
    return target.relative_to(raw).as_posix(), time.time()


def receipts(data: Path) -> set[Path]:
    """The receipts of the street the bench drops into."""
    return set((data / "receipts" / STREET).glob("*.json"))


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.25) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


def run_timeline(home: Path, dropped_at: float, seen_at: float) -> dict[str, Any]:
    """The sensor run started after ``dropped_at``: its phases, from the event log."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        after = datetime.fromtimestamp(dropped_at, UTC)
        records = instance.get_run_records(dg.RunsFilter(tags={"union/trigger": "inbox_sensor"}, created_after=after))
        if not records:
            raise RuntimeError("no sensor run found after the drop")
        record = min(records, key=lambda r: r.create_timestamp)
        run = record.dagster_run
        wait_until(lambda: instance.get_run_by_id(run.run_id).is_finished, 900, f"run {run.run_id} to end", 1.0)
        events = [e for e in instance.all_logs(run.run_id) if e.dagster_event is not None]
        status = instance.get_run_by_id(run.run_id).status.value
    first: dict[str, float] = {}
    steps: dict[str, float] = {}
    step_end: dict[str, float] = {}
    for e in events:
        kind = e.dagster_event.event_type_value
        first.setdefault(kind, e.timestamp)
        if kind == "STEP_SUCCESS" and e.step_key:
            steps[e.step_key] = e.dagster_event.event_specific_data.duration_ms / 1000
            step_end[e.step_key] = e.timestamp
    kinds = dg.DagsterEventType
    created = record.create_timestamp.timestamp()
    started = first.get(kinds.RUN_START.value, created)
    launched = first.get(kinds.RUN_STARTING.value, created)
    ended = first.get(kinds.RUN_SUCCESS.value, first.get(kinds.RUN_FAILURE.value, started))
    published_at = step_end.get(PUBLISH_STEP)
    before_publish = {k: v for k, v in steps.items() if published_at and step_end[k] <= published_at}
    out: dict[str, Any] = {
        "run_id": run.run_id,
        "status": status,
        "files": run.tags.get("union/files"),
        "sensor_wait_s": round(created - dropped_at, 2),
        "queue_s": round(launched - created, 2),
        "launch_s": round(started - launched, 2),
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "steps_before_publish_s": round(sum(before_publish.values()), 2),
        "run_start_to_publish_s": round(published_at - started, 2) if published_at else None,
        "publish_seen_after_s": round(seen_at - published_at, 2) if published_at else None,
        "run_total_s": round(ended - started, 2),
    }
    if published_at:
        out["step_overhead_s"] = round(published_at - started - out["steps_before_publish_s"], 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--executor", choices=("project", "in_process"), default="project",
                        help="the job's executor: as the project defines it (Dagster's default, a process per "
                        "step), or every step in the run's own process (this file's `defs`)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="union-latency-"))
    raw, data, home = work / "raw", work / "data", work / "dagster_home"
    home.mkdir()
    from pipelines.orchestration.instance_config import write_instance_yaml

    write_instance_yaml(home, ROOT / "dagster.yaml", {})  # as union-warehouse writes the one it manages
    env = {k: v for k, v in os.environ.items() if k != "UNION_FAULT_AT"}
    env.update(UNION_RAW_DIR=str(raw), UNION_DATA_DIR=str(data), DAGSTER_HOME=str(home), UNION_PII_KEY="bench",
               DAGSTER_DISABLE_TELEMETRY="1")
    published = data / "published" / "warehouse.duckdb"
    log = (work / "bench.log").open("ab")
    dev: subprocess.Popen[bytes] | None = None
    if args.executor == "in_process":
        env[EXECUTOR_ENV] = "in_process"
        location = ["-f", str(Path(__file__).resolve()), "-d", str(ROOT)]
    else:
        location = ["-m", "pipelines.definitions"]
    result: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "executor": args.executor, "target_s": TARGET_S,
                              "receipt_target_s": RECEIPT_TARGET_S,
                              "cores": os.cpu_count(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        t = time.perf_counter()
        manifest = generate_district(raw, scale=args.scale, seed=args.seed)
        result["district_files"] = len(manifest.files)
        print(f"generated {len(manifest.files)} files in {time.perf_counter() - t:.0f} s; warming up ...", flush=True)
        t = time.perf_counter()
        subprocess.run([str(BIN / "union-warehouse"), "run"], cwd=ROOT, env=env, stdout=log, stderr=log, check=True)
        result["warm_up_run_s"] = round(time.perf_counter() - t, 1)
        print(f"warm-up run (whole district) {result['warm_up_run_s']} s; publish {max_publish_id(published)}",
              flush=True)

        port = _free_port()
        dev = subprocess.Popen([str(BIN / "dagster"), "dev", *location, "-p", str(port), "--log-level", "warning"],
                               cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)

        def webserver_up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        t = time.perf_counter()
        wait_until(webserver_up, 300, "dagster dev's webserver", 1.0)
        subprocess.run([str(BIN / "dagster"), "sensor", "start", "inbox_sensor", *location],
                       cwd=ROOT, env=env, stdout=log, stderr=log, check=True)
        result["dagster_dev_ready_s"] = round(time.perf_counter() - t, 1)
        print(f"dagster dev up and inbox_sensor started in {result['dagster_dev_ready_s']} s", flush=True)

        samples = []
        for i in range(args.repeats):
            before = max_publish_id(published)
            receipts_before = receipts(data)
            receipt_at: list[float] = []

            def published_yet(b: int = before, r: set[Path] = receipts_before, at: list[float] = receipt_at) -> bool:
                if not at and receipts(data) - r:
                    at.append(time.time())
                return max_publish_id(published) > b

            path, dropped_at = drop_submission(raw, i)
            seen_at = wait_until(published_yet, 900, "a new publish")
            if not receipt_at:  # written in the publish's last quarter second
                receipt_at.append(seen_at)
            sample = {"file": path, "receipt_s": round(receipt_at[0] - dropped_at, 2),
                      "latency_s": round(seen_at - dropped_at, 2), **run_timeline(home, dropped_at, seen_at)}
            samples.append(sample)
            print(f"[{i + 1}/{args.repeats}] receipt {sample['receipt_s']:.1f} s, publish {sample['latency_s']:.1f} s: "
                  f"sensor {sample['sensor_wait_s']} s, "
                  f"queue {sample['queue_s']} s, launch {sample['launch_s']} s, "
                  f"steps {sample['steps_before_publish_s']} s + overhead {sample.get('step_overhead_s')} s "
                  f"-> {json.dumps(sample['steps_s'])}", flush=True)
            time.sleep(2)
        result["samples"] = samples
        result["median_latency_s"] = round(median(s["latency_s"] for s in samples), 2)
        result["median_receipt_s"] = round(median(s["receipt_s"] for s in samples), 2)
        keys = ["sensor_wait_s", "queue_s", "launch_s", "steps_before_publish_s", "step_overhead_s",
                "publish_seen_after_s", "run_total_s"]
        result["median_phases_s"] = {k: round(median(s[k] for s in samples if s.get(k) is not None), 2) for k in keys}
        step_names = sorted({k for s in samples for k in s["steps_s"]})
        result["median_steps_s"] = {k: round(median(s["steps_s"][k] for s in samples if k in s["steps_s"]), 2)
                                    for k in step_names}
        result["meets_target"] = result["median_latency_s"] <= TARGET_S
        result["meets_receipt_target"] = result["median_receipt_s"] <= RECEIPT_TARGET_S
    finally:
        if dev is not None:
            os.killpg(dev.pid, signal.SIGTERM)
            try:
                dev.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(dev.pid, signal.SIGKILL)
                dev.wait()
        log.close()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    out = RESULTS / ("event_latency.json" if args.executor == "project" else f"event_latency_{args.executor}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2, ensure_ascii=False))
    return 0


def in_process_definitions():  # type: ignore[no-untyped-def]
    """The project's definitions with every job on the in-process executor (for
    ``--executor in_process``: ``dagster dev -f bench/event_latency.py``)."""
    import dagster as dg

    from pipelines.definitions import defs

    project = defs()

    return dg.Definitions(assets=project.assets, asset_checks=project.asset_checks, jobs=project.jobs,
                          sensors=project.sensors, schedules=project.schedules, resources=project.resources,
                          loggers=project.loggers, executor=dg.in_process_executor)


if __name__ == "__main__":
    raise SystemExit(main())
elif os.environ.get(EXECUTOR_ENV) == "in_process":  # loaded by dagster dev as a code location
    defs = in_process_definitions()
