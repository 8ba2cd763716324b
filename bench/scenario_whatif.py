"""Benchmark: a transport scenario edit to results, incremental graph against a full recompile.

Run ``python bench/scenario_whatif.py`` (``--help`` for sizes). For the demo city (a new
bridge across its river) and the HCMC 2018 OSM roads (the Thủ Thiêm 4 bridge of
``data/scenarios``, then Metro Line 1), motorbike mode, it prints:

- the base compile and the once-per-basemap preparation (snapping index, edge tree);
- *incremental*: :func:`routing.scenario_graph.scenario_graph` on the cached base graph,
  then the results (nearest-school time of every origin of a 300 m lattice over the
  roads' extent and the origin x school matrix within 15 min that 2SFCA reads);
- *full recompile*: :func:`routing.scenario_rebuild.full_rebuild` of the same network
  (the road layer edited and compiled from scratch), then the same results;
- the ratio, and whether both give equal costs (they must, to the last bit).

A metro line has no road-layer form, so it is timed incrementally only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from basemaps.demo_city import generate_road_layer  # noqa: E402
from basemaps.road_layer import RoadLayer  # noqa: E402
from basemaps.roads import read_roads  # noqa: E402
from routing.graph import ModeGraph, compile_graph  # noqa: E402
from routing.matrix import od_matrix  # noqa: E402
from routing.nearest import nearest_schools  # noqa: E402
from routing.scenario_edits import Edit, edits_from_geojson, read_geojson  # noqa: E402
from routing.scenario_graph import assemble, resolve_edits  # noqa: E402
from routing.scenario_rebuild import full_rebuild  # noqa: E402
from routing.snap import segment_grid, snap_within  # noqa: E402

T = TypeVar("T")


def line(name: str, value: float, unit: str, note: str = "") -> None:
    """One figure per line: name, value, unit, and an optional note."""
    print(f"{name:<62s} {value:>10.3f} {unit:<4s} {note}", flush=True)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def lattice(graph: ModeGraph, spacing_m: float) -> np.ndarray:
    """Lon/lat of a ``spacing_m`` lattice over the roads' extent, kept where near a road."""
    used = np.unique(np.concatenate([graph.edge_u, graph.edge_v]))
    low, high = graph.node_xy[used].min(axis=0), graph.node_xy[used].max(axis=0)
    xs = np.arange(low[0], high[0], spacing_m)
    ys = np.arange(low[1], high[1], spacing_m)
    xy = np.array(np.meshgrid(xs, ys)).reshape(2, -1).T
    lon, lat = graph.to_lonlat().transform(xy[:, 0], xy[:, 1])
    _, near = snap_within(graph, lon, lat, max_offroad_m=300.0)
    return np.column_stack([lon, lat])[near]


def results(graph: ModeGraph, origins: np.ndarray, schools: np.ndarray,
            wards: np.ndarray) -> tuple[np.ndarray, object]:
    """What a what-if computes on one graph: nearest-school times and the 2SFCA matrix."""
    table = nearest_schools(graph, origins, schools, list(range(len(schools))), k=1,
                            origin_ids=list(range(len(origins))))
    times = np.full(len(origins), np.inf)
    first = table[table["rank"] == 1]
    times[first["origin_id"].to_numpy(np.int64)] = first["time_s"].to_numpy()
    return times, od_matrix(graph, wards, schools, 15 * 60.0).time_s


def run(name: str, layer: RoadLayer, edits: list[Edit], metro: list[Edit], schools: np.ndarray,
        spacing_m: float) -> None:
    base, seconds = timed(lambda: compile_graph(layer, "motorbike"))
    line(f"{name}: base compile ({base.node_count:,} nodes, {base.edge_count:,} edges)",
         seconds, "s")
    _, seconds = timed(lambda: (segment_grid(base), resolve_edits(base, layer.edges, edits)))
    line(f"{name}: once per basemap (snapping index, edge tree)", seconds, "s")
    origins = lattice(base, spacing_m)
    rng = np.random.default_rng(1)
    wards = origins[rng.choice(len(origins), min(300, len(origins)), replace=False)]
    (before, _), seconds = timed(lambda: results(base, origins, schools, wards))
    line(f"{name}: results on the base ({len(origins):,} origins, {len(schools)} schools)",
         seconds, "s")

    def incremental() -> tuple[ModeGraph, tuple[np.ndarray, object]]:
        graph = assemble(resolve_edits(base, layer.edges, edits))
        return graph, results(graph, origins, schools, wards)

    def recompile() -> tuple[ModeGraph, tuple[np.ndarray, object]]:
        graph = full_rebuild(layer, resolve_edits(base, layer.edges, edits))
        return graph, results(graph, origins, schools, wards)

    (graph_i, (after_i, matrix_i)), t_inc = timed(incremental)
    (_, (after_f, matrix_f)), t_full = timed(recompile)
    _, t_graph = timed(lambda: assemble(resolve_edits(base, layer.edges, edits)))
    _, t_graph_full = timed(lambda: full_rebuild(layer, resolve_edits(base, layer.edges, edits)))
    line(f"{name}: edit -> scenario graph, incremental", t_graph, "s")
    line(f"{name}: edit -> scenario graph, full recompile", t_graph_full, "s",
         f"ratio {t_graph_full / t_graph:.1f}x")
    line(f"{name}: edit -> results, incremental", t_inc, "s")
    line(f"{name}: edit -> results, full recompile", t_full, "s")
    equal = bool(np.array_equal(after_i, after_f)
                 and (matrix_i != matrix_f).nnz == 0)  # type: ignore[attr-defined]
    line(f"{name}: full recompile / incremental", t_full / t_inc, "x",
         f"equal costs: {equal}")
    faster = np.isfinite(before) & (after_i < before - 1.0)
    line(f"{name}: origins faster by > 1 s (of {len(origins):,})", float(faster.sum()), "",
         f"median gain {np.median(before[faster] - after_i[faster]) if faster.any() else 0:.0f} s")
    if metro:
        (_, _), t_metro = timed(lambda: results(
            assemble(resolve_edits(base, layer.edges, [*edits, *metro])), origins, schools,
            wards))
        line(f"{name}: edit (+ metro line) -> results, incremental", t_metro, "s")
    del graph_i


def demo_edits(layer: RoadLayer) -> list[Edit]:
    from tests.support.scenarios import bridge_edit

    return [bridge_edit(layer)]


def hcmc_dir() -> Path:
    return Path(os.environ.get("EDUGIS_HCMC_DATA", REPO.parent / "shared" / "data" / "hcmc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing-m", type=float, default=300.0, help="origin lattice step")
    parser.add_argument("--skip-hcmc", action="store_true")
    args = parser.parse_args()

    demo = generate_road_layer()
    rng = np.random.default_rng(7)
    demo_schools = demo.nodes[["lon", "lat"]].to_numpy()[rng.choice(len(demo.nodes), 120,
                                                                    replace=False)]
    run("demo city", demo, demo_edits(demo), [], demo_schools, args.spacing_m)
    if args.skip_hcmc:
        return
    pbf = hcmc_dir() / "roads" / "hcmc_osm_2018-01-01.osm.pbf"
    if not pbf.exists():
        pbf = REPO / "data" / "hcmc" / "roads_2018-01-01.osm.pbf"
    layer, _ = read_roads(pbf)
    schools = pd.read_csv(REPO / "data" / "hcmc" / "schools.csv")[["lon", "lat"]].dropna()
    folder = REPO / "data" / "scenarios"
    bridge = edits_from_geojson(read_geojson(folder / "hcmc_thu_thiem_4_bridge.geojson"), "road")
    metro = edits_from_geojson(read_geojson(folder / "hcmc_metro_line1.geojson"), "metro")
    run("HCMC 2018", layer, bridge, metro, schools.to_numpy(np.float64), args.spacing_m)


if __name__ == "__main__":
    main()
