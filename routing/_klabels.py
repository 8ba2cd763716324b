"""Numba kernels of the k-nearest search: k best labels per node, then per origin.

Every node keeps a row of ``k`` tentative labels ``(cost1, target)`` sorted by cost, a
target at most once. A candidate enters a row only if it beats the row's k-th cost (kept
in a small ``kth`` array so most rejections touch one cache line) or improves its own
target's cost; whatever it pushes out is simply forgotten, and a queued entry is skipped
when its label is no longer in the row with the same cost. This is exact: if target
``s`` is not among the k best of ``u``, then ``k`` other targets reach every node behind
``u`` at most as cheaply through ``u``.

Rows only ever hold costs of real paths and an entry still in its row is always
expanded, so the costs do not depend on the order of work; the order decides how much
work is done (and, among targets at exactly the same cost, which ones fill the last
places). The queue is a bucket queue (Dinitz): with buckets no wider than the smallest
arc weight, an entry of bucket ``b`` only creates entries in later buckets and cannot
displace another entry of ``b``, so every label is expanded once, as with a heap, while a
bucket's entries can be processed in any order — here sorted by node, for memory
locality. The width is the 5th percentile of the weights, so that a few very short arcs
do not make buckets tiny; an arc shorter than that sends its entry to the next bucket and
may cost a re-expansion, never exactness. Costs stay exact float64: only the order of
work is bucketed. Graphs with a zero-weight arc fall back to a 4-ary heap over the same
rows.

Large graphs are first searched as two halves on two threads, then once more from the
labels crossing between them (see :func:`_search_buckets`); the rows end up the same
kind of fixpoint, so the argument above still holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from routing._kernels import heap_pop, heap_push

# numba-compiled functions are untyped for mypy; keep the signatures in the docstrings.
Array = Any

# Buckets are as wide as this quantile of the arc weights (at least the smallest weight).
_WIDTH_QUANTILE = 0.05
# More ring slots than this (tiny smallest weight) and the heap is the better queue.
_MAX_SLOTS = 1 << 22
# From this many nodes the two halves of the graph are searched on two threads first.
_HALVES_MIN_NODES = 20_000


@njit(nogil=True, cache=True, inline="always")
def _insert(lab: Array, c1: Array, c2: Array, row: int, count: int, label: int,
            cost1: float, cost2: float, k: int) -> int:
    """Insert ``(cost1, label)`` into sorted row ``row`` holding ``count`` labels.

    A label appears once per row, at its best cost. Returns the row's new count, or -1
    when the candidate does not enter (row full and not better than its k-th, or its
    label already there at no higher cost).
    """
    if count == k and cost1 >= c1[row, k - 1]:
        return -1
    j = -1
    for q in range(count):
        if lab[row, q] == label:
            j = q
            break
    if j >= 0:
        if c1[row, j] <= cost1:
            return -1
    elif count < k:
        j = count
        count += 1
    else:
        j = k - 1
    while j > 0 and c1[row, j - 1] > cost1:
        lab[row, j] = lab[row, j - 1]
        c1[row, j] = c1[row, j - 1]
        c2[row, j] = c2[row, j - 1]
        j -= 1
    lab[row, j] = label
    c1[row, j] = cost1
    c2[row, j] = cost2
    return count


@njit(nogil=True, cache=True, inline="always")
def _offer(lab: Array, c1: Array, c2: Array, fill: Array, kth: Array, node: int, label: int,
           cost1: float, cost2: float, k: int) -> bool:
    """:func:`_insert` into ``node``'s row, keeping ``fill`` and ``kth`` up to date."""
    if cost1 >= kth[node]:
        return False
    count = _insert(lab, c1, c2, node, fill[node], label, cost1, cost2, k)
    if count < 0:
        return False
    fill[node] = count
    if count == k:
        kth[node] = c1[node, k - 1]
    return True


@njit(nogil=True, cache=True, inline="always")
def _still_labelled(lab: Array, c1: Array, fill: Array, node: int, label: int,
                    cost1: float) -> int:
    """Slot of ``label`` in ``node``'s row if it still has cost ``cost1``, else -1."""
    for q in range(fill[node]):
        if lab[node, q] == label:
            return q if c1[node, q] == cost1 else -1
    return -1


@njit(nogil=True, cache=True, inline="always")
def _enqueue(
    p_cost: Array, p_node: Array, p_label: Array, p_next: Array, free: Array, used: int,
    n_free: int, head: Array, slot: int, cost: float, node: int, label: int,
) -> tuple[Array, Array, Array, Array, Array, int, int]:
    """Chain ``(cost, node, label)`` into ring slot ``slot`` from the entry pool.

    Takes a recycled entry if there is one, else a new one (growing the pool). Returns
    the pool arrays (new ones after growing) and the new ``used`` / ``n_free`` counts.
    """
    if n_free > 0:
        n_free -= 1
        e = free[n_free]
    else:
        if used == p_cost.shape[0]:
            size = 2 * used + 1024
            grown_cost = np.empty(size, np.float64)
            grown_node = np.empty(size, np.int32)
            grown_label = np.empty(size, np.int32)
            grown_next = np.empty(size, np.int64)
            grown_free = np.empty(size, np.int64)
            grown_cost[:used] = p_cost
            grown_node[:used] = p_node
            grown_label[:used] = p_label
            grown_next[:used] = p_next
            grown_free[:used] = free
            p_cost, p_node, p_label = grown_cost, grown_node, grown_label
            p_next, free = grown_next, grown_free
        e = used
        used += 1
    p_cost[e] = cost
    p_node[e] = node
    p_label[e] = label
    p_next[e] = head[slot]
    head[slot] = e
    return p_cost, p_node, p_label, p_next, free, used, n_free


@njit(nogil=True, cache=True)
def _empty_rows(n: int, k: int) -> tuple[Array, Array, Array, Array, Array]:
    """Rows ``(label, cost1, cost2)`` of ``n`` nodes, empty, with their fill and k-th cost."""
    return (np.full((n, k), -1, np.int32), np.full((n, k), np.inf), np.full((n, k), np.inf),
            np.zeros(n, np.int32), np.full(n, np.inf))


@njit(nogil=True, cache=True)
def _buckets_into(
    lab: Array, c1: Array, c2: Array, fill: Array, kth: Array, lo: int, hi: int,
    indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array, seed_label: Array,
    seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
) -> None:
    """Bucket-queue search on the rows given, over the nodes ``lo <= node < hi`` only.

    Rows may already hold labels (all of them expanded); seeds and arcs leading
    outside the node range are ignored, so searches on disjoint ranges may run at once.
    """
    n = hi - lo
    n_slots = int(np.max(w1) / width) + 3 if len(w1) else 3
    head = np.full(n_slots, -1, np.int64)
    # queued entries live in a pool chained per ring slot; processed entries are recycled
    cap = 4 * len(seed_node) + n + 1024
    p_cost = np.empty(cap, np.float64)
    p_node = np.empty(cap, np.int32)
    p_label = np.empty(cap, np.int32)
    p_next = np.empty(cap, np.int64)
    free = np.empty(cap, np.int64)
    n_free = 0
    used = 0
    waiting = 0
    seed_order = np.argsort(seed_c1, kind="mergesort")
    n_seeds = len(seed_node)
    next_seed = 0
    batch = np.empty(1024, np.int64)
    batch_node = np.empty(1024, np.int32)
    current = -1
    while True:
        if waiting == 0:
            if next_seed >= n_seeds or seed_c1[seed_order[next_seed]] > cutoff:
                break
            current = int(seed_c1[seed_order[next_seed]] / width)
        else:
            current += 1
        while next_seed < n_seeds:
            i = seed_order[next_seed]
            if seed_c1[i] > cutoff or int(seed_c1[i] / width) > current:
                break
            next_seed += 1
            if seed_node[i] < lo or seed_node[i] >= hi:
                continue
            if _offer(lab, c1, c2, fill, kth, seed_node[i], seed_label[i], seed_c1[i],
                      seed_c2[i], k):
                p_cost, p_node, p_label, p_next, free, used, n_free = _enqueue(
                    p_cost, p_node, p_label, p_next, free, used, n_free, head,
                    current % n_slots, seed_c1[i], seed_node[i], seed_label[i])
                waiting += 1
        slot = current % n_slots
        e = head[slot]
        head[slot] = -1
        m = 0
        while e >= 0:
            if m == batch.shape[0]:
                grown = np.empty(2 * m, np.int64)
                grown[:m] = batch
                batch = grown
                grown_node = np.empty(2 * m, np.int32)
                grown_node[:m] = batch_node
                batch_node = grown_node
            batch[m] = e
            batch_node[m] = p_node[e]
            m += 1
            e = p_next[e]
        waiting -= m
        if m == 0:
            continue
        if m > 16:
            batch[:m] = batch[:m][np.argsort(batch_node[:m])]
        for jj in range(m):
            e = batch[jj]
            d = p_cost[e]
            node = p_node[e]
            s = p_label[e]
            free[n_free] = e
            n_free += 1
            q = _still_labelled(lab, c1, fill, node, s, d)
            if q < 0:
                continue
            d2 = c2[node, q]
            for a in range(indptr[node], indptr[node + 1]):
                nd = d + w1[a]
                if nd > cutoff:
                    continue
                t = nbr[a]
                if t < lo or t >= hi or not _offer(lab, c1, c2, fill, kth, t, s, nd,
                                                   d2 + w2[a], k):
                    continue
                # an arc shorter than the width (or rounding) may land in the current
                # bucket, already taken out of the ring: queue it in the next one
                p_cost, p_node, p_label, p_next, free, used, n_free = _enqueue(
                    p_cost, p_node, p_label, p_next, free, used, n_free, head,
                    max(int(nd / width), current + 1) % n_slots, nd, t, s)
                waiting += 1


@njit(nogil=True, cache=True)
def _crossing_offers(
    lab: Array, c1: Array, c2: Array, fill: Array, split: int, indptr: Array, nbr: Array,
    w1: Array, w2: Array, cutoff: float,
) -> tuple[Array, Array, Array, Array]:
    """Every label carried over every arc between nodes ``< split`` and ``>= split``."""
    n = len(fill)
    count = 0
    for u in range(n):
        for a in range(indptr[u], indptr[u + 1]):
            if (u < split) != (nbr[a] < split):
                count += fill[u]
    node = np.empty(count, np.int32)
    label = np.empty(count, np.int32)
    cost1 = np.empty(count)
    cost2 = np.empty(count)
    m = 0
    for u in range(n):
        for a in range(indptr[u], indptr[u + 1]):
            t = nbr[a]
            if (u < split) == (t < split):
                continue
            for j in range(fill[u]):
                nd = c1[u, j] + w1[a]
                if nd > cutoff:
                    break
                node[m] = t
                label[m] = lab[u, j]
                cost1[m] = nd
                cost2[m] = c2[u, j] + w2[a]
                m += 1
    return node[:m], label[:m], cost1[:m], cost2[:m]


@njit(parallel=True, cache=True)
def _halves_into(
    lab: Array, c1: Array, c2: Array, fill: Array, kth: Array, split: int,
    indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array, seed_label: Array,
    seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
) -> None:
    """:func:`_buckets_into` on nodes ``< split`` and on the rest, one thread each.

    The two searches write disjoint rows, each in its own fixed order.
    """
    bounds = np.array([0, split, len(fill)])
    for half in prange(2):
        _buckets_into(lab, c1, c2, fill, kth, bounds[half], bounds[half + 1], indptr, nbr,
                      w1, w2, seed_node, seed_label, seed_c1, seed_c2, k, cutoff, width)


def _search_buckets(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array,
    seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
    halves: bool = False,
) -> tuple[Array, Array, Array]:
    """Bucket-queue search; with ``halves``, first the two node halves on two threads.

    Each half (nodes ``< n // 2`` and the rest, Z-ordered: two compact areas) is
    searched alone, on its own rows; then the labels crossing between the halves are
    offered as seeds of one more search over the whole graph, which only revisits what
    they improve (a strip along the border). Every label left in a row has then been
    carried over all its arcs, which is all the exactness argument needs; each step
    is deterministic, so the result does not depend on thread timing.
    """
    rows = _empty_rows(n, k)
    lab, c1, c2 = rows[:3]
    graph = (indptr, nbr, w1, w2)
    if not halves:
        _buckets_into(*rows, 0, n, *graph, seed_node, seed_label, seed_c1, seed_c2, k,
                      cutoff, width)
        return lab, c1, c2
    split = n // 2
    _halves_into(*rows, split, *graph, seed_node, seed_label, seed_c1, seed_c2, k, cutoff,
                 width)
    crossing = _crossing_offers(*rows[:4], split, *graph, cutoff)
    _buckets_into(*rows, 0, n, *graph, *crossing, k, cutoff, width)
    return lab, c1, c2


@njit(nogil=True, cache=True)
def _search_heap(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array,
    seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    lab, c1, c2, fill, kth = _empty_rows(n, k)
    cap = 4 * len(seed_node) + n + 16
    keys = np.empty(cap, np.float64)
    nodes = np.empty(cap, np.int32)
    labels = np.empty(cap, np.int32)
    size = 0
    for i in range(len(seed_node)):
        if seed_c1[i] <= cutoff and _offer(lab, c1, c2, fill, kth, seed_node[i],
                                           seed_label[i], seed_c1[i], seed_c2[i], k):
            keys, nodes, labels, size = heap_push(keys, nodes, labels, size, seed_c1[i],
                                                  seed_node[i], seed_label[i])
    while size > 0:
        d, node, s, size = heap_pop(keys, nodes, labels, size)
        q = _still_labelled(lab, c1, fill, node, s, d)
        if q < 0:
            continue
        d2 = c2[node, q]
        for a in range(indptr[node], indptr[node + 1]):
            nd = d + w1[a]
            if nd > cutoff:
                continue
            t = nbr[a]
            if _offer(lab, c1, c2, fill, kth, t, s, nd, d2 + w2[a], k):
                keys, nodes, labels, size = heap_push(keys, nodes, labels, size, nd, t, s)
    return lab, c1, c2


def k_label_search(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array,
    seed_node: Array, seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    """Multi-source search keeping the ``k`` best distinct labels of every node.

    ``(indptr, nbr)`` is a CSR graph and ``w1``/``w2`` are aligned with ``nbr`` (weights of
    the CSR slots, not arc ids); ``w1`` is minimised and ``w2`` carried along the same
    path. Seeds are ``(node, label, cost1, cost2)``; a label keeps its best cost per node.

    Returns
    -------
    tuple of arrays, shape ``(n, k)``
        ``(label, cost1, cost2)`` sorted by ``cost1`` per node, ``-1`` / ``inf`` in unused
        slots.
    """
    smallest = float(np.min(w1)) if len(w1) else 1.0
    largest = float(np.max(w1)) if len(w1) else 1.0
    # A few very short arcs (OSM) would make buckets tiny and nearly empty: size them on
    # the short tail instead and let the rare shorter arcs cost a re-expansion.
    short = float(np.quantile(w1, _WIDTH_QUANTILE)) if len(w1) else 1.0
    width = max(smallest, short)
    if width > 0.0 and np.isfinite(largest) and largest / width < _MAX_SLOTS:
        return _search_buckets(n, indptr, nbr, w1, w2, seed_node, seed_label,
                               seed_c1, seed_c2, k, float(cutoff), width,
                               halves=n >= _HALVES_MIN_NODES)
    return _search_heap(n, indptr, nbr, w1, w2, seed_node, seed_label,
                        seed_c1, seed_c2, k, float(cutoff))


@njit(parallel=True, cache=True)
def combine_k(
    lab: Array, c1: Array, c2: Array,
    o_edge: Array, o_frac: Array, o_off1: Array, o_off2: Array,
    edge_u: Array, edge_v: Array, e_fwd: Array, e_bwd: Array, e_w1: Array, e_w2: Array,
    se_indptr: Array, se_label: Array, se_frac: Array, se_off1: Array, se_off2: Array,
    k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    """The ``k`` best labels of every origin from the labels of its edge's two end nodes.

    An origin on edge ``e`` at fraction ``o_frac`` leaves it towards ``u`` against the
    edge and towards ``v`` along it, each after its off-road leg ``o_off*``, as in
    :meth:`routing.snap.Snap.leave_costs` (a closed direction is allowed only from the
    node itself). Labels sitting on the same edge (``se_*``, CSR by edge) are also
    reached directly along the edge. Candidates enter each output row by sorted
    insertion (a target once, at its best cost), in the order ``u`` labels, ``v`` labels,
    same-edge labels.
    """
    n_orig = len(o_edge)
    width = lab.shape[1]
    out_lab = np.full((n_orig, k), -1, np.int32)
    out_c1 = np.full((n_orig, k), np.inf)
    out_c2 = np.full((n_orig, k), np.inf)
    for o in prange(n_orig):
        e = o_edge[o]
        f = o_frac[o]
        count = 0
        for end in range(2):
            if end == 0:
                if not (f == 0.0 or e_bwd[e]):
                    continue
                node = edge_u[e]
                base1 = o_off1[o] + f * e_w1[e]
                base2 = o_off2[o] + f * e_w2[e]
            else:
                if not (f == 1.0 or e_fwd[e]):
                    continue
                node = edge_v[e]
                base1 = o_off1[o] + (1.0 - f) * e_w1[e]
                base2 = o_off2[o] + (1.0 - f) * e_w2[e]
            for j in range(width):
                s = lab[node, j]
                if s < 0:
                    break
                cost1 = base1 + c1[node, j]
                if cost1 > cutoff or (count == k and cost1 >= out_c1[o, k - 1]):
                    break  # the node's labels are sorted: no later one can enter
                count = max(count, _insert(out_lab, out_c1, out_c2, o, count, s, cost1,
                                           base2 + c2[node, j], k))
        for j in range(se_indptr[e], se_indptr[e + 1]):
            g = se_frac[j]
            if (g >= f and (e_fwd[e] or g == f)) or (g <= f and e_bwd[e]):
                part = abs(g - f)
                cost1 = o_off1[o] + part * e_w1[e] + se_off1[j]
                if cost1 > cutoff:
                    continue
                count = max(count, _insert(out_lab, out_c1, out_c2, o, count, se_label[j],
                                           cost1, o_off2[o] + part * e_w2[e] + se_off2[j],
                                           k))
    return out_lab, out_c1, out_c2
