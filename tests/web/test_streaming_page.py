"""The planners' streaming page (issue 15): ward table and map data for a year and threshold,
the city's row first, in Vietnamese and English, for planners only, errors in the page's
language."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from basemaps.fetch import load_road_layer
from gis_service.accounts import create_user
from routing.scenario_store import add_edits, create_scenario
from tests.conftest import _clone, database_env
from tests.support.scenarios import bridge_edit
from tests.support.web import PASSWORD, login, settle


@pytest.fixture(scope="module")
def planner(demo_engine: Engine) -> Iterator[TestClient]:
    from gis_service import db
    from web.app import create_app

    demo_engine.dispose()  # a template database must have no open connections
    url = _clone(demo_engine.url.render_as_string(hide_password=False))
    engine = db.create_engine(url)
    create_user(engine, "planner1", PASSWORD, "planner")
    create_user(engine, "officer1", PASSWORD, "officer")
    create_scenario(engine, "cau-moi", "a bridge across the river")
    add_edits(engine, "cau-moi", [bridge_edit(load_road_layer(engine))])
    with (pytest.MonkeyPatch.context() as monkeypatch,
          database_env(engine, monkeypatch), TestClient(create_app()) as client):
        login(client, "planner1")
        yield client
        settle(client.app)
    engine.dispose()
    db.drop_database(url)


def _cells(html: str, row_class: str) -> list[str]:
    row = re.search(rf'<tr class="{row_class}">(.*?)</tr>', html, re.S)
    assert row is not None
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row[1], re.S)]


def test_the_streaming_page_shows_the_wards_and_the_city(planner: TestClient) -> None:
    officer = TestClient(planner.app)
    login(officer, "officer1")
    assert officer.get("/planner/streaming").status_code == 403
    assert 'href="/planner/streaming"' in planner.get("/planner").text

    page = planner.get("/planner/streaming?year=2028&threshold_min=10&lang=vi")
    assert page.status_code == 200
    html = page.text
    assert "Phân luồng sau lớp 9" in html and "dự báo từ dân số theo độ tuổi" in html
    assert "2027–2028" in html
    city = _cells(html, "city")
    assert city[0] == "Toàn thành phố"
    leavers, public, remainder = (int(city[i].replace(".", "")) for i in (1, 3, 4))
    assert leavers > 1000 and 0 < public < leavers and remainder == pytest.approx(leavers - public, abs=1)
    features = json.loads(unescape(re.search(r'data-features="([^"]*)"', html)[1]))  # type: ignore[index]
    assert len(features["features"]) == html.count("<tr data-ward=")
    assert sum(f["properties"]["leavers"] for f in features["features"]) == pytest.approx(leavers, abs=1)
    assert all(f["properties"]["remainder"] >= 0 for f in features["features"])
    assert "/static/js/streaming.js" in html and "/static/css/streaming.css" in html

    english = planner.get("/planner/streaming?year=2026&threshold_min=10&lang=en")
    assert english.status_code == 200
    assert "Streaming after grade 9" in english.text and "as counted" in english.text
    assert _cells(english.text, "city")[0] == "Whole city"
    assert "," in _cells(english.text, "city")[1]  # thousands marked the English way


def test_a_refused_request_is_told_in_the_page_s_language(planner: TestClient) -> None:
    far = planner.get("/planner/streaming?year=2028&threshold_min=500&lang=vi")
    assert far.status_code == 400 and "Thời gian đi phải từ 1 đến 120 phút" in far.text
    far_en = planner.get("/planner/streaming?year=2028&threshold_min=500&lang=en")
    assert far_en.status_code == 400 and "between 1 and 120 minutes" in far_en.text
    early = planner.get("/planner/streaming?year=2010&threshold_min=10&lang=vi")
    assert early.status_code == 409 and "năm tuyển sinh đầu tiên là 2017" in early.text
    early_en = planner.get("/planner/streaming?year=2010&threshold_min=10&lang=en")
    assert "the first admission year is 2017" in early_en.text


def test_a_transport_scenario_shows_the_change_of_public_places(planner: TestClient) -> None:
    base = planner.get("/planner/streaming?year=2028&threshold_min=12&lang=vi")
    assert '<option value="cau-moi">cau-moi</option>' in base.text
    assert "Thay đổi chỗ công lập" not in base.text
    page = planner.get("/planner/streaming?year=2028&threshold_min=12&scenario=cau-moi&lang=vi")
    assert page.status_code == 200
    assert "Theo kịch bản giao thông «cau-moi»" in page.text and "Thay đổi chỗ công lập" in page.text
    change = _cells(page.text, "city")[-1]
    assert change == "0" or change.startswith("+")  # a bridge only adds roads
    features = json.loads(unescape(re.search(r'data-features="([^"]*)"', page.text)[1]))  # type: ignore[index]
    assert all(f["properties"]["public_seats_change"] is not None for f in features["features"])
    unknown = planner.get("/planner/streaming?year=2028&scenario=khong-co&lang=en")
    assert unknown.status_code == 404 and "No transport scenario &#39;khong-co&#39;" in unknown.text
