"""``union-warehouse export``: the spreadsheet and the HTML report of the latest
published indicators, under ``$UNION_DATA_DIR/exports/``."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import Settings
from pipelines.export.indicator_data import read_published
from pipelines.export.report import write_report
from pipelines.export.workbook import write_workbook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exported:
    workbook: Path
    report: Path
    as_of: str
    rows: int
    seconds: float


def export_indicators(settings: Settings) -> Exported:
    started = time.perf_counter()
    data = read_published(settings.published_path)
    stem = f"indicators_{data.as_of}"
    workbook = write_workbook(data, settings.exports_dir / f"{stem}.xlsx")
    report = write_report(data, settings.exports_dir / f"{stem}.html")
    seconds = time.perf_counter() - started
    log.info("exported %d indicator rows as of %s in %.1f s", data.values.height, data.as_of, seconds)
    return Exported(workbook, report, data.as_of, data.values.height, seconds)
