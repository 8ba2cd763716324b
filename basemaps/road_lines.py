"""Read a road layer drawn as GIS lines (the environment department's basemap) into a
:class:`RoadLayer`.

The city's basemap arrives as a GeoPackage, Shapefile or GeoJSON of road centre lines in
VN-2000 (EPSG:9210), not as a graph: nothing says where two roads meet. Lines are noded
here: vertices of different lines closer than ``tolerance_m`` (default 0.5 m) are one
point, every line end is a node, and so is every interior vertex that another line passes
through or ends at; lines are split at their nodes. Only vertices meet: two roads that cross
without a shared vertex (a flyover) stay unconnected, as they should, and so does a line
that ends on another between two of its vertices (the basemap must carry the vertex there).

Attributes come from columns (all optional except the class):

- ``highway``: the road class as an OSM value (``primary``, ``residential``, ...), or any
  column given as ``class_field`` whose values ``class_map`` translates (``Quốc lộ`` ->
  ``trunk``...). A class edugis does not know is a problem naming the row;
- ``oneway``: ``yes``/``true``/``1`` (along the drawing), ``-1``/``reverse`` (against it),
  anything else or missing: both ways;
- ``maxspeed``: km/h; ``name``; ``access``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from basemaps._frames import read_vector
from basemaps.boundaries import REASONS as BOUNDARY_REASONS
from basemaps.boundaries import in_vietnam
from basemaps.road_layer import RoadLayer
from basemaps.roads import NOT_ROADS, ReadStats, lengths_m, oneway_direction, parse_maxspeed
from gis_service.errors import InputError, Problem

#: Vertices closer than this (metres) are one point: digitising noise at a junction.
DEFAULT_TOLERANCE_M = 0.5
#: The OSM highway values of roads and paths (every class a travel mode has a speed for;
#: a test keeps the two lists together).
KNOWN_CLASSES = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "road",
    "living_street", "service", "track", "pedestrian", "footway", "cycleway", "path", "steps",
    "bridleway", "corridor",
})

REASONS: dict[str, tuple[str, str]] = {
    "no_class_column": ("không có cột loại đường {column!r} (các cột: {columns})",
                        "no road class column {column!r} (columns: {columns})"),
    "unknown_class": ("loại đường {value!r} không rõ; dùng giá trị OSM ({known}) hoặc --class-map",
                      "unknown road class {value!r}; use an OSM value ({known}) or --class-map"),
    "not_a_line": ("hình học bị thiếu, rỗng hoặc không phải đường", "missing, empty or not a line"),
    "outside_vietnam": BOUNDARY_REASONS["outside_vietnam"],
    "bad_maxspeed": ("tốc độ tối đa {value!r} không phải số km/h",
                     "maxspeed {value!r} is not a number of km/h"),
    "no_roads": ("không có đường nào dùng được", "no usable road"),
}


def read_road_lines(
    path: str | Path,
    crs: str | None = None,
    *,
    class_field: str = "highway",
    class_map: Mapping[str, str] | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> tuple[RoadLayer, ReadStats, list[Problem]]:
    """Read and node the road lines of ``path``; the layer, what was read, and the problems
    of the features left out (1-based feature numbers).

    Raises
    ------
    InputError
        When the file cannot be read, has no class column, or no usable road is left.
    gis_service.errors.CRSError
        When the file declares no CRS and none is given, or the two disagree.
    """
    path = Path(path)
    if not tolerance_m > 0:
        raise ValueError("the noding tolerance must be a positive number of metres")
    frame = read_vector(path, crs)
    if class_field not in frame.columns:
        raise InputError(Problem.of(str(path), None, class_field, REASONS["no_class_column"],
                                    column=class_field,
                                    columns=", ".join(c for c in frame.columns if c != "geometry")))
    translate = {str(k).strip().casefold(): v for k, v in (class_map or {}).items()}
    stats = ReadStats(ways_with_highway=len(frame))
    problems: list[Problem] = []
    lines: list[np.ndarray] = []  # lon/lat vertices of each kept line, along travel
    attrs: list[tuple[int, str, int, float, str, str]] = []
    for index, record in enumerate(frame.to_dict("records"), start=1):
        raw_class = "" if _missing(record.get(class_field)) else str(record[class_field]).strip()
        highway = translate.get(raw_class.casefold(), raw_class)
        if highway in NOT_ROADS:
            stats.skipped[highway] = stats.skipped.get(highway, 0) + 1
            continue
        if highway not in KNOWN_CLASSES:
            problems.append(Problem.of(str(path), index, class_field, REASONS["unknown_class"],
                                       value=raw_class, known=", ".join(sorted(KNOWN_CLASSES))))
            continue
        parts = _line_parts(record.get("geometry"))
        if not parts:
            problems.append(Problem.of(str(path), index, "geometry", REASONS["not_a_line"]))
            continue
        lon, lat = parts[0][0]
        if not in_vietnam(lon, lat):
            problems.append(Problem.of(str(path), index, "geometry", REASONS["outside_vietnam"],
                                       lon=lon, lat=lat))
            continue
        maxspeed = parse_maxspeed(None if _missing(record.get("maxspeed")) else record["maxspeed"])
        if not _missing(record.get("maxspeed")) and np.isnan(maxspeed):
            problems.append(Problem.of(str(path), index, "maxspeed", REASONS["bad_maxspeed"],
                                       value=record["maxspeed"]))
            continue
        # only the column decides: OSM's implied one-way motorways do not apply to a
        # basemap that draws each carriageway as it is
        direction = oneway_direction({"oneway": _text(record.get("oneway")).lower()})
        for coords in parts:
            lines.append(coords[::-1] if direction == -1 else coords)
            attrs.append((index, highway, direction, maxspeed, _text(record.get("access")),
                          _text(record.get("name"))))
    stats.ways_kept = len({a[0] for a in attrs})
    if not lines:
        raise InputError(Problem.of(str(path), None, None, REASONS["no_roads"]))
    layer = node_lines(lines, attrs, tolerance_m=tolerance_m, source=str(path))
    return layer, stats, problems


def node_lines(
    lines: list[np.ndarray],
    attrs: list[tuple[int, str, int, float, str, str]],
    *,
    tolerance_m: float,
    source: str,
) -> RoadLayer:
    """Split lon/lat polylines at their junctions into a :class:`RoadLayer`.

    ``attrs`` holds per line ``(feature number, highway, direction, maxspeed_kmh, access,
    name)``. Node ids number the junction points in the order of their coordinates, so
    the same file always gives the same ids (and the same layer version). Distances are
    measured in the WGS84 UTM zone of the lines.
    """
    sizes = np.array([len(c) for c in lines])
    lonlat = np.concatenate(lines)
    zone = int((float(np.mean(lonlat[:, 0])) + 180) // 6) % 60 + 1
    to_metric = Transformer.from_crs(4326, 32600 + zone, always_xy=True)
    x, y = to_metric.transform(lonlat[:, 0], lonlat[:, 1])
    line_of = np.repeat(np.arange(len(lines)), sizes)
    point_key, n_keys = _clusters(np.column_stack([x, y]), line_of, tolerance_m)
    ends = np.zeros(len(lonlat), bool)
    starts = np.cumsum(sizes) - sizes
    ends[starts] = True
    ends[starts + sizes - 1] = True
    # a junction: a line end, or a point on two or more lines
    lines_per_key = np.bincount(np.unique(np.column_stack([point_key, line_of]), axis=0)[:, 0],
                                minlength=n_keys)
    junction = np.zeros(n_keys, bool)
    junction[point_key[ends]] = True
    junction |= lines_per_key > 1
    node_of_key = np.full(n_keys, -1, np.int64)
    node_of_key[junction] = np.arange(1, junction.sum() + 1)
    # the coordinates of a node: its first vertex (in file order)
    first_vertex = np.full(n_keys, -1, np.int64)
    order = np.argsort(point_key, kind="stable")
    first_of_run = np.flatnonzero(np.r_[True, np.diff(point_key[order]) != 0])
    first_vertex[point_key[order[first_of_run]]] = order[first_of_run]

    rows_u, rows_v, rows_line, pieces = [], [], [], []
    for i, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        node = node_of_key[point_key[start:start + size]]
        begin = 0
        for j in range(1, size):
            if node[j] < 0:
                continue
            if node[j] != node[begin] or j - begin > 1:  # a closed loop keeps its shape
                piece = lonlat[start + begin:start + j + 1].copy()
                piece[0] = lonlat[first_vertex[point_key[start + begin]]]
                piece[-1] = lonlat[first_vertex[point_key[start + j]]]
                if node[j] != node[begin] or len(np.unique(piece, axis=0)) > 2:
                    rows_u.append(node[begin])
                    rows_v.append(node[j])
                    rows_line.append(i)
                    pieces.append(piece)
            begin = j
    if not pieces:
        raise InputError(Problem.of(source, None, None, REASONS["no_roads"]))
    meta = pd.DataFrame(attrs, columns=["osm_id", "highway", "direction", "maxspeed_kmh",
                                        "access", "name"]).iloc[rows_line].reset_index(drop=True)
    edges = pd.DataFrame({
        "u": np.asarray(rows_u, np.int64), "v": np.asarray(rows_v, np.int64),
        "osm_id": meta["osm_id"].to_numpy(np.int64),
        "highway": meta["highway"].to_numpy(object),
        "oneway": meta["direction"].to_numpy() != 0,
        "maxspeed_kmh": meta["maxspeed_kmh"].to_numpy(np.float64),
        "access": meta["access"].to_numpy(object), "name": meta["name"].to_numpy(object),
        "length_m": lengths_m(pieces),
        "geometry": shapely.linestrings(np.concatenate(pieces), indices=np.repeat(
            np.arange(len(pieces)), [len(p) for p in pieces])),
    })
    used = np.unique(np.concatenate([edges["u"], edges["v"]]))
    key_of_node = np.flatnonzero(junction)[used - 1]
    node_lonlat = lonlat[first_vertex[key_of_node]]
    nodes = pd.DataFrame({"node_id": used, "lon": node_lonlat[:, 0], "lat": node_lonlat[:, 1]})
    return RoadLayer(nodes=nodes, edges=edges, source=source)


def _clusters(xy: np.ndarray, line_of: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, int]:
    """A cluster number per point: points of different lines closer than ``tolerance_m``
    share one (and so do points at exactly one place). Vertices of one line are never
    merged with each other, so a curve digitised densely keeps its shape and a chain of close
    vertices cannot pull far points together. Numbers follow the points' sorted coordinates,
    so they do not depend on the order of the lines in the file."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    exact, exact_of_point = np.unique(np.round(xy, 3), axis=0, return_inverse=True)
    exact_of_point = exact_of_point.ravel()
    n = len(exact)
    # the lines through each exact point: its lowest and highest line number
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.full(n, -1)
    np.minimum.at(low, exact_of_point, line_of)
    np.maximum.at(high, exact_of_point, line_of)
    pairs = cKDTree(exact).query_pairs(tolerance_m, output_type="ndarray")
    a, b = pairs[:, 0], pairs[:, 1]
    one_line = (low[a] == high[a]) & (low[b] == high[b]) & (low[a] == low[b])
    a, b = a[~one_line], b[~one_line]
    links = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    count, label = connected_components(links, directed=False)
    # renumber clusters by their first exact point (sorted coordinates), not scipy's order
    first = np.full(count, n, np.int64)
    np.minimum.at(first, label, np.arange(n))
    rank = np.empty(count, np.int64)
    rank[np.argsort(first)] = np.arange(count)
    return rank[label][exact_of_point], int(count)


def _line_parts(geom: object) -> list[np.ndarray]:
    """The lon/lat vertex arrays of a LineString / MultiLineString (without repeated
    vertices); empty for anything else."""
    if geom is None or not isinstance(geom, shapely.Geometry) or geom.is_empty:
        return []
    if isinstance(geom, shapely.LineString):
        members = [geom]
    elif isinstance(geom, shapely.MultiLineString):
        members = list(geom.geoms)
    else:
        return []
    parts = []
    for member in members:
        coords = np.asarray(shapely.get_coordinates(member), np.float64)
        keep = np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]
        coords = coords[keep]
        if len(coords) >= 2:
            parts.append(coords)
    return parts


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def _text(value: object) -> str:
    """The value as text; an integral float (an integer column with gaps) without ".0"."""
    if _missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
