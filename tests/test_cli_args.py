"""``union-warehouse`` arguments and its ingestion summary, without running the pipeline.

A bad ``--as-of`` is a usage error (exit 2, one line saying what is wrong), never a
traceback; the summary says what *this* run ingested, with the ledger's totals on a line
of their own, and names files by their reference, never by the name a street gave them.
"""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import cli
from pipelines.config import Settings
from pipelines.ingest.dropzone import log_ref
from pipelines.ingest.ledger import read_ledger
from pipelines.ingest.process import ingest_pending

from .conftest import drop
from .helpers import hold_back
from .test_dagster_pipeline import members_csv

A = "110101001"
PERSON = "张伟"
ID_NUMBER = "110101199003071234"


@pytest.mark.parametrize("bad", ["2015-13-45", "2015-02-30", "yesterday", "31/12/2015", "20151231", ""])
def test_a_bad_as_of_is_a_usage_error_with_one_clear_line(bad: str, capsys, monkeypatch) -> None:
    def must_not_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the pipeline must not start on a bad argument")

    monkeypatch.setattr(cli, "run_pipeline", must_not_run)
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--as-of", bad])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == [f"union-warehouse run: error: argument --as-of: {bad!r} is not a date: "
                      "expected YYYY-MM-DD, a real calendar date (e.g. 2015-12-31)"]


def test_a_good_as_of_reaches_the_run_as_a_date(monkeypatch) -> None:
    seen: list[object] = []
    monkeypatch.setattr(cli, "run_pipeline", lambda settings, as_of: seen.append(as_of) or "result")
    monkeypatch.setattr(cli, "report_run", lambda result, settings, as_of: 0)
    assert cli.main(["run", "--as-of", "2016-02-29"]) == 0
    assert seen == [date(2016, 2, 29)]


def test_every_date_option_of_every_subcommand_is_a_typed_date() -> None:
    import argparse

    parser = cli.build_parser()
    [subcommands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    dated = [(name, a.dest, a.type) for name, sub in subcommands.choices.items() for a in sub._actions
             if "as_of" in a.dest or "date" in a.dest]
    assert ("run", "as_of", cli.iso_date) in dated
    assert all(kind is cli.iso_date for _, _, kind in dated), dated


def test_the_summary_reports_this_run_and_names_no_file(settings: Settings, capsys) -> None:
    named = f"{PERSON}_{ID_NUMBER}.csv"
    drop(settings, A, "members", named, members_csv(4, "2024-06-30", A))
    ingest_pending(settings, run_id="run-1")
    drop(settings, A, "members", f"{PERSON}的名单.csv", "会员编号\nM1\n")  # rejected: columns missing
    drop(settings, A, "members", f"{PERSON}_copy.csv", members_csv(4, "2024-06-30", A))  # same bytes: duplicate
    ingest_pending(settings, run_id="run-2")
    entries = read_ledger(settings.ledger_path)
    held = next(e for e in entries if e.path.endswith(named))
    # a quality verdict holding the first file back, as the GX gate writes it
    hold_back(settings, held)

    cli.print_summary(settings, "run-2")
    second = capsys.readouterr().out
    assert "  files: 2 (loaded 0, rejected 1, duplicate 1)" in second
    assert "  rows:  read 0, loaded 0, quarantined 0" in second
    assert "  ledger, all runs so far: files 3 (loaded 1, rejected 1, duplicate 1); rows read 4, loaded 4, " \
           "quarantined 0; reconciliation OK" in second
    rejected = next(e for e in entries if e.status == "rejected")
    assert f"    {log_ref(rejected.path)}: file.missing_column" in second
    assert "Quality gate: 0 submission(s) of this run held back from the warehouse (1 held back in all)" in second

    cli.print_summary(settings, "run-1")
    first = capsys.readouterr().out
    assert "  files: 1 (loaded 1, rejected 0, duplicate 0)" in first
    assert "  rows:  read 4, loaded 4, quarantined 0" in first
    assert "Quality gate: 1 submission(s) of this run held back from the warehouse (1 held back in all)" in first
    assert f"    {log_ref(held.path)}: suite expectations/members.json failed expect_table_row_count_to_be_between" \
        in first

    for text in (first, second):
        assert PERSON not in text and ID_NUMBER not in text and ".csv" in text


def test_reconciliation_failures_name_the_file_by_its_reference(settings: Settings, capsys) -> None:
    named = f"{PERSON}_{ID_NUMBER}.csv"
    drop(settings, A, "members", named, members_csv(3, "2024-06-30", A))
    ingest_pending(settings, run_id="run-1")
    entry = read_ledger(settings.ledger_path)[0]
    (settings.data_dir / entry.landing_path).unlink()  # the landing file lost behind the ledger's back
    cli.print_summary(settings, "run-1")
    out = capsys.readouterr().out
    assert "reconciliation FAILED" in out
    assert f"    {log_ref(entry.path)}: missing " in out
    assert PERSON not in out and ID_NUMBER not in out


def test_the_demo_key_warning_is_for_the_commands_that_hash(tmp_path) -> None:
    """Without UNION_PII_KEY a command that lands rows warns that it hashes ID numbers with
    the demo key; a command that hashes nothing (status here) says nothing about it."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "UNION_PII_KEY"}
    env.update(UNION_RAW_DIR=str(tmp_path / "raw"), UNION_DATA_DIR=str(tmp_path / "data"), UNION_LOG_LEVEL="WARNING")
    status = subprocess.run([sys.executable, "-m", "pipelines.cli", "status"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    assert "UNION_PII_KEY" not in status.stderr + status.stdout
    landing = subprocess.run(
        [sys.executable, "-c", "import logging; logging.basicConfig(); from pipelines import cli; "
         "cli.Settings.from_env(warn_demo_key='run' in cli.HASHING_COMMANDS)"],
        env=env, capture_output=True, text=True, timeout=120)
    assert "UNION_PII_KEY is not set" in landing.stderr, landing.stderr
