"""Read a road layer drawn as GIS lines (the environment department's basemap) into a :class:`RoadLayer`.

The city's basemap arrives as a GeoPackage, Shapefile or GeoJSON of road centre lines in
VN-2000 (EPSG:9210), not as a graph: nothing says where two roads meet. Lines are noded
here: vertices of different lines closer than ``tolerance_m`` (default 0.5 m) are one
point, every line end is a node, and so is every interior vertex that another line passes
through or ends at (or the same line passes again); lines are split at their nodes. Only
vertices meet: two roads that cross
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
from basemaps._osm_tags import NOT_ROADS, oneway_direction, parse_maxspeed
from basemaps.boundaries import REASONS as BOUNDARY_REASONS
from basemaps.boundaries import in_vietnam
from basemaps.road_layer import RoadLayer
from basemaps.roads import ReadStats, run_lengths_m
from gis_service.errors import InputError, InvalidValueError, Problem

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
    "no_features": ("tệp không có đối tượng nào: không lưu gì",
                    "the file has no features: nothing is stored"),
}


def read_road_lines(
    path: str | Path,
    crs: str | None = None,
    *,
    class_field: str = "highway",
    class_map: Mapping[str, str] | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> tuple[RoadLayer, ReadStats, list[Problem]]:
    """Read and node the road lines of ``path``.

    Return the layer, what was read, and the problems of the features left out (1-based
    feature numbers).

    Raises
    ------
    InputError
        When the file cannot be read, has no class column, or no usable road is left.
    gis_service.errors.CRSError
        When the file declares no CRS and none is given, or the two disagree.
    """
    path = Path(path)
    if not tolerance_m > 0:
        raise InvalidValueError("the noding tolerance must be a positive number of metres")
    frame = read_vector(path, crs)
    if frame.empty:
        raise InputError(Problem.of(str(path), None, None, REASONS["no_features"]))
    if class_field not in frame.columns:
        raise InputError(Problem.of(str(path), None, class_field, REASONS["no_class_column"],
                                    column=class_field,
                                    columns=", ".join(c for c in frame.columns if c != "geometry")))
    translate = {str(k).strip().casefold(): v for k, v in (class_map or {}).items()}
    raw_class = _texts(frame, class_field)
    highway = pd.Series(raw_class).map(lambda v: translate.get(v.casefold(), v)).to_numpy(object)
    maxspeed_text = _texts(frame, "maxspeed")
    maxspeed = pd.Series(maxspeed_text).map(
        lambda v: parse_maxspeed(v or None)).to_numpy(np.float64)
    # only the column decides the direction: OSM's implied one-way motorways do not apply to
    # a basemap that draws each carriageway as it is
    direction = pd.Series(_texts(frame, "oneway")).map(
        lambda v: oneway_direction({"oneway": v.lower()})).to_numpy(np.int64)

    geoms = frame.geometry.to_numpy()
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5)) & ~shapely.is_empty(geoms)
    first = np.full((len(frame), 2), np.nan)
    coords, owner = shapely.get_coordinates(geoms[is_line], return_index=True)
    rows_with_coords, first_at = np.unique(owner, return_index=True)
    first[np.flatnonzero(is_line)[rows_with_coords]] = coords[first_at]

    stats = ReadStats(ways_with_highway=len(frame))
    problems: list[Problem] = []
    skipped = np.isin(highway, list(NOT_ROADS))
    for value in highway[skipped]:
        stats.skipped[value] = stats.skipped.get(value, 0) + 1
    known = np.isin(highway, list(KNOWN_CLASSES))
    inside = np.array([in_vietnam(lon, lat) for lon, lat in first])
    bad_speed = (maxspeed_text != "") & np.isnan(maxspeed)
    usable = known & is_line & inside & ~bad_speed
    for row in np.flatnonzero(~skipped & ~usable):
        number = int(row) + 1
        if not known[row]:
            problems.append(Problem.of(str(path), number, class_field, REASONS["unknown_class"],
                                       value=raw_class[row], known=", ".join(sorted(KNOWN_CLASSES))))
        elif not is_line[row]:
            problems.append(Problem.of(str(path), number, "geometry", REASONS["not_a_line"]))
        elif not inside[row]:
            problems.append(Problem.of(str(path), number, "geometry", REASONS["outside_vietnam"],
                                       lon=first[row, 0], lat=first[row, 1]))
        else:
            problems.append(Problem.of(str(path), number, "maxspeed", REASONS["bad_maxspeed"],
                                       value=maxspeed_text[row]))
    kept = np.flatnonzero(~skipped & usable)
    lonlat, sizes, part_row = _line_parts(geoms[kept], direction[kept] == -1)
    part_row = kept[part_row]
    stats.ways_kept = len(np.unique(part_row))
    if not len(sizes):
        raise InputError(Problem.of(str(path), None, None, REASONS["no_roads"]))
    meta = pd.DataFrame({
        "osm_id": part_row + 1, "highway": highway[part_row], "direction": direction[part_row],
        "maxspeed_kmh": maxspeed[part_row], "access": _texts(frame, "access")[part_row],
        "name": _texts(frame, "name")[part_row]})
    layer = node_lines(lonlat, sizes, meta, tolerance_m=tolerance_m, source=str(path))
    return layer, stats, problems


def node_lines(lonlat: np.ndarray, sizes: np.ndarray, meta: pd.DataFrame, *,
               tolerance_m: float, source: str) -> RoadLayer:
    """Split polylines at their junctions into a :class:`RoadLayer`.

    The lines are consecutive runs of ``sizes`` lon/lat vertices in ``lonlat``, drawn in
    their direction of travel; ``meta`` holds one row per line (``osm_id`` (the feature
    number), ``highway``, ``direction``, ``maxspeed_kmh``, ``access``, ``name``). Node ids
    number the junction points in the order of their coordinates, so the same file always
    gives the same ids (and the same layer version). Distances are measured in the WGS84
    UTM zone of the lines.
    """
    zone = int((float(np.mean(lonlat[:, 0])) + 180) // 6) % 60 + 1
    x, y = Transformer.from_crs(4326, 32600 + zone, always_xy=True).transform(lonlat[:, 0],
                                                                               lonlat[:, 1])
    line_of = np.repeat(np.arange(len(sizes)), sizes)
    point_key, n_keys = _clusters(np.column_stack([x, y]), line_of, tolerance_m)
    starts = np.cumsum(sizes) - sizes
    # a junction: a line end, or a point passed twice (by two lines, or by one that crosses
    # itself there)
    junction = np.bincount(point_key, minlength=n_keys) > 1
    junction[point_key[starts]] = True
    junction[point_key[starts + sizes - 1]] = True
    node_of_key = np.full(n_keys, -1, np.int64)
    node_of_key[junction] = np.arange(1, junction.sum() + 1)
    # the coordinates of a node: its first vertex in the file
    first_vertex = np.full(n_keys, len(lonlat), np.int64)
    np.minimum.at(first_vertex, point_key, np.arange(len(lonlat)))

    # an edge runs between consecutive node vertices of one line, unless both are one node
    # and nothing lies between (a duplicate point) or only one vertex does (a spike)
    node = node_of_key[point_key]
    at_node = np.flatnonzero(node >= 0)
    a, b = at_node[:-1], at_node[1:]
    keep = (line_of[a] == line_of[b]) & ((node[a] != node[b]) | (b - a >= 3))
    a, b = a[keep], b[keep]
    if not len(a):
        raise InputError(Problem.of(source, None, None, REASONS["no_roads"]))
    counts = b - a + 1
    piece_start = np.cumsum(counts) - counts
    vertex = np.repeat(a - piece_start, counts) + np.arange(counts.sum())
    coords = lonlat[vertex]
    coords[piece_start] = lonlat[first_vertex[point_key[a]]]  # ends exactly on their nodes
    coords[piece_start + counts - 1] = lonlat[first_vertex[point_key[b]]]
    line = meta.iloc[line_of[a]].reset_index(drop=True)
    edges = pd.DataFrame({
        "u": node[a], "v": node[b], "osm_id": line["osm_id"].to_numpy(np.int64),
        "highway": line["highway"].to_numpy(object), "oneway": line["direction"].to_numpy() != 0,
        "maxspeed_kmh": line["maxspeed_kmh"].to_numpy(np.float64),
        "access": line["access"].to_numpy(object), "name": line["name"].to_numpy(object),
        "length_m": run_lengths_m(coords, counts),
        "geometry": shapely.linestrings(coords, indices=np.repeat(np.arange(len(a)), counts)),
    })
    used = np.unique(np.concatenate([node[a], node[b]]))
    node_lonlat = lonlat[first_vertex[np.flatnonzero(junction)[used - 1]]]
    nodes = pd.DataFrame({"node_id": used, "lon": node_lonlat[:, 0], "lat": node_lonlat[:, 1]})
    return RoadLayer(nodes=nodes, edges=edges, source=source)


def _clusters(xy: np.ndarray, line_of: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, int]:
    """Assign each point a cluster number; return the numbers and the count of clusters.

    Points of different lines closer than ``tolerance_m`` share one (and so do points at
    exactly one place). Vertices of one line are never merged with each other, so a curve
    digitised densely keeps its shape and a chain of close vertices cannot pull far points
    together. Numbers follow the points' sorted coordinates, so they do not depend on the
    order of the lines in the file.
    """
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


def _line_parts(geoms: np.ndarray, reverse: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split (Multi)LineStrings into runs of lon/lat vertices, one per part.

    Repeated vertices are dropped, parts are reversed where ``reverse``, and parts of fewer
    than two vertices are dropped. Returns ``(lonlat, sizes, the index in geoms of each
    part)``.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    repeated = np.r_[False, (part[1:] == part[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)]
    coords, part = coords[~repeated], part[~repeated]
    sizes = np.bincount(part, minlength=len(parts))
    starts = np.cumsum(sizes) - sizes
    # reverse the runs of lines drawn against their one-way direction
    flip = np.repeat(reverse[owner], sizes)
    position = np.arange(len(coords)) - np.repeat(starts, sizes)
    order = np.where(flip, np.repeat(starts + sizes - 1, sizes) - position, np.arange(len(coords)))
    coords = coords[order]
    usable = sizes >= 2
    keep = np.repeat(usable, sizes)
    return coords[keep], sizes[usable], owner[usable]


def _texts(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a column as stripped text; all '' when the column is absent.

    Missing values are '', and an integral float (from an integer column with gaps) is
    written without ".0".
    """
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return np.array([_text(v) for v in frame[column].to_numpy(object)], dtype=object)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
