"""The k-label search kernel on raw CSR graphs against networkx."""

from __future__ import annotations

from functools import partial

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from basemaps.demo_city import generate_road_layer
from routing import _klabels, build_graph, snap_points
from routing._kernels import counting_order
from routing.nearest import Targets, reverse_weights
from tests.support.routing import random_points


def random_csr(rng: np.random.Generator, n: int, n_arcs: int, zero_share: float,
               integer: bool) -> tuple[np.ndarray, ...]:
    """A random directed graph as CSR with weights ``w1`` (some zero, ties when integer)."""
    tail = rng.integers(0, n, n_arcs)
    head = rng.integers(0, n, n_arcs)
    w1 = rng.integers(0, 4, n_arcs).astype(float) if integer else rng.uniform(0.5, 9.0, n_arcs)
    w1[rng.random(n_arcs) < zero_share] = 0.0
    w2 = rng.uniform(1.0, 5.0, n_arcs)
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return indptr, head[order].astype(np.int32), w1[order], w2[order], tail[order]


def reference(n: int, indptr: np.ndarray, nbr: np.ndarray, w1: np.ndarray, tail: np.ndarray,
              seed_node: np.ndarray, seed_label: np.ndarray, seed_c1: np.ndarray,
              n_labels: int, cutoff: float) -> np.ndarray:
    """Cost of every label at every node (``inf`` beyond ``cutoff``), by networkx."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(tail.tolist(), nbr.tolist(), w1.tolist(), strict=True))
    for i in range(len(seed_node)):
        graph.add_edge(("s", int(seed_label[i])), int(seed_node[i]), weight=float(seed_c1[i]))
    out = np.full((n, n_labels), np.inf)
    for s in range(n_labels):
        if ("s", s) not in graph:
            continue
        dist = nx.single_source_dijkstra_path_length(graph, ("s", s), cutoff=cutoff)
        for node, d in dist.items():
            if isinstance(node, int):
                out[node, s] = d
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), k=st.integers(1, 5),
       zero_share=st.sampled_from([0.0, 0.0, 0.2]), integer=st.booleans(),
       bounded=st.booleans())
def test_k_label_search_equals_networkx_with_ties_and_zero_arcs(
        seed: int, k: int, zero_share: float, integer: bool, bounded: bool) -> None:
    rng = np.random.default_rng(seed)
    n, n_labels = 40, 9
    indptr, nbr, w1, w2, tail = random_csr(rng, n, 110, zero_share, integer)
    n_seeds = 14
    seed_node = rng.integers(0, n, n_seeds).astype(np.int32)
    seed_label = rng.integers(0, n_labels, n_seeds).astype(np.int32)
    seed_c1 = rng.uniform(0.0, 6.0, n_seeds)
    seed_c2 = rng.uniform(0.0, 3.0, n_seeds)
    cutoff = 12.0 if bounded else np.inf
    want = reference(n, indptr, nbr, w1, tail, seed_node, seed_label, seed_c1, n_labels, cutoff)
    searches = [_klabels.k_label_search]
    # the bucket width only orders the work: narrower or wider than the shortest arc (zero
    # arcs go to the next bucket), the labels are exact; so is searching parts apart, then
    # merging them across their borders
    shortest = float(w1[w1 > 0].min())
    for width in (shortest / 3, shortest * 4):
        for parts in (1, 2, 8):
            searches.append(partial(_klabels._search_buckets, width=width, parts=parts))
    for search in searches:
        lab, c1, _ = search(n, indptr, nbr, w1, w2, seed_node, seed_label, seed_c1, seed_c2,
                            k, cutoff)
        expected = np.sort(want, axis=1)[:, :k]
        assert np.array_equal(np.isfinite(c1), np.isfinite(expected))
        finite = np.isfinite(expected)
        np.testing.assert_allclose(c1[finite], expected[finite], rtol=0, atol=1e-9)
        for node, r in zip(*np.nonzero(finite), strict=True):
            assert abs(want[node, lab[node, r]] - c1[node, r]) < 1e-9
        assert all(len(set(row[row >= 0])) == (row >= 0).sum() for row in lab)


def test_k_label_search_by_parts_is_deterministic_and_matches_one_search() -> None:
    rng = np.random.default_rng(5)
    n, n_labels, k = 3_000, 60, 4
    indptr, nbr, w1, w2, _ = random_csr(rng, n, 9_000, 0.0, False)
    seed_node = rng.integers(0, n, 90).astype(np.int32)
    seed_label = rng.integers(0, n_labels, 90).astype(np.int32)
    seed_c1 = rng.uniform(0.0, 6.0, 90)
    seed_c2 = rng.uniform(0.0, 3.0, 90)
    args = (n, indptr, nbr, w1, w2, seed_node, seed_label, seed_c1, seed_c2, k, np.inf,
            float(w1.min()))
    single = _klabels._search_buckets(*args)
    for parts in (2, 16):
        runs = [_klabels._search_buckets(*args, parts=parts) for _ in range(3)]
        for run in runs[1:]:
            for got, first in zip(run, runs[0], strict=True):
                assert np.array_equal(got, first)
        # the same costs as one search over the whole graph (labels may differ only at ties)
        assert np.array_equal(runs[0][1], single[1])
        finite = np.isfinite(single[1])
        np.testing.assert_allclose(runs[0][2][finite], single[2][finite], rtol=0, atol=1e-9)


def test_part_count_keeps_parts_cache_sized() -> None:
    assert _klabels._part_count(5_000, 10) == 1
    assert _klabels._part_count(256_225, 10) == 16  # the city benchmark: measured best
    assert _klabels._part_count(256_225, 1) == 1  # 20 bytes a node: all in cache at once
    assert _klabels._part_count(256_225, 40) == 16  # never below 10,000 nodes a part


def test_k_label_search_handles_zero_weights_and_refuses_infinite_ones() -> None:
    indptr = np.array([0, 1, 2, 2], np.int64)  # 0 -> 1 -> 2, both arcs of weight 0
    nbr = np.array([1, 2], np.int32)
    seeds = (np.array([0], np.int32), np.array([0], np.int32), np.array([1.5]),
             np.array([2.0]))
    lab, c1, c2 = _klabels.k_label_search(3, indptr, nbr, np.zeros(2), np.ones(2), *seeds,
                                          1, np.inf)
    assert lab[:, 0].tolist() == [0, 0, 0]
    assert c1[:, 0].tolist() == [1.5, 1.5, 1.5]
    assert c2[:, 0].tolist() == [2.0, 3.0, 4.0]
    for w1 in (np.array([1.0, np.inf]), np.array([1.0, -1.0])):
        with pytest.raises(ValueError, match="finite and not negative"):
            _klabels.k_label_search(3, indptr, nbr, w1, np.ones(2), *seeds, 1, np.inf)
    with pytest.raises(ValueError, match="seed costs"):
        _klabels.k_label_search(3, indptr, nbr, np.ones(2), np.ones(2), seeds[0], seeds[1],
                                np.array([np.nan]), seeds[3], 1, np.inf)
    with pytest.raises(ValueError, match="k must be"):
        _klabels.k_label_search(3, indptr, nbr, np.ones(2), np.ones(2), *seeds, 0, np.inf)


def test_a_hub_of_60000_arcs_does_not_blow_up_the_queue() -> None:
    """A star: every leaf seeds its own label and reaches the hub and all other leaves
    through it. The queue reserves room per arc of the batch's nodes (it once reserved the
    batch size times the largest degree: 57 GB per array here)."""
    leaves = 60_000
    hub = leaves
    tail = np.concatenate([np.arange(leaves), np.full(leaves, hub)])
    head = np.concatenate([np.full(leaves, hub), np.arange(leaves)])
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(leaves + 2, np.int64)
    np.cumsum(np.bincount(tail, minlength=leaves + 1), out=indptr[1:])
    nbr = head[order].astype(np.int32)
    w = np.ones(len(nbr))
    seed = np.arange(leaves, dtype=np.int32)
    lab, c1, _ = _klabels.k_label_search(leaves + 1, indptr, nbr, w, w, seed, seed,
                                         np.zeros(leaves), np.zeros(leaves), 2, np.inf)
    assert c1[hub].tolist() == [1.0, 1.0]
    assert (lab[:leaves, 0] == seed).all() and (c1[:leaves, 0] == 0).all()
    assert (c1[:leaves, 1] == 2).all()  # another leaf, through the hub


@settings(max_examples=30, deadline=None)
@given(keys=st.lists(st.integers(0, 6), max_size=60))
def test_counting_order_sorts_stably(keys: list[int]) -> None:
    key = np.array(keys, np.int64)
    assert np.array_equal(counting_order(key, 7), np.argsort(key, kind="stable"))


def test_parts_on_a_city_graph_give_the_costs_of_one_search() -> None:
    """16 parts of a 40,000-node generated city (Z-ordered areas) against one search."""
    graph = build_graph(generate_road_layer(40_000, seed=3), "motorbike", use_cache=False)
    rng = np.random.default_rng(2)
    s_snap = snap_points(graph, *random_points(graph, rng, 300).T)
    targets = Targets.from_snap(graph, s_snap, "time")
    w1, w2 = reverse_weights(graph, "time")
    args = (graph.node_count, graph.rev_indptr, graph.rev_tail, w1, w2, targets.seed_node,
            targets.seed_label, targets.seed_c1, targets.seed_c2, 10, np.inf,
            float(np.quantile(w1[w1 > 0], 0.05)))
    _, c1_one, c2_one = _klabels._search_buckets(*args)
    _, c1_parts, c2_parts = _klabels._search_buckets(*args, parts=16)
    assert np.isfinite(c1_one).mean() > 0.9
    assert np.array_equal(c1_parts, c1_one)
    finite = np.isfinite(c1_one)
    np.testing.assert_allclose(c2_parts[finite], c2_one[finite], rtol=0, atol=1e-9)


def test_parallel_kernels_run_on_a_thread_safe_threading_layer() -> None:
    """The web app runs searches on several threads at once: numba's workqueue layer would
    abort the process there; OpenMP (libgomp1, installed by bin/setup) and TBB do not."""
    import numba

    indptr, nbr = np.array([0, 1, 1], np.int64), np.array([1], np.int32)
    seed = np.array([0], np.int32)
    _klabels.k_label_search(2, indptr, nbr, np.ones(1), np.ones(1), seed, seed, np.zeros(1),
                            np.zeros(1), 1, np.inf)  # parallel (prange over its parts)
    assert numba.threading_layer() in ("omp", "tbb")
