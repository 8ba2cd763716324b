"""Numba kernels of the isochrones: road pieces, distance field, marching squares.

An isochrone is the set of places within ``buffer_m`` of the road pieces reached in time.
Rather than buffering every piece and merging tens of thousands of polygons (seconds in
GEOS), :mod:`routing.isochrone` samples the exact distance to the nearest piece on a square
lattice and draws its ``buffer_m`` contour by marching squares:

- :func:`clip_pieces` cuts each reached interval ``[f0, f1]`` (fractions of an edge's
  length) out of the edge's metric polyline;
- :func:`distance_fields` gives every lattice point the Euclidean distance to the nearest
  piece of each time band (exact, not a chamfer or raster approximation), where it is
  within ``reach_m``;
- :func:`contour_links` and :func:`trace_rings` join the crossings of the level on the
  lattice edges into closed rings, inside on the left (shells counter-clockwise, holes
  clockwise).

Graph arrays are those of :class:`routing.graph.ModeGraph`: ``coords`` the metric vertices
of every edge, ``offsets`` where each edge's vertices start, ``along_m`` each vertex's
distance from its edge's first vertex.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

# numba-compiled functions are untyped for mypy; keep the signatures in the docstrings.
Array = Any


@njit(nogil=True, cache=True)
def along_edges(coords: Array, offsets: Array) -> Array:
    """Return each vertex's distance (m) along its edge from the edge's first vertex."""
    along = np.zeros(len(coords))
    for e in range(len(offsets) - 1):
        for j in range(offsets[e] + 1, offsets[e + 1]):
            along[j] = along[j - 1] + np.hypot(coords[j, 0] - coords[j - 1, 0],
                                               coords[j, 1] - coords[j - 1, 1])
    return along


@njit(nogil=True, cache=True)
def _point_at(coords: Array, along: Array, first: int, last: int, s: float) -> tuple[float, float]:
    """Point at distance ``s`` along the polyline ``coords[first:last + 1]``."""
    for j in range(first, last):
        if along[j + 1] >= s:
            span = along[j + 1] - along[j]
            t = (s - along[j]) / span if span > 0 else 0.0
            t = min(max(t, 0.0), 1.0)
            return (coords[j, 0] + t * (coords[j + 1, 0] - coords[j, 0]),
                    coords[j, 1] + t * (coords[j + 1, 1] - coords[j, 1]))
    return coords[last, 0], coords[last, 1]


@njit(nogil=True, cache=True)
def clip_pieces(coords: Array, offsets: Array, along: Array, edge: Array, f0: Array,
                f1: Array) -> tuple[Array, Array]:
    """Cut ``[f0, f1]`` (fractions of the length) out of each ``edge``'s polyline.

    Returns ``(xy, piece_offsets)``: the vertices of piece ``k`` are
    ``xy[piece_offsets[k]:piece_offsets[k + 1]]``, one vertex when ``f0 == f1`` (a point).
    Fractions of the polyline's own length, as ``shapely.ops.substring(normalized=True)``.
    """
    n = len(edge)
    capacity = 0
    for k in range(n):
        capacity += offsets[edge[k] + 1] - offsets[edge[k]] + 2
    xy = np.empty((capacity, 2))
    piece_offsets = np.zeros(n + 1, np.int64)
    m = 0
    for k in range(n):
        e = edge[k]
        first, last = offsets[e], offsets[e + 1] - 1
        total = along[last]
        s0, s1 = f0[k] * total, f1[k] * total
        xy[m, 0], xy[m, 1] = _point_at(coords, along, first, last, s0)
        m += 1
        if s1 > s0:
            for j in range(first + 1, last):
                if s0 < along[j] < s1:
                    xy[m, 0], xy[m, 1] = coords[j, 0], coords[j, 1]
                    m += 1
            xy[m, 0], xy[m, 1] = _point_at(coords, along, first, last, s1)
            m += 1
        piece_offsets[k + 1] = m
    return xy[:m], piece_offsets


@njit(nogil=True, cache=True)
def _stamp(ax: float, ay: float, bx: float, by: float, first_band: int, last_band: int,
           x0: float, y0: float, cell_m: float, reach_m: float, fields: Array) -> None:
    """Lower the squared distances to segment ``a-b`` in bands ``first_band..last_band``.

    Only the lattice points within ``reach_m`` of the segment are visited.
    """
    _, ny, nx = fields.shape
    i0 = max(0, int(np.ceil((min(ax, bx) - reach_m - x0) / cell_m)))
    i1 = min(nx - 1, int(np.floor((max(ax, bx) + reach_m - x0) / cell_m)))
    j0 = max(0, int(np.ceil((min(ay, by) - reach_m - y0) / cell_m)))
    j1 = min(ny - 1, int(np.floor((max(ay, by) + reach_m - y0) / cell_m)))
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    for j in range(j0, j1 + 1):
        py = y0 + j * cell_m - ay
        for i in range(i0, i1 + 1):
            px = x0 + i * cell_m - ax
            t = 0.0
            if length2 > 0:
                t = min(max((px * dx + py * dy) / length2, 0.0), 1.0)
            ex, ey = px - t * dx, py - t * dy
            d2 = ex * ex + ey * ey
            for band in range(first_band, last_band + 1):
                if d2 < fields[band, j, i]:
                    fields[band, j, i] = d2


@njit(nogil=True, cache=True)
def distance_fields(xy: Array, piece_offsets: Array, first_band: Array, last_band: Array,
                    x0: float, y0: float, cell_m: float, reach_m: float, fields: Array) -> None:
    """Squared distance of each lattice point to the nearest piece of each band.

    ``fields[b, j, i]`` (point ``(x0 + i * cell_m, y0 + j * cell_m)`` of band ``b``) is
    lowered to its squared distance to the nearest piece of band ``b`` where that is within
    ``reach_m`` (others keep their value).

    Piece ``k`` belongs to bands ``first_band[k]`` to ``last_band[k]``: nested bands share
    their pieces, whose distances are then computed once. Squares spare a square root per
    point and segment; take it once at the end.
    """
    for k in range(len(piece_offsets) - 1):
        a, z = piece_offsets[k], piece_offsets[k + 1]
        lo, hi = first_band[k], last_band[k]
        if z - a == 1:
            _stamp(xy[a, 0], xy[a, 1], xy[a, 0], xy[a, 1], lo, hi, x0, y0, cell_m, reach_m,
                   fields)
        for j in range(a, z - 1):
            _stamp(xy[j, 0], xy[j, 1], xy[j + 1, 0], xy[j + 1, 1], lo, hi, x0, y0, cell_m,
                   reach_m, fields)


@njit(nogil=True, cache=True)
def contour_links(field: Array, level: float) -> tuple[Array, Array]:  # noqa: C901
    """Marching squares on ``field < level``: the contour's steps between lattice edges.

    Lattice edges are numbered: horizontal ``(i, j)-(i + 1, j)`` as ``j * (nx - 1) + i``,
    vertical ``(i, j)-(i, j + 1)`` as ``H + j * nx + i`` with ``H = (nx - 1) * ny``. Returns
    ``(source, target)``: the contour runs from the crossing on lattice edge ``source[k]`` to
    the one on ``target[k]`` with the inside on its left. Every crossing is the source of one
    step and the target of one, so the steps close into rings when the border of the field
    is outside. A saddle cell joins its inside corners when the mean of its four corners is
    inside.
    """
    ny, nx = field.shape
    h_count = (nx - 1) * ny
    count = 0
    for j in range(ny - 1):
        for i in range(nx - 1):
            inside = ((field[j, i] < level) + (field[j, i + 1] < level)
                      + (field[j + 1, i + 1] < level) + (field[j + 1, i] < level))
            if inside == 2 and (field[j, i] < level) == (field[j + 1, i + 1] < level):
                count += 2
            elif 0 < inside < 4:
                count += 1
    source = np.empty(count, np.int64)
    target = np.empty(count, np.int64)
    inside_at = np.zeros(4, np.bool_)
    edge_id = np.zeros(4, np.int64)
    m = 0
    for j in range(ny - 1):
        for i in range(nx - 1):
            # corners counter-clockwise: bottom-left, bottom-right, top-right, top-left;
            # edge k runs from corner k to corner k + 1
            v0, v1, v2, v3 = field[j, i], field[j, i + 1], field[j + 1, i + 1], field[j + 1, i]
            inside_at[0], inside_at[1] = v0 < level, v1 < level
            inside_at[2], inside_at[3] = v2 < level, v3 < level
            case = (inside_at[0] * 1 + inside_at[1] * 2 + inside_at[2] * 4 + inside_at[3] * 8)
            if case == 0 or case == 15:
                continue
            edge_id[0] = j * (nx - 1) + i
            edge_id[1] = h_count + j * nx + i + 1
            edge_id[2] = (j + 1) * (nx - 1) + i
            edge_id[3] = h_count + j * nx + i
            if case == 5 or case == 10:
                joined = (v0 + v1 + v2 + v3) / 4.0 < level
                if case == 5:  # bottom-left and top-right inside
                    pairs = ((0, 1), (2, 3)) if joined else ((0, 3), (2, 1))
                else:  # bottom-right and top-left inside
                    pairs = ((1, 2), (3, 0)) if joined else ((1, 0), (3, 2))
                for a, b in pairs:
                    source[m], target[m] = edge_id[a], edge_id[b]
                    m += 1
                continue
            leave, enter = -1, -1
            for k in range(4):
                here, there = inside_at[k], inside_at[(k + 1) % 4]
                if here and not there:
                    leave = k
                elif there and not here:
                    enter = k
            source[m], target[m] = edge_id[leave], edge_id[enter]
            m += 1
    return source, target


@njit(nogil=True, cache=True)
def trace_rings(field: Array, level: float, x0: float, y0: float, cell_m: float,
                source: Array, target: Array) -> tuple[Array, Array]:
    """Join the steps of :func:`contour_links` into closed rings.

    Returns ``(xy, ring_offsets)``: ring ``r`` is ``xy[ring_offsets[r]:ring_offsets[r + 1]]``,
    its last vertex repeating the first; each vertex is where the level crosses a lattice
    edge, by linear interpolation between the edge's two lattice points.
    """
    ny, nx = field.shape
    h_count = (nx - 1) * ny
    order = np.argsort(source)
    sorted_source = source[order]
    successor = order[np.searchsorted(sorted_source, target)]
    count = len(source)
    seen = np.zeros(count, np.bool_)
    xy = np.empty((count + count, 2))
    ring_offsets = [0]
    m = 0
    for first in range(count):
        if seen[first]:
            continue
        k = first
        while not seen[k]:
            seen[k] = True
            lattice_edge = source[k]
            if lattice_edge < h_count:
                j, i = lattice_edge // (nx - 1), lattice_edge % (nx - 1)
                a, b = field[j, i], field[j, i + 1]
                t = (level - a) / (b - a)
                xy[m, 0], xy[m, 1] = x0 + (i + t) * cell_m, y0 + j * cell_m
            else:
                j, i = (lattice_edge - h_count) // nx, (lattice_edge - h_count) % nx
                a, b = field[j, i], field[j + 1, i]
                t = (level - a) / (b - a)
                xy[m, 0], xy[m, 1] = x0 + i * cell_m, y0 + (j + t) * cell_m
            m += 1
            k = successor[k]
        xy[m] = xy[ring_offsets[-1]]
        m += 1
        ring_offsets.append(m)
    return xy[:m], np.array(ring_offsets, np.int64)


@njit(nogil=True, cache=True)
def simplify_rings(xy: Array, ring_offsets: Array, tolerance_m: Array) -> Array:
    """Douglas-Peucker on each closed ring: which vertices to keep.

    Ring ``r`` keeps its first (= last) vertex and its vertex farthest from it, then every
    vertex farther than ``tolerance_m[r]`` from the chord of its kept neighbours. Rings are
    simplified one by one: the caller checks they still do not cross.
    """
    keep = np.zeros(len(xy), np.bool_)
    stack = np.empty((len(xy) + 2, 2), np.int64)
    for r in range(len(ring_offsets) - 1):
        first, last = ring_offsets[r], ring_offsets[r + 1] - 1
        keep[first] = True
        keep[last] = True
        far, far_d = first, -1.0
        for j in range(first + 1, last):
            d = np.hypot(xy[j, 0] - xy[first, 0], xy[j, 1] - xy[first, 1])
            if d > far_d:
                far, far_d = j, d
        keep[far] = True
        top = 0
        stack[0, 0], stack[0, 1] = first, far
        stack[1, 0], stack[1, 1] = far, last
        top = 2
        while top > 0:
            top -= 1
            a, b = stack[top, 0], stack[top, 1]
            if b - a < 2:
                continue
            ax, ay = xy[a, 0], xy[a, 1]
            dx, dy = xy[b, 0] - ax, xy[b, 1] - ay
            length2 = dx * dx + dy * dy
            worst, worst_d = -1, tolerance_m[r] * tolerance_m[r]
            for j in range(a + 1, b):
                px, py = xy[j, 0] - ax, xy[j, 1] - ay
                t = 0.0
                if length2 > 0:
                    t = min(max((px * dx + py * dy) / length2, 0.0), 1.0)
                ex, ey = px - t * dx, py - t * dy
                d2 = ex * ex + ey * ey
                if d2 > worst_d:
                    worst, worst_d = j, d2
            if worst >= 0:
                keep[worst] = True
                stack[top, 0], stack[top, 1] = a, worst
                stack[top + 1, 0], stack[top + 1, 1] = worst, b
                top += 2
    return keep
