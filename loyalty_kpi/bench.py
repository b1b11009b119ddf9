"""Benchmark: generate raw data at a scale, time a full `dbt build` on a target (and PostgreSQL's raw
load) and record the peak memory of the whole process tree (with the local PostgreSQL or Spark cluster's
processes); add the figures to benchmarks/results.md."""

from __future__ import annotations

import json
import platform
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.paths import PROJECT_DIR

# Members per scale: the generator gives about 12.5 transactions per member over 36 months.
SCALES: dict[str, int] = {"100k": 8_000, "1m": 80_000, "10m": 800_000, "100m": 8_000_000}
RESULTS = PROJECT_DIR / "benchmarks" / "results.md"


@dataclass(frozen=True)
class BenchResult:
    """One benchmark run."""

    scale: str
    members: int
    transactions: int
    generate_seconds: float
    build_seconds: float
    build_peak_rss_mb: float
    dbt_nodes_ok: bool
    machine: str
    ran_at: str
    target: str = "duckdb"
    load_seconds: float | None = None
    slowest_nodes: str = ""


class PeakMemory:
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, *pids: int) -> None:
        """Sample the process trees of `pids` (dbt's, and a database server's)."""

        def sample() -> None:
            roots = [psutil.Process(pid) for pid in pids]
            while not self._stop.is_set():
                try:
                    processes = [p for root in roots for p in (root, *root.children(recursive=True))]
                    total = sum(p.memory_info().rss for p in processes if p.is_running())
                except psutil.Error:
                    total = 0
                self.peak_bytes = max(self.peak_bytes, total)
                time.sleep(self.interval)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _count_rows(path: Path) -> int:
    with duckdb.connect() as con:
        row = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
    return int(row[0]) if row else 0


def _machine() -> str:
    memory_gib = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {psutil.cpu_count()} cores, {memory_gib:.0f} GiB"


def _server_pids(target: str) -> list[int]:
    """The processes of the project's local PostgreSQL or Spark Thrift cluster, if it runs."""
    if target == "postgres":
        pid_file = PROJECT_DIR / "data" / "pg" / "data" / "postmaster.pid"
        return [int(pid_file.read_text().split()[0])] if pid_file.exists() else []
    if target == "spark_thrift":
        from loyalty_kpi.spark import running_pids

        return list(running_pids(PROJECT_DIR / "data" / "spark" / "thrift").values())
    return []


def _slowest_nodes(work_dir: Path, count: int = 3) -> str:
    """The dbt nodes that took longest, as `name seconds` (from run_results.json)."""
    run_results = work_dir / "target" / "run_results.json"
    if not run_results.exists():
        return ""
    timings = [
        (r["execution_time"], r["unique_id"].split(".")[-1])
        for r in json.loads(run_results.read_text())["results"]
    ]
    return ", ".join(f"{name} {seconds:.0f} s" for seconds, name in sorted(timings, reverse=True)[:count])


def run_benchmark(scale: str, work_dir: Path, target: str = "duckdb") -> BenchResult:
    """Generate `scale` data into work_dir/raw, build it on `target` (a fresh warehouse.duckdb in work_dir
    on DuckDB; PostgreSQL's raw tables loaded first, timed apart), measure."""
    members = SCALES[scale]
    raw = work_dir / "raw"
    started = time.perf_counter()
    generate(raw, members=members, months=36, seed=7, progress=True)
    generate_seconds = time.perf_counter() - started

    load_seconds = None
    if target == "postgres":
        from loyalty_kpi.load_postgres import load_raw

        started = time.perf_counter()
        load_raw(raw)
        load_seconds = round(time.perf_counter() - started, 1)
    warehouse = work_dir / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    monitor = PeakMemory()
    started = time.perf_counter()
    monitor.watch(psutil.Process().pid, *_server_pids(target))
    result = run_dbt(
        ["build"],
        raw_dir=raw,
        duckdb_path=warehouse,
        work_dir=work_dir,
        target=target,
        env={"SPARK_LOCAL_IP": "127.0.0.1"},
    )
    build_seconds = time.perf_counter() - started
    monitor.stop()
    return BenchResult(
        scale=scale,
        members=members,
        transactions=_count_rows(raw / "transactions.parquet"),
        generate_seconds=round(generate_seconds, 1),
        build_seconds=round(build_seconds, 1),
        build_peak_rss_mb=round(monitor.peak_bytes / 2**20),
        dbt_nodes_ok=result.returncode == 0,
        machine=_machine(),
        ran_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        target=target,
        load_seconds=load_seconds,
        slowest_nodes=_slowest_nodes(work_dir),
    )


def record(result: BenchResult) -> None:
    """Add the run to benchmarks/results.jsonl and rewrite benchmarks/results.md from all runs."""
    RESULTS.parent.mkdir(exist_ok=True)
    history = RESULTS.parent / "results.jsonl"
    with history.open("a") as out:
        out.write(json.dumps(asdict(result)) + "\n")
    runs = [BenchResult(**json.loads(line)) for line in history.read_text().splitlines() if line.strip()]
    lines = [
        "# Benchmark results\n",
        "Written by `make bench SCALE=… BENCH_TARGET=…` (`loyalty_kpi/bench.py`) from `results.jsonl`.",
        "Build = full `dbt build` (every seed, model, snapshot, unit and data test): on DuckDB into a fresh",
        "warehouse, on PostgreSQL after loading the raw files (`load s`, COPY), on Spark from the files in",
        "place. Peak memory = summed RSS of the process tree (Python, dbt, DuckDB or the Spark session's",
        "JVM) plus the local PostgreSQL or Spark Thrift cluster's processes, sampled every 0.2 s.\n",
        "| ran at | target | scale | members | transactions | generate s | load s | build s | peak RSS MB "
        "| build ok | slowest nodes | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        load = "" if run.load_seconds is None else run.load_seconds
        lines.append(
            f"| {run.ran_at} | {run.target} | {run.scale} | {run.members:,} | {run.transactions:,} | "
            f"{run.generate_seconds} | {load} | {run.build_seconds} | {run.build_peak_rss_mb:,} | "
            f"{run.dbt_nodes_ok} | {run.slowest_nodes} | {run.machine} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")
