"""Documentation for BI readers: every mart and mart column described, exposures complete, `make docs`.

The published marts are what BI users read, so the docs site must describe each of them and each of their
columns; the contracts (enforced on every mart) make the declared columns the real ones, so a described
declaration is a described column. The manifest is the one pytest_configure parsed for Dagster.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from loyalty_kpi.paths import PROJECT_DIR
from tests.python.support import Build

REPORT_MARTS = {
    "kpi_monthly",
    "member_base_flow_monthly",
    "tier_distribution_monthly",
    "tier_migration_monthly",
    "cohort_retention_monthly",
    "points_monthly",
    "points_earned_by_source_monthly",
    "survey_monthly",
    "acquisition_monthly",
    "members",
}


@cache
def manifest() -> dict[str, Any]:
    from orchestration.project import loyalty_project

    loaded: dict[str, Any] = json.loads(Path(loyalty_project.manifest_path).read_text())
    return loaded


def marts() -> dict[str, dict[str, Any]]:
    """The enabled models under models/marts, by name."""
    return {
        node["name"]: node
        for node in manifest()["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
    }


def test_every_mart_and_every_mart_column_is_described() -> None:
    found = marts()
    assert {"kpi_monthly", "member_base_flow_monthly", "members", "time_spine_daily"} <= set(found)
    missing = []
    for name, node in sorted(found.items()):
        assert node["config"]["contract"]["enforced"], f"{name}: contract not enforced (columns unchecked)"
        if not node["description"].strip():
            missing.append(name)
        assert node["columns"], f"{name} declares no column"
        missing += [
            f"{name}.{column}" for column, spec in node["columns"].items() if not spec["description"].strip()
        ]
    assert not missing, f"marts or mart columns without a description: {missing}"


def test_semantic_layer_and_exposures_are_described() -> None:
    loaded = manifest()
    resources = [
        *loaded["semantic_models"].values(),
        *loaded["metrics"].values(),
        *loaded["exposures"].values(),
    ]
    assert resources
    assert not [resource["name"] for resource in resources if not resource["description"].strip()]
    for semantic_model in loaded["semantic_models"].values():
        items = [*semantic_model["measures"], *semantic_model["dimensions"], *semantic_model["entities"]]
        undescribed = [item["name"] for item in items if not (item.get("description") or "").strip()]
        assert not undescribed, f"{semantic_model['name']}: {undescribed}"


def _exposure(name: str) -> dict[str, Any]:
    exposures = {exposure["name"]: exposure for exposure in manifest()["exposures"].values()}
    assert name in exposures, f"no exposure {name}"
    return exposures[name]


def _depends_on(name: str) -> set[str]:
    return {node_id.split(".")[-1] for node_id in _exposure(name)["depends_on"]["nodes"]}


def test_bi_exposures_cover_every_mart_and_the_report_its_marts() -> None:
    bi = _depends_on("bi_tools")
    assert bi == set(marts()), f"not in the BI exposures: {set(marts()) - bi}; not marts: {bi - set(marts())}"
    assert _depends_on("kpi_report") == REPORT_MARTS
    for name in ("kpi_report", "bi_tools"):
        assert _exposure(name)["owner"].get("name") or _exposure(name)["owner"].get("email"), name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_make_docs_generates_and_serves_the_site_on_localhost(
    built: Build, generated_raw: Path, tmp_path: Path
) -> None:
    """`make docs` on a built warehouse: the catalog has the marts' columns, the site answers on 127.0.0.1.

    (Generating compiles the project, so the on-run-start hook reads the raw files again.)
    """
    port = _free_port()
    env = {
        **os.environ,
        "LOYALTY_RAW_DIR": str(generated_raw),
        "LOYALTY_DUCKDB_PATH": str(built.warehouse),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_DOCS_PORT": str(port),
    }
    # -o: the environment is there already (make install would sync it)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/bin/.installed", "docs"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=(tmp_path / "make_docs.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 400
        index = None
        while index is None and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "make_docs.log").read_text()[-3000:]
            time.sleep(1)
            index = _get(f"http://127.0.0.1:{port}/index.html")
        assert index is not None, (tmp_path / "make_docs.log").read_text()[-3000:]
        assert b"dbt" in index.lower()
        catalog = json.loads(_get(f"http://127.0.0.1:{port}/catalog.json") or b"{}")
        columns = catalog["nodes"]["model.loyalty_kpi.kpi_monthly"]["columns"]
        assert {"crr_pct", "churn_rate_pct", "active_members"} <= set(columns)
        served = json.loads(_get(f"http://127.0.0.1:{port}/manifest.json") or b"{}")
        assert "exposure.loyalty_kpi.kpi_report" in served["exposures"]
        assert "metric.loyalty_kpi.crr_pct" in served["metrics"]
        with socket.socket() as sock:  # bound to loopback only
            assert sock.connect_ex((_non_loopback_address(), port)) != 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: make and dbt docs serve slow to stop
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _non_loopback_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent
            address: str = sock.getsockname()[0]
        except OSError:
            pytest.skip("no non-loopback address to check against")
    if address.startswith("127."):
        pytest.skip("no non-loopback address to check against")
    return address
