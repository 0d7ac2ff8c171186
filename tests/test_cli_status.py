"""``union-warehouse status``, ``validate`` and ``--version`` (issue 19, "Operators").

``status`` reads only (no lock, nothing written); ``validate`` gives the receipt a file
would get without touching the drop zone or the data dir, and prints no row values.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.config import Settings
from pipelines.contract import get_dataset
from pipelines.ingest.dropzone import log_ref
from pipelines.ingest.ledger import read_ledger
from pipelines.ingest.process import ingest_pending

from .conftest import drop
from .helpers import hold_back
from .test_validate import valid_row

A, B = "110101001", "110101002"
PERSON = "张伟"
BAD_ID = "110101199005170017"  # a wrong check digit: the row is quarantined
ROOT = Path(__file__).resolve().parents[1]


def members_csv(n: int, street: str, bad_line: int | None = None) -> str:
    ds = get_dataset("members")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(ds.column_names))
    w.writeheader()
    for i in range(n):
        row = valid_row(ds, i)
        row.update(as_of_date="2024-06-30", street_code=street, member_id=f"M{street}-{i}", name=f"{PERSON}{i}")
        if bad_line is not None and i == bad_line:
            row["id_number"] = BAD_ID
        w.writerow(row)
    return buf.getvalue()


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.fixture
def env(settings: Settings, monkeypatch) -> Settings:
    """``cli.main`` reads its settings from the environment: point it at the test's dirs."""
    monkeypatch.setenv("UNION_RAW_DIR", str(settings.raw_dir))
    monkeypatch.setenv("UNION_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("UNION_PII_KEY", settings.pii_key)
    return settings


# --- status -----------------------------------------------------------------------------------


def test_status_on_an_empty_data_dir_says_nothing_is_there_and_writes_nothing(env: Settings, capsys) -> None:
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Ledger 台账: 0 file(s)" in out
    assert "Pending 待处理: none" in out
    assert "Held back 暂缓入库: none" in out
    assert "Last publish 最近发布: none" in out
    assert "Open alerts 未关闭预警: none" in out
    assert "Late 逾期未报送" in out
    assert not env.data_dir.exists()  # not even the data dir was created


def test_status_lists_pending_and_held_back_files_by_reference(env: Settings, capsys) -> None:
    held_name = f"{PERSON}_名单.csv"
    drop(env, A, "members", held_name, members_csv(3, A))
    drop(env, B, "members", "bad.csv", "会员编号\nM1\n")  # rejected: columns missing
    ingest_pending(env, run_id="run-1")
    entries = read_ledger(env.ledger_path)
    held = next(e for e in entries if e.path.endswith(held_name))
    hold_back(env, held)  # a failed critical verdict, as the GX gate writes it
    waiting = drop(env, B, "members", f"{PERSON}_new.csv", members_csv(2, B))
    before = tree(env.data_dir)

    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert tree(env.data_dir) == before  # read-only: no lock file, no state cache, nothing
    assert "Ledger 台账: 2 file(s) (loaded 1, rejected 1, duplicate 0)" in out
    assert "Pending 待处理: 1 file(s) in the inbox not yet in the ledger" in out
    assert f"    {log_ref('inbox/' + B + '/members/' + waiting.name)}" in out
    assert "Held back 暂缓入库: 1 submission(s) held back by the quality gate" in out
    assert f"    {A} members {log_ref(held.path)}: failed expect_table_row_count_to_be_between" in out
    assert PERSON not in out

    assert cli.main(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pending"]["count"] == 1
    assert data["held_back"]["submissions"][0]["street_code"] == A
    assert data["ledger"] == {"files": 2, "loaded": 1, "rejected": 1, "duplicate": 0}
    assert data["last_publish"] is None


def test_status_counts_open_alerts_by_level_and_reads_the_last_publish(env: Settings, capsys) -> None:
    import duckdb

    from pipelines.alert_state import SCHEMA

    env.alerts_state_path.parent.mkdir(parents=True)
    with duckdb.connect(str(env.alerts_state_path)) as con:
        con.execute(SCHEMA)
        for i, (kind, level, status) in enumerate([("labour", "红", "open"), ("labour", "黄", "open"),
                                                   ("labour", "黄", "open"), ("operator", "蓝", "open"),
                                                   ("labour", "橙", "resolved")]):
            con.execute("insert into alerts values (?, 'R', 'r', ?, ?, ?, ?, '', ?, now(), now(), "
                        "current_date, current_date, null, null, 'm', '{}', 'x', 'x')",
                        [f"a{i}", kind, level, A, f"e{i}", status])
    env.published_path.parent.mkdir(parents=True)
    with duckdb.connect(str(env.published_path)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.publish_manifest as select * from (values "
                     "(1, 'r1', timestamp '2025-01-01 08:00:00', date '2024-12-31', 3, 'v1'), "
                     "(2, 'r2', timestamp '2025-02-01 08:00:00', date '2025-01-31', 5, 'v2')) "
                     "t(publish_id, run_id, published_at, as_of_date, submissions_included, code_version)")

    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Open alerts 未关闭预警: 4 — warnings 红 1, 黄 2; operator alerts 蓝 1" in out
    assert ("Last publish 最近发布: #2 as of 2025-01-31, at 2025-02-01 08:00:00 UTC (北京时间 02-01 16:00), "
            "5 submission(s) included (code v2)") in out


@pytest.mark.parametrize(("stamp", "said"), [
    ("2026-12-07T10:05:59+00:00", "2026-12-07 10:05:59 UTC (北京时间 12-07 18:05)"),  # as a timestamptz reads back
    ("2026-12-07T18:05:59+08:00", "2026-12-07 10:05:59 UTC (北京时间 12-07 18:05)"),  # another zone: the same instant
    ("2026-12-07T20:30:00", "2026-12-07 20:30:00 UTC (北京时间 12-08 04:30)"),  # no zone: UTC, the next day in Beijing
    ("not a time", "not a time"),
])
def test_the_last_publish_time_is_said_once_in_utc_and_in_beijing_time(stamp: str, said: str) -> None:
    from pipelines.status import when_utc

    assert when_utc(stamp) == said


# --- validate ---------------------------------------------------------------------------------


def _validate(env: Settings, tmp_path: Path, name: str, content: str, capsys, *extra: str) -> tuple[int, str]:
    file = tmp_path / "outside" / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(content, encoding="utf-8")
    before = (tree(env.data_dir), tree(env.raw_dir))
    code = cli.main(["validate", str(file), "--street", A, "--dataset", "members", *extra])
    assert (tree(env.data_dir), tree(env.raw_dir)) == before  # nothing touched
    return code, capsys.readouterr().out


def test_validate_a_good_file_exits_0_and_changes_nothing(env: Settings, tmp_path: Path, capsys) -> None:
    code, out = _validate(env, tmp_path, "good.csv", members_csv(3, A), capsys)
    assert code == 0
    # validate runs no quality gate: the rows passed the row checks, the gate has not judged them
    assert "处理结果 outcome: 已收到，待数据质量检查 (pending)" in out
    assert "rows: read 3, loaded 3, quarantined 0" in out
    assert not env.data_dir.exists()


def test_validate_a_file_missing_a_column_exits_1_with_the_chinese_reason(
        env: Settings, tmp_path: Path, capsys) -> None:
    code, out = _validate(env, tmp_path, "short.csv", "会员编号\nM1\n", capsys)
    assert code == 1
    assert "(rejected)" in out
    assert "file.missing_column" in out
    assert "缺少必填列「姓名」" in out


def test_validate_a_bad_row_exits_1_naming_line_and_rule_not_the_value(
        env: Settings, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "receipt"
    code, out = _validate(env, tmp_path, "one_bad.csv", members_csv(3, A, bad_line=1), capsys,
                          "--out", str(out_dir))
    assert code == 1
    assert "rows: read 3, loaded 2, quarantined 1" in out
    assert "第 3 行 身份证号 id_number.check_digit" in out  # line 3: the header is line 1
    assert BAD_ID not in out and PERSON not in out
    [receipt] = out_dir.glob("*.json")
    assert {p.suffix for p in out_dir.iterdir()} == {".json", ".xlsx"}
    assert re.fullmatch(r"one_bad_回执_[0-9a-f]{8}\.json", receipt.name)  # the clerk's file name
    data = json.loads(receipt.read_text(encoding="utf-8"))
    assert data["rows"]["quarantined"] == 1
    assert any(p["code"] == "id_number.check_digit" and p["line"] == 3 for p in data["problems"])


def test_validate_says_its_exit_status_in_help(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["validate", "--help"])
    assert "Exit status 0" in capsys.readouterr().out.replace("\n", " ")


# --- --version --------------------------------------------------------------------------------


def test_version_prints_the_package_and_code_version() -> None:
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("union-warehouse ")
    assert "code version " in done.stdout
