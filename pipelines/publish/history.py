"""Append-only history of published indicator values and of the publishes themselves.

Kept as Parquet files under ``$UNION_DATA_DIR/history/`` (one file per publish, never
rewritten), outside the working warehouse so a rebuild from scratch cannot lose it:

- ``indicators/<publish_id>.parquet``: the indicator rows whose value changed in that
  publish (a new version of each), stamped with run, time, code version and manifest;
- ``publishes/<publish_id>.parquet``: one row per publish: run, time, code version,
  as-of date, manifest id, the fingerprint of all indicator values, the submissions.

A re-run on unchanged inputs adds a publish row but no indicator versions: a version is
only appended where a value column differs from the latest version of that row.

Crash safety: the published warehouse is the commit point. A publish writes its
indicator versions, swaps the published file, and only then writes its publish row
(:meth:`HistoryStore.append_versions`, the swap, :meth:`HistoryStore.commit`). An
indicator file without a publish row therefore belongs to a publish that was killed
before or just after its swap; the next publish calls :meth:`HistoryStore.discard_orphans`
first, which deletes it when the published warehouse does not list that publish (the
swap never happened: nobody saw those versions) and restores the missing publish row
from the published warehouse's ``audit.publish_manifest`` when it does.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.files import replacing

KEY = ["indicator_code", "area_code", "period_type", "period_start"]
# what makes a new version: the numbers and the verdict, not who computed them or when
VALUE_COLUMNS = [
    "numerator", "denominator", "value", "target", "target_comparator", "met_threshold", "status", "is_complete",
]
STAMP_COLUMNS = ["version_number", "publish_id", "run_id", "computed_at", "code_version"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrphanReport:
    """What :meth:`HistoryStore.discard_orphans` found left by a killed publish."""

    discarded: list[int] = field(default_factory=list)  # never swapped in: versions deleted
    restored: list[int] = field(default_factory=list)  # swapped in: publish row written back
    temporaries: int = 0  # half-written files removed

    @property
    def clean(self) -> bool:
        return not (self.discarded or self.restored or self.temporaries)


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

    def append_versions(self, publish_id: int, new_versions: pl.DataFrame) -> None:
        """First step of a publish: its new indicator versions (nothing when none changed).
        Not history yet: only :meth:`commit` after the swap makes them so."""
        if new_versions.height:
            _atomic_write(new_versions.to_arrow(), self.indicators_dir / _name(publish_id))

    def commit(self, publish_id: int, publish_row: pl.DataFrame) -> None:
        """Last step of a publish, after the published warehouse was swapped in: the
        publish row that vouches for the versions of ``publish_id``."""
        _atomic_write(publish_row.to_arrow(), self.publishes_dir / _name(publish_id))

    def append(self, publish_id: int, new_versions: pl.DataFrame, publish_row: pl.DataFrame) -> None:
        """Both steps at once, for a history kept without a published warehouse."""
        self.append_versions(publish_id, new_versions)
        self.commit(publish_id, publish_row)

    def discard_orphans(self, published: Path | None = None) -> OrphanReport:
        """Undo what a killed publish left; call before computing the next publish.

        Indicator files without a publish row were written by a publish that did not
        finish. When the published warehouse ``published`` lists that publish in
        ``audit.publish_manifest`` it was swapped in (killed between the swap and
        :meth:`commit`): its publish row is written back from there. Otherwise analysts
        never saw it: the file is deleted, and the next publish computes its versions
        afresh. Publish rows the published warehouse lists but the history lacks (a
        publish with no new versions killed after its swap) are written back too.
        Half-written temporary files are removed."""
        temporaries = 0
        for folder in (self.indicators_dir, self.publishes_dir):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                temporaries += 1
        committed = {int(p.stem) for p in self.publish_files() if p.stem.isdigit()}
        swapped = published_log(published)
        restored: list[int] = []
        if swapped is not None:
            for row in swapped.filter(~pl.col("publish_id").is_in(sorted(committed))).iter_slices(1):
                publish_id = int(row["publish_id"][0])
                self.commit(publish_id, row)
                committed.add(publish_id)
                restored.append(publish_id)
        discarded: list[int] = []
        for path in self.indicator_files():
            if path.stem.isdigit() and int(path.stem) not in committed:
                path.unlink()
                discarded.append(int(path.stem))
        report = OrphanReport(discarded, restored, temporaries)
        if not report.clean:
            log.warning("history: discarded versions of unpublished publish(es) %s, restored publish row(s) %s, "
                        "removed %d temporary file(s)", discarded, restored, temporaries)
        return report


def _name(publish_id: int) -> str:
    return f"{publish_id:08d}.parquet"


def published_log(published: Path | None) -> pl.DataFrame | None:
    """The publish log of the published warehouse, or None when there is none to read:
    no file, or a damaged one (truncated, overwritten). A damaged file is replaced whole
    by the publish about to run; what it cannot tell (whether a killed publish got as far
    as its swap) is then taken as not swapped, so that publish's versions are computed
    afresh."""
    if published is None or not published.exists():
        return None
    # Attached from an in-memory database rather than connected: a connection to a path
    # this process already has open would reuse that (possibly replaced) file.
    try:
        with duckdb.connect(":memory:") as con:
            con.execute("attach ? as published (read_only)", [str(published)])
            [(present,)] = con.execute(
                "select count(*) from duckdb_tables() where database_name = 'published' "
                "and schema_name = 'audit' and table_name = 'publish_manifest'"
            ).fetchall()
            if not present:
                return None
            return con.sql("select * from published.audit.publish_manifest order by publish_id").pl()
    except duckdb.Error as exc:
        log.warning("history: the published warehouse %s cannot be read (%s): the publish replaces it whole",
                    published, type(exc).__name__)
        return None


def _atomic_write(table: pa.Table, target: Path) -> None:
    with replacing(target) as tmp:
        pq.write_table(table, tmp)


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
