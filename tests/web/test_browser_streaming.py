"""The streaming page in headless Chromium (issue 15): the remainder per ward drawn on the OSM
basemap with its legend and attribution, one ward shape per table row, at 1366x900 in
Vietnamese and 390x844 in English (no sideways scroll of the page). Nothing leaves
127.0.0.1 and the console stays clean."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.engine import Engine

from gis_service.accounts import create_user
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, Watch, require_chromium, serve
from tests.support.web import PASSWORD


@pytest.fixture
def site(demo_copy: Engine) -> Iterator[LiveServer]:
    create_user(demo_copy, "phan_luong", PASSWORD, "planner")
    yield from serve(demo_copy)


def test_the_streaming_map_and_table_on_desktop_and_phone(site: LiveServer) -> None:
    require_chromium()
    watch = Watch()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for lang, width, height in (("vi", 1366, 900), ("en", 390, 844)):
            tab = browser.new_page(viewport={"width": width, "height": height})
            tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
            tab.on("request", lambda r: None if r.url.startswith(site.url)
                   else watch.offsite_requests.append(r.url))
            tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
            tab.goto(f"{site.url}/login?next=/planner&lang={lang}")
            tab.fill("input[name=username]", "phan_luong")
            tab.fill("input[name=password]", PASSWORD)
            tab.click("form.login button[type=submit]")
            tab.click("a.streaming-link")
            # the page computes on the server (a few seconds on a loaded 2-core box)
            expect(tab.locator("h1")).to_have_text(
                "Phân luồng sau lớp 9" if lang == "vi" else "Streaming after grade 9", timeout=60_000)
            tab.select_option("select[name=year]", "2028")
            tab.fill("input[name=threshold_min]", "10")
            tab.click("form.streaming-form button[type=submit]")
            rows = tab.locator("table.streaming tbody tr[data-ward]")
            expect(tab.locator("table.streaming caption")).to_contain_text("2028 · 10", timeout=60_000)
            expect(rows.first).to_be_visible()
            expect(tab.locator("#streaming-map")).to_have_attribute("data-wards", str(rows.count()))
            expect(tab.locator("path.streaming-ward")).to_have_count(rows.count())
            expect(tab.locator(".legend")).to_contain_text("Còn lại" if lang == "vi" else "Remainder")
            expect(tab.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
            expect(tab.locator("table.streaming tr.city th")).to_have_text(
                "Toàn thành phố" if lang == "vi" else "Whole city")
            assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            tab.screenshot(path=f"/tmp/edugis-streaming-{lang}.png", full_page=True)
            tab.close()
        browser.close()
    watch.check()
