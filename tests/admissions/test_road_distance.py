"""Road distances from routing feed the admissions problem (grade 1 default lists)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

import routing
from admissions import allocate, build_problem, haversine_m, read_applicants, read_schools
from admissions.road_distance import RoadNetwork, road_distances
from basemaps.road_layer import RoadLayer

QUAN1 = Path(os.environ.get(
    "EDUGIS_HCMC_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "hcmc"
)) / "roads" / "hcmc_quan1_osmnx_2025-03.graphml"


def _grid_layer(size: int = 5, step_deg: float = 0.002) -> RoadLayer:
    """A ``size`` x ``size`` street grid near Bến Thành, two-way residential streets."""
    lon0, lat0 = 106.69, 10.77
    ids, lons, lats = [], [], []
    for i in range(size):
        for j in range(size):
            ids.append(i * size + j + 1)
            lons.append(lon0 + j * step_deg)
            lats.append(lat0 + i * step_deg)
    nodes = pd.DataFrame({"node_id": ids, "lon": lons, "lat": lats})
    rows = []
    for i in range(size):
        for j in range(size):
            here = i * size + j
            for there in ([here + 1] if j + 1 < size else []) + (
                [here + size] if i + 1 < size else []
            ):
                line = LineString([(lons[here], lats[here]), (lons[there], lats[there])])
                rows.append({
                    "u": ids[here], "v": ids[there], "osm_id": 0, "highway": "residential",
                    "oneway": False, "maxspeed_kmh": np.nan, "access": "", "name": "",
                    "length_m": float(haversine_m(np.array(lons[here]), np.array(lats[here]),
                                                  np.array(lons[there]), np.array(lats[there]))),
                    "geometry": line,
                })
    return RoadLayer(nodes, pd.DataFrame(rows), source="grid")


@pytest.fixture(scope="module")
def grid_network() -> RoadNetwork:
    graph = routing.build_graph(_grid_layer(), "motorbike", use_cache=False)
    # schools on three grid corners
    return RoadNetwork(graph, np.array([106.69, 106.698, 106.69]),
                       np.array([10.77, 10.778, 10.778]))


def test_road_distance_follows_the_grid_not_the_diagonal(grid_network: RoadNetwork) -> None:
    lon, lat = np.array([106.698]), np.array([10.77])  # the corner opposite school 1 diagonal
    school, distance, time_s = grid_network.nearest(lon, lat, 3)
    # School 0 is 4 blocks west, school 1 is 4 blocks north, school 2 is 8 blocks away.
    assert sorted(school[0, :2].tolist()) == [0, 1]
    assert school[0, 2] == 2
    straight = haversine_m(lon, lat, np.array([106.69]), np.array([10.778]))[0]
    assert distance[0, 2] == pytest.approx(straight * 2 ** 0.5, rel=0.01)  # two legs of a square
    assert np.all(np.diff(time_s[0]) >= 0)
    pair_distance, pair_time = grid_network.pairs(lon, lat, school)
    assert np.allclose(pair_distance, distance) and np.allclose(pair_time, time_s)


def test_road_distances_are_never_shorter_than_straight_line(grid_network: RoadNetwork) -> None:
    rng = np.random.default_rng(1)
    lon = 106.69 + rng.uniform(0, 0.008, 30)
    lat = 10.77 + rng.uniform(0, 0.008, 30)
    every = np.broadcast_to(np.arange(3, dtype=np.int32), (30, 3))
    distance, _ = grid_network.pairs(lon, lat, np.ascontiguousarray(every))
    straight = haversine_m(lon[:, None], lat[:, None], grid_network.schools_lonlat[:, 0],
                           grid_network.schools_lonlat[:, 1])
    assert np.all(distance >= straight - 0.5)


def test_grade1_problem_with_road_distances_is_labelled_road(
    grid_network: RoadNetwork, tmp_path: Path
) -> None:
    schools = tmp_path / "s.csv"
    schools.write_text(
        "code,name,level,ownership,lon,lat,capacity_grade1\n"
        "P1,A,primary,public,106.69,10.77,1\nP2,B,primary,public,106.698,10.778,1\n"
        "P3,C,primary,public,106.69,10.778,5\n", encoding="utf-8")
    applicants = tmp_path / "a.csv"
    applicants.write_text(
        "applicant_id,lon,lat,tier\nc1,106.6905,10.7705,1\nc2,106.6910,10.7710,1\n"
        "c3,106.6975,10.7775,2\n", encoding="utf-8")
    school_frame = read_schools(schools)
    frame = read_applicants(applicants, 1, school_frame)
    problem = build_problem(frame, school_frame, 1, grid_network, candidates=3)
    assert problem.distance_kind == "road"
    result = allocate(problem, "da")
    assert result.assigned.tolist() == [0, 2, 1]  # c2 loses P1 to c1 who lives nearer


@pytest.mark.skipif(not QUAN1.exists(), reason=f"HCMC road file not found at {QUAN1}")
def test_quan1_roads_give_road_distances(tmp_path: Path) -> None:
    schools = pd.DataFrame({"lon": [106.6950, 106.7009, 106.6980],
                            "lat": [10.7800, 10.7769, 10.7700]})
    network = road_distances(QUAN1, schools, "motorbike")
    lon = np.array([106.6960, 106.7000, 106.6920])
    lat = np.array([10.7750, 10.7800, 10.7690])
    school, distance, _ = network.nearest(lon, lat, 3)
    straight = haversine_m(lon[:, None], lat[:, None], schools["lon"].to_numpy()[school],
                           schools["lat"].to_numpy()[school])
    assert np.all(school >= 0)
    assert np.all(distance >= straight - 1.0)
    assert np.all(distance < 4 * straight + 1500)
