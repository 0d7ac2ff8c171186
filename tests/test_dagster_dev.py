"""``dagster dev`` as the README starts it: the webserver answers, the daemon is
healthy, and the UI's API lists the asset graph by layer, the sensors (drop zone on,
dead-run reclaiming on) and the schedules (off until switched on)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow

QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        sensors { name sensorState { status } }
        schedules { name cronSchedule scheduleState { status } }
        assetNodes { assetKey { path } groupName }
      }
    }
  }
  instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen[bytes], log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited ({proc.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(1.0)
    pytest.fail(f"no {what} within {timeout} s:\n{log.read_text()[-3000:]}")


def test_dagster_dev_serves_the_graph_sensors_and_schedules(tmp_path: Path) -> None:
    """``union-warehouse dev`` on a fresh checkout (no data directory yet): it makes the
    instance's home with the project's dagster.yaml and becomes ``dagster dev`` on it."""
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(UNION_RAW_DIR=str(tmp_path / "raw"), UNION_DATA_DIR=str(data_dir), UNION_PII_KEY="test-key")
    port = _free_port()
    log = tmp_path / "dagster_dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "union-warehouse"), "dev", "-p", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def webserver_up() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                return r.status == 200

        _wait(webserver_up, 240, "webserver", proc, log)

        def loaded() -> dict | None:
            data = _graphql(port, QUERY)
            nodes = data["repositoriesOrError"].get("nodes") or []
            daemons = data["instance"]["daemonHealth"]["allDaemonStatuses"]
            required = [d for d in daemons if d["required"]]
            return data if nodes and required and all(d["healthy"] for d in required) else None

        data = _wait(loaded, 240, "code location and healthy daemons", proc, log)
    finally:
        # what it said while serving; once stopped, a sensor tick already under way may
        # log its failure to reach the code server that has shut down (Dagster's own race)
        served = log.stat().st_size
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    home = data_dir / "dagster"
    assert "concurrency:" in (home / "dagster.yaml").read_text(encoding="utf-8")  # the project's
    assert any((home / "history").iterdir())  # the instance stores there
    said = log.read_bytes()[:served].decode(errors="replace")
    assert "will not be used" not in said and "Traceback" not in said, said[-3000:]
    (repo,) = data["repositoriesOrError"]["nodes"]
    sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
    assert sensors == {"inbox_sensor": "RUNNING", "reclaim_dead_runs": "RUNNING", "alert_on_run_failure": "RUNNING"}
    schedules = {s["name"]: (s["cronSchedule"], s["scheduleState"]["status"]) for s in repo["schedules"]}
    assert schedules == {"nightly_rebuild": ("0 2 * * *", "STOPPED"),
                         "monthly_indicator_export": ("0 6 1 * *", "STOPPED")}
    groups: dict[str, set[str]] = {}
    for node in repo["assetNodes"]:
        groups.setdefault(node["groupName"], set()).add("/".join(node["assetKey"]["path"]))
    assert {"landing", "reference", "staging", "intermediate", "marts", "audit", "indicators", "alerts",
            "publish", "reports"} <= set(groups)
    assert {"landing/members", "marts/dim_member", "marts/fct_dispute_cases", "published/warehouse",
            "indicators/indicator_values"} <= set().union(*groups.values())
    daemons = {d["daemonType"] for d in data["instance"]["daemonHealth"]["allDaemonStatuses"] if d["healthy"]}
    # MONITORING: dagster.yaml's run_monitoring (stuck starts, hung cancels, slots of ended runs)
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "MONITORING"} <= daemons
