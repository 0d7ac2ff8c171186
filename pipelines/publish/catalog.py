"""The descriptions the published warehouse carries in its catalog (``COMMENT ON``), so
DBeaver, the DuckDB CLI and ``duckdb_tables()`` / ``duckdb_columns()`` show what each
table and column means.

Where they come from, each declared once:

- the dbt models and seeds (marts, reference, the audit models, the indicators): their
  descriptions and their columns' in the dbt YAML, read from a dbt manifest
  (``manifest.json``; the publish step is given the one of the build that wrote the
  working warehouse, so publishing never runs dbt);
- the tables the publish step writes itself (:data:`PUBLISH_TABLES`) and the stamps it
  adds to the indicator rows (:data:`STAMP_DESCRIPTIONS`): declared here;
  ``indicators.indicator_history`` holds the rows of ``indicators.indicator_values`` and
  takes that model's column descriptions;
- the alert tables: :data:`pipelines.alert_state.PUBLISHED_DESCRIPTIONS`, beside the
  columns published of each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.alert_state import PUBLISHED_DESCRIPTIONS as ALERT_TABLES

log = logging.getLogger(__name__)

Relation = tuple[str, str]  # (schema, table)

PUBLISH_TABLES: dict[Relation, str] = {
    ("indicators", "indicator_history"): (
        "指标值的追加式历史：每次发布中数值或达标状态有变化的每一行记为一个新版本，带版本号、发布编号、运行编号、"
        "计算时间与代码版本，从不改写。 (Every published version of every indicator row, append-only.)"),
    ("audit", "publish_manifest"): (
        "发布清单：每次发布一行，含运行编号、发布时间、代码版本、统计日期、审计清单编号、全部指标值的指纹、"
        "新增版本数及纳入计算的上报文件。 (One row per publish: run, time, code version, as-of date, manifest, "
        "values fingerprint, submissions included.)"),
    ("audit", "street_submission_summary"): (
        "各街道每次运行的上报汇总：文件数、行数及其结果，按规则代码计的问题数；不含姓名、证件号或文件名。 "
        "(Per run and street: the files and rows sent and what became of them, counts only.)"),
}
STAMP_DESCRIPTIONS: dict[str, str] = {
    "version_number": "版本号：该行第几个不同的发布值，从 1 起 (version of the row, from 1)",
    "publish_id": "首次发布该版本的发布编号，见 audit.publish_manifest (publish that published this version)",
    "run_id": "计算该值的运行编号（Dagster run id） (run that computed the value)",
    "computed_at": "计算时间（UTC） (when the value was computed, UTC)",
    "code_version": "计算所用的代码版本 (code version that computed the value)",
}
PUBLISH_COLUMNS: dict[Relation, dict[str, str]] = {
    ("audit", "publish_manifest"): {
        "publish_id": "发布编号，逐次加 1 (publish id)",
        "run_id": "发布所在运行的编号（Dagster run id） (run id)",
        "published_at": "发布时间（UTC） (when published, UTC)",
        "code_version": "代码版本 (code version)",
        "as_of_date": "统计日期 (as-of date)",
        "manifest_id": "审计清单编号：全部已载入上报文件及其质量结论的指纹 (input manifest id)",
        "values_sha256": "全部指标值的指纹（SHA-256） (fingerprint of all indicator values)",
        "indicator_rows": "指标值行数 (indicator rows)",
        "versions_appended": "本次发布新增的历史版本数 (new versions appended to the history)",
        "submissions_included": "纳入计算的上报文件数 (submissions included)",
        "submissions": "纳入计算的上报文件的 SHA-256 (the submissions included, by SHA-256)",
    },
}
# published tables holding another model's rows: they take its column descriptions
ROWS_OF: dict[Relation, Relation] = {("indicators", "indicator_history"): ("indicators", "indicator_values")}
# the indicator rows the publish step stamps (run, time, code version; versions)
STAMPED: tuple[Relation, ...] = (("indicators", "indicator_values"), ("indicators", "indicator_history"))


@dataclass(frozen=True)
class TableDoc:
    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)


def dbt_descriptions(manifest: Path) -> dict[Relation, TableDoc]:
    """Each dbt model's and seed's description and its columns', by (schema, table) as
    built (``alias``), from a dbt ``manifest.json``. Blank descriptions are left out."""
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    docs: dict[Relation, TableDoc] = {}
    for node in nodes.values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        columns = {name: (c.get("description") or "").strip() for name, c in (node.get("columns") or {}).items()}
        docs[(node["schema"], node.get("alias") or node["name"])] = TableDoc(
            (node.get("description") or "").strip(), {k: v for k, v in columns.items() if v})
    return docs


def published_descriptions(dbt_manifest: Path | None) -> dict[Relation, TableDoc]:
    """What the published catalog says of each table and column: the dbt models and
    seeds (from ``dbt_manifest``; none without one, or when it cannot be read: then the
    file is published without them and a warning says why), the tables the publish step
    writes and the alert tables."""
    docs: dict[Relation, TableDoc] = {}
    if dbt_manifest is None:
        log.warning("publish: no dbt manifest given: the published catalog has no model descriptions")
    else:
        try:
            docs = dbt_descriptions(dbt_manifest)
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            log.warning("publish: the dbt manifest %s could not be read (%s): the published catalog has no "
                        "model descriptions", dbt_manifest, exc)
    for relation, description in PUBLISH_TABLES.items():
        columns = dict(docs.get(ROWS_OF[relation], TableDoc()).columns) if relation in ROWS_OF else {}
        docs[relation] = TableDoc(description, columns | PUBLISH_COLUMNS.get(relation, {}))
    for relation in STAMPED:
        doc = docs.get(relation, TableDoc())
        docs[relation] = TableDoc(doc.description, STAMP_DESCRIPTIONS | dict(doc.columns))
    for name, description in ALERT_TABLES.items():
        docs[("alerts", name)] = TableDoc(description)
    return docs


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_comments(con: duckdb.DuckDBPyConnection, docs: Mapping[Relation, TableDoc]) -> int:
    """``COMMENT ON`` every table of the connection's database, and every column, that
    ``docs`` describes, in one transaction. Returns how many comments were written."""
    database = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? order by 1, 2",
        [database]).fetchall()
    columns = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where database_name = ? "
        "order by 1, 2, column_index", [database]).fetchall()
    statements: list[str] = []
    for schema, table in tables:
        doc = docs.get((schema, table))
        if doc is not None and doc.description:
            statements.append(f"comment on table {_ident(schema)}.{_ident(table)} is {_literal(doc.description)}")
    for schema, table, column in columns:
        text = docs.get((schema, table), TableDoc()).columns.get(column, "")
        if text:
            statements.append(f"comment on column {_ident(schema)}.{_ident(table)}.{_ident(column)} "
                              f"is {_literal(text)}")
    con.execute("begin transaction")
    try:
        for sql in statements:
            con.execute(sql)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return len(statements)
