"""``union-warehouse``: the project's command line (the README says how to run and operate it)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

import pipelines  # noqa: F401  (telemetry off first)
from pipelines.config import Settings
from pipelines.files import exclusive

PROJECT_ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("union_warehouse")


def _prepare_dagster_home(settings: Settings) -> Path:
    """Point Dagster at a persistent instance under the data dir, configured by the
    repository's ``dagster.yaml`` (its storage on PostgreSQL when
    ``UNION_DAGSTER_POSTGRES_URL`` is set), unless the operator chose a DAGSTER_HOME."""
    from pipelines.orchestration.instance_config import (
        POSTGRES_URL_ENV,
        storage_kind,
        wants_postgres,
        write_instance_yaml,
    )

    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"])
        if wants_postgres() and storage_kind(home) != "postgres":
            log.warning("%s is set but DAGSTER_HOME=%s is the operator's own instance, whose "
                        "dagster.yaml does not store on PostgreSQL: the variable is not used",
                        POSTGRES_URL_ENV, home)
        return home
    home = settings.data_dir / "dagster"
    src = PROJECT_ROOT / "dagster.yaml"
    if src.exists():
        write_instance_yaml(home, src)
    else:
        home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.generate import generate_district

    manifest = generate_district(
        settings.raw_dir, scale=args.scale, seed=args.seed, defects=args.defects
    )
    print(f"wrote {len(manifest.files)} submission files under {settings.inbox}")
    return 0


def not_startable(exc: Exception) -> int:
    """A rule file or a manifest the operator must fix: its message, no traceback, status 1."""
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


def prepare(force: bool = False):  # type: ignore[no-untyped-def]
    """What loading the Dagster definitions reads, made ready: the warning rule file checked
    (a bad one raises RuleFileError before anything runs) and the dbt manifest written
    when missing or stale (``dbt parse``). Returns the rule set and the manifest path."""
    from pipelines.alerts import load_rules
    from pipelines.orchestration.dbt import prepare_manifest

    rules = load_rules()
    return rules, prepare_manifest(force=force)


def cmd_prepare(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.alerts import RuleFileError

    try:
        rules, manifest = prepare(force=args.force)
    except RuleFileError as exc:
        return not_startable(exc)
    print(f"warning rules: {rules.path} ({len(rules.enabled())} of {len(rules.rules)} rules on)")
    print(f"dbt manifest: {manifest}")
    return 0


def run_pipeline(settings: Settings, as_of: date | None = None):  # type: ignore[no-untyped-def]
    """Run the whole pipeline job once, in this process, on the persistent instance,
    prepared first (the definitions only read the manifest), printing a line on stdout
    as each step starts and ends (:mod:`pipelines.orchestration.progress`); dbt's own
    lines go to the run's dbt log (:mod:`pipelines.orchestration.dbt_log`)."""

    prepare()  # before importing the definitions, which load what it prepares
    from pipelines.definitions import PIPELINE_JOB, build_definitions
    from pipelines.orchestration.dbt import CLI_TRIGGER_TAG
    from pipelines.orchestration.instance_config import open_instance
    from pipelines.orchestration.instance_heal import heal_instance
    from pipelines.orchestration.progress import progress_logger
    from pipelines.orchestration.run_recovery import PID_TAG, owner_tags, reclaim_dead_runs

    defs = build_definitions(settings)
    job = defs.resolve_job_def(PIPELINE_JOB)
    # the progress lines (a step's start and end, with counts) beside the console logger
    job = job.with_logger_defs({**job.loggers, "progress": progress_logger(sys.stdout)})
    # Two runs started together on a fresh DAGSTER_HOME would both create the instance's
    # SQLite schemas and leave two alembic heads behind (an instance no process can open
    # again): the home is prepared and the instance opened one process at a time.
    with exclusive(settings.data_dir / "locks" / "dagster_instance.lock"):
        home = _prepare_dagster_home(settings)
        managed = home == settings.data_dir / "dagster"  # the CLI's own, not the operator's
        healed = heal_instance(home, managed=managed)  # raises DamagedInstance if not ours
        if healed:
            print(healed, flush=True)
        instance_cm = open_instance(home)  # on PostgreSQL: InstanceUnavailable if unreachable
    with instance_cm as instance:
        # a killed earlier run would otherwise hold the warehouse_writer slot forever
        for run_id in reclaim_dead_runs(instance):
            print(f"an earlier run ({run_id}) was killed: marked failed, its warehouse slot freed", flush=True)
        run_config = {
            "resources": {"as_of": {"config": {"as_of": as_of.isoformat() if as_of else ""}}},
            # the run's full event log is in the instance (dagster dev); the terminal gets a
            # line as each step starts and ends, and warnings
            "loggers": {"console": {"config": {"log_level": log_level()}}, "progress": {}},
        }
        return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                      tags={CLI_TRIGGER_TAG: "cli", PID_TAG: str(os.getpid()), **owner_tags()})


def dev_command(settings: Settings, extra: list[str]) -> tuple[list[str], dict[str, str], Path]:
    """``dagster dev`` as ``union-warehouse dev`` starts it: the command, its environment
    (the instance the CLI's runs use, the drop zone and data directory as absolute paths)
    and the directory it runs in (the instance's home: its ``dagster.yaml`` is the one
    Dagster finds there, so it warns of no other)."""
    home = _prepare_dagster_home(settings)
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [str(dagster) if dagster.exists() else "dagster", "dev", "-m", "pipelines.definitions", *extra]
    env = {**os.environ, "DAGSTER_HOME": str(home.resolve()),
           "UNION_RAW_DIR": str(Path(settings.raw_dir).resolve()),
           "UNION_DATA_DIR": str(Path(settings.data_dir).resolve())}
    return cmd, env, home


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    """Prepare (rule file, dbt manifest), make the instance's home with the project's
    ``dagster.yaml``, then become ``dagster dev`` on it."""
    from pipelines.alerts import RuleFileError

    try:
        prepare()
    except RuleFileError as exc:
        return not_startable(exc)
    with exclusive(settings.data_dir / "locks" / "dagster_instance.lock"):
        cmd, env, home = dev_command(settings, args.dagster_args)
    print(f"dagster dev on the instance in {home} (the runs of `union-warehouse run` show there too)", flush=True)
    os.chdir(home)
    if os.path.isabs(cmd[0]):
        os.execve(cmd[0], cmd, env)
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached: the process is dagster dev now


def step_timings(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds per step of a finished in-process run, in the order the steps ended."""
    out: dict[str, float] = {}
    for ev in result.all_events:
        if ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and ev.step_key:
            data = ev.event_specific_data
            ms = getattr(data, "duration_ms", None)
            if ms is not None:
                out[ev.step_key] = round(ms / 1000, 2)
    return out


def print_timings(result) -> None:  # type: ignore[no-untyped-def]
    timings = step_timings(result)
    print()
    print("Step timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def publish_outcome(result) -> tuple[bool, list[str]]:  # type: ignore[no-untyped-def]
    """Whether the run published the warehouse, and if not, why (failed blocking checks
    and failed steps, by name)."""
    from pipelines.orchestration.publish import PUBLISHED_KEY

    published = False
    reasons: list[str] = []
    for ev in result.all_events:
        kind = ev.event_type_value
        if kind == "ASSET_MATERIALIZATION" and ev.asset_key == PUBLISHED_KEY:
            published = True
        elif kind == "ASSET_CHECK_EVALUATION":
            data = ev.event_specific_data
            if not data.passed and str(getattr(data.severity, "value", data.severity)) == "ERROR":
                summary = data.metadata.get("summary")
                text = getattr(summary, "value", summary) or data.description or ""
                reasons.append(f"check {data.asset_key.to_user_string()}:{data.check_name} failed: {text}")
        elif kind == "STEP_FAILURE" and ev.step_key:
            error = getattr(ev.event_specific_data, "error", None)
            message = getattr(error, "message", "") if error else ""
            reasons.append(f"step {ev.step_key} failed: {message.strip().splitlines()[0] if message else ''}")
    return published, reasons


def report_run(result, settings: Settings, as_of: date | None = None) -> int:  # type: ignore[no-untyped-def]
    """Print what a run did; 0 when it published, 1 (with the reasons) when it did not.
    A failed run is also raised as an operator alert (the run-failure sensor only sees
    runs launched by the Dagster daemon, not this in-process one)."""
    from pipelines.alerts import open_alert_lines, record_run_failure, sinks_from_env
    from pipelines.alerts.report import evaluation_line
    from pipelines.definitions import PIPELINE_JOB
    from pipelines.disk import NEARLY_FULL_BYTES, disk_full_line, free_bytes, is_disk_full
    from pipelines.publish.console import print_indicators

    print_summary(settings, result.run_id)
    print_timings(result)
    published, reasons = publish_outcome(result)
    if not published and (any(is_disk_full(r, settings.data_dir) for r in reasons)
                          or free_bytes(settings.data_dir) < NEARLY_FULL_BYTES):
        reasons.insert(0, disk_full_line(settings.data_dir))
    if not result.success:
        failed = [ev.step_key for ev in result.all_events if ev.event_type_value == "STEP_FAILURE" and ev.step_key]
        record_run_failure(settings, job_name=PIPELINE_JOB, run_id=result.run_id, failed_steps=failed,
                           error="; ".join(reasons)[:500], as_of=as_of or date.today(),
                           sinks=sinks_from_env(settings.outbox_path))
    if published:
        print_indicators(settings)
    print()
    evaluated = evaluation_line(settings, result.run_id)
    if evaluated:
        print(evaluated)
    for line in open_alert_lines(settings):
        print(line)
    if published:
        print()
        print(f"Published: {settings.published_path}")
        return 0
    print()
    return not_published(reasons or ["the run did not reach the publish step (see the Dagster run log)"])


def not_published(reasons: list[str]) -> int:
    """Say on stderr that nothing was published, and why (a line each); exit status 1."""
    print("NOT PUBLISHED: the published warehouse keeps its previous version.", file=sys.stderr)
    for reason in reasons:
        print(f"  {reason}", file=sys.stderr)
    return 1


def iso_date(text: str) -> date:
    """``argparse`` type of a date argument: YYYY-MM-DD, a real calendar date. Anything
    else is a usage error (exit 2) with one line saying so, not a traceback."""
    try:
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: expected YYYY-MM-DD, a real calendar date (e.g. 2015-12-31)"
        ) from None


def run_and_report(settings: Settings, as_of: date) -> int:
    """Run the pipeline once and report it. A full disk, wherever it stops the run (the
    Dagster instance's SQLite, DuckDB, a Parquet file), ends in one line saying which
    disk and what to do, and the operators' alert (recorded in the room the space
    reserve kept for it: :mod:`pipelines.disk`), not in a traceback."""
    from pipelines.alerts import RuleFileError
    from pipelines.disk import ensure_reserve, is_disk_full
    from pipelines.orchestration.dbt import ManifestNotPrepared
    from pipelines.orchestration.instance_config import InstanceUnavailable
    from pipelines.orchestration.instance_heal import DamagedInstance

    ensure_reserve(settings.data_dir)
    try:
        return report_run(run_pipeline(settings, as_of), settings, as_of)
    except (RuleFileError, ManifestNotPrepared) as exc:
        return not_startable(exc)
    except (DamagedInstance, InstanceUnavailable) as exc:
        print(file=sys.stderr)
        return not_published([str(exc)])
    except Exception as exc:
        if not is_disk_full(exc, settings.data_dir):
            raise
        return report_disk_full(settings, as_of, exc)


def report_disk_full(settings: Settings, as_of: date, exc: BaseException) -> int:
    from pipelines.alerts import record_run_failure, sinks_from_env
    from pipelines.definitions import PIPELINE_JOB
    from pipelines.disk import disk_full_line

    line = disk_full_line(settings.data_dir)
    print(file=sys.stderr)
    not_published([line])
    try:
        record_run_failure(settings, job_name=PIPELINE_JOB, run_id=f"cli-{os.getpid()}",
                           failed_steps=[], error=f"disk full: {line}", as_of=as_of,
                           sinks=sinks_from_env(settings.outbox_path))
        print("  the operators' alert (OPS_RUN_FAILED) is recorded and sent", file=sys.stderr)
    except Exception as alert_exc:  # said, not raised: the line above is what matters
        print(f"  the operators' alert could not be recorded either: {type(alert_exc).__name__}",
              file=sys.stderr)
    return 1


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    return run_and_report(settings, args.as_of or date.today())


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.generate import generate_district

    generate_district(settings.raw_dir, scale=args.scale, seed=args.seed, defects=True)
    print(f"generated a district with defects under {settings.inbox}")
    return run_and_report(settings, date(2015, 12, 31))


def _files_line(entries) -> str:  # type: ignore[no-untyped-def]
    from pipelines.ingest.ledger import Status

    n = {s: sum(e.status == s for e in entries) for s in (Status.LOADED, Status.REJECTED, Status.DUPLICATE)}
    return f"{len(entries)} (loaded {n['loaded']}, rejected {n['rejected']}, duplicate {n['duplicate']})"


def print_summary(settings: Settings, run_id: str) -> None:
    """What the run ``run_id`` ingested (its own ledger entries: a run that waited for
    another may find nothing left to do), then the whole ledger's totals on a line of
    their own. Files are named by their reference (``log_ref``), never by the name the
    street gave them, which may carry a person's name or ID number."""
    from pipelines.ingest.dropzone import log_ref
    from pipelines.ingest.ledger import Status, read_ledger
    from pipelines.ingest.reconcile import reconcile
    from pipelines.quality.verdicts import blocked_submissions

    entries = read_ledger(settings.ledger_path)
    mine = [e for e in entries if e.run_id == run_id]
    rec = reconcile(settings, entries)
    print()
    print("Ingestion, this run")
    print(f"  files: {_files_line(mine)}")
    print(f"  rows:  read {sum(e.rows_read for e in mine)}, loaded {sum(e.rows_loaded for e in mine)}, "
          f"quarantined {sum(e.rows_quarantined for e in mine)}")
    print(f"  ledger, all runs so far: files {_files_line(entries)}; rows read {rec.rows_read}, "
          f"loaded {rec.rows_loaded}, quarantined {rec.rows_quarantined}; "
          f"reconciliation {'OK' if rec.ok else 'FAILED'}")
    # "<file>: what is wrong", the file by its path or already by its reference
    refs = {name: log_ref(e.path) for e in entries for name in (e.path, log_ref(e.path))}
    for failure in rec.failures[:20]:
        file, _, what = failure.partition(": ")
        print(f"    {refs.get(file, '(a file)')}: {what}")
    rejected = [e for e in mine if e.status == Status.REJECTED]
    if rejected:
        print("  rejected files:")
        for e in rejected:
            print(f"    {log_ref(e.path)}: {e.error_code}{' (' + e.error_column + ')' if e.error_column else ''}")
    held = blocked_submissions(settings)
    held_here = sorted((log_ref(e.path), e.dataset, held[e.sha256]) for e in mine
                       if e.status == Status.LOADED and e.sha256 in held)
    print()
    print(f"Quality gate: {len(held_here)} submission(s) of this run held back from the warehouse "
          f"({len(held)} held back in all)")
    for ref, dataset, failed in held_here:
        print(f"    {ref}: suite expectations/{dataset}.json failed {', '.join(failed)}")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.export.run import export_indicators

    try:
        done = export_indicators(settings)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"indicators as of {done.as_of} ({done.rows} rows):")
    print(f"  spreadsheet: {done.workbook}")
    print(f"  report:      {done.report}")
    return 0


def cmd_contract_sync(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.sync import sync

    stale = sync(PROJECT_ROOT, check=args.check)
    for rel in stale:
        print(("stale: " if args.check else "wrote: ") + rel)
    return 1 if (args.check and stale) else 0


# --- status, validate, --version: for the operators, read-only ------------------------------


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from pipelines.status import collect_status, status_lines

    status = collect_status(settings)
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2, default=str))
    else:
        for line in status_lines(status):
            print(line)
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """The receipt ``FILE`` would get; no value of the file is printed (receipt path only)."""
    from pipelines.feedback.preview import preview_receipt
    from pipelines.feedback.receipts import PROBLEMS_SHEET

    file: Path = args.file
    if not file.is_file():
        print(f"not a file: {file}", file=sys.stderr)
        return 2
    preview = preview_receipt(settings, file, args.street, args.dataset, args.out)
    head = preview.receipt
    rows = head["rows"]
    print(f"回执预览 Receipt preview (nothing loaded): {head['street']} {head['dataset_zh'] or ''}"
          f"（{head['dataset']}）")
    print(f"  处理结果 outcome: {head['status_zh']} ({head['status']})")
    if head["reason"]:
        print(f"  原因 reason: {head['reason']['code']}: {head['reason']['message_zh']}")
    if head["duplicate_of"]:
        print("  重复 duplicate: the same bytes were loaded before (file.duplicate)")
    print(f"  行数 rows: read {rows['read']}, loaded {rows['loaded']}, quarantined {rows['quarantined']}, "
          f"warned {rows['warned']}")
    for p in head["problem_counts"]:
        print(f"  {p['code']} {p['header'] or ''} ×{p['count']} ({p['severity']}): {p['message_zh']}")
    problems = [p for p in head["problems"] if p["line"] is not None]
    if problems:
        print(f"  {PROBLEMS_SHEET} (first {min(len(problems), 20)} of {len(problems)}):")
    for p in problems[:20]:  # line, column, rule: never the row's values
        print(f"    第 {p['line']} 行 {p['header'] or '（整行）'} {p['code']} ({p['severity']}): {p['message_zh']}")
    print("  数据质量检查 quality gate: not run by validate (it runs on loaded submissions)")
    for path in preview.written:
        print(f"  wrote {path}")
    return 0 if preview.would_load_clean else 1


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("union-warehouse")
    except PackageNotFoundError:  # a bare checkout
        return "0"


class _VersionAction(argparse.Action):
    """``--version``: the package version and the code version a publish stamps (computed
    only when asked: it hashes the code)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,  # type: ignore[no-untyped-def]
                 help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        from pipelines.publish.code_version import code_version

        print(f"union-warehouse {package_version()} (code version {code_version()})")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="union-warehouse", description=__doc__)
    parser.add_argument("--version", action=_VersionAction,
                        help="print the package version and the code version a publish stamps")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write synthetic submissions for every street and dataset")
    g.add_argument("--scale", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=2015)
    g.add_argument("--defects", action="store_true", help="inject the defects streets really send")
    g.set_defaults(func=cmd_generate)

    p = sub.add_parser("prepare", help="check the warning rule file and write the dbt manifest the "
                       "Dagster definitions read (dbt parse, when missing or stale); run it after "
                       "changing dbt_project/ and before starting a code location or a run worker")
    p.add_argument("--force", action="store_true", help="parse even when the manifest looks current")
    p.set_defaults(func=cmd_prepare)

    r = sub.add_parser("run", help="process every pending submission once")
    r.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD",
                   help="evaluate indicators and warnings as of this date (default: today)")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="generate a district with defects, run everything, print the results")
    d.add_argument("--scale", type=float, default=1.0)
    d.add_argument("--seed", type=int, default=2015)
    d.set_defaults(func=cmd_demo)

    what = ("start Dagster's UI and daemon (`dagster dev`) on the instance `run` and `demo` use "
            "(data/dagster, made with the project's dagster.yaml if missing), the dbt manifest prepared first; "
            "arguments after the command go to dagster dev (e.g. -p 3001)")
    x = sub.add_parser("dev", help=what, description=what)
    x.set_defaults(func=cmd_dev, dagster_args=[])

    from pipelines.feedback.cli import register as register_template

    register_template(sub)

    e = sub.add_parser("export", help="write the indicator spreadsheet and the HTML report of the published warehouse")
    e.set_defaults(func=cmd_export)

    c = sub.add_parser("contract-sync", help="regenerate the files derived from the contract (docs, suites, dbt sources)")
    c.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    c.set_defaults(func=cmd_contract_sync)

    what = ("read-only overview: files waiting in the inbox, submissions held back, the last publish, "
            "open alerts by level, streets late for a dataset; takes no lock and writes nothing (safe "
            "while a run is going)")
    s = sub.add_parser("status", help=what, description=what)
    s.add_argument("--json", action="store_true", help="print the same as JSON")
    s.set_defaults(func=cmd_status)

    what = ("the receipt a file would get, without loading it: read and validated exactly as ingestion "
            "would, nothing written to the ledger, landing, warehouse or data dir (the quality gate is "
            "not run). Exit status 0: it would load whole (warnings allowed); 1: it would be rejected, "
            "be a duplicate, or have rows quarantined; 2: a usage error")
    v = sub.add_parser("validate", help=what, description=what)
    v.add_argument("file", type=Path, metavar="FILE")
    v.add_argument("--street", required=True, help="the street code whose folder it would be dropped in")
    v.add_argument("--dataset", required=True, help="the dataset folder it would be dropped in")
    v.add_argument("--out", type=Path, metavar="DIR", help="also write the receipt (.xlsx and .json) here")
    v.set_defaults(func=cmd_validate)

    return parser


HASHING_COMMANDS = frozenset({"run", "demo", "dev"})  # they land rows: ID numbers hashed with UNION_PII_KEY


def log_level() -> str:
    """The console's log level: ``UNION_LOG_LEVEL``, by default WARNING."""
    return os.environ.get("UNION_LOG_LEVEL", "WARNING")


def setup_logging() -> None:
    """Log records at the chosen level and above to stderr, uncoloured. The level is the
    handler's too: libraries that set their own loggers' levels (Dagster's, dagster-dbt's
    ``Running dbt command: ...`` at INFO, Great Expectations') do not get past it."""
    handler = logging.StreamHandler()
    handler.setLevel(log_level())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=log_level(), handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)  # a bad argument: usage error, exit 2
    if extra and args.command != "dev":  # only dev passes what it does not know on (to dagster dev)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.dagster_args = extra
    # only what lands rows hashes ID numbers: the demo key's warning is for those commands
    settings = Settings.from_env(warn_demo_key=args.command in HASHING_COMMANDS)
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
