"""Benchmark of the predictive-CLV step (issue 8): generate raw data for N members, build the CLV marts
and everything they need (`dbt build --select +int_clv_calibration_summary+`), and record the CLV nodes'
times and the peak memory of the process tree in benchmarks/clv_results.md.

usage: python -m loyalty_kpi.clv_bench 200k [2m …] [--work-dir DIR] [--synthetic]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psutil

from loyalty_kpi import clv
from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.paths import PROJECT_DIR

SCALES = {"200k": 200_000, "2m": 2_000_000}
RESULTS = PROJECT_DIR / "benchmarks" / "clv_results.md"
CLV_NODES = ("int_clv_calibration_summary", "int_clv_fit", "int_clv_member_predictions")
HEADER = """# Predictive CLV benchmark

Written by `python -m loyalty_kpi.clv_bench SCALE` (`loyalty_kpi/clv_bench.py`). Two kinds of run:

- **dbt**: the demo generator's data (36 months), then `dbt build --select +int_clv_calibration_summary+`
  into a fresh DuckDB warehouse (the CLV marts, everything upstream, their tests). Summary = the SQL
  calibration summary, fit = `int_clv_fit` (BG/NBD + Gamma-Gamma as of A, BG/NBD on the 26-week holdout
  calibration, importing pymc-marketing included), scoring = `int_clv_member_predictions`, as dbt timed
  them. Peak RSS = dbt's process tree, sampled every 0.2 s.
- **synthetic** (`--synthetic`): a calibration summary drawn from BG/NBD and Gamma-Gamma with the CDNOW
  parameters (the as-of calibration, plus a holdout one of 80 % of the members), then `loyalty_kpi.clv.run`
  in this process: the Python step alone, for scales the shared machine cannot build end to end in
  reasonable time. Peak RSS = this process's maximum.

Target: the CLV step under 2 minutes at 2 M members.

| ran at | run | members | transactions | generate s | build s | summary s | fit s | scoring s \
| CLV step s | peak RSS MB | ok | machine |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def _peak_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)] if p.is_running())
        except psutil.Error:
            total = 0
        peak[0] = max(peak[0], total)
        time.sleep(0.2)


def run(scale: str, work_dir: Path) -> str:
    """One benchmark row (markdown) for `scale`."""
    members = SCALES[scale]
    raw = work_dir / "raw"
    started = time.perf_counter()
    generate(raw, members=members, months=36, seed=7, end_date=date(2025, 6, 30))
    generate_seconds = time.perf_counter() - started

    warehouse = work_dir / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_rss, args=(psutil.Process().pid, stop, peak), daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = run_dbt(
        ["build", "--select", "+int_clv_calibration_summary+", "--indirect-selection", "cautious"],
        raw_dir=raw,
        duckdb_path=warehouse,
        work_dir=work_dir,
    )
    build_seconds = time.perf_counter() - started
    stop.set()
    sampler.join()

    timings = {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in json.loads((work_dir / "target" / "run_results.json").read_text())["results"]
    }
    with duckdb.connect() as con:
        row = con.execute(f"select count(*) from read_parquet('{raw / 'transactions.parquet'}')").fetchone()
    transactions_count = row[0] if row else 0
    summary, fit, scoring = (timings.get(node, float("nan")) for node in CLV_NODES)
    return (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | dbt | {members:,} | {transactions_count:,} | "
        f"{generate_seconds:.0f} | {build_seconds:.0f} | {summary:.1f} | {fit:.1f} | {scoring:.1f} | "
        f"{summary + fit + scoring:.0f} | {peak[0] / 2**20:,.0f} | {result.returncode == 0} | {_machine()} |"
    )


def synthetic_summary(members: int, seed: int = 7) -> pd.DataFrame:
    """A calibration summary drawn from BG/NBD (CDNOW's r, alpha, a, b; T uniform over 3 years, whole
    days) with Gamma-Gamma mean repeat spends (CDNOW's p, q, gamma)."""
    rng = np.random.default_rng(seed)
    t_weeks = np.floor(rng.uniform(0, 3 * 365, members)) / 7
    rate = rng.gamma(0.243, 1 / 4.414, members)
    dropout = rng.beta(0.793, 2.426, members)
    clock, recency = np.zeros(members), np.zeros(members)
    frequency = np.zeros(members, dtype=np.int64)
    alive = np.ones(members, dtype=bool)
    while alive.any():
        index = np.flatnonzero(alive)
        next_time = clock[index] + rng.exponential(1 / np.maximum(rate[index], 1e-12))
        inside = next_time <= t_weeks[index]
        alive[index[~inside]] = False
        bought = index[inside]
        clock[bought] = recency[bought] = next_time[inside]
        frequency[bought] += 1
        alive[bought[rng.random(bought.size) < dropout[bought]]] = False
    scale = rng.gamma(3.74, 1 / 15.44, members)
    repeats = np.maximum(frequency, 1)
    monetary = np.where(frequency > 0, rng.gamma(6.25 * repeats, 1 / (scale * repeats)), np.nan)
    return pd.DataFrame(
        {
            "calibration": "as_of",
            "calibration_end": pd.Timestamp("2025-06-30"),
            "member_id": np.char.add("M", np.arange(members).astype(str)),
            "frequency": frequency,
            "recency_weeks": np.floor(recency * 7) / 7,
            "t_weeks": t_weeks,
            "monetary_value": monetary,
        }
    )


def run_synthetic(scale: str) -> str:
    """One benchmark row for `loyalty_kpi.clv.run` on a synthetic summary of `scale` members."""
    members = SCALES[scale]
    started = time.perf_counter()
    as_of = synthetic_summary(members)
    holdout = synthetic_summary(int(members * 0.8), seed=8).assign(
        calibration="holdout", calibration_end=pd.Timestamp("2024-12-29")
    )
    summary = pd.concat([as_of, holdout], ignore_index=True)
    generate_seconds = time.perf_counter() - started
    settings = clv.ClvSettings()
    started = time.perf_counter()
    fit_rows = clv.fit_table(summary, settings)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predictions = clv.prediction_table(summary, fit_rows, settings)
    scoring_seconds = time.perf_counter() - started
    ok = len(predictions) == len(summary) and bool(predictions["p_alive"].between(0, 1).all())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | synthetic | {members:,} | — | "
        f"{generate_seconds:.0f} | — | — | {fit_seconds:.1f} | {scoring_seconds:.1f} | "
        f"{fit_seconds + scoring_seconds:.0f} | "
        f"{peak_mb:,.0f} | {ok} | {_machine()} |"
    )


def _machine() -> str:
    return f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scales", nargs="+", choices=sorted(SCALES))
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--synthetic", action="store_true", help="time loyalty_kpi.clv.run on synthetic data")
    args = parser.parse_args()
    for scale in args.scales:
        if args.synthetic:
            row = run_synthetic(scale)
        else:
            with tempfile.TemporaryDirectory(dir=args.work_dir) as work_dir:
                row = run(scale, Path(work_dir))
        if not RESULTS.exists():
            RESULTS.parent.mkdir(exist_ok=True)
            RESULTS.write_text(HEADER)
        with RESULTS.open("a") as out:
            out.write(row + "\n")
        print(row)


if __name__ == "__main__":
    main()
