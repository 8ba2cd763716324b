"""Compile a :class:`~basemaps.road_layer.RoadLayer` into a compact per-mode graph.

A :class:`ModeGraph` holds three groups of arrays:

- *nodes*: every node of the layer, numbered along a Z-order curve for memory locality
  (``node_ids`` maps an index back to the layer's ``node_id``), with WGS84 and metric
  coordinates;
- *edges*: the physical ways usable by the mode (one per layer edge), with their full
  length, time, metric geometry, and the ids of their forward (u->v) and backward
  (v->u) *arcs* (-1 when that direction is closed);
- *arcs*: the directed edges in CSR order by tail (``arc_indptr``/``arc_head``) and a
  reverse CSR by head (``rev_indptr``/``rev_tail``/``rev_arc``) for searches that run
  towards a destination.

Weights are float64 seconds and metres, so path sums stay exact to well below 1 mm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from routing.speeds import ModeProfile, profile_for

if TYPE_CHECKING:
    from basemaps.road_layer import RoadLayer

Component = Literal["largest", "all"]

IntArray = NDArray[np.int32]
Int64Array = NDArray[np.int64]
FloatArray = NDArray[np.float64]
_T = TypeVar("_T")


@dataclass(eq=False)
class ModeGraph:
    """Road graph of one travel mode in CSR arrays (see the module docstring)."""

    mode: str
    profile: ModeProfile
    version: str
    component: str
    metric_epsg: int
    node_ids: Int64Array
    node_lonlat: FloatArray
    node_xy: FloatArray
    arc_indptr: Int64Array
    arc_head: IntArray
    arc_time_s: FloatArray
    arc_length_m: FloatArray
    arc_edge: IntArray
    rev_indptr: Int64Array
    rev_tail: IntArray
    rev_arc: IntArray
    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_time_s: FloatArray
    edge_fwd_arc: IntArray
    edge_bwd_arc: IntArray
    edge_row: Int64Array
    edge_coords: FloatArray
    edge_coord_offsets: Int64Array
    loaded_from: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def node_count(self) -> int:
        """Number of nodes (all nodes of the layer, routable or not)."""
        return len(self.node_ids)

    @property
    def arc_count(self) -> int:
        """Number of directed edges usable by the mode."""
        return len(self.arc_head)

    @property
    def edge_count(self) -> int:
        """Number of physical ways usable by the mode."""
        return len(self.edge_u)

    def routing_nbytes(self) -> int:
        """Bytes held by the arrays that searches use (nodes, arcs, edge endpoints)."""
        names = (
            "arc_indptr", "arc_head", "arc_time_s", "arc_length_m", "arc_edge",
            "rev_indptr", "rev_tail", "rev_arc", "edge_u", "edge_v", "edge_length_m",
            "edge_time_s", "edge_fwd_arc", "edge_bwd_arc",
        )
        return sum(int(getattr(self, name).nbytes) for name in names)

    def array_fields(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the arrays of the graph by name (what the disk cache stores)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }

    def weights(self, weight: str) -> tuple[FloatArray, FloatArray]:
        """Return ``(arc primary weight, arc secondary weight)`` for ``"time"`` or ``"distance"``."""
        if weight == "time":
            return self.arc_time_s, self.arc_length_m
        if weight == "distance":
            return self.arc_length_m, self.arc_time_s
        raise ValueError(f"weight must be 'time' or 'distance', not {weight!r}")

    def edge_weights(self, weight: str) -> tuple[FloatArray, FloatArray]:
        """Like :meth:`weights` for the full physical edges."""
        if weight == "time":
            return self.edge_time_s, self.edge_length_m
        if weight == "distance":
            return self.edge_length_m, self.edge_time_s
        raise ValueError(f"weight must be 'time' or 'distance', not {weight!r}")

    def cached(self, key: str, build: Callable[[], _T]) -> _T:
        """Return the value kept with the graph under ``key``, built by ``build`` on first use.

        Derived structures (segment grid, reverse weights, ...) live as long as the graph
        and are built at most once.
        """
        if key not in self._cache:
            self._cache[key] = build()
        return cast(_T, self._cache[key])

    def edge_directions(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Whether each edge can be driven u->v and v->u by the mode (computed once)."""
        pair: tuple[NDArray[np.bool_], NDArray[np.bool_]] | None = self._cache.get("directions")
        if pair is None:
            pair = (self.edge_fwd_arc >= 0, self.edge_bwd_arc >= 0)
            self._cache["directions"] = pair
        return pair

    def edge_geometries_metric(self) -> NDArray[np.object_]:
        """Edge geometries as shapely LineStrings in :attr:`metric_epsg` (built once)."""
        geoms = self._cache.get("geoms")
        if geoms is None:
            counts = np.diff(self.edge_coord_offsets)
            index = np.repeat(np.arange(self.edge_count), counts)
            geoms = shapely.linestrings(self.edge_coords, indices=index)
            self._cache["geoms"] = geoms
        return np.asarray(geoms, dtype=object)

    def to_metric(self) -> pyproj.Transformer:
        """Return the transformer WGS84 lon/lat -> metric x/y of this graph."""
        return _transformer(4326, self.metric_epsg)

    def to_lonlat(self) -> pyproj.Transformer:
        """Return the transformer metric x/y -> WGS84 lon/lat."""
        return _transformer(self.metric_epsg, 4326)

    @classmethod
    def from_arrays(
        cls, meta: dict[str, str], profile: ModeProfile, arrays: dict[str, Any]
    ) -> ModeGraph:
        """Rebuild a graph from :meth:`array_fields` and its metadata (the cache)."""
        return cls(
            mode=meta["mode"], profile=profile, version=meta["version"],
            component=meta["component"], metric_epsg=int(meta["metric_epsg"]),
            loaded_from=meta.get("loaded_from", ""), **arrays,
        )


_TRANSFORMERS: dict[tuple[int, int], pyproj.Transformer] = {}


def _transformer(source: int, target: int) -> pyproj.Transformer:
    key = (source, target)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return _TRANSFORMERS[key]


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing ``(lon, lat)`` (HCMC: 32648)."""
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def compile_graph(
    layer: RoadLayer, mode: str | ModeProfile = "motorbike", component: Component = "largest"
) -> ModeGraph:
    """Compile ``layer`` for ``mode`` without touching the disk cache.

    Parameters
    ----------
    layer
        The road layer.
    mode
        A mode name or a custom :class:`~routing.speeds.ModeProfile`.
    component
        ``"largest"`` keeps only the largest strongly connected part of the mode's network
        (so every snapped point can reach every other); ``"all"`` keeps every usable way.

    Returns
    -------
    ModeGraph
    """
    profile = profile_for(mode)
    nodes, edges = layer.nodes, layer.edges
    node_ids = nodes["node_id"].to_numpy(np.int64)
    if len(np.unique(node_ids)) != len(node_ids):
        raise ValueError("road layer has duplicate node_id values")
    node_lonlat = np.ascontiguousarray(nodes[["lon", "lat"]].to_numpy(np.float64))
    n = len(node_ids)
    lon0, lat0 = np.nanmean(node_lonlat, axis=0) if n else (106.7, 10.8)
    epsg = utm_epsg(float(lon0), float(lat0))
    to_xy = _transformer(4326, epsg)
    nx_, ny_ = to_xy.transform(node_lonlat[:, 0], node_lonlat[:, 1])
    node_xy = np.column_stack([nx_, ny_])
    # Number nodes along a Z-order curve: neighbours then sit close in memory, which
    # keeps the searches' label arrays in cache (2-4x faster on city-size graphs).
    order = np.argsort(_morton(node_xy), kind="stable")
    node_ids, node_lonlat = node_ids[order], node_lonlat[order]
    node_xy = np.ascontiguousarray(node_xy[order])
    index = pd.Index(node_ids)
    u_all = index.get_indexer(edges["u"].to_numpy(np.int64))
    v_all = index.get_indexer(edges["v"].to_numpy(np.int64))
    if (u_all < 0).any() or (v_all < 0).any():
        raise ValueError("road layer has edges whose u or v is not among its nodes")
    length_all = edges["length_m"].to_numpy(np.float64)
    if not np.isfinite(length_all).all() or (length_all < 0).any():
        raise ValueError("road layer has edges with a missing or negative length_m")

    highway = edges["highway"].astype(str)
    class_speed = highway.map(dict(profile.speeds_kmh)).to_numpy(np.float64)
    access = edges["access"].fillna("").astype(str)
    usable = ~np.isnan(class_speed) & ~access.isin(profile.excluded_access).to_numpy()
    maxspeed = edges["maxspeed_kmh"].to_numpy(np.float64)
    speed_kmh = np.where(
        np.isfinite(maxspeed) & (maxspeed > 0),
        np.minimum(maxspeed, profile.max_speed_kmh),
        class_speed,
    )
    oneway = edges["oneway"].fillna(False).to_numpy(bool)
    two_way = ~oneway if profile.respect_oneway else np.ones(len(edges), bool)

    rows = np.flatnonzero(usable)
    if component == "largest" and len(rows):
        rows = _largest_component_rows(rows, u_all, v_all, two_way, n)
    elif component not in ("largest", "all"):
        raise ValueError(f"component must be 'largest' or 'all', not {component!r}")

    edge_u = u_all[rows].astype(np.int32)
    edge_v = v_all[rows].astype(np.int32)
    edge_length = length_all[rows]
    edge_time = edge_length / (speed_kmh[rows] / 3.6)
    edge_two_way = two_way[rows]

    arcs = arc_arrays(edge_u, edge_v, edge_two_way, edge_length, edge_time, n)

    coords, offsets = _edge_coords(
        edges["geometry"].to_numpy(object)[rows], node_lonlat, edge_u, edge_v
    )
    cx, cy = to_xy.transform(coords[:, 0], coords[:, 1])

    return ModeGraph(
        mode=profile.name, profile=profile, version=layer.version, component=component,
        metric_epsg=epsg, node_ids=node_ids, node_lonlat=node_lonlat,
        node_xy=node_xy,
        **arcs, edge_u=edge_u, edge_v=edge_v, edge_length_m=edge_length, edge_time_s=edge_time,
        edge_row=rows.astype(np.int64),
        edge_coords=np.column_stack([cx, cy]), edge_coord_offsets=offsets,
    )


def arc_arrays(edge_u: NDArray[np.int32], edge_v: NDArray[np.int32], two_way: NDArray[np.bool_],
          edge_length: FloatArray, edge_time: FloatArray, n: int) -> dict[str, Any]:
    """Return the arc CSR arrays of the edges (the :class:`ModeGraph` fields named so).

    Arcs are every forward direction, then the backward direction of two-way edges, sorted by
    tail (stably, so a graph and its rebuild lay them out alike); ``rev_*`` index them by head.
    """
    p = len(edge_u)
    back = np.flatnonzero(two_way)
    tail = np.concatenate([edge_u, edge_v[back]])
    head = np.concatenate([edge_v, edge_u[back]])
    arc_edge = np.concatenate([np.arange(p, dtype=np.int32), back.astype(np.int32)])
    order = np.argsort(tail, kind="stable")
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    edge_bwd_arc = np.full(p, -1, np.int32)
    edge_bwd_arc[back] = rank[p:]
    tail, head, arc_edge = tail[order], head[order], arc_edge[order]
    arc_indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=arc_indptr[1:])
    rev_order = np.argsort(head, kind="stable").astype(np.int32)
    rev_indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(head, minlength=n), out=rev_indptr[1:])
    return {
        "arc_indptr": arc_indptr, "arc_head": head.astype(np.int32),
        "arc_time_s": np.ascontiguousarray(edge_time[arc_edge]),
        "arc_length_m": np.ascontiguousarray(edge_length[arc_edge]),
        "arc_edge": arc_edge.astype(np.int32), "rev_indptr": rev_indptr,
        "rev_tail": tail[rev_order].astype(np.int32), "rev_arc": rev_order,
        "edge_fwd_arc": rank[:p].copy(), "edge_bwd_arc": edge_bwd_arc,
    }


def _morton(xy: FloatArray) -> NDArray[np.uint64]:
    """Z-order (Morton) code of points quantised to a 2^16 x 2^16 grid over their extent."""
    if not len(xy):
        return np.zeros(0, np.uint64)
    finite = np.where(np.isfinite(xy), xy, np.nanmin(xy, axis=0))
    low, span = finite.min(axis=0), np.ptp(finite, axis=0)
    cells = ((finite - low) / np.where(span > 0, span, 1.0) * 65535).astype(np.uint64)

    def spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return spread(cells[:, 0]) | (spread(cells[:, 1]) << np.uint64(1))


def _largest_component_rows(
    rows: Int64Array, u: NDArray[np.intp], v: NDArray[np.intp], two_way: NDArray[np.bool_], n: int
) -> Int64Array:
    tails = np.concatenate([u[rows], v[rows][two_way[rows]]])
    heads = np.concatenate([v[rows], u[rows][two_way[rows]]])
    adjacency = csr_matrix((np.ones(len(tails), np.int8), (tails, heads)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    touched = np.zeros(n, bool)
    touched[tails] = True
    sizes = np.bincount(labels[touched])
    biggest = int(np.argmax(sizes))
    keep = (labels[u[rows]] == biggest) & (labels[v[rows]] == biggest)
    return np.asarray(rows[keep], dtype=np.int64)


def _edge_coords(
    geometries: NDArray[np.object_], node_lonlat: FloatArray, edge_u: IntArray, edge_v: IntArray
) -> tuple[FloatArray, Int64Array]:
    """Flat lon/lat coordinates of every edge and their offsets (straight line if missing)."""
    geoms = np.asarray(geometries, dtype=object)
    missing = np.array([g is None or shapely.is_empty(g) for g in geoms], dtype=bool)
    if missing.any():
        geoms = geoms.copy()
        straight = shapely.linestrings(
            np.stack([node_lonlat[edge_u[missing]], node_lonlat[edge_v[missing]]], axis=1)
        )
        geoms[missing] = straight
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    offsets = np.zeros(len(geoms) + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=len(geoms)), out=offsets[1:])
    return coords, offsets
