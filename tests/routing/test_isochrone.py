"""Isochrones contain what is reachable in time and leave out what clearly is not."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from basemaps.demo_city import generate_road_layer
from basemaps.road_layer import RoadLayer
from routing import build_graph, isochrones
from routing.path import search_from
from routing.snap import snap_points


@pytest.mark.parametrize("mode", ["walk", "motorbike"])
def test_isochrones_contain_reachable_nodes_and_exclude_far_ones(
    quan1_layer: RoadLayer, mode: str
) -> None:
    graph = build_graph(quan1_layer, mode, use_cache=False)
    start = (106.7000, 10.7780)
    minutes = [2, 4] if mode == "motorbike" else [5, 10]
    collection = isochrones(graph, *start, minutes=minutes)
    assert [f["properties"]["minutes"] for f in collection["features"]] == sorted(
        minutes, reverse=True)
    snap = snap_points(graph, [start[0]], [start[1]])
    dist_s, _, _ = search_from(graph, snap, "time")
    used = np.unique(np.concatenate([graph.edge_u, graph.edge_v]))
    points = shapely.points(graph.node_lonlat[used])
    for feature in collection["features"]:
        limit_s = feature["properties"]["minutes"] * 60.0
        area = shape(feature["geometry"])
        reachable = dist_s[used] <= limit_s
        assert reachable.sum() > 10
        assert shapely.contains(area, points[reachable]).all()
        clearly_not = dist_s[used] > 1.6 * limit_s
        assert clearly_not.sum() > 10
        leaked = shapely.contains(area, points[clearly_not]).mean()
        assert leaked < 0.02, f"{leaked:.1%} of clearly unreachable nodes inside"


def test_the_river_bounds_the_walking_isochrone() -> None:
    layer = generate_road_layer(3000, seed=4)
    graph = build_graph(layer, "walk", use_cache=False)
    # start beside the river, far from its bridges: the far bank is close but unreachable
    x, y = graph.node_xy[:, 0], graph.node_xy[:, 1]
    lonlat = graph.node_lonlat
    snap_start = np.argmin(np.abs(x - (x.min() + 0.13 * np.ptp(x))) + np.abs(y - np.median(y)))
    start = lonlat[snap_start]
    collection = isochrones(graph, float(start[0]), float(start[1]), minutes=[5])
    area = shape(collection["features"][0]["geometry"])
    snap = snap_points(graph, [start[0]], [start[1]])
    dist_s, _, _ = search_from(graph, snap, "time")
    near = np.hypot(x - x[snap_start], y - y[snap_start]) < 400
    unreachable = near & (dist_s > 600)
    inside = shapely.contains(area, shapely.points(lonlat[unreachable]))
    assert not inside.any()
