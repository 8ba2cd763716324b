"""Benchmark: isochrones, today's contour against the former buffer-and-union (issue 13.4).

Run ``.venv/bin/python bench/isochrone.py`` (``--help`` for sizes). For each city and mode,
the same random origins (points within 150 m of a road node) and the finder's minute
bands (10, 15, 20) go through

- ``old``: a faithful copy of the algorithm before issue 13.4 (each reached piece
  simplified, buffered 60 m with ``quad_segs=2``, ``shapely.union_all``, simplified);
- ``new``: :func:`routing.isochrones` (distance field and marching squares);

and the script prints p50/p95 of each and their ratio, then checks that both reach the
same road points: the pieces of both (exact costs, partial edges) lie on each other
(points every 10 m along one within 1 cm of the other), every such point is inside both
polygons, and the areas agree. Cities: the synthetic demo city of ``edugis demo
--synthetic`` (``generate_road_layer(60_000, seed=2026)``) and the HCMC 2018 OSM roads in
``/work/shared/data/hcmc`` (``EDUGIS_HCMC_DATA``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from basemaps.demo_city import generate_road_layer  # noqa: E402
from basemaps.road_layer import RoadLayer  # noqa: E402
from basemaps.roads import read_roads  # noqa: E402
from routing.graph import ModeGraph, compile_graph  # noqa: E402
from routing.isochrone import isochrones, reachable_pieces  # noqa: E402
from routing.path import search_from  # noqa: E402
from routing.snap import snap_points  # noqa: E402

MINUTES = (10, 15, 20)  # web/static/js/finder.js reach()


# ---- the former algorithm, as routing/isochrone.py had it before issue 13.4 ----------

def old_reachable_pieces(graph: ModeGraph, dist_s: np.ndarray, budget_s: float,
                         start_edge: int, start_frac: float,
                         start_offroad_s: float) -> np.ndarray:
    """Metric LineStrings of every road piece reachable within ``budget_s`` (former code)."""
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


def old_isochrones(graph: ModeGraph, lon: float, lat: float,
                   minutes: Sequence[float] = MINUTES, *, buffer_m: float = 60.0,
                   simplify_m: float = 5.0, max_offroad_m: float = 500.0) -> dict[str, Any]:
    """Isochrone polygons as a GeoJSON FeatureCollection (former code)."""
    limits = sorted({float(m) for m in minutes}, reverse=True)
    start = snap_points(graph, [lon], [lat], max_offroad_m=max_offroad_m, source="isochrone",
                        labels=["start"])
    dist_s, _, _ = search_from(graph, start, "time", cutoff=limits[0] * 60.0)
    offroad_s = float(start.offroad_costs(graph, "time")[0][0])
    to_lonlat = graph.to_lonlat()

    def feature(limit: float) -> dict[str, Any]:
        pieces = old_reachable_pieces(graph, dist_s, limit * 60.0, int(start.edge[0]),
                                      float(start.frac[0]), offroad_s)
        if simplify_m > 0:
            pieces = shapely.simplify(pieces, simplify_m)
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

    return {"type": "FeatureCollection", "features": [feature(limit) for limit in limits]}


# ---- measurement -----------------------------------------------------------------------

def line(name: str, value: float, unit: str, note: str = "") -> None:
    """One figure per line: name, value, unit, and an optional note."""
    print(f"{name:<52s} {value:>10.3f} {unit:<4s} {note}", flush=True)


def origins(graph: ModeGraph, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` lon/lat points within 150 m (per axis) of random road nodes."""
    used = np.unique(np.concatenate([graph.edge_u, graph.edge_v]))
    xy = graph.node_xy[rng.choice(used, n)] + rng.uniform(-150, 150, (n, 2))
    lon, lat = graph.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def timed(call: Callable[..., dict[str, Any]], graph: ModeGraph, lon: float,
          lat: float) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    result = call(graph, lon, lat, MINUTES)
    return time.perf_counter() - start, result


def road_points(pieces: np.ndarray) -> np.ndarray:
    """Points every 10 m (and every vertex) along the pieces, metric."""
    return np.asarray(shapely.get_coordinates(shapely.segmentize(pieces, 10.0)))


def same_reach(graph: ModeGraph, lon: float, lat: float, old: dict[str, Any],
               new: dict[str, Any]) -> tuple[bool, list[float]]:
    """Whether old and new reach the same road points; new/old area per band."""
    start = snap_points(graph, [lon], [lat])
    dist_s, _, _ = search_from(graph, start, "time", cutoff=max(MINUTES) * 60.0)
    offroad_s = float(start.offroad_costs(graph, "time")[0][0])
    to_metric = graph.to_metric()
    ok, ratios = True, []
    for f_old, f_new in zip(old["features"], new["features"], strict=True):
        budget = f_old["properties"]["minutes"] * 60.0
        args = (int(start.edge[0]), float(start.frac[0]), offroad_s)
        old_pieces = old_reachable_pieces(graph, dist_s, budget, *args)
        new_pieces = reachable_pieces(graph, dist_s, budget, *args)
        for these, those in ((old_pieces, new_pieces), (new_pieces, old_pieces)):
            points = shapely.points(road_points(these))
            tree = shapely.STRtree(those)
            found = np.unique(tree.query(points, predicate="dwithin", distance=0.01)[0])
            ok &= len(found) == len(points)
        xy = road_points(new_pieces)
        for feature in (f_old, f_new):
            area = shapely.transform(shapely.geometry.shape(feature["geometry"]),
                                     lambda c: np.column_stack(to_metric.transform(
                                         c[:, 0], c[:, 1])))
            shapely.prepare(area)
            ok &= bool(shapely.contains_xy(area, xy[:, 0], xy[:, 1]).all())
        ratios.append(f_new["properties"]["area_km2"] / f_old["properties"]["area_km2"])
    return ok, ratios


def run(city: str, layer: RoadLayer, modes: Sequence[str], n: int, seed: int,
        skip_old: bool) -> None:
    for mode in modes:
        graph = compile_graph(layer, mode)
        points = origins(graph, np.random.default_rng(seed), n)
        isochrones(graph, *points[0], MINUTES)  # numba kernels load or compile once
        old_isochrones(graph, *points[0], MINUTES)
        new_s, old_s, agree, ratios = [], [], 0, []
        for lon, lat in points:
            seconds, new = timed(isochrones, graph, lon, lat)
            new_s.append(seconds)
            if skip_old:
                continue
            seconds, old = timed(old_isochrones, graph, lon, lat)
            old_s.append(seconds)
            same, band_ratios = same_reach(graph, lon, lat, old, new)
            agree += same
            ratios += band_ratios
        tag = f"[{city}] {mode}"
        for name, values in (("new", new_s), ("old", old_s)):
            if values:
                line(f"{tag} {name} p50", float(np.percentile(values, 50)), "s",
                     f"{len(values)} origins, minutes {MINUTES}")
                line(f"{tag} {name} p95", float(np.percentile(values, 95)), "s")
        if old_s:
            line(f"{tag} old/new p50", np.percentile(old_s, 50) / np.percentile(new_s, 50), "x")
            line(f"{tag} old/new p95", np.percentile(old_s, 95) / np.percentile(new_s, 95), "x")
            line(f"{tag} same road points", agree, "of", f"{len(points)} origins")
            line(f"{tag} area new/old min", min(ratios), "", f"max {max(ratios):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=50)
    parser.add_argument("--modes", default="motorbike,bicycle,walk")
    parser.add_argument("--skip-old", action="store_true", help="time the new code only")
    parser.add_argument("--skip-hcmc", action="store_true")
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if not args.skip_city:
        run("demo city", generate_road_layer(60_000, seed=2026), modes, args.origins, 1,
            args.skip_old)
    if not args.skip_hcmc:
        folder = Path(os.environ.get("EDUGIS_HCMC_DATA", REPO.parent / "shared" / "data" / "hcmc"))
        if not (folder / "SOURCES.md").exists():
            print(f"[hcmc] skipped: no HCMC data at {folder} (set EDUGIS_HCMC_DATA)")
            return
        layer, _ = read_roads(folder / "roads" / "hcmc_osm_2018-01-01.osm.pbf")
        run("hcmc", layer, modes, args.origins, 2, args.skip_old)


if __name__ == "__main__":
    main()
