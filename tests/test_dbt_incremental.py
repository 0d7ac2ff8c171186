"""The incremental member models give exactly what a rebuild from scratch gives.

A story of three streets told one submission at a time. After every step the working
warehouse is built incrementally (as the pipeline does after each drop) and a copy of
the same data directory is built with ``--full-refresh``; every member table must be
identical, row for row. The steps are the ones that can go wrong when only part of a
table is rebuilt: a new snapshot, a transfer between streets where only the arriving
street sends anything, a correction that takes the transferred person back out, a
person listed by two streets at once, and the as-of date moving snapshots out of the
window and back.

dbt runs in this process (``dbtRunner``): the story needs 16 builds.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.orchestration.dbt import dbt_environment

from .test_dbt_models import DBT_DIR, Landing, member, new_landing

A, B, C, D = "110101001", "110101002", "110101003", "110101004"

# the member models and everything they are built from
MEMBER_MODELS = ["stg_members", "int_member_snapshots", "dim_member", "dim_member_history",
                 "fct_member_changes", "fct_membership_counts"]
SELECT = " ".join(f"+{m}" for m in MEMBER_MODELS)
COMPARED = {  # schema.table -> what a street's new list may change
    "staging.stg_members": "incremental by submission",
    "intermediate.int_member_snapshots": "incremental by submission",
    "intermediate.int_registry_snapshot_calendar": "table",
    "marts.dim_member_history": "incremental by street",
    "marts.fct_membership_counts": "incremental by street",
    "marts.fct_member_changes": "incremental by person",
    "marts.dim_member": "incremental by person",
}


class Dbt:
    """dbt in this process, against one data directory at a time."""

    def __init__(self, base: Path) -> None:
        from dbt.cli.main import dbtRunner

        self.runner = dbtRunner()
        self.target = base / "target"

    def __call__(self, data_dir: Path, as_of: str, *extra: str, command: str = "run"):  # type: ignore[no-untyped-def]
        os.environ["UNION_DATA_DIR"] = str(data_dir)
        select = ["--select", SELECT] if command == "run" else []
        result = self.runner.invoke([
            command, *select, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
            "--target-path", str(self.target), "--log-path", str(self.target / "logs"), "--quiet",
            "--vars", f'{{"as_of_date": "{as_of}"}}', *extra,
        ])
        self.close()
        assert result.success, result.exception or [r.message for r in result.result or []]

    @staticmethod
    def close() -> None:
        """dbt-duckdb keeps its DuckDB instance open in the process between invocations:
        close it, so the file can be copied and read."""
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()


def differences(working: Path, rebuilt: Path) -> dict[str, tuple[int, int, int]]:
    """{table: (rows only in the incremental build, rows only in the rebuild, rows)} for
    every compared table that differs."""
    out = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{working}' as inc (read_only)")
        con.execute(f"attach '{rebuilt}' as rebuilt (read_only)")
        for table in COMPARED:
            only_inc = con.execute(f"select count(*) from (from inc.{table} except all from rebuilt.{table})").fetchone()[0]
            only_full = con.execute(f"select count(*) from (from rebuilt.{table} except all from inc.{table})").fetchone()[0]
            total = con.execute(f"select count(*) from inc.{table}").fetchone()[0]
            if only_inc or only_full:
                out[table] = (only_inc, only_full, total)
    return out


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landing, Settings, Dbt, Path]]:
    base = tmp_path_factory.mktemp("incremental")
    land, _ = new_landing(base)
    with dbt_environment(land.settings):  # the hashing key, the repository on PYTHONPATH; restored after
        dbt = Dbt(base)
        dbt(land.settings.data_dir, "2015-12-31", command="seed")
        yield land, land.settings, dbt, base


def build_both(story, as_of: str = "2015-12-31") -> None:  # type: ignore[no-untyped-def]
    """Incremental build of the working warehouse, then a full rebuild from the same data:
    equal. (The rebuild runs in the same directory, the incremental result set aside and
    put back after, so dbt's partial parsing, keyed on UNION_DATA_DIR, carries over.)"""
    _, settings, dbt, base = story
    dbt(settings.data_dir, as_of)
    incremental = base / "incremental"
    shutil.rmtree(incremental, ignore_errors=True)
    shutil.copytree(settings.data_dir, incremental)
    dbt(settings.data_dir, as_of, "--full-refresh")
    try:
        assert differences(incremental / "warehouse" / "working.duckdb", settings.warehouse_path) == {}
    finally:
        shutil.rmtree(settings.data_dir)
        incremental.rename(settings.data_dir)


def events(settings: Settings) -> set[tuple[str, str, str]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql("select event_type, street_code, member_id from marts.fct_member_changes").fetchall()
    return set(rows)


def active_streets(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return dict(con.sql("select member_id, active_street_count from marts.dim_member").fetchall())


def test_incremental_member_models_equal_a_full_rebuild_at_every_step(story) -> None:  # type: ignore[no-untyped-def]
    land, settings, _, _ = story

    # 1. three streets' first lists: baselines, no events
    land.submit("members", A, [member("m1", "O1"), member("m2", "O1"), member("m3", "O2")], as_of="2015-06-30")
    land.submit("members", B, [member("n1", "P1"), member("x1", "P1")], as_of="2015-06-30")
    land.submit("members", C, [member("n2", "Q1")], as_of="2015-06-30")
    build_both(story)
    assert events(settings) == set()

    # 2. B's next list lacks n1 (left B), and x1 moved org
    land.submit("members", B, [member("x1", "P2")], as_of="2015-09-30")
    build_both(story)
    assert events(settings) == {("left", B, "M-n1"), ("transferred_org", B, "M-x1")}

    # 3. only A sends: n1 arrives in A, so B's `left` becomes A's transfer; m1 moved org
    land.submit("members", A, [member("m1", "O2"), member("m2", "O1"), member("m3", "O2"), member("n1", "O1")],
                as_of="2015-09-30")
    build_both(story)
    assert events(settings) == {("transferred_street", A, "M-n1"), ("transferred_org", A, "M-m1"),
                                ("transferred_org", B, "M-x1")}

    # 4. A corrects its 09-30 list: n1 was never there (B's `left` is back), m3 has quit
    land.submit("members", A, [member("m1", "O2"), member("m2", "O1"), member("m3", "O2", "退会")],
                as_of="2015-09-30")
    build_both(story)
    assert events(settings) == {("left", B, "M-n1"), ("transferred_org", B, "M-x1"), ("transferred_org", A, "M-m1"),
                                ("left", A, "M-m3")}

    # 5. C lists m2 as active too: one person in two streets' current lists; D's first list
    land.submit("members", C, [member("n2", "Q1"), member("m2", "Q1")], as_of="2015-09-30")
    land.submit("members", D, [member("m4", "R1")], as_of="2015-09-30")
    build_both(story)
    assert active_streets(settings)["M-m2"] == 2

    # 6. A's year-end list drops m2: only C lists m2 now, though C sent nothing; m5 joins D
    land.submit("members", A, [member("m1", "O2")], as_of="2015-12-31")
    land.submit("members", D, [member("m4", "R1"), member("m5", "R1")], as_of="2015-12-31")
    build_both(story)
    assert active_streets(settings)["M-m2"] == 1
    assert ("joined", D, "M-m5") in events(settings)

    # 7. the as-of date moves back before the 09-30 lists (D has no list yet), then forward again
    build_both(story, as_of="2015-08-31")
    assert events(settings) == set() and set(active_streets(settings)) == {"M-m1", "M-m2", "M-m3", "M-x1", "M-n1", "M-n2"}
    build_both(story)
    assert ("left", B, "M-n1") in events(settings)


def test_a_new_list_rebuilds_its_street_and_persons_and_nothing_else(story) -> None:  # type: ignore[no-untyped-def]
    """Rows of streets and persons a new list cannot change are left as they are: marked
    by hand beforehand, the marks survive the build; the marks on what it changes do not.
    (Runs after the story above, on its warehouse.)"""
    land, settings, dbt, _ = story
    year_end_of_a = f"street_code = '{A}' and as_of_date = '2015-12-31'"
    marks = {  # table -> (column marked 'tampered', rows left alone, rows rebuilt)
        "marts.dim_member_history": ("member_id", f"street_code = '{C}'", f"street_code = '{A}'"),
        "marts.fct_membership_counts": ("org_id", f"street_code = '{C}'", year_end_of_a),
        "marts.dim_member": ("id_number_masked", "member_id = 'M-n2'", "member_id = 'M-m1'"),  # n2: only in C
        "marts.fct_member_changes": ("id_number_masked", "member_id = 'M-n1'", f"street_code = '{A}'"),
        "staging.stg_members": ("member_id", f"street_code = '{C}'", f"street_code = '{A}'"),
        "intermediate.int_member_snapshots": ("member_id", f"street_code = '{C}'", year_end_of_a),
    }
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for table, (column, kept, rebuilt) in marks.items():
            con.execute(f"update {table} set {column} = 'tampered' where {kept} or {rebuilt}")
    land.submit("members", A, [member("m1", "O3")], as_of="2015-12-31")  # A corrects its year-end list
    dbt(settings.data_dir, "2015-12-31")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for table, (column, kept, rebuilt) in marks.items():
            still = con.execute(f"select count(*) filter (where {kept}), count(*) filter (where {rebuilt}) "
                            f"from {table} where {column} = 'tampered'").fetchone()
            total = con.execute(f"select count(*) from {table} where {kept}").fetchone()[0]
            assert con.execute(f"select count(*) from {table} where {rebuilt}").fetchone()[0] > 0, table
            assert total > 0 and still == (total, 0), f"{table}: {still} tampered rows left; {total} untouched"
