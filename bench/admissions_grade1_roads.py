"""Benchmark: a grade-1 round end to end with road distances (issue 4's 20 s target).

180,000 applicants, 1,000 primary schools on a generated city graph (the demo city's
generator, ~250,000 road nodes): snap every home, find its 10 nearest schools by motorbike
time (distance along the same path), build the problem, run deferred acceptance. The
graph is compiled first and not counted (it is cached on disk by basemap version).

Baseline in the same run: networkx's single-source Dijkstra per home for a 300-home sample
(the textbook way to get each home's nearest schools), extrapolated to all homes.

Run: ``.venv/bin/python bench/admissions_grade1_roads.py``
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pandas as pd

import routing
from admissions import allocate
from admissions.files import build_problem
from admissions.road_distance import RoadNetwork
from basemaps.demo_city import generate_road_layer

N_APPLICANTS, N_SCHOOLS, K, SEED = 180_000, 1_000, 10, 7


def main() -> None:
    rng = np.random.default_rng(SEED)
    layer = generate_road_layer(250_000, seed=SEED)
    started = time.perf_counter()
    graph = routing.build_graph(layer, "motorbike")
    print(f"graph: {layer.node_count} nodes, compiled or loaded in {time.perf_counter() - started:.2f} s")
    nodes = layer.nodes.sample(N_SCHOOLS + N_APPLICANTS, replace=True, random_state=SEED)
    school_xy = nodes.iloc[:N_SCHOOLS][["lon", "lat"]].to_numpy() + 0.0001
    homes = nodes.iloc[N_SCHOOLS:][["lon", "lat"]].to_numpy() + rng.normal(0, 0.0002, (N_APPLICANTS, 2))
    schools = pd.DataFrame({
        "code": [f"S{i:04d}" for i in range(N_SCHOOLS)], "name": [f"School {i}" for i in range(N_SCHOOLS)],
        "level": "primary", "ownership": "public", "lon": school_xy[:, 0], "lat": school_xy[:, 1],
        "capacity_grade1": pd.array(rng.integers(150, 200, N_SCHOOLS), dtype="Int64"),
        "capacity_grade6": pd.array([pd.NA] * N_SCHOOLS, dtype="Int64"),
        "capacity_grade10": pd.array([pd.NA] * N_SCHOOLS, dtype="Int64"),
    })
    applicants = pd.DataFrame({
        "applicant_id": [f"A{i:06d}" for i in range(N_APPLICANTS)],
        "lon": homes[:, 0], "lat": homes[:, 1],
        "tier": rng.choice([1, 2, 3], N_APPLICANTS, p=[0.7, 0.2, 0.1]),
    })

    started = time.perf_counter()
    source = RoadNetwork(graph, school_xy[:, 0], school_xy[:, 1])
    problem = build_problem(applicants, schools, 1, source, candidates=K)
    routed = time.perf_counter()
    routing_s = routed - started
    allocation = allocate(problem, "da", seed=SEED)
    total = time.perf_counter() - started
    print(f"routing + problem ({N_APPLICANTS} homes x {K} nearest of {N_SCHOOLS} schools): "
          f"{routed - started:.2f} s")
    print(f"deferred acceptance: {total - (routed - started):.2f} s; "
          f"placed {int(allocation.placed.sum())} of {N_APPLICANTS}")
    print(f"grade 1 end to end: {total:.2f} s (target < 20 s)")

    # baseline: networkx Dijkstra per home on the same mode graph, 300 homes
    g = nx.DiGraph()
    indptr, heads, cost = graph.arc_indptr, graph.arc_head, graph.arc_time_s
    tails = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    g.add_weighted_edges_from(zip(tails.tolist(), heads.tolist(), cost.tolist(), strict=True))
    snapped = routing.snap_points(graph, homes[:300, 0], homes[:300, 1])
    school_snap = routing.snap_points(graph, school_xy[:, 0], school_xy[:, 1])
    school_nodes = set(graph.edge_u[school_snap.edge].tolist())
    started = time.perf_counter()
    for node in graph.edge_u[snapped.edge]:
        lengths = nx.single_source_dijkstra_path_length(g, int(node), weight="weight")
        sorted(t for n, t in lengths.items() if n in school_nodes)[:K]
    per_home = (time.perf_counter() - started) / 300
    print(f"baseline networkx per home: {per_home * 1000:.1f} ms -> "
          f"{per_home * N_APPLICANTS:.0f} s for all homes")
    print(f"speed-up of the routing step vs networkx: {per_home * N_APPLICANTS / routing_s:.0f}x")


if __name__ == "__main__":
    main()
