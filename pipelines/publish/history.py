"""Append-only history of published indicator values and of the publishes themselves.

Kept as Parquet files under ``$UNION_DATA_DIR/history/`` (one file per publish, never
rewritten), outside the working warehouse so a rebuild from scratch cannot lose it:

- ``indicators/<publish_id>.parquet``: the indicator rows whose value changed in that
  publish (a new version of each), stamped with run, time, code version and manifest;
- ``publishes/<publish_id>.parquet``: one row per publish: run, time, code version,
  as-of date, manifest id, the fingerprint of all indicator values, the submissions.

A re-run on unchanged inputs adds a publish row but no indicator versions: a version is
only appended where a value column differs from the latest version of that row.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

KEY = ["indicator_code", "area_code", "period_type", "period_start"]
# what makes a new version: the numbers and the verdict, not who computed them or when
VALUE_COLUMNS = [
    "numerator", "denominator", "value", "target", "target_comparator", "met_threshold", "status", "is_complete",
]
STAMP_COLUMNS = ["version_number", "publish_id", "run_id", "computed_at", "code_version"]


@dataclass(frozen=True)
class HistoryStore:
    root: Path

    @property
    def indicators_dir(self) -> Path:
        return self.root / "indicators"

    @property
    def publishes_dir(self) -> Path:
        return self.root / "publishes"

    def indicator_files(self) -> list[Path]:
        return sorted(self.indicators_dir.glob("*.parquet"))

    def publish_files(self) -> list[Path]:
        return sorted(self.publishes_dir.glob("*.parquet"))

    def next_publish_id(self) -> int:
        ids = [int(p.stem) for p in self.publish_files() if p.stem.isdigit()]
        return max(ids, default=0) + 1

    def indicator_history(self) -> pl.DataFrame | None:
        files = self.indicator_files()
        return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed") if files else None

    def publishes(self) -> pl.DataFrame | None:
        files = self.publish_files()
        return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed") if files else None

    def latest_versions(self) -> pl.DataFrame | None:
        history = self.indicator_history()
        if history is None:
            return None
        return history.sort("version_number").group_by(KEY, maintain_order=True).last()

    def append(self, publish_id: int, new_versions: pl.DataFrame, publish_row: pl.DataFrame) -> None:
        """Indicator versions first, then the publish row that vouches for them: a crash
        between the two leaves versions whose publish id has no row; the next publish
        finds their values already current and appends nothing twice."""
        name = f"{publish_id:08d}.parquet"
        if new_versions.height:
            _atomic_write(new_versions.to_arrow(), self.indicators_dir / name)
        _atomic_write(publish_row.to_arrow(), self.publishes_dir / name)


def _atomic_write(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def values_fingerprint(values: pl.DataFrame) -> str:
    """SHA-256 of every indicator row (all columns the model computed), in key order:
    equal fingerprints mean byte-identical indicator values."""
    ordered = values.sort(KEY)
    digest = hashlib.sha256()
    digest.update(",".join(ordered.columns).encode())
    for row in ordered.iter_rows():
        digest.update(("\x1f".join("" if v is None else repr(v) for v in row) + "\n").encode())
    return digest.hexdigest()


def changed_rows(current: pl.DataFrame, latest: pl.DataFrame | None) -> pl.DataFrame:
    """The current rows that are new or whose value columns differ from their latest
    published version, with the version number they will get."""
    if latest is None or latest.is_empty():
        return current.with_columns(pl.lit(1, pl.Int64).alias("version_number"))
    previous = latest.select(
        KEY + [pl.col(c).alias(f"_prev_{c}") for c in VALUE_COLUMNS] + [pl.col("version_number").alias("_prev_version")]
    )
    joined = current.join(previous, on=KEY, how="left", nulls_equal=True)
    differs = pl.col("_prev_version").is_null()
    for c in VALUE_COLUMNS:
        differs = differs | pl.col(c).ne_missing(pl.col(f"_prev_{c}").cast(current.schema[c]))
    return (
        joined.filter(differs)
        .with_columns((pl.col("_prev_version").fill_null(0) + 1).cast(pl.Int64).alias("version_number"))
        .select(current.columns + ["version_number"])
    )
