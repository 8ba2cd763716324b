"""Numba kernels: 4-ary heap, Dijkstra, origin x school matrix chunks, counting sort.

The k-nearest search and its per-origin combination live in :mod:`routing._klabels`.

Graph arguments are CSR triples ``(indptr, nbr, arc_of)``: the neighbours of node ``i``
are ``nbr[indptr[i]:indptr[i+1]]`` reached through arcs ``arc_of[...]``, whose weights are
``w1[arc]`` (the weight minimised) and ``w2[arc]`` (the other measure, carried along).
The forward graph passes ``(arc_indptr, arc_head, arange)``; the reverse graph passes
``(rev_indptr, rev_tail, rev_arc)``.

Every kernel is ``nogil`` so callers can run independent searches on threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

# numba-compiled functions are untyped for mypy; keep the signatures in the docstrings.
Array = Any


@njit(nogil=True, cache=True)
def counting_order(key: Array, n_bins: int) -> Array:
    """Return the indices that sort ``key`` stably, in one counting pass over the bins.

    ``key`` holds integers in ``[0, n_bins)``: the caller's promise, not checked.

    Used to visit points in memory order (by grid cell, by graph node): 20-30x faster
    than an argsort of 200,000 keys.
    """
    start = np.zeros(n_bins + 1, np.int64)
    for i in range(len(key)):
        start[key[i] + 1] += 1
    for b in range(n_bins):
        start[b + 1] += start[b]
    order = np.empty(len(key), np.int64)
    for i in range(len(key)):
        order[start[key[i]]] = i
        start[key[i]] += 1
    return order


@njit(nogil=True, cache=True, inline="always")
def heap_push(keys: Array, nodes: Array, labels: Array, size: int, key: float, node: int,
              label: int) -> tuple[Array, Array, Array, int]:
    """Push ``(key, node, label)`` onto a 4-ary min-heap held in three parallel arrays.

    Returns the arrays (new ones when they had to grow) and the new size.
    """
    if size == keys.shape[0]:
        grown = 2 * size + 16
        new_keys = np.empty(grown, np.float64)
        new_nodes = np.empty(grown, np.int32)
        new_labels = np.empty(grown, np.int32)
        new_keys[:size] = keys[:size]
        new_nodes[:size] = nodes[:size]
        new_labels[:size] = labels[:size]
        keys, nodes, labels = new_keys, new_nodes, new_labels
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        labels[i] = labels[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    labels[i] = label
    return keys, nodes, labels, size + 1


@njit(nogil=True, cache=True, inline="always")
def heap_pop(keys: Array, nodes: Array, labels: Array,
             size: int) -> tuple[float, int, int, int]:
    """Pop the smallest key: ``(key, node, label, new size)``."""
    top_key, top_node, top_label = keys[0], nodes[0], labels[0]
    size -= 1
    last_key = keys[size]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best, best_key = first, keys[first]
        for j in range(first + 1, min(first + 4, size)):
            if keys[j] < best_key:
                best, best_key = j, keys[j]
        if best_key >= last_key:
            break
        keys[i] = best_key
        nodes[i] = nodes[best]
        labels[i] = labels[best]
        i = best
    if size > 0:
        keys[i] = last_key
        nodes[i] = nodes[size]
        labels[i] = labels[size]
    return top_key, top_node, top_label, size


@njit(nogil=True, cache=True)
def dijkstra_into(
    indptr: Array, nbr: Array, arc_of: Array, w1: Array, w2: Array,
    seed_node: Array, seed_c1: Array, seed_c2: Array, cutoff: float,
    dist1: Array, dist2: Array, pred: Array, touched: Array,
) -> int:
    """Multi-seed Dijkstra writing into caller-owned arrays; returns the touched count.

    ``dist1`` must be ``inf`` and ``pred`` ``-1`` on entry for every node; the caller resets
    only ``touched[:count]`` afterwards, so repeated searches cost what they visit.
    ``pred[node]`` is the arc that settled the node (``-1`` for seeds). Nodes whose cost
    exceeds ``cutoff`` are left at ``inf``.
    """
    cap = 2 * len(seed_node) + 64
    keys = np.empty(cap, np.float64)
    nodes = np.empty(cap, np.int32)
    unused = np.empty(cap, np.int32)
    size = 0
    count = 0
    for i in range(len(seed_node)):
        node = seed_node[i]
        if seed_c1[i] <= cutoff and seed_c1[i] < dist1[node]:
            if dist1[node] == np.inf:
                touched[count] = node
                count += 1
            dist1[node] = seed_c1[i]
            dist2[node] = seed_c2[i]
            pred[node] = -1
            keys, nodes, unused, size = heap_push(keys, nodes, unused, size, seed_c1[i],
                                                  node, -1)
    while size > 0:
        d, node, _, size = heap_pop(keys, nodes, unused, size)
        # a node is pushed only when its cost drops strictly: an entry above it is stale
        if d > dist1[node]:
            continue
        d2 = dist2[node]
        for a in range(indptr[node], indptr[node + 1]):
            t = nbr[a]
            arc = arc_of[a]
            nd = d + w1[arc]
            if nd > cutoff or nd >= dist1[t]:
                continue
            if dist1[t] == np.inf:
                touched[count] = t
                count += 1
            dist1[t] = nd
            dist2[t] = d2 + w2[arc]
            pred[t] = arc
            keys, nodes, unused, size = heap_push(keys, nodes, unused, size, nd, t, -1)
    return count


@njit(nogil=True, cache=True)
def matrix_chunk(
    n: int, indptr: Array, nbr: Array, arc_of: Array, w1: Array, w2: Array,
    schools: Array, seed_indptr: Array, seed_node: Array, seed_c1: Array, seed_c2: Array,
    att_indptr: Array, att_origin: Array, att_c1: Array, att_c2: Array,
    n_origins: int, s_edge: Array, s_frac: Array, s_off1: Array, s_off2: Array,
    eo_indptr: Array, eo_origin: Array, o_frac: Array, o_off1: Array, o_off2: Array,
    e_fwd: Array, e_bwd: Array, e_w1: Array, e_w2: Array, cutoff: float,
) -> tuple[Array, Array, Array, Array]:
    """Origin x school costs within ``cutoff`` for the schools listed in ``schools``.

    For each school, a reverse Dijkstra bounded by ``cutoff`` gives node -> school costs;
    origins attached to settled nodes (``att_*``, CSR by node, off-road and partial edge
    included) and origins on the school's own edge are then scored. Returns COO arrays
    ``(origin, school, cost1, cost2)``.
    """
    dist1 = np.full(n, np.inf)
    dist2 = np.full(n, np.inf)
    pred = np.full(n, -1, np.int32)
    touched = np.empty(n, np.int32)
    best1 = np.full(n_origins, np.inf)
    best2 = np.full(n_origins, np.inf)
    hit = np.empty(n_origins, np.int32)
    cap = 1024
    rows = np.empty(cap, np.int32)
    cols = np.empty(cap, np.int32)
    vals1 = np.empty(cap, np.float64)
    vals2 = np.empty(cap, np.float64)
    nnz = 0
    for s in schools:
        lo, hi = seed_indptr[s], seed_indptr[s + 1]
        count = dijkstra_into(
            indptr, nbr, arc_of, w1, w2, seed_node[lo:hi], seed_c1[lo:hi], seed_c2[lo:hi],
            cutoff, dist1, dist2, pred, touched,
        )
        n_hit = 0
        for i in range(count):
            node = touched[i]
            d1 = dist1[node]
            d2 = dist2[node]
            for j in range(att_indptr[node], att_indptr[node + 1]):
                cost = att_c1[j] + d1
                if cost > cutoff:
                    continue
                o = att_origin[j]
                if best1[o] == np.inf:
                    hit[n_hit] = o
                    n_hit += 1
                if cost < best1[o]:
                    best1[o] = cost
                    best2[o] = att_c2[j] + d2
        e = s_edge[s]
        g = s_frac[s]
        for j in range(eo_indptr[e], eo_indptr[e + 1]):
            o = eo_origin[j]
            f = o_frac[o]
            if (g >= f and (e_fwd[e] or g == f)) or (g <= f and e_bwd[e]):
                part = abs(g - f)
                cost = o_off1[o] + part * e_w1[e] + s_off1[s]
                if cost > cutoff:
                    continue
                if best1[o] == np.inf:
                    hit[n_hit] = o
                    n_hit += 1
                if cost < best1[o]:
                    best1[o] = cost
                    best2[o] = o_off2[o] + part * e_w2[e] + s_off2[s]
        if nnz + n_hit > cap:
            cap = 2 * (nnz + n_hit)
            rows2 = np.empty(cap, np.int32)
            cols2 = np.empty(cap, np.int32)
            vals1_2 = np.empty(cap, np.float64)
            vals2_2 = np.empty(cap, np.float64)
            rows2[:nnz] = rows[:nnz]
            cols2[:nnz] = cols[:nnz]
            vals1_2[:nnz] = vals1[:nnz]
            vals2_2[:nnz] = vals2[:nnz]
            rows, cols, vals1, vals2 = rows2, cols2, vals1_2, vals2_2
        for i in range(n_hit):
            o = hit[i]
            rows[nnz] = o
            cols[nnz] = s
            vals1[nnz] = best1[o]
            vals2[nnz] = best2[o]
            nnz += 1
            best1[o] = np.inf
            best2[o] = np.inf
        for i in range(count):
            node = touched[i]
            dist1[node] = np.inf
            dist2[node] = np.inf
            pred[node] = -1
    return rows[:nnz], cols[:nnz], vals1[:nnz], vals2[:nnz]

