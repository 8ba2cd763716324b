"""Transport scenario edits: a new road or bridge, a metro line with stations, a closure.

Edits arrive as GeoJSON (RFC 7946: WGS 84 lon/lat) and are checked here, each bad feature
reported with its number (1-based, as ``row``) and field. They are plain values: applying
them to a compiled graph is :mod:`routing.scenario_graph`, storing them
:mod:`routing.scenario_store`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from gis_service.errors import CRSError, InputError, Problem
from routing.graph import _transformer, utm_epsg

EditKind = Literal["road", "metro", "closure"]
KINDS: tuple[EditKind, ...] = ("road", "metro", "closure")
#: A road end farther than this from every road stays unconnected: refused (metres).
DEFAULT_SNAP_M = 60.0
#: A station farther than this from every road has no way in: refused (metres).
DEFAULT_ACCESS_M = 400.0
#: A station farther than this from its line is not on it: refused (metres).
STATION_ON_LINE_M = 80.0
_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326",
          "urn:ogc:def:crs:EPSG::4326", "OGC:CRS84"}


@dataclass(frozen=True)
class RoadEdit:
    """A new road or bridge: a line (lon/lat) with a highway class, a speed and a direction.

    Its two ends join the nearest road within ``snap_m`` (splitting that road there); the
    line crosses other roads without a junction (a bridge or flyover).
    """

    coords: NDArray[np.float64]
    highway: str
    speed_kmh: float
    oneway: bool = False
    label: str = ""
    snap_m: float = DEFAULT_SNAP_M
    kind: EditKind = field(default="road", init=False)


@dataclass(frozen=True)
class MetroEdit:
    """A metro line: entered and left only at its stations, after a wait of half the headway."""

    coords: NDArray[np.float64]
    stations: NDArray[np.float64]
    station_names: tuple[str, ...]
    speed_kmh: float
    headway_s: float
    label: str = ""
    access_m: float = DEFAULT_ACCESS_M
    kind: EditKind = field(default="metro", init=False)


@dataclass(frozen=True)
class ClosureEdit:
    """Roads closed: every edge the line or polygon (lon/lat) touches.

    With ``along``, only the edges lying along the line (within 1 m of it) are closed, not
    those it crosses or meets: how a closure given by basemap edge ids
    (``road_edges.edge_id``, resolved to their lines by :mod:`routing.scenario_store`) applies.
    """

    geometry: shapely.Geometry | None
    label: str = ""
    along: bool = False
    edge_ids: tuple[int, ...] = ()
    kind: EditKind = field(default="closure", init=False)


Edit = RoadEdit | MetroEdit | ClosureEdit


def metric_of(lonlat: NDArray[np.float64]) -> tuple[int, NDArray[np.float64]]:
    """Return the UTM zone of the points and their coordinates in it (metres)."""
    epsg = utm_epsg(float(lonlat[0, 0]), float(lonlat[0, 1]))
    x, y = _transformer(4326, epsg).transform(lonlat[:, 0], lonlat[:, 1])
    return epsg, np.column_stack([x, y])


def read_geojson(path: str | Path) -> dict[str, Any]:
    """Read a GeoJSON file; a file that is not JSON is an :class:`InputError`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError([Problem.of(str(path), None, None, (
            "không đọc được tệp GeoJSON: {error}", "cannot read the GeoJSON file: {error}"),
            error=error)]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(str(path), None, None, "not a GeoJSON object",
                                  "không phải đối tượng GeoJSON")])
    return data


def edits_from_geojson(
    data: dict[str, Any], kind: str, source: str = "geojson", *,
    speed_kmh: float | None = None, highway: str | None = None, oneway: bool | None = None,
    headway_s: float | None = None, label: str | None = None,
) -> list[Edit]:
    """Turn a GeoJSON FeatureCollection into edits of ``kind``.

    Options given here are defaults for features whose properties lack them.

    - ``road``: each LineString (or part of a MultiLineString) is a road; properties
      ``speed_kmh`` (required), ``highway`` (default ``primary``), ``oneway``, ``name``.
    - ``metro``: one LineString, the line (properties ``speed_kmh``, ``headway_s`` or
      ``headway_min``, ``name``), and two or more Points, the stations (``name``), put in
      order along the line; a station more than 80 m off the line is refused.
    - ``closure``: each LineString or Polygon closes the roads it touches (``along: true``:
      only the roads lying along the line); a feature without geometry and with
      ``edge_ids`` (ids of ``road_edges`` of the basemap) closes those edges.

    Raises
    ------
    CRSError
        When the file names a CRS other than WGS 84 lon/lat.
    InputError
        Listing every bad feature with its number and field.
    """
    if kind not in KINDS:
        raise InputError([Problem(source, None, "kind", f"kind must be one of {', '.join(KINDS)},"
                                  f" not {kind!r}", f"loại phải là {', '.join(KINDS)}")])
    crs = (data.get("crs") or {}).get("properties", {}).get("name") if isinstance(
        data.get("crs"), dict) else None
    if crs is not None and str(crs) not in _CRS84:
        raise CRSError(f"{source}: field 'crs': GeoJSON must be WGS 84 lon/lat (CRS84), not {crs}"
                       f" / GeoJSON phải ở hệ WGS 84 kinh độ/vĩ độ, không phải {crs}")
    features = data.get("features") if data.get("type") == "FeatureCollection" else (
        [data] if data.get("type") == "Feature" else None)
    if not features:
        raise InputError([Problem(source, None, "features", "no features: expected a "
                                  "FeatureCollection", "không có đối tượng nào (FeatureCollection)")])
    problems: list[Problem] = []
    parsed: list[tuple[int, Any, dict[str, Any]]] = []
    for i, feature in enumerate(features, start=1):
        if (kind == "closure" and isinstance(feature, dict) and feature.get("geometry") is None
                and isinstance(feature.get("properties"), dict)
                and "edge_ids" in feature["properties"]):
            parsed.append((i, None, feature["properties"]))  # closed by basemap edge ids
            continue
        geometry = _geometry(feature, i, source, problems)
        if geometry is not None:
            props = feature.get("properties") or {}
            parsed.append((i, geometry, props if isinstance(props, dict) else {}))
    defaults: dict[str, Any] = {"speed_kmh": speed_kmh, "highway": highway, "oneway": oneway,
                                "headway_s": headway_s, "label": label}
    if kind == "road":
        edits: list[Edit] = list(_roads(parsed, source, defaults, problems))
    elif kind == "metro":
        edits = list(_metro(parsed, source, defaults, problems))
    else:
        edits = list(_closures(parsed, source, defaults, problems))
    if problems:
        raise InputError(problems)
    return edits


def _geometry(feature: Any, i: int, source: str, problems: list[Problem]) -> shapely.Geometry | None:
    if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
        problems.append(Problem(source, i, "geometry", f"feature {i} has no geometry",
                                f"đối tượng {i} không có hình học"))
        return None
    try:
        geometry = shapely.from_geojson(json.dumps(feature["geometry"]))
    except shapely.errors.GEOSException as error:
        problems.append(Problem(source, i, "geometry", f"feature {i}: bad geometry ({error})",
                                f"đối tượng {i}: hình học sai ({error})"))
        return None
    coords = shapely.get_coordinates(geometry)
    if geometry.is_empty or not np.isfinite(coords).all():
        problems.append(Problem(source, i, "geometry", f"feature {i}: empty geometry",
                                f"đối tượng {i}: hình học rỗng"))
        return None
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        x, y = coords[0]
        problems.append(Problem(
            source, i, "geometry",
            f"feature {i}: coordinate ({x:g}, {y:g}) is not lon/lat: GeoJSON must be WGS 84"
            " (is it VN-2000 metres? convert it first)",
            f"đối tượng {i}: tọa độ ({x:g}, {y:g}) không phải kinh độ/vĩ độ WGS 84 (tọa độ "
            "VN-2000 mét? hãy chuyển đổi trước)"))
        return None
    return geometry


def _number(props: dict[str, Any], defaults: dict[str, Any], name: str, i: int, source: str,
            problems: list[Problem], *, required: bool = True) -> float | None:
    value = props.get(name, defaults.get(name))
    if value is None:
        if required:
            problems.append(Problem(source, i, name, f"feature {i}: {name} is missing",
                                    f"đối tượng {i}: thiếu {name}"))
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (np.isfinite(number) and number > 0):
        problems.append(Problem(source, i, name, f"feature {i}: {name} must be a positive "
                                f"number, not {value!r}", f"đối tượng {i}: {name} phải là số dương"))
        return None
    return number


def _label(props: dict[str, Any], defaults: dict[str, Any]) -> str:
    return str(props.get("name") or defaults.get("label") or "")


def _lines(geometry: shapely.Geometry) -> list[NDArray[np.float64]]:
    parts = shapely.get_parts(geometry) if geometry.geom_type == "MultiLineString" else [geometry]
    return [np.asarray(shapely.get_coordinates(p), np.float64) for p in parts]


def _roads(parsed: list[tuple[int, shapely.Geometry, dict[str, Any]]], source: str,
           defaults: dict[str, Any], problems: list[Problem]) -> list[RoadEdit]:
    edits = []
    for i, geometry, props in parsed:
        if geometry.geom_type not in ("LineString", "MultiLineString"):
            problems.append(Problem(source, i, "geometry", f"feature {i}: a road is a LineString,"
                                    f" not a {geometry.geom_type}",
                                    f"đối tượng {i}: đường phải là LineString"))
            continue
        speed = _number(props, defaults, "speed_kmh", i, source, problems)
        highway = str(props.get("highway") or defaults.get("highway") or "primary")
        oneway = props.get("oneway", defaults.get("oneway"))
        if speed is None:
            continue
        for coords in _lines(geometry):
            edits.append(RoadEdit(coords=coords, highway=highway, speed_kmh=speed,
                                  oneway=bool(oneway) and oneway not in ("no", "false", "0"),
                                  label=_label(props, defaults)))
    return edits


def _metro(parsed: list[tuple[int, shapely.Geometry, dict[str, Any]]], source: str,
           defaults: dict[str, Any], problems: list[Problem]) -> list[MetroEdit]:
    lines = [(i, g, p) for i, g, p in parsed if g.geom_type == "LineString"]
    points = [(i, g, p) for i, g, p in parsed if g.geom_type == "Point"]
    for i, g, _ in parsed:
        if g.geom_type not in ("LineString", "Point"):
            problems.append(Problem(source, i, "geometry", f"feature {i}: a metro file holds one "
                                    f"LineString and Point stations, not a {g.geom_type}",
                                    f"đối tượng {i}: tệp metro gồm một LineString và các ga (Point)"))
    if len(lines) != 1:
        problems.append(Problem(source, None, "geometry", f"a metro file holds exactly one line "
                                f"(LineString), not {len(lines)}",
                                f"tệp metro phải có đúng một tuyến (LineString), có {len(lines)}"))
        return []
    if len(points) < 2:
        problems.append(Problem(source, None, "geometry", "a metro line needs two or more "
                                "stations (Point features)", "tuyến metro cần ít nhất hai ga (Point)"))
        return []
    i_line, line, props = lines[0]
    speed = _number(props, defaults, "speed_kmh", i_line, source, problems)
    headway = props.get("headway_s", defaults.get("headway_s"))
    if headway is None and props.get("headway_min") is not None:
        headway = float(props["headway_min"]) * 60.0
    headway_s = _number({"headway_s": headway}, {}, "headway_s", i_line, source, problems)
    coords = np.asarray(shapely.get_coordinates(line), np.float64)
    _, xy = metric_of(coords)
    metric_line = shapely.LineString(xy)
    station_lonlat = np.array([shapely.get_coordinates(g)[0] for _, g, _ in points])
    _, station_xy = metric_of(np.vstack([coords[:1], station_lonlat]))
    station_xy = station_xy[1:]
    along = []
    for (i, _, _), (x, y) in zip(points, station_xy, strict=True):
        point = shapely.Point(x, y)
        off = float(metric_line.distance(point))
        if off > STATION_ON_LINE_M:
            problems.append(Problem(
                source, i, "geometry", f"feature {i}: station is {off:.0f} m off the line "
                f"(at most {STATION_ON_LINE_M:.0f} m)",
                f"đối tượng {i}: ga cách tuyến {off:.0f} m (tối đa {STATION_ON_LINE_M:.0f} m)"))
        along.append(float(metric_line.project(point)))
    if speed is None or headway_s is None or problems:
        return []
    order = np.argsort(along, kind="stable")
    names = tuple(str(points[k][2].get("name") or f"station {k + 1}") for k in order)
    return [MetroEdit(coords=coords, stations=station_lonlat[order], station_names=names,
                      speed_kmh=speed, headway_s=headway_s, label=_label(props, defaults))]


def _closures(parsed: list[tuple[int, Any, dict[str, Any]]], source: str,
              defaults: dict[str, Any], problems: list[Problem]) -> list[ClosureEdit]:
    edits = []
    for i, geometry, props in parsed:
        if geometry is None:
            ids = props.get("edge_ids")
            try:
                edge_ids = tuple(int(v) for v in ids) if isinstance(ids, list) and ids else ()
            except (TypeError, ValueError):
                edge_ids = ()
            if not edge_ids:
                problems.append(Problem(source, i, "edge_ids", f"feature {i}: edge_ids must be a "
                                        "non-empty list of road edge ids",
                                        f"đối tượng {i}: edge_ids phải là danh sách mã đoạn đường"))
                continue
            edits.append(ClosureEdit(geometry=None, label=_label(props, defaults), along=True,
                                     edge_ids=edge_ids))
            continue
        if geometry.geom_type not in ("LineString", "MultiLineString", "Polygon", "MultiPolygon"):
            problems.append(Problem(source, i, "geometry", f"feature {i}: a closure is a line or "
                                    f"polygon, not a {geometry.geom_type}",
                                    f"đối tượng {i}: đoạn cấm phải là đường hoặc vùng"))
            continue
        edits.append(ClosureEdit(geometry=geometry, label=_label(props, defaults),
                                 along=bool(props.get("along", False))))
    return edits
