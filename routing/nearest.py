"""k nearest schools (or any targets) for many origins in one multi-source search.

The search runs *from the targets* on the reverse graph: every node keeps its ``k`` best
``(cost, target)`` labels, a target labelling a node at most once. An origin then
combines the labels of the two end nodes of its snapped edge (plus the partial edge and
off-road legs) with the targets snapped to its own edge. One search serves every
origin, so the cost grows with the graph, not with the number of origins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike

from routing import _klabels
from routing.graph import FloatArray, Int64Array, IntArray, ModeGraph
from routing.snap import Snap, snap_points
from routing.speeds import DEFAULT_MAX_OFFROAD_M


@dataclass(frozen=True)
class Targets:
    """Snapped targets prepared as search seeds and as same-edge candidates."""

    snap: Snap
    weight: str
    seed_node: IntArray
    seed_label: IntArray
    seed_c1: FloatArray
    seed_c2: FloatArray
    seed_indptr: Int64Array
    same_indptr: Int64Array
    same_label: IntArray
    same_frac: FloatArray
    same_off1: FloatArray
    same_off2: FloatArray
    off1: FloatArray
    off2: FloatArray

    @classmethod
    def from_snap(cls, graph: ModeGraph, snap: Snap, weight: str) -> Targets:
        """Seeds (node -> target costs) and the per-edge list of targets of ``snap``."""
        u1, u2, v1, v2 = snap.arrive_costs(graph, weight)
        n_t = len(snap)
        labels = np.arange(n_t, dtype=np.int32)
        # Seeds grouped by target: (u, v) of target 0, then of target 1, ...
        node = np.column_stack([graph.edge_u[snap.edge], graph.edge_v[snap.edge]]).ravel()
        c1 = np.column_stack([u1, v1]).ravel()
        c2 = np.column_stack([u2, v2]).ravel()
        label = np.repeat(labels, 2)
        keep = np.isfinite(c1)
        seed_indptr = np.zeros(n_t + 1, np.int64)
        np.cumsum(np.bincount(label[keep], minlength=n_t), out=seed_indptr[1:])
        order = np.argsort(snap.edge, kind="stable")
        same_indptr = np.zeros(graph.edge_count + 1, np.int64)
        np.cumsum(np.bincount(snap.edge, minlength=graph.edge_count), out=same_indptr[1:])
        off1, off2 = snap.offroad_costs(graph, weight)
        return cls(
            snap=snap, weight=weight, seed_node=node[keep].astype(np.int32),
            seed_label=label[keep], seed_c1=c1[keep], seed_c2=c2[keep], seed_indptr=seed_indptr,
            same_indptr=same_indptr, same_label=order.astype(np.int32),
            same_frac=snap.frac[order], same_off1=off1[order], same_off2=off2[order],
            off1=off1, off2=off2,
        )


def forward_arc_ids(graph: ModeGraph) -> IntArray:
    """``arange(arc_count)``: the arc ids of the forward CSR, kept once per graph."""
    ids = graph.cached("arc_ids", lambda: np.arange(graph.arc_count, dtype=np.int32))
    assert isinstance(ids, np.ndarray)
    return ids


def reverse_weights(graph: ModeGraph, weight: str) -> tuple[FloatArray, FloatArray]:
    """Arc weights in reverse-CSR order (so a search reads them sequentially), kept once."""

    def build() -> tuple[FloatArray, FloatArray]:
        w1, w2 = graph.weights(weight)
        return w1[graph.rev_arc], w2[graph.rev_arc]

    return graph.cached(f"rev_{weight}", build)


Labels = tuple[IntArray, FloatArray, FloatArray]


def node_labels(graph: ModeGraph, targets: Targets, k: int, cutoff: float = np.inf) -> Labels:
    """Return the ``k`` best targets of every node: the origin-independent half of a query."""
    if k < 1:
        raise ValueError("k must be at least 1")
    w1, w2 = reverse_weights(graph, targets.weight)
    labels: Labels = _klabels.k_label_search(
        graph.node_count, graph.rev_indptr, graph.rev_tail, w1, w2, targets.seed_node,
        targets.seed_label, targets.seed_c1, targets.seed_c2, k, float(cutoff),
    )
    return labels


def combine_labels(graph: ModeGraph, origins: Snap, targets: Targets, labels: Labels, k: int,
                   cutoff: float = np.inf) -> Labels:
    """Return the ``k`` best targets of each origin from the labels of its edge's two ends."""
    weight = targets.weight
    o_off1, o_off2 = origins.offroad_costs(graph, weight)
    e1, e2 = graph.edge_weights(weight)
    combined: Labels = _klabels.combine_k(
        *labels, origins.edge, origins.frac, o_off1, o_off2, graph.edge_u, graph.edge_v,
        *graph.edge_directions(), e1, e2, targets.same_indptr,
        targets.same_label, targets.same_frac, targets.same_off1, targets.same_off2, k,
        float(cutoff),
    )
    return combined


def k_nearest_arrays(
    graph: ModeGraph, origins: Snap, targets: Targets, k: int, cutoff: float = np.inf
) -> Labels:
    """Return the ``k`` best targets of every origin.

    Returns
    -------
    tuple of arrays, shape ``(n_origins, k)``
        Target index (``-1`` when fewer than ``k`` are reachable), cost in the search
        weight, and the other measure along the same path.
    """
    return combine_labels(graph, origins, targets, node_labels(graph, targets, k, cutoff), k,
                          cutoff)


@dataclass
class NearestIndex:
    """The ``k`` nearest schools of every road node, searched once for many later queries.

    Node labels do not depend on the origin, so a query only snaps its points and combines
    the labels of their edges' ends: exactly :func:`nearest_schools`' answer, for one point
    in about a millisecond instead of a whole-graph search (the parents' finder uses it).
    """

    graph: ModeGraph
    targets: Targets
    school_ids: npt.NDArray[np.object_]
    k: int
    labels: Labels

    @classmethod
    def build(cls, graph: ModeGraph, schools_lonlat: ArrayLike, school_ids: Sequence[object],
              k: int = 10, weight: str = "time", *,
              max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> NearestIndex:
        """Snap the schools and label every node with its ``k`` best."""
        xy = np.asarray(schools_lonlat, dtype=np.float64).reshape(-1, 2)
        snap = snap_points(graph, xy[:, 0], xy[:, 1], max_offroad_m=max_offroad_m,
                           source="schools", labels=[str(i) for i in school_ids])
        targets = Targets.from_snap(graph, snap, weight)
        return cls(graph, targets, np.asarray(list(school_ids), dtype=object), k,
                   node_labels(graph, targets, k))

    def query(self, origins_lonlat: ArrayLike, k: int | None = None, *,
              max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> Labels:
        """School index, cost and other measure per origin, shape ``(n, k)`` (``-1``: none).

        Raises
        ------
        gis_service.errors.InputError
            For an origin farther than ``max_offroad_m`` from any road of the mode.
        """
        k = self.k if k is None else k
        if k > self.k:
            raise ValueError(f"this index keeps {self.k} schools per node, not {k}")
        xy = np.asarray(origins_lonlat, dtype=np.float64).reshape(-1, 2)
        origins = snap_points(self.graph, xy[:, 0], xy[:, 1], max_offroad_m=max_offroad_m,
                              source="origins")
        lab, c1, c2 = combine_labels(self.graph, origins, self.targets, self.labels, self.k)
        return lab[:, :k], c1[:, :k], c2[:, :k]


def nearest_schools(
    graph: ModeGraph,
    origins_lonlat: ArrayLike,
    schools_lonlat: ArrayLike,
    school_ids: Sequence[object],
    k: int = 10,
    weight: str = "time",
    *,
    origin_ids: Sequence[object] | None = None,
    school_levels: Sequence[str] | None = None,
    level: str | None = None,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    cutoff: float = np.inf,
) -> pd.DataFrame:
    """Return the ``k`` nearest schools by road of every origin.

    Parameters
    ----------
    graph
        Mode graph from :func:`routing.build_graph`.
    origins_lonlat, schools_lonlat
        Arrays of shape ``(n, 2)``, WGS84 lon/lat.
    school_ids
        One code per school.
    k
        Schools per origin.
    weight
        ``"time"`` (rank by seconds) or ``"distance"`` (rank by metres); the other measure
        is reported along the same path.
    origin_ids
        One id per origin (default: 0..n-1).
    school_levels, level
        When both are given, only schools whose level equals ``level`` are searched.
    max_offroad_m
        Snapping limit for origins and schools.
    cutoff
        Ignore schools farther than this (in the ``weight`` unit).

    Returns
    -------
    pandas.DataFrame
        ``origin_id, rank, school_code, distance_m, time_s``, ranks from 1, only schools
        that are reachable.
    """
    origins_xy = np.asarray(origins_lonlat, np.float64).reshape(-1, 2)
    schools_xy = np.asarray(schools_lonlat, np.float64).reshape(-1, 2)
    codes = np.asarray(list(school_ids), dtype=object)
    if len(codes) != len(schools_xy):
        raise ValueError("school_ids and schools_lonlat differ in length")
    if level is not None:
        if school_levels is None:
            raise ValueError("filtering by level needs school_levels")
        keep = np.asarray(list(school_levels), dtype=object) == level
        schools_xy, codes = schools_xy[keep], codes[keep]
    ids = np.asarray(list(origin_ids) if origin_ids is not None else range(len(origins_xy)),
                     dtype=object)
    columns = ["origin_id", "rank", "school_code", "distance_m", "time_s"]
    if len(codes) == 0 or len(origins_xy) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    origin_snap = snap_points(graph, origins_xy[:, 0], origins_xy[:, 1],
                              max_offroad_m=max_offroad_m, source="origins", labels=list(ids))
    school_snap = snap_points(graph, schools_xy[:, 0], schools_xy[:, 1],
                              max_offroad_m=max_offroad_m, source="schools", labels=list(codes))
    targets = Targets.from_snap(graph, school_snap, weight)
    lab, c1, c2 = k_nearest_arrays(graph, origin_snap, targets, k, cutoff)
    row, rank = np.nonzero(lab >= 0)
    time_s, distance_m = (c1, c2) if weight == "time" else (c2, c1)
    return pd.DataFrame({
        "origin_id": ids[row],
        "rank": rank + 1,
        "school_code": codes[lab[row, rank]],
        "distance_m": distance_m[row, rank],
        "time_s": time_s[row, rank],
    })
