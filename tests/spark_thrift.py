"""A real Spark Thrift server (HiveThriftServer2) for the tests of the ``thrift`` method.

pyspark's wheel carries Spark's Thrift server (``spark-hive-thriftserver`` and Hive's
jars) and ``spark-submit``, so the server a cluster runs is started here with the local
master: the dbt project reaches it exactly as it would reach a cluster's, over Thrift with
SASL (``auth: NONE``, the server's default). It is started *without* the session settings
the project needs (timestamp type, time zone, dynamic partition overwrite): those must
come from the profile's ``server_side_parameters``, as on a cluster whose administrators
set nothing for us. Its tables and Derby metastore are under ``root``, or those a
session-mode build left (``spark_home``: a data directory's ``warehouse/spark/``), which
the server then serves as a cluster serves the tables it holds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAIN_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
START_TIMEOUT_S = 240  # a JVM and Hive's service start, on 2 shared cores


@dataclass(frozen=True)
class ThriftServer:
    host: str
    port: int
    tables_dir: Path  # its spark.sql.warehouse.dir (this machine reads it where it is)
    log: Path

    def environ(self) -> dict[str, str]:
        """What ``union-warehouse run`` needs to build on this server."""
        return {"UNION_WAREHOUSE_TARGET": "spark", "UNION_SPARK_METHOD": "thrift",
                "UNION_SPARK_HOST": self.host, "UNION_SPARK_PORT": str(self.port),
                "UNION_SPARK_TABLES_DIR": str(self.tables_dir)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@contextlib.contextmanager
def thrift_server(root: Path, spark_home: Path | None = None) -> Iterator[ThriftServer]:
    """Start a Spark Thrift server on a free local port; stop it (its process group) at the end.
    With ``spark_home``, over the tables (``tables/``) and Derby metastore (``metastore_db``)
    under it, which no other process may hold open; else over new ones under ``root``."""
    import pyspark

    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    root.mkdir(parents=True, exist_ok=True)
    host, port = "127.0.0.1", _free_port()
    home = spark_home or root
    server = ThriftServer(host, port, home / "tables", root / "thrift-server.log")
    server.tables_dir.mkdir(exist_ok=True)
    cmd = [
        str(spark_submit), "--class", MAIN_CLASS, "--name", "union-warehouse-thrift-test",
        "--master", "local[2]",
        "--conf", f"spark.sql.warehouse.dir={server.tables_dir}",
        "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={home}",
        "--conf", "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=metastore_db;create=true",
        "--conf", f"spark.local.dir={root / 'scratch'}",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=4",
        "--hiveconf", f"hive.server2.thrift.port={port}",
        "--hiveconf", f"hive.server2.thrift.bind.host={host}",
        "spark-internal",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "SPARK_"))}
    with server.log.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(host, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Spark Thrift server did not start:\n"
                                   f"{server.log.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
