"""One route between two points: its geometry, length and travel time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import LineString
from shapely.ops import substring

from gis_service.errors import InputError, Problem
from routing import _kernels
from routing.graph import FloatArray, ModeGraph
from routing.nearest import forward_arc_ids
from routing.snap import Snap, snap_points, snapped_xy
from routing.speeds import DEFAULT_MAX_OFFROAD_M


@dataclass(frozen=True)
class Route:
    """A shortest route; ``geometry`` runs from the origin point to the destination point."""

    distance_m: float
    time_s: float
    geometry: LineString
    node_ids: list[int]
    mode: str

    def to_geojson(self) -> dict[str, Any]:
        """Return the route as a GeoJSON Feature (WGS84)."""
        return {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(self.geometry),
            "properties": {"distance_m": self.distance_m, "time_s": self.time_s,
                           "mode": self.mode},
        }


def search_from(
    graph: ModeGraph, origin: Snap, weight: str, cutoff: float = np.inf
) -> tuple[FloatArray, FloatArray, np.ndarray[Any, np.dtype[np.int32]]]:
    """Forward Dijkstra from one snapped point: ``(cost1, cost2, pred_arc)`` per node."""
    n = graph.node_count
    w1, w2 = graph.weights(weight)
    u1, u2, v1, v2 = origin.leave_costs(graph, weight)
    e = origin.edge[0]
    seeds = np.array([graph.edge_u[e], graph.edge_v[e]], np.int32)
    dist1, dist2 = np.full(n, np.inf), np.full(n, np.inf)
    pred = np.full(n, -1, np.int32)
    _kernels.dijkstra_into(
        graph.arc_indptr, graph.arc_head, forward_arc_ids(graph), w1, w2, seeds,
        np.array([u1[0], v1[0]]), np.array([u2[0], v2[0]]), float(cutoff),
        dist1, dist2, pred, np.empty(n, np.int32),
    )
    return dist1, dist2, pred


def route(
    graph: ModeGraph,
    origin_lonlat: tuple[float, float],
    destination_lonlat: tuple[float, float],
    weight: str = "time",
    *,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
) -> Route:
    """Shortest route by ``weight`` between two WGS84 points.

    Raises
    ------
    gis_service.errors.InputError
        When a point is too far from the roads or the destination cannot be reached.
    """
    lons = [origin_lonlat[0], destination_lonlat[0]]
    lats = [origin_lonlat[1], destination_lonlat[1]]
    both = snap_points(graph, lons, lats, max_offroad_m=max_offroad_m, source="route",
                       labels=["origin", "destination"])
    start = Snap(both.edge[:1], both.frac[:1], both.offroad_m[:1])
    end = Snap(both.edge[1:], both.frac[1:], both.offroad_m[1:])
    dist1, dist2, pred = search_from(graph, start, weight)
    cost1, cost2, via = _arrival(graph, start, end, dist1, dist2, weight)
    e_start, e_end = int(start.edge[0]), int(end.edge[0])
    f, g = float(start.frac[0]), float(end.frac[0])
    if not np.isfinite(cost1):
        raise InputError(Problem("route", None, None,
                                 f"the destination cannot be reached by {graph.mode}"))
    time_s, distance_m = (cost1, cost2) if weight == "time" else (cost2, cost1)

    xy_points = np.array([
        graph.to_metric().transform(*origin_lonlat), graph.to_metric().transform(
            *destination_lonlat)
    ])
    on_road = snapped_xy(graph, both)
    lines = graph.edge_geometries_metric()
    pieces: list[np.ndarray] = [xy_points[:1], on_road[:1]]
    nodes: list[int] = []
    if via == 2:
        pieces.append(_piece(lines[e_start], f, g))
    else:
        last = int(graph.edge_u[e_end] if via == 0 else graph.edge_v[e_end])
        arcs: list[int] = []
        node = last
        while pred[node] >= 0:
            arc = int(pred[node])
            arcs.append(arc)
            edge = int(graph.arc_edge[arc])
            forward = graph.edge_fwd_arc[edge] == arc
            node = int(graph.edge_u[edge] if forward else graph.edge_v[edge])
        first = node
        nodes = [first]
        pieces.append(_piece(lines[e_start], f, 0.0 if first == graph.edge_u[e_start] else 1.0))
        for arc in reversed(arcs):
            edge = int(graph.arc_edge[arc])
            forward = bool(graph.edge_fwd_arc[edge] == arc)
            coords = shapely.get_coordinates(lines[edge])
            pieces.append(coords if forward else coords[::-1])
            nodes.append(int(graph.edge_v[edge] if forward else graph.edge_u[edge]))
        pieces.append(_piece(lines[e_end], 0.0 if via == 0 else 1.0, g))
    pieces += [on_road[1:], xy_points[1:]]
    coords = np.concatenate(pieces)
    keep = np.ones(len(coords), bool)
    keep[1:] = np.any(np.diff(coords, axis=0) != 0, axis=1)
    coords = coords[keep]
    if len(coords) == 1:
        coords = np.concatenate([coords, coords])
    lon, lat = graph.to_lonlat().transform(coords[:, 0], coords[:, 1])
    return Route(distance_m=float(distance_m), time_s=float(time_s),
                 geometry=LineString(np.column_stack([lon, lat])),
                 node_ids=[int(graph.node_ids[i]) for i in nodes], mode=graph.mode)


def _arrival(graph: ModeGraph, start: Snap, end: Snap, dist1: FloatArray, dist2: FloatArray,
             weight: str) -> tuple[float, float, int]:
    """Return the cheapest way into ``end`` after the search from ``start``.

    ``(cost1, cost2, via)`` where ``via`` is 0 (from the edge's ``u``), 1 (from ``v``) or 2
    (along the edge both points lie on); ``inf`` costs when it cannot be reached.
    """
    a1, a2, b1, b2 = end.arrive_costs(graph, weight)
    e_end = int(end.edge[0])
    options: list[tuple[float, float, int]] = [
        (dist1[graph.edge_u[e_end]] + a1[0], dist2[graph.edge_u[e_end]] + a2[0], 0),
        (dist1[graph.edge_v[e_end]] + b1[0], dist2[graph.edge_v[e_end]] + b2[0], 1),
    ]
    e_start = int(start.edge[0])
    f, g = float(start.frac[0]), float(end.frac[0])
    if e_start == e_end and (
        (g >= f and (graph.edge_fwd_arc[e_start] >= 0 or g == f))
        or (g <= f and graph.edge_bwd_arc[e_start] >= 0)
    ):
        w1, w2 = graph.edge_weights(weight)
        o1, o2 = start.offroad_costs(graph, weight)
        d1, d2 = end.offroad_costs(graph, weight)
        part = abs(g - f)
        options.append((o1[0] + part * w1[e_start] + d1[0],
                        o2[0] + part * w2[e_start] + d2[0], 2))
    return min(options)


def trips(
    graph: ModeGraph,
    origin_lonlat: tuple[float, float],
    destinations_lonlat: list[tuple[float, float]],
    *,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
) -> list[tuple[float, float] | None]:
    """Return ``(distance_m, time_s)`` of the fastest route from one point to each destination.

    One search gives them all (the costs :func:`route` gives, without the geometry); ``None``
    for a destination off the roads or out of reach.

    Raises
    ------
    gis_service.errors.InputError
        When the origin is too far from the roads.
    """
    start = snap_points(graph, [origin_lonlat[0]], [origin_lonlat[1]],
                        max_offroad_m=max_offroad_m, source="origin")
    dist1, dist2, _ = search_from(graph, start, "time")
    answers: list[tuple[float, float] | None] = []
    for lon, lat in destinations_lonlat:
        try:
            end = snap_points(graph, [lon], [lat], max_offroad_m=max_offroad_m,
                              source="destination")
        except InputError:
            answers.append(None)
            continue
        time_s, distance_m, _ = _arrival(graph, start, end, dist1, dist2, "time")
        answers.append((distance_m, time_s) if np.isfinite(time_s) else None)
    return answers


def _piece(line: LineString, start: float, end: float) -> np.ndarray:
    """Coordinates of ``line`` between two fractions, in the order start -> end."""
    if start == end:
        return np.asarray(shapely.get_coordinates(line.interpolate(start, normalized=True)))
    part = substring(line, min(start, end), max(start, end), normalized=True)
    coords = np.asarray(shapely.get_coordinates(part))
    return coords if start < end else coords[::-1]
