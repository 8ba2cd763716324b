"""Homes far from every road, and homes not given: rounds run, flag and count them.

A home farther than ``max_offroad_m`` from every road of the mode gets straight-line
distances at the mode's off-road speed (flagged in its reason, counted in the figures);
mincost runs when some grade-10 homes are missing (choice-rank cost for those).
"""

from __future__ import annotations

import importlib.util
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString
from sqlalchemy.engine import Engine

import routing
from admissions import allocate, build_problem, haversine_m, service
from admissions.explain import OFFROAD_NOTE, offroad_figures, result_frame
from admissions.min_cost import rank_cost_without_home
from admissions.road_distance import RoadNetwork, road_distances
from basemaps.road_layer import RoadLayer
from basemaps.store import store_roads
from gis_service.errors import InputError

LON0, LAT0, STEP = 106.69, 10.77, 0.004  # a 6 x 6 street grid, blocks of ~440 m
MOTORBIKE_OFFROAD_MPS = 8.0 / 3.6


def _grid_layer(size: int = 6) -> RoadLayer:
    ids = np.arange(size * size) + 1
    lon = LON0 + (np.arange(size * size) % size) * STEP
    lat = LAT0 + (np.arange(size * size) // size) * STEP
    rows = []
    for here in range(size * size):
        right = [here + 1] if here % size + 1 < size else []
        up = [here + size] if here + size < size * size else []
        for there in right + up:
            rows.append({
                "u": int(ids[here]), "v": int(ids[there]), "osm_id": 0, "highway": "residential",
                "oneway": False, "maxspeed_kmh": np.nan, "access": "", "name": "",
                "length_m": float(haversine_m(lon[here], lat[here], lon[there], lat[there])),
                "geometry": LineString([(lon[here], lat[here]), (lon[there], lat[there])]),
            })
    nodes = pd.DataFrame({"node_id": ids, "lon": lon, "lat": lat})
    return RoadLayer(nodes, pd.DataFrame(rows), source="grid")


#: Three upper secondary schools on grid corners, three seats each.
SCHOOLS = pd.DataFrame({
    "code": ["H1", "H2", "H3"], "name": ["THPT Một", "THPT Hai", "THPT Ba"],
    "lon": [LON0, LON0 + 5 * STEP, LON0], "lat": [LAT0, LAT0, LAT0 + 5 * STEP],
})
#: Six homes on the grid, four 3-5 km east of it (no road within 500 m), two not given.
HOMES = (
    [(LON0 + 0.0005 + i * STEP, LAT0 + 0.0004) for i in range(6)]
    + [(LON0 + 5 * STEP + 0.03 + 0.01 * i, LAT0 + 0.002) for i in range(4)]
    + [(None, None)] * 2
)
FAR = [f"A{i:02d}" for i in range(6, 10)]
NO_HOME = ["A10", "A11"]


def _applicants_csv(path: Path) -> Path:
    lines = ["applicant_id,score,choice1,choice2,choice3,lon,lat"]
    for i, (lon, lat) in enumerate(HOMES):
        score = 29.5 - 0.5 * i
        order = ["H1", "H2", "H3"] if i % 2 else ["H2", "H1", "H3"]
        where = "," if lon is None else f"{lon},{lat}"
        lines.append(f"A{i:02d},{score},{','.join(order)},{where}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def grid_round(engine: Engine, tmp_path: Path) -> tuple[Engine, str]:
    """A grade-10 round on the grid city: 12 applicants for 9 seats."""
    store_roads(engine, _grid_layer(), "grid")
    with engine.begin() as conn:
        for row in SCHOOLS.itertuples(index=False):
            conn.execute(sa.text(
                "INSERT INTO schools (code, name, level, ownership, capacity_grade10, geom)"
                " VALUES (:c, :n, 'upper_secondary', 'public', 3,"
                " ST_SetSRID(ST_Point(:x, :y), 4326))"),
                {"c": row.code, "n": row.name, "x": row.lon, "y": row.lat})
    round_id = f"off-{uuid.uuid4().hex[:6]}"
    service.create_round(engine, round_id, 10, 2026, "da", seed=3)
    service.import_applicants(engine, round_id, _applicants_csv(tmp_path / "hoso.csv"))
    return engine, round_id


@pytest.mark.parametrize("mechanism", ["da", "hcmc", "mincost"])
def test_far_homes_are_flagged_not_refused(grid_round: tuple[Engine, str], mechanism: str) -> None:
    engine, round_id = grid_round
    figures = service.run_round(engine, round_id, mechanism)
    assert figures["offroad_homes"] == len(FAR)
    assert figures["without_home"] == len(NO_HOME)
    assert figures["max_offroad_m"] == 500.0
    assert figures["placed"] == 9  # every seat is taken
    results = service.results_frame(engine, round_id).set_index("applicant_id")
    placed_far = [a for a in FAR if results.at[a, "school_code"]]
    assert figures["offroad_placed"] == len(placed_far)
    for applicant in FAR:
        assert results.at[applicant, "reason"].endswith(OFFROAD_NOTE[0])
        assert results.at[applicant, "reason_en"].endswith(OFFROAD_NOTE[1])
    for applicant in results.index.difference(FAR):
        assert OFFROAD_NOTE[1] not in results.at[applicant, "reason_en"]
    for applicant in placed_far:  # straight line at the motorbike's off-road speed
        home = HOMES[int(applicant[1:])]
        school = SCHOOLS.set_index("code").loc[results.at[applicant, "school_code"]]
        straight = float(haversine_m(np.array(home[0]), np.array(home[1]),
                                     np.array(school["lon"]), np.array(school["lat"])))
        assert results.at[applicant, "distance_m"] == pytest.approx(straight, abs=0.05)  # 0.1 m
        assert results.at[applicant, "time_s"] == pytest.approx(straight / MOTORBIKE_OFFROAD_MPS)
        assert "straight-line" in results.at[applicant, "reason_en"]
    explained = service.explain_applicant(engine, round_id, FAR[0])
    assert OFFROAD_NOTE[1] in explained["reason_en"]
    stored = service.get_round(engine, round_id).parameters
    assert stored["max_offroad_m"] == 500.0 and stored["offroad_homes"] == len(FAR)


def test_mincost_places_applicants_without_a_home_by_choice_order(
    grid_round: tuple[Engine, str],
) -> None:
    engine, round_id = grid_round
    service.run_round(engine, round_id, "mincost")
    results = service.results_frame(engine, round_id).set_index("applicant_id")
    for applicant in NO_HOME:
        # their journeys are unknown (cost 0, 1, 2 by rank): seated wherever homed
        # applicants would travel farther
        row = results.loc[applicant]
        assert pd.isna(row["distance_m"]) and row["school_code"]
        assert "no home given: placed by the order of choices only" in row["reason_en"]
        assert "không có địa chỉ nhà" in row["reason"]


def test_max_offroad_m_is_kept_with_the_run_and_used_by_overrides(
    grid_round: tuple[Engine, str],
) -> None:
    engine, round_id = grid_round
    figures = service.run_round(engine, round_id, "da", max_offroad_m=10_000)
    assert figures["offroad_homes"] == 0  # the far homes now reach the grid off-road
    assert service.get_round(engine, round_id).parameters["max_offroad_m"] == 10_000
    # the override recomputes the run with the stored limit: same inputs, so it is stored
    result = service.override_applicant(engine, round_id, FAR[0], "H3", "transport by boat",
                                        actor="officer", force=True)
    assert result["school_code"] == "H3"


def test_the_cli_takes_max_offroad_m(grid_round: tuple[Engine, str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tests.conftest import database_env
    from web.cli import app

    engine, round_id = grid_round
    with database_env(engine, monkeypatch):
        result = CliRunner().invoke(app, ["admissions", "run", "--round", round_id,
                                          "--max-offroad-m", "200"])
        refused = CliRunner().invoke(app, ["admissions", "run", "--round", round_id,
                                           "--max-offroad-m", "-1"])
        compared = CliRunner().invoke(app, ["admissions", "compare", "--round", round_id,
                                            "--max-offroad-m", "200"])
    assert result.exit_code == 0, result.output
    assert '"offroad_homes": 4' in result.output and '"max_offroad_m": 200.0' in result.output
    assert refused.exit_code == 2
    assert compared.exit_code == 0, compared.output
    assert "mincost" in compared.output.splitlines()[0]  # runs with two homes missing
    assert "skipped" not in compared.output


@pytest.fixture(scope="module")
def grid_network() -> RoadNetwork:
    graph = routing.build_graph(_grid_layer(), "motorbike", use_cache=False)
    return RoadNetwork(graph, SCHOOLS["lon"].to_numpy(), SCHOOLS["lat"].to_numpy(),
                       SCHOOLS["code"].tolist())


def test_grade1_far_homes_get_the_nearest_schools_in_a_straight_line(
    grid_network: RoadNetwork,
) -> None:
    applicants = pd.DataFrame({
        "applicant_id": ["near", "far"], "tier": np.array([1, 1], dtype=np.int8),
        "lon": [LON0 + 0.0005, LON0 - 0.02], "lat": [LAT0 + 0.0004, LAT0 + 5 * STEP + 0.001],
    })
    schools = SCHOOLS.assign(level="primary", ownership="public",
                             capacity_grade1=pd.array([1, 1, 1], dtype="Int64"),
                             capacity_grade6=pd.array([pd.NA] * 3, dtype="Int64"),
                             capacity_grade10=pd.array([pd.NA] * 3, dtype="Int64"))
    problem = build_problem(applicants, schools, 1, grid_network, candidates=3)
    assert problem.offroad is not None and problem.offroad.tolist() == [False, True]
    # far home: H3 (same latitude band) first, nearest in a straight line
    assert problem.choices[1].tolist() == [2, 0, 1]
    straight = haversine_m(np.full(3, LON0 - 0.02), np.full(3, LAT0 + 5 * STEP + 0.001),
                           SCHOOLS["lon"].to_numpy()[[2, 0, 1]], SCHOOLS["lat"].to_numpy()[[2, 0, 1]])
    assert np.allclose(problem.distance_m[1], straight)
    assert np.allclose(problem.time_s[1], straight / MOTORBIKE_OFFROAD_MPS)
    result = result_frame(problem, allocate(problem, "da"))
    assert result["distance_kind"].tolist() == ["road", "straight_line"]
    assert result["reason_en"].iloc[1].endswith(OFFROAD_NOTE[1])


def test_a_school_far_from_the_roads_is_refused_by_its_code(grid_network: RoadNetwork) -> None:
    network = RoadNetwork(grid_network.graph, np.array([LON0, LON0 + 0.05]),
                          np.array([LAT0, LAT0]), ["H1", "ISLAND"])
    with pytest.raises(InputError) as refused:
        network.pairs(np.array([LON0]), np.array([LAT0]), np.array([[0, 1]], dtype=np.int32))
    assert "'ISLAND'" in str(refused.value) and "schools" in str(refused.value)


def test_rank_cost_only_for_applicants_without_any_cost() -> None:
    choices = np.array([[0, 1, -1], [1, 0, 2], [0, -1, -1]], dtype=np.int32)
    cost = np.array([[120.0, 80.0, np.nan], [np.nan, np.nan, np.nan], [5.0, np.nan, np.nan]])
    filled, without = rank_cost_without_home(choices, cost)
    assert without.tolist() == [False, True, False]
    assert filled[1].tolist() == [0.0, 1.0, 2.0] and filled[0, :2].tolist() == [120.0, 80.0]
    nothing, none = rank_cost_without_home(choices, np.full((3, 3), np.nan))
    assert not none.any() and np.isnan(nothing).all()  # no cost at all: refused later


def test_offroad_figures_count_without_a_road_source() -> None:
    from tests.support.admissions_cases import grade10

    problem = grade10([20.0, 19.0], [[0], [0]], [1])
    figures = offroad_figures(problem, allocate(problem, "da"))
    assert figures == {"offroad_homes": 0, "offroad_placed": 0}


HCMC_BENCH = Path(__file__).resolve().parents[2] / "bench" / "admissions_offroad_real.py"


def test_real_2018_network_grade10_round_of_5000_flags_far_homes(hcmc: Path) -> None:
    """5,000 homes over the 22 districts on the real 2018 drive network: none refused."""
    spec = importlib.util.spec_from_file_location("admissions_offroad_real", HCMC_BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    applicants, schools = bench.synthetic_round(hcmc=hcmc)
    network = road_distances(hcmc / "roads" / "hcmc_drive_2018-01-01.graphml.gz", schools)
    started = time.perf_counter()
    problem = build_problem(applicants, schools, 10, network)
    assert time.perf_counter() - started < 10
    assert problem.offroad is not None
    far = int(problem.offroad.sum())
    assert 300 < far < 1000  # rural Củ Chi, Cần Giờ, Bình Chánh, parts of Thủ Đức
    assert np.isfinite(problem.distance_m[problem.choices >= 0]).all()
    for mechanism in ("da", "hcmc", "mincost"):
        allocation = allocate(problem, mechanism, seed=1)
        figures = offroad_figures(problem, allocation)
        assert figures["offroad_homes"] == far
        assert allocation.placed.sum() > 4_000 and figures["offroad_placed"] > 0.8 * far
    reasons = result_frame(problem, allocation)
    assert reasons.loc[problem.offroad, "reason_en"].str.endswith(OFFROAD_NOTE[1]).all()
    assert (reasons.loc[problem.offroad, "distance_kind"] == "straight_line").all()
