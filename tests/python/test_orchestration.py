"""The Dagster code location: its graph, a full materialization, blocking raw checks, sensors, the
schedule, alerts, and the webserver."""

import base64
import hashlib
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest
from dagster import (
    AssetCheckSeverity,
    DagsterInstance,
    Definitions,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
)
from dagster_dbt import asset_utils

from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.paths import PROJECT_DIR
from orchestration.assets.dbt import SELECTION_ARGS_LIMIT, build_args, loyalty_dbt_assets, step_test_selection
from orchestration.checks import build_active_members_change_check
from orchestration.clv_metadata import CLV_ASSETS
from orchestration.definitions import build_definitions
from orchestration.project import loyalty_project
from orchestration.resources import AlertSender, LoyaltyWarehouse
from orchestration.sensors import alert_on_run_failure
from orchestration.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "orchestration_graph.json"
END_DATE = date(2025, 3, 31)


def graph_summary(defs: Definitions) -> dict[str, list[str]]:
    """Asset keys, checks, jobs, schedules and sensors of a code location, sorted."""
    graph = defs.resolve_asset_graph()
    return {
        "assets": sorted(key.to_user_string() for key in graph.get_all_asset_keys()),
        "asset_checks": sorted(
            f"{key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys
        ),
        "jobs": sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")),
        "schedules": sorted(schedule.name for schedule in defs.schedules or []),
        "sensors": sorted(sensor.name for sensor in defs.sensors or []),
    }


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("orchestration")
    raw = base / "raw"
    generate(raw, members=400, months=18, seed=5, end_date=END_DATE)
    return replace(
        Settings.from_env(),
        raw_dir=raw,
        duckdb_path=base / "warehouse.duckdb",
        publish_dir=base / "published",
        report_path=base / "report" / "loyalty_kpi_report.html",
        as_of_date=END_DATE.isoformat(),
    )


def test_definitions_load_and_match_the_committed_graph(settings: Settings) -> None:
    defs = build_definitions(settings)
    Definitions.validate_loadable(defs)
    summary = graph_summary(defs)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(summary, indent=2) + "\n")
    assert summary == json.loads(SNAPSHOT.read_text()), (
        "The asset graph changed: review it, then rerun with UPDATE_SNAPSHOTS=1 to accept."
    )


# What the other targets leave out of the graph, and why (DECISIONS.md): the comment sentiment is a dbt
# Python model (DuckDB only), and Spark has no snapshots (no merge on Parquet tables). The CLV fit and
# scoring, dbt Python models on DuckDB, are the CLV step's Python asset elsewhere: same keys, but their
# dbt tests (on DuckDB's models) are not checks there.
DUCKDB_ONLY_ASSETS = {"intermediate/int_survey_comment_sentiment"}
CLV_STEP_ASSETS = {"intermediate/int_clv_fit", "intermediate/int_clv_member_predictions"}
SPARK_DISABLED_ASSETS = {"snapshots/members_snapshot"}
GRAPH_OF_TARGET = """
import json
from orchestration.definitions import build_definitions
from orchestration.settings import Settings
from tests.python.test_orchestration import graph_summary
print("GRAPH " + json.dumps(graph_summary(build_definitions(Settings.from_env()))))
"""


def assert_same_graph(graph: dict[str, list[str]], target: str) -> None:
    """LOYALTY_DBT_TARGET switches the engine, not the graph: the same assets as DuckDB's committed graph
    (less what the target cannot run), job, schedule and sensors; every check of DuckDB's but those of the
    assets left out and of the CLV step's tables (which are checked through the CLV marts' tests)."""
    duckdb_graph = json.loads(SNAPSHOT.read_text())
    left_out = DUCKDB_ONLY_ASSETS | (SPARK_DISABLED_ASSETS if target.startswith("spark") else set())
    assert set(graph["assets"]) == set(duckdb_graph["assets"]) - left_out
    for kind in ("jobs", "schedules", "sensors"):
        assert graph[kind] == duckdb_graph[kind], kind
    assert set(graph["asset_checks"]) <= set(duckdb_graph["asset_checks"])
    for check in set(duckdb_graph["asset_checks"]) - set(graph["asset_checks"]):
        assert check.split(":")[0] in left_out | CLV_STEP_ASSETS, f"check missing on {target}: {check}"
    clv_marts = {key.to_user_string() for key in CLV_ASSETS}
    clv_mart_checks = [check for check in graph["asset_checks"] if check.split(":")[0] in clv_marts]
    assert len(clv_mart_checks) > 10, clv_mart_checks


def graph_line(stdout: str) -> dict[str, list[str]]:
    """The graph a GRAPH_OF_TARGET-style script printed."""
    line = next(line for line in stdout.splitlines() if line.startswith("GRAPH "))
    return json.loads(line.removeprefix("GRAPH "))


# PostgreSQL's and the Spark Thrift Server's graphs: test_orchestration_engines, whose job runs parse the
# project for those targets (one parse per target's manifest directory at a time)
@pytest.mark.parametrize("target", ["spark_session"])
def test_the_graph_is_the_same_on_spark(target: str) -> None:
    env = {**os.environ, "LOYALTY_DBT_TARGET": target, "PYTHONPATH": str(PROJECT_DIR)}
    done = subprocess.run(
        [sys.executable, "-c", GRAPH_OF_TARGET],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    assert_same_graph(graph_line(done.stdout), target)


def _table_hash(warehouse: Path, table: str) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select * from marts.{table} order by all").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def first_run(settings: Settings):
    defs = build_definitions(settings)
    result = defs.resolve_job_def("loyalty_build").execute_in_process(instance=DagsterInstance.ephemeral())
    return result


def test_the_whole_graph_materializes_and_every_check_passes(first_run, settings: Settings) -> None:
    assert first_run.success
    materialized = {
        event.asset_key.to_user_string() for event in first_run.get_asset_materialization_events()
    }
    assert {"raw/members", "raw/transactions", "marts/kpi_monthly", "marts/members"} <= materialized
    evaluations = first_run.get_asset_check_evaluations()
    assert len(evaluations) > 100
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    assert not failed


def test_marts_carry_headline_kpis(first_run) -> None:
    kpi = next(
        event
        for event in first_run.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "marts/kpi_monthly"
    )
    metadata = kpi.materialization.metadata
    assert metadata["headline_month"].value == "2025-03"
    assert "last_complete_month/crr_pct" in metadata
    assert "| month | CRR % |" in metadata["crr_and_churn_trend"].value
    chart = metadata["crr_and_churn_chart"].value
    assert chart.startswith("![CRR and churn by month](data:image/png;base64,")
    png = base64.b64decode(chart.split("base64,", 1)[1].rstrip(")"))
    assert png.startswith(b"\x89PNG")


def test_kpi_report_follows_the_publish_with_path_size_and_tiles(first_run, settings: Settings) -> None:
    report = next(
        event
        for event in first_run.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "published/kpi_report"
    )
    metadata = report.materialization.metadata
    assert metadata["path"].value == str(settings.report_path)
    assert metadata["size_bytes"].value == settings.report_path.stat().st_size > 0
    assert metadata["headline_month"].value == "2025-03"
    assert "| Customer retention rate |" in metadata["preview"].value


def test_malformed_raw_file_stops_the_run_before_any_mart_changes(
    first_run, settings: Settings, tmp_path: Path
) -> None:
    assert first_run.success
    before = _table_hash(settings.duckdb_path, "kpi_monthly")
    broken_raw = tmp_path / "raw"
    shutil.copytree(settings.raw_dir, broken_raw)
    (broken_raw / "transactions.parquet").write_bytes(b"PAR1 not really parquet")
    defs = build_definitions(replace(settings, raw_dir=broken_raw))
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("loyalty_build").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    contract = [e for e in result.get_asset_check_evaluations() if e.check_name == "matches_raw_contract"]
    failed = [e for e in contract if not e.passed]
    assert [e.asset_key.to_user_string() for e in failed] == ["raw/transactions"]
    assert "transactions.parquet' is not readable" in (failed[0].description or "")
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert not any(key.startswith(("staging/", "intermediate/", "marts/")) for key in materialized)
    assert _table_hash(settings.duckdb_path, "kpi_monthly") == before

    # the failure sensor turns the failed run into an alert naming the run and the failure
    failure_event = next(event for event in result.all_events if event.event_type_value == "PIPELINE_FAILURE")
    context = build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_event=failure_event,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"alerts": _RecordingAlerts()},
    ).for_run_failure()
    _RecordingAlerts.sent.clear()
    alert_on_run_failure(context)
    [(title, details)] = _RecordingAlerts.sent
    assert result.run_id in title
    assert details["job"] == "loyalty_build"


class _RecordingAlerts(AlertSender):
    sent: ClassVar[list[tuple[str, dict]]] = []

    def send(self, title: str, details: dict) -> None:
        _RecordingAlerts.sent.append((title, details))


def test_raw_files_sensor_requests_one_run_per_change(settings: Settings, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(settings.raw_dir, raw)
    sensor = next(
        s for s in build_definitions(replace(settings, raw_dir=raw)).sensors if s.name == "raw_files_changed"
    )

    context = build_sensor_context()
    first = sensor(context)
    assert isinstance(first, RunRequest)
    assert isinstance(sensor(context), SkipReason)  # unchanged directory: no run

    with (raw / "members.parquet").open("ab") as members:
        members.write(b"\0")  # a re-delivery changes size and modification time
    second = sensor(context)
    assert isinstance(second, RunRequest)
    assert second.run_key != first.run_key
    assert "members.parquet" in second.tags["loyalty/changed_files"]
    assert isinstance(sensor(context), SkipReason)


def test_daily_schedule_uses_the_configured_cron(settings: Settings) -> None:
    defs = build_definitions(replace(settings, schedule_cron="30 4 * * *", schedule_timezone="Europe/Paris"))
    schedule = next(iter(defs.schedules))
    assert schedule.cron_schedule == "30 4 * * *"
    assert schedule.execution_timezone == "Europe/Paris"
    assert schedule.job_name == "loyalty_build"
    requests = list(schedule.evaluate_tick(build_schedule_context()).run_requests or [])
    assert len(requests) == 1


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Recorder.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_alerts_log_and_post_to_the_webhook(caplog: pytest.LogCaptureFixture) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        AlertSender(webhook_url=url).send("run failed", {"run_id": "abc"})
        AlertSender().send("run failed without webhook", {"run_id": "def"})
    finally:
        server.shutdown()
    assert _Recorder.received == [{"title": "run failed", "run_id": "abc"}]
    assert "ALERT run failed without webhook" in caplog.text


def test_webserver_starts_answers_and_stops(settings: Settings, tmp_path: Path) -> None:
    port = 34_000 + os.getpid() % 1000
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "LOYALTY_RAW_DIR": str(settings.raw_dir),
        "LOYALTY_DUCKDB_PATH": str(settings.duckdb_path),
    }
    webserver = Path(sys.executable).with_name("dagster-webserver")
    process = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
                    status = response.status
            except OSError:
                time.sleep(1)
        assert status == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode is not None


def test_active_members_jump_is_a_warning_not_an_error(tmp_path: Path) -> None:
    warehouse_path = tmp_path / "kpi.duckdb"
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.kpi_monthly as
            select * from (values
                (date '2025-01-01', 100, true),
                (date '2025-02-01', 150, true),
                (date '2025-03-01', 20, false)
            ) as t(month_start, active_members, is_complete_month)
            """
        )
    warehouse = LoyaltyWarehouse(raw_dir=str(tmp_path), duckdb_path=str(warehouse_path))
    base = Settings.from_env()
    jump = build_active_members_change_check(replace(base, active_change_warn_pct=25))(warehouse=warehouse)
    assert not jump.passed
    assert jump.severity == AssetCheckSeverity.WARN
    assert "100 → 150 in 2025-02 (+50.0 %" in (jump.description or "")
    calm = build_active_members_change_check(replace(base, active_change_warn_pct=60))(warehouse=warehouse)
    assert calm.passed


def test_instance_config_queues_warehouse_writers_one_at_a_time(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parents[2] / "orchestration" / "dagster.yaml", tmp_path)
    config = DagsterInstance.from_config(str(tmp_path)).get_concurrency_config()
    limits = config.run_queue_config.tag_concurrency_limits
    assert {"key": "loyalty/warehouse", "value": "writer", "limit": 1} in limits
    assert config.pool_config.default_pool_limit == 1


def test_a_dbt_step_tests_exactly_its_checks(tmp_path: Path) -> None:
    """When Dagster runs part of the dbt assets (off DuckDB it splits them around the CLV step), dbt tests
    exactly the step's checks: the step of the seeds does not run the relationships test of a staging
    model on `tiers` (that model is built in a later step), and the staging model's step does."""
    assert step_test_selection(loyalty_dbt_assets, loyalty_dbt_assets.check_keys) == []  # the whole asset
    relationships = "relationships_stg_loyalty__members_tier__tier__ref_tiers_"
    for keys, expect_relationships in (
        ({"reference/tiers", "reference/rfm_segments"}, False),
        ({"staging/stg_loyalty__members"}, True),
    ):
        selected = {key for key in loyalty_dbt_assets.keys if key.to_user_string() in keys}
        checks = {check for check in loyalty_dbt_assets.check_keys if check.asset_key in selected}
        step = loyalty_dbt_assets.subset_for(selected, selected_asset_check_keys=checks)
        listed = run_dbt(
            (
                "ls",
                "--quiet",
                "--resource-type",
                "test",
                "--output",
                "name",
                "--select",
                " ".join(key.path[-1] for key in selected),
                *step_test_selection(step, checks),
            ),
            raw_dir=tmp_path,
            work_dir=tmp_path,
        )
        assert listed.returncode == 0, listed.stdout + listed.stderr
        names = {line.strip() for line in listed.stdout.splitlines() if line.strip()}
        assert names == {check.name for check in checks}, keys
        assert (relationships in names) is expect_relationships


@pytest.mark.parametrize("unit_tests", [False, True])
def test_the_job_runs_the_unit_tests_only_when_asked(tmp_path: Path, unit_tests: bool) -> None:
    """The job's dbt build leaves out the dbt unit tests (their inputs are fixtures: dbt Labs recommends
    them for development and CI, not production runs) unless LOYALTY_DBT_UNIT_TESTS=true; data tests run
    either way."""
    settings = replace(Settings.from_env(), raw_dir=tmp_path, dbt_unit_tests=unit_tests)
    warehouse = build_definitions(settings).resources["warehouse"]
    assert isinstance(warehouse, LoyaltyWarehouse) and warehouse.unit_tests is unit_tests
    args = build_args(warehouse, loyalty_dbt_assets, loyalty_dbt_assets.check_keys)
    listed = run_dbt(
        ("ls", "--quiet", "--output", "json", "--output-keys", "resource_type", *args[1:]),
        raw_dir=tmp_path,
        work_dir=tmp_path,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    types = [json.loads(line)["resource_type"] for line in listed.stdout.splitlines() if line.startswith("{")]
    assert types.count("test") > 200
    assert (types.count("unit_test") > 40) is unit_tests


def test_every_dbt_selection_stays_on_the_command_line() -> None:
    """dagster-dbt copies the whole project directory (with .venv and the warehouse) to run a selection
    longer than its threshold: ours is above every node of the project, and such a selection, every
    node's fully qualified name, fits in one command-line argument (Linux: 128 kB)."""
    manifest = json.loads(loyalty_project.manifest_path.read_text())
    nodes = [*manifest["nodes"].values(), *manifest["sources"].values(), *manifest["unit_tests"].values()]
    # the constant dagster-dbt's selection reads (an upgrade that renames it fails here)
    assert "_SELECTION_ARGS_THRESHOLD" in inspect.getsource(
        asset_utils.get_updated_cli_invocation_params_for_context
    )
    assert asset_utils._SELECTION_ARGS_THRESHOLD == SELECTION_ARGS_LIMIT > len(nodes)
    longest = " ".join(".".join(node["fqn"]) for node in nodes)
    assert len(longest.encode()) * SELECTION_ARGS_LIMIT / len(nodes) < 128 * 1024
