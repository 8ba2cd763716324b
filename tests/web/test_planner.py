"""The planners' workspace on its own demo-city database: forecasts with intervals, gaps
stored and published through OGC capacity-gaps with ward geometry, sites with their
before/after summary, and the what-if of the demo grade-1 round."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from basemaps.demo_city import generate_demo_city
from gis_service import db
from gis_service.accounts import create_user
from tests.conftest import _clone, database_env
from tests.support.web import PASSWORD, csrf, login, settle
from web.app import create_app
from web.demo_data import load_demo_city

LEVEL, MINUTES = "primary", 10


@pytest.fixture(scope="module")
def planning_engine(template_url: str) -> Iterator[Engine]:
    """A demo city of its own: planning writes tables the OGC tests read on the shared one."""
    url = _clone(template_url)
    engine = db.create_engine(url)
    load_demo_city(engine, generate_demo_city())
    create_user(engine, "planner1", PASSWORD, "planner")
    create_user(engine, "officer1", PASSWORD, "officer")
    yield engine
    engine.dispose()
    db.drop_database(url)


@pytest.fixture(scope="module")
def planner(planning_engine: Engine) -> Iterator[TestClient]:
    with (pytest.MonkeyPatch.context() as monkeypatch,
          database_env(planning_engine, monkeypatch), TestClient(create_app()) as client):
        login(client, "planner1")
        yield client
        settle(client.app)


def _finished(client: TestClient, timeout_s: float = 120.0) -> dict[str, Any]:
    """Poll the siting job's status until it is no longer running."""
    deadline = time.monotonic() + timeout_s
    while True:
        status: dict[str, Any] = client.get("/planner/sites/status").json()
        if status["state"] != "running" or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def _one(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_planning_pages_are_for_planners_and_forms_need_csrf(planner: TestClient) -> None:
    assert planner.post("/planner/forecasts", data={"horizon_years": "3"}).status_code == 403
    assert planner.get("/planner?level=nursery").status_code == 400
    empty = planner.get("/planner")
    assert empty.status_code == 200 and "Chưa có dự báo nào" in empty.text
    officer = TestClient(planner.app)
    login(officer, "officer1")
    assert officer.get("/planner").status_code == 403
    assert officer.post("/planner/forecasts", data={"csrf_token": csrf(officer)}).status_code == 403


def test_pages_offer_the_general_levels_and_every_siting_model() -> None:
    from forecasting.siting import MODELS
    from gis_service.levels import LEVELS
    from web import planner

    assert tuple(level.name for level in LEVELS) == planner.LEVELS
    assert tuple(MODELS) == planner.MODELS


@pytest.mark.parametrize(("method", "path", "data", "allowed"), [
    # an unknown model used to become max_coverage without a word
    ("post", "/planner/sites", {"level": LEVEL, "year": "2027", "model": "p-median"},
     ("p_median", "max_coverage")),
    ("post", "/planner/gaps", {"level": "nursery", "year": "2027"},
     ("primary", "lower_secondary", "upper_secondary")),
    ("get", "/planner?level=primary&measure=all", None, ("entry", "total")),
])
def test_unknown_words_are_refused_naming_the_known_ones(
        planner: TestClient, planning_engine: Engine, method: str, path: str,
        data: dict[str, str] | None, allowed: tuple[str, ...]) -> None:
    if data is not None:
        data = {**data, "csrf_token": csrf(planner)}
    response = planner.request(method, path, data=data)
    assert response.status_code == 400, response.text
    for word in allowed:
        assert f"'{word}'" in response.text
    assert _one(planning_engine, "SELECT count(*) FROM proposed_sites") == 0


def test_computations_on_missing_data_show_the_page_again_with_the_error(
        planner: TestClient, planning_engine: Engine) -> None:
    # before any forecast is stored: a state the request does not fit (409, as before)
    sites = planner.post("/planner/sites", data={"level": LEVEL, "year": "2027",
                                                 "csrf_token": csrf(planner)})
    assert sites.status_code == 409 and "edugis forecast" in sites.text
    assert '<div role="alert" class="error">' in sites.text
    # an unknown run is a 404 (the one error table), shown on the page
    what_if = planner.post("/planner/what-if", data={"run_id": "no-such-run", "round_id": "demo-2026-g1",
                                                     "csrf_token": csrf(planner)})
    assert what_if.status_code == 404 and "no-such-run" in what_if.text
    # the page's script asks for JSON: refused at once too, in the page's language and after
    fetched = planner.post("/planner/sites", data={"level": LEVEL, "year": "2027",
                                                   "csrf_token": csrf(planner)},
                           headers={"Accept": "application/json"})
    assert fetched.status_code == 409 and "chưa có dự báo" in fetched.json()["message"]
    assert "no stored primary forecast" in planner.get("/planner/sites/status?lang=en").json()["message"]
    assert _one(planning_engine, "SELECT count(*) FROM audit_log WHERE action LIKE 'planning.%_failed'") == 3


def test_forecast_gaps_sites_and_what_if(planner: TestClient, planning_engine: Engine) -> None:
    ran = planner.post("/planner/forecasts", data={"horizon_years": "3", "csrf_token": csrf(planner)})
    assert ran.status_code == 200  # after the redirect
    year = _one(planning_engine, "SELECT min(year) FROM enrolment_forecasts")
    wards = _one(planning_engine, "SELECT count(*) FROM admin_units WHERE level = 'ward'")
    table = re.search(r'<table class="list forecasts">.*?</table>', ran.text, re.S)
    assert table is not None and table.group(0).count('<th scope="row">') == wards
    first = re.search(r'<th scope="row">(\S+) [^<]*</th><td>([^<]+)</td>\s*'
                      r'<td>(\d+)</td><td>(\d+)–(\d+)</td>', table.group(0))
    assert first is not None, table.group(0)[:800]
    stored = _one(planning_engine, "SELECT round(predicted) FROM enrolment_forecasts WHERE ward_code = :w"
                  " AND level = 'primary' AND measure = 'entry' AND year = :y", w=first.group(1), y=year)
    assert int(first.group(3)) == stored and int(first.group(4)) <= stored <= int(first.group(5))
    assert re.search(r'<table class="list methods">', ran.text)

    gaps = planner.post("/planner/gaps", data={"level": LEVEL, "year": str(year),
                                               "threshold_min": str(MINUTES), "csrf_token": csrf(planner)})
    assert gaps.status_code == 200
    assert _one(planning_engine, "SELECT count(*) FROM capacity_gaps") == wards
    url = re.search(r'data-gaps-url="([^"]+)"', gaps.text)
    assert url is not None and "capacity-gaps/items" in url.group(1)
    body = planner.get(url.group(1).replace("&amp;", "&")).json()
    assert body["numberMatched"] == wards  # the stored rows, not the census fallback
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    props = feature["properties"]
    assert props["basis"] == "forecast_2sfca" and props["threshold_min"] == MINUTES
    shortfall = _one(planning_engine, "SELECT shortfall_seats FROM capacity_gaps WHERE ward_code = :w",
                     w=props["code"])
    assert props["shortfall_seats"] == pytest.approx(shortfall)
    census = planner.get("/ogc/collections/capacity-gaps/items?basis=ward_census").json()
    assert census["numberMatched"] == 0  # the fallback steps aside once gaps are stored

    job = planner.post("/planner/sites", data={
        "level": LEVEL, "year": str(year), "threshold_min": str(MINUTES), "p": "2",
        "max_candidates": "60", "csrf_token": csrf(planner)}, headers={"Accept": "application/json"})
    # answered at once: the computation runs in the background, its status is polled
    assert job.status_code == 202 and job.json()["state"] == "running", job.text
    again = planner.post("/planner/sites", data={"level": LEVEL, "year": str(year), "p": "1",
                                                  "csrf_token": csrf(planner)},
                         headers={"Accept": "application/json"})
    assert again.status_code == 409 and "đang có một lượt" in again.json()["message"]
    status = _finished(planner)
    assert status["state"] == "done", status
    run_id = _one(planning_engine, "SELECT DISTINCT run_id FROM proposed_sites")
    assert status["run_id"] == run_id and f"run_id={run_id}" in status["result_url"]
    # a reload shows the last result: its sites, why each was chosen, coverage before/after
    sites = planner.get("/planner")
    summary = re.search(r'<table class="list siting">.*?</table>', sites.text, re.S)
    assert summary is not None
    assert ">Hiện nay</th>" in summary.group(0) and ">Có trường mới</th>" in summary.group(0)
    table = re.search(r'<table class="list sites">.*?</table>', sites.text, re.S)
    assert table is not None and table.group(0).count('class="why">') == 2
    assert "sẽ là trường gần nhất trong 10 phút cho khoảng" in table.group(0)
    served = _one(planning_engine, "SELECT sum((details->>'demand_served')::float) FROM proposed_sites")
    assert float(served) > 0  # type: ignore[arg-type]
    points = planner.get(f"/planner/sites.geojson?run_id={run_id}").json()
    assert [f["properties"]["rank"] for f in points["features"]] == [1, 2]
    # a refusal of the kernel found in the background is told in the page's language
    refused = planner.post("/planner/sites", data={
        "level": LEVEL, "year": str(year), "threshold_min": str(MINUTES), "p": "50",
        "max_candidates": "10", "csrf_token": csrf(planner)}, headers={"Accept": "application/json"})
    assert refused.status_code == 202
    failed = _finished(planner)
    assert failed["state"] == "failed" and failed["message"].startswith(
        "Không tìm được vị trí với lựa chọn này: p must be between 1 and 10"), failed
    english = planner.get("/planner/sites/status?lang=en").json()
    assert english["message"].startswith("No sites could be found with this choice")
    page = planner.get("/planner")
    assert '<div id="sites-error" role="alert" class="error"><p>Không tìm được vị trí' in page.text
    assert _one(planning_engine, "SELECT count(DISTINCT run_id) FROM proposed_sites") == 1

    what_if = planner.post("/planner/what-if", data={"run_id": run_id, "round_id": "demo-2026-g1",
                                                     "csrf_token": csrf(planner)})
    assert what_if.status_code == 200
    rows = re.findall(r'<tr data-case="(before|after)"><th scope="row">[^<]+</th><td>(\d+)</td>',
                      re.search(r'<table class="list what-if-table">.*?</table>', what_if.text, re.S)
                      .group(0))  # type: ignore[union-attr]
    assert [r[0] for r in rows] == ["before", "after"] and int(rows[1][1]) == int(rows[0][1]) + 2
    with planning_engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM audit_log WHERE actor = 'planner1'"
                                       " AND action LIKE 'planning.%' AND action NOT LIKE '%\\_failed'"
                                       " AND action <> 'planning.sites_started'"
                                       " ORDER BY id")).scalars().all()
    assert actions == ["planning.forecast", "planning.gaps", "planning.sites", "planning.what_if"]
