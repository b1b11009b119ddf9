"""Benchmark: generate raw data at a scale, time a full `dbt build` and record the peak memory of the
whole process tree; append the figures to benchmarks/results.md."""

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


class PeakMemory:
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        def sample() -> None:
            root = psutil.Process(pid)
            while not self._stop.is_set():
                try:
                    processes = [root, *root.children(recursive=True)]
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


def run_benchmark(scale: str, work_dir: Path) -> BenchResult:
    """Generate `scale` data into work_dir/raw, build into work_dir/warehouse.duckdb, measure."""
    members = SCALES[scale]
    raw = work_dir / "raw"
    started = time.perf_counter()
    generate(raw, members=members, months=36, seed=7, progress=True)
    generate_seconds = time.perf_counter() - started

    warehouse = work_dir / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    monitor = PeakMemory()
    started = time.perf_counter()
    monitor.watch(psutil.Process().pid)
    result = run_dbt(["build"], raw_dir=raw, duckdb_path=warehouse, work_dir=work_dir)
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
    )


def record(result: BenchResult) -> None:
    """Append a row to benchmarks/results.md (and the raw JSON to results.jsonl beside it)."""
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\n"
            "Appended by `make bench SCALE=…` (`loyalty_kpi/bench.py`). Build = full `dbt build`\n"
            "(every seed, model, snapshot, unit and data test) from a fresh warehouse; peak memory =\n"
            "summed RSS of the whole process tree (Python, dbt, DuckDB), sampled every 0.2 s.\n\n"
            "| ran at | scale | members | transactions | generate s | build s | peak RSS MB | build ok "
            "| machine |\n"
            "|---|---|---|---|---|---|---|---|---|\n"
        )
    with RESULTS.open("a") as out:
        out.write(
            f"| {result.ran_at} | {result.scale} | {result.members:,} | {result.transactions:,} | "
            f"{result.generate_seconds} | {result.build_seconds} | {result.build_peak_rss_mb:,} | "
            f"{result.dbt_nodes_ok} | {result.machine} |\n"
        )
    with (RESULTS.parent / "results.jsonl").open("a") as out:
        out.write(json.dumps(asdict(result)) + "\n")
