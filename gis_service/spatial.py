"""Spatial queries against PostGIS.

Schools by bbox / polygon / radius, admin unit of a point, nearest schools as the crow
flies, the units that make the city's extent. Each returns plain dicts ready for JSON.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from shapely import Geometry
from sqlalchemy.engine import Connection, Engine

from gis_service.errors import NotFoundError
from gis_service.levels import school_level

_SCHOOL_COLUMNS = (
    "code, name, level, ownership, address, district_code, ward_code, capacity_grade1,"
    " capacity_grade6, capacity_grade10, ST_X(geom) AS lon, ST_Y(geom) AS lat"
)


#: What the city's extent is, best first: (name, condition on ``admin_units`` aliased
#: ``{a}``). Its own boundary; else its wards and communes of today; else its districts
#: (files of the years before July 2025).
CITY_EXTENT_SOURCES = (
    ("province", "{a}.level = 'province' AND {a}.valid_to IS NULL"),
    ("wards", "{a}.level = 'ward' AND {a}.valid_to IS NULL"),
    ("districts", "{a}.level = 'district'"),
)


def city_extent(conn: Connection, alias: str = "a") -> tuple[str, str] | None:
    """Return which units make the city's extent and the SQL condition selecting them.

    The condition is on ``admin_units`` aliased ``alias`` (see :data:`CITY_EXTENT_SOURCES`);
    ``None`` when no unit is loaded, so nothing can be said to lie outside the city.
    """
    for name, condition in CITY_EXTENT_SOURCES:
        found = conn.execute(sa.text(
            f"SELECT EXISTS (SELECT 1 FROM admin_units a WHERE {condition.format(a='a')})")).scalar()
        if found:
            return name, condition.format(a=alias)
    return None


def _level_filter(level: str | None) -> str:
    if level is None:
        return ""
    school_level(level)  # an unknown level is refused, naming the known ones
    return " AND level = :level"


def _rows(engine: Engine, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [row._asdict() for row in conn.execute(sa.text(sql), params)]


def schools_in_bbox(
    engine: Engine, minx: float, miny: float, maxx: float, maxy: float, level: str | None = None
) -> list[dict[str, Any]]:
    """Return the schools inside a lon/lat box, ordered by code."""
    return _rows(engine,
                 f"SELECT {_SCHOOL_COLUMNS} FROM schools"
                 " WHERE geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
                 f"{_level_filter(level)} ORDER BY code",
                 {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, "level": level})


def schools_in_polygon(
    engine: Engine, polygon: Geometry, level: str | None = None
) -> list[dict[str, Any]]:
    """Return the schools inside (or on the edge of) a lon/lat polygon."""
    return _rows(engine,
                 f"SELECT {_SCHOOL_COLUMNS} FROM schools"
                 " WHERE ST_Intersects(geom, ST_GeomFromText(:wkt, 4326))"
                 f"{_level_filter(level)} ORDER BY code",
                 {"wkt": polygon.wkt, "level": level})


def schools_within(
    engine: Engine, lon: float, lat: float, radius_m: float, level: str | None = None
) -> list[dict[str, Any]]:
    """Return the schools within ``radius_m`` metres (geodesic) of a point, nearest first."""
    return _rows(engine,
                 f"SELECT {_SCHOOL_COLUMNS}, ST_Distance(geom::geography, p::geography) AS distance_m"
                 " FROM schools, ST_SetSRID(ST_Point(:lon, :lat), 4326) AS p"
                 " WHERE ST_DWithin(geom::geography, p::geography, :r)"
                 f"{_level_filter(level)} ORDER BY distance_m, code",
                 {"lon": lon, "lat": lat, "r": radius_m, "level": level})


def nearest_schools_crow(
    engine: Engine, lon: float, lat: float, k: int = 5, level: str | None = None
) -> list[dict[str, Any]]:
    """Return the ``k`` nearest schools as the crow flies (KNN index scan, geodesic distance)."""
    return _rows(engine,
                 f"SELECT * FROM (SELECT {_SCHOOL_COLUMNS},"
                 " ST_Distance(geom::geography, p::geography) AS distance_m"
                 " FROM schools, ST_SetSRID(ST_Point(:lon, :lat), 4326) AS p"
                 f" WHERE true{_level_filter(level)} ORDER BY geom <-> p LIMIT :k3) s"
                 " ORDER BY distance_m, code LIMIT :k",
                 {"lon": lon, "lat": lat, "k": k, "k3": max(3 * k, k + 10), "level": level})


def admin_unit_at(engine: Engine, lon: float, lat: float, level: str = "ward") -> dict[str, Any]:
    """Return the admin unit of ``level`` of today containing the point.

    ``NotFoundError`` when none does (a district, abolished in July 2025, is found only among
    the former ones: the newest first).
    """
    rows = _rows(engine,
                 "SELECT code, name, level, parent_code FROM admin_units"
                 " WHERE level = :level AND ST_Intersects(geom, ST_SetSRID(ST_Point(:lon, :lat), 4326))"
                 " AND (valid_to IS NULL OR valid_to > now() OR level = 'district')"
                 " ORDER BY valid_to DESC NULLS FIRST, code LIMIT 1",
                 {"lon": lon, "lat": lat, "level": level})
    if not rows:
        raise NotFoundError(f"no {level} contains lon {lon}, lat {lat}: the point is off the map")
    return rows[0]


def school_counts(engine: Engine) -> list[dict[str, Any]]:
    """Count schools and sum their entry-grade capacity per district, level and ownership."""
    return _rows(engine,
                 "SELECT coalesce(d.name, s.district_code) AS district, s.level, s.ownership,"
                 " count(*) AS schools, coalesce(sum(coalesce(s.capacity_grade1, 0)"
                 " + coalesce(s.capacity_grade6, 0) + coalesce(s.capacity_grade10, 0)), 0) AS capacity"
                 " FROM schools s LEFT JOIN admin_units d ON d.code = s.district_code"
                 " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", {})
