"""The officers' journey in headless Chromium on the demo city: sign in, create a round,
upload a file with one bad row and read the problem, fix it, run, explain one applicant,
publish.

Writes only a round and a user with unique names to the shared demo database, with the same
rules as the public journey: no console error, no failed request, nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.engine import Engine

from gis_service.accounts import create_user
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, Watch, require_chromium, serve
from tests.support.web import FIRST, PASSWORD, grade10_rows


@pytest.fixture
def demo_site(demo_engine: Engine) -> Iterator[LiveServer]:
    yield from serve(demo_engine)


def test_officer_imports_fixes_runs_explains_and_publishes(demo_site: LiveServer, demo_engine: Engine,
                                                           tmp_path: Path) -> None:
    require_chromium()
    username, round_id = f"can_bo_{uuid.uuid4().hex[:6]}", f"br-{uuid.uuid4().hex[:8]}"
    create_user(demo_engine, username, PASSWORD, "officer")
    rows = grade10_rows(demo_engine)
    header = "applicant_id,score,choice1,choice2,choice3\n"
    bad_file, good_file = tmp_path / "hoso_loi.csv", tmp_path / "hoso.csv"
    bad_rows = [*rows[:4], rows[4].replace(FIRST, "DM-THPT-404", 1), *rows[5:]]
    bad_file.write_text(header + "\n".join(bad_rows) + "\n", encoding="utf-8")
    good_file.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    watch = Watch()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        tab.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        tab.on("request", lambda r: None if r.url.startswith(demo_site.url)
               else watch.offsite_requests.append(r.url))
        tab.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
        tab.goto(demo_site.url + "/login?next=/officer")
        tab.fill("input[name=username]", username)
        tab.fill("input[name=password]", PASSWORD)
        tab.click("form.login button[type=submit]")
        expect(tab.locator("h1")).to_contain_text("Tuyển sinh")

        tab.fill("form.new-round input[name=round_id]", round_id)
        tab.select_option("form.new-round select[name=grade]", "10")
        tab.select_option("form.new-round select[name=mechanism]", "da")
        tab.click("form.new-round button[type=submit]")
        expect(tab.locator("h1")).to_contain_text(round_id)

        tab.set_input_files("form.upload input[type=file]", str(bad_file))
        tab.click("form.upload button[type=submit]")
        problem = tab.locator(".problems tbody tr")
        expect(problem).to_have_count(1)
        # the fifth data row is the spreadsheet's line 6 (the header is line 1), W0004's row
        expect(problem.locator("td").nth(1)).to_have_text("6")
        expect(problem.locator("td").nth(2)).to_have_text("W0004")
        expect(problem.locator("td").nth(3)).to_have_text("choice1")
        expect(problem.locator("td").nth(4)).to_contain_text("không có trường nào mã 'DM-THPT-404'")
        expect(tab.locator("form.run")).to_have_count(0)  # nothing stored, nothing to run
        # the refused file is answered 422, which Chromium logs; that one error is expected
        assert watch.console_errors == [
            "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]
        watch.console_errors.clear()

        tab.set_input_files("form.upload input[type=file]", str(good_file))
        tab.click("form.upload button[type=submit]")
        expect(tab.locator("p.imported")).to_contain_text(f"Đã nhập: {len(rows)}")

        tab.select_option("form.run select[name=mechanism]", "da")
        tab.click("form.run button[type=submit]")
        expect(tab.locator("table.metrics")).to_contain_text("Trúng tuyển NV1")
        expect(tab.locator("table.per-school")).to_contain_text(FIRST)
        with demo_engine.connect() as conn:
            upper = conn.execute(sa.text("SELECT count(*) FROM schools WHERE level = 'upper_secondary'"
                                         " AND capacity_grade10 IS NOT NULL")).scalar_one()
        expect(tab.locator("#results-map")).to_have_attribute("data-schools", str(upper))
        expect(tab.locator("#results-map")).to_have_attribute("data-unplaced", "0")  # no homes given

        moved = f"W{len(rows) - 1:04d}"
        tab.fill("form.find input[name=applicant_id]", moved)
        tab.click("form.find button[type=submit]")
        expect(tab.locator(".reason-vi")).to_contain_text("đã đủ chỉ tiêu")
        expect(tab.locator(".reason-en")).to_contain_text("admitted at NV2")

        tab.click(f"a[href='/officer/rounds/{round_id}']")
        tab.check("form.publish input[name=confirm]")
        tab.click("form.publish button[type=submit]")
        expect(tab.locator("p.published")).to_be_visible()
        expect(tab.locator("form.upload")).to_have_count(0)
        expect(tab.locator("form.run")).to_have_count(0)
        expect(tab.locator(".round-status")).to_have_text("Đã công bố")
        tab.screenshot(path="/tmp/edugis-officer.png", full_page=True)
        browser.close()
    watch.check()
    with demo_engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM audit_log WHERE actor = :u ORDER BY id"),
                               {"u": username}).scalars().all()
        status = conn.execute(sa.text("SELECT status FROM admission_rounds WHERE id = :r"),
                              {"r": round_id}).scalar_one()
    assert status == "published"
    assert [a for a in actions if not a.startswith("view_")] == [
        "login", "round.create", "round.import_refused", "round.import_applicants", "round.run",
        "round.publish"]
