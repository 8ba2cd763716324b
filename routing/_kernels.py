"""Numba kernels: binary heap, Dijkstra, k-label multi-source search, label combination.

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
from numba import njit, prange

# numba-compiled functions are untyped for mypy; keep the signatures in the docstrings.
Array = Any


@njit(nogil=True, cache=True, inline="always")
def _heap_push(
    keys: Array, nodes: Array, labels: Array, keys2: Array, size: int,
    key: float, node: int, label: int, key2: float,
) -> tuple[Array, Array, Array, Array, int]:
    if size == keys.shape[0]:
        grown = 2 * size + 16
        new_keys = np.empty(grown, np.float64)
        new_nodes = np.empty(grown, np.int32)
        new_labels = np.empty(grown, np.int32)
        new_keys2 = np.empty(grown, np.float64)
        new_keys[:size] = keys[:size]
        new_nodes[:size] = nodes[:size]
        new_labels[:size] = labels[:size]
        new_keys2[:size] = keys2[:size]
        keys, nodes, labels, keys2 = new_keys, new_nodes, new_labels, new_keys2
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        labels[i] = labels[parent]
        keys2[i] = keys2[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    labels[i] = label
    keys2[i] = key2
    return keys, nodes, labels, keys2, size + 1


@njit(nogil=True, cache=True, inline="always")
def _heap_pop(
    keys: Array, nodes: Array, labels: Array, keys2: Array, size: int
) -> tuple[float, int, int, float, int]:
    top_key, top_node, top_label, top_key2 = keys[0], nodes[0], labels[0], keys2[0]
    size -= 1
    last_key, last_node, last_label, last_key2 = keys[size], nodes[size], labels[size], keys2[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= last_key:
            break
        keys[i] = keys[child]
        nodes[i] = nodes[child]
        labels[i] = labels[child]
        keys2[i] = keys2[child]
        i = child
    if size > 0:
        keys[i] = last_key
        nodes[i] = last_node
        labels[i] = last_label
        keys2[i] = last_key2
    return top_key, top_node, top_label, top_key2, size


@njit(nogil=True, cache=True, inline="always")
def _quad_push(heap: Array, size: int, key: float, item: float) -> tuple[Array, int]:
    """Push onto a 4-ary min-heap of ``(key, item)`` rows (children share a cache line)."""
    if size == heap.shape[0]:
        grown = np.empty((2 * size + 16, 2), np.float64)
        grown[:size] = heap[:size]
        heap = grown
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if heap[parent, 0] <= key:
            break
        heap[i, 0] = heap[parent, 0]
        heap[i, 1] = heap[parent, 1]
        i = parent
    heap[i, 0] = key
    heap[i, 1] = item
    return heap, size + 1


@njit(nogil=True, cache=True, inline="always")
def _quad_pop(heap: Array, size: int) -> tuple[float, float, int]:
    key, item = heap[0, 0], heap[0, 1]
    size -= 1
    last_key, last_item = heap[size, 0], heap[size, 1]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best, best_key = first, heap[first, 0]
        for j in range(first + 1, min(first + 4, size)):
            if heap[j, 0] < best_key:
                best, best_key = j, heap[j, 0]
        if best_key >= last_key:
            break
        heap[i, 0] = best_key
        heap[i, 1] = heap[best, 1]
        i = best
    if size > 0:
        heap[i, 0] = last_key
        heap[i, 1] = last_item
    return key, item, size


@njit(nogil=True, cache=True)
def k_label_search(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array,
    seed_node: Array, seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    """Multi-source Dijkstra keeping the ``k`` best distinct labels of every node.

    ``w1``/``w2`` are aligned with ``nbr`` (weights of the CSR slots, not arc ids). A label
    (a school) may settle a node once; a node stops accepting labels once it has ``k``.
    Returns ``(label, cost1, cost2)`` of shape ``(n, k)``, sorted by ``cost1`` per node,
    with ``-1`` / ``inf`` in unused slots.

    With thousands of sources the search front covers the whole city at once and every
    step is a cache miss, so the data are laid out for few misses: a node's count and
    labels share a row, its two costs are interleaved, each queued entry is one row of
    ``pool`` (cost1, cost2, node, label), and the priority queue is a ring of buckets one
    mean arc wide (future entries, as linked lists) plus a small 4-ary heap that orders
    the current bucket exactly.
    """
    lab = np.full((n, k + 1), -1, np.int32)
    lab[:, 0] = 0
    cost = np.full((n, k, 2), np.inf)
    n_seeds = len(seed_node)
    if n_seeds == 0:
        return lab[:, 1:], cost[:, :, 0], cost[:, :, 1]
    delta = max(np.mean(w1) if len(w1) else 1.0, 1e-6)
    max_w = np.max(w1) if len(w1) else 0.0
    low = np.min(seed_c1)
    high = np.max(seed_c1)
    n_buckets = int((high - low + max_w) / delta) + 3
    head = np.full(n_buckets, -1, np.int64)
    cap = 4 * n_seeds + 2 * n + 16
    pool = np.empty((cap, 4), np.float64)
    pool_next = np.empty(cap, np.int64)
    heap = np.empty((1024, 2), np.float64)
    size = 0
    used = 0
    waiting = 0
    current = int(low / delta)
    for i in range(n_seeds):
        if seed_c1[i] <= cutoff:
            pool[used, 0] = seed_c1[i]
            pool[used, 1] = seed_c2[i]
            pool[used, 2] = seed_node[i]
            pool[used, 3] = seed_label[i]
            bucket = int(seed_c1[i] / delta)
            if bucket <= current:
                heap, size = _quad_push(heap, size, seed_c1[i], float(used))
            else:
                slot = bucket % n_buckets
                pool_next[used] = head[slot]
                head[slot] = used
                waiting += 1
            used += 1
    while True:
        while size == 0 and waiting > 0:
            current += 1
            slot = current % n_buckets
            entry = head[slot]
            head[slot] = -1
            while entry >= 0:
                heap, size = _quad_push(heap, size, pool[entry, 0], float(entry))
                waiting -= 1
                entry = pool_next[entry]
        if size == 0:
            break
        d, item, size = _quad_pop(heap, size)
        entry = int(item)
        node = int(pool[entry, 2])
        s = int(pool[entry, 3])
        cnt = lab[node, 0]
        if cnt >= k:
            continue
        duplicate = False
        for j in range(1, cnt + 1):
            if lab[node, j] == s:
                duplicate = True
                break
        if duplicate:
            continue
        d2 = pool[entry, 1]
        lab[node, cnt + 1] = s
        lab[node, 0] = cnt + 1
        cost[node, cnt, 0] = d
        cost[node, cnt, 1] = d2
        for a in range(indptr[node], indptr[node + 1]):
            t = nbr[a]
            ct = lab[t, 0]
            if ct >= k:
                continue
            nd = d + w1[a]
            if nd > cutoff:
                continue
            seen = False
            for j in range(1, ct + 1):
                if lab[t, j] == s:
                    seen = True
                    break
            if seen:
                continue
            if used == pool.shape[0]:
                grown = np.empty((2 * used, 4), np.float64)
                grown[:used] = pool
                pool = grown
                grown_next = np.empty(2 * used, np.int64)
                grown_next[:used] = pool_next
                pool_next = grown_next
            pool[used, 0] = nd
            pool[used, 1] = d2 + w2[a]
            pool[used, 2] = t
            pool[used, 3] = s
            bucket = int(nd / delta)
            if bucket <= current:
                heap, size = _quad_push(heap, size, nd, float(used))
            else:
                slot = bucket % n_buckets
                pool_next[used] = head[slot]
                head[slot] = used
                waiting += 1
            used += 1
    return lab[:, 1:], cost[:, :, 0], cost[:, :, 1]


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
    labels = np.empty(cap, np.int32)
    keys2 = np.empty(cap, np.float64)
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
            keys, nodes, labels, keys2, size = _heap_push(
                keys, nodes, labels, keys2, size, seed_c1[i], node, -1, seed_c2[i]
            )
    while size > 0:
        d, node, _, d2, size = _heap_pop(keys, nodes, labels, keys2, size)
        if d > dist1[node] or (d == dist1[node] and d2 > dist2[node]):
            continue
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
            keys, nodes, labels, keys2, size = _heap_push(
                keys, nodes, labels, keys2, size, nd, t, -1, d2 + w2[arc]
            )
    return count


@njit(parallel=True, cache=True)
def combine_k(
    lab: Array, c1: Array, c2: Array,
    o_u: Array, o_v: Array, o_cu1: Array, o_cu2: Array, o_cv1: Array, o_cv2: Array,
    o_edge: Array, o_frac: Array, o_off1: Array, o_off2: Array,
    e_fwd: Array, e_bwd: Array, e_w1: Array, e_w2: Array,
    se_indptr: Array, se_label: Array, se_frac: Array, se_off1: Array, se_off2: Array,
    k: int, max_same: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    """The ``k`` best labels of every origin from the labels of its edge's two end nodes.

    An origin on edge ``e`` at fraction ``o_frac`` reaches ``u`` at cost ``o_cu1`` and ``v``
    at ``o_cv1`` (``inf`` where one-way forbids it, off-road leg included); labels sitting
    on the same edge (``se_*``, CSR by edge) are also reached directly along the edge.
    """
    n_orig = len(o_u)
    width = lab.shape[1]
    out_lab = np.full((n_orig, k), -1, np.int32)
    out_c1 = np.full((n_orig, k), np.inf)
    out_c2 = np.full((n_orig, k), np.inf)
    block = 512
    n_blocks = (n_orig + block - 1) // block
    for b in prange(n_blocks):
        size = 2 * width + max_same
        cand_lab = np.empty(size, np.int32)
        cand_c1 = np.empty(size, np.float64)
        cand_c2 = np.empty(size, np.float64)
        for o in range(b * block, min(n_orig, (b + 1) * block)):
            m = 0
            for end in range(2):
                node = o_u[o] if end == 0 else o_v[o]
                base1 = o_cu1[o] if end == 0 else o_cv1[o]
                base2 = o_cu2[o] if end == 0 else o_cv2[o]
                if base1 == np.inf:
                    continue
                for j in range(width):
                    s = lab[node, j]
                    if s < 0:
                        continue
                    cand_lab[m] = s
                    cand_c1[m] = base1 + c1[node, j]
                    cand_c2[m] = base2 + c2[node, j]
                    m += 1
            e = o_edge[o]
            f = o_frac[o]
            for j in range(se_indptr[e], se_indptr[e + 1]):
                g = se_frac[j]
                if (g >= f and (e_fwd[e] or g == f)) or (g <= f and e_bwd[e]):
                    part = abs(g - f)
                    cand_lab[m] = se_label[j]
                    cand_c1[m] = o_off1[o] + part * e_w1[e] + se_off1[j]
                    cand_c2[m] = o_off2[o] + part * e_w2[e] + se_off2[j]
                    m += 1
            order = np.argsort(cand_c1[:m], kind="mergesort")
            r = 0
            for idx in order:
                if r >= k:
                    break
                if cand_c1[idx] > cutoff:
                    break
                s = cand_lab[idx]
                taken = False
                for q in range(r):
                    if out_lab[o, q] == s:
                        taken = True
                        break
                if taken:
                    continue
                out_lab[o, r] = s
                out_c1[o, r] = cand_c1[idx]
                out_c2[o, r] = cand_c2[idx]
                r += 1
    return out_lab, out_c1, out_c2


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

