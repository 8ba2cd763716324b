"""Uniform-grid index of edge segments for exact nearest-edge queries (numba).

Every straight segment of every edge geometry is registered in the square cells its
pieces overlap. A query scans rings of cells around the point and stops as soon as the
best distance found cannot be beaten by any farther ring, so the answer is the exact
nearest segment (ties broken by the lower segment index), not an approximation from
densified points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from routing._kernels import counting_order

Array = Any


@dataclass(frozen=True)
class SegmentGrid:
    """Segments of all edges and the cell -> segments CSR."""

    cell_m: float
    x0: float
    y0: float
    nx: int
    ny: int
    cell_indptr: NDArray[np.int64]
    cell_segment: NDArray[np.int32]
    seg_start: NDArray[np.int64]
    seg_edge: NDArray[np.int32]
    seg_cum_m: NDArray[np.float64]
    edge_geom_m: NDArray[np.float64]


def build_grid(
    coords: NDArray[np.float64], offsets: NDArray[np.int64], cell_m: float = 50.0
) -> SegmentGrid:
    """Index the segments of edges given as flat metric ``coords`` split by ``offsets``."""
    n_edges = len(offsets) - 1
    counts = np.diff(offsets)
    is_start = np.ones(len(coords), bool)
    is_start[offsets[1:] - 1] = False  # the last vertex of an edge starts no segment
    is_start[offsets[:-1][counts == 0]] = False
    seg_start = np.flatnonzero(is_start).astype(np.int64)
    owner = np.repeat(np.arange(n_edges, dtype=np.int32), counts)
    seg_edge = owner[seg_start]
    a, b = coords[seg_start], coords[seg_start + 1]
    seg_len = np.hypot(*(b - a).T)
    cum = np.cumsum(seg_len)
    edge_total = np.zeros(n_edges)
    np.add.at(edge_total, seg_edge, seg_len)
    edge_first = np.zeros(n_edges, np.int64)
    np.cumsum(np.bincount(seg_edge, minlength=n_edges)[:-1], out=edge_first[1:])
    before = np.concatenate([[0.0], cum])[edge_first]
    seg_cum = cum - seg_len - before[seg_edge]
    if len(coords):
        x0, y0 = coords.min(axis=0) - cell_m
        x1, y1 = coords.max(axis=0) + cell_m
    else:
        x0 = y0 = 0.0
        x1 = y1 = cell_m
    nx = int(np.ceil((x1 - x0) / cell_m)) + 1
    ny = int(np.ceil((y1 - y0) / cell_m)) + 1
    cells, segs = _segment_cells(a, b, seg_len, x0, y0, cell_m, ny)
    pair = np.unique(cells.astype(np.int64) * (len(seg_start) + 1) + segs)
    cells = pair // (len(seg_start) + 1)
    segs = (pair % (len(seg_start) + 1)).astype(np.int32)
    indptr = np.zeros(nx * ny + 1, np.int64)
    np.cumsum(np.bincount(cells, minlength=nx * ny), out=indptr[1:])
    return SegmentGrid(cell_m, float(x0), float(y0), nx, ny, indptr, segs, seg_start,
                       seg_edge, seg_cum, edge_total)


@njit(cache=True)
def _segment_cells(
    a: Array, b: Array, seg_len: Array, x0: float, y0: float, cell: float, ny: int
) -> tuple[Array, Array]:
    n_pieces = 0
    for i in range(len(seg_len)):
        n_pieces += int(np.ceil(seg_len[i] / cell)) + 1
    cells = np.empty(4 * n_pieces, np.int64)
    segs = np.empty(4 * n_pieces, np.int64)
    m = 0
    for i in range(len(seg_len)):
        pieces = int(np.ceil(seg_len[i] / cell)) + 1
        for p in range(pieces):
            t0 = p / pieces
            t1 = (p + 1) / pieces
            xa = a[i, 0] + t0 * (b[i, 0] - a[i, 0])
            ya = a[i, 1] + t0 * (b[i, 1] - a[i, 1])
            xb = a[i, 0] + t1 * (b[i, 0] - a[i, 0])
            yb = a[i, 1] + t1 * (b[i, 1] - a[i, 1])
            cx0 = int(np.floor((min(xa, xb) - x0) / cell))
            cx1 = int(np.floor((max(xa, xb) - x0) / cell))
            cy0 = int(np.floor((min(ya, yb) - y0) / cell))
            cy1 = int(np.floor((max(ya, yb) - y0) / cell))
            for cx in range(cx0, cx1 + 1):
                for cy in range(cy0, cy1 + 1):
                    if m == len(cells):
                        cells = np.concatenate((cells, np.empty(len(cells), np.int64)))
                        segs = np.concatenate((segs, np.empty(len(segs), np.int64)))
                    cells[m] = cx * ny + cy
                    segs[m] = i
                    m += 1
    return cells[:m], segs[:m]


@njit(cache=True, inline="always")
def _scan_cell(
    cell: int, px: float, py: float, indptr: Array, cell_segment: Array, seg_start: Array,
    coords: Array, best_d2: float, best_seg: int, best_t: float,
) -> tuple[float, int, float]:
    for j in range(indptr[cell], indptr[cell + 1]):
        s = cell_segment[j]
        k = seg_start[s]
        ax, ay = coords[k, 0], coords[k, 1]
        dx, dy = coords[k + 1, 0] - ax, coords[k + 1, 1] - ay
        den = dx * dx + dy * dy
        t = 0.0
        if den > 0.0:
            t = ((px - ax) * dx + (py - ay) * dy) / den
            t = min(1.0, max(0.0, t))
        qx, qy = ax + t * dx - px, ay + t * dy - py
        d2 = qx * qx + qy * qy
        if d2 < best_d2 or (d2 == best_d2 and s < best_seg):
            best_d2, best_seg, best_t = d2, s, t
    return best_d2, best_seg, best_t


@njit(cache=True)
def _cell_order(px: Array, py: Array, x0: float, y0: float, cell: float, nx: int,
                ny: int) -> Array:
    """Query order by grid cell (column-major, as cells are numbered), for cache locality.

    Points outside the grid come last. A counting sort pays one pass over the cells, so
    a few points on a large grid (a single snap) are sorted by comparison instead.
    """
    key = np.empty(len(px), np.int64)
    for i in range(len(px)):
        fx = np.floor((px[i] - x0) / cell)
        fy = np.floor((py[i] - y0) / cell)
        key[i] = int(fx) * ny + int(fy) if 0 <= fx < nx and 0 <= fy < ny else nx * ny
    if nx * ny > 16 * len(key):
        return np.argsort(key)
    return counting_order(key, nx * ny + 1)


@njit(parallel=True, cache=True)
def nearest_segments(
    px: Array, py: Array, coords: Array, x0: float, y0: float, cell: float, nx: int, ny: int,
    indptr: Array, cell_segment: Array, seg_start: Array, max_dist: float,
) -> tuple[Array, Array, Array]:
    """Nearest segment of each point within ``max_dist``: ``(segment, t, distance)``.

    ``segment`` is ``-1`` (and distance ``inf``) when no segment lies within ``max_dist``
    or the coordinate is not finite.
    """
    n = len(px)
    out_seg = np.full(n, -1, np.int32)
    out_t = np.zeros(n)
    out_d = np.full(n, np.inf)
    max_ring = int(np.floor(max_dist / cell)) + 2
    # Random points would touch random cells; in cell order neighbouring queries share
    # their cells and segments in cache. Each point's answer does not depend on the order.
    order = _cell_order(px, py, x0, y0, cell, nx, ny)
    for rank in prange(n):
        i = order[rank]
        x, y = px[i], py[i]
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        fx = np.floor((x - x0) / cell)
        fy = np.floor((y - y0) / cell)
        if fx < -max_ring or fy < -max_ring or fx > nx + max_ring or fy > ny + max_ring:
            continue
        cx, cy = int(fx), int(fy)
        # Ring r lies outside the square of rings < r: at least (r - 1) cells plus the
        # point's margin to its own cell's nearest side away (less a rounding allowance).
        rel_x = x - (x0 + cx * cell)
        rel_y = y - (y0 + cy * cell)
        margin = max(0.0, min(min(rel_x, cell - rel_x), min(rel_y, cell - rel_y)) - 1e-6)
        best_d2, best_seg, best_t = np.inf, -1, 0.0
        for r in range(max_ring + 1):
            if r > 0:
                reach = (r - 1) * cell + margin
                if best_seg >= 0 and best_d2 <= reach * reach:
                    break
            for dx in range(-r, r + 1):
                # Only the ring's perimeter: full columns at the sides, two cells elsewhere.
                step = 1 if (dx == -r or dx == r) else 2 * r
                dy = -r
                while dy <= r:
                    gx, gy = cx + dx, cy + dy
                    dy += step
                    if gx < 0 or gy < 0 or gx >= nx or gy >= ny:
                        continue
                    best_d2, best_seg, best_t = _scan_cell(
                        gx * ny + gy, x, y, indptr, cell_segment, seg_start, coords,
                        best_d2, best_seg, best_t,
                    )
        if best_seg >= 0 and best_d2 <= max_dist * max_dist:
            out_seg[i] = best_seg
            out_t[i] = best_t
            out_d[i] = np.sqrt(best_d2)
    return out_seg, out_t, out_d


@njit(parallel=True, cache=True)
def edge_positions(
    seg: Array, t: Array, coords: Array, seg_start: Array, seg_edge: Array, seg_cum_m: Array,
    edge_geom_m: Array, edge_offsets: Array,
) -> tuple[Array, Array]:
    """Edge and fraction along it (0..1 from ``u``) of points at ``t`` on segment ``seg``.

    A point projecting on an edge's last vertex gets exactly 1, so no partial edge is
    left towards ``v``. ``seg`` must be valid (>= 0) everywhere.
    """
    n = len(seg)
    edge = np.empty(n, np.int32)
    frac = np.empty(n)
    for i in prange(n):
        s = seg[i]
        e = seg_edge[s]
        k = seg_start[s]
        edge[i] = e
        if t[i] == 1.0 and k + 2 == edge_offsets[e + 1]:
            frac[i] = 1.0
            continue
        total = edge_geom_m[e]
        if total > 0.0:
            seg_len = np.hypot(coords[k + 1, 0] - coords[k, 0], coords[k + 1, 1] - coords[k, 1])
            frac[i] = min(1.0, max(0.0, (seg_cum_m[s] + t[i] * seg_len) / total))
        else:
            frac[i] = 0.0
    return edge, frac
