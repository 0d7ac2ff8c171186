"""What the exports read from the published warehouse (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

PERIOD_TYPES = ("month", "quarter", "half", "year")
PERIOD_NAMES = {"month": "月度", "quarter": "季度", "half": "半年", "year": "年度"}


@dataclass(frozen=True)
class PublishedIndicators:
    values: pl.DataFrame
    history: pl.DataFrame
    publish: dict

    @property
    def as_of(self) -> str:
        return str(self.publish["as_of_date"])


def read_published(path: Path) -> PublishedIndicators:
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}: run `union-warehouse run` first")
    with duckdb.connect(str(path), read_only=True) as con:
        values = con.sql(
            "select * from indicators.indicator_values "
            "order by indicator_code, area_level desc, area_code, period_type, period_start"
        ).pl()
        history = con.sql(
            "select * from indicators.indicator_history "
            "order by indicator_code, area_code, period_type, period_start, version_number"
        ).pl()
        publish = con.sql("select * from audit.publish_manifest order by publish_id desc limit 1").pl()
    if publish.is_empty():
        raise ValueError(f"{path} has no publish manifest")
    return PublishedIndicators(values, history, publish.drop("submissions").to_dicts()[0])
