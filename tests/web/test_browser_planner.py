"""The planners' page in headless Chromium.

The map: the stored capacity gaps drawn as a choropleth with its legend, the proposed sites
as markers (tables written by SQL). The journeys at 1366x900 (Vietnamese) and 390x844
(English) on a demo city with forecasts and gaps computed: a guide on the first screen, the
interval level stated, no jargon, rounded numbers, labelled metric tooltips, new sites
computed in the background with a running state and then the result (no blocking POST),
and why each site was chosen. Nothing leaves 127.0.0.1 and the console stays clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.engine import Engine

from forecasting import service
from gis_service import db
from gis_service.accounts import create_user
from tests.conftest import _clone
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
        expect(tab.locator("table.sites tbody tr.site")).to_have_count(2)
        # sites stored before their reasons were kept say so
        expect(tab.locator("table.sites td.why").first).to_contain_text("chạy lại để xem")
        tab.screenshot(path="/tmp/edugis-planner.png", full_page=True)
        browser.close()
    watch.check()


MINUTES, YEAR = 10, 2027
#: Words of the code that the page must not show, in either language.
JARGON = re.compile(r"challenger|\bentry\b|\btotal\b|p_median|max_coverage|heuristic|vertex"
                    r"|2sfca|\bnaive\b|\bcohort\b|gap_to_bound|run_id|\bscenario\b",
                    re.I)
#: A number as the page writes it: thousands grouped, at most one decimal, in the
#: language's marks (vi: 1.234,5; en: 1,234.5).
NUMBER = {"vi": re.compile(r"\d{1,3}(\.\d{3})*(,\d)?"), "en": re.compile(r"\d{1,3}(,\d{3})*(\.\d)?")}


@pytest.fixture(scope="module")
def planning_city(demo_engine: Engine) -> Iterator[Engine]:
    """The demo city with a planner, forecasts and the primary gaps of the first forecast year."""
    demo_engine.dispose()  # a template database must have no open connections
    url = _clone(demo_engine.url.render_as_string(hide_password=False))
    engine = db.create_engine(url)
    create_user(engine, "quy_hoach", PASSWORD, "planner")
    with engine.begin() as conn:
        # forecasts as the service stores them (computed in test_planner.py), with unrounded
        # figures and each method's name, which the page must put in plain words
        conn.execute(sa.text(
            "INSERT INTO enrolment_forecasts (ward_code, level, measure, year, horizon, method,"
            " predicted, lower, upper) SELECT code, 'primary', m.measure, :y, 1,"
            " (ARRAY['cohort', 'challenger', 'naive'])[1 + row_number() OVER (ORDER BY code) % 3],"
            " m.scale * (240.37 + (row_number() OVER (ORDER BY code) % 7) * 13.219),"
            " m.scale * 221.61, m.scale * 402.48 FROM admin_units,"
            " (VALUES ('entry', 1.0), ('total', 5.03)) AS m(measure, scale)"
            " WHERE level = 'ward' AND valid_to IS NULL"), {"y": YEAR})
    service.gaps_and_store(engine, "primary", YEAR, MINUTES)
    yield engine
    engine.dispose()
    db.drop_database(url)


@pytest.fixture(scope="module")
def planning_site(planning_city: Engine) -> Iterator[LiveServer]:
    yield from serve(planning_city)


def _signed_in(tab: Page, live: LiveServer, watch: Watch, lang: str) -> None:
    tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    tab.on("request", lambda r: None if r.url.startswith(live.url)
           else watch.offsite_requests.append(r.url))
    tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
    tab.goto(f"{live.url}/login?next=/planner&lang={lang}")
    tab.fill("input[name=username]", "quy_hoach")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form.login button[type=submit]")
    expect(tab.locator("h1")).to_contain_text("Quy hoạch" if lang == "vi" else "Planning")


def _check_plain_page(tab: Page, lang: str, height: int) -> None:
    """Guide on the first screen, interval level, no jargon, rounded numbers, labelled tooltips."""
    guide = tab.locator(".planner-guide")
    expect(guide).to_be_visible()
    expect(guide.locator("ol > li")).to_have_count(4)
    box = guide.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height, box  # no scrolling to read it
    expect(guide).to_contain_text("80 %")
    header = tab.locator("table.forecasts thead th").nth(3)
    expect(header).to_contain_text("80 %")
    expect(tab.locator(".interval-level")).to_contain_text("80 %")
    text = tab.locator("main").inner_text()
    assert not JARGON.findall(text), JARGON.findall(text)
    labels = tab.eval_on_selector_all("main td, main th", "els => els.map(e => e.textContent.trim())")
    assert not {"before", "after", "exact"} & set(labels)  # the kernel's row names
    cells = tab.eval_on_selector_all(
        "main table td:not(.coords):not(.why)", "els => els.map(e => e.textContent.trim())")
    assert cells
    numeric = [c for c in cells if re.fullmatch(r"[\d.,%–— ]+", c)]
    assert len(numeric) > len(cells) / 2, cells
    for cell in numeric:
        for token in re.findall(r"\d[\d.,]*\d|\d", cell):
            assert NUMBER[lang].fullmatch(token), (cell, token)
    metrics = tab.locator("main th[title][aria-describedby]")
    assert metrics.count() >= 6  # predicted, range, demand, accessible, short, nearest
    for i in range(metrics.count()):
        th = metrics.nth(i)
        note = tab.locator(f"#{th.get_attribute('aria-describedby')}")
        expect(note).to_have_count(1)
        assert (th.get_attribute("title") or "").strip() == (note.text_content() or "").strip() != ""


def _find_sites(tab: Page, p: int) -> list[str]:
    """Start a site search and follow it; return the POSTs that navigated the page."""
    posts: list[str] = []
    tab.on("request", lambda r: posts.append(r.url)
           if r.method == "POST" and r.is_navigation_request() else None)
    form = tab.locator("form.run-sites")
    form.locator("input[name=p]").fill(str(p))
    form.locator("input[name=threshold_min]").fill(str(MINUTES))
    form.locator("input[name=max_candidates]").fill("60")
    form.locator("button[type=submit]").click()
    return posts


def _check_sites(tab: Page, p: int, why: str) -> None:
    rows = tab.locator("table.sites tbody tr.site")
    expect(rows).to_have_count(p, timeout=90_000)
    expect(tab.locator("#planner-map")).to_have_attribute("data-sites", str(p))
    for i in range(p):
        explanation = tab.locator("table.sites tbody tr.why-row").nth(i)
        expect(explanation).to_contain_text(why)
        assert re.search(r"\d", explanation.inner_text())
    expect(tab.locator("table.siting tbody tr")).to_have_count(2)


def test_desktop_journey_in_vietnamese(planning_site: LiveServer) -> None:
    require_chromium()
    watch = Watch()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        _signed_in(tab, planning_site, watch, "vi")
        _check_plain_page(tab, "vi", 900)
        posts = _find_sites(tab, 2)
        # the page stays and says it is working, then opens the result by itself
        job = tab.locator("#sites-job")
        expect(job).to_be_visible()
        expect(job.locator("[role=status]")).to_contain_text("Đang tìm vị trí trường mới")
        expect(tab.locator("form.run-sites button[type=submit]")).to_be_disabled()
        _check_sites(tab, 2, "sẽ là trường gần nhất trong 10 phút cho khoảng")
        assert posts == []
        expect(tab.locator("#sites-job")).to_be_hidden()
        _check_plain_page(tab, "vi", 900)
        tab.goto(tab.url.split("#")[0])
        tab.screenshot(path="/tmp/edugis-planner-desktop.png")  # the first screen
        tab.locator("#sites").scroll_into_view_if_needed()
        tab.screenshot(path="/tmp/edugis-planner-desktop-sites.png")
        browser.close()
    watch.check()


def test_phone_journey_in_english_survives_a_reload(planning_site: LiveServer) -> None:
    require_chromium()
    watch = Watch()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                               has_touch=True)
        _signed_in(tab, planning_site, watch, "en")
        _check_plain_page(tab, "en", 844)
        posts = _find_sites(tab, 1)
        expect(tab.locator("#sites-job [role=status]")).to_contain_text("Finding new school sites")
        tab.locator("#sites-job").screenshot(path="/tmp/edugis-planner-phone-running.png")
        # a reload while it runs: the page shows the job (or, if it ended, its result)
        tab.reload()
        expect(tab.locator("#sites-job[data-state=running], table.sites")).not_to_have_count(0)
        _check_sites(tab, 1, "would be the nearest within 10 min for about")
        assert posts == []
        tab.reload()  # the last result stays
        _check_sites(tab, 1, "would be the nearest within 10 min for about")
        # the reasons are read on the phone without scrolling sideways
        assert tab.eval_on_selector("table.sites", "t => t.scrollWidth <= t.parentElement.clientWidth")
        tab.screenshot(path="/tmp/edugis-planner-phone.png")  # the first screen
        tab.locator("table.sites").screenshot(path="/tmp/edugis-planner-phone-sites.png")
        browser.close()
    watch.check()
