"""Warehouse layer: the dbt project as Dagster assets.

Every dbt model and seed is an asset (grouped by layer: ``reference`` seeds, ``staging``,
``intermediate``, ``marts``; keys ``[<layer schema>, <name>]``, e.g. ``marts/dim_member``),
downstream of the landing assets (each landing source carries
``meta.dagster.asset_key: [landing, <dataset>]``) and of ``audit/ingestion_ledger``. dbt
tests become asset checks (dagster-dbt's default).

One writer at a time: the assets run as one ``dbt build`` step in the
``warehouse_writer`` pool (give that pool a limit of 1 in the instance), with a
single-run backfill policy, so two dbt processes never open the DuckDB file together.

The manifest is prepared once and only read when the definitions load, as dagster-dbt's
``DbtProject.prepare_if_dev`` does it. :func:`prepare_manifest` writes
``dbt_project/target/manifest.json`` (``dbt parse``, under a file lock, only when it is
missing or older than a project file): ``union-warehouse prepare`` runs it, as do the CLI
commands that run the pipeline and the test session, before anything loads the
definitions. :func:`build_dbt_assets` only reads it (:func:`prepared_manifest`): under
``dagster dev`` it prepares first, elsewhere (a code server, a run worker, ``dagster
definitions validate``, a test) a missing or stale manifest is :class:`ManifestNotPrepared`
telling the operator to run the prepare command, so nothing starts dbt at import.
"""

import hashlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY
from packaging import version

from pipelines.alerts.rulefile import load_rules
from pipelines.config import Settings
from pipelines.faults import fault_point
from pipelines.files import exclusive
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.quality.verdicts import unchecked
from pipelines.warehouse import build_state
from pipelines.warehouse.bootstrap import ensure_dbt_inputs
from pipelines.warehouse.build_plan import DbtGraph, plan_build
from pipelines.warehouse.spark_mirror import (
    ENGINE_ENV,
    SPARK,
    Relation,
    mirror_spark_build,
    warehouse_engine,
)

from .dbt_log import SUMMARY_ATTR, DbtSummary, dbt_log, dbt_log_path, quietly
from .resources import AsOf, UnionPaths

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
WAREHOUSE_POOL = "warehouse_writer"
ASSETS_NAME = "warehouse_models"
BUILD_TARGET = "warehouse_build"  # fixed target dir of the asset's dbt build (one writer at a time)
CLI_TRIGGER_TAG = "union/trigger"  # "cli" on the runs `union-warehouse run` starts

# Files whose change makes the manifest stale.
_PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")
_LAYERS = ("staging", "intermediate", "marts", "audit", "indicators", "warnings")

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The ``dbt`` of this interpreter's environment (PATH may not include it)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


class UnionDbtCli(DbtCliResource):
    """``DbtCliResource`` without two start-up costs this project never uses.

    Before every invocation dagster-dbt runs ``dbt --version`` in a subprocess (to tell
    dbt-core from the Fusion engine) and builds an in-process dbt adapter (for
    ``fetch_row_counts`` / column metadata). Our ``dbt`` is the dbt-core of this very
    environment, so its version is the installed package's, and we fetch no metadata.
    Together they cost 8-10 s of every build on these 2 cores, most of a small build's
    fixed cost (bench/warehouse_build.py)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version  # a dbt from elsewhere: ask it

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):  # type: ignore[no-untyped-def,override]
        return None  # no adapter handle: nothing here fetches row counts or column metadata


def dbt_resource(project: DbtProject = DBT_PROJECT) -> DbtCliResource:
    """The ``dbt`` resource the assets need (resource key ``"dbt"``)."""
    return UnionDbtCli(project_dir=project, dbt_executable=dbt_executable())


@contextmanager
def dbt_environment(settings: Settings | None = None, engine: str | None = None) -> Iterator[None]:
    """Environment of a dbt subprocess: the repository on PYTHONPATH, telemetry off, no
    colour codes (its lines go to a log file: :mod:`.dbt_log`), no debug file log of dbt's
    own unless ``DBT_LOG_LEVEL_FILE`` asks for one, and with ``settings`` the
    data directory; with ``engine``, that engine rather than the configured one
    (``UNION_WAREHOUSE_TARGET``). Never the ID-hashing key: the hashes are made at landing
    (pipelines/ingest/pii_columns.py). Restored afterwards."""
    wanted: dict[str, str] = {
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "DBT_USE_COLORS_FILE": "false",
        # dbt's own debug file log (dbt.log in the target folder: every query, some 10 MB a
        # build) costs a tenth of a build's CPU; the run's dbt log (dbt_log.py) keeps what
        # dbt prints. An operator who wants it sets DBT_LOG_LEVEL_FILE=debug.
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE") or "none",
    }
    if settings is not None:
        wanted["UNION_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    if engine is not None:
        wanted[ENGINE_ENV] = engine
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


PREPARE_COMMAND = "uv run union-warehouse prepare"
DEV_ENV = "DAGSTER_IS_DEV_CLI"  # set by `dagster dev` (dagster-dbt's prepare_if_dev reads it)


class ManifestNotPrepared(RuntimeError):
    """The definitions were loaded without a current dbt manifest (outside ``dagster dev``)."""


def _newest_input(project_dir: Path) -> tuple[float, Path | None]:
    """The project file changed last, and when."""
    newest: tuple[float, Path | None] = (0.0, None)
    for name in _PROJECT_INPUTS:
        p = project_dir / name
        for f in p.rglob("*") if p.is_dir() else [p]:
            if f.is_file() and f.stat().st_mtime > newest[0]:
                newest = (f.stat().st_mtime, f)
    return newest


def _manifest_staleness(project: DbtProject) -> str | None:
    """Why the manifest cannot be used as it is (None: it is current)."""
    m = project.manifest_path
    if not m.exists():
        return "is missing"
    changed, newest = _newest_input(project.project_dir)
    if m.stat().st_mtime < changed:
        return f"is older than {newest.relative_to(project.project_dir) if newest else 'the project'}"
    return None


def manifest_is_stale(project: DbtProject = DBT_PROJECT) -> bool:
    return _manifest_staleness(project) is not None


def prepare_manifest(project: DbtProject = DBT_PROJECT, *, force: bool = False) -> Path:
    """Write ``target/manifest.json`` with ``dbt parse`` when it is missing or stale.

    Safe to call from several processes: one parses under a file lock, the others wait
    and find it fresh. Returns the manifest path."""
    with exclusive(project.project_dir / project.target_path / ".prepare.lock"):
        if force or manifest_is_stale(project):
            with dbt_environment():
                dbt_resource(project).cli(
                    ["parse", "--quiet"], target_path=project.target_path, raise_on_error=True
                ).wait()
    if not project.manifest_path.exists():
        raise FileNotFoundError(f"dbt parse wrote no manifest at {project.manifest_path}")
    return project.manifest_path


def prepared_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """The manifest the definitions load, read and never written here, except under
    ``dagster dev`` (which prepares it first, like ``DbtProject.prepare_if_dev``).
    Anywhere else a missing or stale manifest is :class:`ManifestNotPrepared`: a code
    server or a run worker does not run ``dbt parse`` behind the operator's back."""
    if os.environ.get(DEV_ENV):
        return prepare_manifest(project)
    why = _manifest_staleness(project)
    if why is not None:
        raise ManifestNotPrepared(
            f"the dbt manifest {project.manifest_path} {why}: the Dagster definitions only "
            f"read it. Prepare it first with `{PREPARE_COMMAND}` (dbt parse; `union-warehouse "
            "run` and `demo` do it themselves, and so does `dagster dev`)."
        )
    return project.manifest_path


class UnionDbtTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer: seeds in ``reference``, models in ``staging``,
    ``intermediate``, ``marts``, ``audit``, ``indicators`` or ``warnings`` (their folder,
    which is also their schema)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # The audit models publish the ledger, quality verdicts and quarantine under the
        # interface's names (audit.ingestion_ledger, ...); their asset keys must differ
        # from the sources they read (audit/ingestion_ledger is the landing ledger asset).
        fqn = dbt_resource_props.get("fqn") or []
        if dbt_resource_props.get("resource_type") == "model" and "audit" in fqn[1:-1]:
            return dg.AssetKey(["warehouse_audit", dbt_resource_props.get("alias") or fqn[-1]])
        return super().get_asset_key(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project: DbtProject | None) -> dg.AssetCheckSpec | None:
        """dbt tests as non-blocking checks. They gate nothing a blocking check would: a
        test that fails at ``error`` severity makes ``dbt build`` fail, so the
        ``warehouse_models`` step fails and every step after it (alerts, publish, docs) is
        skipped anyway (tests/test_dbt_models.py proves it). Blocking, each test of a
        model a planned build leaves out (it does not run) made Dagster log a warning for
        every downstream step: some 300 lines of noise on a rerun with nothing new."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        return None if spec is None else spec._replace(blocking=False)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props.get("resource_type")
        if resource_type == "seed":
            return "reference"
        if resource_type == "source":
            return None
        fqn = dbt_resource_props.get("fqn") or []
        for layer in _LAYERS:
            if layer in fqn[1:-1]:
                return layer
        return "warehouse"


def build_target_path(settings: Settings, project: DbtProject = DBT_PROJECT) -> Path:
    """Where the asset's ``dbt build`` (and ``dbt docs``) of the data directory
    ``settings.data_dir`` writes its artifacts (manifest, run_results, compiled SQL).

    One fixed directory per data directory rather than dagster-dbt's one per run: a
    data directory's builds never overlap (the pipeline lock), dbt's partial parsing
    carries over from one build to the next, and ``target/`` does not grow a directory
    per run. Per data directory, because several data directories (the districts of a
    city on one host, test runs side by side) build from one checkout at once."""
    key = hashlib.sha256(str(Path(settings.data_dir).resolve()).encode()).hexdigest()[:12]
    return project.project_dir / project.target_path / f"{BUILD_TARGET}-{key}"


def _unchecked_submissions(settings: Settings) -> int:
    entries = read_ledger(settings.ledger_path)
    return len(unchecked(settings, [e for e in entries if e.status == Status.LOADED]))


def _selects_every_node(context: dg.AssetExecutionContext) -> bool:
    """Whether this run materialises every dbt asset and runs every dbt test (the jobs do;
    a hand-picked subset in the UI does not)."""
    assets_def = context.assets_def
    return set(context.selected_asset_keys) == set(assets_def.keys) and set(
        context.selected_asset_check_keys) == set(assets_def.check_keys)


class UnchangedOutputs:
    """Reports the selected dbt assets a planned build leaves out, in dependency order.

    Their tables are current (none of their inputs changed since the last complete
    build), but a selected asset that yields no output makes Dagster skip every step
    downstream of it (alerts, publish, docs). So each is reported as an output marked
    ``rebuilt: False``: the UI shows when it was last confirmed current and why it was not
    rerun. A multi-asset must yield its assets parents first, so one is reported as soon
    as every selected parent has been, and :meth:`before` is called ahead of each asset
    dbt reports."""

    WHY = "inputs unchanged since the last complete build (pipelines/warehouse/build_plan.py)"

    def __init__(self, assets_def: dg.AssetsDefinition, selected: set[dg.AssetKey],
                 unchanged: set[dg.AssetKey]) -> None:
        self._assets_def = assets_def
        self._selected = selected
        self._pending = set(unchanged) & selected
        self._reported: set[dg.AssetKey] = set()

    def _ready(self, key: dg.AssetKey) -> bool:
        parents = self._assets_def.asset_deps.get(key, set()) & self._selected
        return all(p in self._reported for p in parents)

    def _flush(self) -> Iterator[dg.Output]:
        progress = True
        while progress:
            progress = False
            for key in sorted(self._pending, key=lambda k: k.to_user_string()):
                if self._ready(key):
                    self._pending.discard(key)
                    self._reported.add(key)
                    progress = True
                    yield dg.Output(None, output_name=self._assets_def.get_output_name_for_asset_key(key),
                                    metadata={"rebuilt": False, "why": self.WHY})

    def before(self, event: object) -> Iterator[dg.Output]:
        """The unchanged assets that can be reported ahead of ``event`` (dbt's next event)."""
        if isinstance(event, dg.Output):
            yield from self._flush()
            key = self._assets_def.keys_by_output_name.get(event.output_name)
            if key is not None:
                self._reported.add(key)

    def rest(self) -> Iterator[dg.Output]:
        """The remaining ones, once dbt has finished."""
        yield from self._flush()


def unchanged_asset_keys(assets_def: dg.AssetsDefinition, ran: frozenset[str]) -> set[dg.AssetKey]:
    """The dbt assets (models and seeds) whose unique ids are not in ``ran``, read from
    the asset specs dagster-dbt built, so they are keyed as the translator keyed them."""
    return {key for key, spec in assets_def.specs_by_key.items()
            if spec.metadata.get(DAGSTER_DBT_UNIQUE_ID_METADATA_KEY) not in ran}


DESCRIBED = "DESCRIBED_RELATIONS "  # the line the describe_relations macro logs


def spark_describe(dbt: DbtCliResource, settings: Settings, target: Path,
                   relations: Sequence[Relation], log: IO[str] | None = None) -> dict[str, list[list[str]]]:
    """Spark's columns of ``relations`` (``{schema.table: [[column, type], ...]}``), from
    the project's ``describe_relations`` macro (``dbt run-operation``, one more JVM
    start). The mirror needs them for the tables Spark wrote no Parquet file for. dbt's
    lines go to ``log`` when given (the run's dbt log), else to stdout."""
    args = json.dumps({"relations": sorted(r.qualified for r in relations)})
    described: dict[str, list[list[str]]] | None = None
    with dbt_environment(settings):
        # a target of its own: the build's run_results.json stays the build's
        invocation = dbt.cli(["run-operation", "describe_relations", "--args", args],
                             target_path=target.with_name(f"{target.name}-describe"), raise_on_error=True)
        events = invocation.stream_raw_events()
        for event in quietly(events, log) if log is not None else events:  # to the end: dbt's exit is checked there
            message = str((event.raw_event.get("info") or {}).get("msg") or "")
            if message.startswith(DESCRIBED):
                described = json.loads(message[len(DESCRIBED):])
    if described is None:
        raise RuntimeError("dbt run-operation describe_relations logged no description")
    return described


class WarehouseBuildConfig(dg.Config):
    """``full_refresh``: rebuild every model from scratch, the incremental member
    snapshots included (the nightly rebuild); otherwise incremental models only add
    what is new."""

    full_refresh: bool = False


def build_vars(as_of: date) -> dict[str, Any]:
    """The dbt vars of a build (and of the docs): the as-of date, and the warning rules'
    parameters from the rule file in use (read now: edits count from the next build)."""
    return {"as_of_date": as_of.isoformat(), "warning_parameters": load_rules().parameter_rows()}


def build_dbt_assets(project: DbtProject = DBT_PROJECT) -> dg.AssetsDefinition:
    """The dbt project as one multi-asset (``warehouse_models``), running ``dbt build``,
    from the prepared manifest (:func:`prepared_manifest`)."""
    manifest = prepared_manifest(project)

    @dbt_assets(
        manifest=manifest,
        project=project,
        name=ASSETS_NAME,
        dagster_dbt_translator=UnionDbtTranslator(),
        pool=WAREHOUSE_POOL,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def warehouse_models(
        context: dg.AssetExecutionContext,
        config: WarehouseBuildConfig,
        dbt: DbtCliResource,
        paths: UnionPaths,
        as_of: AsOf,
    ):
        settings = paths.settings()
        ensure_dbt_inputs(settings)
        waiting = _unchecked_submissions(settings)
        if waiting:
            context.log.warning(
                f"{waiting} loaded submission(s) have no quality verdict yet: the warehouse "
                "leaves them out until the quality suites have run"
            )
        variables = build_vars(as_of.date())
        dbt_vars = json.dumps(variables, ensure_ascii=False)
        whole = _selects_every_node(context)
        engine = warehouse_engine()
        inputs = build_state.current_inputs(settings, variables, project.project_dir, _PROJECT_INPUTS, engine)
        exclude: list[str] = []
        full_refresh = config.full_refresh
        unchanged: set[dg.AssetKey] = set()
        if whole:
            graph = DbtGraph.from_manifest(json.loads(Path(manifest).read_text(encoding="utf-8")))
            plan = plan_build(graph, build_state.read_recorded(settings.warehouse_path), inputs,
                              full_refresh=config.full_refresh)
            context.log.info(plan.summary())
            full_refresh = full_refresh or plan.full_refresh
            if not plan.full and plan.excluded:
                exclude = ["--exclude", " ".join(plan.excluded)]
                unchanged = unchanged_asset_keys(context.assets_def, plan.run)
            if not plan.full and not plan.run:
                # nothing changed: not even dbt's start-up (seconds) is spent; each model
                # is reported current, so the steps downstream run as they would
                yield from UnchangedOutputs(context.assets_def, set(context.selected_asset_keys),
                                            unchanged).rest()
                return
        else:
            context.log.info("a subset of the dbt assets was selected: building exactly that")
        # a build that stops half-way must not look complete: the next one is then a full one
        build_state.forget(settings.warehouse_path)
        target = build_target_path(settings, project)
        log_path = dbt_log_path(settings.data_dir, context.run.run_id)
        with dbt_environment(settings), dbt_log(log_path, echo=dbt_echo(context)) as log:
            args = ["build", "--vars", dbt_vars, *(["--full-refresh"] if full_refresh else []), *exclude]
            (target / "run_results.json").unlink(missing_ok=True)  # one there now is this build's
            invocation = dbt.cli(args, context=context, target_path=target)
            left_out = UnchangedOutputs(context.assets_def, set(context.selected_asset_keys), unchanged)
            try:
                for event in quietly(invocation.stream(), log):
                    yield from left_out.before(event)
                    yield event
                    if isinstance(event, dg.Output | dg.AssetMaterialization):
                        fault_point("dbt.materialized")  # crash-safety tests: kill mid-build
            finally:  # a failed build too: which tests failed is what the operator needs
                log_summary(context, DbtSummary.read(target / "run_results.json", log_path), log_path)
            if invocation.is_successful() and engine == SPARK:
                # the later steps read the working DuckDB file: it gets the tables Spark built
                # (one transaction); if that fails the step fails and no build is recorded
                mirrored = mirror_spark_build(
                    settings.data_dir, settings.warehouse_path, target,
                    lambda relations: spark_describe(dbt, settings, target, relations, log))
                context.log.info(
                    f"mirrored {mirrored.tables} Spark tables ({mirrored.rows} rows; "
                    f"{mirrored.empty_described} empty, typed from Spark's describe) into the working "
                    f"DuckDB file in {mirrored.seconds} s")
        if invocation.is_successful():
            yield from left_out.rest()
        if whole and invocation.is_successful():
            build_state.record(settings.warehouse_path, inputs)

    return warehouse_models


def dbt_echo(context: dg.AssetExecutionContext) -> IO[str] | None:
    """Where dbt's lines also go besides the run's dbt log: nowhere for ``union-warehouse
    run`` (its console shows the summary); the step's stdout for a run launched from
    Dagster, whose compute logs have always shown them."""
    return None if context.run.tags.get(CLI_TRIGGER_TAG) == "cli" else sys.stdout


def log_summary(context: dg.AssetExecutionContext, summary: DbtSummary | None, log_path: Path) -> None:
    """The dbt invocation's outcome in the run's log: one line, then the tests that warned
    or failed, named. At INFO (a failed build fails the step, which Dagster logs as an
    error); the record carries the summary for the CLI's progress lines (:mod:`.progress`)."""
    if summary is None:
        context.log.warning(f"dbt wrote no run_results.json: it stopped before finishing; see {log_path}")
        return
    context.log.info("\n".join([summary.line(), *summary.detail_lines()]), extra={SUMMARY_ATTR: summary})
