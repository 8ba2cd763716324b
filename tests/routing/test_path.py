"""One route: cost equals networkx, geometry follows the roads from point to point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from basemaps.road_layer import RoadLayer
from gis_service.errors import InputError
from routing import build_graph, route
from routing.snap import snap_points
from routing.speeds import MODES
from tests.support.routing import random_layer, random_points, reference_costs


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES),
       weight=st.sampled_from(["time", "distance"]))
def test_route_cost_and_geometry_match_networkx(seed: int, mode: str, weight: str) -> None:
    graph = build_graph(random_layer(seed), mode, use_cache=False)
    rng = np.random.default_rng(seed)
    a, b = random_points(graph, rng, 2)
    snaps = snap_points(graph, [a[0], b[0]], [a[1], b[1]])
    start = type(snaps)(snaps.edge[:1], snaps.frac[:1], snaps.offroad_m[:1])
    end = type(snaps)(snaps.edge[1:], snaps.frac[1:], snaps.offroad_m[1:])
    want1, want2 = reference_costs(graph, start, end, weight)
    found = route(graph, tuple(a), tuple(b), weight)
    got1, got2 = ((found.time_s, found.distance_m) if weight == "time"
                  else (found.distance_m, found.time_s))
    assert got1 == pytest.approx(want1[0, 0], abs=1e-3)
    assert got2 == pytest.approx(want2[0, 0], abs=1e-3)
    coords = np.asarray(found.geometry.coords)
    np.testing.assert_allclose(coords[0], a, atol=1e-9)
    np.testing.assert_allclose(coords[-1], b, atol=1e-9)
    # the drawn line is as long as the reported distance (random layers stretch lengths
    # by up to 30 % over the straight geometry, so compare on the metric geometry)
    x, y = graph.to_metric().transform(coords[:, 0], coords[:, 1])
    drawn = shapely.LineString(np.column_stack([x, y])).length
    assert drawn <= found.distance_m + 1e-3


def test_route_on_district1_is_drawn_along_its_length(quan1_layer: RoadLayer) -> None:
    graph = build_graph(quan1_layer, "motorbike", use_cache=False)
    found = route(graph, (106.6950, 10.7760), (106.7040, 10.7880))
    coords = np.asarray(found.geometry.coords)
    x, y = graph.to_metric().transform(coords[:, 0], coords[:, 1])
    drawn = shapely.LineString(np.column_stack([x, y])).length
    assert drawn == pytest.approx(found.distance_m, rel=0.01)
    assert found.time_s > found.distance_m / (60 / 3.6)
    assert len(found.node_ids) >= 2
    feature = found.to_geojson()
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["mode"] == "motorbike"


def test_unreachable_destination_is_an_error() -> None:
    from tests.support.routing import oneway_street

    graph = build_graph(oneway_street(), "motorbike", component="all", use_cache=False)
    with pytest.raises(InputError, match="cannot be reached"):
        route(graph, (106.7035, 10.78), (106.7005, 10.78))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES))
def test_trips_from_one_search_equal_the_routes(seed: int, mode: str) -> None:
    from routing import trips

    graph = build_graph(random_layer(seed), mode, component="all", use_cache=False)
    rng = np.random.default_rng(seed)
    home, *schools = (tuple(p) for p in random_points(graph, rng, 6))
    far = (float(graph.node_lonlat[:, 0].max()) + 0.05, float(graph.node_lonlat[:, 1].mean()))
    found = trips(graph, home, [*schools, far])
    assert found[-1] is None  # 5 km off the roads: no trip, not an error
    for school, trip in zip(schools, found, strict=False):
        try:
            want = route(graph, home, school, "time")
        except InputError:  # out of reach on this (not strongly connected) graph
            assert trip is None
            continue
        assert trip is not None
        assert trip == pytest.approx((want.distance_m, want.time_s), abs=1e-9)
    with pytest.raises(InputError, match="origin"):
        trips(graph, far, schools)
