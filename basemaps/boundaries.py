"""Read province / district / ward boundaries in any declared CRS, or from OSM relations.

Vector files (GeoJSON, GeoPackage, Shapefile) carry codes in columns; OSM files (PBF, XML)
carry boundary relations, assembled by :mod:`basemaps.osm_boundaries`, whose units are coded
by their official code tag when they have one, else by :func:`osm_code`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from basemaps._frames import read_vector
from gis_service.errors import InputError, Problem

#: Longest unit code (the ``admin_units.code`` column).
MAX_CODE_CHARS = 16

#: The edugis levels: the province (since 1 July 2025 the only tier above the wards),
#: districts (abolished on that day: history) and wards / communes.
LEVELS = ("province", "district", "ward")

#: The edugis level of each Vietnamese OSM ``admin_level`` when ``--level`` is not given.
OSM_LEVELS = {4: "province", 6: "district", 8: "ward", 10: "ward"}

#: where each level's code, name and parent code are found, first match wins
_FIELDS = {
    "ward": (("ward_code",), ("ward_name", "name"), ("district_code", "parent_code")),
    "district": (("district_code",), ("district_name", "name"), ("parent_code",)),
    "province": (("province_code", "code"), ("province_name", "name"), ()),
    "generic": (("code",), ("name",), ("parent_code",)),
}

#: Why a boundary feature or file is refused, as (Vietnamese, English) ``str.format`` templates.
REASONS: dict[str, tuple[str, str]] = {
    "no_code_column": ("không có cột mã (đã tìm {columns})", "no code column (looked for {columns})"),
    "missing_code": ("thiếu mã", "missing code"),
    "duplicate_code": ("mã {code} bị trùng (xuất hiện lần đầu ở dòng {first})",
                       "duplicate code {code} (first at row {first})"),
    "duplicate_osm_code": ("mã {code} bị trùng (đã có ở quan hệ {first})",
                           "duplicate code {code} (also on relation {first})"),
    "unknown_level": ("cấp hành chính không hợp lệ {value!r} (province, district hoặc ward)",
                      "unknown level {value!r} (province, district or ward)"),
    "no_features": ("tệp không có đối tượng nào: không lưu gì",
                    "the file has no features: nothing is stored"),
    "code_too_long": ("mã dài {length} ký tự, tối đa {limit}",
                      "code of {length} characters, at most {limit}"),
    "not_a_polygon": ("hình học bị thiếu, rỗng hoặc không phải đa giác", "missing, empty or not a polygon"),
    "outside_vietnam": ("nằm ở kinh độ {lon:.4f}, vĩ độ {lat:.4f}, ngoài Việt Nam: khai báo sai hệ tọa độ?",
                        "lies at lon {lon:.4f}, lat {lat:.4f}, outside Vietnam: wrong CRS declared?"),
}


def in_vietnam(lon: float, lat: float) -> bool:
    """Return whether a point lies in Vietnam's box: a point outside means a wrongly declared CRS."""
    return 100 < lon < 112 and 6 < lat < 25


def _pick(frame: pd.DataFrame, options: tuple[str, ...]) -> str | None:
    return next((c for c in options if c in frame.columns), None)


def detect_level(frame: pd.DataFrame) -> str | None:
    """Return the level of a file's units from its code columns: ward, district, province.

    ``None`` when rows carry their own ``level`` or no code column tells.
    """
    if "level" in frame.columns:
        return None  # per-row levels
    return next((level for level in ("ward", "district", "province")
                 if f"{level}_code" in frame.columns), None)


def read_boundaries(
    path: str | Path, crs: str | None = None, level: str | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read admin units to columns ``code, name, level, parent_code, geometry`` (EPSG:4326).

    Returns the clean rows and the problems of the bad ones (row numbers are 1-based
    feature numbers).
    """
    path = Path(path)
    frame = read_vector(path, crs)
    if frame.empty:
        raise InputError(Problem.of(str(path), None, None, REASONS["no_features"]))
    level = level or detect_level(frame)
    spec = _FIELDS[level] if level in _FIELDS else _FIELDS["generic"]
    code_col, name_col, parent_col = (_pick(frame, options) for options in spec)
    if code_col is None:
        raise InputError(Problem.of(str(path), None, "code", REASONS["no_code_column"],
                                    columns=", ".join(spec[0])))
    columns = (code_col, name_col, parent_col)
    problems: list[Problem] = []
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(frame.itertuples(index=False), start=1):
        unit = _unit(feature._asdict(), index, level, columns, seen)
        if isinstance(unit, dict):
            rows.append(unit)
        else:
            field, key, values = unit
            problems.append(Problem.of(str(path), index, field, REASONS[key], **values))
    result = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else \
        gpd.GeoDataFrame(columns=["code", "name", "level", "parent_code", "geometry"],
                         geometry="geometry", crs="EPSG:4326")
    return result, problems


def _text(value: object) -> str:
    """Return a cell as stripped text; a null cell (None, or NaN as pandas 3 reads it) is ""."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


#: A refusal of one feature: (field, key of :data:`REASONS`, values of its templates).
Finding = tuple[str | None, str, dict[str, object]]


def _unit(
    record: dict[str, Any], index: int, level: str | None,
    columns: tuple[str, str | None, str | None], seen: dict[str, int],
) -> dict[str, object] | Finding:
    """Return feature ``index`` as a clean row, or the first thing wrong with it.

    ``columns`` are the code, name and parent-code columns; a code that passes its own checks
    enters ``seen`` (code to feature number), so a later feature with it is a duplicate.
    """
    code_col, name_col, parent_col = columns
    code = _text(record.get(code_col))
    row_level = _text(record.get("level")) or (level or "").strip()
    finding = _code_finding(code, code_col, seen)
    if finding is not None:
        return finding
    seen[code] = index
    if row_level not in LEVELS:
        return "level", "unknown_level", {"value": row_level}
    multipolygon = _as_multipolygon(record.get("geometry"))
    if multipolygon is None:
        return "geometry", "not_a_polygon", {}
    lon, lat = multipolygon.representative_point().coords[0]
    if not in_vietnam(lon, lat):
        return "geometry", "outside_vietnam", {"lon": lon, "lat": lat}
    parent = _text(record.get(parent_col)) if parent_col else ""
    if len(parent) > MAX_CODE_CHARS:
        return parent_col, "code_too_long", {"length": len(parent), "limit": MAX_CODE_CHARS}
    return {
        "code": code,
        "name": (_text(record.get(name_col)) or code) if name_col else code,
        "level": row_level,
        "parent_code": parent if row_level != "province" and parent else None,
        "geometry": multipolygon,
    }


def _code_finding(code: str, code_col: str, seen: dict[str, int]) -> Finding | None:
    """Return what is wrong with a unit's code (missing, too long, seen before), if anything."""
    if not code:
        return code_col, "missing_code", {}
    if len(code) > MAX_CODE_CHARS:
        return code_col, "code_too_long", {"length": len(code), "limit": MAX_CODE_CHARS}
    if code in seen:
        return code_col, "duplicate_code", {"code": code, "first": seen[code]}
    return None


def _as_multipolygon(geom: object) -> MultiPolygon | None:
    if geom is None or not isinstance(geom, shapely.Geometry) or geom.is_empty:
        return None
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    polygons = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    parts: list[Polygon] = []
    for polygon in polygons:
        parts.extend(polygon.geoms if isinstance(polygon, MultiPolygon) else [polygon])
    return MultiPolygon(parts) if parts else None


def osm_code(osm_id: int) -> str:
    """Return the code of an OSM unit that has no official code: ``osm-r`` + its relation id.

    OSM never reuses an id, so the code stays the same across imports of newer extracts as
    long as the relation lives; 16 characters hold every id below 10^11.
    """
    return f"osm-r{osm_id}"


def read_osm_boundaries(
    path: str | Path, admin_level: int, level: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read the OSM boundary relations of ``admin_level`` as edugis units of ``level``.

    Returns the columns of :func:`read_boundaries` plus ``osm_id``. A unit's code is its
    official code tag (``ref:gso``, ``ref``...) when that fits, else :func:`osm_code`. The
    parent is left empty: :func:`basemaps.store.store_boundaries` places the unit in the
    unit that contains it. Relations that do not assemble are problems naming the relation.
    """
    from basemaps.osm_boundaries import read_boundary_relations

    path = Path(path)
    level = level or OSM_LEVELS.get(admin_level)
    if level not in LEVELS:
        raise InputError(Problem.of(str(path), None, "level", REASONS["unknown_level"],
                                    value=level or f"admin_level={admin_level}"))
    relations = read_boundary_relations(path, admin_level)
    problems = [Problem(str(path), None, f"relation {r.osm_id}", f"{r.name}: {r.reason_en}",
                        reason_vi=f"{r.name}: {r.reason_vi}")
                for r in relations.attrs["refused"]]
    if relations.empty and not problems:
        raise InputError(Problem(str(path), None, "admin_level",
                                 f"no boundary relation of admin_level {admin_level} in the file",
                                 reason_vi=f"tệp không có quan hệ ranh giới admin_level {admin_level}"))
    codes = [ref if 0 < len(ref) <= MAX_CODE_CHARS else osm_code(osm_id)
             for ref, osm_id in zip(relations["ref"], relations["osm_id"], strict=True)]
    seen: dict[str, int] = {}
    keep = []
    for index, code in enumerate(codes):
        if code in seen:
            problems.append(Problem.of(str(path), None, f"relation {relations['osm_id'].iat[index]}",
                                       REASONS["duplicate_osm_code"], code=code, first=seen[code]))
        else:
            seen[code] = int(relations["osm_id"].iat[index])
            keep.append(index)
    units = gpd.GeoDataFrame({
        "code": [codes[i] for i in keep],
        "name": [relations["name"].iat[i] or codes[i] for i in keep],
        "level": level, "parent_code": None,
        "osm_id": relations["osm_id"].to_numpy()[keep],
    }, geometry=relations.geometry.to_numpy()[keep], crs="EPSG:4326")
    return units, problems


def is_osm_file(path: str | Path) -> bool:
    """Tell whether ``path`` is an OSM file (``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.bz2``...)."""
    name = Path(path).name.lower()
    return name.endswith((".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osc"))
