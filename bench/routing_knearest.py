"""Benchmark: k nearest schools for many origins, against pandana and networkx.

Run ``python bench/routing_knearest.py`` (``--help`` for sizes). Prints one line per
figure, each ratio measured in the same run:

- generated city (``basemaps.demo_city.generate_road_layer``, ~250,000 nodes), 2,000
  schools, k=10 for 200,000 origins, by time, motorbike mode;
- the HCMC 2018 OSM road graph (motorbike), 200,000 origins sampled inside the
  districts, the 973 OSM 2018 schools inside them;
- pandana ``nearest_pois`` on the same arcs and weights (its contraction-hierarchy build
  timed separately), and networkx Dijkstra on a sample of origins (which also checks
  that our costs are exact).

pandana snaps points to the nearest *node* and searches nodes only; edugis snaps to the
nearest *edge* and counts partial edges, i.e. it does more work per origin.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from basemaps.demo_city import generate_road_layer  # noqa: E402
from basemaps.road_layer import RoadLayer  # noqa: E402
from basemaps.roads import read_roads  # noqa: E402
from routing import _grid  # noqa: E402
from routing.graph import ModeGraph, compile_graph  # noqa: E402
from routing.nearest import Targets, combine_labels, node_labels  # noqa: E402
from routing.snap import Snap, segment_grid, snap_points  # noqa: E402


def line(name: str, value: float, unit: str, note: str = "") -> None:
    """One figure per line: name, value, unit, and an optional note."""
    print(f"{name:<58s} {value:>12.3f} {unit:<6s} {note}", flush=True)


def hcmc_dir() -> Path:
    return Path(os.environ.get("EDUGIS_HCMC_DATA", REPO.parent / "shared" / "data" / "hcmc"))


def near_roads(graph: ModeGraph, rng: np.random.Generator, n: int,
               spread_m: float = 150.0) -> np.ndarray:
    """``n`` lon/lat points scattered around random road nodes of ``graph``."""
    used = np.unique(np.concatenate([graph.edge_u, graph.edge_v]))
    xy = graph.node_xy[rng.choice(used, n)] + rng.uniform(-spread_m, spread_m, (n, 2))
    lon, lat = graph.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def inside_districts(graph: ModeGraph, rng: np.random.Generator, n: int) -> tuple[np.ndarray, int]:
    """``n`` uniform points inside the HCMC districts and within 500 m of a road."""
    import geopandas as gpd

    districts = gpd.read_file(hcmc_dir() / "admin" / "hcmc_districts_2021_22units.geojson")
    area = shapely.union_all(districts.to_crs(graph.metric_epsg).geometry.to_numpy())
    x0, y0, x1, y1 = area.bounds
    grid = segment_grid(graph)
    kept: list[np.ndarray] = []
    tried = 0
    while sum(len(k) for k in kept) < n:
        xy = rng.uniform([x0, y0], [x1, y1], (n, 2))
        tried += n
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        seg, _, _ = _grid.nearest_segments(
            xy[:, 0], xy[:, 1], graph.edge_coords, grid.x0, grid.y0, grid.cell_m, grid.nx,
            grid.ny, grid.cell_indptr, grid.cell_segment, grid.seg_start, 500.0)
        kept.append(xy[seg >= 0])
    xy = np.concatenate(kept)[:n]
    lon, lat = graph.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat]), tried


def within_500m(graph: ModeGraph, lonlat: np.ndarray) -> np.ndarray:
    """Which points lie within 500 m of a road of the graph."""
    x, y = graph.to_metric().transform(lonlat[:, 0], lonlat[:, 1])
    grid = segment_grid(graph)
    seg, _, _ = _grid.nearest_segments(
        np.asarray(x), np.asarray(y), graph.edge_coords, grid.x0, grid.y0, grid.cell_m,
        grid.nx, grid.ny, grid.cell_indptr, grid.cell_segment, grid.seg_start, 500.0)
    return np.asarray(seg >= 0)


def edugis_k_nearest(graph: ModeGraph, origins: np.ndarray, schools: np.ndarray, k: int
                     ) -> tuple[dict[str, float], tuple[np.ndarray, ...], Snap, Snap]:
    """Seconds per stage (and ``total``), the ``(n, k)`` arrays, origin and school snaps."""
    stages: dict[str, float] = {}
    start = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = now - mark
        mark = now

    o_snap = snap_points(graph, origins[:, 0], origins[:, 1])
    lap("snap origins")
    s_snap = snap_points(graph, schools[:, 0], schools[:, 1])
    targets = Targets.from_snap(graph, s_snap, "time")
    lap("snap schools")
    labels = node_labels(graph, targets, k)
    lap("node labels")
    result = combine_labels(graph, o_snap, targets, labels, k)
    lap("combine")
    stages["total"] = time.perf_counter() - start
    return stages, result, o_snap, s_snap


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence pandana's C++ progress output (written straight to file descriptor 1)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def pandana_k_nearest(graph: ModeGraph, origins: np.ndarray, schools: np.ndarray, k: int,
                      maxdist_s: float) -> tuple[float, float, np.ndarray]:
    """(CH build seconds, query seconds, costs (n, k)) with pandana on the same arcs."""
    import pandana

    tails = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
    nodes = pd.DataFrame({"x": graph.node_xy[:, 0], "y": graph.node_xy[:, 1]})
    arcs = pd.DataFrame({"from": tails, "to": graph.arc_head, "time_s": graph.arc_time_s})
    with quiet_stdout():
        start = time.perf_counter()
        net = pandana.Network(nodes["x"], nodes["y"], arcs["from"], arcs["to"],
                              arcs[["time_s"]], twoway=False)
        build = time.perf_counter() - start
    to_xy = graph.to_metric()
    ox, oy = to_xy.transform(origins[:, 0], origins[:, 1])
    sx, sy = to_xy.transform(schools[:, 0], schools[:, 1])
    start = time.perf_counter()
    net.set_pois("schools", maxdist_s, k, pd.Series(sx), pd.Series(sy))
    per_node = net.nearest_pois(maxdist_s, "schools", num_pois=k)
    origin_nodes = net.get_node_ids(pd.Series(ox), pd.Series(oy))
    costs = per_node.loc[origin_nodes.to_numpy()].to_numpy()
    query = time.perf_counter() - start
    return build, query, costs


def add_min_edge(g: nx.DiGraph, a: object, b: object, weight: float) -> None:
    """Add ``a -> b`` or lower its weight (a loop edge joins a point to one node twice)."""
    if not g.has_edge(a, b) or g[a][b]["weight"] > weight:
        g.add_edge(a, b, weight=weight)


def networkx_sample(graph: ModeGraph, o_snap: Snap, s_snap: Snap, sample: np.ndarray,
                    kth_cost: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """networkx Dijkstra from each sampled origin, bounded by our k-th cost; its top-k."""
    tails = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        (int(a), int(b), float(w)) for a, b, w in zip(tails, graph.arc_head, graph.arc_time_s,
                                                      strict=True))
    # parallel arcs: DiGraph keeps the last one; reinsert the cheapest explicitly
    best: dict[tuple[int, int], float] = {}
    for a, b, w in zip(tails.tolist(), graph.arc_head.tolist(), graph.arc_time_s.tolist(),
                       strict=True):
        if w < best.get((a, b), np.inf):
            best[(a, b)] = w
    nx.set_edge_attributes(g, {key: {"weight": w} for key, w in best.items()})
    u1, _, v1, _ = s_snap.arrive_costs(graph, "time")
    for j in range(len(s_snap)):
        e = s_snap.edge[j]
        for node, c in ((graph.edge_u[e], u1[j]), (graph.edge_v[e], v1[j])):
            if np.isfinite(c):
                add_min_edge(g, int(node), ("s", j), float(c))
    ou1, _, ov1, _ = o_snap.leave_costs(graph, "time")
    e1, _ = graph.edge_weights("time")
    off_o, _ = o_snap.offroad_costs(graph, "time")
    off_s, _ = s_snap.offroad_costs(graph, "time")
    out = np.full((len(sample), k), np.inf)
    start = time.perf_counter()
    for row, i in enumerate(sample):
        name = ("o", int(i))
        e = o_snap.edge[i]
        for node, c in ((graph.edge_u[e], ou1[i]), (graph.edge_v[e], ov1[i])):
            if np.isfinite(c):
                add_min_edge(g, name, int(node), float(c))
        f = o_snap.frac[i]
        for j in np.flatnonzero(s_snap.edge == e):
            h = s_snap.frac[j]
            if (h >= f and graph.edge_fwd_arc[e] >= 0) or (h <= f and graph.edge_bwd_arc[e] >= 0):
                add_min_edge(g, name, ("s", int(j)), float(off_o[i] + abs(h - f) * e1[e]
                                                           + off_s[j]))
        dist = nx.single_source_dijkstra_path_length(g, name, cutoff=kth_cost[row] + 1e-6)
        found = sorted(d for key, d in dist.items() if isinstance(key, tuple) and key[0] == "s")
        out[row, : min(k, len(found))] = found[:k]
        g.remove_node(name)
    return time.perf_counter() - start, out


def run(label: str, layer: RoadLayer, origins_fn: str, n_origins: int, schools: np.ndarray | None,
        n_schools: int, k: int, nx_origins: int, maxdist_s: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    graph = compile_graph(layer, "motorbike")
    line(f"[{label}] compile motorbike graph", time.perf_counter() - start, "s",
         f"{graph.node_count} nodes, {graph.arc_count} directed edges")
    line(f"[{label}] graph memory per directed edge", graph.routing_nbytes() / graph.arc_count,
         "B", "target < 200; the arrays the searches read")
    everything = sum(a.nbytes for a in graph.array_fields().values())
    line(f"[{label}]   with node coordinates and edge geometry", everything / graph.arc_count,
         "B", "all arrays of the graph (snapping, drawing)")
    start = time.perf_counter()
    segment_grid(graph)
    line(f"[{label}] build snapping index (once per graph)", time.perf_counter() - start, "s")
    if origins_fn == "districts":
        origins, tried = inside_districts(graph, rng, n_origins)
        line(f"[{label}] origins sampled inside districts within 500 m of a road", n_origins,
             "pts", f"({tried} uniform draws)")
    else:
        origins = near_roads(graph, rng, n_origins)
    if schools is None:
        schools = near_roads(graph, rng, n_schools, spread_m=40.0)
    else:
        reach = within_500m(graph, schools)
        line(f"[{label}] schools within 500 m of a road", int(reach.sum()), "pts",
             f"of {len(schools)}")
        schools = schools[reach]
    # warm-up (JIT load) on a small input, then the timed run
    edugis_k_nearest(graph, origins[:100], schools, k)
    stages, (_, cost, _), o_snap, s_snap = edugis_k_nearest(graph, origins, schools, k)
    ours = stages.pop("total")
    complete = float(np.isfinite(cost[:, -1]).mean())
    line(f"[{label}] edugis k={k}, {len(origins)} origins x {len(schools)} schools", ours, "s",
         f"snap + search + combine; {complete:.1%} origins with {k} schools")
    line(f"[{label}]   of which", ours, "s",
         ", ".join(f"{name} {seconds:.3f}" for name, seconds in stages.items()))
    try:
        build, query, pcost = pandana_k_nearest(graph, origins, schools, k, maxdist_s)
    except ImportError as error:
        print(f"[{label}] pandana not available: {error}")
    else:
        p_complete = float((pcost[:, -1] < maxdist_s).mean())
        line(f"[{label}] pandana contraction-hierarchy build", build, "s")
        line(f"[{label}] pandana nearest_pois query (maxdist {maxdist_s:g} s)", query, "s",
             f"{p_complete:.1%} origins with {k} schools")
        line(f"[{label}] speed-up vs pandana query", query / ours, "x", "target >= 2")
        line(f"[{label}] speed-up vs pandana build + query", (build + query) / ours, "x",
             "target >= 20")
        # pandana snaps to the nearest node, edugis to the nearest edge: close, not equal
        both = np.isfinite(cost[:, 0]) & (pcost[:, 0] < maxdist_s)
        line(f"[{label}] median |edugis - pandana| nearest-school time",
             float(np.median(np.abs(cost[both, 0] - pcost[both, 0]))), "s",
             "same origins and k; node vs edge snapping")
    if nx_origins:
        sample = rng.choice(len(origins), min(nx_origins, len(origins)), replace=False)
        kth = np.where(np.isfinite(cost[sample, -1]), cost[sample, -1], 1e9)
        spent, want = networkx_sample(graph, o_snap, s_snap, sample, kth, k)
        per_origin_nx = spent / len(sample)
        line(f"[{label}] networkx Dijkstra, {len(sample)} origins (bounded by k-th cost)",
             spent, "s")
        line(f"[{label}] speed-up vs networkx per origin",
             per_origin_nx / (ours / len(origins)), "x")
        both = np.isfinite(want) & np.isfinite(cost[sample])
        worst = float(np.abs(want[both] - cost[sample][both]).max()) if both.any() else 0.0
        same = bool(np.array_equal(np.isfinite(want), np.isfinite(cost[sample])))
        line(f"[{label}] max |edugis - networkx| over sample", worst, "s",
             "exact" if worst < 1e-3 and same else "MISMATCH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=250_000)
    parser.add_argument("--origins", type=int, default=200_000)
    parser.add_argument("--schools", type=int, default=2_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--nx-origins", type=int, default=1_000)
    parser.add_argument("--maxdist-s", type=float, default=1200.0)
    parser.add_argument("--skip-hcmc", action="store_true")
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    import numba

    print(f"numba threads: {numba.get_num_threads()}, cpus: {os.cpu_count()}")
    if not args.skip_city:
        start = time.perf_counter()
        layer = generate_road_layer(args.nodes, seed=7)
        line("[city] generate road layer", time.perf_counter() - start, "s",
             f"{layer.node_count} nodes, {layer.edge_count} ways")
        run("city", layer, "near_roads", args.origins, None, args.schools, args.k,
            args.nx_origins, args.maxdist_s, seed=1)
    if not args.skip_hcmc:
        folder = hcmc_dir()
        if not (folder / "SOURCES.md").exists():
            print(f"[hcmc] skipped: no HCMC data at {folder} (set EDUGIS_HCMC_DATA)")
            return
        layer, _ = read_roads(folder / "roads" / "hcmc_osm_2018-01-01.osm.pbf")
        pois = pd.read_csv(folder / "schools" / "hcmc_osm2018_education_pois.csv")
        schools = pois[["lon", "lat"]].to_numpy(np.float64)
        run("hcmc", layer, "districts", args.origins, schools, len(schools), args.k,
            args.nx_origins, args.maxdist_s, seed=2)


if __name__ == "__main__":
    main()
