"""The quality gate's cost: the members suite on 1M landed member rows, against
reading the same landed Parquet with Polars.

    uv run python bench/quality_gate.py [ROWS]

Writes bench/results/quality_gate.json and prints a Markdown row.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import compare, save_results  # noqa: E402

from pipelines.config import Settings  # noqa: E402
from pipelines.generate import write_members_csv  # noqa: E402
from pipelines.ingest.process import ingest_pending  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

READ = """
import polars as pl
df = pl.read_parquet({parquet!r})
"""

GATE = """
import pandas as pd, polars as pl
from pathlib import Path
from pipelines.contract import get_dataset
from pipelines.quality.runner import QualityRunner
params = {{"fresh_since": pd.Timestamp("2015-01-01"), "min_rows": 0, "previous_as_of_date": pd.Timestamp("1900-01-01")}}
r = QualityRunner(Path({suites!r}))
res = r.validate(pl.read_parquet({parquet!r}), get_dataset("members"), params)
assert all(x["success"] for x in res), [x for x in res if not x["success"]]
"""

IMPORT_ONLY = """
from pipelines.quality.runner import QualityRunner
import great_expectations
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(tempfile.mkdtemp(prefix="bench_gate_"))
    try:
        s = Settings(raw_dir=work / "raw", data_dir=work / "data", pii_key="bench")
        csv = s.inbox / "110101001" / "members" / "m.csv"
        csv.parent.mkdir(parents=True)
        write_members_csv(csv, n, seed=7, street_code="110101001")
        [e] = ingest_pending(s).entries
        parquet = str(s.data_dir / e.landing_path)
        res = compare({
            "read_parquet": READ.format(parquet=parquet),
            "imports": IMPORT_ONLY,
            "gate": GATE.format(parquet=parquet, suites=str(ROOT / "expectations")),
        })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gate_net = res["gate"]["wall_s"] - res["imports"]["wall_s"]
    row = {
        "rows": n,
        "read_parquet_s": round(res["read_parquet"]["wall_s"], 2),
        "gx_import_s": round(res["imports"]["wall_s"], 2),
        "gate_total_s": round(res["gate"]["wall_s"], 2),
        "gate_without_imports_s": round(gate_net, 2),
        "gate_peak_gb": round(res["gate"]["peak_bytes"] / 1e9, 2),
    }
    save_results("quality_gate", row, "rows", "Polars read of the Parquet", "imports (GX)",
                 "gate (read + pandas + 21 expectations)", "gate without imports", "peak")
    print(f"| {n:,} | {row['read_parquet_s']} s | {row['gx_import_s']} s | {row['gate_total_s']} s | "
          f"{row['gate_without_imports_s']} s | {row['gate_peak_gb']} GB |")


if __name__ == "__main__":
    main()
