"""The public journey in headless Chromium: map, filters, list view, school page, finder.

Each test fails on any console error, failed request, or request to a host other than
127.0.0.1. Screenshots go to /tmp/edugis-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from tests.support.browser import LiveServer, Watch, serve


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


# ---- issue 13.6: the public pages on a desktop (1366×900) and a phone (390×844) -------------

SCREENS = {"desktop": {"viewport": {"width": 1366, "height": 900}},
           "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, Watch, str]]:
    """A Vietnamese tab on a desktop or a phone screen, watched like :func:`page`."""
    context = browser.new_context(locale="vi-VN", **SCREENS[request.param])  # type: ignore[arg-type]
    tab = context.new_page()
    watch = Watch()
    tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    tab.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
           else watch.offsite_requests.append(r.url))
    tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
    tab.on("response", lambda r: watch.failed_requests.append(f"{r.status} {r.url}")
           if r.status >= 400 else None)
    yield tab, watch, request.param
    context.close()


def _view(tab: Page) -> tuple[float, float, float, float]:
    """The map's view as (south, west, north, east), once the map has fitted its schools."""
    south, west, north, east = (float(v) for v in
                                (tab.locator("#map").get_attribute("data-view") or "").split(","))
    return south, west, north, east


def _busiest_ward(engine: Engine) -> tuple[str, list[tuple[float, float]]]:
    """The ward of today holding the most primary public schools, and their (lat, lon)."""
    with engine.connect() as conn:
        ward = conn.execute(sa.text(
            "SELECT ward_code FROM schools WHERE level = 'primary' AND ownership = 'public'"
            " GROUP BY ward_code ORDER BY count(*) DESC, ward_code LIMIT 1")).scalar_one()
        points = conn.execute(sa.text(
            "SELECT ST_Y(geom), ST_X(geom) FROM schools WHERE ward_code = :w"
            " AND level = 'primary' AND ownership = 'public'"), {"w": ward}).all()
    return ward, [(float(lat), float(lon)) for lat, lon in points]


def test_map_zooms_to_the_filtered_schools(live: LiveServer, screen: tuple[Page, Watch, str],
                                           demo_engine: Engine) -> None:
    tab, watch, name = screen
    tab.goto(live.url + "/")
    total = _count(demo_engine, "SELECT count(*) FROM schools")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(total))
    city = _view(tab)
    ward, points = _busiest_ward(demo_engine)
    tab.select_option("select[name=level]", "primary")
    tab.select_option("select[name=ownership]", "public")
    tab.select_option("select[name=ward]", ward)
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(len(points)))
    south, west, north, east = _view(tab)
    assert all(south <= lat <= north and west <= lon <= east for lat, lon in points)
    area = (north - south) * (east - west)
    city_area = (city[2] - city[0]) * (city[3] - city[1])
    assert area < city_area / 10, (area, city_area)  # tighter than the city, around the ward
    # the count and the markers are the filtered schools (clusters count their markers)
    expect(tab.locator("#count")).to_have_text(str(len(points)))
    tab.wait_for_function("""n => Array.from(document.querySelectorAll('#map .leaflet-marker-icon'))
        .reduce((k, m) => k + (m.classList.contains('marker-cluster')
                               ? parseInt(m.textContent, 10) : 1), 0) === n""", arg=len(points))
    tab.wait_for_load_state("networkidle")  # base-map tiles loaded before the page changes
    tab.screenshot(path=f"/tmp/edugis-map-filtered-{name}.png")
    # opened from a link, the map starts on the filtered schools too
    tab.goto(live.url + f"/?ward={ward}&level=primary&ownership=public")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(len(points)))
    assert _view(tab) == (south, west, north, east)
    watch.check()


def test_filters_survive_the_top_menu(live: LiveServer, screen: tuple[Page, Watch, str],
                                      demo_engine: Engine) -> None:
    tab, watch, _ = screen
    ward, points = _busiest_ward(demo_engine)
    tab.goto(live.url + "/")
    tab.select_option("select[name=level]", "primary")
    tab.select_option("select[name=ownership]", "public")
    tab.select_option("select[name=ward]", ward)
    tab.fill("input[name=q]", "tieu hoc")  # every primary school's name has "Tiểu học"
    tab.click("#filters button[type=submit]")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(len(points)))
    tab.wait_for_load_state("networkidle")  # base-map tiles loaded before the page changes

    def kept() -> None:
        expect(tab.locator("select[name=level]")).to_have_value("primary")
        expect(tab.locator("select[name=ownership]")).to_have_value("public")
        expect(tab.locator("select[name=ward]")).to_have_value(ward)
        expect(tab.locator("input[name=q]")).to_have_value("tieu hoc")

    with tab.expect_navigation(url=re.compile(r"/schools\?")):
        tab.locator("header nav #nav-list").click()
    kept()
    expect(tab.locator("table.list tbody tr")).to_have_count(len(points))
    with tab.expect_navigation(url=re.compile(r"/\?")):
        tab.locator("header nav #nav-map").click()
    kept()
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(len(points)))
    tab.wait_for_load_state("networkidle")
    # a filter changed on the list page is kept on the way back to the map
    tab.locator("header nav #nav-list").click()
    tab.select_option("select[name=ownership]", "")
    tab.click("#filters button[type=submit]")
    tab.locator("header nav #nav-map").click()
    expect(tab.locator("select[name=ownership]")).to_have_value("")
    expect(tab.locator("select[name=ward]")).to_have_value(ward)
    both = _count(demo_engine, f"SELECT count(*) FROM schools WHERE level = 'primary'"
                               f" AND ward_code = '{ward}'")
    expect(tab.locator("#map")).to_have_attribute("data-loaded", str(both))
    tab.wait_for_load_state("networkidle")
    watch.check()


def test_ward_menu_in_vietnamese_order(engine: Engine,
                                       screen: tuple[Page, Watch, str]) -> None:
    from tests.web.test_pages_wards import WARDS_IN_ORDER, add_wards

    tab, watch, _ = screen
    add_wards(engine, sorted(WARDS_IN_ORDER))  # stored in code-point order
    for server in serve(engine):
        for path in ("/", "/schools"):
            tab.goto(server.url + path)
            options = tab.locator("select[name=ward] option").all_inner_texts()
            assert options[1:] == WARDS_IN_ORDER, path  # after "Tất cả"
            tab.wait_for_load_state("networkidle")  # the map's requests end before the next page
    watch.check()


def test_school_pages_show_what_applies_in_the_pages_language(
        live: LiveServer, screen: tuple[Page, Watch, str], demo_engine: Engine) -> None:
    tab, watch, name = screen
    tab.goto(live.url + "/schools/DM-TH-001")  # a primary school: no grade 10
    expect(tab.locator("h1")).to_have_text(re.compile("Tiểu học"))
    expect(tab.locator("#school-map .leaflet-marker-icon")).to_have_count(1)
    expect(tab.locator("#grade10")).to_have_count(0)
    expect(tab.locator("main")).not_to_contain_text("lớp 10")
    expect(tab.locator("dd.programmes")).to_have_text(re.compile("Học 2 buổi/ngày"))
    tab.wait_for_load_state("networkidle")  # base-map tiles loaded before the page changes
    tab.goto(live.url + "/schools/DM-TH-001?lang=en")
    expect(tab.locator("main")).not_to_contain_text("grade 10", ignore_case=True)
    expect(tab.locator("dd.programmes")).to_have_text(re.compile(r"^Full day \(two sessions a day\)"))
    tab.wait_for_load_state("networkidle")
    with demo_engine.connect() as conn:
        code = conn.execute(sa.text(
            "SELECT code FROM schools WHERE 'Tích hợp' = ANY(programmes) AND level = 'upper_secondary'"
            " AND EXISTS (SELECT 1 FROM cutoffs c WHERE c.school_code = code) ORDER BY code LIMIT 1"
        )).scalar_one()
    tab.goto(live.url + f"/schools/{code}?lang=en")
    expect(tab.locator("#grade10 svg.line-chart")).to_be_visible()
    programmes = tab.locator("dd.programmes")
    expect(programmes).to_have_text("Regular (standard), Integrated (Vietnamese and English curricula)")
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path=f"/tmp/edugis-school-en-{name}.png", full_page=True)
    tab.goto(live.url + f"/compare?schools={code},DM-TH-001&lang=en")
    expect(tab.locator("#compare tbody tr", has_text="Programmes")).to_contain_text(
        "Integrated (Vietnamese and English curricula)")
    expect(tab.locator("#compare")).not_to_contain_text("Thường")
    watch.check()


def test_csv_download_opens_cleanly_in_a_spreadsheet(
        live: LiveServer, screen: tuple[Page, Watch, str], demo_engine: Engine) -> None:
    import csv
    import io

    tab, watch, _ = screen
    tab.goto(live.url + "/data")
    expect(tab.locator("#csv-format")).to_contain_text("BOM")
    with tab.expect_download() as download:
        tab.locator("a[href='/download/schools.csv']").click()
    path = download.value.path()
    body = path.read_bytes()
    assert body.startswith(b"\xef\xbb\xbfcode,name,level")  # Excel takes UTF-8 from the BOM
    text = body.decode("utf-8-sig")
    assert not [line for line in text.splitlines() if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == _count(demo_engine, "SELECT count(*) FROM schools")
    assert all(r["code"] and float(r["lon"]) and float(r["lat"]) for r in rows)
    assert any("Mẫu" in r["name"] for r in rows)
    # licence and data date: in the CSV on the Web sidecar the data page links to
    meta = tab.request.get(live.url + (tab.locator("#csv-metadata").get_attribute("href") or ""))
    described = meta.json()
    assert "opendatacommons.org" in described["dc:license"]["@id"] and described["dc:modified"]
    assert [c["name"] for c in described["tableSchema"]["columns"]] == list(rows[0])
    tab.locator("#csv-columns").locator("xpath=ancestor::details").locator("summary").click()
    expect(tab.locator("#csv-columns tr", has_text="lon")).to_contain_text("Kinh độ")
    # Chromium reports a navigation that turns into a download as aborted: that is this one
    watch.failed_requests.remove(live.url + "/download/schools.csv")
    watch.check()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_compare_with_none_or_five_ticked_is_a_friendly_page(
        live: LiveServer, screen: tuple[Page, Watch, str], lang: str) -> None:
    tab, watch, name = screen
    says = {"vi": ("Bạn chưa chọn trường nào", "Bạn đã chọn 5 trường", "So sánh trường"),
            "en": ("You have not ticked any school", "You ticked 5 schools", "Compare schools")}
    none_ticked, five_ticked, title = says[lang]
    tab.goto(live.url + f"/schools?level=primary&lang={lang}")
    submit = tab.locator("#compare-form button[type=submit]")
    with tab.expect_response(re.compile(r"/compare\?")) as answer:
        submit.click()
    assert answer.value.status == 400 and "text/html" in answer.value.headers["content-type"]
    expect(tab.locator("html")).to_have_attribute("lang", lang)
    expect(tab.locator("#compare-problem")).to_contain_text(none_ticked)
    back = tab.locator("#compare-back")
    expect(back).to_have_attribute("href", re.compile(r"^/schools\?level=primary"))
    back.click()
    boxes = tab.locator("#compare-form input[name=pick]")
    for i in range(5):
        boxes.nth(i).check()
    with tab.expect_response(re.compile(r"/compare\?")) as answer:
        submit.click()
    assert answer.value.status == 400
    expect(tab.locator("#compare-problem")).to_contain_text(five_ticked)
    tab.screenshot(path=f"/tmp/edugis-compare-five-{lang}-{name}.png", full_page=True)
    ticked = tab.locator("#compare-form input[name=pick]:checked")
    expect(ticked).to_have_count(5)
    ticked.first.uncheck()  # four left: compared
    tab.locator("#compare-form button[type=submit]").click()
    expect(tab.locator("h1")).to_have_text(title)
    expect(tab.locator("#compare thead th[data-code]")).to_have_count(4)
    # the two 400 pages are the answers under test (Chromium logs their status as an error)
    assert len([r for r in watch.failed_requests if r.startswith("400 ")]) == 2
    watch.failed_requests[:] = [r for r in watch.failed_requests if not r.startswith("400 ")]
    watch.console_errors[:] = [e for e in watch.console_errors if "status of 400" not in e]
    watch.check()


def test_ogc_html_pages_fit_the_screen(live: LiveServer, screen: tuple[Page, Watch, str]) -> None:
    """The OGC API's HTML pages scroll only down, on a phone too (long media types wrap)."""
    tab, watch, name = screen
    width = SCREENS[name]["viewport"]["width"]  # type: ignore[index]
    for path in ("/ogc?f=html", "/ogc/collections?f=html", "/ogc/collections/schools?f=html"):
        tab.goto(live.url + path)
        expect(tab.locator("h1")).to_be_visible()
        assert tab.evaluate("document.documentElement.scrollWidth") <= width, (path, name)
    watch.check()


#: Every table box on the page shows its whole width (nothing hidden past the screen's edge).
TABLES_FIT = ("[...document.querySelectorAll('.table-scroll')]"
              ".every(box => box.scrollWidth <= box.clientWidth)")


def test_school_list_fits_the_screen(live: LiveServer, screen: tuple[Page, Watch, str]) -> None:
    """Every column of the school list, the compare box too, is on screen; on a phone each
    school reads as a card whose cells carry their column's name."""
    tab, watch, name = screen
    width = SCREENS[name]["viewport"]["width"]  # type: ignore[index]
    tab.goto(live.url + "/schools")
    pick = tab.locator("table.list tbody tr").first.locator("input[name=pick]")
    expect(pick).to_be_visible()
    box = pick.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, name
    assert tab.evaluate(TABLES_FIT), name
    assert tab.evaluate("document.documentElement.scrollWidth") <= width, name
    level = tab.locator("table.list tbody tr").first.locator("td").first
    label = level.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == ('"Cấp học"' if width < 600 else "none"), (name, label)
    watch.check()
