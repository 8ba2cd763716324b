"""k nearest schools: exact against networkx, one-ways, levels, the multi-label rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basemaps.demo_city import generate_road_layer
from basemaps.road_layer import RoadLayer
from routing import build_graph, nearest_schools
from routing.nearest import Targets, k_nearest_arrays
from routing.snap import snap_points
from routing.speeds import MODES
from tests.support.routing import oneway_street, random_layer, random_points, reference_costs


def check_k_nearest(layer: RoadLayer, mode: str, weight: str, seed: int, k: int,
                    n_origins: int, n_schools: int, component: str = "all",
                    with_other: bool = True) -> None:
    graph = build_graph(layer, mode, component=component, use_cache=False)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    origins = random_points(graph, rng, n_origins)
    schools = random_points(graph, rng, n_schools)
    o_snap = snap_points(graph, origins[:, 0], origins[:, 1], max_offroad_m=5000)
    s_snap = snap_points(graph, schools[:, 0], schools[:, 1], max_offroad_m=5000)
    lab, c1, c2 = k_nearest_arrays(graph, o_snap, Targets.from_snap(graph, s_snap, weight), k)
    want1, want2 = reference_costs(graph, o_snap, s_snap, weight, with_other)
    for i in range(n_origins):
        expected = np.sort(want1[i])[:k]
        got = c1[i]
        finite = np.isfinite(expected)
        assert np.array_equal(np.isfinite(got), finite), (i, got, expected)
        np.testing.assert_allclose(got[finite], expected[finite], rtol=0, atol=1e-3)
        for r in np.flatnonzero(finite):
            s = lab[i, r]
            # the reported school has exactly the reported cost, and the other measure
            # equals the one along networkx's path (random lengths: no ties)
            assert abs(want1[i, s] - c1[i, r]) < 1e-3
            if with_other:
                assert abs(want2[i, s] - c2[i, r]) < 1e-3
        assert len(set(lab[i][finite])) == finite.sum(), "a school appears twice"


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES),
       weight=st.sampled_from(["time", "distance"]), k=st.integers(1, 6))
def test_k_nearest_equals_networkx_on_random_graphs(seed: int, mode: str, weight: str,
                                                    k: int) -> None:
    check_k_nearest(random_layer(seed), mode, weight, seed, k, n_origins=12, n_schools=15)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES))
def test_k_nearest_equals_networkx_on_demo_city(seed: int, mode: str) -> None:
    layer = generate_road_layer(900, seed=seed % 50)
    check_k_nearest(layer, mode, "time", seed, 4, n_origins=10, n_schools=25,
                    component="largest")


@pytest.mark.parametrize("mode", MODES)
def test_k_nearest_equals_networkx_on_district1(quan1_layer: RoadLayer, mode: str) -> None:
    check_k_nearest(quan1_layer, mode, "time", 11, 5, n_origins=15, n_schools=30,
                    component="largest")


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES),
       weight=st.sampled_from(["time", "distance"]))
def test_k_nearest_equals_networkx_on_hcmc(hcmc_layer: RoadLayer, seed: int, mode: str,
                                           weight: str) -> None:
    """The whole-city 2018 OSM graph, every mode: real one-ways, alleys and parallel ways
    (ties are possible there, so only the searched cost is compared)."""
    check_k_nearest(hcmc_layer, mode, weight, seed, 10, n_origins=5, n_schools=300,
                    component="largest", with_other=False)


def test_oneway_is_honoured_for_motorbike_and_ignored_for_walk() -> None:
    layer = oneway_street()
    west, east = (106.7005, 10.78), (106.7035, 10.78)
    for mode, reachable in (("motorbike", False), ("walk", True), ("car", False)):
        graph = build_graph(layer, mode, component="all", use_cache=False)
        table = nearest_schools(graph, [east], [west], ["W"], k=1)
        assert (len(table) == 1) is reachable, mode
        table = nearest_schools(graph, [west], [east], ["E"], k=1)
        assert len(table) == 1
        np.testing.assert_allclose(table["distance_m"].iloc[0], 0.75 * 437.2, atol=0.5)


def test_level_filter_and_output_columns(quan1_layer: RoadLayer) -> None:
    graph = build_graph(quan1_layer, "motorbike", use_cache=False)
    rng = np.random.default_rng(3)
    schools = random_points(quan1_layer, rng, 20)
    levels = ["primary", "upper_secondary"] * 10
    codes = [f"S{i:02d}" for i in range(20)]
    table = nearest_schools(graph, random_points(quan1_layer, rng, 30), schools, codes, k=3,
                            school_levels=levels, level="upper_secondary",
                            origin_ids=[f"O{i}" for i in range(30)])
    assert list(table.columns) == ["origin_id", "rank", "school_code", "distance_m", "time_s"]
    assert set(table["school_code"]) <= {c for c, lv in zip(codes, levels, strict=True)
                                         if lv == "upper_secondary"}
    assert (table.groupby("origin_id")["rank"].max() == 3).all()
    assert (table.groupby("origin_id")["time_s"].apply(lambda s: s.is_monotonic_increasing)).all()


def test_origin_on_a_school_position_has_zero_cost(quan1_layer: RoadLayer) -> None:
    graph = build_graph(quan1_layer, "walk", use_cache=False)
    node = graph.node_lonlat[graph.edge_u[10]]
    table = nearest_schools(graph, [node], [node], ["HERE"], k=1)
    assert table["distance_m"].iloc[0] == 0.0
    assert table["time_s"].iloc[0] == 0.0


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES))
def test_nearest_index_answers_like_a_fresh_search(seed: int, mode: str) -> None:
    """The prepared index (one label search, many queries) equals nearest_schools."""
    from routing import NearestIndex

    graph = build_graph(random_layer(seed), mode, component="all", use_cache=False)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    schools = random_points(graph, rng, 12)
    origins = random_points(graph, rng, 20)
    ids = [f"S{i}" for i in range(len(schools))]
    index = NearestIndex.build(graph, schools, ids, k=5, max_offroad_m=5000)
    fresh = nearest_schools(graph, origins, schools, ids, k=3, max_offroad_m=5000)
    lab, time_s, distance_m = index.query(origins, k=3, max_offroad_m=5000)
    for row in fresh.itertuples():
        i, r = int(row.origin_id), int(row.rank) - 1
        assert ids[lab[i, r]] == row.school_code  # random lengths: no ties
        assert abs(time_s[i, r] - row.time_s) < 1e-6
        assert abs(distance_m[i, r] - row.distance_m) < 1e-6
    with pytest.raises(ValueError, match="keeps 5"):
        index.query(origins, k=6)
