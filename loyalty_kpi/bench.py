"""Benchmark: generate raw data at a scale, time a full `dbt build` on a target (and PostgreSQL's raw
load) and record the peak memory of the whole process tree (with the local PostgreSQL or Spark cluster's
processes); add the figures to benchmarks/results.md.

On DuckDB the full build runs on the data up to the day before the generated end, then that last day is
appended to the raw files (loyalty_kpi.deliveries) and the incremental `dbt build` is timed too; a
hand-written DuckDB query of the monthly base flow (S, E, N, R, C) on the final transactions file, run in
the same benchmark, is the reference the build times are divided by (robust to a noisy machine)."""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import duckdb
import psutil

from loyalty_kpi import deliveries
from loyalty_kpi.dbt import WITHOUT_UNIT_TESTS, run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.paths import PROJECT_DIR

# Members per scale: the generator gives about 12.5 transactions per member over 36 months.
SCALES: dict[str, int] = {"100k": 8_000, "1m": 80_000, "10m": 800_000, "100m": 8_000_000}
RESULTS = PROJECT_DIR / "benchmarks" / "results.md"
HISTORY = RESULTS.parent / "results.jsonl"
PROFILES = RESULTS.parent / "profiles"
# the profile's resource settings (profiles.yml): recorded with a run when set
TUNING_VARIABLES = (
    "LOYALTY_DBT_THREADS",
    "LOYALTY_DUCKDB_THREADS",
    "LOYALTY_DUCKDB_MEMORY_LIMIT",
    "LOYALTY_DUCKDB_MAX_TEMP_SIZE",
)
# written into work_dir/generated with the parameters of the data there (--reuse-generated checks it)
GENERATED_MARKER = "bench-parameters.txt"


@dataclass(frozen=True)
class BenchResult:
    """One benchmark run."""

    scale: str
    members: int
    transactions: int
    generate_seconds: float | None  # None: the data of an earlier run, reused
    build_seconds: float
    build_peak_rss_mb: float
    dbt_nodes_ok: bool
    machine: str
    ran_at: str
    target: str = "duckdb"
    load_seconds: float | None = None
    slowest_nodes: str = ""
    incremental_seconds: float | None = None
    incremental_peak_rss_mb: float | None = None
    incremental_ok: bool | None = None
    incremental_slowest_nodes: str = ""
    reference_seconds: float | None = None
    reference_peak_rss_mb: float | None = None
    scan_seconds: float | None = None
    reference_agrees: bool | None = None
    versions: str = ""
    profile: str = ""


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
    """The machine, and the profile's resource settings the environment changed (they move the times)."""
    memory_gib = psutil.virtual_memory().total / 2**30
    settings = "".join(f"; {name}={os.environ[name]}" for name in TUNING_VARIABLES if name in os.environ)
    return f"{platform.machine()}, {psutil.cpu_count()} cores, {memory_gib:.0f} GiB{settings}"


def _server_pids(target: str) -> list[int]:
    """The processes of the project's local PostgreSQL or Spark Thrift cluster, if it runs."""
    if target == "postgres":
        pid_file = PROJECT_DIR / "data" / "pg" / "data" / "postmaster.pid"
        return [int(pid_file.read_text().split()[0])] if pid_file.exists() else []
    if target == "spark_thrift":
        from loyalty_kpi.spark import running_pids

        return list(running_pids(PROJECT_DIR / "data" / "spark" / "thrift").values())
    return []


NodeTimings = dict[str, tuple[str, float | None, str]]


def node_timings(work_dir: Path) -> NodeTimings:
    """unique_id -> (resource type, seconds, status) of every node of the last dbt run in work_dir."""
    run_results = work_dir / "target" / "run_results.json"
    if not run_results.exists():
        return {}
    return {
        r["unique_id"]: (r["unique_id"].split(".")[0], round(r["execution_time"], 2), r["status"])
        for r in json.loads(run_results.read_text())["results"]
    }


def _slowest_nodes(timings: NodeTimings, count: int = 3) -> str:
    """The dbt nodes that took longest, as `name seconds`."""
    slowest = sorted(
        ((seconds or 0.0, node.split(".")[-1]) for node, (_, seconds, _) in timings.items()), reverse=True
    )
    return ", ".join(f"{name} {seconds:.0f} s" for seconds, name in slowest[:count])


def write_profile(path: Path, full: NodeTimings, incremental: NodeTimings) -> None:
    """Every node's seconds and status in the full and the incremental build, slowest full first."""
    header = ["node", "resource_type", "full_s", "full_status", "incremental_s", "incremental_status"]
    missing: tuple[str, float | None, str] = ("", None, "")

    def slowest_first(node: str) -> tuple[float, str]:
        return (-(full.get(node, missing)[1] or 0.0), node)

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for node in sorted(full.keys() | incremental.keys(), key=slowest_first):
            kind, full_seconds, full_status = full.get(node, missing)
            incremental_kind, incremental_seconds, incremental_status = incremental.get(node, missing)
            row = [
                node,
                kind or incremental_kind,
                full_seconds,
                full_status,
                incremental_seconds,
                incremental_status,
            ]
            writer.writerow(row)


# The reference: the monthly base flow (kpi-spec §1, W = 90 days) in one hand-written DuckDB query over the
# transactions file, member purchases up to A = the last transaction day; a member is active at a month's
# end e (the month holding A: at A) when a purchase day lies in [e - 89, e], at its start when active at
# the previous month's end.
REFERENCE_SQL = """
with purchases as (
    select member_id, cast(transacted_at as date) as purchase_date, transaction_type
    from read_parquet({path})
),
as_of as (
    select max(purchase_date) as as_of_date from purchases
),
purchase_days as (
    select distinct member_id, purchase_date
    from purchases, as_of
    where member_id is not null and transaction_type = 'purchase' and purchase_date <= as_of_date
),
first_purchases as (
    select member_id, min(purchase_date) as first_purchase_date from purchase_days group by member_id
),
active_at_end as (
    select distinct purchase_days.member_id, cast(month_start as date) as month_start
    from purchase_days, as_of,
        unnest(generate_series(date_trunc('month', purchase_date), date_trunc('month', purchase_date + 89),
            interval 1 month)) as months(month_start)
    where least(last_day(month_start), as_of_date) <= purchase_date + 89 and month_start <= as_of_date
),
active_at_start as (
    select member_id, cast(month_start + interval 1 month as date) as month_start from active_at_end
),
member_months as (
    select
        coalesce(active_at_end.member_id, active_at_start.member_id) as member_id,
        coalesce(active_at_end.month_start, active_at_start.month_start) as month_start,
        active_at_start.member_id is not null as at_start,
        active_at_end.member_id is not null as at_end
    from active_at_end
    full join active_at_start
        on active_at_end.member_id = active_at_start.member_id
        and active_at_end.month_start = active_at_start.month_start
)
select
    member_months.month_start,
    count(*) filter (where at_start) as start_active,
    count(*) filter (where at_end) as end_active,
    count(*) filter (where at_end and first_purchase_date >= member_months.month_start) as new_active,
    count(*) filter (where at_end and not at_start and first_purchase_date < member_months.month_start)
        as reactivated,
    count(*) filter (where at_start and not at_end) as churned
from member_months
inner join first_purchases on member_months.member_id = first_purchases.member_id
where member_months.month_start <= (select as_of_date from as_of)
group by member_months.month_start
order by member_months.month_start
"""
SCAN_SQL = "select count(*), sum(amount) from read_parquet({path})"


def reference_query(transactions: Path, out: Path, threads: int) -> None:
    """Run the reference and the plain scan on a transactions file; write their seconds and rows to `out`."""
    path = "'" + str(transactions).replace("'", "''") + "'"
    with duckdb.connect(config={"threads": threads}) as con:
        started = time.perf_counter()
        con.execute(SCAN_SQL.format(path=path)).fetchall()
        scan_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rows = con.execute(REFERENCE_SQL.format(path=path)).fetchall()
        reference_seconds = time.perf_counter() - started
    out.write_text(
        json.dumps(
            {
                "scan_seconds": scan_seconds,
                "reference_seconds": reference_seconds,
                "rows": [[str(row[0]), *row[1:]] for row in rows],
            }
        )
    )


def _versions() -> str:
    return ", ".join(f"{name} {version(name)}" for name in ("dbt-core", "dbt-duckdb", "duckdb"))


def _timed_dbt(
    args: list[str], work_dir: Path, raw: Path, warehouse: Path, target: str
) -> tuple[float, float, bool]:
    """Run dbt; its seconds, the peak MB of the process tree, and whether every node passed."""
    monitor = PeakMemory()
    started = time.perf_counter()
    monitor.watch(psutil.Process().pid, *_server_pids(target))
    result = run_dbt(
        args,
        raw_dir=raw,
        duckdb_path=warehouse,
        work_dir=work_dir,
        target=target,
        env={"SPARK_LOCAL_IP": "127.0.0.1"},
    )
    seconds = time.perf_counter() - started
    monitor.stop()
    return round(seconds, 1), round(monitor.peak_bytes / 2**20), result.returncode == 0


def _run_reference(work_dir: Path, transactions: Path) -> tuple[float, float, float, list[list[object]]]:
    """The reference query in a process of its own: seconds, plain-scan seconds, peak MB, rows."""
    out = work_dir / "reference.json"
    monitor = PeakMemory()
    threads = os.environ.get("LOYALTY_DUCKDB_THREADS", "2")
    command = [sys.executable, "-m", "loyalty_kpi.bench", str(transactions), str(out), threads]
    process = subprocess.Popen(command)
    monitor.watch(process.pid)
    process.wait()
    monitor.stop()
    figures = json.loads(out.read_text())
    return (
        round(figures["reference_seconds"], 1),
        round(figures["scan_seconds"], 1),
        round(monitor.peak_bytes / 2**20),
        figures["rows"],
    )


def _base_flow_of(warehouse: Path) -> list[list[object]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select month_start, start_active, end_active, new_active, reactivated, churned "
            "from marts.member_base_flow_monthly order by month_start"
        ).fetchall()
    return [[str(row[0]), *row[1:]] for row in rows]


class GeneratedDataMismatch(ValueError):
    """--reuse-generated found no data generated by the benchmark with the same parameters."""


def _generated_data(generated: Path, scale: str, end_date: date, reuse: bool) -> float | None:
    """Generate the data of `scale` into `generated` and return the seconds it took; with `reuse`, keep
    what an earlier run generated there with the same parameters (its marker file says which) and return
    None (not timed)."""
    parameters = f"scale={scale}; members={SCALES[scale]}; months=36; seed=7; end_date={end_date}\n"
    marker = generated / GENERATED_MARKER
    if reuse:
        found = marker.read_text() if marker.exists() else "no marker file"
        if found != parameters:
            raise GeneratedDataMismatch(
                f"--reuse-generated: {generated} does not hold the benchmark's data for {parameters.strip()} "
                f"({marker.name}: {found.strip()}); run without --reuse-generated to generate it."
            )
        return None
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    generate(generated, members=SCALES[scale], months=36, seed=7, end_date=end_date, progress=True)
    marker.write_text(parameters)
    return time.perf_counter() - started


def run_benchmark(
    scale: str,
    work_dir: Path,
    target: str = "duckdb",
    *,
    reuse_generated: bool = False,
    one_file_per_table: bool = False,
) -> BenchResult:
    """Generate `scale` data into work_dir/generated (or, `reuse_generated`, keep an earlier run's), build
    it on `target` (a fresh warehouse.duckdb in work_dir on DuckDB; PostgreSQL's raw tables loaded first,
    timed apart), measure. On DuckDB the full build sees the data up to the day before the end
    (work_dir/raw: a directory per table, its first file; `one_file_per_table`: one file per table), then
    the last day is delivered (a new file per table; or appended to the one file) and the incremental build
    (as the nightly Dagster job runs it: without the dbt unit tests) and the reference query are timed on
    the final files — unless the full build failed: an increment on a partial warehouse would build the
    failed models whole, so the run stops there with the full build's profile."""
    members = SCALES[scale]
    generated, raw = work_dir / "generated", work_dir / "raw"
    end_date = date(2026, 10, 31)
    generate_seconds = _generated_data(generated, scale, end_date, reuse_generated)
    incremental = target == "duckdb"
    if incremental:
        shutil.rmtree(raw, ignore_errors=True)  # an earlier run's files, perhaps in the other layout
        deliveries.deliver_until(
            generated, raw, end_date - timedelta(days=1), file_per_delivery=not one_file_per_table
        )
    else:
        raw = generated
    transactions = (
        raw / "transactions" / "*.parquet"
        if (raw / "transactions").is_dir()
        else raw / "transactions.parquet"
    )

    load_seconds = None
    if target == "postgres":
        from loyalty_kpi.load_postgres import load_raw

        started = time.perf_counter()
        load_raw(raw)
        load_seconds = round(time.perf_counter() - started, 1)
    warehouse = work_dir / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    # off DuckDB the CLV marts follow the CLV step (`clv-fit`; its cost: loyalty_kpi.clv_bench), as before
    # when they were DuckDB-only models
    build_args = ["build"] if target == "duckdb" else ["build", "--exclude", "source:clv_step+"]
    build_seconds, build_peak, build_ok = _timed_dbt(build_args, work_dir, raw, warehouse, target)
    full_timings, incremental_timings = node_timings(work_dir), {}
    slowest = _slowest_nodes(full_timings)
    figures: dict[str, object] = {}
    if incremental and build_ok:
        deliveries.deliver_day(generated, raw, end_date)
        seconds, peak, ok = _timed_dbt([*build_args, *WITHOUT_UNIT_TESTS], work_dir, raw, warehouse, target)
        incremental_timings = node_timings(work_dir)
        reference_seconds, scan_seconds, reference_peak, reference_rows = _run_reference(
            work_dir, transactions
        )
        figures = {
            "incremental_seconds": seconds,
            "incremental_peak_rss_mb": peak,
            "incremental_ok": ok,
            "incremental_slowest_nodes": _slowest_nodes(incremental_timings),
            "reference_seconds": reference_seconds,
            "reference_peak_rss_mb": reference_peak,
            "scan_seconds": scan_seconds,
            "reference_agrees": ok and reference_rows == _base_flow_of(warehouse),
        }
    ran_at = datetime.now(UTC)
    profile = PROFILES / f"{ran_at:%Y-%m-%dT%H%M}-{scale}-{target}.csv"
    write_profile(profile, full_timings, incremental_timings)
    return BenchResult(
        scale=scale,
        members=members,
        transactions=_count_rows(transactions),
        generate_seconds=None if generate_seconds is None else round(generate_seconds, 1),
        build_seconds=build_seconds,
        build_peak_rss_mb=build_peak,
        dbt_nodes_ok=build_ok,
        machine=_machine() + ("; raw: one file per table" if incremental and one_file_per_table else ""),
        ran_at=ran_at.strftime("%Y-%m-%d %H:%M UTC"),
        profile=str(profile.relative_to(RESULTS.parent)),
        target=target,
        load_seconds=load_seconds,
        slowest_nodes=slowest,
        versions=_versions(),
        **figures,  # type: ignore[arg-type]
    )


def _ratio(numerator: float | None, denominator: float | None, percent: bool = False) -> str:
    if numerator is None or not denominator:
        return ""
    return f"{100 * numerator / denominator:.1f} %" if percent else f"{numerator / denominator:.2f}x"


def _gb(megabytes: float | None) -> str:
    return "" if megabytes is None else f"{megabytes / 1024:.1f}"


def record(result: BenchResult) -> None:
    """Add the run to benchmarks/results.jsonl and rewrite benchmarks/results.md from all runs."""
    RESULTS.parent.mkdir(exist_ok=True)
    with HISTORY.open("a") as out:
        out.write(json.dumps(asdict(result)) + "\n")
    write_results()


def write_results() -> None:
    """Rewrite benchmarks/results.md from every run of benchmarks/results.jsonl."""
    known = {field.name for field in fields(BenchResult)}
    runs = [
        BenchResult(**{k: v for k, v in json.loads(line).items() if k in known})
        for line in HISTORY.read_text().splitlines()
        if line.strip()
    ]
    lines = [
        "# Benchmark results\n",
        "Written by `make bench SCALE=… BENCH_TARGET=…` (`loyalty_kpi/bench.py`) from `results.jsonl`.",
        "The generator timed alone: [generator.md](generator.md).\n",
        "## Full build, incremental day and reference query (DuckDB)\n",
        "Full = `dbt build` of every seed, model, snapshot, unit and data test into a fresh warehouse,",
        "on the generated data up to the day before its end; incremental = the next `dbt build` after",
        "that last day is appended to the raw files; reference = one hand-written DuckDB query of the",
        "monthly base flow (S, E, N, R, C, 90-day window) on the final transactions file, in a process of",
        "its own, same run (`agrees`: its counts equal `member_base_flow_monthly`'s); scan = `count(*),",
        "sum(amount)` of that file. Targets (issue 6): full ≤ 2 x reference, incremental < 5 % of full,",
        "peak < 8 GB. Peak = summed RSS of the process tree, sampled every 0.2 s (the higher of the full",
        "and the incremental build).\n",
        "| ran at | scale | transactions | full s | incremental s | reference s | scan s | full / reference "
        "| incremental / full | peak GB | reference peak GB | agrees | slowest nodes (full; incremental) "
        "| versions | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.incremental_seconds is None:
            continue
        peak = max(run.build_peak_rss_mb, run.incremental_peak_rss_mb or 0)
        lines.append(
            f"| {run.ran_at} | {run.scale} | {run.transactions:,} | {run.build_seconds} | "
            f"{run.incremental_seconds} | {run.reference_seconds} | {run.scan_seconds} | "
            f"{_ratio(run.build_seconds, run.reference_seconds)} | "
            f"{_ratio(run.incremental_seconds, run.build_seconds, percent=True)} | {_gb(peak)} | "
            f"{_gb(run.reference_peak_rss_mb)} | {run.reference_agrees} | {run.slowest_nodes}; "
            f"{run.incremental_slowest_nodes} | {run.versions} | {run.machine} |"
        )
    lines += [
        "\n## Every run\n",
        "Build = full `dbt build`: on DuckDB into a fresh warehouse, on PostgreSQL after loading the raw",
        "files (`load s`, COPY), on Spark from the files in place. Peak memory = summed RSS of the process",
        "tree (Python, dbt, DuckDB or the Spark session's JVM) plus the local PostgreSQL or Spark Thrift",
        "cluster's processes, sampled every 0.2 s. Every node: each dbt node's seconds and status in the",
        "full (and incremental) build, from run_results.json (runs from 2026-12-06 on).\n",
        "| ran at | target | scale | members | transactions | generate s | load s | build s | peak RSS MB "
        "| build ok | slowest nodes | every node | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        load = "" if run.load_seconds is None else run.load_seconds
        generated = "reused" if run.generate_seconds is None else run.generate_seconds
        lines.append(
            f"| {run.ran_at} | {run.target} | {run.scale} | {run.members:,} | {run.transactions:,} | "
            f"{generated} | {load} | {run.build_seconds} | {run.build_peak_rss_mb:,} | "
            f"{run.dbt_nodes_ok} | {run.slowest_nodes} | {f'[csv]({run.profile})' if run.profile else ''} | "
            f"{run.machine} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    # the reference query's own process (_run_reference): transactions file, output file, threads
    reference_query(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
