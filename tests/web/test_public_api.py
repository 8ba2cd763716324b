"""Public JSON API: school search (diacritics optional), address search, nearest schools by
road, downloads with licence and data date."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from web.i18n import fold, matches


def _count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def test_fold_removes_vietnamese_diacritics() -> None:
    assert fold("Trường THPT Mẫu  Đức") == "truong thpt mau duc"
    assert fold("ĐƯỜNG Mẫu") == "duong mau"


def test_matches_with_or_without_diacritics() -> None:
    name = "Trường Tiểu học Mẫu 12"
    assert matches("tieu hoc mau 12", name) and matches("Tiểu học", name)
    assert matches("TIỂU HỌC", name)
    assert not matches("mầu", name)  # typed diacritics must be the right ones
    assert not matches("trung hoc", name)


def test_school_search_filters_agree_with_the_database(client: TestClient, demo_engine: Engine) -> None:
    body = client.get("/api/schools", params={"level": "primary", "ownership": "private",
                                              "district": "DM03"}).json()
    assert len(body["features"]) == _count(
        demo_engine, "SELECT count(*) FROM schools WHERE level = 'primary' AND ownership = 'private'"
                     " AND district_code = 'DM03'")
    assert "ODbL" in body["licence"] and body["dataDate"]
    plain = client.get("/api/schools", params={"q": "truong mam non mau 7"}).json()["features"]
    marked = client.get("/api/schools", params={"q": "Trường Mầm non Mẫu 7"}).json()["features"]
    assert plain == marked and {f["id"] for f in plain} >= {"DM-MN-007"}


@pytest.mark.parametrize("query", ["level=college", "ownership=state", "q=" + "x" * 101])
def test_school_search_rejects_bad_filters(client: TestClient, query: str) -> None:
    assert client.get(f"/api/schools?{query}").status_code == 400


def test_geocode_finds_streets_and_wards_without_diacritics(client: TestClient) -> None:
    places = client.get("/api/geocode", params={"q": "duong mau doc 3"}).json()["places"]
    assert places[0]["label"] == "Đường Mẫu Dọc 3" and places[0]["kind"] == "street"
    wards = client.get("/api/geocode", params={"q": "phuong mau 2.3"}).json()["places"]
    assert wards[0]["kind"] == "ward" and wards[0]["label"].startswith("Phường Mẫu 2.3")
    assert client.get("/api/geocode", params={"q": "x"}).status_code == 400


def test_nearest_ranks_by_road_time_and_road_is_never_shorter_than_crow(client: TestClient) -> None:
    lon, lat = 106.65, 10.75
    body = client.get("/api/nearest", params={"lon": lon, "lat": lat, "level": "primary",
                                              "k": 5}).json()
    assert body["method"] == "road" and body["mode"] == "motorbike"
    schools = body["schools"]
    assert [s["rank"] for s in schools] == [1, 2, 3, 4, 5]
    assert {s["level"] for s in schools} == {"primary"}
    times = [s["time_s"] for s in schools]
    assert times == sorted(times)
    for s in schools:
        crow_m = math.hypot((s["lon"] - lon) * 111_320 * math.cos(math.radians(lat)),
                            (s["lat"] - lat) * 110_574)
        assert s["distance_m"] >= crow_m * 0.99
    walk = client.get("/api/nearest", params={"lon": lon, "lat": lat, "level": "primary",
                                              "mode": "walk", "k": 1}).json()["schools"][0]
    assert walk["time_s"] > schools[0]["time_s"]  # walking is slower than a motorbike


@pytest.mark.parametrize("query", ["lon=500&lat=10", "lon=106.6&lat=10.7&mode=plane",
                                   "lon=106.6&lat=10.7&k=50", "lon=106.6&lat=10.7&level=college",
                                   "lat=10.7"])
def test_nearest_rejects_bad_input(client: TestClient, query: str) -> None:
    assert client.get(f"/api/nearest?{query}").status_code == 400


def test_nearest_falls_back_to_crow_flies_without_roads(empty_client: TestClient,
                                                        engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, geom) VALUES"
            " ('A', 'Gần', 'primary', 'public', ST_SetSRID(ST_Point(106.701, 10.777), 4326)),"
            " ('B', 'Xa', 'primary', 'public', ST_SetSRID(ST_Point(106.72, 10.79), 4326))"))
    body = empty_client.get("/api/nearest", params={"lon": 106.7, "lat": 10.777, "k": 2}).json()
    assert body["method"] == "crow" and [s["code"] for s in body["schools"]] == ["A", "B"]
    assert body["schools"][0]["time_s"] is None


def test_downloads_carry_licence_and_data_date(client: TestClient, demo_engine: Engine) -> None:
    total = _count(demo_engine, "SELECT count(*) FROM schools")
    response = client.get("/download/schools.csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbfcode,name,")  # UTF-8 BOM: Excel reads it as UTF-8
    text = body.decode("utf-8-sig")
    assert not [line for line in text.splitlines() if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == total and rows[0]["code"] and rows[0]["lon"]
    # licence and date in the CSV on the Web sidecar the Link header points to
    link = re.fullmatch(r'<([^>]+)>; rel="describedby"; type="application/csvm\+json"',
                        response.headers["link"])
    assert link is not None
    meta = client.get(link.group(1))
    assert meta.headers["content-type"].startswith("application/csvm+json")
    described = meta.json()
    assert described["url"] == "schools.csv" and "opendatacommons" in described["dc:license"]["@id"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", described["dc:modified"])
    assert [c["name"] for c in described["tableSchema"]["columns"]] == list(rows[0])
    geojson = client.get("/download/schools.geojson")
    assert "attachment" in geojson.headers["content-disposition"]
    body = geojson.json()
    assert len(body["features"]) == total and "ODbL" in body["licence"] and body["dataDate"]


def test_prepared_search_equals_routing_nearest_schools(client: TestClient, demo_engine: Engine,
                                                        tmp_path: Path) -> None:
    import numpy as np

    import routing
    from routing.finder import load_network

    network = load_network(demo_engine)
    assert network is not None
    graph = routing.build_graph(network.layer, "motorbike", cache_dir=tmp_path)
    schools = network.schools
    origins = np.array([[106.62, 10.70], [106.70, 10.80], [106.75, 10.72]])
    expected = routing.nearest_schools(graph, origins, schools[["lon", "lat"]].to_numpy(),
                                       schools["code"].tolist(), k=4,
                                       school_levels=schools["level"].tolist(), level="lower_secondary")
    for i, (lon, lat) in enumerate(origins):
        got = client.get("/api/nearest", params={"lon": lon, "lat": lat, "k": 4,
                                                 "level": "lower_secondary"}).json()["schools"]
        want = expected[expected["origin_id"] == i]
        assert [s["code"] for s in got] == want["school_code"].tolist()
        assert [s["time_s"] for s in got] == pytest.approx(want["time_s"].tolist(), abs=0.1)
        assert [s["distance_m"] for s in got] == pytest.approx(want["distance_m"].tolist(), abs=0.1)
    # the answers above came from the prepared labels, not the slow public fallback
    state = client.app.state.finder  # type: ignore[attr-defined]
    assert isinstance(state.warm("motorbike", "lower_secondary")[1].index, routing.NearestIndex)


def test_isochrones_grow_with_minutes_and_contain_the_nearest_school(client: TestClient) -> None:
    from shapely.geometry import Point, shape

    lon, lat = 106.65, 10.75
    body = client.get("/api/isochrone", params={"lon": lon, "lat": lat, "minutes": "5,10"}).json()
    minutes = [f["properties"]["minutes"] for f in body["features"]]
    assert minutes == [10, 5]
    ten, five = (shape(f["geometry"]) for f in body["features"])
    assert ten.area > five.area and ten.contains(Point(lon, lat))
    schools = client.get("/api/nearest", params={"lon": lon, "lat": lat, "k": 20}).json()["schools"]
    within = [s for s in schools if s["time_s"] < 10 * 60]
    assert within  # the demo city has schools within 10 minutes of its centre
    for school in within:  # reachable in time: inside the area (schools sit up to ~12 m off-road)
        assert ten.buffer(0.0005).contains(Point(school["lon"], school["lat"])), school


@pytest.mark.parametrize("query", ["minutes=abc", "minutes=0", "minutes=5,10,15,20,25", "mode=plane",
                                   "minutes=90"])
def test_isochrone_rejects_bad_input(client: TestClient, query: str) -> None:
    assert client.get(f"/api/isochrone?lon=106.65&lat=10.75&{query}").status_code == 400


def test_isochrone_without_roads_is_409(empty_client: TestClient) -> None:
    assert empty_client.get("/api/isochrone?lon=106.65&lat=10.75").status_code == 409


def _spy_fast_path(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bool]:
    """Record what the fast lane's ``name`` handler answered (True) or passed on (False)."""
    import web.fastpath

    handler = getattr(web.fastpath, name)
    answered: list[bool] = []

    async def spy(scope: Any, send: Any) -> bool:
        answered.append(await handler(scope, send))
        return answered[-1]

    monkeypatch.setattr(web.fastpath, name, spy)
    return answered


def test_nearest_fast_lane_answers_as_the_route_does(client: TestClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    answered = _spy_fast_path(monkeypatch, "nearest_fast")
    plain = "/api/nearest?lon=106.66&lat=10.76&level=primary&k=3"
    cold = client.get(plain)  # prepares the search: the route answers
    fast = client.get(plain)
    routed = client.get("/api/nearest?lon=106.66&lat=10.76&level=prim%61ry&k=3")  # an escape
    assert answered == [False, True, False]
    assert cold.status_code == fast.status_code == routed.status_code == 200
    assert cold.content == fast.content == routed.content
    assert len(fast.json()["schools"]) == 3
    for header in ("content-type", "content-security-policy", "x-frame-options",
                   "x-content-type-options", "referrer-policy"):
        assert fast.headers[header] == routed.headers[header], header


@pytest.mark.parametrize("query", ["lon=500&lat=10", "lon=106.6&lat=10.7&mode=plane",
                                   "lon=106.6&lat=10.7&k=50", "lon=106.6&lat=10.7&k=0",
                                   "lon=106.6&lat=10.7&level=college", "lat=10.7",
                                   "lon=106.6&lat=nan", "lon=1e3&lat=10.7", "lon=106.6&lat=-91"])
def test_nearest_rejects_bad_input_once_the_search_is_warm(client: TestClient, query: str) -> None:
    assert client.get("/api/nearest?lon=106.66&lat=10.76").status_code == 200  # warm
    response = client.get(f"/api/nearest?{query}")
    assert response.status_code == 400, query
    assert response.json()["code"] == "InvalidParameterValue"


@pytest.mark.parametrize("query", ["lon=106.0&lat=10.0", "lon=1e2&lat=10.7"])
def test_a_home_the_roads_do_not_reach_is_409_like_no_roads(client: TestClient, query: str) -> None:
    """A well-formed point the loaded network does not reach is not the client's mistake (a
    400), but the data's: 409, as when no road network is loaded; the document says so."""
    for warm in (False, True):
        if warm:
            assert client.get("/api/nearest?lon=106.66&lat=10.76").status_code == 200
        response = client.get(f"/api/nearest?{query}")
        assert response.status_code == 409, (query, warm)
        assert response.json()["code"] == "OffRoadNetwork"
        assert "too far from the road network" in response.json()["description"]
    isochrone = client.get(f"/api/isochrone?{query}")
    assert isochrone.status_code == 409 and isochrone.json()["code"] == "OffRoadNetwork"
    documented = client.app.openapi()["paths"]["/api/nearest"]["get"]["responses"]  # type: ignore[attr-defined]
    assert "409" in documented


def test_concurrent_homes_share_one_query_with_the_same_answers(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from web.finder import OffNetworkError

    assert client.get("/api/nearest?lon=106.66&lat=10.76&level=primary").status_code == 200
    state = client.app.state.finder  # type: ignore[attr-defined]
    search = state.warm("motorbike", "primary")[1]
    homes = [(106.60 + 0.013 * i, 10.70 + 0.011 * i, 1 + i % 5) for i in range(12)]
    calls: list[int] = []
    query = search.index.query

    def counted(points: Any, k: Any = None) -> Any:
        calls.append(len(points))
        return query(points, k)

    monkeypatch.setattr(search.index, "query", counted)

    async def ask(points: list[tuple[float, float, int]]) -> list[Any]:
        return await asyncio.gather(*(search.nearest_soon(lon, lat, k) for lon, lat, k in points),
                                    return_exceptions=True)

    together = asyncio.run(ask(homes))
    assert calls == [len(homes)]  # one query for the twelve homes
    assert together == [search.nearest(lon, lat, k) for lon, lat, k in homes]
    assert [len(ranked) for ranked in together] == [k for _, _, k in homes]
    # a home far from the roads fails alone; the others still get their answers
    mixed = asyncio.run(ask([*homes[:3], (106.0, 10.0, 3)]))
    assert mixed[:3] == together[:3] and isinstance(mixed[3], OffNetworkError)


def test_finder_routes_on_the_basemap_in_use(engine: Engine) -> None:
    from basemaps.demo_city import generate_road_layer
    from basemaps.in_use import use_basemap
    from basemaps.store import store_roads
    from web.finder import FinderState

    store_roads(engine, generate_road_layer(target_nodes=400, seed=1), "first")
    store_roads(engine, generate_road_layer(target_nodes=600, seed=2), "second")
    network = FinderState().network(engine)
    assert network is not None and network.basemap == "first"  # imported later, not in use
    use_basemap(engine, "second")
    moved = FinderState().network(engine)
    assert moved is not None and moved.basemap == "second"


def test_a_school_off_the_roads_is_left_out_of_the_ranking_not_an_error(
        caplog: pytest.LogCaptureFixture) -> None:
    import numpy as np
    import pandas as pd

    import routing
    from basemaps.demo_city import generate_road_layer
    from routing.finder import PreparedSearch

    graph = routing.build_graph(generate_road_layer(900, seed=4), "motorbike", use_cache=False)
    lon, lat = graph.to_lonlat().transform(*graph.node_xy[:3].T)
    schools = pd.DataFrame({"code": ["A", "B", "FAR"], "lon": [lon[0], lon[1], lon[2] + 0.5],
                            "lat": [lat[0], lat[1], lat[2]]})
    search = PreparedSearch.build(graph, schools)
    ranked = search.nearest(float(lon[0]), float(lat[0]), 5)
    assert [code for code, *_ in ranked] == ["A", "B"]
    assert "FAR" in caplog.text and "left out" in caplog.text
    assert np.isfinite([t for _, t, _ in ranked]).all()
