"""The resident ID's derived columns, made once, at landing.

A member's key in the warehouse is a keyed hash of their resident ID number:
``sha256(key || sha256(key || id_number))`` as lower-case hex, the key coming from
``UNION_PII_KEY``. It is computed here, when a submission is landed, and written beside
the ID number in the landing Parquet with the masked ID and the birth year:

    _id_number_hash     the keyed hash (the member key)
    _id_number_masked   first 6 digits + ******** + last 4
    _birth_year         digits 7-10

The warehouse reads these three and never the ID number itself, on any engine (DuckDB,
Spark): the key never reaches a SQL text, a compiled file, a dbt or Spark log, and a
person keeps one key whatever engine builds the warehouse. The raw number stays in the
landing zone (operators only), as before.

Each landing file records in its Parquet metadata a fingerprint of the key its hashes
were made with (never the key). :func:`rekey_landing` re-makes the derived columns of
any landing file whose fingerprint is not the current key's: a file landed before this
layout (no fingerprint), or after the key was rotated.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract.schema import Dataset
from pipelines.files import atomic_write_parquet

log = logging.getLogger(__name__)

HASHED_ID = ("members", "id_number")  # (dataset, column): the one hashed column
HASH, MASKED, BIRTH_YEAR = "_id_number_hash", "_id_number_masked", "_birth_year"
DERIVED = (HASH, MASKED, BIRTH_YEAR)
# what the warehouse calls each derived column, and its contract type
WAREHOUSE_NAMES = {HASH: ("id_number_hash", "str"), MASKED: ("id_number_masked", "str"),
                   BIRTH_YEAR: ("birth_year", "int")}
FINGERPRINT_KEY = b"union.pii_key_fingerprint"


def hashed_column(dataset: Dataset | str) -> str | None:
    """The column of ``dataset`` whose value is hashed at landing, if any."""
    name = dataset if isinstance(dataset, str) else dataset.name
    return HASHED_ID[1] if name == HASHED_ID[0] else None


def key_fingerprint(key: str) -> str:
    """Which key made a file's hashes, without the key (a one-way digest of it)."""
    return hashlib.sha256(f"union-warehouse landing key|{key}".encode()).hexdigest()[:16]


def _hashes(ids: pl.Series, key: str) -> pl.Series:
    """The keyed hash of each ID (null stays null). DuckDB's vectorised sha256, the key a
    bound session variable: never part of the query text."""
    con = duckdb.connect()
    try:
        con.execute("set variable union_pii_key = ?", [key])
        ids_table = pa.table({"id": ids.cast(pl.String).to_arrow()})  # noqa: F841 (scanned by name)
        out = con.sql(
            "select sha256(getvariable('union_pii_key') || sha256(getvariable('union_pii_key') || id)) "
            "as h from ids_table"
        ).pl()
    finally:
        con.close()
    return out["h"].cast(pl.String).alias(HASH)


def with_derived_columns(frame: pl.DataFrame, dataset: Dataset | str, key: str) -> pl.DataFrame:
    """``frame`` with the derived columns of its dataset's hashed ID (unchanged when the
    dataset has none)."""
    col = hashed_column(dataset)
    if col is None or col not in frame.columns:
        return frame
    ids = frame[col].cast(pl.String)
    return frame.with_columns(
        _hashes(ids, key),
        (ids.str.slice(0, 6) + "********" + ids.str.slice(-4)).alias(MASKED),
        ids.str.slice(6, 4).cast(pl.Int32, strict=False).alias(BIRTH_YEAR),
    )


def parquet_metadata(dataset: Dataset | str, key: str) -> dict[str, str] | None:
    """The key-value metadata a landing file of ``dataset`` carries (None: no hashed column)."""
    if hashed_column(dataset) is None:
        return None
    return {FINGERPRINT_KEY.decode(): key_fingerprint(key)}


def file_fingerprint(path: Path) -> str | None:
    meta = pq.read_metadata(path).metadata or {}
    value = meta.get(FINGERPRINT_KEY)
    return value.decode() if value is not None else None


def _landing_files(landing_dir: Path) -> Iterator[Path]:
    base = landing_dir / HASHED_ID[0]
    if base.is_dir():
        yield from sorted(base.glob("*/*.parquet"))


def rekey_landing(landing_dir: Path, key: str) -> int:
    """Re-make the derived columns of every landing file not hashed with ``key`` (written
    before this layout, or before a key rotation), atomically, file by file; returns how
    many were re-made. The caller holds the ingest lock."""
    want = key_fingerprint(key)
    done = 0
    for path in _landing_files(landing_dir):
        try:
            if file_fingerprint(path) == want:
                continue
        except Exception:  # unreadable: heal_outputs re-makes it from its raw file
            continue
        frame = pl.read_parquet(path).drop(DERIVED, strict=False)
        write_landing_parquet(with_derived_columns(frame, HASHED_ID[0], key), path, HASHED_ID[0], key)
        done += 1
    if done:
        log.warning("re-made the ID-number hashes of %d landing file(s) with the current key", done)
    return done


def write_landing_parquet(frame: pl.DataFrame, target: Path, dataset: Dataset | str, key: str) -> None:
    """A landing file written as every output file is, with its key fingerprint when its
    dataset has a hashed column."""
    atomic_write_parquet(frame, target, parquet_metadata(dataset, key))
