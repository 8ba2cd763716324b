"""Compiling a road layer per mode: access, direction, speeds, CSR shape, memory, cache."""

from __future__ import annotations

import numpy as np
import pytest

from basemaps.demo_city import generate_road_layer
from basemaps.road_layer import RoadLayer
from routing import build_graph, compile_graph, profile_for
from routing.speeds import MODES, ModeProfile
from tests.support.routing import random_layer


@pytest.fixture(scope="module")
def layer() -> RoadLayer:
    return random_layer(42, n_side=10)


def test_motorways_are_closed_to_walk_bicycle_motorbike_but_open_to_cars(layer: RoadLayer) -> None:
    is_motorway = layer.edges["highway"].to_numpy() == "motorway"
    assert is_motorway.any()
    for mode in MODES:
        graph = compile_graph(layer, mode, component="all")
        used = is_motorway[graph.edge_row]
        assert used.any() == (mode == "car"), mode


def test_footways_only_for_walkers_and_private_ways_closed(layer: RoadLayer) -> None:
    highway = layer.edges["highway"].to_numpy()
    access = layer.edges["access"].to_numpy()
    for mode in MODES:
        graph = compile_graph(layer, mode, component="all")
        rows = graph.edge_row
        assert ("footway" in set(highway[rows])) == (mode == "walk")
        assert "private" not in set(access[rows])
        assert ("no" in set(access[rows])) == (mode in ("walk", "bicycle"))


def test_oneway_makes_a_single_arc_except_for_walkers(layer: RoadLayer) -> None:
    oneway = layer.edges["oneway"].to_numpy()
    for mode in MODES:
        graph = compile_graph(layer, mode, component="all")
        has_back = graph.edge_bwd_arc >= 0
        if mode == "walk":
            assert has_back.all()
        else:
            np.testing.assert_array_equal(has_back, ~oneway[graph.edge_row])
        # forward arcs run u -> v, backward arcs v -> u
        tails = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
        fwd = graph.edge_fwd_arc
        np.testing.assert_array_equal(tails[fwd], graph.edge_u)
        np.testing.assert_array_equal(graph.arc_head[fwd], graph.edge_v)
        back = graph.edge_bwd_arc[has_back]
        np.testing.assert_array_equal(tails[back], graph.edge_v[has_back])


def test_speeds_follow_class_defaults_and_maxspeed_wins(layer: RoadLayer) -> None:
    graph = compile_graph(layer, "motorbike", component="all")
    rows = layer.edges.iloc[graph.edge_row]
    speed_kmh = graph.edge_length_m / graph.edge_time_s * 3.6
    profile = profile_for("motorbike")
    known = rows["maxspeed_kmh"].notna().to_numpy()
    np.testing.assert_allclose(speed_kmh[known],
                               np.minimum(rows["maxspeed_kmh"].to_numpy()[known], 60.0))
    expected = rows["highway"].map(dict(profile.speeds_kmh)).to_numpy()[~known]
    np.testing.assert_allclose(speed_kmh[~known], expected.astype(float))


def test_speeds_are_configurable() -> None:
    slow = profile_for("motorbike").with_speeds(residential=7.0)
    assert slow.speeds_kmh["residential"] == 7.0
    assert slow.digest() != profile_for("motorbike").digest()
    with pytest.raises(ValueError, match="positive"):
        profile_for("car").with_speeds(primary=0.0)
    with pytest.raises(ValueError, match="unknown travel mode"):
        profile_for("boat")


def test_reverse_csr_lists_every_arc_once_by_head(layer: RoadLayer) -> None:
    graph = compile_graph(layer, "bicycle", component="all")
    assert sorted(graph.rev_arc.tolist()) == list(range(graph.arc_count))
    heads = np.repeat(np.arange(graph.node_count), np.diff(graph.rev_indptr))
    np.testing.assert_array_equal(graph.arc_head[graph.rev_arc], heads)


def test_largest_component_is_strongly_connected() -> None:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    graph = compile_graph(random_layer(7, n_side=12), "motorbike", component="largest")
    tails = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
    nodes = np.unique(np.concatenate([graph.edge_u, graph.edge_v]))
    remap = np.full(graph.node_count, -1)
    remap[nodes] = np.arange(len(nodes))
    adjacency = csr_matrix((np.ones(graph.arc_count), (remap[tails], remap[graph.arc_head])),
                           shape=(len(nodes), len(nodes)))
    assert connected_components(adjacency, directed=True, connection="strong")[0] == 1


def test_graph_memory_is_under_200_bytes_per_arc() -> None:
    graph = compile_graph(generate_road_layer(20_000, seed=1), "motorbike")
    assert graph.routing_nbytes() / graph.arc_count < 200


def test_cache_is_reused_and_invalidated_when_the_layer_changes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import routing.cache as cache

    layer = random_layer(3)
    first = build_graph(layer, "motorbike", cache_dir=tmp_path)
    assert first.loaded_from == ""
    assert len(list(tmp_path.glob("*.npz"))) == 1

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again although the cache was valid")

    monkeypatch.setattr(cache, "compile_graph", no_compile)
    second = build_graph(layer, "motorbike", cache_dir=tmp_path)
    assert second.loaded_from.endswith(".npz")
    for name, array in first.array_fields().items():
        np.testing.assert_array_equal(array, getattr(second, name), err_msg=name)
    monkeypatch.undo()

    changed = layer.edges.copy()
    changed.loc[0, "length_m"] += 50.0
    newer = RoadLayer(nodes=layer.nodes, edges=changed, source=layer.source)
    assert newer.version != layer.version
    third = build_graph(newer, "motorbike", cache_dir=tmp_path)
    assert third.loaded_from == ""
    assert len(list(tmp_path.glob("*.npz"))) == 2
    # other speed rules are another cache entry, never a stale hit
    custom = profile_for("motorbike").with_speeds(residential=9.0)
    assert build_graph(layer, custom, cache_dir=tmp_path).loaded_from == ""
    assert isinstance(custom, ModeProfile)
