"""Numba kernels of the k-nearest search: k best labels per node, then per origin.

Every node keeps a row of ``k`` tentative labels ``(cost1, target)`` sorted by cost, a
target at most once. A candidate enters a row only if it beats the row's k-th cost (kept
in a small ``kth`` array so most rejections touch one cache line) or improves its own
target's cost; whatever it pushes out is simply forgotten, and a queued entry is skipped
when its label is no longer in the row with the same cost. This is exact: if target
``s`` is not among the k best of ``u``, then ``k`` other targets reach every node behind
``u`` at most as cheaply through ``u``.

Rows only ever hold costs of real paths and an entry still in its row is always
expanded, so the result does not depend on the order of work; the order decides how much
work is done. The queue is a bucket queue (Dinitz): with buckets no wider than the
smallest arc weight, an entry of bucket ``b`` only creates entries in later buckets and
cannot displace another entry of ``b``, so every label is expanded once, as with a heap,
while a bucket's entries can be processed in any order — here sorted by node, for memory
locality. The width is the 5th percentile of the weights, so that a few very short arcs
do not make buckets tiny; an arc shorter than that sends its entry to the next bucket and
may cost a re-expansion, never exactness. Costs stay exact float64: only the order of
work is bucketed. Graphs with a zero-weight arc fall back to a 4-ary heap over the same
rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

# numba-compiled functions are untyped for mypy; keep the signatures in the docstrings.
Array = Any

# Buckets are as wide as this quantile of the arc weights (at least the smallest weight).
_WIDTH_QUANTILE = 0.05
# More ring slots than this (tiny smallest weight) and the heap is the better queue.
_MAX_SLOTS = 1 << 22


@njit(nogil=True, cache=True, inline="always")
def _offer(
    lab: Array, c1: Array, c2: Array, fill: Array, kth: Array,
    node: int, label: int, cost1: float, cost2: float, k: int,
) -> bool:
    """Insert ``(cost1, label)`` into ``node``'s sorted row; False when it does not enter."""
    if cost1 >= kth[node]:
        return False
    count = fill[node]
    j = -1
    for q in range(count):
        if lab[node, q] == label:
            j = q
            break
    if j >= 0:
        if c1[node, j] <= cost1:
            return False
    elif count < k:
        j = count
        fill[node] = count + 1
    else:
        j = k - 1
    while j > 0 and c1[node, j - 1] > cost1:
        lab[node, j] = lab[node, j - 1]
        c1[node, j] = c1[node, j - 1]
        c2[node, j] = c2[node, j - 1]
        j -= 1
    lab[node, j] = label
    c1[node, j] = cost1
    c2[node, j] = cost2
    if fill[node] == k:
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
def _grow_pool(p_cost: Array, p_node: Array, p_label: Array, p_next: Array,
               free: Array) -> tuple[Array, Array, Array, Array, Array]:
    used = p_cost.shape[0]
    size = 2 * used + 1024
    cost = np.empty(size, np.float64)
    node = np.empty(size, np.int32)
    label = np.empty(size, np.int32)
    nxt = np.empty(size, np.int64)
    spare = np.empty(size, np.int64)
    cost[:used] = p_cost
    node[:used] = p_node
    label[:used] = p_label
    nxt[:used] = p_next
    spare[:used] = free
    return cost, node, label, nxt, spare


@njit(nogil=True, cache=True)
def _search_buckets(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array,
    seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
) -> tuple[Array, Array, Array]:
    lab = np.full((n, k), -1, np.int32)
    c1 = np.full((n, k), np.inf)
    c2 = np.full((n, k), np.inf)
    fill = np.zeros(n, np.int32)
    kth = np.full(n, np.inf)
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
            if _offer(lab, c1, c2, fill, kth, seed_node[i], seed_label[i], seed_c1[i],
                      seed_c2[i], k):
                if n_free > 0:
                    n_free -= 1
                    e = free[n_free]
                else:
                    if used == p_cost.shape[0]:
                        p_cost, p_node, p_label, p_next, free = _grow_pool(
                            p_cost, p_node, p_label, p_next, free)
                    e = used
                    used += 1
                p_cost[e] = seed_c1[i]
                p_node[e] = seed_node[i]
                p_label[e] = seed_label[i]
                slot = current % n_slots
                p_next[e] = head[slot]
                head[slot] = e
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
                batch_node = np.empty(2 * m, np.int32)
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
                if not _offer(lab, c1, c2, fill, kth, t, s, nd, d2 + w2[a], k):
                    continue
                if n_free > 0:
                    n_free -= 1
                    f = free[n_free]
                else:
                    if used == p_cost.shape[0]:
                        p_cost, p_node, p_label, p_next, free = _grow_pool(
                            p_cost, p_node, p_label, p_next, free)
                    f = used
                    used += 1
                p_cost[f] = nd
                p_node[f] = t
                p_label[f] = s
                # an arc shorter than the width (or rounding) may land in the current
                # bucket, already taken out of the ring: queue it in the next one
                slot = max(int(nd / width), current + 1) % n_slots
                p_next[f] = head[slot]
                head[slot] = f
                waiting += 1
    return lab, c1, c2


@njit(nogil=True, cache=True, inline="always")
def _push(keys: Array, nodes: Array, labels: Array, size: int, key: float, node: int,
          label: int) -> tuple[Array, Array, Array, int]:
    """Push onto a 4-ary min-heap held in three parallel arrays."""
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
def _pop(keys: Array, nodes: Array, labels: Array,
         size: int) -> tuple[float, int, int, int]:
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
def _search_heap(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array,
    seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    lab = np.full((n, k), -1, np.int32)
    c1 = np.full((n, k), np.inf)
    c2 = np.full((n, k), np.inf)
    fill = np.zeros(n, np.int32)
    kth = np.full(n, np.inf)
    cap = 4 * len(seed_node) + n + 16
    keys = np.empty(cap, np.float64)
    nodes = np.empty(cap, np.int32)
    labels = np.empty(cap, np.int32)
    size = 0
    for i in range(len(seed_node)):
        if seed_c1[i] <= cutoff and _offer(lab, c1, c2, fill, kth, seed_node[i],
                                           seed_label[i], seed_c1[i], seed_c2[i], k):
            keys, nodes, labels, size = _push(keys, nodes, labels, size, seed_c1[i],
                                              seed_node[i], seed_label[i])
    while size > 0:
        d, node, s, size = _pop(keys, nodes, labels, size)
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
                keys, nodes, labels, size = _push(keys, nodes, labels, size, nd, t, s)
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
                               seed_c1, seed_c2, k, float(cutoff), width)
    return _search_heap(n, indptr, nbr, w1, w2, seed_node, seed_label,
                        seed_c1, seed_c2, k, float(cutoff))


@njit(nogil=True, cache=True, inline="always")
def _offer_row(out_lab: Array, out_c1: Array, out_c2: Array, o: int, count: int,
               label: int, cost1: float, cost2: float, k: int) -> int:
    """Like :func:`_offer` on row ``o`` of the output; returns the row's new count."""
    if count == k and cost1 >= out_c1[o, k - 1]:
        return count
    j = -1
    for q in range(count):
        if out_lab[o, q] == label:
            j = q
            break
    if j >= 0:
        if out_c1[o, j] <= cost1:
            return count
    elif count < k:
        j = count
        count += 1
    else:
        j = k - 1
    while j > 0 and out_c1[o, j - 1] > cost1:
        out_lab[o, j] = out_lab[o, j - 1]
        out_c1[o, j] = out_c1[o, j - 1]
        out_c2[o, j] = out_c2[o, j - 1]
        j -= 1
    out_lab[o, j] = label
    out_c1[o, j] = cost1
    out_c2[o, j] = cost2
    return count


@njit(parallel=True, cache=True)
def combine_k(
    lab: Array, c1: Array, c2: Array,
    o_u: Array, o_v: Array, o_cu1: Array, o_cu2: Array, o_cv1: Array, o_cv2: Array,
    o_edge: Array, o_frac: Array, o_off1: Array, o_off2: Array,
    e_fwd: Array, e_bwd: Array, e_w1: Array, e_w2: Array,
    se_indptr: Array, se_label: Array, se_frac: Array, se_off1: Array, se_off2: Array,
    k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    """The ``k`` best labels of every origin from the labels of its edge's two end nodes.

    An origin on edge ``e`` at fraction ``o_frac`` reaches ``u`` at cost ``o_cu1`` and ``v``
    at ``o_cv1`` (``inf`` where one-way forbids it, off-road leg included); labels sitting
    on the same edge (``se_*``, CSR by edge) are also reached directly along the edge.
    Candidates enter each output row by sorted insertion (a target once, at its best
    cost), in the order ``u`` labels, ``v`` labels, same-edge labels.
    """
    n_orig = len(o_u)
    width = lab.shape[1]
    out_lab = np.full((n_orig, k), -1, np.int32)
    out_c1 = np.full((n_orig, k), np.inf)
    out_c2 = np.full((n_orig, k), np.inf)
    for o in prange(n_orig):
        count = 0
        for end in range(2):
            node = o_u[o] if end == 0 else o_v[o]
            base1 = o_cu1[o] if end == 0 else o_cv1[o]
            base2 = o_cu2[o] if end == 0 else o_cv2[o]
            if base1 == np.inf:
                continue
            for j in range(width):
                s = lab[node, j]
                if s < 0:
                    break
                cost1 = base1 + c1[node, j]
                if cost1 > cutoff or (count == k and cost1 >= out_c1[o, k - 1]):
                    break  # the node's labels are sorted: no later one can enter
                count = _offer_row(out_lab, out_c1, out_c2, o, count, s, cost1,
                                   base2 + c2[node, j], k)
        e = o_edge[o]
        f = o_frac[o]
        for j in range(se_indptr[e], se_indptr[e + 1]):
            g = se_frac[j]
            if (g >= f and (e_fwd[e] or g == f)) or (g <= f and e_bwd[e]):
                part = abs(g - f)
                cost1 = o_off1[o] + part * e_w1[e] + se_off1[j]
                if cost1 > cutoff:
                    continue
                count = _offer_row(out_lab, out_c1, out_c2, o, count, se_label[j], cost1,
                                   o_off2[o] + part * e_w2[e] + se_off2[j], k)
    return out_lab, out_c1, out_c2
