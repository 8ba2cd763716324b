"""Spatial queries against PostGIS.

Schools by bbox / polygon / radius, admin unit of a point, nearest schools as the crow
flies. Each returns plain dicts ready for JSON.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from shapely import Geometry
from sqlalchemy.engine import Engine

from gis_service.errors import NotFoundError
from gis_service.levels import school_level

_SCHOOL_COLUMNS = (
    "code, name, level, ownership, address, district_code, ward_code, capacity_grade1,"
    " capacity_grade6, capacity_grade10, ST_X(geom) AS lon, ST_Y(geom) AS lat"
)


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
    """Return the admin unit of ``level`` containing the point; NotFoundError when none does."""
    rows = _rows(engine,
                 "SELECT code, name, level, parent_code FROM admin_units"
                 " WHERE level = :level AND ST_Intersects(geom, ST_SetSRID(ST_Point(:lon, :lat), 4326))"
                 " AND (valid_to IS NULL OR valid_to > now()) ORDER BY code LIMIT 1",
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
