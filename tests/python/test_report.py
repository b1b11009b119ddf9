"""The HTML KPI report: tiles equal the published marts, no-data panels, the incomplete month, size, and a
real browser (headless Chromium through Playwright) rendering every chart without a console error."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from plotly.offline import get_plotlyjs

from loyalty_kpi.paths import PROJECT_DIR
from loyalty_kpi.publish import PUBLISHED_FILE, publish
from loyalty_kpi.report import render, write_report
from tests.python.support import Build

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = PROJECT_DIR / "docs" / "report_screenshot.png"
MAX_BYTES = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def published(built: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("published")
    publish(built.warehouse, target)
    return target


@pytest.fixture(scope="module")
def example_published(worked_example_built: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("published_example")
    publish(worked_example_built.warehouse, target)
    return target


def query(publish_dir: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(publish_dir / PUBLISHED_FILE), read_only=True) as con:
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def seed_directions() -> dict[str, str]:
    with (PROJECT_DIR / "seeds" / "kpi_definitions.csv").open(newline="") as handle:
        return {row["name"]: row["direction"] for row in csv.DictReader(handle)}


def number(value: Any) -> float | None:
    return None if value is None else float(value)


def expected_tiles(publish_dir: Path) -> dict[str, tuple[float | None, float | None]]:
    """(last complete month, month before) of every tile KPI, straight from the marts."""
    last, previous = query(
        publish_dir,
        "select * from marts.kpi_monthly where is_complete_month order by month_start desc limit 2",
    )
    expected = {
        kpi: (number(last[kpi]), number(previous[kpi]))
        for kpi in last
        if kpi not in ("month_start", "is_complete_month")
    }
    clv = query(
        publish_dir, "select predicted_clv from marts.member_clv_predicted where predicted_clv is not null"
    )
    expected["mean_predicted_clv"] = (sum(row["predicted_clv"] for row in clv) / len(clv), None)
    return expected


def test_tiles_equal_the_marts_values(published: Path) -> None:
    rendered = render(published)
    expected = expected_tiles(published)
    directions = seed_directions()
    months = query(published, "select month_start, is_complete_month from marts.kpi_monthly")
    assert rendered.headline_month == max(row["month_start"] for row in months if row["is_complete_month"])
    names = [tile.kpi for tile in rendered.tiles]
    assert {"crr_pct", "churn_rate_pct", "active_members", "aov", "clv_formula", "nps"} <= set(names)
    assert "mean_predicted_clv" in names
    for tile in rendered.tiles:
        value, previous = expected[tile.kpi]
        assert tile.value == pytest.approx(value), tile.kpi
        assert tile.previous == pytest.approx(previous), tile.kpi
        assert tile.missing_table is None
        if tile.kpi in directions and value is not None and previous is not None and value != previous:
            improved = (value > previous) == (directions[tile.kpi] == "higher")
            assert tile.verdict == ("better" if improved else "worse"), tile.kpi


def test_report_is_self_contained_small_and_titled_from_the_seed(published: Path, tmp_path: Path) -> None:
    report = write_report(published, tmp_path / "report.html")
    page = report.path.read_text(encoding="utf-8")
    assert report.size_bytes == report.path.stat().st_size < MAX_BYTES
    assert page.count(get_plotlyjs()) == 1, "plotly.js must be inlined exactly once"
    rest = page.replace(get_plotlyjs(), "")
    assert (
        "plotly.js v" not in rest and "src=" not in rest and "http://" not in rest and "https://" not in rest
    )
    for name in ("crr_pct", "churn_rate_pct", "enrolled_members", "active_members", "nps", "cac"):
        with (PROJECT_DIR / "seeds" / "kpi_definitions.csv").open(newline="") as handle:
            row = next(row for row in csv.DictReader(handle) if row["name"] == name)
        assert f"<dt>{row['label']}</dt>" in page, name
    assert 'class="no-data"' not in page, "every optional table is in the generated data"
    assert page.count('class="plotly-graph-div"') == page.count('<section class="chart"')


def test_incomplete_month_is_marked(published: Path) -> None:
    rendered = render(published)
    incomplete = query(published, "select month_start from marts.kpi_monthly where not is_complete_month")
    assert [row["month_start"] for row in incomplete] == [rendered.incomplete_month]
    assert rendered.incomplete_month is not None and rendered.as_of is not None
    month = f"{rendered.incomplete_month:%Y-%m}"
    assert f'data-month="{month}"' in rendered.page
    assert f"{rendered.as_of:%Y-%m}" == month
    assert (
        rendered.page.count(f"incomplete month (to {rendered.as_of})") >= 5
    )  # the shaded month of each time chart


def test_absent_optional_tables_show_no_data_panels(example_published: Path) -> None:
    rendered = render(example_published)
    page = rendered.page
    absent = {"points": "point_events", "survey": "survey_responses", "cac": "marketing_spend"}
    for section, table in absent.items():
        start = page.index(f'id="section-{section}"')
        panel = page[start : page.index("</section>", start)]
        assert f'data-missing-table="{table}"' in panel, section
        assert "plotly-graph-div" not in panel, section
    missing = {tile.kpi: tile.missing_table for tile in rendered.tiles}
    assert missing["nps"] == "survey_responses" and missing["redemption_rate_pct"] == "point_events"
    assert missing["crr_pct"] is None
    assert "mean_predicted_clv" not in missing  # too few members for a CLV fit: no tile


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make chromium)")
def test_report_renders_in_a_real_browser(published: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    report = write_report(published, tmp_path / "report.html")
    expected = expected_tiles(published)
    errors: list[str] = []
    remote: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "request",
            lambda request: (
                None if request.url.startswith(("file://", "data:")) else remote.append(request.url)
            ),
        )
        page.goto(report.path.as_uri(), wait_until="load")
        charts = page.locator(".plotly-graph-div")
        sections = page.locator("section.chart").count()
        assert charts.count() == sections > 0
        page.wait_for_function(
            "() => [...document.querySelectorAll('.plotly-graph-div')]"
            ".every(div => div.querySelector('.main-svg'))",
            timeout=30_000,
        )
        for i in range(charts.count()):
            assert charts.nth(i).locator(".main-svg").count() > 0, charts.nth(i).get_attribute("id")
        tiles = page.locator(".tile[data-value]")
        assert tiles.count() >= 9
        for i in range(tiles.count()):
            tile = tiles.nth(i)
            kpi = tile.get_attribute("data-kpi")
            assert float(tile.get_attribute("data-value")) == pytest.approx(expected[kpi][0]), kpi
            shown = tile.locator(".value").inner_text().replace(",", "").rstrip("%")
            assert float(shown) == pytest.approx(expected[kpi][0], abs=0.051), kpi
        assert page.locator("#incomplete-month").is_visible()
        retention = page.locator("#chart-retention")
        assert "incomplete month" in (retention.locator(".annotation-text").first.text_content() or "")
        assert retention.locator(".shapelayer path").count() >= 1
        screenshot = tmp_path / "report_screenshot.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert not errors, errors
    assert not remote, f"the report must open offline, it requested {remote}"
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        shutil.copyfile(screenshot, SCREENSHOT)
