"""A damaged working warehouse heals itself: it is derived from the landed files, so
it is moved aside (never deleted) and the next build starts from scratch."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.warehouse.bootstrap import ensure_dbt_inputs, heal_working_warehouse


def _warehouse(settings) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.sql("create table t as select range as i, repeat('x', 100) as s from range(200000)")


def test_a_truncated_working_warehouse_is_moved_aside_and_rebuilt(settings, caplog) -> None:
    _warehouse(settings)
    path = settings.warehouse_path
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises(duckdb.Error):  # what every run met before: an IOException naming the file
        duckdb.connect(str(path)).close()
    ensure_dbt_inputs(settings)
    assert not path.exists()
    [aside] = list(path.parent.glob("working.duckdb.damaged-*"))
    assert aside.stat().st_size == size // 2  # kept as it was, for a post-mortem
    assert "moved aside" in caplog.text
    with duckdb.connect(str(path)) as con:  # DuckDB creates it afresh for the build
        assert con.sql("select 1").fetchall() == [(1,)]


def test_garbage_in_place_of_the_warehouse_is_moved_aside(settings) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    settings.warehouse_path.write_bytes(b"not a database at all" * 1000)
    assert heal_working_warehouse(settings)
    assert not settings.warehouse_path.exists()


def test_a_sound_warehouse_is_left_alone(settings) -> None:
    _warehouse(settings)
    before = settings.warehouse_path.stat().st_size
    assert not heal_working_warehouse(settings)
    assert settings.warehouse_path.stat().st_size == before
    assert not list(settings.warehouse_path.parent.glob("*.damaged-*"))


def test_a_truncated_file_whose_catalog_still_opens_is_moved_aside(settings) -> None:
    """Cut off only at its tail, a warehouse opens and lists its tables, then fails
    halfway through a build: the block count in its header gives it away."""
    _warehouse(settings)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.sql("create table u as select range as i, md5(range::varchar) as s from range(1000000)")
    path = settings.warehouse_path
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size - 262144)
    with duckdb.connect(str(path)) as con:  # the catalog still reads
        assert con.sql("select count(*) from duckdb_tables()").fetchall() == [(2,)]
    assert heal_working_warehouse(settings)
    assert not path.exists()
