"""The planners' map in headless Chromium: the stored capacity gaps drawn as a choropleth with
its legend, the proposed sites as markers, the what-if form; nothing leaves 127.0.0.1 and the
console stays clean. The stored tables are written by SQL here (the services that compute them
are tested in tests/forecasting and tests/web/test_planner.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.engine import Engine

from gis_service.accounts import create_user
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, Watch, require_chromium, serve
from tests.support.web import PASSWORD

SQUARE = "ST_Multi(ST_MakeEnvelope({x}, 10.70, {x} + 0.05, 10.75, 4326))"


@pytest.fixture
def planned_site(engine: Engine) -> Iterator[LiveServer]:
    create_user(engine, "quy_hoach", PASSWORD, "planner")
    with engine.begin() as conn:
        for i, x in enumerate((106.60, 106.65, 106.70), start=1):
            conn.execute(sa.text(
                "INSERT INTO admin_units (code, name, level, geom)"
                f" VALUES (:c, :n, 'ward', {SQUARE.format(x=x)})"),
                {"c": f"W{i}", "n": f"Phường Thử {i}"})
            conn.execute(sa.text(
                "INSERT INTO enrolment_forecasts (ward_code, level, measure, year, horizon, method,"
                " predicted, lower, upper) VALUES (:w, 'primary', 'entry', 2027, 1, 'cohort', :p,"
                " :p - 10, :p + 10)"), {"w": f"W{i}", "p": 100.0 * i})
            conn.execute(sa.text(
                "INSERT INTO capacity_gaps (ward_code, level, year, threshold_min, demand,"
                " seats_within_threshold, seats_per_child, accessible_seats, shortfall_seats,"
                " nearest_time_s) VALUES (:w, 'primary', 2027, 10, :d, 100, 1, :a, :s, 300)"),
                {"w": f"W{i}", "d": 100.0 * i, "a": 100.0, "s": 100.0 * (i - 1)})
        conn.execute(sa.text(
            "INSERT INTO proposed_sites (run_id, rank, level, model, method, ward_code, geom) VALUES"
            " ('run-1', 1, 'primary', 'p_median', 'exact', 'W3', ST_SetSRID(ST_Point(106.72, 10.72), 4326)),"
            " ('run-1', 2, 'primary', 'p_median', 'exact', 'W2', ST_SetSRID(ST_Point(106.67, 10.72), 4326))"))
    yield from serve(engine)


def test_planner_sees_gap_choropleth_and_proposed_sites(planned_site: LiveServer) -> None:
    require_chromium()
    watch = Watch()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        tab.on("request", lambda r: None if r.url.startswith(planned_site.url)
               else watch.offsite_requests.append(r.url))
        tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
        tab.goto(planned_site.url + "/login?next=/planner")
        tab.fill("input[name=username]", "quy_hoach")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("form.login button[type=submit]")
        expect(tab.locator("h1")).to_contain_text("Quy hoạch")
        expect(tab.locator("table.forecasts tbody tr")).to_have_count(3)
        expect(tab.locator("table.forecasts tbody tr").nth(2)).to_contain_text("300")
        expect(tab.locator("table.forecasts tbody tr").nth(2)).to_contain_text("290–310")
        expect(tab.locator("#planner-map")).to_have_attribute("data-gap-wards", "3")
        expect(tab.locator("path.gap-ward")).to_have_count(3)
        # the ward short of 200 seats gets the darkest class, the one without shortfall the lightest
        fills = tab.eval_on_selector_all("path.gap-ward", "els => els.map(e => e.getAttribute('fill'))")
        assert sorted(fills) == sorted(["#f7f7f7", "#fc8d59", "#d7301f"])
        expect(tab.locator(".legend")).to_contain_text("Số chỗ thiếu")
        expect(tab.locator("#planner-map")).to_have_attribute("data-sites", "2")
        expect(tab.locator("path.proposed-site")).to_have_count(2)
        expect(tab.locator("table.sites tbody tr")).to_have_count(2)
        tab.screenshot(path="/tmp/edugis-planner.png", full_page=True)
        browser.close()
    watch.check()
