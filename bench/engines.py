"""The same dbt build on both engines, and how each grows with the data (issue 17).

    uv run --extra spark python bench/engines.py [SCALE ...]     # default: 1 10 100

For each scale a district is generated (scale 1: one district, about 105,000 member
snapshot rows; 100: a city of about 10.5 million), ingested and gated (timed, but not
compared), then the whole project is built from an empty warehouse with ``dbt build``
(seeds, models, tests), once on DuckDB and once on local Spark (dbt-spark's session
method: one JVM, ``local[*]`` on this machine's cores), each in a fresh process. For
Spark, the mirror that gives the later steps the Spark-built tables
(pipelines/warehouse/spark_mirror.py) is timed too: it is part of a Spark run's build step.

Per build: the whole process (``wall_s``: Python start, dbt's parse, the JVM start on
Spark), dbt's own elapsed time, the summed node times of models and of tests, and the
peak resident memory of the process tree (dbt, and on Spark the JVM; sampled every
0.2 s from /proc). The order alternates by scale (DuckDB first at odd positions) so a
machine that slows during the run does not favour one engine throughout.

Writes bench/results/engines_<scale>.json per scale (as each ends) and prints the Markdown rows.
``UNION_SPARK_DRIVER_MEMORY`` is raised with the scale (2g, 4g, 8g) unless set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from pipelines.config import Settings
from pipelines.generate import generate_district
from pipelines.ingest.process import ingest_pending
from pipelines.orchestration.dbt import DBT_PROJECT_DIR, dbt_environment, dbt_executable
from pipelines.quality.runner import QualityRunner, check_pending
from pipelines.warehouse.bootstrap import ensure_dbt_inputs

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2015-12-31"


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, now."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parent[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, pp in parent.items() if pp == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree)


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run ``cmd``; its wall seconds and the peak resident bytes of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed:\n{err.decode(errors='replace')[-3000:]}")
    return time.perf_counter() - started, peak


def dbt_build(settings: Settings, engine: str, target: Path) -> dict[str, float]:
    """A full ``dbt build`` on ``engine`` from an empty warehouse, in its own process."""
    settings.warehouse_path.unlink(missing_ok=True)
    shutil.rmtree(settings.data_dir / "warehouse" / "spark", ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    with dbt_environment(settings, engine=engine):
        env = dict(os.environ)
    cmd = [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target), "--log-path", str(target / "logs"),
           "--vars", json.dumps({"as_of_date": AS_OF}), "--quiet"]
    wall, peak = run_measured(cmd, env)
    results = json.loads((target / "run_results.json").read_text())
    node = {kind: sum(r["execution_time"] for r in results["results"] if r["unique_id"].startswith(kind + "."))
            for kind in ("model", "test", "seed")}
    return {"wall_s": round(wall, 1), "dbt_elapsed_s": round(results["elapsed_time"], 1),
            "models_s": round(node["model"], 1), "tests_s": round(node["test"], 1), "seeds_s": round(node["seed"], 1),
            "nodes": len(results["results"]), "peak_gb": round(peak / 1e9, 2)}


def mirror(settings: Settings, target: Path) -> dict[str, float]:
    """The Spark build's tables into the working DuckDB file, as a Spark run's build step
    does after dbt (a JVM start more only if some table is empty)."""
    from pipelines.orchestration.dbt import dbt_resource, spark_describe
    from pipelines.warehouse.spark_mirror import mirror_spark_build

    with dbt_environment(settings, engine="spark"):
        started = time.perf_counter()
        done = mirror_spark_build(settings.data_dir, settings.warehouse_path, target,
                                  lambda relations: spark_describe(dbt_resource(), settings, target, relations))
    return {"mirror_s": round(time.perf_counter() - started, 1), "mirrored_tables": done.tables,
            "mirrored_rows": done.rows, "empty_described": done.empty_described}


def size_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def bench_scale(scale: float, position: int) -> dict[str, object]:
    os.environ.setdefault("UNION_SPARK_DRIVER_MEMORY", "2g" if scale <= 1 else "4g" if scale <= 10 else "8g")
    work = Path(tempfile.mkdtemp(prefix=f"bench_engines_{scale:g}_"))
    try:
        s = Settings(raw_dir=work / "raw", data_dir=work / "data", pii_key="bench")
        started = time.perf_counter()
        generate_district(s.raw_dir, scale=scale, seed=7)
        generated = time.perf_counter()
        ingest_pending(s)
        check_pending(s, QualityRunner(ROOT / "expectations"), "bench", date.fromisoformat(AS_OF))
        ensure_dbt_inputs(s)
        landed = time.perf_counter()
        print(f"scale {scale:g}: generated in {generated - started:.0f} s, landed and gated in "
              f"{landed - generated:.0f} s", flush=True)
        landing_bytes = size_bytes(s.data_dir / "landing")
        from pipelines.ingest.ledger import read_ledger

        rows_by_dataset: dict[str, int] = {}
        for e in read_ledger(s.ledger_path):
            if e.dataset:
                rows_by_dataset[e.dataset] = rows_by_dataset.get(e.dataset, 0) + e.rows_loaded
        engines = ("duckdb", "spark") if position % 2 == 0 else ("spark", "duckdb")
        row: dict[str, object] = {"scale": scale, "landing_mb": round(landing_bytes / 1e6, 1),
                                  "rows_landed": dict(sorted(rows_by_dataset.items())),
                                  "generate_s": round(generated - started, 1), "land_and_gate_s": round(landed - generated, 1)}
        for engine in engines:
            target = work / f"target-{engine}"
            built = dbt_build(s, engine, target)
            print(f"scale {scale:g}: {engine} build {built}", flush=True)
            if engine == "spark":
                built.update(mirror(s, target))
                built["tables_mb"] = round(size_bytes(s.data_dir / "warehouse" / "spark" / "tables") / 1e6, 1)
                print(f"scale {scale:g}: mirrored {built['mirrored_tables']} tables in {built['mirror_s']} s", flush=True)
            else:
                import duckdb

                with duckdb.connect(str(s.warehouse_path), read_only=True) as con:
                    row["member_snapshot_rows"] = con.sql(
                        "select count(*) from intermediate.int_member_snapshots").fetchall()[0][0]
                built["tables_mb"] = round(size_bytes(s.warehouse_path) / 1e6, 1)
            row[engine] = built
        duck, spark = row["duckdb"], row["spark"]
        assert isinstance(duck, dict) and isinstance(spark, dict)
        row["spark_over_duckdb"] = round(spark["wall_s"] / duck["wall_s"], 2)
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    scales = [float(a) for a in sys.argv[1:]] or [1.0, 10.0, 100.0]
    rows = []
    for position, scale in enumerate(scales):
        row = bench_scale(scale, position)
        rows.append(row)
        out = Path(__file__).parent / "results" / f"engines_{scale:g}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(row, indent=2) + "\n")
    print("| scale | member snapshot rows | DuckDB build | Spark build | Spark / DuckDB | Spark models / tests | "
          "mirror | peak memory DuckDB / Spark |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        d, s = r["duckdb"], r["spark"]
        print(f"| {r['scale']:g} | {r['member_snapshot_rows']:,} | {d['wall_s']} s | {s['wall_s']} s | "
              f"{r['spark_over_duckdb']}x | {s['models_s']} s / {s['tests_s']} s | {s['mirror_s']} s | "
              f"{d['peak_gb']} / {s['peak_gb']} GB |")


if __name__ == "__main__":
    main()
