"""The rule file: the default holds W01-W09 and the operator rules with the spec's
thresholds; a bad file is a clear error naming the file and the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.alerts.rulefile import DEFAULT_RULES_PATH, RuleFileError, load_rules, rules_path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = DEFAULT_RULES_PATH.read_text(encoding="utf-8")


def test_the_default_file_holds_every_rule_with_the_spec_thresholds() -> None:
    rules = load_rules()
    assert [c for c in rules.rules] == [f"W0{i}" for i in range(1, 10)] + [
        "OPS_REJECTED",
        "OPS_QUALITY_GATE",
        "OPS_SILENT",
        "OPS_RUN_FAILED",
    ]
    assert all(r.enabled for r in rules.rules.values())
    levels = {
        code: {lr.level: dict(lr.conditions) for lr in r.levels} for code, r in rules.rules.items()
    }
    assert levels["W01"] == {
        "红": {"workers_involved": 100},
        "橙": {"workers_involved": 30},
        "黄": {"workers_involved": 10},
    }
    assert levels["W02"]["红"] == {"complaints": 3, "amount_claimed_yuan": 1_000_000}
    assert levels["W03"] == {
        "橙": {"recent_cases": 5, "ratio": 3},
        "黄": {"recent_cases": 5, "ratio": 2},
    }
    assert levels["W06"] == {"橙": {"employees": 500}, "黄": {"employees": 100}}
    assert levels["W08"] == {"蓝": {"drop_points": 15}}
    assert rules["W03"].params == {"window_days": 30, "baseline_days": 180}
    assert rules["W09"].params == {"overdue_days": 15}
    assert rules["OPS_SILENT"].params["silent_days"] == 35
    assert [lr.level for lr in rules["W04"].levels] == ["黄", "蓝"]  # most severe first


def test_the_most_severe_level_that_holds_wins() -> None:
    w07 = load_rules()["W07"]
    assert w07.level_for({"employee_fall_share": 0.31}) == "橙"
    assert w07.level_for({"employee_fall_share": 0.29}) == "黄"
    assert load_rules()["W06"].level_for({"employees": 99}) is None


def _bad(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad_rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as err:
        load_rules(path)
    message = str(err.value)
    assert str(path) in message
    return message


# One edit of the default file a row: the line replaced, its replacement, and what the
# error must say (the place in the file, then the problem).
BAD_EDITS = [
    ("黄: {workers_involved: 10}", "紫: {workers_involved: 10}", "rules.W01.levels.紫: unknown level"),
    ("黄: {workers_involved: 10}", "黄: {workers: 10}", "rules.W01.levels.黄.workers: unknown metric"),
    ("黄: {workers_involved: 10}", "黄: {workers_involved: 十}", "expected a number >= 0"),
    ("黄: {workers_involved: 10}", "黄: {workers_involved: -1}", "expected a number >= 0"),
    ("      overdue_days: 15", "      overdue: 15", "rules.W09.params: unknown parameter(s) ['overdue']"),
    ("      baseline_days: 180", "", "rules.W03.params: parameter 'baseline_days' missing"),
    ("      window_days: 30          # cases received", "      window_days: 30.5  #", "rules.W03.params.window_days: expected a whole number"),
    ("      statuses: [迁出, 注销, 合并]", "      statuses: []", "rules.W06.params.statuses: expected a non-empty list"),
    ("      silent_days_by_dataset: {}", "      silent_days_by_dataset: {meetings: 9}", "rules.OPS_SILENT.params.silent_days_by_dataset"),
    ("  W08:\n", "  W10:\n", "unknown rule code(s) ['W10']"),
    ("version: 1", "version: 2", "version: expected 1"),
    ("    name: 欠薪集中", "    name: 欠薪集中\n    enabled: yes please", "rules.W02.enabled: expected true or false"),
    ("    name: 欠薪集中", "    name: 欠薪集中\n    threshold: 3", "rules.W02: unknown key(s) ['threshold']"),
    ("      蓝: {drop_points: 15}", "      蓝: 15", "rules.W08.levels.蓝: expected a mapping"),
    ("    levels:\n      蓝: {drop_points: 15}", "    levels: {}", "rules.W08.levels: expected a mapping"),
]


@pytest.mark.parametrize(("old", "new", "problem"), BAD_EDITS)
def test_a_bad_rule_file_names_the_file_and_the_problem(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    assert old in DEFAULT
    assert problem in _bad(tmp_path, DEFAULT.replace(old, new, 1))


def test_a_missing_rule_is_an_error_not_a_skip(tmp_path: Path) -> None:
    start, end = DEFAULT.index("  W05:\n"), DEFAULT.index("  W06:\n")
    assert "rule(s) ['W05'] missing" in _bad(tmp_path, DEFAULT[:start] + DEFAULT[end:])


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    message = _bad(
        tmp_path,
        DEFAULT.replace(
            "      黄: {workers_involved: 10}\n",
            "      黄: {workers_involved: 10}\n      黄: {workers_involved: 20}\n",
        ),
    )
    assert "given twice" in message


def test_unparsable_yaml_and_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "not valid YAML" in _bad(tmp_path, "version: 1\nrules: {W01: [}\n")
    missing = tmp_path / "nowhere.yaml"
    monkeypatch.setenv("UNION_WARNING_RULES", str(missing))
    assert rules_path() == missing
    with pytest.raises(
        RuleFileError, match=r"nowhere\.yaml \(set by UNION_WARNING_RULES\) cannot be read"
    ):
        load_rules()


def test_the_environment_picks_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "mine.yaml"
    custom.write_text(
        DEFAULT.replace("name: 集体劳动争议", "name: 集体争议（试行）"), encoding="utf-8"
    )
    monkeypatch.setenv("UNION_WARNING_RULES", str(custom))
    rules = load_rules()
    assert rules.path == custom and rules["W01"].name == "集体争议（试行）"


def test_a_bad_rule_file_stops_the_start_up(tmp_path: Path) -> None:
    """Loading the Dagster definitions (as ``dagster dev`` does) fails with the file and the
    problem; importing the alert assets' module, or the definitions' (whose loading is
    lazy), reads no rule file."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        DEFAULT.replace("蓝: {drop_points: 15}", "蓝: {drop_point: 15}"), encoding="utf-8"
    )
    env = {**os.environ, "UNION_WARNING_RULES": str(bad), "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", "import pipelines.orchestration.alerts; print('imported', flush=True); "
         "import pipelines.definitions as d; print('definitions imported', flush=True); d.defs()"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and proc.stdout == "imported\ndefinitions imported\n"
    assert "RuleFileError" in proc.stderr and str(bad) in proc.stderr
    assert "rules.W08.levels.蓝.drop_point: unknown metric" in proc.stderr


def test_each_rule_says_where_to_look_and_a_labour_rule_names_only_tables_its_model_reads() -> None:
    """The "where to look" line of an alert message comes from the rule's spec; for a
    labour rule it names published tables the rule's dbt model reads (its lineage in the
    manifest), or that are built from what it reads (W06's snapshots pair up the same
    snapshots marts.dim_union_org_history holds), so a model that stops reading a table
    cannot leave the message pointing there."""
    import json

    from pipelines.alerts.rules import RULE_SPECS, RuleKind
    from pipelines.orchestration.dbt import prepare_manifest

    manifest = json.loads(prepare_manifest().read_text(encoding="utf-8"))
    nodes = manifest["nodes"]

    def upstream(unique_id: str) -> set[str]:
        seen: set[str] = set()
        todo = [unique_id]
        while todo:
            for parent in nodes.get(todo.pop(), {}).get("depends_on", {}).get("nodes", []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def relation(unique_id: str) -> str:
        node = nodes[unique_id]
        return f"{node['config'].get('schema') or node['schema']}.{node['name']}"

    for code, spec in RULE_SPECS.items():
        assert spec.look_at, f"{code} says nowhere to look"
        if spec.kind is not RuleKind.LABOUR:
            continue
        (model,) = [uid for uid, n in nodes.items()
                    if n["resource_type"] == "model" and n["name"].startswith(f"warn_{code.lower()}_")]
        reads = {uid for uid in upstream(model) if uid.startswith("model.")}
        by_name = {relation(uid): uid for uid, n in nodes.items() if n["resource_type"] == "model"}
        for table in spec.look_at.split("、"):
            assert table in by_name, f"{code} points at {table}, which is no model"
            parents = set(nodes[by_name[table]]["depends_on"]["nodes"])
            assert by_name[table] in reads or parents & reads, f"{code} points at {table}, unrelated to its model"
