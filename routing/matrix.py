"""Origin x school matrices of road time and distance, within a cut-off, as sparse arrays."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix

from routing import _kernels
from routing.graph import ModeGraph
from routing.nearest import Targets
from routing.snap import Snap, snap_points
from routing.speeds import DEFAULT_MAX_OFFROAD_M


@dataclass(frozen=True)
class ODMatrix:
    """Sparse origin x school matrices with the same pattern.

    A stored entry means "reachable within the cut-off"; it may be an explicit 0 (an
    origin standing on its school's road position). Missing entries are beyond the cut-off.
    """

    time_s: csr_matrix
    distance_m: csr_matrix
    weight: str
    cutoff: float

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_origins, n_schools)``."""
        rows, cols = self.time_s.shape
        return int(rows), int(cols)


def od_matrix(
    graph: ModeGraph,
    origins_lonlat: ArrayLike,
    schools_lonlat: ArrayLike,
    cutoff: float,
    weight: str = "time",
    *,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    threads: int | None = None,
) -> ODMatrix:
    """Road time and distance from every origin to every school within ``cutoff``.

    Parameters
    ----------
    graph
        Mode graph.
    origins_lonlat, schools_lonlat
        Arrays ``(n, 2)`` of WGS84 lon/lat.
    cutoff
        Largest cost kept, in seconds (``weight="time"``) or metres (``"distance"``).
    weight
        The measure minimised and cut; the other is reported along the same path.
    max_offroad_m
        Snapping limit.
    threads
        Worker threads (default: the CPU count); schools are split between them.

    Returns
    -------
    ODMatrix
    """
    origins = np.asarray(origins_lonlat, np.float64).reshape(-1, 2)
    schools = np.asarray(schools_lonlat, np.float64).reshape(-1, 2)
    origin_snap = snap_points(graph, origins[:, 0], origins[:, 1], max_offroad_m=max_offroad_m,
                              source="origins")
    school_snap = snap_points(graph, schools[:, 0], schools[:, 1], max_offroad_m=max_offroad_m,
                              source="schools")
    return od_matrix_snapped(graph, origin_snap, school_snap, cutoff, weight, threads=threads)


def od_matrix_snapped(
    graph: ModeGraph, origins: Snap, schools: Snap, cutoff: float, weight: str = "time",
    *, threads: int | None = None,
) -> ODMatrix:
    """:func:`od_matrix` for points already snapped."""
    if not cutoff >= 0:
        raise ValueError("cutoff must be a non-negative number")
    targets = Targets.from_snap(graph, schools, weight)
    w1, w2 = graph.weights(weight)
    e1, e2 = graph.edge_weights(weight)
    n_o, n_s = len(origins), len(schools)

    u1, u2, v1, v2 = origins.leave_costs(graph, weight)
    att_node = np.concatenate([graph.edge_u[origins.edge], graph.edge_v[origins.edge]])
    att_origin = np.concatenate([np.arange(n_o, dtype=np.int32)] * 2)
    att_c1, att_c2 = np.concatenate([u1, v1]), np.concatenate([u2, v2])
    ok = np.isfinite(att_c1)
    att_node, att_origin, att_c1, att_c2 = att_node[ok], att_origin[ok], att_c1[ok], att_c2[ok]
    order = np.argsort(att_node, kind="stable")
    att_indptr = np.zeros(graph.node_count + 1, np.int64)
    np.cumsum(np.bincount(att_node, minlength=graph.node_count), out=att_indptr[1:])
    o_off1, o_off2 = origins.offroad_costs(graph, weight)
    eo_origin = np.argsort(origins.edge, kind="stable").astype(np.int32)
    eo_indptr = np.zeros(graph.edge_count + 1, np.int64)
    np.cumsum(np.bincount(origins.edge, minlength=graph.edge_count), out=eo_indptr[1:])

    workers = max(1, threads or os.cpu_count() or 1)
    chunks = [c for c in np.array_split(np.arange(n_s, dtype=np.int32), 4 * workers) if len(c)]

    def run(chunk: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(_kernels.matrix_chunk(
            graph.node_count, graph.rev_indptr, graph.rev_tail, graph.rev_arc, w1, w2, chunk,
            targets.seed_indptr, targets.seed_node, targets.seed_c1, targets.seed_c2,
            att_indptr, att_origin[order], att_c1[order], att_c2[order], n_o,
            schools.edge, schools.frac, targets.off1, targets.off2, eo_indptr, eo_origin,
            origins.frac, o_off1, o_off2, *graph.edge_directions(), e1, e2, float(cutoff),
        ))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(run, chunks))
    if parts:
        rows, cols, c1, c2 = (np.concatenate([p[i] for p in parts]) for i in range(4))
    else:
        rows = cols = np.zeros(0, np.int32)
        c1 = c2 = np.zeros(0)
    first = csr_matrix((c1, (rows, cols)), shape=(n_o, n_s))
    second = csr_matrix((c2, (rows, cols)), shape=(n_o, n_s))
    time_s, distance_m = (first, second) if weight == "time" else (second, first)
    return ODMatrix(time_s=time_s, distance_m=distance_m, weight=weight, cutoff=float(cutoff))
