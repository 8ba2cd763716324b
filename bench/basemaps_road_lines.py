"""Noding a road basemap drawn as GIS lines: edugis against shapely's overlay noding.

The whole-city HCMC 2018 OSM roads are drawn as a basemap would hold them: one line per
OSM way (its graph edges merged back), in VN-2000 (EPSG:9210 through EPSG:6960), in a
GeoPackage. Then, in the same run:

- edugis: ``basemaps.road_lines.read_road_lines`` (read, reproject, node at shared vertices
  within 0.5 m, split, lengths); checked against the graph the lines were drawn from (same
  nodes and edges);
- baseline: the usual GIS recipe, ``shapely.union_all`` of every line (an overlay that nodes
  every crossing, flyovers included) and the end points of its pieces as nodes, on the same
  lines already read and reprojected (so the baseline is not charged for the file).

Usage: ``.venv/bin/python bench/basemaps_road_lines.py`` (real data from EDUGIS_HCMC_DATA or
../shared/data/hcmc).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from basemaps.road_layer import RoadLayer  # noqa: E402
from basemaps.road_lines import read_road_lines  # noqa: E402
from basemaps.roads import read_roads  # noqa: E402
from gis_service.crs import from_storage  # noqa: E402

HCMC = Path(os.environ.get("EDUGIS_HCMC_DATA", REPO.parent / "shared" / "data" / "hcmc"))


def line(name: str, value: float, unit: str, note: str = "") -> None:
    print(f"{name:<56s} {value:>12.3f} {unit:<6s} {note}", flush=True)


def ways_as_lines(path: Path) -> tuple[gpd.GeoDataFrame, RoadLayer]:
    """One LineString per OSM way of the PBF (its edges merged), with its attributes, in
    EPSG:9210; and the graph layer they were drawn from."""
    layer, _ = read_roads(path)
    edges = layer.edges
    rows = []
    # the reader splits each way in order, so a way's edges follow each other: joined end
    # to end they give back the way as drawn (rings keep their first vertex)
    for osm_id, group in edges.groupby("osm_id", sort=False):
        coords = [shapely.get_coordinates(g) for g in group["geometry"]]
        joined = np.concatenate([coords[0], *(c[1:] for c in coords[1:])])
        first = group.iloc[0]
        rows.append({"osm_id": osm_id, "highway": first["highway"],
                     "oneway": "yes" if first["oneway"] else "no", "name": first["name"],
                     "geometry": shapely.LineString(joined)})
    print(f"{layer.node_count} graph nodes, {layer.edge_count} edges -> {len(rows)} lines")
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    vn2000 = shapely.transform(frame.geometry.to_numpy(), lambda c: np.column_stack(
        from_storage(c[:, 0], c[:, 1], "EPSG:9210")))
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=vn2000, crs="EPSG:9210"), layer


def junction_differences(source: RoadLayer, noded: RoadLayer) -> tuple[int, int]:
    """Nodes of ``source`` with no node of ``noded`` within 5 cm, and the other way round."""
    from scipy.spatial import cKDTree

    scale = [111_320 * np.cos(np.radians(10.8)), 110_574]
    a = source.nodes[["lon", "lat"]].to_numpy() * scale
    b = noded.nodes[["lon", "lat"]].to_numpy() * scale
    return (int((cKDTree(b).query(a)[0] > 0.05).sum()),
            int((cKDTree(a).query(b)[0] > 0.05).sum()))


def overlay_noding(lines: np.ndarray) -> tuple[int, int]:
    """Nodes and edges of the union of ``lines`` (shapely's overlay noding)."""
    pieces = shapely.get_parts(shapely.union_all(lines))
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, 0)),
                           shapely.get_coordinates(shapely.get_point(pieces, -1))])
    return len(np.unique(np.round(ends, 3), axis=0)), len(pieces)


def main() -> None:
    pbf = HCMC / "roads" / "hcmc_osm_2018-01-01.osm.pbf"
    if not pbf.exists():
        print(f"skipped: no HCMC data at {HCMC} (set EDUGIS_HCMC_DATA)")
        return
    frame, source = ways_as_lines(pbf)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hcmc_roads_vn2000.gpkg"
        frame.to_file(path)
        line("GeoPackage written (EPSG:9210)", path.stat().st_size / 1e6, "MB", f"{len(frame)} lines")
        read_road_lines(path)  # warm-up: imports, PROJ database
        start = time.perf_counter()
        layer, _, problems = read_road_lines(path)
        ours = time.perf_counter() - start
        exact, _, _ = read_road_lines(path, tolerance_m=0.001)
    line("edugis read_road_lines (read, reproject, node, split)", ours, "s",
         f"{layer.node_count} nodes, {layer.edge_count} edges, {len(problems)} problems")
    line("  graph it was drawn from", source.node_count, "nodes", f"{source.edge_count} edges")
    missing, extra = junction_differences(source, exact)
    line("  its junctions not found (1 mm tolerance)", missing, "nodes",
         "exact" if missing == 0 else "MISMATCH")
    line("  junctions found besides", extra, "nodes",
         "two OSM ways meeting at distinct nodes of one position (a shared vertex in GIS)")
    line("  merged by the 0.5 m tolerance", exact.node_count - layer.node_count, "nodes",
         "vertices of different ways closer than 0.5 m")
    lonlat = gpd.GeoDataFrame(geometry=frame.geometry, crs="EPSG:9210").to_crs(32648).geometry
    start = time.perf_counter()
    nodes, edges = overlay_noding(lonlat.to_numpy())
    baseline = time.perf_counter() - start
    line("baseline shapely.union_all noding (lines in memory)", baseline, "s",
         f"{nodes} nodes, {edges} edges (every crossing noded, flyovers too)")
    line("speed-up vs the union_all baseline", baseline / ours, "x")


if __name__ == "__main__":
    main()
