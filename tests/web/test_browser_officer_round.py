"""The round page in headless Chromium (issue 13, items 7-9), on a desktop in English and on
a phone in Vietnamese.

- 9: each upload offers a template CSV whose rows import as they are; a refused file names
  the spreadsheet line (header = line 1) and the applicant id of each problem.
- 8: statuses, mechanisms (with one sentence each), metrics and the per-school table are
  words, percentages, metres/kilometres and minutes, never the internal codes; mincost is
  disabled and explained when the applicants have no homes; the metrics and the cut-offs
  are there again when the page is reopened; errors are in the page's language; the page
  fits a 390 px phone without scrolling sideways.
- 7: re-uploading a run round asks to discard its allocations and names the override that
  would be lost (nothing happens until the box is ticked), and publishing asks to confirm
  what it freezes.

Writes only rounds and users with unique names to the shared demo database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy.engine import Engine

from gis_service.accounts import create_user
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, Watch, require_chromium, serve
from tests.support.web import FIRST, PASSWORD, grade10_rows
from web import auth

#: Texts of internal codes the round page must not show as such.
RAW = re.compile(r"\b(placed_by_choice|share_within|distance_mean_m|justified_envy|mincost|hcmc"
                 r"|draft|reason_vi|choice_rank|thuong_tru)\b")


@pytest.fixture
def demo_site(demo_engine: Engine) -> Iterator[LiveServer]:
    yield from serve(demo_engine)


def _open(site: LiveServer, watch: Watch, width: int, height: int, lang: str
          ) -> tuple[tuple[Playwright, Browser], Page]:
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    tab = browser.new_page(viewport={"width": width, "height": height})
    tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("request", lambda r: None if r.url.startswith(site.url) else watch.offsite_requests.append(r.url))
    # a tile or the results map still loading when the journey moves on is aborted by the
    # browser (net::ERR_ABORTED): not a failure of the page; any other failure is
    tab.on("requestfailed", lambda r: None if r.failure == "net::ERR_ABORTED"
           else watch.failed_requests.append(r.url))
    tab.goto(f"{site.url}/login?next=/officer&lang={lang}")
    return (playwright, browser), tab


def _sign_in_and_create(tab: Page, engine: Engine, round_id: str) -> str:
    username = f"can_bo_{uuid.uuid4().hex[:6]}"
    create_user(engine, username, PASSWORD, "officer")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form.login button[type=submit]")
    tab.fill("form.new-round input[name=round_id]", round_id)
    tab.select_option("form.new-round select[name=grade]", "10")
    tab.click("form.new-round button[type=submit]")
    expect(tab.locator("h1")).to_contain_text(round_id)
    return username


def _expected_refusals(watch: Watch, *statuses: str) -> None:
    """The refused requests' statuses Chromium logged, and nothing else; then forget them."""
    assert [re.sub(r".*status of (\d+).*", r"\1", m) for m in watch.console_errors] == list(statuses)
    watch.console_errors.clear()


def _fits(tab: Page, width: int) -> None:
    """Nothing makes the page scroll sideways (wide tables scroll inside their box)."""
    assert tab.evaluate("document.documentElement.scrollWidth") <= width


def test_round_page_on_a_desktop_in_english(demo_site: LiveServer, demo_engine: Engine,
                                            tmp_path: Path) -> None:
    require_chromium()
    round_id = f"bd-{uuid.uuid4().hex[:8]}"
    rows = grade10_rows(demo_engine)
    header = "applicant_id,score,choice1,choice2,choice3\n"
    good = tmp_path / "applicants.csv"
    good.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"  # line 4 repeats W0001 (line 3), line 6 has a score of 31
    bad.write_text(header + "\n".join([*rows[:2], rows[1], rows[3], "W0900,31,DM-THPT-001,,"])
                   + "\n", encoding="utf-8")
    watch = Watch()
    (playwright, browser), tab = _open(demo_site, watch, 1366, 900, "en")
    try:
        _sign_in_and_create(tab, demo_engine, round_id)
        expect(tab.locator(".round-status")).to_have_text("Draft (not run yet)")

        # 9: a template per upload, which imports as it is
        with tab.expect_download() as download:
            tab.click("form.upload a.template")
        template = Path(download.value.path()).read_text(encoding="utf-8")
        assert template.splitlines()[0] == "applicant_id,score,bonus,choice1,choice2,choice3,lon,lat"
        assert len(template.splitlines()) == 3
        with tab.expect_download() as download:
            tab.click("form.capacities a.template")
        assert Path(download.value.path()).read_text(encoding="utf-8").startswith("school_code,capacity\n")
        filled = tmp_path / "template.csv"
        filled.write_text(template, encoding="utf-8")
        tab.set_input_files("form.upload input[type=file]", str(filled))
        tab.click("form.upload button[type=submit]")
        expect(tab.locator("p.imported")).to_contain_text("Imported: 2")

        # 9: problems by spreadsheet line and applicant id
        tab.set_input_files("form.upload input[type=file]", str(bad))
        tab.click("form.upload button[type=submit]")
        problems = tab.locator(".problems tbody tr")
        expect(problems).to_have_count(2)
        expect(problems.nth(0).locator("td")).to_have_text(
            ["bad.csv", "4", "W0001", "applicant_id",
             "duplicate applicant id 'W0001' (first at spreadsheet line 3)"])
        expect(problems.nth(1).locator("td")).to_have_text(
            ["bad.csv", "6", "W0900", "score", "31 is outside 0..30"])
        expect(tab.locator(".problems")).to_contain_text("The header is line 1.")
        _expected_refusals(watch, "422")

        tab.set_input_files("form.upload input[type=file]", str(good))
        tab.click("form.upload button[type=submit]")
        expect(tab.locator("p.imported")).to_contain_text(f"Imported: {len(rows)}")

        # 8: mechanisms in words; mincost cannot run without homes, and the page says why
        options = tab.locator("form.run select[name=mechanism] option")
        expect(options).to_have_text(["Deferred acceptance (DA)", "Rounds by choice (today's HCMC practice)",
                                      "Least total travel"])
        expect(tab.locator("form.run option[value=mincost]")).to_be_disabled()
        expect(tab.locator(".mincost-unavailable")).to_contain_text("no home coordinates")
        tab.click("details.mechanisms summary")
        expect(tab.locator("details.mechanisms dd.mech-da")).to_contain_text("never hurts")
        tab.click("form.run button[type=submit]")
        metrics = tab.locator("table.metrics")
        expect(metrics).to_contain_text("Placed at choice 1")
        expect(metrics.locator("tr", has_text="Placed at choice 2").locator("td")).to_have_text(
            re.compile(r"^10 \(\d+(\.\d)? %\)$"))
        expect(tab.locator(".round-status")).to_have_text("Run, not published")

        # 8: reopened, the metrics and each school's cut-off are still there, in words
        tab.goto(f"{demo_site.url}/officer/rounds/{round_id}")
        expect(tab.locator("table.metrics")).to_contain_text("Placed at choice 1")
        first = tab.locator("table.per-school tr", has_text=FIRST)
        with demo_engine.connect() as conn:
            capacity = conn.execute(sa.text("SELECT capacity_grade10 FROM schools WHERE code = :c"),
                                    {"c": FIRST}).scalar_one()
        cutoff = f"{29.9 - 0.05 * (capacity - 1):.2f}".rstrip("0").rstrip(".")
        expect(first.locator("td.cutoff")).to_have_text(cutoff)
        expect(first.locator("td").nth(2)).to_have_text("100 %")  # filled
        expect(tab.locator("table.per-school thead")).to_contain_text("Cut-off (lowest score admitted)")
        main = tab.locator("main").inner_text()
        assert not RAW.search(main), RAW.search(main)
        pages = -(-len(rows) // 100)
        expect(tab.locator("nav.pager").first).to_contain_text(f"Page 1 of {pages} · {len(rows)} applicants")
        tab.locator("nav.pager").first.get_by_role("link", name="Next page →").click()
        expect(tab.locator("nav.pager").first).to_contain_text(f"Page 2 of {pages}")
        expect(tab.locator("table.applicants td.applicant_id").first).to_have_text("W0100")

        # 7: an override, then a re-upload that would lose it
        moved = f"W{len(rows) - 1:04d}"
        tab.fill("form.find input[name=applicant_id]", moved)
        tab.click("form.find button[type=submit]")
        tab.select_option("form.override select[name=school_code]", FIRST)
        tab.fill("form.override textarea[name=reason]", "Complaint 12/2026 upheld")
        tab.check("form.override input[name=force]")
        tab.click("form.override button[type=submit]")
        expect(tab.locator("dd.school")).to_contain_text(FIRST)
        tab.click(f"a[href='/officer/rounds/{round_id}']")
        box = tab.locator("form.upload .discard-run")
        expect(box).to_contain_text(
            f"discard its stored result ({len(rows)} allocations, 1 officer overrides)")
        expect(box.locator("ul.overrides li")).to_have_text(f"{moved} → {FIRST}: Complaint 12/2026 upheld")
        tab.set_input_files("form.upload input[type=file]", str(good))
        tab.click("form.upload button[type=submit]")  # the browser holds it: the box is not ticked
        assert tab.evaluate("document.querySelector('form.upload input[name=discard_run]').validity"
                            ".valueMissing")
        with demo_engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT status, jsonb_array_length(parameters->'overrides')"
                                        " FROM admission_rounds WHERE id = :r"), {"r": round_id}).one()
        assert tuple(kept) == ("run", 1)

        # 7: publishing says what it freezes and needs the box ticked
        publish = tab.locator("form.publish")
        expect(publish.locator("label.confirm")).to_contain_text(
            f"I confirm publication: {len(rows)} allocations and 1 officer overrides are frozen")
        publish.locator("button[type=submit]").click()  # held by the browser: the box is not ticked
        assert tab.evaluate("document.querySelector('form.publish input[name=confirm]').validity"
                            ".valueMissing")
        expect(tab.locator(".round-status")).to_have_text("Run, not published")
        publish.locator("input[name=confirm]").check()
        publish.locator("button[type=submit]").click()
        expect(tab.locator(".round-status")).to_have_text("Published")
        expect(tab.locator("form.upload")).to_have_count(0)
        tab.screenshot(path="/tmp/edugis-officer-round-desktop.png", full_page=True)
    finally:
        browser.close()
        playwright.stop()
    watch.check()


def test_round_page_on_a_phone_in_vietnamese(demo_site: LiveServer, demo_engine: Engine,
                                             tmp_path: Path) -> None:
    require_chromium()
    round_id = f"bp-{uuid.uuid4().hex[:8]}"
    rows = grade10_rows(demo_engine)
    good = tmp_path / "hoso.csv"
    good.write_text("applicant_id,score,choice1,choice2,choice3\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    places = tmp_path / "chitieu.csv"
    places.write_text(f"school_code,capacity\n{FIRST},5\nDM-TH-001,3\n", encoding="utf-8")
    watch = Watch()
    (playwright, browser), tab = _open(demo_site, watch, 390, 844, "vi")
    try:
        _sign_in_and_create(tab, demo_engine, round_id)
        _fits(tab, 390)
        # the rounds list: one card per round, every column on screen
        tab.goto(f"{demo_site.url}/officer")
        card = tab.locator("table.stack tbody tr", has_text=round_id)
        expect(card.locator("td[data-label='Trạng thái']")).to_be_visible()
        assert tab.evaluate("[...document.querySelectorAll('.table-scroll')]"
                            ".every(box => box.scrollWidth <= box.clientWidth)")
        card.locator("a").click()
        expect(tab.locator("h1")).to_contain_text(round_id)
        expect(tab.locator("form.upload a.template")).to_have_text("Tải tệp mẫu (CSV)")
        tab.set_input_files("form.upload input[type=file]", str(good))
        tab.click("form.upload button[type=submit]")
        tab.click("form.run button[type=submit]")
        expect(tab.locator("table.metrics")).to_contain_text("Trúng tuyển NV1")
        expect(tab.locator("table.metrics")).to_contain_text(" %)")
        expect(tab.locator(".round-status")).to_have_text("Đã xét tuyển, chưa công bố")
        _fits(tab, 390)
        # a wrong places file on a run round: refused by line and school code, in Vietnamese,
        # and the run is kept
        places_form = tab.locator("form.capacities")
        expect(places_form.locator(".discard-run")).to_contain_text(
            f"xóa kết quả đã lưu ({len(rows)} kết quả xếp trường, 0 quyết định điều chỉnh")
        places_form.locator("input[type=file]").set_input_files(str(places))
        places_form.locator("input[name=discard_run]").check()
        places_form.locator("button[type=submit]").click()
        problem = tab.locator(".problems tbody tr")
        expect(problem).to_have_count(1)
        expect(problem.locator("td").nth(1)).to_have_text("3")
        expect(problem.locator("td").nth(2)).to_have_text("DM-TH-001")
        expect(tab.locator(".problems thead")).to_contain_text("Dòng trong bảng tính")
        expect(tab.locator(".round-status")).to_have_text("Đã xét tuyển, chưa công bố")
        _expected_refusals(watch, "422")
        _fits(tab, 390)
        # publishing without the box is held by the browser; an English-only service refusal
        # (running a published round) is shown in Vietnamese
        tab.locator("form.publish input[name=confirm]").check()
        tab.locator("form.publish button[type=submit]").click()
        expect(tab.locator(".round-status")).to_have_text("Đã công bố")
        assert not RAW.search(tab.locator("main").inner_text())
        _fits(tab, 390)
        tab.screenshot(path="/tmp/edugis-officer-round-phone.png", full_page=True)
        token = next(c["value"] for c in tab.context.cookies() if c["name"] == auth.CSRF_COOKIE)
        answer = tab.request.post(f"{demo_site.url}/officer/rounds/{round_id}/run",
                                  form={"csrf_token": token})
        assert answer.status == 409 and "đã công bố, không xét tuyển lại được" in answer.text()
    finally:
        browser.close()
        playwright.stop()
    watch.check()

