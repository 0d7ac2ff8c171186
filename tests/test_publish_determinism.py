"""A held-back file must not freeze publishing (the ``deterministic`` gate).

The gate compares a build with earlier publishes of the same inputs. The inputs were
named by the included submissions only, while the values also count the held-back
ones (``input_submissions_left_out``, ``input_quality``): a street's 3-row member list,
rightly held back by the quality gate (under half its previous snapshot), made the
next build look like "same inputs, other values", and every run after it failed the
same way. Now ``manifest_id`` covers every loaded submission with its verdict.

Three real runs of ``union-warehouse run`` (``pipelines.cli.main``) on one data
directory: both streets' lists; then only B's 3-row list (held back, nothing new
accepted); then nothing new.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.publish import checks
from pipelines.publish.code_version import code_version
from pipelines.publish.history import HistoryStore, values_fingerprint
from pipelines.publish.warehouse import read_indicator_values

from .conftest import drop
from .helpers import instance_home
from .test_dagster_pipeline import members_csv

ROOT = Path(__file__).resolve().parents[1]
A, B = "110101001", "110101002"
AS_OF = "2024-12-31"
SHORT_LIST = "李小红_3人.csv"  # named after a person, as streets do


@dataclass
class Runs:
    settings: Settings
    codes: list[int]
    outputs: list[str]

    def publishes(self) -> pl.DataFrame:
        publishes = HistoryStore(self.settings.data_dir / "history").publishes()
        assert publishes is not None
        return publishes.sort("publish_id")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("determinism")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    settings.inbox.mkdir(parents=True)
    home = instance_home(root / "dagster_home")
    mp = pytest.MonkeyPatch()
    for name, value in (("UNION_RAW_DIR", settings.raw_dir), ("UNION_DATA_DIR", settings.data_dir),
                        ("UNION_PII_KEY", "test-key"), ("DAGSTER_HOME", home), ("UNION_LOG_LEVEL", "WARNING")):
        mp.setenv(name, str(value))
    code_version()  # one code version for the three runs, whatever is edited meanwhile
    codes, outputs = [], []

    def run() -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            codes.append(main(["run", "--as-of", AS_OF]))
        outputs.append(out.getvalue())

    try:
        drop(settings, A, "members", "a.csv", members_csv(10, "2024-06-30", A))
        drop(settings, B, "members", "b.csv", members_csv(20, "2024-06-30", B, start=100))
        run()
        drop(settings, B, "members", SHORT_LIST, members_csv(3, "2024-09-30", B, start=200))
        run()
        run()
    finally:
        mp.undo()
    return Runs(settings, codes, outputs)


def test_a_held_back_file_does_not_stop_publishing(runs: Runs) -> None:
    assert runs.codes == [0, 0, 0], runs.outputs[-1][-3000:]
    assert all("NOT PUBLISHED" not in out for out in runs.outputs)
    # the 3-row list was held back by the quality gate, and said so
    assert "Quality gate: 1 submission(s) of this run held back from the warehouse" in runs.outputs[1]
    assert "expect_table_row_count_to_be_between" in runs.outputs[1]
    assert "李小红" not in "".join(runs.outputs)


def test_the_inputs_id_covers_the_held_back_submission(runs: Runs) -> None:
    first, held, again = runs.publishes().iter_rows(named=True)
    # the same submissions went into the numbers ...
    assert held["submissions"] == first["submissions"] and held["submissions_included"] == 2
    # ... but not the same inputs: the held-back list is counted in the quality columns
    assert held["manifest_id"] != first["manifest_id"]
    assert held["values_sha256"] != first["values_sha256"]
    # nothing new: the same inputs, and byte-identical values
    assert (again["manifest_id"], again["values_sha256"]) == (held["manifest_id"], held["values_sha256"])
    assert again["code_version"] == held["code_version"]


def test_the_rerun_was_checked_against_the_publish_of_the_same_inputs(runs: Runs) -> None:
    import dagster as dg

    last_run = runs.publishes()["run_id"][-1]
    with dg.DagsterInstance.from_config(str(runs.settings.data_dir.parent / "dagster_home")) as instance:
        evaluations = [r.dagster_event.event_specific_data
                       for r in instance.all_logs(last_run, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
    [deterministic] = [e for e in evaluations if e.check_name == "deterministic"]
    assert deterministic.passed
    assert deterministic.metadata["summary"].value == "values identical to 1 earlier publish(es) of the same inputs"


def test_the_gate_still_fails_when_the_same_inputs_give_other_values(runs: Runs) -> None:
    values = read_indicator_values(runs.settings.warehouse_path)
    store = HistoryStore(runs.settings.data_dir / "history")
    manifest_id = str(values["manifest_id"][0])
    same = checks.deterministic(values, values_fingerprint(values), manifest_id, code_version(), store)
    assert same.passed
    changed = values.with_columns(
        pl.when((pl.col("indicator_code") == "DC01") & (pl.col("area_level") == "district"))
        .then(pl.col("numerator") + 1).otherwise(pl.col("numerator")).alias("numerator"))
    outcome = checks.deterministic(changed, values_fingerprint(changed), manifest_id, code_version(), store)
    assert not outcome.passed
    assert outcome.summary.startswith("the same inputs (submissions and their quality verdicts), code and as-of date "
                                      "gave different values than publish 2")
    assert [f["publish_id"] for f in outcome.failures] == [2, 3]
