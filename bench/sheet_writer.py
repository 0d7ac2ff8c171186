"""What writing a streaming spreadsheet costs: the streaming sheet's row writer against
xlsxwriter's own cell-by-cell writer, on rows shaped like the indicator workbook's
(pipelines/export/workbook.py: 21 columns of text, counts, percentages, dates and
styled cells, a few formula-like texts).

    uv run python bench/sheet_writer.py [ROWS] [ROUNDS]     # default: 17,500 rows, 3 rounds

Each round writes the same ROWS into a fresh ``constant_memory`` workbook both ways, the
ways alternating: ``rows`` through ``StreamingSheet.write_row`` (what every table of the
project uses), ``cells`` through ``StreamingSheet.write_cell``, which hands each cell to
xlsxwriter (its bookkeeping and its cell writer, what ``write_row`` did before). Process
CPU time of the writing and the closing, not wall time (these machines are noisy).
Prints the median seconds of each way and their ratio, and writes
bench/results/sheet_writer.json.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.spreadsheet import StreamingWorkbook  # noqa: E402

STYLES = [None, {"num_format": "#,##0"}, {"num_format": "0.0%"}, {"bg_color": "#C6EFCE", "border": 1},
          {"font_color": "#808080"}, {"num_format": "yyyy-mm-dd"}]


def rows(n: int, seed: int = 7) -> list[tuple[list[object], list[dict | None]]]:
    """``n`` rows of 21 cells: as many texts, numbers and dates as an indicator row."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        values: list[object] = [
            f"DC{i % 17:02d}", "职工入会率（新就业形态劳动者）", f"1101010{i % 17:02d}", "东华门街道", "街道",
            "2024年第3季度", date(2024, 7, 1), date(2024, 9, 30), date(2024, 12, 31),
            rng.randrange(10_000), rng.randrange(1, 20_000), rng.random(), "比率",
            rng.random(), rng.uniform(-50, 50), rng.random(), rng.uniform(-50, 50), 0.9, "≥",
            rng.random() * 1.2, rng.choice(["达标", "未达标", "进行中", "滞后", "=异常"]),
        ]
        styles = [None] * 6 + [STYLES[5]] * 3 + [STYLES[1]] * 2 + [STYLES[2], None] + \
            [rng.choice(STYLES[:5]) for _ in range(6)] + [STYLES[2], STYLES[3]]
        out.append((values, styles))
    return out


def write(path: Path, data: list[tuple[list[object], list[dict | None]]], how: str) -> float:
    started = time.process_time()
    with StreamingWorkbook(path) as wb:
        sheet = wb.add_sheet("指标")
        for values, styles in data:
            if how == "rows":
                sheet.write_row(values, styles)  # type: ignore[arg-type]
            else:
                for col, value in enumerate(values):
                    sheet.write_cell(sheet.next_row, col, value, styles[col])  # type: ignore[arg-type]
                sheet.next_row += 1
    return time.process_time() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 17_500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    data = rows(n)
    seconds: dict[str, list[float]] = {"rows": [], "cells": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for how in ("cells", "rows") if r % 2 else ("rows", "cells"):
                seconds[how].append(write(Path(tmp) / f"{how}-{r}.xlsx", data, how))
                print(f"round {r + 1}/{rounds} {how}: {seconds[how][-1]:.2f} s CPU", flush=True)
    result = {
        "rows": n, "cells": n * 21, "rounds": rounds,
        "row_writer_s": round(median(seconds["rows"]), 3),
        "cell_writer_s": round(median(seconds["cells"]), 3),
        "ratio": round(median(seconds["cells"]) / median(seconds["rows"]), 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"{n:,} rows ({n * 21:,} cells): row writer {result['row_writer_s']:.2f} s, "
          f"xlsxwriter cell by cell {result['cell_writer_s']:.2f} s, {result['ratio']}x")
    out = ROOT / "bench" / "results" / "sheet_writer.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
