"""networkx reference for the routing tests: the same mode graph, searched by networkx.

Snapped points become virtual nodes joined to their edge's end nodes with the partial
edge and off-road costs; origin nodes only have out-arcs and target nodes only in-arcs,
so no route can pass through them.
"""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from basemaps.road_layer import RoadLayer
from routing.graph import ModeGraph
from routing.snap import Snap


def arc_graph(graph: ModeGraph, weight: str) -> nx.MultiDiGraph:
    """The arcs of ``graph`` as a networkx MultiDiGraph with ``w1`` / ``w2`` attributes."""
    w1, w2 = graph.weights(weight)
    tails = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(graph.node_count))
    g.add_edges_from(
        (int(t), int(h), {"w1": float(a), "w2": float(b)})
        for t, h, a, b in zip(tails, graph.arc_head, w1, w2, strict=True)
    )
    return g


def add_points(
    g: nx.MultiDiGraph, graph: ModeGraph, snap: Snap, weight: str, tag: str, leaving: bool
) -> list[tuple[str, int]]:
    """Add one virtual node per snapped point; ``leaving`` for origins, else targets."""
    costs = snap.leave_costs(graph, weight) if leaving else snap.arrive_costs(graph, weight)
    u1, u2, v1, v2 = costs
    names = []
    for i in range(len(snap)):
        name = (tag, i)
        names.append(name)
        g.add_node(name)
        e = snap.edge[i]
        for node, c1, c2 in ((graph.edge_u[e], u1[i], u2[i]), (graph.edge_v[e], v1[i], v2[i])):
            if np.isfinite(c1):
                if leaving:
                    g.add_edge(name, int(node), w1=float(c1), w2=float(c2))
                else:
                    g.add_edge(int(node), name, w1=float(c1), w2=float(c2))
    return names


def add_same_edge_links(
    g: nx.MultiDiGraph, graph: ModeGraph, origins: Snap, targets: Snap, weight: str
) -> None:
    """Direct links between an origin and a target snapped on the same edge."""
    e1, e2 = graph.edge_weights(weight)
    o1, o2 = origins.offroad_costs(graph, weight)
    t1, t2 = targets.offroad_costs(graph, weight)
    for i in range(len(origins)):
        for j in np.flatnonzero(targets.edge == origins.edge[i]):
            e = origins.edge[i]
            f, h = origins.frac[i], targets.frac[j]
            if (h >= f and (graph.edge_fwd_arc[e] >= 0 or h == f)) or (
                h <= f and graph.edge_bwd_arc[e] >= 0
            ):
                part = abs(h - f)
                g.add_edge(("o", i), ("t", int(j)), w1=float(o1[i] + part * e1[e] + t1[j]),
                           w2=float(o2[i] + part * e2[e] + t2[j]))


def reference_costs(
    graph: ModeGraph, origins: Snap, targets: Snap, weight: str, with_other: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Cost and other-measure matrices ``(n_origins, n_targets)`` by networkx (inf: none).

    ``with_other=False`` skips the paths (and leaves the other measure at ``nan``).
    """
    g = arc_graph(graph, weight)
    add_points(g, graph, origins, weight, "o", leaving=True)
    add_points(g, graph, targets, weight, "t", leaving=False)
    add_same_edge_links(g, graph, origins, targets, weight)
    cost = np.full((len(origins), len(targets)), np.inf)
    other = np.full_like(cost, np.inf)
    if not with_other:
        other[:] = np.nan
    for i in range(len(origins)):
        if with_other:
            dist, paths = nx.single_source_dijkstra(g, ("o", i), weight="w1")
        else:
            dist = nx.single_source_dijkstra_path_length(g, ("o", i), weight="w1")
        for j in range(len(targets)):
            if ("t", j) in dist:
                cost[i, j] = dist[("t", j)]
                if with_other:
                    other[i, j] = path_sum(g, paths[("t", j)])
    return cost, other


def path_sum(g: nx.MultiDiGraph, path: list[Any]) -> float:
    """Sum of ``w2`` along ``path``, taking the ``w1``-cheapest parallel arc each step."""
    total = 0.0
    for a, b in itertools.pairwise(path):
        best = min(g[a][b].values(), key=lambda d: (d["w1"], d["w2"]))
        total += best["w2"]
    return total


def random_layer(seed: int, n_side: int = 8, spacing_m: float = 120.0) -> RoadLayer:
    """A jittered grid with random classes, one-ways, access, maxspeed and lengths.

    Lengths are the straight length times a random factor, so no two routes tie.
    """
    rng = np.random.default_rng(seed)
    lon0, lat0 = 106.70, 10.78
    m_lon, m_lat = 111_320.0 * np.cos(np.radians(lat0)), 110_574.0
    cols, rows = np.meshgrid(np.arange(n_side), np.arange(n_side))
    x = cols.ravel() * spacing_m + rng.uniform(-30, 30, cols.size)
    y = rows.ravel() * spacing_m + rng.uniform(-30, 30, cols.size)
    lon, lat = lon0 + x / m_lon, lat0 + y / m_lat
    ids = np.arange(cols.size, dtype=np.int64) * 7 + 1000
    pairs = []
    for r in range(n_side):
        for c in range(n_side):
            i = r * n_side + c
            if c + 1 < n_side:
                pairs.append((i, i + 1))
            if r + 1 < n_side:
                pairs.append((i, i + n_side))
            if c + 1 < n_side and r + 1 < n_side and rng.random() < 0.15:
                pairs.append((i, i + n_side + 1))
    pairs_a = np.array(pairs)
    keep = rng.random(len(pairs_a)) > 0.1
    pairs_a = pairs_a[keep]
    # a few parallel ways between the same nodes
    extra = pairs_a[rng.random(len(pairs_a)) < 0.05]
    pairs_a = np.concatenate([pairs_a, extra])
    flip = rng.random(len(pairs_a)) < 0.5
    u = np.where(flip, pairs_a[:, 1], pairs_a[:, 0])
    v = np.where(flip, pairs_a[:, 0], pairs_a[:, 1])
    classes = np.array(["primary", "secondary", "tertiary", "residential", "service",
                        "footway", "motorway", "cycleway", "living_street", "steps"])
    highway = rng.choice(classes, len(u), p=[.12, .1, .1, .3, .12, .08, .06, .04, .05, .03])
    maxspeed = np.where(rng.random(len(u)) < 0.2, rng.choice([30.0, 50.0, 80.0], len(u)), np.nan)
    access = rng.choice(np.array(["", "private", "no", "destination"]), len(u),
                        p=[.85, .05, .05, .05])
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    geometry = shapely.linestrings(
        np.column_stack([lon[u], lat[u], lon[v], lat[v]]).reshape(-1, 2),
        indices=np.repeat(np.arange(len(u)), 2))
    edges = pd.DataFrame({
        "u": ids[u], "v": ids[v], "osm_id": np.arange(len(u), dtype=np.int64),
        "highway": highway.astype(object), "oneway": rng.random(len(u)) < 0.3,
        "maxspeed_kmh": maxspeed, "access": access.astype(object),
        "name": np.full(len(u), "", dtype=object),
        "length_m": straight * rng.uniform(1.0, 1.3, len(u)), "geometry": geometry,
    })
    nodes = pd.DataFrame({"node_id": ids, "lon": lon, "lat": lat})
    return RoadLayer(nodes=nodes, edges=edges, source=f"random seed={seed}")


def random_points(layer: RoadLayer | ModeGraph, rng: np.random.Generator, n: int,
                  spread_deg: float = 0.0008) -> np.ndarray:
    """Points near random nodes (of the graph's edges when given a graph), within ~90 m."""
    if isinstance(layer, ModeGraph):
        lonlat = layer.node_lonlat[np.unique(np.concatenate([layer.edge_u, layer.edge_v]))]
    else:
        lonlat = layer.nodes[["lon", "lat"]].to_numpy()
    base = lonlat[rng.integers(0, len(lonlat), n)]
    return base + rng.uniform(-spread_deg, spread_deg, (n, 2))


def oneway_street() -> RoadLayer:
    """Three nodes in a row, west to east: a one-way A->B->C street and nothing else."""
    import pandas as pd
    import shapely

    lon = np.array([106.700, 106.702, 106.704])
    lat = np.full(3, 10.78)
    nodes = pd.DataFrame({"node_id": [1, 2, 3], "lon": lon, "lat": lat})
    geoms = [shapely.LineString([(lon[0], lat[0]), (lon[1], lat[1])]),
             shapely.LineString([(lon[1], lat[1]), (lon[2], lat[2])])]
    edges = pd.DataFrame({
        "u": [1, 2], "v": [2, 3], "osm_id": [1, 1], "highway": ["residential"] * 2,
        "oneway": [True, True], "maxspeed_kmh": [np.nan, np.nan], "access": ["", ""],
        "name": ["Một Chiều", "Một Chiều"], "length_m": [218.6, 218.6], "geometry": geoms,
    })
    return RoadLayer(nodes=nodes, edges=edges, source="oneway test")
