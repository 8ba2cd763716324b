"""The public journey in headless Chromium: map, filters, list view, school page, finder.

Each test fails on any console error, failed request, or request to a host other than
127.0.0.1. Screenshots go to /tmp/edugis-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, Watch, require_chromium, serve


@pytest.fixture(scope="module")
def live(demo_engine: Engine) -> Iterator[LiveServer]:
    yield from serve(demo_engine)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="vi-VN")
    tab = context.new_page()
    watch = Watch()
    tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    tab.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
           else watch.offsite_requests.append(r.url))
    tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
    tab.on("response", lambda r: watch.failed_requests.append(f"{r.status} {r.url}")
           if r.status >= 400 else None)
    yield tab, watch
    context.close()


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_map_filters_and_opens_a_school(live: LiveServer, page: tuple[Page, Watch],
                                        demo_engine: Engine) -> None:
    tab, watch = page
    tab.goto(live.url + "/")
    total = _count(demo_engine, "SELECT count(*) FROM schools")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(total))
    expect(tab.locator(".leaflet-marker-icon").first).to_be_visible()
    tab.wait_for_load_state("networkidle")
    expect(tab.locator("canvas.leaflet-tile").first).to_be_attached()  # vector base map drawn
    tab.screenshot(path="/tmp/edugis-map.png")

    upper = _count(demo_engine, "SELECT count(*) FROM schools WHERE level = 'upper_secondary'")
    tab.select_option("select[name=level]", "upper_secondary")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(upper))
    expect(tab.locator("#count")).to_have_text(str(upper))
    assert "level=upper_secondary" in tab.url

    tab.fill("input[name=q]", "thpt mau 37")  # no diacritics
    tab.click("#filters button[type=submit]")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", "1")
    marker = tab.locator(".leaflet-marker-icon").first
    marker.click()
    link = tab.locator(".leaflet-popup a.popup-link")
    expect(link).to_have_text("Trường THPT Mẫu 37")
    # the popup pans the map into view: click once Leaflet's pan/zoom animation is over
    tab.wait_for_function("() => !document.querySelector('.leaflet-pan-anim, .leaflet-zoom-anim')")
    tab.wait_for_timeout(300)
    with tab.expect_navigation(url=re.compile(r"/schools/DM-THPT-037$")):
        link.click()
    expect(tab.locator("h1")).to_have_text("Trường THPT Mẫu 37")
    expect(tab.locator("svg.line-chart")).to_be_visible()
    expect(tab.locator("#school-map .leaflet-marker-icon")).to_have_count(1)
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path="/tmp/edugis-school.png", full_page=True)
    watch.check()


def test_list_view_equals_the_map_and_english_toggle(live: LiveServer, page: tuple[Page, Watch],
                                                     demo_engine: Engine) -> None:
    tab, watch = page
    tab.goto(live.url + "/schools?level=primary&ownership=private")
    expected = _count(demo_engine, "SELECT count(*) FROM schools WHERE level = 'primary'"
                                   " AND ownership = 'private'")
    expect(tab.locator("table.list tbody tr")).to_have_count(expected)
    tab.locator("a.lang").click()
    expect(tab.locator("html")).to_have_attribute("lang", "en")
    expect(tab.locator("h1")).to_have_text("School list")
    expect(tab.locator("table.list tbody tr")).to_have_count(expected)
    tab.screenshot(path="/tmp/edugis-list.png")
    watch.check()


def test_finder_ranks_schools_by_road_from_a_street(live: LiveServer, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    tab.goto(live.url + "/finder")
    tab.fill("#address", "duong mau doc 30")
    tab.click("#finder-form button[type=submit]")
    expect(tab.locator("#places button").first).to_have_text(re.compile("Đường Mẫu Dọc 30"))
    expect(tab.locator("#results li")).to_have_count(5, timeout=60_000)
    expect(tab.locator("#results")).to_have_attribute("data-method", "road")
    expect(tab.locator("#results li").first).to_contain_text("km")
    expect(tab.locator("#finder-map")).to_have_attribute("data-isochrones", "3", timeout=30_000)
    expect(tab.locator("#catchment")).to_contain_text("Nhà bạn thuộc địa bàn tuyển sinh của")
    expect(tab.locator("#route-summary")).to_contain_text("km")
    first = tab.locator("#results li a").first.inner_text()
    expect(tab.locator("#finder-map")).to_have_attribute("data-route", re.compile(r"^DM-TH-"))
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path="/tmp/edugis-finder.png")

    # tick schools to compare: the link appears from two, a fifth box stays closed at four
    expect(tab.locator("#compare-link")).to_be_hidden()
    boxes = tab.locator("#results input.compare")
    boxes.nth(0).check()
    expect(tab.locator("#compare-link")).to_be_hidden()
    for i in range(1, 4):
        boxes.nth(i).check()
    expect(boxes.nth(4)).to_be_disabled()
    picked = [tab.locator("#results li a").nth(i).inner_text() for i in range(4)]
    tab.click("#compare-link")
    expect(tab.locator("h1")).to_have_text("So sánh trường")
    expect(tab.locator("#compare thead th a")).to_have_text(picked)
    expect(tab.locator("#compare-trip td").first).to_contain_text("km")
    tab.screenshot(path="/tmp/edugis-compare.png", full_page=True)
    tab.go_back()
    expect(tab.locator("#results li")).to_have_count(5, timeout=60_000)
    expect(tab.locator("#finder-map")).to_have_attribute("data-route", re.compile(r"^DM-TH-"))

    # move the pin: drag it 150 px to the left; the ranking, route and URL follow
    before = tab.url
    box = tab.locator(".leaflet-marker-draggable").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    tab.mouse.move(x, y)
    tab.mouse.down()
    for step in range(1, 11):
        tab.mouse.move(x - 15 * step, y, steps=2)
    tab.mouse.up()
    expect(tab.locator("#finder-map")).to_have_attribute("data-rankings", "2", timeout=30_000)
    expect(tab.locator("#finder-map")).to_have_attribute("data-reaches", "2", timeout=30_000)
    expect(tab.locator("#results li")).to_have_count(5)
    assert tab.url != before and "lon=" in tab.url
    moved = [tab.locator("#results li a").nth(i).inner_text() for i in range(5)]
    assert moved[0] != first or moved != [first] * 5  # answered again for the new point

    # grade 10: a score gives a chance band (a range, never a promise) under each school
    tab.select_option("#level", "upper_secondary")
    tab.fill("#score", "24")
    tab.locator("#score").dispatch_event("change")
    expect(tab.locator("#results")).to_have_attribute("data-outlook", "5", timeout=30_000)
    bands = re.compile("Khả năng cao|Có thể|Khả năng thấp")
    expect(tab.locator("#results .outlook").first).to_contain_text(bands)
    # the forecast band carries the share of such bands that held in the backtest
    expect(tab.locator("#results .outlook").first).to_contain_text(
        re.compile(r"\(80 %; kiểm định ngược: khoảng này chứa \d+ %, n = \d+\)"))
    expect(tab.locator("#results .outlook")).to_have_count(5)
    assert "score=24" in tab.url
    shared = tab.locator("#share-link").get_attribute("href")
    assert shared is not None and "level=upper_secondary" in shared
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path="/tmp/edugis-finder-grade10.png", full_page=True)

    # the shared link opens the same answer on a fresh page
    tab.goto(live.url + shared)
    expect(tab.locator("#results")).to_have_attribute("data-outlook", "5", timeout=30_000)
    expect(tab.locator("#score")).to_have_value("24")
    watch.check()


def test_school_page_shows_its_catchment(live: LiveServer, page: tuple[Page, Watch],
                                         demo_engine: Engine) -> None:
    tab, watch = page
    with demo_engine.connect() as conn:
        code, ward = conn.execute(sa.text(
            "SELECT c.school_code, w.name FROM catchments c JOIN admin_units w ON w.code = c.ward_code"
            " JOIN schools s ON s.code = c.school_code WHERE s.level = 'primary'"
            " ORDER BY c.school_code LIMIT 1")).one()
    tab.goto(live.url + f"/schools/{code}")
    expect(tab.locator("#catchment-wards")).to_contain_text(ward)
    expect(tab.locator("#school-map path.leaflet-interactive, #school-map svg path").first).to_be_attached()
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path="/tmp/edugis-school-catchment.png", full_page=True)
    watch.check()
