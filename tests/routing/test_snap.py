"""Snapping: nearest edge (not node), partial lengths, off-road leg, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from basemaps.demo_city import RIVER_HALF_WIDTH_M, generate_road_layer, river_centre_y
from basemaps.road_layer import RoadLayer
from gis_service.errors import InputError
from routing import build_graph, nearest_schools, snap_points
from tests.support.routing import random_layer


def straight_road(length_deg: float = 0.004) -> RoadLayer:
    lon = np.array([106.700, 106.700 + length_deg])
    lat = np.array([10.780, 10.780])
    nodes = pd.DataFrame({"node_id": [1, 2], "lon": lon, "lat": lat})
    edges = pd.DataFrame({
        "u": [1], "v": [2], "osm_id": [9], "highway": ["residential"], "oneway": [False],
        "maxspeed_kmh": [np.nan], "access": [""], "name": ["Đường Thẳng"], "length_m": [437.2],
        "geometry": [shapely.LineString(np.column_stack([lon, lat]))],
    })
    return RoadLayer(nodes=nodes, edges=edges, source="straight")


def test_a_point_mid_edge_gets_the_partial_lengths_and_offroad_leg() -> None:
    graph = build_graph(straight_road(), "walk", component="all", use_cache=False)
    # a quarter along the road, ~55 m north of it
    snap = snap_points(graph, [106.701], [10.7805])
    assert snap.frac[0] == pytest.approx(0.25, abs=2e-3)
    assert snap.offroad_m[0] == pytest.approx(55.3, abs=0.5)
    u1, u2, v1, _ = snap.leave_costs(graph, "distance")
    assert u1[0] == pytest.approx(snap.offroad_m[0] + 0.25 * 437.2, abs=1.0)
    assert v1[0] == pytest.approx(snap.offroad_m[0] + 0.75 * 437.2, abs=1.0)
    # time of the off-road leg at the walking speed, partial edge at the edge's speed
    assert u2[0] == pytest.approx(u1[0] / (5.0 / 3.6), rel=1e-9)


def test_two_points_on_one_edge_route_along_it() -> None:
    graph = build_graph(straight_road(), "walk", component="all", use_cache=False)
    table = nearest_schools(graph, [(106.7010, 10.780)], [(106.7030, 10.780)], ["S"], k=1)
    assert table["distance_m"].iloc[0] == pytest.approx(0.5 * 437.2, abs=0.5)


def test_a_point_on_a_node_has_no_offroad_leg() -> None:
    layer = random_layer(5)
    graph = build_graph(layer, "walk", component="all", use_cache=False)
    lon, lat = graph.node_lonlat[graph.edge_v[3]]
    snap = snap_points(graph, [lon], [lat])
    assert snap.offroad_m[0] == 0.0
    assert snap.frac[0] in (0.0, 1.0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_snapping_finds_the_exact_nearest_edge(seed: int) -> None:
    layer = random_layer(seed)
    graph = build_graph(layer, "motorbike", component="all", use_cache=False)
    rng = np.random.default_rng(seed)
    lo, hi = graph.node_lonlat.min(axis=0), graph.node_lonlat.max(axis=0)
    pts = rng.uniform(lo, hi, (200, 2))
    snap = snap_points(graph, pts[:, 0], pts[:, 1], max_offroad_m=10_000)
    x, y = graph.to_metric().transform(pts[:, 0], pts[:, 1])
    points = shapely.points(x, y)
    lines = graph.edge_geometries_metric()
    best = np.array([shapely.distance(p, lines).min() for p in points])
    np.testing.assert_allclose(snap.offroad_m, best, atol=1e-6)
    along = shapely.line_locate_point(lines[snap.edge], points, normalized=True)
    np.testing.assert_allclose(snap.frac, along, atol=1e-6)


def test_a_point_5km_off_the_network_is_an_error_naming_it() -> None:
    graph = build_graph(random_layer(1), "motorbike", use_cache=False)
    far = (106.70, 10.78 - 5000 / 110_574)
    with pytest.raises(InputError) as caught:
        nearest_schools(graph, [(106.705, 10.782), far], [(106.705, 10.783)], ["S"],
                        origin_ids=["home-1", "home-2"])
    problem = caught.value.problems[0]
    assert problem.file == "origins" and problem.row == 2 and problem.field == "lon,lat"
    assert "'home-2'" in problem.reason and "500 m" in problem.reason
    assert len(caught.value.problems) == 1


def test_a_point_in_the_river_is_an_error() -> None:
    layer = generate_road_layer(3000, seed=4)
    graph = build_graph(layer, "motorbike", use_cache=False)
    x, y = graph.node_xy[:, 0], graph.node_xy[:, 1]
    # the demo city's local metres: recover the river centre at a column far from bridges
    width = float(np.ptp(graph.node_xy[:, 0]))
    height = float(np.ptp(graph.node_xy[:, 1]))
    x0, y0 = x.min(), y.min()
    xs = x0 + width * 0.13
    ys = y0 + float(river_centre_y(np.array([xs - x0]), height, width)[0])
    lon, lat = graph.to_lonlat().transform(xs, ys)
    with pytest.raises(InputError, match="more than 100 m"):
        snap_points(graph, [lon], [lat], max_offroad_m=100.0)
    assert RIVER_HALF_WIDTH_M > 100.0


def test_invalid_coordinates_are_reported() -> None:
    graph = build_graph(random_layer(2), "walk", use_cache=False)
    with pytest.raises(InputError, match="no valid coordinate"):
        snap_points(graph, [np.nan], [10.78], source="homes.csv")
