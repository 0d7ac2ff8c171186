"""Run one Python snippet in a fresh process and report wall time and peak memory.

Benchmarks compare whole processes side by side, so import costs and memory are
counted the same way for the project and for the floor it is measured against. A
snippet may also time a part of itself: whatever it puts in the dict ``BENCH_EXTRA``
(e.g. ``{"work_s": ...}``, the work without the imports) is reported beside the wall
time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

_WRAPPER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"wall_s": wall, "peak_bytes": peak, **globals().get("BENCH_EXTRA", {})}))
"""


def measure(code: str, env: dict[str, str] | None = None) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark case failed:\n{proc.stderr[-3000:]}")
    # the snippet's own output (dbt, Dagster) may interleave: take the last line that is ours
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith('{"wall_s"'):
            return json.loads(line)
    raise RuntimeError(f"benchmark case printed no measurement:\n{proc.stdout[-2000:]}")


def compare(cases: dict[str, str], repeats: int = 3, env: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """Alternate the cases ``repeats`` times (noisy machines) and keep medians."""
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
    for _ in range(repeats):
        for name, code in cases.items():
            runs[name].append(measure(code, env))
            time.sleep(0.2)
    return {k: {**{m: median(r[m] for r in v) for m in v[0] if m != "peak_bytes"},
                "peak_bytes": max(r["peak_bytes"] for r in v)} for k, v in runs.items()}


def save_results(name: str, results: Any, *columns: str) -> None:
    """Write ``results`` to ``bench/results/<name>.json`` and print the head of the
    Markdown table (``columns``) whose rows the benchmark prints next."""
    out = Path(__file__).parent / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
