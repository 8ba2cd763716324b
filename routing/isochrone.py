"""Isochrones: the area reachable from a point within 5, 10, 15, 20... minutes.

Each polygon holds the places within ``buffer_m`` (default 60 m, the depth of a typical
HCMC block front) of the road pieces reachable in time, cut exactly where the time runs
out along each edge, plus the partial edge of the start point. The buffer stands for the
off-road leg to homes along those roads; roads not reached contribute nothing, so
unreachable places more than ``buffer_m`` from a reachable road stay outside.

The outline is the ``buffer_m`` contour of the exact distance to the reached pieces,
sampled on a square lattice of ``cell_m`` (default ``buffer_m / 6``) and drawn by marching
squares (:mod:`routing._contour`): a 20-minute motorbike area of 40,000 road pieces takes
a few hundred milliseconds, where buffering every piece and merging the polygons took
6-9 s. Every reached road point lies inside (its lattice cell has all four corners within
``buffer_m``, as ``cell_m * sqrt(2) < buffer_m``), and no point of the polygon is farther
than ``buffer_m + cell_m * sqrt(2)`` from a reached piece (in practice the outline is
within a metre of the true buffer; then ``simplify_m`` moves it by at most that much).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from routing import _contour
from routing.graph import FloatArray, IntArray, ModeGraph
from routing.path import search_from
from routing.snap import snap_points
from routing.speeds import DEFAULT_MAX_OFFROAD_M

DEFAULT_MINUTES = (5, 10, 15, 20)

#: Lattice points of one distance field at most (64 MB of float32): past it the cells grow.
MAX_LATTICE_POINTS = 16_000_000


@dataclass(frozen=True)
class Reach:
    """Road pieces reached within a time budget.

    Piece ``k`` runs along edge ``edge[k]`` from fraction ``start[k]`` to ``end[k]`` of its
    length (``start == end``: one point).
    """

    edge: IntArray
    start: FloatArray
    end: FloatArray


def reached_intervals(
    graph: ModeGraph, dist_s: FloatArray, budget_s: float,
    start_edge: int, start_frac: float, start_offroad_s: float,
) -> Reach:
    """Pieces of road reachable within ``budget_s`` after a search that gave ``dist_s``.

    An arc whose tail is reached in ``a < budget_s`` seconds is run for the time left:
    the whole edge if it fits, else the fraction ``(budget_s - a) / time`` from its tail.
    The start point adds the parts of its own edge it can run in each open direction and
    itself (when the off-road leg leaves time).
    """
    tails = graph.cached("arc_tail", lambda: np.repeat(
        np.arange(graph.node_count, dtype=np.int32), np.diff(graph.arc_indptr)))
    arrival = dist_s[tails]
    arcs = np.flatnonzero(arrival < budget_s)
    edges = graph.arc_edge[arcs]
    forward = graph.edge_fwd_arc[edges] == arcs
    reach = np.minimum(1.0, (budget_s - arrival[arcs]) /
                       np.maximum(graph.arc_time_s[arcs], 1e-12))
    # an edge reached whole (often from both ends) once; its partial pieces add nothing
    whole = np.unique(edges[reach >= 1.0])
    part = (reach < 1.0) & ~np.isin(edges, whole)
    edges, forward, reach = edges[part], forward[part], reach[part]
    pieces = [(whole, np.zeros(len(whole)), np.ones(len(whole))),
              (edges, np.where(forward, 0.0, 1.0 - reach), np.where(forward, reach, 1.0))]
    left = budget_s - start_offroad_s
    if left > 0:
        span = left / max(float(graph.edge_time_s[start_edge]), 1e-12)
        own: list[tuple[float, float]] = []
        if graph.edge_fwd_arc[start_edge] >= 0:
            own.append((start_frac, min(1.0, start_frac + span)))
        if graph.edge_bwd_arc[start_edge] >= 0:
            own.append((max(0.0, start_frac - span), start_frac))
        own.append((start_frac, start_frac))
        pieces.append((np.full(len(own), start_edge, np.int32),
                       np.array([a for a, _ in own]), np.array([b for _, b in own])))
    return Reach(edge=np.concatenate([p[0] for p in pieces]).astype(np.int32),
                 start=np.concatenate([p[1] for p in pieces]),
                 end=np.concatenate([p[2] for p in pieces]))


def _along(graph: ModeGraph) -> FloatArray:
    along: FloatArray = graph.cached("along_m", lambda: _contour.along_edges(
        graph.edge_coords, graph.edge_coord_offsets))
    return along


def piece_coordinates(graph: ModeGraph, reach: Reach) -> tuple[FloatArray, NDArray[np.int64]]:
    """Metric vertices of the reached pieces: ``(xy, offsets)``.

    Piece ``k`` is ``xy[offsets[k]:offsets[k + 1]]`` (a single vertex for a point).
    """
    xy, offsets = _contour.clip_pieces(graph.edge_coords, graph.edge_coord_offsets,
                                       _along(graph), reach.edge, reach.start, reach.end)
    return xy, offsets


def reachable_pieces(
    graph: ModeGraph, dist_s: FloatArray, budget_s: float,
    start_edge: int, start_frac: float, start_offroad_s: float,
) -> NDArray[np.object_]:
    """Metric LineStrings (Points for single positions) of the pieces within ``budget_s``.

    See :func:`reached_intervals`.
    """
    reach = reached_intervals(graph, dist_s, budget_s, start_edge, start_frac, start_offroad_s)
    xy, offsets = piece_coordinates(graph, reach)
    sizes = np.diff(offsets)
    pieces = np.empty(len(sizes), dtype=object)
    lines = sizes > 1
    if lines.any():
        index = np.repeat(np.arange(int(lines.sum())), sizes[lines])
        pieces[lines] = shapely.linestrings(xy[np.repeat(lines, sizes)], indices=index)
    pieces[~lines] = shapely.points(xy[offsets[:-1][~lines]])
    return pieces


def band_pieces(
    graph: ModeGraph, dist_s: FloatArray, budgets_s: Sequence[float],
    start_edge: int, start_frac: float, start_offroad_s: float,
) -> tuple[Reach, IntArray, IntArray]:
    """Pieces of every band at once: ``(reach, first_band, last_band)``.

    ``budgets_s`` ascend; piece ``k`` belongs to bands ``first_band[k]`` to
    ``last_band[k]``: an edge reached whole belongs to every band from the first that
    reaches it whole, a partial piece only to its own band.
    """
    last = len(budgets_s) - 1
    first_whole = np.full(graph.edge_count, last + 1, np.int32)
    partial: list[tuple[Reach, int]] = []
    for band in range(last, -1, -1):
        reach = reached_intervals(graph, dist_s, budgets_s[band], start_edge, start_frac,
                                  start_offroad_s)
        whole = (reach.start == 0.0) & (reach.end == 1.0)
        first_whole[reach.edge[whole]] = band
        partial.append((Reach(reach.edge[~whole], reach.start[~whole], reach.end[~whole]),
                        band))
    edges = np.flatnonzero(first_whole <= last).astype(np.int32)
    parts = [p for p, _ in partial]
    reach = Reach(edge=np.concatenate([edges] + [p.edge for p in parts]),
                  start=np.concatenate([np.zeros(len(edges))] + [p.start for p in parts]),
                  end=np.concatenate([np.ones(len(edges))] + [p.end for p in parts]))
    bands = [np.full(len(p.edge), band, np.int32) for p, band in partial]
    first_band = np.concatenate([first_whole[edges], *bands])
    last_band = np.concatenate([np.full(len(edges), last, np.int32), *bands])
    return reach, first_band, last_band


def reach_areas(
    xy: FloatArray, offsets: NDArray[np.int64], first_band: IntArray, last_band: IntArray,
    band_count: int, buffer_m: float, cell_m: float | None = None, simplify_m: float = 0.0,
) -> list[Any]:
    """Polygons (metric) of the places within ``buffer_m`` of each band's pieces.

    Piece ``k`` (``xy[offsets[k]:offsets[k + 1]]``) belongs to bands ``first_band[k]`` to
    ``last_band[k]``; one polygon per band. ``cell_m`` is the lattice spacing (default
    ``buffer_m / 6``, enlarged when the lattices would pass :data:`MAX_LATTICE_POINTS`); it
    must stay below ``buffer_m / sqrt(2)`` for every piece to lie inside. ``simplify_m``
    is the tolerance of the outlines' simplification (0 keeps every crossing).
    """
    if not buffer_m > 0:
        raise ValueError("buffer_m must be positive")
    if not len(xy):
        return [shapely.MultiPolygon() for _ in range(band_count)]
    cell = buffer_m / 6.0 if cell_m is None else float(cell_m)
    # the lattice reaches one cell past the buffer on every side: its border is outside
    margin = buffer_m + 2.0 * cell
    low = xy.min(axis=0) - margin
    span = xy.max(axis=0) + margin - low
    if cell_m is None:
        cell = max(cell, float(np.sqrt(band_count * span[0] * span[1] / MAX_LATTICE_POINTS)))
    if not 0 < cell < buffer_m / np.sqrt(2.0):
        raise ValueError("cell_m must be positive and below buffer_m / sqrt(2)")
    nx, ny = (np.ceil(span / cell).astype(np.int64) + 1).tolist()
    # squared distances, then distances; lattice neighbours of an inside point are within
    # buffer_m + cell: exact up to there, 2 * buffer_m (outside) beyond
    fields = np.full((band_count, ny, nx), np.float32(4.0 * buffer_m**2), dtype=np.float32)
    _contour.distance_fields(xy, offsets, first_band, last_band, float(low[0]), float(low[1]),
                             cell, buffer_m + 1.01 * cell, fields)
    level = float(np.float32(buffer_m))
    areas = []
    for band in range(band_count):
        # contour only the window around the band's own pieces
        mine = (first_band <= band) & (last_band >= band)
        if not mine.any():
            areas.append(shapely.MultiPolygon())
            continue
        sizes = np.diff(offsets)
        own = xy[np.repeat(mine, sizes)]
        i0, j0 = np.maximum(0, np.floor((own.min(axis=0) - margin - low) / cell)).astype(int)
        i1, j1 = np.ceil((own.max(axis=0) + margin - low) / cell).astype(int) + 1
        window = np.sqrt(fields[band, j0:j1, i0:i1])
        x0, y0 = float(low[0] + i0 * cell), float(low[1] + j0 * cell)
        source, target = _contour.contour_links(window, level)
        rings_xy, ring_offsets = _contour.trace_rings(window, level, x0, y0, cell, source,
                                                      target)
        areas.append(_polygons(rings_xy, ring_offsets, simplify_m))
    return areas


def _polygons(xy: FloatArray, offsets: NDArray[np.int64], simplify_m: float) -> Any:
    """(Multi)polygon from closed, disjoint rings: counter-clockwise shells, clockwise holes.

    With ``simplify_m > 0`` each ring is simplified alone (Douglas-Peucker, milliseconds
    where GEOS's topology-preserving simplifier takes a third of a second on a city's
    holes); a ring that then crosses itself or another ring keeps all its vertices.
    """
    sizes = np.diff(offsets)
    ring_of = np.repeat(np.arange(len(sizes)), sizes)
    x, y = xy[:, 0], xy[:, 1]
    cross = np.zeros(len(xy))
    cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross[offsets[1:] - 1] = 0.0  # no term across two rings
    signed_area = np.bincount(ring_of, weights=cross, minlength=len(sizes)) / 2.0
    rings = shapely.linearrings(xy, indices=ring_of)
    full = rings
    if simplify_m > 0:
        rings = _simplified(xy, offsets, ring_of, full, simplify_m)
    shells = np.flatnonzero(signed_area > 0)
    holes = np.flatnonzero(signed_area < 0)
    polygon = _assemble(rings, shells, holes, signed_area)
    if simplify_m > 0 and not shapely.is_valid(polygon):  # a hole jumped out of its shell
        polygon = shapely.simplify(_assemble(full, shells, holes, signed_area), simplify_m)
    return polygon


def _simplified(xy: FloatArray, offsets: NDArray[np.int64], ring_of: NDArray[np.intp],
                full: NDArray[np.object_], simplify_m: float) -> NDArray[np.object_]:
    """Rings simplified one by one (Douglas-Peucker).

    A ring that then crosses itself or another is simplified again at half the tolerance,
    three times at most, then kept whole.
    """
    tolerance = np.full(len(full), float(simplify_m))
    rings = full.copy()
    todo = np.ones(len(full), bool)
    for attempt in range(4):
        if attempt == 3:
            rings[todo] = full[todo]
            break
        keep = _contour.simplify_rings(xy, offsets, tolerance)
        kept = np.bincount(ring_of[keep], minlength=len(full))
        redo = todo & (kept >= 4)
        rings[todo & ~redo] = full[todo & ~redo]
        rings[redo] = shapely.linearrings(
            xy[keep & redo[ring_of]], indices=np.repeat(np.arange(int(redo.sum())), kept[redo]))
        bad = redo & ~shapely.is_simple(rings)
        candidates = np.flatnonzero(redo)
        left, right = shapely.STRtree(rings).query(rings[candidates])
        left = candidates[left]
        pairs = left != right
        left, right = left[pairs], right[pairs]
        # the prepared (indexed) side of each test is the larger ring
        size = shapely.get_num_coordinates(rings)
        swap = size[left] < size[right]
        left, right = np.where(swap, right, left), np.where(swap, left, right)
        shapely.prepare(rings)
        crossing = shapely.intersects(rings[left], rings[right])
        for side in (left[crossing], right[crossing]):
            bad[side[redo[side]]] = True
        if not bad.any():
            break
        todo = bad
        tolerance[bad] /= 2.0
    return rings


def _assemble(rings: NDArray[np.object_], shells: NDArray[np.intp], holes: NDArray[np.intp],
              signed_area: FloatArray) -> Any:
    """Polygon or MultiPolygon of ``shells``, each hole in the smallest shell around it."""
    shell_polygons = shapely.polygons(rings[shells])
    owner = np.full(len(holes), -1)
    if len(holes):
        # prepared shells against the holes' first vertices (each lies off every other ring)
        shapely.prepare(shell_polygons)
        tree = shapely.STRtree(shapely.get_point(rings[holes], 0))
        shell_at, hole_at = tree.query(shell_polygons, predicate="contains")
        order = np.lexsort((signed_area[shells][shell_at], hole_at))
        hole_at, shell_at = hole_at[order], shell_at[order]
        first = np.ones(len(hole_at), bool)
        first[1:] = hole_at[1:] != hole_at[:-1]
        owner[hole_at[first]] = shell_at[first]
    kept = owner >= 0
    polygon_of = np.concatenate([np.arange(len(shells)), owner[kept]])
    members = np.concatenate([rings[shells], rings[holes[kept]]])
    # shapely.polygons takes each polygon's rings in a row, the shell first
    order = np.lexsort((np.arange(len(polygon_of)), polygon_of))
    polygons = shapely.polygons(members[order], indices=polygon_of[order])
    if len(polygons) == 1:
        return polygons[0]
    return shapely.multipolygons(polygons)


def isochrones(
    graph: ModeGraph,
    lon: float,
    lat: float,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    *,
    buffer_m: float = 60.0,
    simplify_m: float = 5.0,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    cell_m: float | None = None,
) -> dict[str, Any]:
    """Isochrone polygons around ``(lon, lat)`` as a GeoJSON FeatureCollection (WGS84).

    Parameters
    ----------
    graph
        Mode graph; times use its speeds.
    lon, lat
        Start point.
    minutes
        Travel-time limits; one feature per value, largest first (so smaller ones draw on
        top).
    buffer_m
        Width added around reachable road pieces.
    simplify_m
        Tolerance of the outline simplification (0 keeps every vertex).
    max_offroad_m
        Snapping limit of the start point.
    cell_m
        Spacing of the distance lattice (default ``buffer_m / 6``); see :func:`reach_area`.

    Returns
    -------
    dict
        FeatureCollection; each feature has ``minutes``, ``mode`` and ``area_km2``.
    """
    limits = sorted({float(m) for m in minutes}, reverse=True)
    if not limits or limits[-1] <= 0:
        raise ValueError("minutes must be positive numbers")
    start = snap_points(graph, [lon], [lat], max_offroad_m=max_offroad_m, source="isochrone",
                        labels=["start"])
    dist_s, _, _ = search_from(graph, start, "time", cutoff=limits[0] * 60.0)
    offroad_s = float(start.offroad_costs(graph, "time")[0][0])
    to_lonlat = graph.to_lonlat()

    ascending = limits[::-1]
    reach, first_band, last_band = band_pieces(
        graph, dist_s, [limit * 60.0 for limit in ascending], int(start.edge[0]),
        float(start.frac[0]), offroad_s)
    xy, offsets = piece_coordinates(graph, reach)
    areas = reach_areas(xy, offsets, first_band, last_band, len(ascending), buffer_m, cell_m,
                        simplify_m)

    def feature(limit: float, area: Any) -> dict[str, Any]:
        outline = shapely.transform(area, lambda xy: np.column_stack(
            to_lonlat.transform(xy[:, 0], xy[:, 1])))
        return {
            "type": "Feature",
            # GEOS writes the coordinates 10x faster than shapely's mapping iterates them
            "geometry": json.loads(shapely.to_geojson(outline)),
            "properties": {"minutes": limit, "mode": graph.mode,
                           "area_km2": round(float(area.area) / 1e6, 4)},
        }

    features = [feature(limit, area) for limit, area in zip(ascending, areas, strict=True)]
    return {"type": "FeatureCollection", "features": features[::-1]}
