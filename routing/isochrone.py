"""Isochrones: the area reachable from a point within 5, 10, 15, 20... minutes.

Each polygon is the buffer of the road pieces reachable in time, cut exactly where the
time runs out along each edge, plus the partial edge of the start point. The buffer
(default 60 m, the depth of a typical HCMC block front) stands for the off-road leg to
homes along those roads; roads not reached contribute nothing, so unreachable places
more than ``buffer_m`` from a reachable road stay outside.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.ops import substring

from routing.graph import ModeGraph
from routing.path import search_from
from routing.snap import snap_points
from routing.speeds import DEFAULT_MAX_OFFROAD_M

DEFAULT_MINUTES = (5, 10, 15, 20)


def reachable_pieces(
    graph: ModeGraph, dist_s: NDArray[np.float64], budget_s: float,
    start_edge: int, start_frac: float, start_offroad_s: float,
) -> NDArray[np.object_]:
    """Metric LineStrings of every road piece reachable within ``budget_s``."""
    tails = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
    arrival = dist_s[tails]
    ok = arrival < budget_s
    arcs = np.flatnonzero(ok)
    edges = graph.arc_edge[arcs]
    forward = graph.edge_fwd_arc[edges] == arcs
    reach = np.minimum(1.0, (budget_s - arrival[arcs]) /
                       np.maximum(graph.arc_time_s[arcs], 1e-12))
    lines = graph.edge_geometries_metric()
    full = reach >= 1.0
    pieces: list[Any] = list(lines[np.unique(edges[full])])
    for edge, fwd, r in zip(edges[~full], forward[~full], reach[~full], strict=True):
        start, end = (0.0, r) if fwd else (1.0 - r, 1.0)
        pieces.append(substring(lines[edge], start, end, normalized=True))
    left = budget_s - start_offroad_s
    if left > 0:
        span = left / max(graph.edge_time_s[start_edge], 1e-12)
        line = lines[start_edge]
        if graph.edge_fwd_arc[start_edge] >= 0:
            pieces.append(substring(line, start_frac, min(1.0, start_frac + span),
                                    normalized=True))
        if graph.edge_bwd_arc[start_edge] >= 0:
            pieces.append(substring(line, max(0.0, start_frac - span), start_frac,
                                    normalized=True))
        pieces.append(line.interpolate(start_frac, normalized=True))
    return np.asarray(pieces, dtype=object)


def isochrones(
    graph: ModeGraph,
    lon: float,
    lat: float,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    *,
    buffer_m: float = 60.0,
    simplify_m: float = 5.0,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
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

    def feature(limit: float) -> dict[str, Any]:
        pieces = reachable_pieces(graph, dist_s, limit * 60.0, int(start.edge[0]),
                                  float(start.frac[0]), offroad_s)
        if simplify_m > 0:
            pieces = shapely.simplify(pieces, simplify_m)
        # Buffer each piece, then union: GEOS unions polygons far faster than it nodes
        # tens of thousands of crossing lines.
        area = shapely.union_all(shapely.buffer(pieces, buffer_m, quad_segs=2))
        if simplify_m > 0:
            area = shapely.simplify(area, simplify_m)
        outline = shapely.transform(area, lambda xy: np.column_stack(
            to_lonlat.transform(xy[:, 0], xy[:, 1])))
        return {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(outline),
            "properties": {"minutes": limit, "mode": graph.mode,
                           "area_km2": round(float(area.area) / 1e6, 4)},
        }

    features = [feature(limit) for limit in limits]
    return {"type": "FeatureCollection", "features": features}
