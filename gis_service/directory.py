"""The school directory: schools and admin units as the public pages and APIs read them.

Filtered lists, one school's facts, catchment and cut-off history, the wards of today and
the former districts for the filter menus, the extent of the schools, the date of the data;
and the points and place names the finder loads.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.changes import last_changed
from gis_service.errors import NotFoundError
from gis_service.geocoder import place_names as place_names  # the finder's index, moved there
from gis_service.levels import LEVEL_BY_NAME, SCHOOL_LEVELS
from gis_service.models import OWNERSHIPS
from gis_service.text_search import matches

#: Longest search text and unit code (ward, former district) a filter accepts.
MAX_QUERY_LENGTH, MAX_DISTRICT_LENGTH = 100, 16


@dataclass(frozen=True)
class SchoolFilters:
    """Filters shared by the map, the list view and ``/api/schools``; empty means all.

    ``ward`` is a ward or commune of today; ``district`` a former district (before 1 July
    2025), the optional history grouping.
    """

    q: str = ""
    level: str = ""
    ownership: str = ""
    district: str = ""
    ward: str = ""

    def problem(self) -> str | None:
        """Return why these filters are refused, or ``None``.

        A filter is refused for an unknown level or ownership, or a text too long.
        """
        if self.level and self.level not in SCHOOL_LEVELS:
            return f"unknown level {self.level!r}; one of {', '.join(SCHOOL_LEVELS)}"
        if self.ownership and self.ownership not in OWNERSHIPS:
            return f"unknown ownership {self.ownership!r}; one of {', '.join(OWNERSHIPS)}"
        if len(self.q) > MAX_QUERY_LENGTH or max(len(self.district), len(self.ward)) > \
                MAX_DISTRICT_LENGTH:
            return "search text, ward or district code too long"
        return None


def list_schools(engine: Engine, filters: SchoolFilters) -> list[dict[str, Any]]:
    """List the schools matching ``filters`` by name, with ward, former district and entry capacity."""
    clauses, params = ["true"], {}
    for name, column in (("level", "s.level"), ("ownership", "s.ownership"),
                         ("district", "s.district_code"), ("ward", "s.ward_code")):
        value = getattr(filters, name)
        if value:
            clauses.append(f"{column} = :{name}")
            params[name] = value
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(sa.text(
            "SELECT s.code, s.name, s.level, s.ownership, s.address, s.district_code,"
            " d.name AS district_name, s.ward_code, w.name AS ward_name, s.capacity_grade1,"
            " s.capacity_grade6, s.capacity_grade10, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat"
            " FROM schools s LEFT JOIN admin_units d ON d.code = s.district_code"
            " LEFT JOIN admin_units w ON w.code = s.ward_code"
            f" WHERE {' AND '.join(clauses)} ORDER BY s.name, s.code"), params)]
    for row in rows:
        level = LEVEL_BY_NAME.get(row["level"])
        row["entry_capacity"] = row[level.capacity_column] if level and level.grades else None
    rows.sort(key=lambda r: (natural_key(r["name"]), r["code"]))
    return [r for r in rows if matches(filters.q, r["name"])] if filters.q else rows


#: Vietnamese letters that follow their base letter in the alphabet (a ă â, d đ, e ê, o ô ơ,
#: u ư), as the combining mark (NFD) that makes them, with their rank after the base letter.
_LETTER_MARKS = {"\u0306": 1, "\u0302": 2, "\u031b": 3}  # breve, circumflex, horn
#: The five tone marks in dictionary order (no tone first): huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letters_and_tones(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return the Vietnamese alphabet weights of ``text``'s characters and their tones.

    A letter weighs ``4 * code point of its base + rank`` (``ă`` just after ``a``, ``đ``
    just after ``d``), anything else ``4 * code point``; tones count only after the letters.
    """
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _LETTER_MARKS and letters:
            letters[-1] += _LETTER_MARKS[char]
        elif char in _TONES and tones:
            tones[-1] = _TONES[char]
        elif char == "đ":
            letters.append(4 * ord("d") + 1)
            tones.append(0)
        else:
            letters.append(4 * ord(char))
            tones.append(0)
    return tuple(letters), tuple(tones)


def natural_key(name: str) -> tuple[Any, ...]:
    """Return a sort key in Vietnamese dictionary order, numbers compared as numbers.

    "Phường 2" comes before "Phường 10"; letters follow the Vietnamese alphabet (a ă â b c
    d đ e ê ... o ô ơ ... u ư ...: "Bến Thành" before "Bình Tây", "Đông Thạnh" before
    "Hiệp Bình", not after "Xuân Thới Sơn" as code points would have it); tones (none,
    huyền, hỏi, ngã, sắc, nặng) break ties, then the text itself.
    """
    text = unicodedata.normalize("NFC", name).casefold()
    primary: list[tuple[int, int | tuple[int, ...]]] = []
    secondary: list[tuple[int, ...]] = []
    for part in re.split(r"(\d+)", text):
        if part.isdigit():
            primary.append((0, int(part)))
        elif part:
            letters, tones = _letters_and_tones(part)
            primary.append((1, letters))
            secondary.append(tones)
    return tuple(primary), tuple(secondary), text


def wards(engine: Engine) -> list[dict[str, Any]]:
    """Return the wards and communes of today (code, name) for the filter menus, by name."""
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(sa.text(
            "SELECT code, name FROM admin_units WHERE level = 'ward' AND valid_to IS NULL"))]
    return sorted(rows, key=lambda r: (natural_key(r["name"]), r["code"]))


def former_districts(engine: Engine) -> list[dict[str, Any]]:
    """Return the districts (code, name), all former since 1 July 2025, for the history grouping.

    Only those holding a school, by name.
    """
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(sa.text(
            "SELECT code, name FROM admin_units d WHERE level = 'district'"
            " AND EXISTS (SELECT 1 FROM schools s WHERE s.district_code = d.code)"))]
    return sorted(rows, key=lambda r: (natural_key(r["name"]), r["code"]))


def school_detail(engine: Engine, code: str) -> dict[str, Any]:
    """Return one school's public facts; ``NotFoundError`` when unknown."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT s.code, s.name, s.level, s.ownership, s.address, s.district_code, s.ward_code,"
            " d.name AS district_name, w.name AS ward_name, s.capacity_grade1, s.capacity_grade6,"
            " s.capacity_grade10, s.programmes, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat"
            " FROM schools s LEFT JOIN admin_units d ON d.code = s.district_code"
            " LEFT JOIN admin_units w ON w.code = s.ward_code WHERE s.code = :c"), {"c": code}).first()
    if row is None:
        raise NotFoundError(f"no school with code {code!r}")
    return row._asdict()


def school_names(engine: Engine, codes: list[str]) -> dict[str, str]:
    """Return the name of each known school code of ``codes`` (unknown codes are left out)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT code, name FROM schools WHERE code = ANY(:c)"),
                            {"c": codes})
        return {str(code): str(name) for code, name in rows}


def cutoff_history(engine: Engine, code: str) -> list[dict[str, Any]]:
    """Return grade-10 cut-offs of the regular programme: year, round (NV1..NV3), score."""
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.text(
            "SELECT year, admission_round, cutoff_score FROM cutoffs WHERE school_code = :c"
            " AND programme = 'regular' ORDER BY year, admission_round"), {"c": code})]


def nv1_cutoff_history(engine: Engine, codes: list[str]) -> dict[str, list[dict[str, float]]]:
    """Return the NV1 regular-programme cut-offs of each school code of ``codes``.

    Each as ``year``/``cutoff``, oldest first (codes without history are left out).
    """
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT school_code, year, cutoff_score FROM cutoffs WHERE school_code = ANY(:c)"
            " AND admission_round = 'NV1' AND programme = 'regular' ORDER BY school_code, year"),
            {"c": codes}).all()
    history: dict[str, list[dict[str, float]]] = {}
    for code, year, value in rows:
        history.setdefault(code, []).append({"year": int(year), "cutoff": float(value)})
    return history


def cutoffs_version(engine: Engine) -> tuple[Any, ...]:
    """Return a value that changes whenever the stored cut-offs do (count, newest year, sum)."""
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT count(*), max(year), sum(cutoff_score) FROM cutoffs")).one())


def data_date(engine: Engine) -> str:
    """Return the date of the newest change to the published data, ISO format.

    The data are schools, wards, roads, catchments, cut-offs...; today when none.
    """
    with engine.connect() as conn:
        newest = last_changed(conn)
    return (newest.date() if newest else date.today()).isoformat()


def school_catchment(engine: Engine, code: str) -> dict[str, Any] | None:
    """Return a school's catchment (wards by name, outline as GeoJSON, source), or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT array_agg(w.name ORDER BY w.name), ST_AsGeoJSON(ST_Union(w.geom), 6),"
            " min(c.source) FROM catchments c JOIN admin_units w ON w.code = c.ward_code"
            " WHERE c.school_code = :c"), {"c": code}).one()
    if row[0] is None:
        return None
    return {"wards": list(row[0]), "geometry": row[1], "source": row[2]}


def school_extent(engine: Engine) -> tuple[float, float, float, float] | None:
    """Return ``(min_lon, min_lat, max_lon, max_lat)`` of every school, or ``None`` with no school."""
    with engine.connect() as conn:
        box = conn.execute(sa.text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                                   " FROM (SELECT ST_Extent(geom) e FROM schools) x")).one()
    if box[0] is None:
        return None
    return (box[0], box[1], box[2], box[3])


def school_points(engine: Engine) -> pd.DataFrame:
    """Return every school's code, name, level, ownership, address, ``lon`` and ``lat``, by code."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT code, name, level, ownership, address,"
                                   " ST_X(geom) AS lon, ST_Y(geom) AS lat FROM schools"
                                   " ORDER BY code"), conn)
