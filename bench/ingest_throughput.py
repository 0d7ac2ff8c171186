"""Ingestion throughput: the whole ingestion of one members file (read, type, validate
every row rule, land Parquet, quarantine, ledger) against Polars just reading it.

    uv run python bench/ingest_throughput.py            # 1M and 10M rows
    uv run python bench/ingest_throughput.py 1000000    # only 1M

Targets (issue 2): ingestion <= 3x the Polars read; peak memory at 10M rows < 6 GB.
Writes bench/results/ingest_throughput.json and prints a Markdown table.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import compare, save_results  # noqa: E402

from pipelines.generate import write_members_csv  # noqa: E402

POLARS_READ = """
import polars as pl
df = pl.read_csv({csv!r}, infer_schema=False)
assert df.height == {n}
"""

INGEST = """
import shutil
from pathlib import Path
from pipelines.config import Settings
from pipelines.ingest.process import ingest_pending
data = Path({data!r})
shutil.rmtree(data, ignore_errors=True)
s = Settings(raw_dir=Path({raw!r}), data_dir=data, pii_key="bench")
[e] = ingest_pending(s).entries
assert e.rows_read == {n} and e.rows_loaded + e.rows_quarantined == {n}, e
"""


def run(n: int, work: Path) -> dict[str, object]:
    raw = work / f"raw{n}"
    csv = raw / "inbox" / "110101001" / "members" / f"members_{n}.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    write_members_csv(csv, n, seed=7, street_code="110101001")
    res = compare(
        {
            "polars_read": POLARS_READ.format(csv=str(csv), n=n),
            "ingest": INGEST.format(data=str(work / f"data{n}"), raw=str(raw), n=n),
        },
        repeats=3 if n <= 2_000_000 else 2,
    )
    size = csv.stat().st_size
    shutil.rmtree(raw)
    shutil.rmtree(work / f"data{n}", ignore_errors=True)
    ratio = res["ingest"]["wall_s"] / res["polars_read"]["wall_s"]
    return {
        "rows": n,
        "csv_bytes": size,
        "polars_read_s": round(res["polars_read"]["wall_s"], 2),
        "ingest_s": round(res["ingest"]["wall_s"], 2),
        "ratio": round(ratio, 2),
        "rows_per_s": int(n / res["ingest"]["wall_s"]),
        "ingest_peak_gb": round(res["ingest"]["peak_bytes"] / 1e9, 2),
        "polars_peak_gb": round(res["polars_read"]["peak_bytes"] / 1e9, 2),
    }


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000, 10_000_000]
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        rows = [run(n, work) for n in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save_results("ingest_throughput", rows, "rows", "CSV", "Polars read", "ingest", "ratio", "rows/s",
                 "ingest peak", "Polars peak")
    for r in rows:
        print(f"| {r['rows']:,} | {r['csv_bytes'] / 1e9:.2f} GB | {r['polars_read_s']} s | {r['ingest_s']} s | "
              f"{r['ratio']}x | {r['rows_per_s']:,} | {r['ingest_peak_gb']} GB | {r['polars_peak_gb']} GB |")


if __name__ == "__main__":
    main()
