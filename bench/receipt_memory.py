"""The receipt of a file whose every row is bad: peak memory (RSS) and time of writing it,
in a fresh process, against a process that only imports what the receipt writer uses.

    uv run python bench/receipt_memory.py [ROWS]     # default 100,000

One members CSV of ROWS rows is generated, every row broken twice (an ID number with a
wrong check digit, a 职工类别 not in the list: two problems a row), and ingested (not
timed). The measured process writes its receipt (xlsx + json) and the run summary.
Target (issue 9): peak RSS under 500 MB at 100,000 rows.
Writes bench/results/receipt_memory.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import polars as pl  # noqa: E402

from pipelines.config import Settings  # noqa: E402
from pipelines.generate import write_members_csv  # noqa: E402
from pipelines.ingest.process import ingest_pending  # noqa: E402

STREET = "110101001"
TARGET_MB = 500

IMPORTS = """
import pyarrow.parquet, xlsxwriter
from pipelines.feedback.receipts import write_receipts
"""

RECEIPT = """
import shutil
from pathlib import Path
from pipelines.config import Settings
from pipelines.feedback.receipts import write_receipts
s = Settings(raw_dir=Path({raw!r}), data_dir=Path({data!r}), pii_key="bench")
shutil.rmtree(s.receipts_dir, ignore_errors=True)
run = write_receipts(s, run_id="bench")
[o] = run.outcomes
assert run.errors == 0 and o.rows_quarantined == {n} and o.problems == {problems}, o
"""


# Peak RSS of the measured process itself: VmHWM (Linux) belongs to the process's own
# address space, which exec replaces; ru_maxrss (what bench/_measure.py reads) is
# inherited from the parent across fork + exec, so a child of this script (which has
# just generated and ingested the file) would report at least the script's own peak.
_WRAPPER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"wall_s": wall, "peak_bytes": peak}))
"""


def measure(code: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark case failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(cases: dict[str, str], repeats: int = 3) -> dict[str, dict[str, float]]:
    """Alternate the cases ``repeats`` times; median wall time, highest peak."""
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
    for _ in range(repeats):
        for name, code in cases.items():
            runs[name].append(measure(code))
            time.sleep(0.2)
    return {
        k: {"wall_s": median(r["wall_s"] for r in v), "peak_bytes": max(r["peak_bytes"] for r in v)}
        for k, v in runs.items()
    }


def _break_every_row(csv: Path) -> None:
    """Every row gets a wrong ID check digit and an unknown 职工类别."""
    df = pl.read_csv(csv, infer_schema=False)
    ids = pl.col("身份证号")
    last = ids.str.slice(17, 1)
    flipped = pl.when(last == "0").then(pl.lit("1")).otherwise(pl.lit("0"))
    df = df.with_columns(ids.str.slice(0, 17) + flipped, pl.lit("临时工").alias("职工类别"))
    df.write_csv(csv)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    work = Path(tempfile.mkdtemp(prefix="bench_receipt_"))
    try:
        s = Settings(raw_dir=work / "raw", data_dir=work / "data", pii_key="bench")
        csv = s.inbox / STREET / "members" / f"members_{n}.csv"
        csv.parent.mkdir(parents=True)
        write_members_csv(csv, n, seed=7, street_code=STREET)
        _break_every_row(csv)
        [e] = ingest_pending(s, run_id="bench").entries
        assert e.rows_quarantined == n, e
        problems = pl.scan_parquet(s.data_dir / e.problems_path).select(pl.len()).collect().item()
        res = compare(
            {
                "imports": IMPORTS,
                "receipt": RECEIPT.format(
                    raw=str(s.raw_dir), data=str(s.data_dir), n=n, problems=problems
                ),
            },
            repeats=3,
        )
        xlsx = next((s.receipts_dir / STREET).glob("*.xlsx"))
        json_file = xlsx.with_suffix(".json")
        row = {
            "rows": n,
            "problems": problems,
            "imports_s": round(res["imports"]["wall_s"], 2),
            "imports_peak_mb": round(res["imports"]["peak_bytes"] / 1e6),
            "receipt_s": round(res["receipt"]["wall_s"], 2),
            "receipt_peak_mb": round(res["receipt"]["peak_bytes"] / 1e6),
            "receipt_net_mb": round(
                (res["receipt"]["peak_bytes"] - res["imports"]["peak_bytes"]) / 1e6
            ),
            "xlsx_mb": round(xlsx.stat().st_size / 1e6, 1),
            "json_mb": round(json_file.stat().st_size / 1e6, 1),
            "target_mb": TARGET_MB,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(__file__).parent / "results" / "receipt_memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(row, indent=2) + "\n")
    print(
        "| rows (all bad) | problems | receipt (xlsx + json) | peak RSS | imports alone | xlsx | json |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {n:,} | {problems:,} | {row['receipt_s']} s | {row['receipt_peak_mb']} MB | "
        f"{row['imports_peak_mb']} MB, {row['imports_s']} s | {row['xlsx_mb']} MB | "
        f"{row['json_mb']} MB |"
    )


if __name__ == "__main__":
    main()
