"""dbt files derived from the contract, rendered by ``union-warehouse contract-sync``.

Everything the dbt project needs to know about the datasets (names, columns, Chinese
headers, types, enums, which columns are personal, registry or event, the record key)
is declared once in :mod:`pipelines.contract`. This module turns it into:

- ``models/staging/_sources.yml``: source ``landing`` (one table per dataset, read with
  ``read_parquet`` over the landing folders; linked to the Dagster landing assets) and
  source ``audit`` (the ingestion ledger and the quality verdicts; the street's file
  names stay behind in the ledger file, the models get file references: :func:`file_ref_sql`);
- ``macros/generated/contract.sql``: the contract as Jinja data (each dataset's key, kind,
  warehouse columns with their types, blank defaults and enums; personal columns left out,
  the resident ID marked hashed), which ``macros/contract.sql`` turns into the doors'
  casts, the staging select lists and ``contract_enum``;
- ``macros/generated/contract_values.sql``: case statuses, active statuses and the plan's
  and statute's numbers as macros;
- ``models/staging/_contract_columns.md``: a doc block per contract column;
- ``models/staging/stg_<dataset>.sql`` (one macro call each), the doors
  ``models/staging/doors/`` and ``models/staging/_staging.yml``: the staging models with
  their docs and tests (keys, required columns, enum values through ``contract_enum``);
- ``seeds/streets.csv``, ``seeds/datasets.csv``, ``seeds/enum_labels.csv``,
  ``seeds/industry_sections.csv`` (GB/T 4754 sections: :mod:`pipelines.contract.industry`).

The committed copies are checked for drift by a test (``pipelines.sync.sync(root, check=True)``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable

import yaml

from pipelines.contract import DATASETS, STREETS, Column, ColumnType, Dataset, thresholds
from pipelines.contract.datasets import (
    CASE_CLOSED_STATUS,
    CASE_DECIDED_STATUS,
    CASE_OPEN_STATUS,
    CASE_SUCCESS_STATUS,
    MEMBER_STATUS,
    ORG_STATUS,
)
from pipelines.contract.industry import SECTIONS
from pipelines.contract.streets import DISTRICT_CODE, DISTRICT_NAME
from pipelines.ingest.ledger import LedgerEntry
from pipelines.ingest.model import LINE, PROBLEM_SCHEMA
from pipelines.ingest.pii_columns import HASHED_ID, WAREHOUSE_NAMES
from pipelines.ingest.process import STREET, SUBMISSION
from pipelines.quality.verdicts import Verdict

DBT_DIR = "dbt_project"
DATA_DIR_JINJA = "{{ env_var('UNION_DATA_DIR', '../data') }}"
GENERATED = "Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit."

# The one personal column that is carried forward, transformed (submissions.md §6).


def _kind_zh(d: Dataset) -> str:
    return "名单快照" if d.is_registry else "事件记录"


def _yaml(doc: object) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)


# --- sources -------------------------------------------------------------------------------


def _landing_location(d: Dataset) -> str:
    return f"read_parquet('{DATA_DIR_JINJA}/landing/{d.name}/*/*.parquet', union_by_name=true)"


# --- sources on Spark ----------------------------------------------------------------------
# dbt-spark has no external sources: a door reads its source through the dispatched macro
# ``source_relation`` (macros/cross_db.sql), which on Spark puts the source's
# ``meta.spark_location`` where DuckDB puts ``external_location``. Parquet globs are read
# by name (``spark.sql.parquet.mergeSchema`` in the profile: a missing column is null).
# Hadoop globs have no ``**``: the folders are spelled out, ``_schema/`` among them (Spark
# skips files whose name starts with ``_`` or ``.``, not folders named so in a glob).


def _spark_parquet(glob: str) -> str:
    return f"parquet.`{DATA_DIR_JINJA}/{glob}`"


def _spark_landing_location(d: Dataset) -> str:
    return _spark_parquet(f"landing/{d.name}/*/*.parquet")


def _spark_type(annotation: str) -> str:
    base = annotation.replace(" | None", "").strip()
    return {"int": "bigint", "bool": "boolean", "float": "double"}.get(base, "string")


def _spark_ledger_location() -> str:
    """The ledger's JSON lines parsed with the ledger's columns (Spark would infer none from
    an empty file); a line that is not a JSON object (a torn last line) is left out, as
    DuckDB's ``ignore_errors`` does."""
    schema = ", ".join(f"{f.name} {_spark_type(str(f.type))}" for f in dataclasses.fields(LedgerEntry))
    named = set(LEDGER_NAMED_FIELDS)
    kept = ", ".join(f"entry.{f.name}" for f in dataclasses.fields(LedgerEntry) if f.name not in named)
    refs = ", ".join(f"{file_ref_sql('entry.' + field, 'spark')} as {name}" for name, field in LEDGER_FILE_REFS.items())
    lines = f"text.`{DATA_DIR_JINJA}/ledger/ingestion_ledger.jsonl`"
    return (f"(select {kept}, {refs} from (select from_json(value, '{schema}') as entry from {lines} "
            "where left(trim(value), 1) = '{') as parsed where entry is not null)")


def _duck_type(annotation: str) -> str:
    base = annotation.replace(" | None", "").strip()
    return {"int": "BIGINT", "bool": "BOOLEAN", "float": "DOUBLE"}.get(base, "VARCHAR")


def _columns_struct(cls: type) -> str:
    return "{" + ", ".join(
        f"'{f.name}': '{_duck_type(str(f.type))}'" for f in dataclasses.fields(cls)
    ) + "}"


# --- file references -------------------------------------------------------------------------
# A street names its own files, sometimes after the person they concern. Past the ledger
# file (operators only) and the street's own receipt, a file is named by its file
# reference (LedgerEntry.file_ref = pipelines.ingest.dropzone.log_ref(path)). The ledger
# source reads the fields that may hold a file name only to derive file references, and
# passes none of them on: no model can select them.

# ledger fields that may hold a street's file name (``error`` quotes the earlier file of a
# duplicate) or other text the street typed (``unknown_headers``: a rejected file's header
# cells as written, for the street's own receipt)
LEDGER_NAMED_FIELDS = ("path", "duplicate_of", "error", "unknown_headers")
# column of the source -> the ledger field it is the file reference of
LEDGER_FILE_REFS = {"file_ref": "path", "duplicate_of_file_ref": "duplicate_of"}
# column of older quality verdict files (renamed file_ref): never read past the source
QUALITY_NAMED_COLUMNS = ("path",)


# How each engine spells the parts of file_ref_sql: a regular-expression match, SHA-256 as
# hex, and a backslash inside a string literal (Spark unescapes literals: doubled).
_FILE_REF_DIALECTS = {
    "duckdb": {"matches": "regexp_matches({column}, '{pattern}')", "sha256": "sha256({column})", "backslash": "\\"},
    "spark": {"matches": "{column} rlike '{pattern}'", "sha256": "sha2({column}, 256)", "backslash": "\\\\"},
}


def file_ref_sql(column: str, dialect: str = "duckdb") -> str:
    """SQL computing :func:`pipelines.ingest.dropzone.log_ref` of a path column (NULL
    stays NULL) on DuckDB or Spark: the folders, ``/#``, the first 10 hex digits of the
    SHA-256 of the whole path, and the extension if it is a plain one (the same rules as
    ``log_ref``). The same function as the Python one (tests/test_dbt_sources.py compares
    them); no ``$`` (the source's location is a ``string.Template``)."""
    spell = _FILE_REF_DIALECTS[dialect]
    bs = spell["backslash"]
    whole_name = f"(?s)^inbox/[0-9A-Za-z_-]+/[0-9A-Za-z_-]+/[^/]*{bs}z"
    folders = (f"case when {spell['matches'].format(column=column, pattern=whole_name)} "
               f"then regexp_extract({column}, '(?s)^(.*)/', 1) else 'inbox' end")
    extension = f"nullif(regexp_extract({column}, '(?s)(?:^|/)[^/]*{bs}.([0-9A-Za-z]{{1,8}}){bs}z', 1), '')"
    digest = spell["sha256"].format(column=column)
    return (f"case when {column} is not null then "
            f"{folders} || '/#' || left({digest}, 10) || coalesce('.' || {extension}, '') end")


def _ledger_location() -> str:
    read = (
        f"read_json('{DATA_DIR_JINJA}/ledger/ingestion_ledger.jsonl', "
        "format='newline_delimited', ignore_errors=true, "
        f"columns={_columns_struct(LedgerEntry)})"
    )
    refs = ", ".join(f"{file_ref_sql(field)} as {name}" for name, field in LEDGER_FILE_REFS.items())
    return f"(select * exclude ({', '.join(LEDGER_NAMED_FIELDS)}), {refs} from {read})"


def _ledger_columns() -> list[str]:
    named = set(LEDGER_NAMED_FIELDS)
    return [f.name for f in dataclasses.fields(LedgerEntry) if f.name not in named] + list(LEDGER_FILE_REFS)


def _quality_location() -> str:
    read = f"read_parquet('{DATA_DIR_JINJA}/quality/results/**/*.parquet', union_by_name=true)"
    named = ", ".join(f"'{c}'" for c in QUALITY_NAMED_COLUMNS)
    return f"(select columns(lambda c: c not in ({named})) from {read})"


PROBLEM_DOCS = {
    LINE: "行号 (line in the file)",
    "column": "问题所在列（英文列名） (column)",
    "code": "规则代码，见 docs/rules.md (rule code)",
    "severity": "quarantine 隔离 / warning 提示 (severity)",
    SUBMISSION: "上报文件 SHA-256 (submission)",
    STREET: "上报街道 (submitting street)",
}


def _problem_columns() -> list[str]:
    """The columns of a problems file: the problem, then the submission and street."""
    return [*PROBLEM_SCHEMA, SUBMISSION, STREET]


LEDGER_DOCS = {
    "seq": "上报顺序号：文件首次收到的先后（事件记录以此判断“较新”） (order in which files were first seen)",
    "sha256": "文件内容的 SHA-256，即上报的身份 (the submission's identity)",
    "bytes": "文件字节数 (file size)",
    "mtime_ns": "文件修改时间（纳秒） (modification time, ns)",
    "dataset": "数据集名称 (dataset)",
    "street_code": "上报街道代码 (submitting street)",
    "first_seen": "首次收到时间（UTC，ISO-8601） (first seen, UTC)",
    "status": "处理结果：loaded 已入库、rejected 整个退回、duplicate 重复上报 (outcome)",
    "rows_read": "读取行数 (rows read)",
    "rows_loaded": "入库行数 (rows loaded)",
    "rows_quarantined": "隔离行数 (rows quarantined)",
    "rows_warned": "有提示的行数 (rows with warnings)",
    "error_code": "退回或重复的规则代码 (rule code of a rejection)",
    "error_column": "退回涉及的列（涉及多列时为第一列） (column of a rejection; the first of several)",
    "error_columns": "退回涉及的全部列（JSON 数组，如缺少的全部必填列） "
    "(every column of a rejection, a JSON array: e.g. all the missing required columns)",
    "file_format": "文件格式 (file format)",
    "encoding": "文本编码 (text encoding)",
    "as_of_date": "名单快照的统计日期 (snapshot as-of date, registries)",
    "landing_path": "入库 Parquet 路径 (landing file)",
    "quarantine_path": "隔离文件路径（仅运维可见） (quarantine file, operators only)",
    "problems_path": "问题清单文件路径 (problems file)",
    "run_id": "处理该文件的运行编号 (run that processed the file)",
    "file_ref": "文件引用：收件箱文件夹、路径摘要与扩展名，不含街道所起的文件名（文件名可能含个人信息，只留在台账文件中） "
    "(the file without its name: folders, a digest of its path, the extension)",
    "duplicate_of_file_ref": "重复上报时，原文件的文件引用 (file reference of the earlier identical file)",
}

QUALITY_DOCS = {
    "run_id": "执行检查的运行编号 (run that checked the submission)",
    "checked_at": "检查时间（UTC） (checked at, UTC)",
    "submission_sha256": "被检查上报文件的 SHA-256 (the submission checked)",
    "file_ref": "上报文件的文件引用，不含文件名（旧结果文件为空） (the submission's file reference; empty in older files)",
    "dataset": "数据集名称 (dataset)",
    "street_code": "上报街道代码 (submitting street)",
    "suite": "期望套件名称 (expectation suite)",
    "expectation": "期望类型 (expectation type)",
    "column": "检查的列 (column checked)",
    "severity": "严重程度：critical 阻断入仓、warning 仅提示 (critical blocks the submission)",
    "success": "是否通过 (passed)",
    "element_count": "检查的行数 (rows checked)",
    "unexpected_count": "不符合的行数 (rows failing)",
    "observed_value": "观测值，不含个人信息 (observed value, never personal data)",
    "examples": "不符合的示例值（JSON，仅非个人信息列） (failing examples, non-personal columns only)",
    "error": "检查本身出错时的信息 (error raised by the check)",
}


_DERIVED_DOCS = {
    "id_number_hash": "身份证号的密钥哈希，入库时计算（密钥来自配置，不进入任何 SQL） "
    "(keyed hash of the resident ID, made at landing)",
    "id_number_masked": "脱敏身份证号，入库时计算 (masked resident ID, made at landing)",
    "birth_year": "出生年份，入库时取自身份证号 (birth year, made at landing)",
}


def _derived_landing_columns(d: Dataset) -> list[dict]:
    """The columns landing derives from the resident ID: what the warehouse reads of it."""
    if d.name != HASHED_ID[0]:
        return []
    return [{"name": landing, "description": _DERIVED_DOCS[name]}
            for landing, (name, _kind) in WAREHOUSE_NAMES.items()]


def render_sources_yml() -> str:
    landing_tables = []
    for d in DATASETS:
        landing_tables.append({
            "name": d.name,
            "description": (
                f"{d.zh}（{d.name}，{_kind_zh(d)}，主键 {d.key}）：{d.doc}。"
                f"每个已入库上报文件一个 Parquet（landing/{d.name}/<街道代码>/<sha256>.parquet），"
                "含全部合同列（已按类型转换）及 _line_number、_submission_sha256、_ingest_seq、_street_code。"
                + (f"含个人信息列（{', '.join(d.personal_columns)}），仅限运维访问。" if d.personal_columns else "")
                + "模型只读取通过质量检查的上报。"
            ),
            "config": {
                "meta": {
                    "external_location": _landing_location(d),
                    "spark_location": _spark_landing_location(d),
                    "dagster": {"asset_key": ["landing", d.name]},
                }
            },
            "columns": [
                *[
                    {
                        "name": c.name,
                        "description": f"{c.zh}（{c.type.value}{'，必填' if c.required else ''}"
                        f"{'，个人信息' if c.personal else ''}）：{c.doc}",
                    }
                    for c in d.columns
                ],
                *_derived_landing_columns(d),
                {"name": "_line_number", "description": "源文件中的行号 (line in the submitted file)"},
                {"name": "_submission_sha256", "description": "上报文件的 SHA-256 (the submission)"},
                {"name": "_ingest_seq", "description": "上报顺序号，越大越新 (ingestion order; higher is later)"},
                {"name": "_street_code", "description": "上报街道（文件夹） (the submitting street's folder)"},
            ],
        })
    audit_tables = [
        {
            "name": "ingestion_ledger",
            "description": "入库台账（ledger/ingestion_ledger.jsonl）：收件箱中每个文件一条记录；"
            "文件路径、原文件路径与说明只留在台账文件中，这里给出文件引用 "
            "(the ingestion ledger: one JSON line per file seen in the drop zone; file names "
            "stay in the ledger file, the source gives file references)",
            "config": {
                "meta": {
                    "external_location": _ledger_location(),
                    "spark_location": _spark_ledger_location(),
                    # the struct literal has braces: don't let str.format touch it
                    "formatter": "template",
                    "dagster": {"asset_key": ["audit", "ingestion_ledger"]},
                }
            },
            "columns": [{"name": c, "description": LEDGER_DOCS[c]} for c in _ledger_columns()],
        },
        {
            "name": "quality_results",
            "description": "数据质量检查结果（quality/results/<数据集>/<街道>/<sha256>.parquet）："
            "每个上报文件每条期望一行 (Great Expectations verdicts, one row per expectation per submission)",
            "config": {
                "meta": {
                    "external_location": _quality_location(),
                    "spark_location": _spark_parquet("quality/results/{_schema/*,*/*/*}.parquet"),
                    "formatter": "template",
                    "dagster": {"asset_key": ["audit", "quality_results"]},
                }
            },
            "columns": [{"name": f.name, "description": QUALITY_DOCS[f.name]} for f in dataclasses.fields(Verdict)],
        },
    ]
    problems_tables = [
        {
            "name": "row_problems",
            "description": "每个上报文件的行级问题：行号、列、规则代码、严重程度（不含原始值） "
            "(one row per line, column and rule; never the values)",
            "config": {
                "meta": {
                    "external_location": f"read_parquet('{DATA_DIR_JINJA}/problems/**/*.parquet', union_by_name=true)",
                    "spark_location": _spark_parquet("problems/{_schema/*,*/*/*}.parquet"),
                    "formatter": "template",
                    # written by the ingestion step, alongside the ledger
                    "dagster": {"asset_key": ["audit", "row_problems"]},
                }
            },
            "columns": [{"name": c, "description": PROBLEM_DOCS[c]} for c in _problem_columns()],
        },
    ]
    doc = {
        "version": 2,
        "sources": [
            {
                "name": "landing",
                "description": "落地区：各街道上报文件经校验后的类型化 Parquet（含个人信息，仅限运维） "
                "(the landing zone: typed Parquet of every loaded submission)",
                "tables": landing_tables,
            },
            {
                "name": "pipeline_audit",
                "description": "审计输入：入库台账与数据质量检查结果 (the ingestion ledger and the quality verdicts)",
                "tables": audit_tables,
            },
            {
                "name": "problems",
                "description": "行级问题清单（不含原始值） (row problems per submission, no raw values)",
                "tables": problems_tables,
            },
        ],
    }
    return f"# {GENERATED}\n" + _yaml(doc)


# --- staging: the contract as data for the macros ----------------------------------------


def _jinja(value: object) -> str:
    """A Python literal as a Jinja literal (true/false/none, quoted strings)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jinja(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_jinja(k)}: {_jinja(v)}" for k, v in value.items()) + "}"
    return str(value)


def _warehouse_column(d: Dataset, c: Column) -> dict:
    """What the macros know of a column that enters the warehouse."""
    out: dict = {"name": c.name, "type": c.type.value}
    if (d.name, c.name) == HASHED_ID:
        # read from the columns made at landing (pipelines/ingest/pii_columns.py), never raw
        out["hashed"] = [{"name": name, "landing": landing, "type": kind}
                         for landing, (name, kind) in WAREHOUSE_NAMES.items()]
    if c.blank_default is not None:
        out["default"] = c.blank_default
    if c.enum:
        out["enum"] = list(c.enum)
    return out


def _active_values(d: Dataset) -> dict:
    return {"status": [{"union_orgs": ORG_STATUS, "members": MEMBER_STATUS}[d.name][0]]} \
        if d.name in ("union_orgs", "members") else {}


def render_contract_macro() -> str:
    """``contract_datasets()``: each dataset's key, kind and the columns that enter the
    warehouse (personal ones left out, the resident ID marked as hashed), as Jinja data
    that ``macros/contract.sql`` turns into select lists, enum tests and lookups."""
    lines = [
        f"{{# {GENERATED} #}}",
        "{# The contract as data, one entry per dataset: its record key, whether it is a registry",
        "   snapshot, and the columns that enter the warehouse in file order (personal columns",
        "   left out; the resident ID marked `hashed`), with their contract type, the value a",
        "   blank cell stands for and their enum values. Read it through macros/contract.sql. #}",
        "{% macro contract_datasets() %}",
        "{{ return({",
    ]
    for d in DATASETS:
        cols = [_warehouse_column(d, c) for c in d.columns if not c.personal or (d.name, c.name) == HASHED_ID]
        lines.append(f"    {_jinja(d.name)}: {{")
        lines.append(f"        'key': {_jinja(d.key)}, 'registry': {_jinja(d.is_registry)},")
        lines.append(f"        'active': {_jinja(_active_values(d))},")
        lines.append("        'columns': [")
        lines += [f"            {_jinja(c)}," for c in cols]
        lines.append("        ],")
        lines.append("    },")
    lines += ["}) }}", "{% endmacro %}"]
    return "\n".join(lines)


def _column_doc(c: Column) -> str:
    text = c.doc if c.doc.startswith(c.zh) else f"{c.zh}：{c.doc}"
    if c.enum:
        text += f"。取值：{'、'.join(c.enum)}"
    return text


def render_column_docs_md() -> str:
    """A dbt doc block per contract column (``<dataset>__<column>``, and ``street_code``):
    the one text every model's YAML cites with ``{{ doc(...) }}``."""
    blocks = [f"<!-- {GENERATED} -->"]
    street = next(c for c in DATASETS[0].columns if c.name == "street_code")
    blocks.append(f"{{% docs street_code %}}{_column_doc(street)}{{% enddocs %}}")
    for d in DATASETS:
        for c in d.columns:
            if c.personal:
                continue
            blocks.append(f"{{% docs {d.name}__{c.name} %}}{_column_doc(c)}{{% enddocs %}}")
    return "\n".join(blocks)


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# Full-width forms (U+FF01-U+FF5E), the ideographic and the no-break space folded to
# their ASCII forms: how a clerk's 北京ＡＢＣ公司 and 北京ABC公司 compare equal.
_FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0"
_HALF_WIDTH = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + "  "


def render_contract_values_macro() -> str:
    """Contract facts the models compare with (case statuses, the plan's and the statute's
    numbers; employer-name folding)."""
    macros = {
        "closed_case_statuses": ("a dispute case with one of these statuses is closed",
                                 _sql_list(CASE_CLOSED_STATUS)),
        "open_case_statuses": ("still in mediation", _sql_list(CASE_OPEN_STATUS)),
        "decided_case_statuses": ("counted by the mediation success rate (DC13, W08): "
                                  "closed, 撤回 left out", _sql_list(CASE_DECIDED_STATUS)),
        "success_case_status": ("the successful outcome", _sql_list((CASE_SUCCESS_STATUS,))),
        "active_org_status": ("a union organisation in operation", _sql_list((ORG_STATUS[0],))),
        "active_member_status": ("a member in the union", _sql_list((MEMBER_STATUS[0],))),
        "large_enterprise_employees": ("DC04: a 百人以上 enterprise has at least this many employees",
                                       str(thresholds.LARGE_ENTERPRISE_EMPLOYEES)),
        "library_subsidy_yuan": ("DC08: the subsidy each 职工书屋 receives (yuan)",
                                 str(thresholds.LIBRARY_SUBSIDY_YUAN)),
        "collective_dispute_workers": ("劳动争议调解仲裁法 Art. 7: workers that make a dispute collective",
                                       str(thresholds.COLLECTIVE_DISPUTE_WORKERS)),
        "mediation_limit_days": ("劳动争议调解仲裁法 Art. 14: days mediation may take",
                                 str(thresholds.MEDIATION_LIMIT_DAYS)),
    }
    lines = [f"{{# {GENERATED} #}}"]
    for name, (doc, values) in macros.items():
        lines += [f"{{# {doc} #}}", f"{{% macro {name}() %}}{values}{{% endmacro %}}", ""]
    lines += [
        "{# An employer name as a clerk means it: full-width forms folded to ASCII, white",
        "   space dropped, Latin letters upper-cased. #}",
        "{% macro normalise_employer(expr) -%}",
        "{%- set folded -%}",
        f"translate({{{{ expr }}}}, {_sql_list((_FULL_WIDTH,))}, {_sql_list((_HALF_WIDTH,))})",
        "{%- endset -%}",
        "{%- set white_space %}'\\s'{% endset -%}",
        "upper({{ regexp_replace_all(folded, white_space, \"''\") }})",
        "{%- endmacro %}",
    ]
    return "\n".join(lines)


def render_stg_sql(d: Dataset) -> str:
    """``stg_<dataset>``: one macro call (``macros/staging.sql``) under a header saying
    what the model holds."""
    head = [
        f"-- {GENERATED}",
        f"-- {d.zh} ({d.name}, {d.kind.value}, key {d.key}).",
    ]
    if d.is_registry:
        head += [
            "-- The current snapshot of every street: rows of the accepted submission with the latest",
            "-- as_of_date on or before var('as_of_date') (same date: the later submission),",
            "-- incremental by submission (macros/registry_snapshots.sql).",
            f"{{{{ current_registry_snapshot('{d.name}') }}}}",
        ]
    else:
        head += [
            f"-- Upserts: the latest accepted version of each {d.key} per street (highest ingest_seq,",
            "-- then highest line number); version_count and first_ingest_seq keep the history visible.",
            f"{{{{ latest_event_versions('{d.name}') }}}}",
        ]
    return "\n".join(head) + "\n"


def render_landing_door_sql(d: Dataset) -> str:
    """``stg_landing__<dataset>``: every landed row of every submission, renamed and cast
    (personal columns left out, the resident ID hashed): the only model reading the
    dataset's landing source. Ephemeral (inlined into its readers): the models filter it,
    DuckDB pushes the filters into the Parquet scan, and no view in the warehouse needs
    the hashing key to be read."""
    return "\n".join([
        f"-- {GENERATED}",
        f"-- {d.zh} ({d.name}): every landed row of every submission, renamed and cast; the one",
        f"-- door to source('landing', '{d.name}'). The models choose the submissions they read.",
        "-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),",
        "-- and DuckDB pushes their filters into the Parquet scan.",
        "{{ config(materialized='ephemeral') }}",
        "",
        "select",
        f"    {{{{ landed_columns('{d.name}') }}}}",
        f"from {{{{ source_relation('landing', '{d.name}') }}}}",
    ]) + "\n"


def _door(source: str, table: str, columns: list[str], doc: str) -> str:
    cols = ",\n".join(f"    {{{{ adapter.quote('{c}') }}}}" if c == "column" else f"    {c}" for c in columns)
    return "\n".join([
        f"-- {GENERATED}",
        f"-- {doc}: the one door to source('{source}', '{table}').",
        "{{ config(materialized='ephemeral') }}",
        "",
        "select",
        cols,
        f"from {{{{ source_relation('{source}', '{table}') }}}}",
    ]) + "\n"


def _verdict_door_columns() -> list[str]:
    return [f.name for f in dataclasses.fields(Verdict) if f.name != "error"]


def audit_doors() -> dict[str, Callable[[], str]]:
    """``stg_<source>__<table>`` for the audit sources (ledger, verdicts, problems)."""
    return {
        "stg_pipeline_audit__ingestion_ledger": lambda: _door(
            "pipeline_audit", "ingestion_ledger", _ledger_columns(), "入库台账 (the ingestion ledger)"),
        # a verdict's error text (an expectation that could not run) may quote a file: the
        # operators read it in the verdict file, the models never see it
        "stg_pipeline_audit__quality_results": lambda: _door(
            "pipeline_audit", "quality_results", _verdict_door_columns(), "数据质量检查结果 (the quality verdicts)"),
        "stg_problems__row_problems": lambda: _door(
            "problems", "row_problems", _problem_columns(), "行级问题清单 (the row problems)"),
    }


# --- staging: docs and tests ---------------------------------------------------------------


def contract_values_test(d: Dataset) -> dict:
    """The staging model's enum columns against the contract's values and its street codes
    against the street list, checked by one test (``contract_values``: one dbt node per
    model instead of one per enum column and one for the street), named
    ``contract_values_stg_<dataset>``."""
    enums = [c.name for c in d.columns if c.type is ColumnType.ENUM and not c.personal]
    return {"contract_values": {"name": f"contract_values_stg_{d.name}",
                                "arguments": {"dataset": d.name, "enum_columns": enums}}}


def not_null_test(model: str, columns: list[str]) -> dict:
    """The model's required columns, checked by one test (``not_null_columns``: one dbt
    node per model instead of one per column), named ``not_null_<model>``."""
    return {"not_null_columns": {"name": f"not_null_{model}", "arguments": {"column_names": columns}}}


def _column_entry(d: Dataset, c: Column) -> dict:
    return {
        "name": c.name,
        "description": f"{{{{ doc('{d.name}__{c.name}') }}}}（{c.type.value}{'，必填' if c.required else ''}）",
    }


def _stg_model(d: Dataset) -> dict:
    cols: list[dict] = []
    for c in d.columns:
        if (d.name, c.name) == HASHED_ID:
            cols += [
                {
                    "name": "id_number_hash",
                    "description": "身份证号的密钥哈希（sha256(密钥 || sha256(密钥 || 身份证号))，密钥来自配置）："
                    "跨快照、跨街道识别同一会员，不可还原 (keyed hash of the resident ID)",
                },
                {
                    "name": "id_number_masked",
                    "description": "脱敏身份证号：前6位 + ******** + 后4位 (masked resident ID)",
                },
                {
                    "name": "birth_year",
                    "description": "出生年份，取自身份证号第7–10位 (birth year, from the resident ID)",
                },
            ]
        elif not c.personal:
            cols.append(_column_entry(d, c))
    if not d.is_registry:
        cols += [
            {"name": "version_count", "description": "该记录被接受的上报版本数 (accepted versions of the record)"},
            {"name": "first_ingest_seq", "description": "该记录首次出现的上报顺序号 (ingestion order when first seen)"},
        ]
    cols += [
        {"name": "submission_sha256", "description": "提供该行的上报文件 SHA-256（审计） (the submission this row comes from)"},
        {"name": "ingest_seq", "description": "该上报的顺序号（审计） (ingestion order of that submission)"},
        {"name": "line_number", "description": "该行在上报文件中的行号（审计） (line in the submitted file)"},
    ]
    personal = [c.name for c in d.columns if c.personal and (d.name, c.name) != HASHED_ID]
    note = f"不含个人信息列（{', '.join(personal)}）。" if personal else ""
    if d.is_registry:
        grain = (f"当前快照：每个街道在 as_of_date 变量之前（含）最新一次通过质量检查的名单，每街道每个 {d.key} 一行。"
                 "(current snapshot per street, one row per street and key)")
    else:
        grain = (f"事件记录按 (street_code, {d.key}) 取最新版本（上报顺序号最大、行号最大），只含通过质量检查的上报。"
                 "(latest accepted version of each record per street)")
    return {
        "name": f"stg_{d.name}",
        "description": f"{d.zh}（{d.name}）：{d.doc}。{grain}{note}仅重命名和类型转换。",
        "data_tests": [
            {"unique_combination_of_columns": {"arguments": {"combination_of_columns": ["street_code", d.key]}}},
            not_null_test(f"stg_{d.name}", _filled_columns(d)),
            contract_values_test(d),
        ],
        "columns": cols,
    }


def _filled_columns(d: Dataset) -> list[str]:
    """The staged columns that are never null: the required ones, the street, the key, the
    ID number's hash (where the dataset has one) and the submission each row comes from."""
    columns: list[str] = []
    for c in d.columns:
        if (d.name, c.name) == HASHED_ID:
            columns.append("id_number_hash")
        elif not c.personal and (c.required or c.name in ("street_code", d.key)):
            columns.append(c.name)
    return [*columns, "submission_sha256"]


def _untested(columns: list[dict]) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "data_tests"} for c in columns]


def render_doors_yml() -> str:
    """Docs of the staging doors (ephemeral: no tests, their readers are tested)."""
    models: list[dict] = []
    for d in DATASETS:
        staged = _stg_model(d)["columns"]
        models.append({
            "name": f"stg_landing__{d.name}",
            "description": f"{d.zh}（{d.name}）落地数据：每个上报文件的每一行，重命名与类型转换，不含个人信息列；"
            f"唯一读取 source('landing', '{d.name}') 的模型（内联，不建视图）。 (every landed row, renamed and cast)",
            "columns": _untested([c for c in staged if c["name"] not in ("version_count", "first_ingest_seq")]),
        })
    audit = {
        "stg_pipeline_audit__ingestion_ledger": ("入库台账 (the ingestion ledger)", LEDGER_DOCS, _ledger_columns()),
        "stg_pipeline_audit__quality_results": (
            "数据质量检查结果 (the quality verdicts)", QUALITY_DOCS, _verdict_door_columns()),
        "stg_problems__row_problems": ("行级问题清单 (the row problems)", PROBLEM_DOCS, _problem_columns()),
    }
    for name, (what, docs, columns) in audit.items():
        models.append({
            "name": name,
            "description": f"{what}：审计输入的唯一入口（内联模型）。 (the one door to the source)",
            "columns": [{"name": c, "description": docs[c]} for c in columns],
        })
    return f"# {GENERATED}\n" + _yaml({"version": 2, "models": models})


def render_staging_yml() -> str:
    return f"# {GENERATED}\n" + _yaml({"version": 2, "models": [_stg_model(d) for d in DATASETS]})


# --- seeds -----------------------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def render_streets_csv() -> str:
    return _csv(
        ["code", "name", "pinyin", "district_code", "district_name"],
        [[s.code, s.name, s.pinyin, DISTRICT_CODE, DISTRICT_NAME] for s in STREETS],
    )


def render_datasets_csv() -> str:
    return _csv(
        ["dataset", "dataset_name", "kind", "record_key"],
        [[d.name, d.zh, d.kind.value, d.key] for d in DATASETS],
    )


def render_industry_sections_csv() -> str:
    return _csv(
        ["section", "section_name", "section_name_en"],
        [[s.code, s.name, s.name_en] for s in SECTIONS],
    )


def render_enum_labels_csv() -> str:
    rows: list[list[object]] = []
    for d in DATASETS:
        for c in d.columns:
            for i, v in enumerate(c.enum, start=1):
                rows.append([d.name, c.name, c.zh, v, i])
    return _csv(["dataset", "column", "column_header", "value", "sort_order"], rows)


# --- registry --------------------------------------------------------------------------------


def dbt_artifacts() -> dict[str, Callable[[], str]]:
    """Repository-relative path -> renderer, for :func:`pipelines.sync.artifacts`."""
    out: dict[str, Callable[[], str]] = {
        f"{DBT_DIR}/models/staging/_sources.yml": render_sources_yml,
        f"{DBT_DIR}/models/staging/_staging.yml": render_staging_yml,
        f"{DBT_DIR}/macros/generated/contract.sql": render_contract_macro,
        f"{DBT_DIR}/models/staging/_contract_columns.md": render_column_docs_md,
        f"{DBT_DIR}/macros/generated/contract_values.sql": render_contract_values_macro,
        f"{DBT_DIR}/seeds/streets.csv": render_streets_csv,
        f"{DBT_DIR}/seeds/datasets.csv": render_datasets_csv,
        f"{DBT_DIR}/seeds/enum_labels.csv": render_enum_labels_csv,
        f"{DBT_DIR}/seeds/industry_sections.csv": render_industry_sections_csv,
    }
    for d in DATASETS:
        out[f"{DBT_DIR}/models/staging/stg_{d.name}.sql"] = (lambda d=d: render_stg_sql(d))
        out[f"{DBT_DIR}/models/staging/doors/stg_landing__{d.name}.sql"] = (
            lambda d=d: render_landing_door_sql(d))
    for name, render in audit_doors().items():
        out[f"{DBT_DIR}/models/staging/doors/{name}.sql"] = render
    out[f"{DBT_DIR}/models/staging/doors/_doors.yml"] = render_doors_yml
    return out
