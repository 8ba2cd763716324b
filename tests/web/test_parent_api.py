"""The finder's other answers: the catchment a home falls in, the route to a school, and the
grade-10 cut-off outlook with a chance band."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy.engine import Engine

import routing
from basemaps.fetch import load_road_layer
from forecasting.cutoffs import chance_band


def _one(engine: Engine, sql: str, **params: object) -> tuple[object, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(sql), params).one())


def test_catchment_of_a_home_lists_the_schools_serving_its_ward(client: TestClient,
                                                                demo_engine: Engine) -> None:
    ward, lon, lat = _one(demo_engine, "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code,"
                                       " ST_PointOnSurface(geom) p FROM admin_units WHERE level = 'ward'"
                                       " ORDER BY code LIMIT 1) x")
    body = client.get("/api/catchment", params={"lon": lon, "lat": lat, "level": "primary"}).json()
    assert body["ward"]["code"] == ward
    with demo_engine.connect() as conn:
        expected = sorted(conn.execute(sa.text(
            "SELECT c.school_code FROM catchments c JOIN schools s ON s.code = c.school_code"
            " WHERE c.ward_code = :w AND s.level = 'primary'"), {"w": ward}).scalars())
    assert sorted(f["id"] for f in body["features"]) == expected and expected
    for feature in body["features"]:
        assert ward in feature["properties"]["ward_codes"]
        assert shape(feature["geometry"]).buffer(1e-9).contains(Point(lon, lat))


@pytest.mark.parametrize("params", [{"lon": 106.7, "lat": 10.78, "level": "upper_secondary"},
                                    {"lon": 200, "lat": 10.78}, {"lon": "x", "lat": 10.78}])
def test_catchment_rejects_bad_parameters(client: TestClient, params: dict[str, object]) -> None:
    response = client.get("/api/catchment", params=params)
    assert response.status_code == 400 and response.json()["description"]


def test_catchment_off_every_ward_is_empty_not_an_error(client: TestClient) -> None:
    body = client.get("/api/catchment", params={"lon": 105.0, "lat": 9.0}).json()
    assert body["ward"] is None and body["features"] == []


def test_route_to_a_school_matches_the_ranking(client: TestClient, demo_engine: Engine) -> None:
    lon, lat = 106.70, 10.78
    ranked = client.get("/api/nearest", params={"lon": lon, "lat": lat, "level": "primary",
                                                "k": 3}).json()["schools"]
    for school in ranked:
        feature = client.get("/api/route", params={"lon": lon, "lat": lat, "school": school["code"]}).json()
        assert feature["properties"]["school_code"] == school["code"]
        # the ranking rounds times to 0.1 s
        assert feature["properties"]["time_s"] == pytest.approx(school["time_s"], abs=0.051)
        assert feature["properties"]["distance_m"] == pytest.approx(school["distance_m"], abs=0.5)
        coords = np.array(feature["geometry"]["coordinates"])
        assert np.allclose(coords[0], [lon, lat], atol=1e-6)
        assert np.allclose(coords[-1], [school["lon"], school["lat"]], atol=1e-6)
    # the route's length is its geometry's length on the ground
    graph = routing.build_graph(load_road_layer(demo_engine), "motorbike")
    direct = routing.route(graph, (lon, lat), (ranked[0]["lon"], ranked[0]["lat"]))
    assert direct.distance_m == pytest.approx(ranked[0]["distance_m"], abs=0.5)


def test_route_errors_name_the_problem(client: TestClient) -> None:
    unknown = client.get("/api/route", params={"lon": 106.7, "lat": 10.78, "school": "NOPE"})
    assert unknown.status_code == 404 and "NOPE" in unknown.json()["description"]
    far = client.get("/api/route", params={"lon": 106.2, "lat": 10.3, "school": "DM-TH-001"})
    assert far.status_code == 409 and "origin" in far.json()["description"]
    assert far.json()["code"] == "OffRoadNetwork"
    assert client.get("/api/route", params={"lon": 106.7, "lat": 10.78, "school": "DM-TH-001",
                                            "mode": "plane"}).status_code == 400


def test_cutoff_outlook_gives_history_forecast_and_chance(client: TestClient,
                                                          demo_engine: Engine) -> None:
    code, last_year, last = _one(demo_engine, "SELECT school_code, year, cutoff_score FROM cutoffs"
                                              " WHERE admission_round = 'NV1' AND programme = 'regular'"
                                              " ORDER BY school_code, year DESC LIMIT 1")
    body = client.get("/api/cutoff-outlook", params={"schools": f"{code},DM-NOPE", "score": 30}).json()
    first, unknown = body["schools"]
    assert first["history"][-1] == {"year": last_year, "cutoff": last}
    forecast = first["forecast"]
    assert forecast["year"] == last_year + 1
    assert forecast["lower"] <= forecast["predicted"] <= forecast["upper"]
    assert forecast["coverage"] == 0.8 and forecast["backtest_n"] > 0  # 2022-2025 backtested
    assert 0.7 <= forecast["backtest_coverage"] <= 0.9
    assert first["chance"]["code"] == chance_band(30, forecast["lower"], forecast["upper"]).code
    low = client.get("/api/cutoff-outlook", params={"schools": code, "score": 0}).json()["schools"][0]
    assert low["chance"]["code"] == "kha_nang_thap"
    assert unknown == {"code": "DM-NOPE", "history": [], "forecast": None, "chance": None}
    assert "promise" in body["note_en"]
    assert client.get("/api/cutoff-outlook", params={"schools": ",".join(["A"] * 21)}).status_code == 400
    assert client.get("/api/cutoff-outlook", params={"schools": code, "score": -1}).status_code == 400
    assert body["max_score"] == 30
    # 30 is the grade-10 maximum: above it is refused, with the limit named
    above = client.get("/api/cutoff-outlook", params={"schools": code, "score": 30.25})
    assert above.status_code == 400 and "30" in above.json()["description"]


@pytest.mark.parametrize("ownership", ["public", "private"])
def test_nearest_of_one_ownership_ranks_only_those(client: TestClient, demo_engine: Engine,
                                                   ownership: str) -> None:
    lon, lat = 106.70, 10.78
    params = {"lon": lon, "lat": lat, "level": "primary", "k": 5}
    body = client.get(f"/api/nearest/{ownership}", params=params).json()
    assert body["method"] == "road" and body["ownership"] == ownership
    schools = body["schools"]
    assert len(schools) == 5 and all(s["ownership"] == ownership for s in schools)
    assert [s["rank"] for s in schools] == [1, 2, 3, 4, 5]
    times = [s["time_s"] for s in schools]
    assert times == sorted(times)
    # the same schools, in the same order, as the full ranking keeps of that ownership: the
    # five nearest of the kind, not those of the kind among the five nearest of all
    every = client.get("/api/nearest", params={**params, "k": 20}).json()["schools"]
    kept = [s["code"] for s in every if s["ownership"] == ownership]
    if len(kept) >= 5:
        assert [s["code"] for s in schools] == kept[:5]
    else:  # fewer of that kind among the twenty nearest: the filter reaches farther
        assert [s["code"] for s in schools][:len(kept)] == kept
    with demo_engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM schools WHERE level = 'primary'"
                                     " AND ownership = :o"), {"o": ownership}).scalar_one()
    assert total >= 5


def test_nearest_of_one_ownership_rejects_bad_parameters(client: TestClient) -> None:
    params = {"lon": 106.70, "lat": 10.78}
    assert client.get("/api/nearest/state", params=params).status_code == 400
    assert client.get("/api/nearest/public", params={**params, "k": 21}).status_code == 400
    assert client.get("/api/nearest/public", params={**params, "mode": "plane"}).status_code == 400
