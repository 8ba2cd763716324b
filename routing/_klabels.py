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
places). The queue is a bucket queue (Dinitz). Were buckets no wider than the smallest arc
weight, an entry of bucket ``b`` would only create entries in later buckets and could not
displace another entry of ``b``, so every label would be expanded once, as with a heap,
while a bucket's entries can be processed in any order — here sorted by node, for memory
locality. The width is rather the 5th percentile of the positive weights, so that a few
very short arcs do not make buckets tiny; an arc shorter than that (a zero-weight arc too)
sends its entry to the next bucket and may cost a re-expansion, never exactness. Costs stay exact
float64: only the order of work is bucketed.

Large graphs are searched in parts small enough for the processor cache, on all cores,
then parts are merged pairwise by searching again from the labels crossing between them
(see :func:`_search_buckets`); the rows end up the same kind of fixpoint, so the argument
above still holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numba import njit, prange

from routing._kernels import counting_order

# numba-compiled functions are untyped for mypy; keep the signatures in the docstrings.
Array = Any
_F = TypeVar("_F", bound=Callable[..., Any])

# The helpers of the search loop are compiled without reference counting (``_nrt=False``,
# numba's switch: they only read and write the arrays they are given) and left to LLVM to
# inline. Inlined by numba instead, every array handed to them was counted per call, an
# atomic operation that took a fifth of the search time.
_uncounted: Callable[[_F], _F] = njit(nogil=True, cache=True, _nrt=False)  # type: ignore[call-overload]

# Buckets are as wide as this quantile of the positive arc weights...
_WIDTH_QUANTILE = 0.05
# ... but no narrower than the largest weight over this many ring slots.
_MAX_SLOTS = 1 << 22
# A part's rows take about this many bytes (3 MB: two parts at once stay in the 32 MB
# shared cache with their graph and queue; measured 16 parts best on the 256,000-node city)...
_PART_BYTES = 3 << 20
# ... and it has at least this many nodes (smaller, the merges cost more than they save).
_MIN_PART_NODES = 10_000


@_uncounted
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


@_uncounted
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


@njit(nogil=True, cache=True)
def _empty_rows(n: int, k: int) -> tuple[Array, Array, Array, Array, Array]:
    """Rows ``(label, cost1, cost2)`` of ``n`` nodes, empty, with their fill and k-th cost."""
    return (np.full((n, k), -1, np.int32), np.full((n, k), np.inf), np.full((n, k), np.inf),
            np.zeros(n, np.int32), np.full(n, np.inf))


@_uncounted
def _push(p_cost: Array, p_node: Array, p_label: Array, p_next: Array, free: Array,
          head: Array, queued: Array, n_free: int, used: int, slot: int, cost: float,
          node: int, label: int) -> tuple[int, int]:
    """Chain ``(cost, node, label)`` into ring ``slot``; return the new ``(n_free, used)``.

    The entry is a recycled pool entry if there is one; the pool must have room.
    """
    if n_free > 0:
        n_free -= 1
        e = free[n_free]
    else:
        e = used
        used += 1
    p_cost[e], p_node[e], p_label[e] = cost, node, label
    p_next[e] = head[slot]
    head[slot] = e
    queued[slot] += 1
    return n_free, used


@njit(nogil=True, cache=True)
def _grown(pool: Array, size: int) -> Array:
    """``pool`` copied into a new array of ``size`` entries."""
    grown = np.empty(size, pool.dtype)
    grown[:len(pool)] = pool
    return grown


@njit(nogil=True, cache=True)
def _grown_pool(p_cost: Array, p_node: Array, p_label: Array, p_next: Array, free: Array,
                size: int) -> tuple[Array, Array, Array, Array, Array]:
    """Return the entry pool's five arrays grown to ``size`` entries (rare: once per bucket at most)."""
    return (_grown(p_cost, size), _grown(p_node, size), _grown(p_label, size),
            _grown(p_next, size), _grown(free, size))


@njit(nogil=True, cache=True)
def _buckets_into(
    lab: Array, c1: Array, c2: Array, fill: Array, kth: Array, lo: int, hi: int,
    indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array, seed_label: Array,
    seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
) -> None:
    """Bucket-queue search on the rows given, over the nodes ``lo <= node < hi`` only.

    Rows may already hold labels (all of them expanded); seeds and arcs leading
    outside the node range are ignored, so searches on disjoint ranges may run at once.
    Queued entries ``(cost, node, label)`` live in a pool, chained per ring slot;
    processed entries are recycled.
    """
    n_slots = int(np.max(w1) / width) + 3 if len(w1) else 3
    head = np.full(n_slots, -1, np.int64)
    queued = np.zeros(n_slots, np.int64)
    cap = 4 * len(seed_node) + (hi - lo) + 1024
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
        slot = current % n_slots
        while next_seed < n_seeds:
            i = seed_order[next_seed]
            if seed_c1[i] > cutoff or int(seed_c1[i] / width) > current:
                break
            next_seed += 1
            node = seed_node[i]
            if node < lo or node >= hi or not _offer(lab, c1, c2, fill, kth, node,
                                                     seed_label[i], seed_c1[i], seed_c2[i], k):
                continue
            if n_free == 0 and used == len(p_cost):
                p_cost, p_node, p_label, p_next, free = _grown_pool(
                    p_cost, p_node, p_label, p_next, free, 2 * used + 1024)
            n_free, used = _push(p_cost, p_node, p_label, p_next, free, head, queued, n_free,
                                 used, slot, seed_c1[i], node, seed_label[i])
            waiting += 1
        # take the slot's chain out, sorted by node for memory locality
        m = queued[slot]
        if m == 0:
            continue
        if m > len(batch):
            batch, batch_node = np.empty(2 * m, np.int64), np.empty(2 * m, np.int32)
        e = head[slot]
        arcs = 0
        for jj in range(m):
            batch[jj] = e
            node = p_node[e]
            batch_node[jj] = node
            arcs += indptr[node + 1] - indptr[node]
            e = p_next[e]
        head[slot] = -1
        queued[slot] = 0
        waiting -= m
        if m > 16:
            batch[:m] = batch[:m][np.argsort(batch_node[:m])]
        # room for every entry the batch can create (one per arc of its nodes), so the loop
        # below never grows the pool
        if used + arcs > len(p_cost):
            p_cost, p_node, p_label, p_next, free = _grown_pool(
                p_cost, p_node, p_label, p_next, free, 2 * (used + arcs))
        for jj in range(m):
            e = batch[jj]
            d = p_cost[e]
            node = p_node[e]
            s = p_label[e]
            free[n_free] = e
            n_free += 1
            # expand only if the label is still in the row at this cost
            q = -1
            for j in range(fill[node]):
                if lab[node, j] == s:
                    if c1[node, j] == d:
                        q = j
                    break
            if q < 0:
                continue
            d2 = c2[node, q]
            for a in range(indptr[node], indptr[node + 1]):
                nd = d + w1[a]
                t = nbr[a]
                # outside the range first: another part's rows belong to another thread
                if t < lo or t >= hi or nd > cutoff or not _offer(lab, c1, c2, fill, kth, t, s,
                                                                  nd, d2 + w2[a], k):
                    continue
                # an arc shorter than the width (or rounding) may land in the current
                # bucket, already taken out of the ring: queue it in the next one
                n_free, used = _push(p_cost, p_node, p_label, p_next, free, head, queued,
                                     n_free, used, max(int(nd / width), current + 1) % n_slots,
                                     nd, t, s)
                waiting += 1


@njit(nogil=True, cache=True)
def _crossing_offers(
    lab: Array, c1: Array, c2: Array, fill: Array, lo: int, mid: int, hi: int,
    indptr: Array, nbr: Array, w1: Array, w2: Array, cutoff: float,
) -> tuple[Array, Array, Array, Array]:
    """Every label carried over every arc between nodes ``[lo, mid)`` and ``[mid, hi)``."""
    count = 0
    for u in range(lo, hi):
        for a in range(indptr[u], indptr[u + 1]):
            t = nbr[a]
            if lo <= t < hi and (u < mid) != (t < mid):
                count += fill[u]
    node = np.empty(count, np.int32)
    label = np.empty(count, np.int32)
    cost1 = np.empty(count)
    cost2 = np.empty(count)
    m = 0
    for u in range(lo, hi):
        for a in range(indptr[u], indptr[u + 1]):
            t = nbr[a]
            if not (lo <= t < hi and (u < mid) != (t < mid)):
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
def _parts_into(
    lab: Array, c1: Array, c2: Array, fill: Array, kth: Array, bounds: Array,
    indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array, seed_label: Array,
    seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
) -> None:
    """:func:`_buckets_into` on each part ``[bounds[p], bounds[p + 1])``, parts on all cores.

    The searches write disjoint rows, each in its own fixed order.
    """
    for p in prange(len(bounds) - 1):
        _buckets_into(lab, c1, c2, fill, kth, bounds[p], bounds[p + 1], indptr, nbr, w1, w2,
                      seed_node, seed_label, seed_c1, seed_c2, k, cutoff, width)


@njit(parallel=True, cache=True)
def _merges_into(
    lab: Array, c1: Array, c2: Array, fill: Array, kth: Array, bounds: Array, step: int,
    indptr: Array, nbr: Array, w1: Array, w2: Array, k: int, cutoff: float, width: float,
) -> None:
    """Merge the parts ``bounds[i * step : (i + 1) * step]`` pairwise, merges on all cores.

    Each merge searches its range again from the labels crossing between its two halves;
    merges write disjoint rows.
    """
    for p in prange((len(bounds) - 1) // step):
        lo, mid, hi = bounds[p * step], bounds[p * step + step // 2], bounds[(p + 1) * step]
        node, label, cost1, cost2 = _crossing_offers(lab, c1, c2, fill, lo, mid, hi,
                                                     indptr, nbr, w1, w2, cutoff)
        _buckets_into(lab, c1, c2, fill, kth, lo, hi, indptr, nbr, w1, w2, node, label,
                      cost1, cost2, k, cutoff, width)


def _part_count(n: int, k: int) -> int:
    """Parts (a power of two) of about :data:`_PART_BYTES` of rows for ``n`` nodes."""
    nodes = max(_MIN_PART_NODES, _PART_BYTES // (20 * k))  # 20 bytes per label
    parts = 1
    while n >= 2 * parts * nodes:
        parts *= 2
    return parts


def _search_buckets(
    n: int, indptr: Array, nbr: Array, w1: Array, w2: Array, seed_node: Array,
    seed_label: Array, seed_c1: Array, seed_c2: Array, k: int, cutoff: float, width: float,
    parts: int = 1,
) -> tuple[Array, Array, Array]:
    """Bucket-queue search in ``parts`` (a power of two) node ranges, then their merges.

    Each part (a range of Z-ordered nodes: a compact area) is searched alone, on its
    own rows, from its own seeds. Then neighbouring parts are merged pairwise, level by
    level: the labels crossing between the two are offered as seeds of one more search
    over both, which only revisits what they improve (a strip along the border). Every
    label left in a row has then been carried over all its arcs, which is all the
    exactness argument needs; each step is deterministic, so the result does not depend
    on thread timing.
    """
    if parts < 1 or parts & (parts - 1):
        raise ValueError("parts must be a power of two")
    rows = _empty_rows(n, k)
    lab, c1, c2 = rows[:3]
    graph = (indptr, nbr, w1, w2)
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)
    _parts_into(*rows, bounds, *graph, seed_node, seed_label, seed_c1, seed_c2, k, cutoff,
                width)
    step = 2
    while step <= parts:
        _merges_into(*rows, bounds, step, *graph, k, cutoff, width)
        step *= 2
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
    if k < 1:
        raise ValueError("k must be at least 1")
    if not np.all(np.isfinite(w1) & (w1 >= 0.0)):
        raise ValueError("arc weights must be finite and not negative")
    if np.isnan(seed_c1).any() or (seed_c1 < 0.0).any():
        raise ValueError("seed costs must not be negative or NaN")
    positive = w1[w1 > 0.0]
    # A few very short arcs (OSM) would make buckets tiny and nearly empty: size them on
    # the short tail instead and let the rare shorter arcs cost a re-expansion.
    width = 1.0
    if len(positive):
        width = max(float(np.quantile(positive, _WIDTH_QUANTILE)),
                    float(positive.max()) / _MAX_SLOTS)
    return _search_buckets(n, indptr, nbr, w1, w2, seed_node, seed_label, seed_c1, seed_c2,
                           k, float(cutoff), width, parts=_part_count(n, k))


@njit(parallel=True, cache=True)
def combine_k(
    lab: Array, c1: Array, c2: Array,
    o_edge: Array, o_frac: Array, o_off1: Array, o_off2: Array,
    edge_u: Array, edge_v: Array, e_fwd: Array, e_bwd: Array, e_w1: Array, e_w2: Array,
    se_indptr: Array, se_label: Array, se_frac: Array, se_off1: Array, se_off2: Array,
    k: int, cutoff: float,
) -> tuple[Array, Array, Array]:
    """Return the ``k`` best labels of every origin from the labels of its edge's two end nodes.

    An origin on edge ``e`` at fraction ``o_frac`` leaves it towards ``u`` against the
    edge and towards ``v`` along it, each after its off-road leg ``o_off*``, as in
    :meth:`routing.snap.Snap.leave_costs` (a closed direction is allowed only from the
    node itself). Labels sitting on the same edge (``se_*``, CSR by edge) are also
    reached directly along the edge. Candidates enter each output row by sorted
    insertion (a target once, at its best cost), in the order ``u`` labels, ``v`` labels,
    same-edge labels. Origins are visited by their ``u`` node, so that the label rows are
    read in memory order (a third faster than in input order for 200,000 origins).
    """
    n_orig = len(o_edge)
    row_len = lab.shape[1]
    out_lab = np.full((n_orig, k), -1, np.int32)
    out_c1 = np.full((n_orig, k), np.inf)
    out_c2 = np.full((n_orig, k), np.inf)
    order = counting_order(edge_u[o_edge], len(lab))
    for rank in prange(n_orig):
        o = order[rank]
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
            for j in range(row_len):
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
