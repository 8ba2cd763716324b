"""Snap points to the nearest road *edge* of a mode, with the off-road leg and partial edges.

A snapped point sits on edge ``e`` at fraction ``frac`` of its length from ``u``. Leaving
it towards ``u`` runs the edge backwards for ``frac * length``, towards ``v`` forwards for
``(1 - frac) * length``; a closed direction (one-way) makes that side unreachable, except
when the point sits exactly on the node. The straight leg between the point and the road
is counted at the mode's ``offroad_speed_kmh``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gis_service.errors import InputError, Problem
from routing import _grid
from routing._grid import SegmentGrid, build_grid
from routing.graph import FloatArray, IntArray, ModeGraph
from routing.speeds import DEFAULT_MAX_OFFROAD_M


@dataclass(frozen=True)
class Snap:
    """Snapped positions of points on the edges of one graph.

    Attributes
    ----------
    edge
        Edge index in the graph, per point.
    frac
        Position along the edge from ``u`` (0..1).
    offroad_m
        Straight distance from the point to its road position, in metres.
    """

    edge: IntArray
    frac: FloatArray
    offroad_m: FloatArray

    def __len__(self) -> int:
        """Return the number of snapped points."""
        return len(self.edge)

    def offroad_costs(self, graph: ModeGraph, weight: str) -> tuple[FloatArray, FloatArray]:
        """Off-road leg as ``(primary, secondary)`` for ``weight`` (``time``/``distance``)."""
        time_s = self.offroad_m / (graph.profile.offroad_speed_kmh / 3.6)
        return (time_s, self.offroad_m) if weight == "time" else (self.offroad_m, time_s)

    def leave_costs(
        self, graph: ModeGraph, weight: str
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Costs from each point to its edge's ``u`` and ``v``: ``(u1, u2, v1, v2)``."""
        return self._end_costs(graph, weight, graph.edge_bwd_arc, graph.edge_fwd_arc)

    def arrive_costs(
        self, graph: ModeGraph, weight: str
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Costs from each edge's ``u`` and ``v`` to the point: ``(u1, u2, v1, v2)``."""
        return self._end_costs(graph, weight, graph.edge_fwd_arc, graph.edge_bwd_arc)

    def _end_costs(
        self, graph: ModeGraph, weight: str, u_side_arc: IntArray, v_side_arc: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Return the off-road leg plus the partial edge to ``u`` and to ``v``.

        ``inf`` where the arc that would carry the partial edge in the needed direction does
        not exist.
        """
        w1, w2 = graph.edge_weights(weight)
        off1, off2 = self.offroad_costs(graph, weight)
        e, f = self.edge, self.frac
        via_u = (f == 0.0) | (u_side_arc[e] >= 0)
        via_v = (f == 1.0) | (v_side_arc[e] >= 0)
        u1 = np.where(via_u, off1 + f * w1[e], np.inf)
        u2 = np.where(via_u, off2 + f * w2[e], np.inf)
        v1 = np.where(via_v, off1 + (1.0 - f) * w1[e], np.inf)
        v2 = np.where(via_v, off2 + (1.0 - f) * w2[e], np.inf)
        return u1, u2, v1, v2


def segment_grid(graph: ModeGraph) -> SegmentGrid:
    """Return the segment index of ``graph``'s edges, built on first use and kept with the graph."""
    return graph.cached("grid", lambda: build_grid(graph.edge_coords, graph.edge_coord_offsets))


def snap_points(
    graph: ModeGraph,
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    source: str = "points",
    labels: Sequence[object] | None = None,
) -> Snap:
    """Snap WGS84 points to the nearest edge of ``graph``.

    Parameters
    ----------
    graph
        The mode graph.
    lon, lat
        Coordinates in EPSG:4326.
    max_offroad_m
        Points farther than this from every edge of the mode are refused.
    source
        File name (or description) reported in errors.
    labels
        Optional point ids, named in errors next to the row number.

    Returns
    -------
    Snap

    Raises
    ------
    gis_service.errors.InputError
        Listing every point that is not a finite coordinate or is too far from the roads.
    """
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    if lon_a.shape != lat_a.shape:
        raise ValueError("lon and lat must have the same length")
    x, y = graph.to_metric().transform(lon_a, lat_a)
    return snap_xy(graph, np.asarray(x, np.float64), np.asarray(y, np.float64),
                   max_offroad_m=max_offroad_m, source=source, labels=labels,
                   lonlat=(lon_a, lat_a))


def snap_xy(
    graph: ModeGraph,
    x: FloatArray,
    y: FloatArray,
    *,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    source: str = "points",
    labels: Sequence[object] | None = None,
    lonlat: tuple[FloatArray, FloatArray] | None = None,
) -> Snap:
    """Like :func:`snap_points` for coordinates already in the graph's metric CRS."""
    seg, t, dist = _nearest_segments(graph, x, y, max_offroad_m)
    bad = np.flatnonzero(seg < 0)
    if len(bad):
        lon_a, lat_a = lonlat if lonlat is not None else graph.to_lonlat().transform(x, y)
        raise InputError([
            _far_problem(int(i), bool(np.isfinite(x[i]) and np.isfinite(y[i])),
                         float(lon_a[i]), float(lat_a[i]), max_offroad_m, source, labels)
            for i in bad
        ])
    return _snap(graph, seg, t, dist)


def snap_within(
    graph: ModeGraph, lon: ArrayLike, lat: ArrayLike, *,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
) -> tuple[Snap, NDArray[np.bool_]]:
    """Snap the points within ``max_offroad_m`` of a road of the mode, leave the others out.

    For callers that treat far points themselves (an admission round gives a home far
    from every road a straight-line distance) instead of refusing them all.

    Returns
    -------
    snap, near
        The snap of the near points, in order, and a mask over all points: ``True`` for
        those snapped (a point without finite coordinates is never near).
    """
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    x, y = graph.to_metric().transform(lon_a, lat_a)
    seg, t, dist = _nearest_segments(graph, np.asarray(x, np.float64),
                                     np.asarray(y, np.float64), max_offroad_m)
    near = seg >= 0
    return _snap(graph, seg[near], t[near], dist[near]), near


def _nearest_segments(graph: ModeGraph, x: FloatArray, y: FloatArray,
                      max_offroad_m: float) -> tuple[IntArray, FloatArray, FloatArray]:
    """Return the nearest segment of each point within ``max_offroad_m`` (``-1``: none)."""
    grid = segment_grid(graph)
    found: tuple[IntArray, FloatArray, FloatArray] = _grid.nearest_segments(
        x, y, graph.edge_coords, grid.x0, grid.y0, grid.cell_m, grid.nx, grid.ny,
        grid.cell_indptr, grid.cell_segment, grid.seg_start, float(max_offroad_m),
    )
    return found


def _snap(graph: ModeGraph, seg: IntArray, t: FloatArray, dist: FloatArray) -> Snap:
    """Return the :class:`Snap` of points found on segments ``seg`` at ``t``, ``dist`` away."""
    grid = segment_grid(graph)
    edge, frac = _grid.edge_positions(seg, t, graph.edge_coords, grid.seg_start,
                                      grid.seg_edge, grid.seg_cum_m, grid.edge_geom_m,
                                      graph.edge_coord_offsets)
    return Snap(edge=edge, frac=frac, offroad_m=dist)


def _far_problem(
    i: int, finite: bool, lon: float, lat: float, limit: float, source: str,
    labels: Sequence[object] | None,
) -> Problem:
    name = f"point {labels[i]!r} " if labels is not None else "point "
    if not finite:
        reason = f"{name}has no valid coordinate (lon={lon}, lat={lat})"
    else:
        reason = (f"{name}at lon={lon:.6f}, lat={lat:.6f} is more than {limit:g} m from any "
                  "road of the mode")
    return Problem(file=source, row=i + 1, field="lon,lat", reason=reason)


def snap_one(graph: ModeGraph, lon: float, lat: float,
             max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> Snap:
    """Snap a single point (see :func:`snap_points`)."""
    return snap_points(graph, [lon], [lat], max_offroad_m=max_offroad_m, source="point")


def snapped_xy(graph: ModeGraph, snap: Snap) -> NDArray[np.float64]:
    """Metric coordinates of the road positions of ``snap``."""
    lines = graph.edge_geometries_metric()[snap.edge]
    pts = shapely.line_interpolate_point(lines, snap.frac, normalized=True)
    return np.asarray(shapely.get_coordinates(pts), np.float64)
