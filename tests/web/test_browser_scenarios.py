"""The transport scenarios page in headless Chromium (issue 15): a stored bridge scenario drawn
over the OSM basemap (attribution shown), compared for primary schools: one ward shape per
table row coloured by the change, the legend, no console error, nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.engine import Engine

from basemaps.fetch import load_road_layer
from gis_service.accounts import create_user
from routing.scenario_store import add_edits, create_scenario
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, Watch, require_chromium, serve
from tests.support.scenarios import bridge_edit
from tests.support.web import PASSWORD


@pytest.fixture
def site(demo_copy: Engine) -> Iterator[LiveServer]:
    create_user(demo_copy, "quy_hoach", PASSWORD, "planner")
    create_scenario(demo_copy, "cau-moi", "một cây cầu mới")
    add_edits(demo_copy, "cau-moi", [bridge_edit(load_road_layer(demo_copy))])
    yield from serve(demo_copy)


def test_the_scenario_map_and_ward_table(site: LiveServer) -> None:
    require_chromium()
    watch = Watch()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        tab.on("request", lambda r: None if r.url.startswith(site.url)
               else watch.offsite_requests.append(r.url))
        # tiles the map stops wanting when it zooms to the wards are cancelled by the
        # browser (net::ERR_ABORTED): not a failure of the page
        tab.on("requestfailed", lambda r: None if r.failure == "net::ERR_ABORTED"
               else watch.failed_requests.append(r.url))
        tab.goto(f"{site.url}/login?next=/planner&lang=vi")
        tab.fill("input[name=username]", "quy_hoach")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("form.login button[type=submit]")
        tab.wait_for_load_state("load")  # a click before the planner's map script loads aborts it
        tab.click("a.scenarios-link")
        expect(tab.locator("h1")).to_have_text("Kịch bản giao thông (giả định)", timeout=60_000)
        tab.wait_for_load_state("load")
        tab.click("table.scen-list a")
        expect(tab.locator("#scen-map")).to_have_attribute("data-edit-count", "1")
        tab.wait_for_load_state("load")
        tab.click("form.scen-compare button[type=submit]")
        rows = tab.locator("table.scen-wards tbody tr[data-ward]")
        expect(rows.first).to_be_visible(timeout=90_000)
        expect(tab.locator("#scen-map")).to_have_attribute("data-ward-count", str(rows.count()))
        expect(tab.locator("path.scen-ward")).to_have_count(rows.count())
        expect(tab.locator("path.scen-edit")).to_have_count(1)
        expect(tab.locator(".legend")).to_contain_text("Thay đổi (giây)")
        expect(tab.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
        tab.screenshot(path="/tmp/edugis-scenarios-vi.png", full_page=True)
        browser.close()
    watch.check()
