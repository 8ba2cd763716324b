"""The graph of a transport scenario, made from the compiled base graph without recompiling.

:func:`scenario_graph` takes the base :class:`~routing.graph.ModeGraph` (from the disk
cache) and a list of edits (:mod:`routing.scenario_edits`) and returns a new graph; the base
graph and the basemap are left as they are. It

- removes the edges a closure touches;
- joins each end of a new road to the nearest open road within ``snap_m``, splitting that
  road there into two pieces (times ``length / speed`` of each piece, as a compile gives);
- adds a metro line as platform nodes joined station to station, reachable only through
  a boarding edge from the road next to each station (the walk there at the mode's off-road
  speed plus a wait of half the headway) and left through an alighting edge (the walk);
  metro and station edges are left out of the snapping index, so no home or school snaps
  onto the tracks;
- rebuilds the CSR arc arrays from the edge arrays (a counting pass, no reprojection, no
  component search, no geometry of unchanged roads touched).

:func:`resolve_edits` does the geometric part once; :func:`routing.scenario_rebuild.edited_layer`
turns the same resolution into a road layer, so a full recompile of the same network can be
compared with the incremental graph (equal costs: ``tests/routing/test_scenarios.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.ops import substring

from basemaps.roads import lengths_m
from gis_service.errors import InputError, Problem
from routing._grid import SegmentGrid, _segment_cells, build_grid
from routing.graph import FloatArray, ModeGraph, arc_arrays
from routing.scenario_edits import ClosureEdit, Edit, MetroEdit, RoadEdit
from routing.snap import segment_grid
from routing.speeds import ModeProfile

#: A road end this close to a node of the road it meets joins that node (no split).
NODE_JOIN_M = 0.5
#: A closure ``along`` a line closes the edges lying within this distance of it (metres).
ALONG_M = 1.0


@dataclass
class ResolvedEdits:
    """Edits resolved against one base graph: what is removed, which nodes and edges are new.

    New edges are listed with ``u``/``v`` as node indices of the scenario graph (the base
    nodes keep theirs; new nodes follow). ``source_edge`` is the base edge a piece was cut
    from (-1 for a new road or a metro edge); ``part`` says what each new edge is.
    """

    base: ModeGraph
    closed: NDArray[np.bool_]
    new_node_lonlat: list[tuple[float, float]] = field(default_factory=list)
    u: list[int] = field(default_factory=list)
    v: list[int] = field(default_factory=list)
    length_m: list[float] = field(default_factory=list)
    time_s: list[float] = field(default_factory=list)
    two_way: list[bool] = field(default_factory=list)
    snappable: list[bool] = field(default_factory=list)
    source_edge: list[int] = field(default_factory=list)
    part: list[str] = field(default_factory=list)
    highway: list[str] = field(default_factory=list)
    maxspeed_kmh: list[float] = field(default_factory=list)
    coords_lonlat: list[FloatArray] = field(default_factory=list)

    @property
    def removed(self) -> NDArray[np.bool_]:
        """Base edges not in the scenario graph: closed, or split into pieces."""
        gone = self.closed.copy()
        pieces = np.asarray(self.source_edge, np.int64)
        gone[pieces[pieces >= 0]] = True
        return gone

    def node_index(self, lonlat: tuple[float, float]) -> int:
        """Add a node at ``lonlat``; return its index in the scenario graph."""
        self.new_node_lonlat.append(lonlat)
        return self.base.node_count + len(self.new_node_lonlat) - 1

    def add_edge(self, u: int, v: int, coords_lonlat: FloatArray, time_s: float | None, *,
                 speed_kmh: float = np.nan, two_way: bool, snappable: bool, part: str,
                 source_edge: int = -1, length_m: float | None = None, highway: str = "",
                 maxspeed_kmh: float = np.nan, extra_s: float = 0.0) -> None:
        """Append one new edge; its time is ``length / speed`` (+ ``extra_s``) unless given."""
        length = float(lengths_m([coords_lonlat])[0]) if length_m is None else length_m
        if time_s is None:
            time_s = length / (speed_kmh / 3.6) + extra_s
        self.u.append(u)
        self.v.append(v)
        self.length_m.append(length)
        self.time_s.append(time_s)
        self.two_way.append(two_way)
        self.snappable.append(snappable)
        self.source_edge.append(source_edge)
        self.part.append(part)
        self.highway.append(highway)
        self.maxspeed_kmh.append(maxspeed_kmh)
        self.coords_lonlat.append(coords_lonlat)


def edge_speeds_kmh(highway: pd.Series, maxspeed_kmh: NDArray[np.float64],
                    profile: ModeProfile) -> NDArray[np.float64]:
    """Speed of each edge for ``profile``, by the rule of :func:`routing.graph.compile_graph`.

    NaN where the highway class is closed to the mode.
    """
    class_speed = highway.astype(str).map(dict(profile.speeds_kmh)).to_numpy(np.float64)
    return np.asarray(np.where(np.isfinite(maxspeed_kmh) & (maxspeed_kmh > 0),
                               np.minimum(maxspeed_kmh, profile.max_speed_kmh), class_speed),
                      dtype=np.float64)


def _edge_tree(base: ModeGraph) -> shapely.STRtree:
    return base.cached("strtree", lambda: shapely.STRtree(base.edge_geometries_metric()))


class _Resolver:
    """Walks the edits in order, recording closures, splits and new edges."""

    def __init__(self, base: ModeGraph, layer_edges: pd.DataFrame, source: str) -> None:
        self.base = base
        self.layer_edges = layer_edges
        self.source = source
        self.out = ResolvedEdits(base=base, closed=np.zeros(base.edge_count, bool))
        self.splits: dict[int, dict[float, int]] = {}
        self.problems: list[Problem] = []
        self.to_metric = base.to_metric()
        self.to_lonlat = base.to_lonlat()

    def lonlat(self, xy: FloatArray) -> FloatArray:
        x, y = self.to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.asarray(np.column_stack([x, y]), np.float64)

    def metric(self, lonlat: FloatArray) -> FloatArray:
        x, y = self.to_metric.transform(lonlat[:, 0], lonlat[:, 1])
        return np.asarray(np.column_stack([x, y]), np.float64)

    def fail(self, n: int, field_name: str, en: str, vi: str) -> None:
        self.problems.append(Problem(self.source, n, field_name, f"edit {n}: {en}",
                                     f"thay đổi {n}: {vi}"))

    def nearest_edge(self, xy: FloatArray, limit_m: float) -> tuple[int, float, float]:
        """Nearest open base edge of a metric point within ``limit_m``: (edge, frac, distance)."""
        point = shapely.Point(xy)
        found = _edge_tree(self.base).query(point, predicate="dwithin", distance=limit_m)
        found = np.sort(found[~self.out.closed[found]])
        if not len(found):
            return -1, 0.0, np.inf
        geoms = self.base.edge_geometries_metric()
        distance = shapely.distance(geoms[found], point)
        best = int(found[int(np.argmin(distance))])
        frac = float(shapely.line_locate_point(geoms[best], point, normalized=True))
        return best, frac, float(np.min(distance))

    def join_node(self, edge: int, frac: float) -> int:
        """Node at ``frac`` along base ``edge``: an end node, or a new node splitting it."""
        length = float(self.base.edge_geometries_metric()[edge].length)
        if frac * length <= NODE_JOIN_M:
            return int(self.base.edge_u[edge])
        if (1.0 - frac) * length <= NODE_JOIN_M:
            return int(self.base.edge_v[edge])
        at = self.splits.setdefault(edge, {})
        if frac not in at:
            xy = np.asarray(shapely.get_coordinates(shapely.line_interpolate_point(
                self.base.edge_geometries_metric()[edge], frac, normalized=True)))
            ll = self.lonlat(xy)[0]
            at[frac] = self.out.node_index((float(ll[0]), float(ll[1])))
        return at[frac]

    def node_lonlat(self, node: int) -> FloatArray:
        if node < self.base.node_count:
            return np.asarray(self.base.node_lonlat[node], np.float64)
        return np.asarray(self.out.new_node_lonlat[node - self.base.node_count], np.float64)

    def closure(self, n: int, edit: ClosureEdit) -> None:
        if edit.geometry is None:
            self.fail(n, "edge_ids", "edge ids not resolved to roads of the basemap",
                      "mã đoạn đường chưa được đổi thành đường của bản đồ nền")
            return
        geometry = shapely.transform(edit.geometry, self.metric)
        if edit.along:
            hit = _edge_tree(self.base).query(geometry.buffer(ALONG_M), predicate="contains")
        else:
            hit = _edge_tree(self.base).query(geometry, predicate="intersects")
        if not len(hit):
            self.fail(n, "geometry", "the closure touches no road of the mode",
                      "đoạn cấm không chạm con đường nào của phương tiện")
        self.out.closed[hit] = True

    def road(self, n: int, edit: RoadEdit) -> None:
        profile = self.base.profile
        speed = float(edge_speeds_kmh(pd.Series([edit.highway]), np.array([edit.speed_kmh]),
                                      profile)[0])
        if not np.isfinite(speed):
            return  # a class the mode may not use (a motorway on foot): not added, as compiled
        xy = self.metric(edit.coords)
        ends = []
        for end, name_en, name_vi in ((0, "start", "đầu"), (-1, "end", "cuối")):
            edge, frac, _ = self.nearest_edge(xy[end], edit.snap_m)
            if edge < 0:
                lon, lat = edit.coords[end]
                self.fail(n, "geometry", f"the road's {name_en} ({lon:.6f}, {lat:.6f}) is more than"
                          f" {edit.snap_m:g} m from any open road: it would connect to nothing",
                          f"điểm {name_vi} ({lon:.6f}, {lat:.6f}) cách mọi đường đang mở hơn "
                          f"{edit.snap_m:g} m: không nối vào đâu")
                return
            ends.append(self.join_node(edge, frac))
        if ends[0] == ends[1]:
            self.fail(n, "geometry", "both ends of the road join the same point",
                      "hai đầu đường nối vào cùng một điểm")
            return
        coords = np.vstack([self.node_lonlat(ends[0]), edit.coords[1:-1], self.node_lonlat(ends[1])])
        two_way = not (edit.oneway and profile.respect_oneway)
        self.out.add_edge(ends[0], ends[1], coords, None, speed_kmh=speed, two_way=two_way,
                          snappable=True, part="road", highway=edit.highway,
                          maxspeed_kmh=edit.speed_kmh)

    def metro(self, n: int, edit: MetroEdit) -> None:
        line_xy = self.metric(edit.coords)
        line = shapely.LineString(line_xy)
        station_xy = self.metric(edit.stations)
        along = shapely.line_locate_point(line, shapely.points(station_xy))
        offroad_speed = self.base.profile.offroad_speed_kmh
        platforms = []
        for k, (xy, name) in enumerate(zip(station_xy, edit.station_names, strict=True)):
            edge, frac, _ = self.nearest_edge(xy, edit.access_m)
            if edge < 0:
                self.fail(n, "stations", f"station {k + 1} ({name}) is more than "
                          f"{edit.access_m:g} m from any open road: no way in",
                          f"ga {k + 1} ({name}) cách mọi đường đang mở hơn {edit.access_m:g} m")
                continue
            road_node = self.join_node(edge, frac)
            on_line = np.asarray(shapely.get_coordinates(shapely.line_interpolate_point(
                line, along[k])))
            platform_ll = self.lonlat(on_line)[0]
            platform = self.out.node_index((float(platform_ll[0]), float(platform_ll[1])))
            walk = np.vstack([self.node_lonlat(road_node), platform_ll])
            self.out.add_edge(road_node, platform, walk, None, speed_kmh=offroad_speed,
                              extra_s=edit.headway_s / 2.0, two_way=False, snappable=False,
                              part="board")
            self.out.add_edge(platform, road_node, walk[::-1].copy(), None,
                              speed_kmh=offroad_speed, two_way=False, snappable=False,
                              part="alight")
            platforms.append((platform, float(along[k])))
        for (a, at_a), (b, at_b) in pairwise(platforms):
            piece = substring(line, at_a, at_b)
            coords = self.lonlat(np.asarray(shapely.get_coordinates(piece), np.float64))
            if len(coords) < 2:
                coords = np.vstack([self.node_lonlat(a), self.node_lonlat(b)])
            self.out.add_edge(a, b, coords, None, speed_kmh=edit.speed_kmh, two_way=True,
                              snappable=False, part="metro")

    def pieces(self) -> None:
        """Cut every split base edge into its pieces (in order of the base edges)."""
        base, profile = self.base, self.base.profile
        for edge in sorted(self.splits):
            row = self.layer_edges.iloc[int(base.edge_row[edge])]
            speed = float(edge_speeds_kmh(pd.Series([row["highway"]]),
                                          np.array([row["maxspeed_kmh"]], np.float64), profile)[0])
            fracs = sorted(self.splits[edge])
            nodes = [int(base.edge_u[edge]), *(self.splits[edge][f] for f in fracs),
                     int(base.edge_v[edge])]
            bounds = [0.0, *fracs, 1.0]
            geometry = base.edge_geometries_metric()[edge]
            length = float(base.edge_length_m[edge])
            for k in range(len(nodes) - 1):
                piece = substring(geometry, bounds[k], bounds[k + 1], normalized=True)
                coords = self.lonlat(np.asarray(shapely.get_coordinates(piece), np.float64))
                coords[0], coords[-1] = self.node_lonlat(nodes[k]), self.node_lonlat(nodes[k + 1])
                self.out.add_edge(nodes[k], nodes[k + 1], coords, None, speed_kmh=speed,
                                  length_m=length * (bounds[k + 1] - bounds[k]),
                                  two_way=bool(base.edge_bwd_arc[edge] >= 0), snappable=True,
                                  part="piece", source_edge=edge)


def resolve_edits(base: ModeGraph, layer_edges: pd.DataFrame, edits: Sequence[Edit],
                  source: str = "scenario") -> ResolvedEdits:
    """Resolve ``edits`` (in order: closures act on the edits after them) against ``base``.

    Parameters
    ----------
    base
        The compiled graph of the basemap (not changed).
    layer_edges
        The edges of the road layer it was compiled from (for the class and speed of the
        roads that new ones split).
    edits
        The scenario's edits.
    source
        Named in errors, with the edit number.

    Raises
    ------
    InputError
        An edit that cannot apply: a closure touching no road, a road end or a station too
        far from every open road.
    """
    resolver = _Resolver(base, layer_edges, source)
    for closure_first in (True, False):
        for n, edit in enumerate(edits, start=1):
            if isinstance(edit, ClosureEdit) and closure_first:
                resolver.closure(n, edit)
            elif isinstance(edit, RoadEdit) and not closure_first:
                resolver.road(n, edit)
            elif isinstance(edit, MetroEdit) and not closure_first:
                resolver.metro(n, edit)
    if resolver.problems:
        raise InputError(resolver.problems)
    resolver.pieces()
    return resolver.out


def scenario_graph(base: ModeGraph, layer_edges: pd.DataFrame, edits: Sequence[Edit],
                   source: str = "scenario") -> ModeGraph:
    """Return the graph of ``base`` with ``edits`` applied (see the module docstring)."""
    return assemble(resolve_edits(base, layer_edges, edits, source))


def assemble(resolved: ResolvedEdits) -> ModeGraph:
    """Build the scenario graph from the base arrays and the resolved edits."""
    base = resolved.base
    keep = np.flatnonzero(~resolved.removed)
    n_new = len(resolved.new_node_lonlat)
    new_ll = np.asarray(resolved.new_node_lonlat, np.float64).reshape(-1, 2)
    to_xy = base.to_metric()
    nx_, ny_ = to_xy.transform(new_ll[:, 0], new_ll[:, 1])
    node_ids = np.concatenate([base.node_ids, base.node_ids.max(initial=0) + 1
                               + np.arange(n_new, dtype=np.int64)])
    node_lonlat = np.vstack([base.node_lonlat, new_ll])
    node_xy = np.vstack([base.node_xy, np.column_stack([nx_, ny_])])
    n = len(node_ids)

    edge_u = np.concatenate([base.edge_u[keep], np.asarray(resolved.u, np.int32)]).astype(np.int32)
    edge_v = np.concatenate([base.edge_v[keep], np.asarray(resolved.v, np.int32)]).astype(np.int32)
    edge_length = np.concatenate([base.edge_length_m[keep], np.asarray(resolved.length_m)])
    edge_time = np.concatenate([base.edge_time_s[keep], np.asarray(resolved.time_s)])
    two_way = np.concatenate([base.edge_bwd_arc[keep] >= 0, np.asarray(resolved.two_way, bool)])
    edge_row = np.concatenate([base.edge_row[keep], np.full(len(resolved.u), -1, np.int64)])

    counts = np.diff(base.edge_coord_offsets)
    kept_coords = base.edge_coords[np.repeat(np.isin(np.arange(base.edge_count), keep), counts)]
    new_coords = [np.column_stack(to_xy.transform(c[:, 0], c[:, 1])) for c in resolved.coords_lonlat]
    coords = np.vstack([kept_coords, *new_coords]) if new_coords else kept_coords
    sizes = np.concatenate([counts[keep], [len(c) for c in new_coords]]).astype(np.int64)
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])

    arcs = arc_arrays(edge_u, edge_v, two_way, edge_length, edge_time, n)
    digest = hashlib.blake2b(repr((resolved.u, resolved.v, resolved.time_s,
                                   np.flatnonzero(resolved.closed).tolist())).encode(),
                             digest_size=6).hexdigest()
    graph = ModeGraph(
        mode=base.mode, profile=base.profile, version=f"{base.version}+{digest}",
        component=f"{base.component}+scenario", metric_epsg=base.metric_epsg,
        node_ids=node_ids, node_lonlat=node_lonlat, node_xy=node_xy, **arcs,
        edge_u=edge_u, edge_v=edge_v, edge_length_m=edge_length, edge_time_s=edge_time,
        edge_row=edge_row, edge_coords=coords, edge_coord_offsets=offsets,
    )
    snappable = np.asarray(resolved.snappable, bool)
    graph.cached("grid", lambda: _scenario_grid(segment_grid(base), base, keep, coords, offsets,
                                                snappable))
    graph.cached("scenario", lambda: resolved)
    return graph


def resolved_of(graph: ModeGraph) -> ResolvedEdits:
    """Return the resolved edits a scenario graph was made with.

    Raises
    ------
    ValueError
        ``graph`` is not a scenario graph.
    """
    def missing() -> ResolvedEdits:
        raise ValueError("not a scenario graph")

    return graph.cached("scenario", missing)


def _scenario_grid(grid: SegmentGrid, base: ModeGraph, keep: NDArray[np.intp],
                   coords: FloatArray, offsets: NDArray[np.int64],
                   new_snappable: NDArray[np.bool_]) -> SegmentGrid:
    """Return the snapping index of the scenario graph, edited from the base graph's one.

    Segments of removed edges leave their cells, the other segments are renumbered, the
    segments of new snappable edges (roads, pieces) are added; metro and station edges
    get none, so nothing snaps onto them. A new road beyond the base grid's extent makes a
    new grid of every edge instead.
    """
    n_keep = len(keep)
    new_edges = n_keep + np.flatnonzero(new_snappable)
    starts = [np.arange(offsets[e], offsets[e + 1] - 1, dtype=np.int64) for e in new_edges]
    new_start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
    new_owner = (np.repeat(new_edges, [len(s) for s in starts]).astype(np.int32) if starts
                 else np.zeros(0, np.int32))
    a, b = coords[new_start], coords[new_start + 1]
    new_len = np.hypot(*(b - a).T) if len(a) else np.zeros(0)
    x_max, y_max = grid.x0 + grid.nx * grid.cell_m, grid.y0 + grid.ny * grid.cell_m
    ends = np.vstack([a, b])
    if len(ends) and (ends[:, 0].min() < grid.x0 or ends[:, 1].min() < grid.y0
                      or ends[:, 0].max() >= x_max or ends[:, 1].max() >= y_max):
        full = build_grid(coords, offsets)
        snappable = np.concatenate([np.ones(n_keep, bool), new_snappable])
        return _without(full, snappable)

    edge_map = np.full(base.edge_count, -1, np.int64)
    edge_map[keep] = np.arange(n_keep)
    seg_keep = edge_map[grid.seg_edge] >= 0
    renumber = np.cumsum(seg_keep) - 1
    removed_coords = np.repeat(edge_map < 0, np.diff(base.edge_coord_offsets))
    shift = np.concatenate([[0], np.cumsum(removed_coords)])
    old_start = grid.seg_start[seg_keep]
    seg_start = np.concatenate([old_start - shift[old_start], new_start])
    seg_edge = np.concatenate([edge_map[grid.seg_edge[seg_keep]].astype(np.int32), new_owner])
    # cumulative length before each new segment within its edge
    before = np.zeros(len(new_len))
    if len(new_len):
        cum = np.cumsum(new_len)
        first = np.concatenate([[True], new_owner[1:] != new_owner[:-1]])
        edge_base = np.maximum.accumulate(np.where(first, np.arange(len(cum)), 0))
        before = cum - new_len - (cum - new_len)[edge_base]
    seg_cum = np.concatenate([grid.seg_cum_m[seg_keep], before])
    new_geom = np.zeros(len(offsets) - 1 - n_keep)
    np.add.at(new_geom, new_owner - n_keep, new_len)
    edge_geom = np.concatenate([grid.edge_geom_m[keep], new_geom])

    entry_keep = seg_keep[grid.cell_segment]
    cell_of = np.repeat(np.arange(grid.nx * grid.ny, dtype=np.int64), np.diff(grid.cell_indptr))
    cells_old, segs_old = cell_of[entry_keep], renumber[grid.cell_segment[entry_keep]]
    if len(a):
        cells, segs = _segment_cells(a, b, new_len, grid.x0, grid.y0, grid.cell_m, grid.ny)
        width = len(seg_start) + 1
        pair = np.unique(cells * width + segs + int(seg_keep.sum()))
        cells_new, segs_new = pair // width, pair % width
        at = np.searchsorted(cells_old, cells_new, side="right")
        cells_old = np.insert(cells_old, at, cells_new)
        segs_old = np.insert(segs_old, at, segs_new)
    indptr = np.zeros(grid.nx * grid.ny + 1, np.int64)
    np.cumsum(np.bincount(cells_old, minlength=grid.nx * grid.ny), out=indptr[1:])
    return SegmentGrid(grid.cell_m, grid.x0, grid.y0, grid.nx, grid.ny, indptr,
                       segs_old.astype(np.int32), seg_start, seg_edge, seg_cum, edge_geom)


def _without(grid: SegmentGrid, snappable: NDArray[np.bool_]) -> SegmentGrid:
    """``grid`` without the segments of edges nothing may snap to (metro, station walks)."""
    keep = snappable[grid.seg_edge[grid.cell_segment]]
    cell_of = np.repeat(np.arange(len(grid.cell_indptr) - 1), np.diff(grid.cell_indptr))
    indptr = np.zeros(len(grid.cell_indptr), np.int64)
    np.cumsum(np.bincount(cell_of[keep], minlength=len(indptr) - 1), out=indptr[1:])
    return SegmentGrid(grid.cell_m, grid.x0, grid.y0, grid.nx, grid.ny, indptr,
                       grid.cell_segment[keep], grid.seg_start, grid.seg_edge, grid.seg_cum_m,
                       grid.edge_geom_m)
