"""The parents' finder in headless Chromium, desktop (1366×900) and phone (390×844): the zoned
school always listed, the grade-10 score box and chance band, late answers never drawn over
newer ones, and the phone layout (issue 13, items 1, 2, 3 and 5).

Each test fails on any console error, failed request, or request to a host other than
127.0.0.1. Screenshots go to /tmp/edugis-finder-*.png.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect
from sqlalchemy.engine import Engine

from tests.support.browser import LiveServer, Watch

DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def _open(browser: Browser, viewport: ViewportSize, phone: bool = False) -> tuple[Page, Watch]:
    context = browser.new_context(viewport=viewport, locale="vi-VN", is_mobile=phone, has_touch=phone)
    tab = context.new_page()
    watch = Watch()
    tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    tab.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
           else watch.offsite_requests.append(r.url))
    tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
    tab.on("response", lambda r: watch.failed_requests.append(f"{r.status} {r.url}")
           if r.status >= 400 else None)
    return tab, watch


@pytest.fixture
def desktop(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    tab, watch = _open(browser, DESKTOP)
    yield tab, watch
    tab.context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    tab, watch = _open(browser, PHONE, phone=True)
    yield tab, watch
    tab.context.close()


def _get(live: LiveServer, path: str, **params: Any) -> Any:
    with urllib.request.urlopen(f"{live.url}{path}?{urllib.parse.urlencode(params)}") as answer:
        return json.load(answer)


def _far_zoned_home(live: LiveServer, demo_engine: Engine) -> tuple[float, float, dict[str, Any], list[str]]:
    """A ward's inner point whose zoned primary school is not among its five nearest by road."""
    with demo_engine.connect() as conn:
        wards = conn.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM admin_units"
            " WHERE level = 'ward' AND valid_to IS NULL ORDER BY code) w")).all()
    for lon, lat in wards:
        zoned = _get(live, "/api/catchment", lon=lon, lat=lat, level="primary")["features"]
        nearest = [s["code"] for s in _get(live, "/api/nearest", lon=lon, lat=lat, level="primary",
                                           k=5)["schools"]]
        far = [f for f in zoned if f["id"] not in nearest]
        if far:
            return float(lon), float(lat), far[0]["properties"], nearest
    raise AssertionError("the demo city has no home whose zoned school is beyond the nearest five")


def test_zoned_school_is_listed_with_time_and_route_even_when_not_nearest(
        live: LiveServer, desktop: tuple[Page, Watch], demo_engine: Engine) -> None:
    tab, watch = desktop
    lon, lat, zoned, nearest = _far_zoned_home(live, demo_engine)
    code = zoned["school_code"]
    route = _get(live, "/api/route", lon=lon, lat=lat, school=code, mode="motorbike")
    tab.goto(f"{live.url}/finder?lon={lon:.6f}&lat={lat:.6f}&level=primary&mode=motorbike")
    expect(tab.locator("#results li")).to_have_count(5, timeout=60_000)
    assert [tab.locator("#results li").nth(i).get_attribute("data-code") for i in range(5)] == nearest
    line = tab.locator(f"#zoned li[data-code='{code}']")
    expect(line).to_be_visible()
    expect(line.locator("a")).to_have_text(zoned["school_name"])
    expect(line.locator(".badge.zoned")).to_have_text("Trường đúng tuyến")
    minutes = max(1, round(route["properties"]["time_s"] / 60))
    expect(line.locator(".detail")).to_contain_text(f"{minutes} phút")
    expect(line.locator(".detail")).to_contain_text(f"{route['properties']['distance_m'] / 1000:.2f} km")
    line.locator("button.route").click()
    expect(tab.locator("#finder-map")).to_have_attribute("data-route", code)
    expect(tab.locator("#route-summary")).to_contain_text(zoned["school_name"])
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path="/tmp/edugis-finder-zoned.png", full_page=True)
    # zoned schools among the five are marked in the list itself
    with demo_engine.connect() as conn:
        served = set(conn.execute(sa.text("SELECT school_code FROM catchments")).scalars())
    marked = tab.locator("#results li.is-zoned")
    for i in range(marked.count()):
        assert marked.nth(i).get_attribute("data-code") in served

    # in English, and with the private filter on, the zoned (public) school is still there
    tab.goto(f"{live.url}/finder?lon={lon:.6f}&lat={lat:.6f}&level=primary&ownership=private&lang=en")
    expect(tab.locator(f"#zoned li[data-code='{code}'] .badge")).to_have_text("Zoned school", timeout=60_000)
    expect(tab.locator(f"#zoned li[data-code='{code}'] .detail")).to_contain_text("min")
    watch.check()


def test_score_box_only_for_grade_10_and_the_band_explained_and_printed(
        live: LiveServer, desktop: tuple[Page, Watch]) -> None:
    tab, watch = desktop
    tab.goto(live.url + "/finder")
    score = tab.locator("#score")
    expect(score).to_be_hidden()
    # out of the tab order: from the address field, Tab goes level, mode, ownership, then Search
    tab.locator("#address").focus()
    for _ in range(4):
        tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.type") == "submit"

    tab.select_option("#level", "upper_secondary")
    expect(score).to_be_visible()
    tab.fill("#address", "duong mau doc 30")
    tab.click("#finder-form button[type=submit]")
    expect(tab.locator("#results li")).to_have_count(5, timeout=60_000)
    # above the real maximum: a plain error, nothing asked with it
    asked: list[str] = []
    tab.on("request", lambda r: asked.append(r.url) if "score=" in r.url else None)
    tab.fill("#score", "35")
    score.dispatch_event("change")
    error = tab.locator("#score-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("30")
    expect(score).to_have_attribute("aria-invalid", "true")
    assert not asked and "score=35" not in tab.url

    tab.fill("#score", "24")
    score.dispatch_event("change")
    expect(error).to_be_hidden()
    expect(tab.locator("#results")).to_have_attribute("data-outlook", "5", timeout=30_000)
    help_box = tab.locator("#band-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("80 %")  # the interval level
    expect(help_box).to_contain_text("điểm chuẩn NV1 các năm trước")
    expect(help_box).to_contain_text("không phải cam kết")
    expect(tab.locator("#results .outlook").first).to_contain_text(
        re.compile(r"Điểm chuẩn NV1 các năm trước — \d{4}: [\d.]+"))
    summary = tab.locator("#search-summary")
    expect(summary).to_contain_text("Điểm: 24")
    expect(summary).to_contain_text("Phương tiện: Xe máy")
    tab.wait_for_load_state("networkidle")

    # the print view keeps the band, its explanation, the score and the mode
    tab.emulate_media(media="print")
    expect(help_box).to_be_visible()
    expect(summary).to_be_visible()
    expect(tab.locator("#results .outlook").first).to_be_visible()
    expect(tab.locator("#finder-form")).to_be_hidden()
    tab.screenshot(path="/tmp/edugis-finder-print.png", full_page=True)
    tab.emulate_media(media="screen")

    # back to primary: the box goes, and with it the band's explanation
    tab.select_option("#level", "primary")
    expect(score).to_be_hidden()
    expect(help_box).to_be_hidden(timeout=30_000)
    watch.check()


def _hold_first(tab: Page, pattern: str, when: str) -> list[Route]:
    """Hold back the first request matching ``pattern`` whose URL contains ``when``."""
    held: list[Route] = []

    def handle(route: Route) -> None:
        if not held and when in route.request.url:
            held.append(route)
        else:
            route.continue_()

    tab.route(pattern, handle)
    return held


def test_late_answers_never_overwrite_newer_ones(live: LiveServer, desktop: tuple[Page, Watch]) -> None:
    tab, watch = desktop
    lon, lat = 106.70, 10.78
    isochrones = _hold_first(tab, "**/api/isochrone?*", "mode=walk")
    rankings = _hold_first(tab, "**/api/nearest?*", "level=primary")
    tab.goto(f"{live.url}/finder?lon={lon}&lat={lat}&level=primary&mode=walk")
    tab.wait_for_function("() => document.querySelector('#finder-map').getAttribute('aria-busy') === 'true'")
    expect(tab.locator("#finder-status")).to_have_text("Đang tìm trường…")
    expect(tab.locator("#results")).to_have_attribute("aria-busy", "true")
    assert isochrones and rankings

    # the parent changes their mind while the walking and primary answers are late
    tab.select_option("#mode", "bicycle")
    tab.select_option("#level", "lower_secondary")
    expect(tab.locator("#finder-map")).to_have_attribute("data-isochrone-mode", "bicycle", timeout=60_000)
    expect(tab.locator("#results li")).to_have_count(5, timeout=60_000)
    legend = tab.locator("#iso-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("xe đạp")
    expect(legend).to_contain_text("10 phút")
    expect(legend.locator(".swatch")).to_have_count(3)
    expect(tab.locator("#results")).to_have_attribute("aria-busy", "false")

    # now the late answers arrive: they are dropped
    with tab.expect_response(lambda r: "/api/isochrone" in r.url and "mode=walk" in r.url,
                             timeout=60_000):
        isochrones[0].continue_()
    with tab.expect_response(lambda r: "/api/nearest" in r.url and "level=primary" in r.url):
        rankings[0].continue_()
    tab.wait_for_timeout(500)
    expect(tab.locator("#finder-map")).to_have_attribute("data-isochrone-mode", "bicycle")
    expect(tab.locator("#finder-map")).to_have_attribute("data-reaches", "1")
    expect(tab.locator("#finder-map")).to_have_attribute("data-rankings", "1")
    expect(legend).to_have_attribute("data-mode", "bicycle")
    codes = [tab.locator("#results li").nth(i).get_attribute("data-code") for i in range(5)]
    assert all(c and c.startswith("DM-THCS-") for c in codes), codes
    expect(tab.locator("#finder-status")).to_have_text("")
    tab.screenshot(path="/tmp/edugis-finder-late.png")
    watch.check()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_phone_keeps_map_and_results_in_view_and_lists_more(
        live: LiveServer, phone: tuple[Page, Watch], demo_engine: Engine, lang: str) -> None:
    tab, watch = phone
    en = lang == "en"
    tab.goto(live.url + "/finder" + ("?lang=en" if en else ""))
    tab.fill("#address", "duong mau doc 3")  # one street, many sections: many suggestions
    tab.click("#finder-form button[type=submit]")
    expect(tab.locator("#results li")).to_have_count(5, timeout=60_000)
    # the suggestions fold under the chosen one, which is shown; the map and list are in view
    expect(tab.locator("#places")).to_be_hidden()
    chosen = tab.locator("#chosen-label")
    expect(chosen).to_be_visible()
    expect(chosen).to_contain_text("Đường Mẫu Dọc 3")
    map_box = tab.locator("#finder-map").bounding_box()
    assert map_box is not None and map_box["y"] + 120 < PHONE["height"]
    first = tab.locator("#results li").first.bounding_box()
    assert first is not None and first["y"] - map_box["y"] < PHONE["height"], (map_box, first)
    tab.screenshot(path=f"/tmp/edugis-finder-phone-{lang}.png")
    other = tab.locator("#other-places")
    other.click()
    expect(tab.locator("#places")).to_be_visible()
    expect(other).to_have_attribute("aria-expanded", "true")
    assert tab.locator("#places button").count() > 1
    tab.locator("#places button").nth(1).click()
    expect(tab.locator("#places")).to_be_hidden()
    expect(tab.locator("#finder-map")).to_have_attribute("data-rankings", "2", timeout=30_000)

    # more than five on request
    more = tab.locator("#more")
    expect(more).to_have_text("Show more" if en else "Xem thêm")
    more.click()
    expect(tab.locator("#results li")).to_have_count(10)

    # public / private
    with demo_engine.connect() as conn:
        private = set(conn.execute(sa.text("SELECT code FROM schools WHERE ownership = 'private'"
                                           " AND level = 'primary'")).scalars())
    tab.select_option("#ownership", "private")
    expect(tab.locator("#finder-map")).to_have_attribute("data-rankings", "3", timeout=30_000)
    expect(tab.locator("#results li")).to_have_count(5)
    codes = {tab.locator("#results li").nth(i).get_attribute("data-code") for i in range(5)}
    assert codes <= private, codes - private
    assert "ownership=private" in tab.url

    # an unknown address: what to try, not a dash
    tab.fill("#address", "qqxq zzkw")
    tab.click("#finder-form button[type=submit]")
    message = tab.locator("#places-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Try" if en else "Hãy thử")
    expect(message).to_contain_text("map" if en else "bản đồ")
    expect(tab.locator("#places li")).to_have_count(0)
    tab.wait_for_load_state("networkidle")
    watch.check()
