"""Read road networks (OSM PBF / XML, osmnx GraphML) into a :class:`RoadLayer`."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Geod
from shapely import LineString, Polygon, linestrings

from basemaps._osm_tags import NOT_ROADS, combine_access, oneway_direction, parse_maxspeed
from basemaps.road_layer import RoadLayer
from gis_service.errors import InputError, Problem

_GEOD = Geod(ellps="WGS84")


@dataclass
class ReadStats:
    """What a reader saw, for the import report."""

    ways_with_highway: int = 0
    ways_kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


#: Endings of road files drawn as GIS lines (the city basemap), read by
#: :func:`basemaps.road_lines.read_road_lines`.
LINE_FILE_ENDINGS = (".gpkg", ".shp", ".geojson", ".json", ".fgb")


def is_line_file(path: str | Path) -> bool:
    """Return whether ``path`` is a GIS line file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)."""
    return Path(path).name.lower().endswith(LINE_FILE_ENDINGS)


def read_roads(path: str | Path) -> tuple[RoadLayer, ReadStats]:
    """Read a road file by its extension.

    The extensions are ``.osm.pbf``/``.pbf``, ``.osm``/``.xml``, ``.graphml[.gz]``, or GIS
    lines (``.gpkg``, ``.shp``, ``.geojson``, ``.fgb``) with OSM classes in ``highway`` and a
    declared CRS, where any bad feature is an error (the import command offers the class
    mapping, the CRS and ``--skip-invalid``).
    """
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise InputError(Problem(str(path), None, None, "file not found"))
    if name.endswith((".graphml", ".graphml.gz")):
        return _read_graphml(path)
    if name.endswith((".pbf", ".osm", ".xml", ".osm.gz", ".osm.bz2")):
        return _read_osm(path)
    if is_line_file(path):
        from basemaps.road_lines import read_road_lines

        layer, stats, problems = read_road_lines(path)
        if problems:
            raise InputError(problems)
        return layer, stats
    raise InputError(Problem(str(path), None, None,
                             "unknown road file type (expected .osm.pbf, .osm, .graphml[.gz], "
                             ".gpkg, .shp, .geojson)"))


# ---- OSM PBF / XML ------------------------------------------------------------------------


def _read_osm(path: Path) -> tuple[RoadLayer, ReadStats]:
    import osmium

    stats = ReadStats()
    way_nodes: list[np.ndarray] = []
    way_lon: list[np.ndarray] = []
    way_lat: list[np.ndarray] = []
    attrs: list[tuple[int, str, int, float, str, str]] = []
    addresses = _Addresses()
    processor = (
        osmium.FileProcessor(str(path)).with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "addr:housenumber"))
    )
    try:
        for obj in processor:
            tags = dict(obj.tags)
            if "addr:housenumber" in tags:
                addresses.add(obj, tags)
            if not isinstance(obj, osmium.osm.Way) or "highway" not in tags:
                continue
            stats.ways_with_highway += 1
            highway = tags["highway"]
            if highway in NOT_ROADS or tags.get("area") == "yes":
                stats.skipped[highway if highway in NOT_ROADS else "area"] = (
                    stats.skipped.get(highway if highway in NOT_ROADS else "area", 0) + 1)
                continue
            refs = [(n.ref, n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if len(refs) < 2:
                stats.skipped["no_location"] = stats.skipped.get("no_location", 0) + 1
                continue
            array = np.array(refs, dtype=np.float64)
            direction = oneway_direction(tags)
            if direction == -1:
                array = array[::-1]
            way_nodes.append(array[:, 0].astype(np.int64))
            way_lon.append(array[:, 1])
            way_lat.append(array[:, 2])
            attrs.append((obj.id, highway, direction, parse_maxspeed(tags.get("maxspeed")),
                          combine_access(tags), tags.get("name", "")))
    except RuntimeError as exc:
        raise InputError(Problem(str(path), None, None, f"not a readable OSM file: {exc}")) from exc
    stats.ways_kept = len(attrs)
    if not attrs:
        raise InputError(Problem(str(path), None, "highway", "no roads (ways with highway=*)",
                                 reason_vi="không có đường nào (way có highway=*)"))
    layer = _split_ways(way_nodes, way_lon, way_lat, attrs, source=str(path))
    layer.addresses = addresses.frame()
    return layer, stats


class _Addresses:
    """Collect the OSM house numbers: nodes at their point, ways at their centroid.

    Only those with both ``addr:housenumber`` and ``addr:street`` are kept (a number alone
    names no address).
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, float]] = []

    def add(self, obj: Any, tags: dict[str, str]) -> None:
        """Keep ``obj`` (an osmium node or way) if it is a whole address with a location."""
        number, street = tags["addr:housenumber"].strip(), tags.get("addr:street", "").strip()
        if not number or not street:
            return
        if hasattr(obj, "location"):
            if obj.location.valid():
                self.rows.append((number, street, obj.location.lon, obj.location.lat))
            return
        if hasattr(obj, "nodes"):
            points = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if points:
                centre = _centroid(points)
                self.rows.append((number, street, centre[0], centre[1]))

    def frame(self) -> pd.DataFrame:
        """Return the addresses as ``housenumber, street, lon, lat``."""
        return pd.DataFrame(self.rows, columns=["housenumber", "street", "lon", "lat"])


def _centroid(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the centroid of a way: of its area when closed, else of its line (or point)."""
    if len(points) >= 4 and points[0] == points[-1]:
        centre = Polygon(points).centroid
    elif len(points) >= 2:
        centre = LineString(points).centroid
    else:
        return points[0]
    return (centre.x, centre.y) if not centre.is_empty else points[0]


def _split_ways(
    way_nodes: list[np.ndarray],
    way_lon: list[np.ndarray],
    way_lat: list[np.ndarray],
    attrs: list[tuple[int, str, int, float, str, str]],
    source: str,
) -> RoadLayer:
    """Split ways at shared nodes and endpoints into graph edges with geometry and length."""
    all_nodes = np.concatenate(way_nodes)
    ids, counts = np.unique(all_nodes, return_counts=True)
    is_graph_node = set(ids[counts > 1].tolist())
    for nodes in way_nodes:
        is_graph_node.add(int(nodes[0]))
        is_graph_node.add(int(nodes[-1]))

    rows_u: list[int] = []
    rows_v: list[int] = []
    rows_way: list[int] = []
    pieces: list[np.ndarray] = []
    for way_index, (nodes, lon, lat) in enumerate(zip(way_nodes, way_lon, way_lat, strict=True)):
        start = 0
        for i in range(1, len(nodes)):
            if int(nodes[i]) in is_graph_node or i == len(nodes) - 1:
                if not (i - start == 1 and nodes[i] == nodes[start]):  # skip zero-length loops
                    rows_u.append(int(nodes[start]))
                    rows_v.append(int(nodes[i]))
                    rows_way.append(way_index)
                    pieces.append(np.column_stack([lon[start:i + 1], lat[start:i + 1]]))
                start = i
    geometry = linestrings(np.concatenate(pieces), indices=np.repeat(
        np.arange(len(pieces)), [len(p) for p in pieces]))
    way = np.asarray(rows_way)
    meta = pd.DataFrame(attrs, columns=["osm_id", "highway", "direction", "maxspeed_kmh",
                                        "access", "name"]).iloc[way].reset_index(drop=True)
    edges = pd.DataFrame({
        "u": np.asarray(rows_u, dtype=np.int64),
        "v": np.asarray(rows_v, dtype=np.int64),
        "osm_id": meta["osm_id"].to_numpy(np.int64),
        "highway": meta["highway"].to_numpy(object),
        "oneway": meta["direction"].to_numpy() != 0,
        "maxspeed_kmh": meta["maxspeed_kmh"].to_numpy(np.float64),
        "access": meta["access"].to_numpy(object),
        "name": meta["name"].to_numpy(object),
        "length_m": lengths_m(pieces),
        "geometry": geometry,
    })
    node_ids = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    coords = _node_coordinates(way_nodes, way_lon, way_lat, node_ids)
    nodes_df = pd.DataFrame({"node_id": node_ids, "lon": coords[:, 0], "lat": coords[:, 1]})
    return RoadLayer(nodes=nodes_df, edges=edges, source=source)


def lengths_m(pieces: list[np.ndarray]) -> np.ndarray:
    """Geodesic length of each polyline, vectorised over all segments at once."""
    return run_lengths_m(np.concatenate(pieces), np.array([len(p) for p in pieces]))


def run_lengths_m(points: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Geodesic length of polylines given as consecutive runs of ``sizes`` lon/lat points."""
    ends = np.cumsum(sizes)
    valid = np.ones(len(points) - 1, dtype=bool)
    valid[ends[:-1] - 1] = False  # segments that would join two pieces
    _, _, seg = _GEOD.inv(points[:-1, 0], points[:-1, 1], points[1:, 0], points[1:, 1])
    seg = np.where(valid, seg, 0.0)
    cumulative = np.concatenate([[0.0], np.cumsum(seg)])
    starts = ends - sizes
    return np.asarray(cumulative[ends - 1] - cumulative[starts], dtype=np.float64)


def _node_coordinates(
    way_nodes: list[np.ndarray], way_lon: list[np.ndarray], way_lat: list[np.ndarray],
    node_ids: np.ndarray,
) -> np.ndarray:
    ids = np.concatenate(way_nodes)
    lonlat = np.column_stack([np.concatenate(way_lon), np.concatenate(way_lat)])
    order = np.argsort(ids, kind="stable")
    position = np.searchsorted(ids[order], node_ids)
    return np.asarray(lonlat[order[position]])


# ---- osmnx GraphML ------------------------------------------------------------------------


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _read_graphml(path: Path) -> tuple[RoadLayer, ReadStats]:
    import osmnx as ox

    if path.name.lower().endswith(".gz"):
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / path.name[:-3]
            with gzip.open(path, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            graph = ox.load_graphml(plain)
    else:
        graph = ox.load_graphml(path)
    if graph.graph.get("crs") and "4326" not in str(graph.graph["crs"]):
        from gis_service.errors import CRSError

        raise CRSError(f"{path}: GraphML in {graph.graph['crs']}; edugis reads lon/lat graphs")
    stats = ReadStats()
    records: list[tuple[Any, ...]] = []
    unmatched: Counter[tuple[int, int]] = Counter()
    for u, v, _key, data in graph.edges(keys=True, data=True):
        oneway = bool(data.get("oneway", False))
        if not oneway:
            # osmnx stores a two-way road as two arcs; keep the first, drop its reverse twin
            if unmatched[(v, u)] > 0:
                unmatched[(v, u)] -= 1
                continue
            unmatched[(u, v)] += 1
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                               (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        name = data.get("name", "")
        records.append((
            int(u), int(v), int(_first(data.get("osmid", 0)) or 0),
            str(_first(data.get("highway", "road"))), oneway,
            parse_maxspeed(data.get("maxspeed")), str(_first(data.get("access", "")) or ""),
            "; ".join(name) if isinstance(name, list) else str(name or ""),
            float(data.get("length", 0.0)), geom,
        ))
    stats.ways_with_highway = stats.ways_kept = len(records)
    if not records:  # an empty graph would replace the basemap by nothing
        raise InputError(Problem(str(path), None, None, "no roads: the graph has no edges",
                                 reason_vi="không có đường nào: đồ thị không có cạnh nào"))
    edges = pd.DataFrame(records, columns=["u", "v", "osm_id", "highway", "oneway", "maxspeed_kmh",
                                           "access", "name", "length_m", "geometry"])
    nodes = pd.DataFrame(
        [(int(n), float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True)],
        columns=["node_id", "lon", "lat"],
    )
    return RoadLayer(nodes=nodes, edges=edges, source=str(path)), stats


def directed_edge_count(layer: RoadLayer) -> int:
    """Count the directed arcs: one per one-way edge, two per two-way edge."""
    oneway = layer.edges["oneway"].to_numpy(bool)
    return int(oneway.sum() + 2 * (~oneway).sum())

