"""Warehouse build: the dbt models through Dagster (dagster-dbt ``dbt build``: seeds,
models, tests) against the same compiled SQL executed directly in DuckDB, on a
generated district that has been ingested and gated (not timed).

    uv run python bench/warehouse_build.py [SCALE]     # default 1 (a district)

Both sides start from a warehouse holding only the seeds, in fresh processes,
alternating. Then the incremental case: after a full Dagster build, one street
re-sends its year-end member list (one member fewer, a new file), it is ingested and
gated (not timed), and the Dagster build that follows (which plans: only the member
models and what reads them, pipelines/warehouse/build_plan.py) is timed against the full
one; three such corrections, the median kept.
Every figure twice: the whole process (Python start and imports included) and the work
alone (``work_s``: Dagster's materialisation, or the direct SQL loop), which is what the
build costs as a step of a run whose process is already up.
Writes bench/results/warehouse_build_<scale>.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import compare, measure, save_results  # noqa: E402

from pipelines.config import Settings  # noqa: E402
from pipelines.generate import generate_district  # noqa: E402
from pipelines.ingest.process import ingest_pending  # noqa: E402
from pipelines.orchestration.dbt import (  # noqa: E402
    DBT_PROJECT_DIR,
    dbt_environment,
    dbt_executable,
    prepare_manifest,
)
from pipelines.quality.runner import QualityRunner, check_pending  # noqa: E402
from pipelines.warehouse.bootstrap import ensure_dbt_inputs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2015-12-31"

DAGSTER = """
import dagster as dg
from pathlib import Path
from pipelines.config import Settings
from pipelines.orchestration.dbt import build_dbt_assets, dbt_resource
from pipelines.orchestration.resources import AsOf, UnionPaths
s = Settings(raw_dir=Path({raw!r}), data_dir=Path({data!r}), pii_key="bench")
import time
t = time.perf_counter()
r = dg.materialize([build_dbt_assets()], resources={{"paths": UnionPaths.from_settings(s),
    "as_of": AsOf(as_of={as_of!r}), "dbt": dbt_resource()}})
assert r.success
BENCH_EXTRA = {{"work_s": time.perf_counter() - t}}
"""

DIRECT = """
import json, time, duckdb
t = time.perf_counter()
nodes = json.load(open({plan!r}))
con = duckdb.connect({db!r})
for n in nodes:
    if n["kind"] == "model":
        con.execute(f"create schema if not exists {{n['schema']}}")
        con.execute(f"create or replace table {{n['schema']}}.{{n['alias']}} as ({{n['sql']}})")
    else:
        con.execute(f"select count(*) from ({{n['sql']}})").fetchall()
con.close()
BENCH_EXTRA = {{"work_s": time.perf_counter() - t}}
"""


def dbt(args: list[str], settings: Settings, target: Path) -> None:
    with dbt_environment(settings):
        subprocess.run([dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                        str(DBT_PROJECT_DIR), "--target-path", str(target), "--vars", json.dumps({"as_of_date": AS_OF}),
                        "--quiet"], check=True)


def plan(manifest: dict) -> list[dict[str, str]]:
    """Models and tests in dependency order, with their compiled SQL."""
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] in ("model", "test")}
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for dep in nodes[uid]["depends_on"]["nodes"]:
            visit(dep)
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    tests_last = [u for u in order if nodes[u]["resource_type"] == "model"] + [
        u for u in order if nodes[u]["resource_type"] == "test"]
    return [{"kind": nodes[u]["resource_type"], "schema": nodes[u]["schema"], "alias": nodes[u]["alias"],
             "sql": nodes[u]["compiled_code"]} for u in tests_last]


def resend_one_street(s: Settings, street: str = "110101001", fewer: int = 1) -> Path:
    """A corrected year-end member list from one street: its landed rows, ``fewer`` fewer,
    written as a new CSV in the drop zone (canonical English headers)."""
    import polars as pl

    from pipelines.ingest.ledger import read_ledger

    entry = next(e for e in read_ledger(s.ledger_path)
                 if e.dataset == "members" and e.street_code == street and e.as_of_date == AS_OF and e.landing_path)
    landed = pl.read_parquet(s.data_dir / entry.landing_path) if not (s.data_dir / entry.landing_path).is_dir() \
        else pl.read_parquet(s.data_dir / entry.landing_path / "*.parquet")
    rows = landed.select([c for c in landed.columns if not c.startswith("_") and c != "备注"]).head(landed.height - fewer)
    target = s.inbox / street / "members" / f"members_{AS_OF}_corrected{fewer}.csv"
    rows.write_csv(target)
    return target


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    work = Path(tempfile.mkdtemp(prefix="bench_dbt_"))
    try:
        s = Settings(raw_dir=work / "raw", data_dir=work / "data", pii_key="bench")
        generate_district(s.raw_dir, scale=scale, seed=7)
        ingest_pending(s)
        check_pending(s, QualityRunner(ROOT / "expectations"), "bench", date.fromisoformat(AS_OF))
        ensure_dbt_inputs(s)
        prepare_manifest()  # the Dagster side only reads it, as a code location does
        target = work / "target"
        dbt(["seed"], s, target)  # the seeds only: both sides start from here
        seeded = work / "seeded.duckdb"
        shutil.copyfile(s.warehouse_path, seeded)
        dbt(["compile"], s, target)  # against a warehouse without models: full-refresh SQL
        compiled = plan(json.loads((target / "manifest.json").read_text()))
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(compiled))
        direct_db = work / "direct" / "working.duckdb"  # same catalog name as the compiled SQL
        direct_db.parent.mkdir()
        reset = (f"import shutil; shutil.copyfile({str(seeded)!r}, {str(s.warehouse_path)!r}); "
                 f"shutil.copyfile({str(seeded)!r}, {str(direct_db)!r})\n")
        res = compare({
            "dagster_dbt": reset + DAGSTER.format(raw=str(s.raw_dir), data=str(s.data_dir), as_of=AS_OF),
            "direct_sql": reset + DIRECT.format(plan=str(plan_path), db=str(direct_db)),
        }, repeats=2)
        import duckdb
        with duckdb.connect(str(direct_db), read_only=True) as con:
            members = con.sql("select count(*) from intermediate.int_member_snapshots").fetchall()[0][0]

        # incremental: a full build, then one street's corrected list on top of it, three
        # times (each a new correction of the same year-end list), the median kept
        build = DAGSTER.format(raw=str(s.raw_dir), data=str(s.data_dir), as_of=AS_OF)
        full = measure(f"import shutil; shutil.copyfile({str(seeded)!r}, {str(s.warehouse_path)!r})\n" + build)
        singles = []
        for fewer in (1, 2, 3):
            resend_one_street(s, fewer=fewer)
            ingest_pending(s)
            check_pending(s, QualityRunner(ROOT / "expectations"), "bench", date.fromisoformat(AS_OF))
            singles.append(measure(build))
        single = {m: median(x[m] for x in singles) for m in ("wall_s", "work_s")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    row = {
        "scale": scale,
        "member_snapshot_rows": members,
        "models": sum(1 for n in compiled if n["kind"] == "model"),
        "tests": sum(1 for n in compiled if n["kind"] == "test"),
        "dagster_dbt_s": round(res["dagster_dbt"]["wall_s"], 2),
        "direct_sql_s": round(res["direct_sql"]["wall_s"], 2),
        "ratio": round(res["dagster_dbt"]["wall_s"] / res["direct_sql"]["wall_s"], 2),
        "dagster_dbt_peak_gb": round(res["dagster_dbt"]["peak_bytes"] / 1e9, 2),
        "full_build_s": round(full["wall_s"], 2),
        "single_street_build_s": round(single["wall_s"], 2),
        "single_street_builds_s": [round(x["wall_s"], 2) for x in singles],
        "single_street_share": round(single["wall_s"] / full["wall_s"], 3),
        # the same, without the process start and imports (the build as a step of a run)
        "dagster_dbt_work_s": round(res["dagster_dbt"]["work_s"], 2),
        "direct_sql_work_s": round(res["direct_sql"]["work_s"], 2),
        "work_ratio": round(res["dagster_dbt"]["work_s"] / res["direct_sql"]["work_s"], 2),
        "full_build_work_s": round(full["work_s"], 2),
        "single_street_build_work_s": round(single["work_s"], 2),
        "single_street_builds_work_s": [round(x["work_s"], 2) for x in singles],
        "single_street_work_share": round(single["work_s"] / full["work_s"], 3),
    }
    save_results(f"warehouse_build_{scale:g}", row, "scale", "member snapshot rows", "models", "tests",
                 "Dagster + dbt build", "same SQL in DuckDB", "ratio")
    print(f"| {scale:g} | {members:,} | {row['models']} | {row['tests']} | {row['dagster_dbt_s']} s | "
          f"{row['direct_sql_s']} s | {row['ratio']}x |")
    print(f"without process start and imports: {row['dagster_dbt_work_s']} s vs {row['direct_sql_work_s']} s "
          f"({row['work_ratio']}x)")
    print(f"single-street correction after a full build: {row['single_street_build_s']} s vs "
          f"{row['full_build_s']} s full ({row['single_street_share']:.0%}); without process start and imports "
          f"{row['single_street_build_work_s']} s vs {row['full_build_work_s']} s ({row['single_street_work_share']:.0%})")


if __name__ == "__main__":
    main()
