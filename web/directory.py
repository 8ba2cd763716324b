"""The public school directory: filtered lists, one school's facts and cut-off history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.changes import last_changed
from gis_service.errors import NotFoundError
from gis_service.models import OWNERSHIPS, SCHOOL_LEVELS
from web.deps import BadRequestError
from web.i18n import matches

ENTRY_CAPACITY = {"primary": "capacity_grade1", "lower_secondary": "capacity_grade6",
                  "upper_secondary": "capacity_grade10"}


@dataclass(frozen=True)
class SchoolFilters:
    """Filters shared by the map, the list view and ``/api/schools``; empty means all."""

    q: str = ""
    level: str = ""
    ownership: str = ""
    district: str = ""

    def __post_init__(self) -> None:
        if self.level and self.level not in SCHOOL_LEVELS:
            raise BadRequestError(f"unknown level {self.level!r}; one of {', '.join(SCHOOL_LEVELS)}")
        if self.ownership and self.ownership not in OWNERSHIPS:
            raise BadRequestError(f"unknown ownership {self.ownership!r}; one of {', '.join(OWNERSHIPS)}")
        if len(self.q) > 100 or len(self.district) > 16:
            raise BadRequestError("search text or district code too long")


def list_schools(engine: Engine, filters: SchoolFilters) -> list[dict[str, Any]]:
    """Schools matching ``filters``, ordered by name, with district name and entry capacity."""
    clauses, params = ["true"], {}
    for name, column in (("level", "s.level"), ("ownership", "s.ownership"),
                         ("district", "s.district_code")):
        value = getattr(filters, name)
        if value:
            clauses.append(f"{column} = :{name}")
            params[name] = value
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT s.code, s.name, s.level, s.ownership, s.address, s.district_code,"
            " d.name AS district_name, s.capacity_grade1, s.capacity_grade6, s.capacity_grade10,"
            " ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat FROM schools s"
            " LEFT JOIN admin_units d ON d.code = s.district_code"
            f" WHERE {' AND '.join(clauses)} ORDER BY s.name, s.code"), params)]
    for row in rows:
        entry_column = ENTRY_CAPACITY.get(row["level"])
        row["entry_capacity"] = row[entry_column] if entry_column else None
    rows.sort(key=lambda r: (natural_key(r["name"]), r["code"]))
    return [r for r in rows if matches(filters.q, r["name"])] if filters.q else rows


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "Mẫu 6" before "Mẫu 10" (numbers compared as numbers)."""
    parts = re.split(r"(\d+)", name.casefold())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def districts(engine: Engine) -> list[dict[str, Any]]:
    """Current districts (code, name) for the filter menus."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT code, name FROM admin_units WHERE level = 'district'"
            " AND (valid_to IS NULL OR valid_to > now()) ORDER BY name"))]


def school_detail(engine: Engine, code: str) -> dict[str, Any]:
    """One school's public facts; ``NotFoundError`` when unknown."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT s.code, s.name, s.level, s.ownership, s.address, s.district_code, s.ward_code,"
            " d.name AS district_name, w.name AS ward_name, s.capacity_grade1, s.capacity_grade6,"
            " s.capacity_grade10, s.programmes, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat"
            " FROM schools s LEFT JOIN admin_units d ON d.code = s.district_code"
            " LEFT JOIN admin_units w ON w.code = s.ward_code WHERE s.code = :c"), {"c": code}).first()
    if row is None:
        raise NotFoundError(f"no school with code {code!r}")
    return dict(row._mapping)


def cutoff_history(engine: Engine, code: str) -> list[dict[str, Any]]:
    """Grade-10 cut-offs of the regular programme: year, round (NV1..NV3), score."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT year, admission_round, cutoff_score FROM cutoffs WHERE school_code = :c"
            " AND programme = 'regular' ORDER BY year, admission_round"), {"c": code})]


def data_date(engine: Engine) -> str:
    """Date of the newest change to the published data (schools, wards, roads, catchments,
    cut-offs...), ISO format; today when none."""
    with engine.connect() as conn:
        newest = last_changed(conn)
    return (newest.date() if newest else date.today()).isoformat()


def school_catchment(engine: Engine, code: str) -> dict[str, Any] | None:
    """A school's catchment (wards by name, outline as GeoJSON, source), or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT array_agg(w.name ORDER BY w.name), ST_AsGeoJSON(ST_Union(w.geom), 6),"
            " min(c.source) FROM catchments c JOIN admin_units w ON w.code = c.ward_code"
            " WHERE c.school_code = :c"), {"c": code}).one()
    if row[0] is None:
        return None
    return {"wards": list(row[0]), "geometry": row[1], "source": row[2]}
