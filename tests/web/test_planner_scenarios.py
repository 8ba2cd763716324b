"""The planners' transport scenarios page (issue 15): create a scenario, upload a GeoJSON
edit (refusals named by feature and field in the page's language), compare it with the
network in use (ward table and map data, catchments, 2SFCA), delete it; planners only, CSRF."""

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
from tests.conftest import _clone, database_env
from tests.support.scenarios import bridge_edit
from tests.support.web import PASSWORD, csrf, login, settle


@pytest.fixture(scope="module")
def planner(demo_engine: Engine) -> Iterator[tuple[TestClient, Engine]]:
    from gis_service import db
    from web.app import create_app

    demo_engine.dispose()  # a template database must have no open connections
    url = _clone(demo_engine.url.render_as_string(hide_password=False))
    engine = db.create_engine(url)
    create_user(engine, "planner1", PASSWORD, "planner")
    create_user(engine, "officer1", PASSWORD, "officer")
    with (pytest.MonkeyPatch.context() as monkeypatch,
          database_env(engine, monkeypatch), TestClient(create_app()) as client):
        login(client, "planner1")
        yield client, engine
        settle(client.app)
    engine.dispose()
    db.drop_database(url)


def geojson(coords: list[list[float]], **props: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords}}]}).encode()


def test_a_scenario_is_made_uploaded_compared_and_deleted(
        planner: tuple[TestClient, Engine]) -> None:
    client, engine = planner
    assert client.get("/planner").text.count('href="/planner/scenarios"') == 1
    made = client.post("/planner/scenarios", data={"name": "cau-moi", "description": "một cây cầu",
                                                   "csrf_token": csrf(client)},
                       follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/planner/scenarios?name=cau-moi"
    assert client.post("/planner/scenarios", data={"name": "x"}).status_code == 403  # no CSRF

    bridge = bridge_edit(load_road_layer(engine))
    refused = client.post("/planner/scenarios/cau-moi/edits?lang=vi",
                          data={"kind": "road", "csrf_token": csrf(client)},
                          files={"file": ("cau.geojson", geojson(bridge.coords.tolist()))})
    assert refused.status_code == 422
    assert "cau.geojson #1 [speed_kmh]" in unescape(refused.text)
    assert "thiếu speed_kmh" in unescape(refused.text)
    added = client.post("/planner/scenarios/cau-moi/edits",
                        data={"kind": "road", "speed_kmh": "40", "csrf_token": csrf(client)},
                        files={"file": ("cau.geojson", geojson(bridge.coords.tolist(),
                                                               name="Cầu mới"))},
                        follow_redirects=False)
    assert added.status_code == 303
    shown = client.get(added.headers["location"] + "&lang=en")
    assert "1 edit(s) added." in shown.text
    edits = json.loads(unescape(re.search(r'data-edits="([^"]*)"', shown.text)[1]))  # type: ignore[index]
    assert [f["properties"]["label"] for f in edits["features"]] == ["Cầu mới"]

    page = client.get("/planner/scenarios?name=cau-moi&level=primary&lang=vi")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-ward="([^"]+)">', page.text)
    wards = json.loads(unescape(re.search(r'data-wards="([^"]*)"', page.text)[1]))  # type: ignore[index]
    assert len(rows) == len(wards["features"]) > 0
    changes = [f["properties"]["change_s"] for f in wards["features"]]
    assert min(c for c in changes if c is not None) < -1.0  # the bridge makes a ward faster
    assert "phường nhanh hơn" in page.text and "Chỗ học trong tầm đi lại" in page.text

    gone = client.post("/planner/scenarios/cau-moi/delete", data={"csrf_token": csrf(client)},
                       follow_redirects=False)
    assert gone.status_code == 303
    assert client.get("/planner/scenarios?name=cau-moi&lang=en").status_code == 404


def test_only_planners_see_the_page(planner: tuple[TestClient, Engine]) -> None:
    client, _ = planner
    from fastapi.testclient import TestClient as Client

    with Client(client.app) as officer:
        login(officer, "officer1")
        assert officer.get("/planner/scenarios").status_code == 403
    with Client(client.app) as anonymous:
        assert anonymous.get("/planner/scenarios", follow_redirects=False).status_code in (
            303, 401)
