"""A local Spark cluster for the `spark_thrift` target (`make spark-up` / `make spark-down`, the tests):
a standalone master and worker and a Spark Thrift Server, all on 127.0.0.1, from the pyspark package's
own jars (Java 17 must be on PATH).

The Thrift Server keeps its own Derby metastore and warehouse under the cluster directory (Derby admits
one JVM, so the `spark_session` target has its own). PIDs are written to `<cluster dir>/pids/`; stopping
signals exactly those processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pyspark
from pyhive import hive

SPARK_HOME = Path(pyspark.__file__).resolve().parent
HOST = "127.0.0.1"
THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class SparkClusterSettings:
    """Ports and sizes of the local cluster; the env vars (and defaults) profiles.yml and the README use."""

    thrift_port: int = field(default_factory=lambda: _env_int("LOYALTY_SPARK_PORT", 10000))
    master_port: int = field(default_factory=lambda: _env_int("LOYALTY_SPARK_MASTER_PORT", 7077))
    master_ui_port: int = field(default_factory=lambda: _env_int("LOYALTY_SPARK_MASTER_UI_PORT", 8080))
    worker_ui_port: int = field(default_factory=lambda: _env_int("LOYALTY_SPARK_WORKER_UI_PORT", 8081))
    worker_cores: int = field(default_factory=lambda: _env_int("LOYALTY_SPARK_CORES", 2))
    executor_memory: str = field(default_factory=lambda: _env("LOYALTY_SPARK_EXECUTOR_MEMORY", "1g"))
    driver_memory: str = field(default_factory=lambda: _env("LOYALTY_SPARK_DRIVER_MEMORY", "1g"))
    shuffle_partitions: int = field(default_factory=lambda: _env_int("LOYALTY_SPARK_SHUFFLE_PARTITIONS", 4))
    # extra JVM options of every JVM of the cluster (e.g. `-XX:TieredStopAtLevel=1` for small data)
    java_options: str = field(default_factory=lambda: _env("LOYALTY_SPARK_JAVA_OPTIONS", ""))
    user: str = field(default_factory=lambda: _env("LOYALTY_SPARK_USER", "loyalty"))

    def env(self) -> dict[str, str]:
        """The env vars that point the spark_thrift target at this cluster."""
        return {
            "LOYALTY_SPARK_HOST": HOST,
            "LOYALTY_SPARK_PORT": str(self.thrift_port),
            "LOYALTY_SPARK_USER": self.user,
        }


def _launch(
    cluster_dir: Path, name: str, command: list[str], java_options: str, memory: str = "512m"
) -> None:
    """Start a JVM of `memory` heap in its own session, its output in <name>.log, its PID in
    pids/<name>.pid. (Spark sizes master, worker and Thrift Server alike by SPARK_DAEMON_MEMORY.)"""
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_DAEMON_MEMORY": memory,
        "SPARK_DAEMON_JAVA_OPTS": java_options,
    }
    with (cluster_dir / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            command, cwd=cluster_dir, env=env, stdout=log, stderr=log, start_new_session=True
        )
    (cluster_dir / "pids" / f"{name}.pid").write_text(str(process.pid))


def _wait_for_port(port: int, deadline: float, what: str) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not open port {port}")


def thrift_server_ready(settings: SparkClusterSettings) -> bool:
    """Whether the Thrift Server answers a query that needs an executor."""
    try:
        with hive.connect(host=HOST, port=settings.thrift_port, username=settings.user) as conn:
            cursor = conn.cursor()
            cursor.execute("select count(*) from range(10)")
            return cursor.fetchall() == [(10,)]
    except Exception:  # not up yet: refused, reset, or no executor registered
        return False


def start_cluster(cluster_dir: Path, settings: SparkClusterSettings, timeout: float = 180) -> None:
    """Start master, worker and Thrift Server (unless this cluster directory's are running) and wait
    until the Thrift Server runs a query."""
    cluster_dir = cluster_dir.resolve()
    (cluster_dir / "pids").mkdir(parents=True, exist_ok=True)
    if running_pids(cluster_dir):
        raise RuntimeError(f"a Spark cluster of {cluster_dir} is running: `make spark-down` first")
    deadline = time.monotonic() + timeout
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    master_url = f"spark://{HOST}:{settings.master_port}"
    master = ["org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(settings.master_port)]
    java = settings.java_options
    _launch(cluster_dir, "master", [spark_class, *master, "--webui-port", str(settings.master_ui_port)], java)
    _wait_for_port(settings.master_port, deadline, "Spark master")
    (cluster_dir / "work").mkdir(exist_ok=True)
    worker = ["org.apache.spark.deploy.worker.Worker", "--host", HOST, "--cores", str(settings.worker_cores)]
    worker += ["--memory", settings.executor_memory, "--webui-port", str(settings.worker_ui_port)]
    worker += ["--work-dir", str(cluster_dir / "work"), master_url]
    _launch(cluster_dir, "worker", [spark_class, *worker], java)
    confs = {
        "spark.master": master_url,
        "spark.driver.host": HOST,
        "spark.driver.bindAddress": HOST,
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={cluster_dir} {java}".strip(),
        "spark.executor.extraJavaOptions": java,
        "spark.executor.memory": settings.executor_memory,
        "spark.cores.max": str(settings.worker_cores),
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(cluster_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={cluster_dir / 'metastore_db'};create=true"
        ),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.local.dir": str(cluster_dir / "tmp"),
    }
    command = [str(SPARK_HOME / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    command += ["spark-internal", "--hiveconf", f"hive.server2.thrift.port={settings.thrift_port}"]
    command += ["--hiveconf", f"hive.server2.thrift.bind.host={HOST}"]
    _launch(cluster_dir, "thrift", command, java, memory=settings.driver_memory)
    _wait_for_port(settings.thrift_port, deadline, "Spark Thrift Server")
    while not thrift_server_ready(settings):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Thrift Server runs no query after {timeout} s; see {cluster_dir}/*.log")
        time.sleep(1)


def running_pids(cluster_dir: Path) -> dict[str, int]:
    """The cluster's processes that are alive, by name: a recorded PID counts only while its process
    still runs in the cluster directory (so a reused PID is never signalled)."""
    alive = {}
    for pid_file in sorted((cluster_dir / "pids").glob("*.pid")):
        try:
            process = psutil.Process(int(pid_file.read_text()))
            if Path(process.cwd()) == cluster_dir.resolve() and process.status() != psutil.STATUS_ZOMBIE:
                alive[pid_file.stem] = process.pid
        except psutil.Error:
            continue
    return alive


def stop_cluster(cluster_dir: Path, timeout: float = 30) -> None:
    """Stop the Thrift Server, then the worker, then the master, by the PIDs their start recorded."""
    for name in ("thrift", "worker", "master"):
        pid = running_pids(cluster_dir).get(name)
        if pid is not None:
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while name in running_pids(cluster_dir) and time.monotonic() < deadline:
                time.sleep(0.2)
            if name in running_pids(cluster_dir):
                os.killpg(pid, signal.SIGKILL)
        (cluster_dir / "pids" / f"{name}.pid").unlink(missing_ok=True)
