"""The dbt project's generated inputs, the ID hashes it reads and its Dagster wiring (fast tests),
plus one build of a fresh, empty install (the sources must read zero files gracefully)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from pipelines.config import Settings
from pipelines.contract import DATASETS
from pipelines.ingest.ledger import LedgerEntry
from pipelines.ingest.pii_columns import (
    BIRTH_YEAR,
    DERIVED,
    HASH,
    HASHED_ID,
    MASKED,
    file_fingerprint,
    key_fingerprint,
    rekey_landing,
    with_derived_columns,
    write_landing_parquet,
)
from pipelines.sync import sync
from pipelines.warehouse.bootstrap import ensure_dbt_inputs
from pipelines.warehouse.dbt_sources import (
    dbt_artifacts,
    file_ref_sql,
    render_contract_macro,
    render_enum_labels_csv,
    render_sources_yml,
    render_staging_yml,
)

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt_project"


def test_generated_dbt_files_are_in_step_with_the_contract() -> None:
    stale = [p for p in sync(ROOT, check=True) if p.startswith("dbt_project/")]
    assert stale == [], f"run `union-warehouse contract-sync`; stale: {stale}"
    assert all(p.startswith("dbt_project/") for p in dbt_artifacts())


def test_staging_carries_no_personal_column() -> None:
    data = render_contract_macro()
    for d in DATASETS:
        for c in d.personal_columns:
            if (d.name, c) != ("members", "id_number"):
                assert f"'name': '{c}'" not in data, (d.name, c)
    assert "{'name': 'id_number', 'type': 'id18', 'hashed': [{'name': 'id_number_hash', 'landing': '_id_number_hash'" in data
    staging = yaml.safe_load(render_staging_yml())
    for model in staging["models"]:
        names = {c["name"] for c in model["columns"]}
        assert not names & {"name", "id_number", "phone", "lawyer_name"}, model["name"]
        assert (DBT_DIR / "models" / "staging" / f"{model['name']}.sql").exists()
        assert model["description"] and all(c["description"] for c in model["columns"])


def _manifest() -> dict:
    from pipelines.orchestration.dbt import prepare_manifest

    return json.loads(prepare_manifest().read_text(encoding="utf-8"))


def test_no_model_copies_a_contract_enum_or_a_column_text() -> None:
    """The contract's enum values reach dbt tests through contract_enum(), and a model
    column that carries a contract column cites its doc block: no list or text is copied."""
    manifest = _manifest()
    enums = [frozenset(c.enum) for d in DATASETS for c in d.columns if c.enum]
    enums.append(frozenset(d.name for d in DATASETS if d.is_registry))
    copied = []
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if meta.get("name") != "accepted_values":
            continue
        values = meta["kwargs"]["values"]
        if isinstance(values, list) and any(frozenset(map(str, values)) <= e for e in enums):
            copied.append((node["attached_node"], meta["kwargs"]["column_name"], values))
    assert copied == [], f"use contract_enum() / registry_datasets(): {copied}"

    # a mart or intermediate column named as a column of a dataset the model reads
    columns_of = {d.name: {c.name for c in d.columns if not c.personal} for d in DATASETS}
    models = _models_by_name(manifest)
    uncited = []
    for name, node in sorted(models.items()):
        if node["resource_type"] != "model" or node["fqn"][1] not in ("marts", "intermediate"):
            continue
        carried = set().union(*(columns_of[d] for d in _landing_lineage(models, name)))
        path = DBT_DIR / node["patch_path"].split("://", 1)[1]
        entry = next(m for m in yaml.safe_load(path.read_text(encoding="utf-8"))["models"] if m["name"] == name)
        uncited += [f"{name}.{c['name']}" for c in entry.get("columns", [])
                    if c["name"] in carried and "{{ doc(" not in str(c.get("description"))]
    assert uncited == [], f"cite the contract's doc block ({{{{ doc('<dataset>__<column>') }}}}): {uncited}"


def _models_by_name(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")}


def _landing_lineage(models: dict[str, dict], name: str, seen: set[str] | None = None) -> set[str]:
    """The datasets whose landing rows model ``name`` reads, followed back through the
    graph to the doors, except a mart's declared lookups (``meta.union.lookup_only``:
    models joined only to add a key or a flag)."""
    if name.startswith("stg_landing__"):
        return {name.removeprefix("stg_landing__")}
    seen = set() if seen is None else seen
    node = models[name]
    lookups = set(((node.get("config") or {}).get("meta") or {}).get("union", {}).get("lookup_only", []))
    out: set[str] = set()
    for dep in node.get("depends_on", {}).get("nodes", []):
        parent = dep.split(".")[-1]
        if parent in models and parent not in seen and parent not in lookups:
            seen.add(parent)
            out |= _landing_lineage(models, parent, seen)
    return out


def test_contract_enum_gives_the_contract_values() -> None:
    """The data contract_enum() reads is the contract's, value for value."""
    data = render_contract_macro()
    for d in DATASETS:
        for c in d.columns:
            if c.enum and not c.personal:
                assert f"'name': '{c.name}', 'type': '{c.type.value}'" in data
                assert "'enum': [" + ", ".join(f"'{v}'" for v in c.enum) + "]" in data, (d.name, c.name)


def _cte_bodies(sql: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^(\w+) as \(\n(.*?)^\)", sql, re.S | re.M)}


def test_indicator_inputs_are_the_lineage_of_each_indicator() -> None:
    """seeds/indicator_inputs.csv (which datasets' submissions feed each indicator, for
    its input-quality columns) equals the dbt graph: the landing lineage of the models
    each indicator's CTE in int_indicator_street_measures reads."""
    models = _models_by_name(_manifest())
    ctes = _cte_bodies((DBT_DIR / "models" / "intermediate" / "int_indicator_street_measures.sql")
                       .read_text(encoding="utf-8"))

    def refs_of(cte: str, seen: set[str]) -> set[str]:
        body = ctes[cte]
        out = set(re.findall(r"ref\('(\w+)'\)", body))
        for other in ctes:
            if other not in seen and re.search(rf"\b{other}\b", body):
                seen.add(other)
                out |= refs_of(other, seen)
        return out

    derived = {
        (cte.upper(), dataset)
        for cte in ctes if re.fullmatch(r"dc\d\d", cte)
        for ref in refs_of(cte, {cte}) for dataset in _landing_lineage(models, ref)
    }
    with (DBT_DIR / "seeds" / "indicator_inputs.csv").open(encoding="utf-8") as f:
        declared = {(r["indicator_code"], r["dataset"]) for r in csv.DictReader(f)}
    assert len({code for code, _ in derived}) == 17
    assert declared == derived, f"declared only: {declared - derived}; read only: {derived - declared}"


def test_default_warning_thresholds_start_from_the_statute() -> None:
    """W01's lowest level and W09's limit are the statute's numbers the marts use."""
    from pipelines.alerts.rulefile import DEFAULT_RULES_PATH, load_rules
    from pipelines.contract.thresholds import COLLECTIVE_DISPUTE_WORKERS, MEDIATION_LIMIT_DAYS

    rules = load_rules(DEFAULT_RULES_PATH)
    assert min(lr.conditions["workers_involved"] for lr in rules["W01"].levels) == COLLECTIVE_DISPUTE_WORKERS
    assert rules["W09"].params["overdue_days"] == MEDIATION_LIMIT_DAYS


def test_enum_labels_list_every_contract_value() -> None:
    rows = list(csv.DictReader(io.StringIO(render_enum_labels_csv())))
    got = {(r["dataset"], r["column"], r["value"]) for r in rows}
    want = {(d.name, c.name, v) for d in DATASETS for c in d.columns for v in c.enum}
    assert got == want


def test_every_landing_source_links_to_its_dagster_asset_and_describes_every_column() -> None:
    sources = {s["name"]: s for s in yaml.safe_load(render_sources_yml())["sources"]}
    tables = {t["name"]: t for t in sources["landing"]["tables"]}
    assert set(tables) == {d.name for d in DATASETS}
    for d in DATASETS:
        t = tables[d.name]
        assert t["config"]["meta"]["dagster"]["asset_key"] == ["landing", d.name]
        described = {c["name"]: c["description"] for c in t["columns"]}
        for c in d.columns:
            assert c.zh in described[c.name]
    audit = {t["name"]: t for t in sources["pipeline_audit"]["tables"]}
    assert audit["ingestion_ledger"]["config"]["meta"]["dagster"]["asset_key"] == ["audit", "ingestion_ledger"]


def _locations(data_dir: Path) -> dict[str, str]:
    out = {}
    for s in yaml.safe_load(render_sources_yml())["sources"]:
        for t in s["tables"]:
            loc = t["config"]["meta"]["external_location"]
            out[f"{s['name']}.{t['name']}"] = loc.replace("{{ env_var('UNION_DATA_DIR', '../data') }}", str(data_dir))
    return out


def test_sources_read_a_fresh_install_and_a_torn_ledger(settings: Settings) -> None:
    ensure_dbt_inputs(settings)
    ensure_dbt_inputs(settings)  # idempotent
    locations = _locations(settings.data_dir)
    with duckdb.connect() as con:
        for name, loc in locations.items():
            assert con.sql(f"select count(*) from {loc}").fetchall() == [(0,)], name
        for d in DATASETS:
            cols = {r[0] for r in con.sql(f"describe select * from {locations['landing.' + d.name]}").fetchall()}
            assert set(d.column_names) | {"_submission_sha256", "_ingest_seq", "_line_number", "_street_code"} <= cols
        entry = LedgerEntry(seq=1, path="inbox/x", sha256="a" * 64, bytes=1, mtime_ns=0, dataset="members",
                            street_code="110101001", first_seen="2015-01-01T00:00:00+00:00", status="loaded")
        settings.ledger_path.write_text(entry.to_json() + '\n{"seq": 2, "path": "tor', encoding="utf-8")
        rows = con.sql(f"select seq, sha256 from {locations['pipeline_audit.ingestion_ledger']} where sha256 is not null").fetchall()
        assert rows == [(1, "a" * 64)]
    # ensure_dbt_inputs never rewrites what exists
    ensure_dbt_inputs(settings)
    assert settings.ledger_path.read_text(encoding="utf-8").startswith(entry.to_json())


PATHS = [
    "inbox/110101001/members/张三_110101199003071234_13812345678会员.csv",
    "inbox/110101001/members/members_2015-12-31.xlsx", "inbox/110101001/members/名单", "inbox/a/b/.hidden",
    "inbox/a/b/x.", "inbox/a/b/x.tar.gz", "inbox/a/b/x.verylongextension", "inbox/a.b/c", "x.csv", "", "inbox/a/b/",
    "inbox/a/b/名单.表格xlsx文件abc", "inbox/a/b/e\u0301.e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
    "inbox/a\nb/c\n.c\nsv", "inbox/110101001/members/x..CSV", "inbox/110101001/members/sub/x.jsonl",
    "inbox/110101001/张三/x.csv", "inbox/110101001/members/x.张三", "inbox/张三13812345678/members/x.csv",
]


def test_a_file_reference_keeps_nothing_a_street_typed() -> None:
    """Folders other than the drop zone's own plain ones, and extensions that are not
    plain, are folded into the digest: a folder named after a person does not leak."""
    from pipelines.ingest.dropzone import log_ref

    for path in PATHS:
        ref = log_ref(path)
        assert "张三" not in ref and "13812345678" not in ref and "名单" not in ref, path
    assert log_ref("inbox/110101001/members/m.csv").startswith("inbox/110101001/members/#")
    assert log_ref("inbox/110101001/members/m.csv").endswith(".csv")


def test_the_sources_file_reference_is_log_ref() -> None:
    """The dbt source computes the file reference in SQL: the same as LedgerEntry.file_ref."""
    from pipelines.ingest.dropzone import log_ref

    with duckdb.connect() as con:
        con.execute("create table t (path varchar)")
        con.executemany("insert into t values (?)", [[p] for p in [*PATHS, None]])
        got = dict(con.sql(f"select path, {file_ref_sql('path')} from t").fetchall())
    assert got == {**{p: log_ref(p) for p in PATHS}, None: None}
    assert "$" not in file_ref_sql("path")  # the location is a string.Template


def test_the_audit_sources_never_pass_a_file_name_on(settings: Settings) -> None:
    """The ledger source gives file references instead of the ledger's path, duplicate_of
    and error (which quotes the earlier file of a duplicate); the quality source hides the
    `path` column of verdict files written before file references, and reads a data dir
    holding only such files."""
    ensure_dbt_inputs(settings)
    locations = _locations(settings.data_dir)
    original = "inbox/110101001/members/张三_110101199003071234_13812345678会员.csv"
    first = LedgerEntry(seq=1, path=original, sha256="a" * 64, bytes=1, mtime_ns=0, dataset="members",
                        street_code="110101001", first_seen="2015-01-01T00:00:00+00:00", status="loaded")
    copy = LedgerEntry(seq=2, path="inbox/110101001/members/李四.csv", sha256="a" * 64, bytes=1, mtime_ns=0,
                       dataset="members", street_code="110101001", first_seen="2015-01-01T00:00:00+00:00",
                       status="duplicate", duplicate_of=original, error=f"duplicate ({original})")
    settings.ledger_path.write_text(first.to_json() + "\n" + copy.to_json() + "\n", encoding="utf-8")
    legacy = settings.data_dir / "quality" / "results"
    (legacy / "_schema" / "empty.parquet").unlink()
    frame = pl.DataFrame({"run_id": ["r"], "submission_sha256": ["a" * 64], "path": [original], "success": [True]})
    (legacy / "members" / "110101001").mkdir(parents=True)
    frame.write_parquet(legacy / "members" / "110101001" / f"{'a' * 64}.parquet")
    sources = {t["name"]: t for s in yaml.safe_load(render_sources_yml())["sources"] for t in s["tables"]}
    with duckdb.connect() as con:
        ledger = con.sql(f"select * from {locations['pipeline_audit.ingestion_ledger']} order by seq")
        assert not {"path", "duplicate_of", "error"} & set(ledger.columns)
        assert set(ledger.columns) == {c["name"] for c in sources["ingestion_ledger"]["columns"]}
        rows = ledger.fetchall()
        assert original not in repr(rows) and "张三" not in repr(rows) and "李四" not in repr(rows)
        refs = con.sql(f"select file_ref, duplicate_of_file_ref from {locations['pipeline_audit.ingestion_ledger']} "
                       "order by seq").fetchall()
        assert refs == [(first.file_ref, None), (copy.file_ref, first.file_ref)]
        verdicts = con.sql(f"select * from {locations['pipeline_audit.quality_results']}")
        assert "path" not in verdicts.columns and verdicts.fetchall() == [("r", "a" * 64, True)]


def _expected_hash(key: str, id_number: str) -> str:
    inner = hashlib.sha256((key + id_number).encode()).hexdigest()
    return hashlib.sha256((key + inner).encode()).hexdigest()


def _member(i: int) -> dict:
    id_number = f"11010119800101{i:03d}X"
    return {"member_id": f"M{i}", "id_number": id_number}


def test_landing_derives_the_keyed_hash_and_the_warehouse_never_sees_the_key(tmp_path: Path) -> None:
    """The warehouse reads what landing derived from the resident ID (on any engine the
    same member key); the key is a bound parameter at landing, never SQL text or dbt's."""
    ids = pl.DataFrame({"member_id": ["a", "b", "c"], "id_number": ["110101198001010019", None, "44030519991231002X"]})
    out = with_derived_columns(ids, "members", "k-123")
    assert out[HASH].to_list() == [_expected_hash("k-123", "110101198001010019"), None,
                                   _expected_hash("k-123", "44030519991231002X")]
    assert out[MASKED].to_list() == ["110101********0019", None, "440305********002X"]
    assert out[BIRTH_YEAR].to_list() == [1980, None, 1999]
    assert with_derived_columns(ids, "union_orgs", "k") is ids  # no hashed column
    target = tmp_path / "x.parquet"
    write_landing_parquet(out, target, "members", "k-123")
    assert file_fingerprint(target) == key_fingerprint("k-123") != key_fingerprint("k-124")
    assert "k-123" not in target.read_bytes().decode("latin-1")
    # dbt is given neither the key nor a way to it
    texts = [p.read_text(encoding="utf-8") for p in DBT_DIR.rglob("*")
             if p.is_file() and p.suffix in (".sql", ".yml") and "target" not in p.parts]
    for needle in ("getvariable", "env_var('UNION_PII_KEY'", "union_pii_key"):
        assert not [t for t in texts if needle in t], needle


def test_landing_is_rekeyed_when_the_key_changes_or_the_file_predates_the_hashes(tmp_path: Path) -> None:
    old = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data", pii_key="old-key")
    ensure_dbt_inputs(old)
    members = old.landing_dir / "members"
    frame = pl.DataFrame([_member(i) for i in range(3)])
    current = members / "110101001" / ("a" * 64 + ".parquet")
    write_landing_parquet(with_derived_columns(frame, "members", "old-key"), current, "members", "old-key")
    legacy = members / "110101002" / ("b" * 64 + ".parquet")  # landed before the hashes were made at landing
    legacy.parent.mkdir(parents=True)
    frame.write_parquet(legacy)
    (members / "_schema" / "empty.parquet").unlink()
    pl.DataFrame(schema={"member_id": pl.String, "id_number": pl.String}).write_parquet(members / "_schema" / "empty.parquet")
    assert rekey_landing(old.landing_dir, "old-key") == 2  # the legacy file and the legacy empty one
    assert rekey_landing(old.landing_dir, "old-key") == 0
    assert pl.read_parquet(legacy)[HASH].to_list() == [_expected_hash("old-key", r["id_number"]) for r in frame.to_dicts()]
    assert HASH in pl.read_parquet(members / "_schema" / "empty.parquet").columns
    new = Settings(raw_dir=old.raw_dir, data_dir=old.data_dir, pii_key="new-key")
    ensure_dbt_inputs(new)  # before a build: every landing file hashed with the key in use
    for path in (current, legacy):
        landed = pl.read_parquet(path)
        assert landed[HASH].to_list() == [_expected_hash("new-key", r["id_number"]) for r in frame.to_dicts()]
        assert landed.drop(DERIVED).equals(frame) and file_fingerprint(path) == key_fingerprint("new-key")


def test_translator_groups_assets_by_layer() -> None:
    from pipelines.orchestration.dbt import UnionDbtTranslator

    t = UnionDbtTranslator()
    assert t.get_group_name({"resource_type": "seed", "fqn": ["union_warehouse", "streets"]}) == "reference"
    for layer in ("staging", "intermediate", "marts"):
        assert t.get_group_name({"resource_type": "model", "fqn": ["union_warehouse", layer, "x"]}) == layer


def test_every_dbt_test_is_a_check_of_one_asset() -> None:
    """dagster-dbt attaches a test to the one model it reads; a test reading several needs
    `meta.dagster.ref`, or it is logged as an observation with a warning and is no check."""
    from pipelines.orchestration.dbt import build_dbt_assets, prepare_manifest

    manifest = json.loads(prepare_manifest().read_text(encoding="utf-8"))
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    specs = list(build_dbt_assets().check_specs)
    checks = [spec.name for spec in specs]
    assert len(checks) == len(tests) and set(checks) == tests
    attached = {spec.name: spec.asset_key.to_user_string() for spec in specs}
    assert attached["assert_member_active_in_one_street"] == "marts/dim_member"


def test_profile_and_project_settings() -> None:
    project = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["name"] == "union_warehouse"
    assert project["flags"]["send_anonymous_usage_stats"] is False
    profile = yaml.safe_load((DBT_DIR / "profiles.yml").read_text(encoding="utf-8"))["union_warehouse"]
    # the engine is chosen by UNION_WAREHOUSE_TARGET, DuckDB by default
    assert profile["target"].startswith("{{ env_var('UNION_WAREHOUSE_TARGET', 'duckdb') }}")
    assert set(profile["outputs"]) == {"duckdb", "spark", "spark_thrift"}
    dev = profile["outputs"]["duckdb"]
    # threads share one DuckDB instance in the one dbt process: still a single writer of the file
    assert dev["type"] == "duckdb" and dev["threads"] == 2
    assert "plugins" not in dev  # no key to hand over: landing made the hashes
    assert "UNION_PII_KEY" not in (DBT_DIR / "profiles.yml").read_text(encoding="utf-8")
    # Spark in the dbt process keeps its tables and metastore under the data dir
    spark = profile["outputs"]["spark"]["server_side_parameters"]
    assert profile["outputs"]["spark"]["method"] == "session"
    for key in ("spark.sql.warehouse.dir", "spark.driver.extraJavaOptions"):
        assert "env_var('UNION_DATA_DIR'" in spark[key] and "/warehouse/spark" in spark[key]
    assert spark["spark.ui.enabled"] == "false" and spark["spark.sql.parquet.mergeSchema"] == "true"
    # a Thrift server gets the same session settings, named as it applies them per session
    thrift = profile["outputs"]["spark_thrift"]["server_side_parameters"]
    assert all(key.startswith("set:hiveconf:") for key in thrift)
    for key in ("spark.sql.timestampType", "spark.sql.session.timeZone", "spark.sql.sources.partitionOverwriteMode",
                "spark.sql.parquet.outputTimestampType", "spark.sql.parquet.mergeSchema"):
        assert str(thrift[f"set:hiveconf:{key}"]) == str(spark[key]), key


@pytest.mark.slow
def test_dbt_build_passes_on_a_fresh_empty_install(settings: Settings, tmp_path: Path) -> None:
    ensure_dbt_inputs(settings)
    target = tmp_path / "target"
    env = {**os.environ, "UNION_DATA_DIR": str(settings.data_dir), "UNION_PII_KEY": "k",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    out = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(target), "--log-path", str(target / "logs"), "--vars", json.dumps({"as_of_date": "2015-12-31"})],
        env=env, capture_output=True, text=True, cwd=DBT_DIR, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.sql("select count(*) from marts.dim_member").fetchall() == [(0,)]
        assert con.sql("select count(*) from marts.dim_street").fetchall() == [(17,)]
        # the monthly grid still has every street for the as-of month
        assert con.sql("select count(*) from marts.fct_street_monthly").fetchall() == [(17,)]


def test_each_source_table_has_one_door_and_only_staging_doors_read_sources() -> None:
    """jaffle-shop's rule: a source table is read by exactly one model, its staging
    ``stg_<source>__<table>`` (for landing: ``stg_landing__<dataset>``); every other model
    reads the door."""
    from pipelines.orchestration.dbt import prepare_manifest

    manifest = json.loads(prepare_manifest().read_text(encoding="utf-8"))
    readers: dict[str, list[dict]] = {uid: [] for uid in manifest["sources"]}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        for dep in node["depends_on"]["nodes"]:
            if dep.startswith("source."):
                readers[dep].append(node)
    for uid, models in sorted(readers.items()):
        source = manifest["sources"][uid]
        door = f"stg_{source['source_name']}__{source['name']}"
        assert [(m["name"], m["fqn"][1]) for m in models] == [(door, "staging")], uid


def _not_null_checked(manifest: dict) -> dict[str, set[str]]:
    """{model name: the columns its not_null_columns test checks}."""
    checked: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if meta.get("name") == "not_null_columns":
            model = manifest["nodes"][node["attached_node"]]["name"]
            assert node["name"] == f"not_null_{model}"  # one per model, named for it
            checked.setdefault(model, set()).update(meta["kwargs"]["column_names"])
    return checked


def test_required_columns_are_checked_not_null_once_per_model() -> None:
    """A required contract column (and the street, the key, the ID hash, the submission)
    is never null in its staging model: one not_null_columns test per model checks them
    all (one dbt node, not one per column), and names only columns the model has."""
    manifest = _manifest()
    checked = _not_null_checked(manifest)
    for d in DATASETS:
        wanted = {c.name for c in d.columns if (c.required or c.name in ("street_code", d.key)) and not c.personal}
        if d.name == HASHED_ID[0]:
            wanted.add("id_number_hash")
        assert wanted | {"submission_sha256"} <= checked[f"stg_{d.name}"], d.name
    models = _models_by_name(manifest)
    for model, columns in checked.items():
        declared = set(models[model]["columns"])
        assert columns <= declared, (model, columns - declared)
    # the marts keep theirs too (hand-written YAML)
    assert {"member_key", "street_code"} <= checked["dim_member"]
    assert not [n for n in manifest["nodes"].values()
                if (n.get("test_metadata") or {}).get("name") == "not_null"], "use not_null_columns on the model"


def spark_settings(output: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The profile's Spark settings of ``output`` (``spark``: session mode, ``spark_thrift``)
    as dbt renders them with ``environ``."""
    import jinja2

    profile = yaml.safe_load((DBT_DIR / "profiles.yml").read_text(encoding="utf-8"))["union_warehouse"]
    env_var = lambda name, default=None: environ.get(name, default)  # noqa: E731 - as dbt renders it
    return {key: jinja2.Template(str(value)).render(env_var=env_var)
            for key, value in profile["outputs"][output]["server_side_parameters"].items()}


def test_spark_code_generation_and_jit_flags_are_switched_by_their_variables() -> None:
    default = spark_settings("spark", {"UNION_DATA_DIR": "/d"})
    # Spark's own default (code generation on) unless asked
    assert default["spark.sql.codegen.wholeStage"] == "true"
    assert default["spark.sql.codegen.factoryMode"] == "FALLBACK"
    # the JVM flags sit beside the Derby home, which stays whatever the flags
    assert default["spark.driver.extraJavaOptions"].startswith("-Dderby.system.home=/d/warehouse/spark ")
    assert "-XX:Tier4InvocationThreshold=50000" in default["spark.driver.extraJavaOptions"]
    off = spark_settings("spark", {"UNION_DATA_DIR": "/d", "UNION_SPARK_CODEGEN": "false",
                                   "UNION_SPARK_JAVA_OPTIONS": "-Xss4m"})
    assert off["spark.sql.codegen.wholeStage"] == "false"
    assert off["spark.sql.codegen.factoryMode"] == "NO_CODEGEN"
    assert off["spark.driver.extraJavaOptions"] == "-Dderby.system.home=/d/warehouse/spark -Xss4m"
    # spelled as a person may: both settings follow, never one without the other
    spelled = spark_settings("spark", {"UNION_DATA_DIR": "/d", "UNION_SPARK_CODEGEN": "False"})
    assert (spelled["spark.sql.codegen.wholeStage"], spelled["spark.sql.codegen.factoryMode"]) == ("false", "NO_CODEGEN")
