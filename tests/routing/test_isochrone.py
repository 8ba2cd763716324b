"""Isochrones contain what is reachable in time and leave out what clearly is not."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from basemaps.demo_city import generate_road_layer
from basemaps.road_layer import RoadLayer
from routing import build_graph, isochrones
from routing.graph import ModeGraph
from routing.path import search_from
from routing.snap import Snap, snap_points


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


def _road_samples(graph: ModeGraph, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step_m`` along every edge: ``(edge, fraction, metric xy)``."""
    lines = graph.edge_geometries_metric()
    counts = np.maximum(2, np.ceil(graph.edge_length_m / step_m).astype(int) + 1)
    edge = np.repeat(np.arange(graph.edge_count), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    frac = (np.arange(len(edge)) - first) / (counts[edge] - 1)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(lines[edge], frac,
                                                                normalized=True))
    return edge, frac, xy


def _arrival_s(graph: ModeGraph, start: Snap, dist_s: np.ndarray, edge: np.ndarray,
               frac: np.ndarray) -> np.ndarray:
    """Exact time to each road position: from either end of its edge, or along the start's."""
    time_s = graph.edge_time_s[edge]
    forward = graph.edge_fwd_arc[edge] >= 0
    backward = graph.edge_bwd_arc[edge] >= 0
    arrival = np.minimum(np.where(forward, dist_s[graph.edge_u[edge]] + frac * time_s, np.inf),
                         np.where(backward, dist_s[graph.edge_v[edge]] + (1 - frac) * time_s,
                                  np.inf))
    own = edge == start.edge[0]
    f = float(start.frac[0])
    ahead = (frac >= f) & forward | (frac <= f) & backward | (frac == f)
    offroad_s = float(start.offroad_costs(graph, "time")[0][0])
    direct = offroad_s + np.abs(frac - f) * time_s
    return np.where(own & ahead, np.minimum(arrival, direct), arrival)


@pytest.mark.parametrize("mode", ["walk", "motorbike"])
def test_isochrone_holds_every_reached_road_point_and_nothing_beyond_the_buffer(mode: str) -> None:
    graph = build_graph(generate_road_layer(3000, seed=4), mode, use_cache=False)
    step_m, buffer_m, simplify_m = 5.0, 60.0, 5.0
    edge, frac, xy = _road_samples(graph, step_m)
    to_metric = graph.to_metric()
    rng = np.random.default_rng(3)
    for node in rng.choice(np.unique(graph.edge_u), 3, replace=False):
        lon, lat = graph.node_lonlat[node] + rng.uniform(-0.0008, 0.0008, 2)
        minutes = [2, 4] if mode == "motorbike" else [5, 10]
        collection = isochrones(graph, lon, lat, minutes=minutes, buffer_m=buffer_m,
                                simplify_m=simplify_m)
        start = snap_points(graph, [lon], [lat])
        dist_s, _, _ = search_from(graph, start, "time")
        arrival = _arrival_s(graph, start, dist_s, edge, frac)
        for feature in collection["features"]:
            limit_s = feature["properties"]["minutes"] * 60.0
            area = shapely.transform(shape(feature["geometry"]), lambda c: np.column_stack(
                to_metric.transform(c[:, 0], c[:, 1])))
            reached = xy[arrival < limit_s]
            assert len(reached) > 50
            assert shapely.contains_xy(area, reached[:, 0], reached[:, 1]).all()
            # the outline and points inside it: within the buffer of a reached road point
            # (plus the outline's simplification and the sampling step)
            x0, y0, x1, y1 = area.bounds
            probe = rng.uniform([x0, y0], [x1, y1], (4000, 2))
            probe = probe[shapely.contains_xy(area, probe[:, 0], probe[:, 1])]
            probe = np.concatenate([probe, shapely.get_coordinates(area)])
            tree = shapely.STRtree(shapely.points(reached))
            _, gap_m = tree.query_nearest(shapely.points(probe), return_distance=True,
                                          all_matches=False)
            assert gap_m.max() <= buffer_m + simplify_m + step_m
            # and it is the buffer: the outline runs within a few metres of it
            outline = shapely.get_coordinates(area.boundary)
            _, edge_gap = tree.query_nearest(shapely.points(outline), return_distance=True,
                                             all_matches=False)
            assert np.median(edge_gap) == pytest.approx(buffer_m, abs=simplify_m)


def test_motorbike_isochrones_of_the_demo_city_cover_its_districts() -> None:
    """The finder's bands (10, 15, 20 min) on the 60,000-node demo city, from three origins.

    How fast they answer (p95 < 1 s) is measured by bench/isochrone.py, not here.
    """
    graph = build_graph(generate_road_layer(60_000, seed=2026), "motorbike", use_cache=False)
    used = np.unique(graph.edge_u)
    rng = np.random.default_rng(5)
    for node in rng.choice(used, 3, replace=False):
        lon, lat = graph.node_lonlat[node]
        collection = isochrones(graph, float(lon), float(lat), minutes=[10, 15, 20])
        areas = [f["properties"]["area_km2"] for f in collection["features"]]
        assert min(areas) > 50 and areas == sorted(areas, reverse=True), areas  # widest first
