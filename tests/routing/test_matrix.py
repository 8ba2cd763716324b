"""Origin x school matrices: exact against networkx, cut-off respected, sparse output."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from basemaps.road_layer import RoadLayer
from routing import build_graph, od_matrix
from routing.matrix import od_matrix_snapped
from routing.snap import snap_points
from routing.speeds import MODES
from tests.support.routing import random_layer, random_points, reference_costs


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(MODES),
       weight=st.sampled_from(["time", "distance"]), quantile=st.floats(0.1, 1.0))
def test_matrix_equals_networkx_within_the_cutoff(seed: int, mode: str, weight: str,
                                                 quantile: float) -> None:
    layer = random_layer(seed)
    graph = build_graph(layer, mode, component="all", use_cache=False)
    rng = np.random.default_rng(seed)
    origins, schools = random_points(graph, rng, 10), random_points(graph, rng, 12)
    o_snap = snap_points(graph, origins[:, 0], origins[:, 1], max_offroad_m=5000)
    s_snap = snap_points(graph, schools[:, 0], schools[:, 1], max_offroad_m=5000)
    want1, want2 = reference_costs(graph, o_snap, s_snap, weight)
    finite = want1[np.isfinite(want1)]
    cutoff = float(np.quantile(finite, quantile)) if len(finite) else 100.0
    result = od_matrix_snapped(graph, o_snap, s_snap, cutoff, weight, threads=2)
    got1 = result.time_s if weight == "time" else result.distance_m
    got2 = result.distance_m if weight == "time" else result.time_s
    assert isinstance(got1, csr_matrix) and got1.shape == want1.shape
    inside = want1 <= cutoff
    dense1 = np.full(want1.shape, np.inf)
    coo = got1.tocoo()
    dense1[coo.row, coo.col] = coo.data
    # entries within a hair of the cut-off may fall either side of it
    clear = np.abs(want1 - cutoff) > 1e-6
    np.testing.assert_array_equal(np.isfinite(dense1)[clear], inside[clear])
    both = np.isfinite(dense1) & inside
    np.testing.assert_allclose(dense1[both], want1[both], atol=1e-3, rtol=0)
    dense2 = got2.toarray()
    np.testing.assert_allclose(dense2[both], want2[both], atol=1e-3, rtol=0)


def test_matrix_on_district1_matches_networkx(quan1_layer: RoadLayer) -> None:
    graph = build_graph(quan1_layer, "motorbike", use_cache=False)
    rng = np.random.default_rng(8)
    origins, schools = random_points(graph, rng, 12), random_points(graph, rng, 25)
    result = od_matrix(graph, origins, schools, cutoff=300.0)
    o_snap = snap_points(graph, origins[:, 0], origins[:, 1])
    s_snap = snap_points(graph, schools[:, 0], schools[:, 1])
    want, _ = reference_costs(graph, o_snap, s_snap, "time")
    coo = result.time_s.tocoo()
    np.testing.assert_allclose(coo.data, want[coo.row, coo.col], atol=1e-3, rtol=0)
    assert coo.nnz == int((want <= 300.0).sum())
    assert result.shape == (12, 25)


def test_negative_cutoff_is_refused() -> None:
    graph = build_graph(random_layer(1), "walk", use_cache=False)
    with pytest.raises(ValueError, match="cutoff"):
        od_matrix(graph, [(106.701, 10.781)], [(106.702, 10.782)], cutoff=-1.0)
