"""One real run through every layer, the way `union-warehouse run` does it: ingestion,
quality gate, dbt build; then the audit tables an analyst queries."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_pipeline, step_timings
from pipelines.ingest.dropzone import log_ref

from .conftest import drop
from .helpers import instance_home
from .test_dagster_pipeline import members_csv
from .test_published_old_client import (
    assert_described_as_in,
    old_duckdb_python,
    read_everything,
    storage_version,
)

A, B = "110101001", "110101002"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    from pipelines.config import Settings

    root = tmp_path_factory.mktemp("e2e")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    settings.inbox.mkdir(parents=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(instance_home(root / "dagster_home")))
    body = members_csv(5, "2024-06-30", A)
    lines = body.splitlines()
    lines[2] = lines[2].replace("男", "未知", 1)  # line 3: unknown gender
    drop(settings, A, "members", "m.csv", "\n".join(lines) + "\n")
    drop(settings, B, "members", "m.csv", members_csv(4, "2024-06-30", B, start=50))
    drop(settings, B, "dispute_cases", "c.csv", "案件编号,用人单位,受理日期,争议类型,涉及人数,案件状态\nC1,甲公司,2024-07-01,加班,2,受理\n")
    drop(settings, B, "dispute_cases", "bad.csv", "案件编号,受理日期\nC2,2024-07-01\n")
    result = run_pipeline(settings, date(2024, 12, 31))
    yield settings, result
    mp.undo()


def _q(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_the_run_succeeds_through_every_layer(ran) -> None:
    settings, result = ran
    assert result.success
    steps = step_timings(result)
    assert "ingest_submissions" in steps and "quality_suites" in steps
    assert any("warehouse" in k or "dbt" in k for k in steps), steps
    assert _q(settings, "select count(*) from marts.dim_member") == [(8,)]  # 4 of A (one quarantined) + 4 of B


def test_audit_ledger_reconciles_every_file(ran) -> None:
    settings, _ = ran
    rows = _q(settings, "select file_ref, status, error_code, reconciles from audit.ingestion_ledger")
    assert sorted(rows) == sorted([
        (log_ref(f"inbox/{A}/members/m.csv"), "loaded", None, True),
        (log_ref(f"inbox/{B}/dispute_cases/bad.csv"), "rejected", "file.missing_column", True),
        (log_ref(f"inbox/{B}/dispute_cases/c.csv"), "loaded", None, True),
        (log_ref(f"inbox/{B}/members/m.csv"), "loaded", None, True),
    ])


def test_audit_quarantine_names_the_row_and_rule_but_never_the_values(ran) -> None:
    settings, _ = ran
    rows = _q(settings, "select file_ref, street_code, line_number, reasons from audit.quarantine")
    assert rows == [(log_ref(f"inbox/{A}/members/m.csv"), A, 3, ["gender:enum.unknown"])]
    cols = {c for (c,) in _q(settings, "select column_name from information_schema.columns "
                                        "where table_schema = 'audit' and table_name = 'quarantine'")}
    assert not cols & {"name", "id_number", "phone", "gender"}


def test_audit_quality_results_hold_every_verdict(ran) -> None:
    settings, _ = ran
    [(n, failed)] = _q(settings, "select count(*), count(*) filter (where not success and severity = 'critical') "
                                 "from audit.quality_results")
    assert n > 30 and failed == 0
    datasets = {d for (d,) in _q(settings, "select distinct dataset from audit.quality_results")}
    assert datasets == {"members", "dispute_cases"}


def test_the_model_reference_is_published_as_a_static_page(ran) -> None:
    settings, _ = ran
    page = settings.reports_dir / "dbt_docs" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "dim_member" in html and "fct_dispute_cases" in html
    # the Chinese descriptions made it into the reference (the page embeds JSON, escaped)
    assert "会员" in html or "会员".encode("unicode_escape").decode() in html


def test_the_run_publishes_the_warehouse_analysts_read(ran) -> None:
    from pipelines.cli import publish_outcome

    settings, result = ran
    assert publish_outcome(result) == (True, [])
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.sql("select schema_name, table_name from duckdb_tables()").fetchall()}
        assert {"indicators.indicator_values", "indicators.indicator_history", "alerts.alerts", "alerts.alert_events",
                "audit.ingestion_ledger", "audit.quarantine", "audit.quality_results", "audit.publish_manifest",
                "marts.dim_member", "marts.fct_dispute_cases"} <= tables
        assert not any(t.startswith(("staging.", "intermediate.")) for t in tables)  # analysts get the marts
        # the year 2024 as of 12-31: 19 periods x 17 indicators x (17 streets + district)
        assert con.sql("select count(*) from indicators.indicator_values").fetchall() == [(19 * 17 * 18,)]
        [(run_id, manifest)] = con.sql("select distinct run_id, manifest_id from indicators.indicator_values").fetchall()
        assert run_id == result.run_id
        assert con.sql("select run_id, submissions_included from audit.publish_manifest").fetchall() == [(run_id, 3)]
        personal = con.sql("select table_schema, table_name, column_name from information_schema.columns "
                           "where column_name in ('name', 'id_number', 'phone', 'lawyer_name') "
                           "and table_schema <> 'reference'").fetchall()  # reference.streets.name is a street's
        assert personal == []


def test_duckdb_1_1_reads_the_published_warehouse_and_its_descriptions(ran, tmp_path_factory) -> None:
    """Every table a whole run publishes, read by DuckDB 1.1.3 as the pipeline's DuckDB
    reads it (types, rows, comments); every table and column described as the build's
    dbt manifest says (tests/test_published_old_client.py)."""
    from pipelines.orchestration.dbt import build_target_path

    settings, _ = ran
    assert storage_version(settings.published_path) == "v1.0.0+"
    old = read_everything(old_duckdb_python(tmp_path_factory.mktemp("old-client")), settings.published_path)
    assert old["tables"] == read_everything(Path(sys.executable), settings.published_path)["tables"]
    assert old["tables"]["marts.dim_member"]["count"] == 8
    assert_described_as_in(build_target_path(settings) / "manifest.json", old["tables"])


def test_a_run_with_new_rows_keeps_the_model_reference_without_regenerating_it(ran) -> None:
    """dbt docs takes seconds: the page shows the project, the as-of date and the tables,
    not the data, so a run that brings a street's new file keeps the page it has; a page
    of another build is regenerated."""
    settings, _ = ran
    page = settings.reports_dir / "dbt_docs" / "index.html"
    before = page.read_bytes()
    drop(settings, A, "members", "september.csv", members_csv(6, "2024-09-30", A))
    again = run_pipeline(settings, date(2024, 12, 31))
    assert again.success
    [mat] = again.asset_materializations_for_node("reports__dbt_docs")
    assert mat.metadata["regenerated"].value is False
    assert page.read_bytes() == before
    (page.with_name(".built-from")).write_text("another build")
    [mat] = run_pipeline(settings, date(2024, 12, 31)).asset_materializations_for_node("reports__dbt_docs")
    assert mat.metadata["regenerated"].value is True


def test_run_exits_non_zero_naming_the_gate_when_publishing_is_blocked(ran, capsys) -> None:
    """A landing file goes missing behind the ledger's back, and its raw file with it (so
    it cannot be re-made): the ledger reconciliation check fails, nothing downstream
    runs, the published warehouse keeps its last version and `union-warehouse run` says
    why, naming the file and the fix, with exit status 1."""
    from pipelines.cli import report_run

    settings, _ = ran
    before = settings.published_path.read_bytes()
    landed = next((settings.landing_dir / "dispute_cases").glob("1101*/*.parquet"))
    raw = settings.inbox / B / "dispute_cases" / "c.csv"
    saved, raw_saved = landed.read_bytes(), raw.read_bytes()
    landed.unlink()
    raw.unlink()
    try:
        status = report_run(run_pipeline(settings, date(2024, 12, 31)), settings)
    finally:
        landed.write_bytes(saved)
        raw.write_bytes(raw_saved)
    out, err = capsys.readouterr()
    assert status == 1
    assert "NOT PUBLISHED" in err and "reconciliation" in err
    # the summary above it names the file and the fix
    assert log_ref(f"inbox/{B}/dispute_cases/c.csv") in out and "restore the file from a backup" in out
    assert settings.published_path.read_bytes() == before


def readme_queries() -> list[str]:
    """Every SQL statement the README gives analysts: its ```sql blocks, and the queries
    of its Python examples (``con.sql(...)`` on the published file)."""
    import re

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    statements: list[str] = []
    for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
        body = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("--"))
        statements += [s.strip() for s in body.split(";") if s.strip()]
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        if "published/warehouse.duckdb" in block:
            statements += [s.strip() for s in re.findall(r'con\.sql\(\s*"""(.*?)"""', block, flags=re.S)]
            statements += [s.strip() for s in re.findall(r'con\.sql\("([^"]+)"\)', block)]
    return statements


def test_the_readmes_queries_run_on_the_published_warehouse(ran) -> None:
    """What the README tells an analyst to type works on what a run publishes."""
    settings, _ = ran
    queries = readme_queries()
    assert len(queries) >= 10, queries
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        for sql in queries:
            con.sql(sql).fetchall()  # a wrong table or column name raises here
