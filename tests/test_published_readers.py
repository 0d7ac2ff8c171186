"""Readers of the published warehouse never block a publish, and never see half of one.

The working warehouse here is built by hand with just what :func:`publish` reads (the
indicator values and manifest, one mart), so the real publish code runs in a second
instead of behind a dbt build.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.config import Settings
from pipelines.publish.warehouse import publish

STREETS = ("110101001", "110101002")
DISTRICT = "110101"


def make_working_warehouse(settings: Settings, members: dict[str, int], manifest_id: str = "m1") -> None:
    """A minimal working warehouse: one count indicator (DC00) per street and for the
    district, monthly for January 2015, and ``marts.dim_street`` holding ``members``."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(code, n) for code, n in members.items()] + [(DISTRICT, sum(members.values()))]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists indicators")
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.dim_street (street_code varchar, members bigint)")
        con.executemany("insert into marts.dim_street values (?, ?)", [[c, n] for c, n in members.items()])
        con.execute("""
            create or replace table indicators.indicator_values (
                indicator_code varchar, area_code varchar, period_type varchar, period_start date,
                as_of_date date, is_complete boolean, numerator decimal(38, 2), denominator decimal(38, 2),
                value double, target double, target_comparator varchar, met_threshold double,
                status varchar, manifest_id varchar)""")
        con.executemany(
            "insert into indicators.indicator_values values "
            "('DC00', ?, 'month', date '2015-01-01', date '2015-01-31', true, ?, null, ?, null, null, null, "
            "'无目标', ?)",
            [[code, n, float(n), manifest_id] for code, n in rows],
        )
        con.execute("create or replace table indicators.indicator_manifest "
                    "(manifest_id varchar, submission_sha256 varchar, is_included boolean)")
        con.execute("insert into indicators.indicator_manifest values (?, 'a' || ?, true)",
                    [manifest_id, manifest_id])


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _members_seen_by_a_new_process(published: Path) -> list[tuple[str, int]]:
    code = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps(con.sql('select street_code, members from marts.dim_street order by 1').fetchall()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(published)], capture_output=True, text=True,
                         check=True, timeout=60)
    return [tuple(r) for r in json.loads(out.stdout)]


def test_an_open_reader_keeps_its_version_while_a_new_one_is_published(settings: Settings) -> None:
    make_working_warehouse(settings, {STREETS[0]: 10, STREETS[1]: 20}, manifest_id="m1")
    first = publish(settings, "run-1", now=datetime(2015, 2, 1, tzinfo=UTC))
    published = settings.published_path

    reader = duckdb.connect(str(published), read_only=True)
    try:
        assert _q(reader, "select sum(members) from marts.dim_street") == [(30,)]
        # the next run rebuilds its warehouse and publishes while the analyst is connected
        make_working_warehouse(settings, {STREETS[0]: 11, STREETS[1]: 25}, manifest_id="m2")
        second = publish(settings, "run-2", now=datetime(2015, 2, 2, tzinfo=UTC))
        assert second.publish_id == first.publish_id + 1

        # the open connection still reads the version it opened, whole and consistent
        assert _q(reader, "select sum(members) from marts.dim_street") == [(30,)]
        assert _q(reader, "select max(publish_id), count(*) from audit.publish_manifest") == [(1, 1)]
        assert _q(reader, "select numerator from indicators.indicator_values where area_code = ?",
                  [DISTRICT]) == [(30,)]

        # anyone connecting now gets the new publish
        assert _members_seen_by_a_new_process(published) == [(STREETS[0], 11), (STREETS[1], 25)]
        # a third publish still goes through with the reader open, and leaves no temporary file
        third = publish(settings, "run-3", now=datetime(2015, 2, 3, tzinfo=UTC))
        assert third.publish_id == 3
        assert sorted(p.name for p in published.parent.iterdir()) == ["warehouse.duckdb"]
    finally:
        reader.close()

    # once every connection of this process is closed, reconnecting sees the latest publish
    with duckdb.connect(str(published), read_only=True) as con:
        assert _q(con, "select sum(members) from marts.dim_street") == [(36,)]
        assert _q(con, "select list(publish_id order by publish_id) from audit.publish_manifest") == [([1, 2, 3],)]
        # values changed in publish 2 only: two versions of each row, none from publish 3
        assert _q(
            con,
            "select area_code, list(version_number order by version_number), list(publish_id order by publish_id) "
            "from indicators.indicator_history group by 1 order by 1",
        ) == [
            (DISTRICT, [1, 2], [1, 2]),
            (STREETS[0], [1, 2], [1, 2]),
            (STREETS[1], [1, 2], [1, 2]),
        ]
