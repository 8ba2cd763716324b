"""Store clean layers in PostGIS: each import is one transaction, idempotent by natural key."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from basemaps.in_use import basemap_in_use, claim_if_none
from basemaps.road_layer import RoadLayer
from gis_service.errors import InputError, Problem
from gis_service.spatial import city_extent


@dataclass
class ImportReport:
    """What an import did: counts by outcome and the rows it refused."""

    kind: str
    source: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """Return the counts and time on one line, then one line per detail."""
        text = (f"{self.kind} from {self.source}: {self.inserted} inserted, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.rejected} rejected in {self.seconds:.1f} s")
        for key, value in self.details.items():
            text += f"\n  {key}: {value}"
        return text


def ewkb(geoms: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Hex EWKB with SRID 4326, the fastest text form PostGIS parses in COPY."""
    with_srid = shapely.set_srid(np.asarray(geoms, dtype=object), 4326)
    return np.asarray(shapely.to_wkb(with_srid, hex=True, include_srid=True))


def _raw(conn: Connection) -> psycopg.Connection[Any]:
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]] | list[Any],
    total: int | None = None, progress: str | None = None,
) -> None:
    """COPY ``rows`` into ``table`` on the connection's transaction, with an optional bar."""
    cursor = _raw(conn).cursor()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    bar = tqdm(total=total, desc=progress, unit="row", disable=progress is None, leave=False)
    with cursor.copy(statement) as copy:
        for count, row in enumerate(rows, start=1):
            copy.write_row(row)
            if count % 20_000 == 0:
                bar.update(20_000)
    bar.close()


def refuse_if_problems(problems: list[Problem], skip_invalid: bool) -> None:
    """Raise with every problem unless the caller asked to skip invalid rows."""
    if problems and not skip_invalid:
        raise InputError(problems)


# ---- roads -----------------------------------------------------------------------------------


def store_roads(engine: Engine, layer: RoadLayer, name: str, progress: bool = False,
                actor: str = "import") -> ImportReport:
    """Replace basemap ``name`` by ``layer`` unless it already holds this exact version.

    The basemap in use does not change, except that the first one imported is put in use
    (:mod:`basemaps.in_use`); ``report.details["in_use"]`` says which one is.
    """
    started = time.perf_counter()
    report = ImportReport("roads", layer.source)
    with engine.begin() as conn:
        current = conn.execute(sa.text("SELECT version FROM basemaps WHERE name = :n FOR UPDATE"),
                               {"n": name}).scalar()
        if current == layer.version:  # same content: only mark it as the latest import
            conn.execute(sa.text("UPDATE basemaps SET imported_at = now() WHERE name = :n"),
                         {"n": name})
            report.unchanged = layer.edge_count
        else:
            if current is not None:
                conn.execute(sa.text("DELETE FROM basemaps WHERE name = :n"), {"n": name})
                report.updated = layer.edge_count
            else:
                report.inserted = layer.edge_count
            conn.execute(sa.text(
                "INSERT INTO basemaps (name, version, source, node_count, edge_count) "
                "VALUES (:n, :v, :s, :nc, :ec)"),
                {"n": name, "v": layer.version, "s": layer.source, "nc": layer.node_count,
                 "ec": layer.edge_count})
            nodes = layer.nodes
            node_geoms = ewkb(shapely.points(nodes["lon"].to_numpy(), nodes["lat"].to_numpy()))
            copy_rows(conn, "road_nodes", ["basemap", "node_id", "geom"],
                      zip([name] * len(nodes), nodes["node_id"].tolist(), node_geoms, strict=True),
                      total=len(nodes), progress="road nodes" if progress else None)
            edges = layer.edges
            maxspeed = [None if np.isnan(s) else float(s) for s in edges["maxspeed_kmh"]]
            copy_rows(
                conn, "road_edges",
                ["basemap", "edge_id", "u", "v", "osm_id", "highway", "oneway", "maxspeed_kmh",
                 "access", "name", "length_m", "geom"],
                zip([name] * len(edges), range(len(edges)), edges["u"].tolist(),
                    edges["v"].tolist(), edges["osm_id"].tolist(), edges["highway"].tolist(),
                    edges["oneway"].tolist(), maxspeed, edges["access"].tolist(),
                    edges["name"].tolist(), edges["length_m"].tolist(),
                    ewkb(edges["geometry"].to_numpy()), strict=True),
                total=len(edges), progress="road edges" if progress else None,
            )
        addresses = _store_addresses(conn, layer, name, progress)
        claim_if_none(conn, name, actor)
        in_use = basemap_in_use(conn)
    report.details = {"basemap": name, "version": layer.version, "nodes": layer.node_count,
                      "edges": layer.edge_count, "address_points": addresses, "in_use": in_use}
    report.seconds = time.perf_counter() - started
    return report


def _store_addresses(conn: Connection, layer: RoadLayer, name: str, progress: bool) -> int:
    """Replace the address points of basemap ``name`` by the layer's; return how many.

    Replaced on every import, even of an unchanged road network (the road version does not
    cover them, and a basemap imported before they were read gets them this way).
    """
    conn.execute(sa.text("DELETE FROM address_points WHERE basemap = :n"), {"n": name})
    points = layer.addresses
    if points is None or points.empty:
        return 0
    geoms = ewkb(shapely.points(points["lon"].to_numpy(float), points["lat"].to_numpy(float)))
    copy_rows(conn, "address_points", ["basemap", "id", "housenumber", "street", "geom"],
              zip([name] * len(points), range(len(points)), points["housenumber"].tolist(),
                  points["street"].tolist(), geoms, strict=True),
              total=len(points), progress="address points" if progress else None)
    return len(points)


# ---- admin units ----------------------------------------------------------------------------

_UPSERT_COUNTS = "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted"


def store_boundaries(
    engine: Engine, units: gpd.GeoDataFrame, problems: list[Problem], source: str,
    skip_invalid: bool = False, valid_from: date | None = None, valid_to: date | None = None,
) -> ImportReport:
    """Upsert admin units by code, with their period of validity.

    A parent code must be known in the file or the database (a ward of today names the
    province; a former ward may name its former district). A unit without a parent is placed
    in the unit containing its point on surface: a ward of today (no ``valid_to``) in the
    province of today, a former ward in a district, else in the province; a district in the
    province; units stored earlier without a parent are placed too (wards imported before
    their province). A unit without a parent in the file keeps the parent it has.
    ``valid_from``/``valid_to`` apply to the units that do not carry their own
    (``valid_from``/``valid_to`` columns); units with ``valid_to`` set are history.
    """
    started = time.perf_counter()
    report = ImportReport("boundaries", source)
    if valid_from and valid_to and valid_to <= valid_from:
        raise InputError(Problem(source, None, "valid_to",
                                 f"valid_to {valid_to} is not after valid_from {valid_from}",
                                 reason_vi=f"ngày hết hiệu lực {valid_to} không sau ngày bắt đầu"
                                           f" {valid_from}"))
    with engine.begin() as conn:
        known = set(conn.execute(sa.text("SELECT code FROM admin_units")).scalars())
        parents = [p if isinstance(p, str) and p else None for p in units["parent_code"]]
        in_file = set(units["code"])
        keep = []
        for index, (code, parent) in enumerate(zip(units["code"], parents, strict=True)):
            if parent and parent not in known | in_file:
                problems.append(Problem(source, None, "parent_code",
                                        f"unit {code}: unknown parent unit {parent}",
                                        reason_vi=f"đơn vị {code}: không có đơn vị cấp trên mã {parent}"))
            else:
                keep.append(index)
        refuse_if_problems(problems, skip_invalid)
        units = units.iloc[keep]
        conn.execute(sa.text(
            "CREATE TEMP TABLE staging_units (LIKE admin_units INCLUDING DEFAULTS) ON COMMIT DROP"))
        copy_rows(conn, "staging_units",
                  ["code", "name", "level", "parent_code", "valid_from", "valid_to", "source", "geom"],
                  zip(units["code"], units["name"], units["level"], [parents[i] for i in keep],
                      _dates(units, "valid_from", valid_from), _dates(units, "valid_to", valid_to),
                      [source] * len(units), ewkb(units.geometry.to_numpy()), strict=True))
        placed = _place_in_parents(conn, "staging_units")
        inserted, updated = conn.execute(sa.text(
            "WITH upserted AS ("
            " INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to, source,"
            "  geom)"
            " SELECT code, name, level, parent_code, valid_from, valid_to, source, ST_Multi(geom)"
            " FROM staging_units ORDER BY array_position(ARRAY['province', 'district', 'ward'],"
            "  level::text)"
            " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,"
            "  parent_code = coalesce(EXCLUDED.parent_code, admin_units.parent_code),"
            "  valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,"
            "  source = EXCLUDED.source, geom = EXCLUDED.geom"
            " WHERE (admin_units.name, admin_units.level, admin_units.parent_code,"
            "  admin_units.valid_from, admin_units.valid_to)"
            "  IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level,"
            "  coalesce(EXCLUDED.parent_code, admin_units.parent_code),"
            "  EXCLUDED.valid_from, EXCLUDED.valid_to)"
            "  OR NOT ST_Equals(admin_units.geom, EXCLUDED.geom)"
            " RETURNING (xmax = 0) AS inserted) " + _UPSERT_COUNTS)).one()
        placed += _place_in_parents(conn, "admin_units")  # units stored before their parent
    report.inserted, report.updated = int(inserted), int(updated)
    report.unchanged = len(units) - report.inserted - report.updated
    report.rejected = len({(p.row, p.field) for p in problems}) if problems else 0
    report.problems = problems
    if placed:
        report.details["placed in a parent unit"] = placed
    report.seconds = time.perf_counter() - started
    return report


def _dates(units: pd.DataFrame, column: str, default: date | None) -> list[date | None]:
    """Return each unit's date of ``column`` (``default`` where the frame has none)."""
    if column not in units.columns:
        return [default] * len(units)
    return [default if v is None or pd.isna(v) else pd.Timestamp(v).date() for v in units[column]]


#: Where a unit without a parent code goes: the candidates' condition, best first.
_PARENT_RULES = (
    ("s.level = 'ward' AND s.valid_to IS NULL", "p.level = 'province' AND p.valid_to IS NULL"),
    ("s.level = 'ward' AND s.valid_to IS NOT NULL", "p.level = 'district'"),
    ("s.level IN ('ward', 'district')", "p.level = 'province'"),
)


def _place_in_parents(conn: Connection, table: str) -> int:
    """Give the units of ``table`` without a parent the unit containing them.

    ``table`` is ``staging_units`` (the file's units: candidates are the units of the file
    and of the database) or ``admin_units`` (units imported before the unit that contains
    them); the rules are :data:`_PARENT_RULES`. Returns how many units were placed.
    """
    candidates = "admin_units" if table == "admin_units" else (
        "(SELECT code, level, valid_to, geom FROM admin_units"
        " WHERE code NOT IN (SELECT code FROM staging_units)"
        " UNION ALL SELECT code, level, valid_to, geom FROM staging_units)")
    placed = 0
    for unit, parent in _PARENT_RULES:
        placed += conn.execute(sa.text(
            "WITH chosen AS (SELECT DISTINCT ON (s.code) s.code, p.code AS parent"
            f"  FROM {table} s JOIN {candidates} p ON p.code <> s.code"
            f"  AND {parent} AND ST_Intersects(p.geom, ST_PointOnSurface(s.geom))"
            f"  WHERE s.parent_code IS NULL AND {unit} ORDER BY s.code, p.code)"
            f" UPDATE {table} s SET parent_code = chosen.parent FROM chosen"
            " WHERE s.code = chosen.code")).rowcount
    return placed


# ---- schools --------------------------------------------------------------------------------


def _programmes(schools: pd.DataFrame) -> list[list[str]]:
    """Each school's programmes (an empty list when the frame has none)."""
    if "programmes" not in schools.columns:
        return [[] for _ in range(len(schools))]
    return [list(p) if isinstance(p, list | tuple) else [] for p in schools["programmes"]]


def _levels(schools: pd.DataFrame) -> list[list[str]]:
    """Every level of each school: its ``levels`` column when given, else its one ``level``."""
    if "levels" not in schools:
        return [[level] for level in schools["level"]]
    return [list(ls) if isinstance(ls, list | tuple) and len(ls) else [level]
            for ls, level in zip(schools["levels"], schools["level"], strict=True)]


#: What the city is, by :func:`gis_service.spatial.city_extent`: (English, Vietnamese). A
#: union of wards has holes where wards are missing: the province boundary has none.
_CITY_EXTENT = {
    "province": ("the province boundary", "ranh giới tỉnh/thành phố"),
    "wards": ("the union of the wards of today; import the province boundary"
              " (--level province) if some are missing",
              "hợp các phường/xã hiện nay; nạp ranh giới thành phố (--level province) nếu thiếu"
              " phường/xã"),
    "districts": ("the union of the districts", "hợp các quận/huyện"),
}


def _check_in_city_and_place(conn: Connection, source: str, problems: list[Problem]) -> str:
    """Refuse staged schools outside the city or naming an unknown ward; place the others.

    The city is its province boundary, else the union of its wards of today, else of its
    districts (:func:`gis_service.spatial.city_extent`); returns which, for the report. A
    school gets the ward of today containing it (when the file names none, or a former
    ward) and, as history, the former district containing it.
    """
    extent = city_extent(conn, "a")
    if extent is None:
        return "no check: no province, ward or district imported yet"
    kind, in_city = extent
    city_en, city_vi = _CITY_EXTENT[kind]
    outside = conn.execute(sa.text(
        "SELECT s.row_number, s.code, ST_X(s.geom), ST_Y(s.geom) FROM staging_schools s"
        f" WHERE NOT EXISTS (SELECT 1 FROM admin_units a WHERE {in_city}"
        "  AND ST_Intersects(a.geom, s.geom))")).all()
    for row_number, code, lon, lat in outside:
        problems.append(Problem(
            source, row_number, "lon",
            f"school {code} at {lon:.5f}, {lat:.5f} is outside the city ({city_en})",
            reason_vi=f"trường {code} tại {lon:.5f}, {lat:.5f} nằm ngoài thành phố ({city_vi})"))
    unknown_ward = conn.execute(sa.text(
        "SELECT s.row_number, s.ward_code FROM staging_schools s WHERE s.ward_code IS NOT"
        " NULL AND NOT EXISTS (SELECT 1 FROM admin_units a WHERE a.code = s.ward_code)"
    )).all()
    for row_number, ward in unknown_ward:
        problems.append(Problem(source, row_number, "ward_code", f"unknown ward {ward}",
                                reason_vi=f"không có phường/xã nào mã {ward}"))
    bad_rows = [r for r, *_ in outside] + [r for r, _ in unknown_ward]
    conn.execute(sa.text("DELETE FROM staging_schools WHERE row_number = ANY(:rows)"),
                 {"rows": bad_rows})
    conn.execute(sa.text(  # the former district: the file's, its ward's, else the containing one
        "UPDATE staging_schools s SET district_code = coalesce("
        " (SELECT w.parent_code FROM admin_units w JOIN admin_units d ON d.code = w.parent_code"
        "  WHERE w.code = s.ward_code AND d.level = 'district'),"
        " (SELECT code FROM admin_units d WHERE d.level = 'district'"
        "  AND ST_Intersects(d.geom, s.geom) ORDER BY d.valid_to DESC NULLS FIRST, d.code LIMIT 1))"
        " WHERE s.district_code IS NULL"))
    conn.execute(sa.text(
        "UPDATE staging_schools s SET ward_code = coalesce((SELECT a.code FROM admin_units a"
        "  WHERE a.level = 'ward' AND a.valid_to IS NULL AND ST_Intersects(a.geom, s.geom)"
        "  ORDER BY a.code LIMIT 1), s.ward_code)"
        " WHERE s.ward_code IS NULL OR s.ward_code IN (SELECT code FROM admin_units"
        "  WHERE valid_to IS NOT NULL)"))
    return city_en


def store_schools(
    engine: Engine, schools: pd.DataFrame, problems: list[Problem], source: str,
    skip_invalid: bool = False,
) -> ImportReport:
    """Upsert schools by code, placing each in its ward and refusing points outside the city.

    The city is its province boundary, else the union of its wards of today, else of its
    districts; ``report.details["city extent"]`` says which, or that nothing was loaded to
    check against.
    """
    started = time.perf_counter()
    report = ImportReport("schools", source)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TEMP TABLE staging_schools (LIKE schools INCLUDING DEFAULTS, row_number int)"
            " ON COMMIT DROP"))
        columns = ["code", "name", "level", "ownership", "address", "district_code", "ward_code",
                   "capacity_grade1", "capacity_grade6", "capacity_grade10", "programmes", "levels",
                   "source", "geom", "row_number"]
        geoms = ewkb(shapely.points(schools["lon"].to_numpy(float), schools["lat"].to_numpy(float)))

        def nullable(values: pd.Series) -> list[Any]:
            return [None if pd.isna(v) else v for v in values]

        def whole(values: pd.Series) -> list[int | None]:
            return [None if pd.isna(v) else int(v) for v in values]

        copy_rows(conn, "staging_schools", columns, zip(
            schools["code"], schools["name"], schools["level"], schools["ownership"],
            ["" if pd.isna(a) else a for a in schools["address"]], nullable(schools["district_code"]),
            nullable(schools["ward_code"]), whole(schools["capacity_grade1"]),
            whole(schools["capacity_grade6"]), whole(schools["capacity_grade10"]),
            _programmes(schools), _levels(schools), [source] * len(schools), geoms,
            schools["row"].tolist(),
            strict=True))
        report.details["city extent"] = _check_in_city_and_place(conn, source, problems)
        refuse_if_problems(problems, skip_invalid)
        updatable = [c for c in columns if c not in ("code", "row_number")]
        inserted, updated = conn.execute(sa.text(
            "WITH upserted AS ("
            f" INSERT INTO schools ({', '.join(columns[:-1])})"
            f" SELECT {', '.join(columns[:-1])} FROM staging_schools"
            " ON CONFLICT (code) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in updatable)
            + " WHERE (" + ", ".join(f"schools.{c}" for c in updatable if c != "geom")
            + ") IS DISTINCT FROM (" + ", ".join(f"EXCLUDED.{c}" for c in updatable if c != "geom")
            + ") OR NOT ST_Equals(schools.geom, EXCLUDED.geom)"
            " RETURNING (xmax = 0) AS inserted) " + _UPSERT_COUNTS)).one()
        stored = conn.execute(sa.text("SELECT count(*) FROM staging_schools")).scalar_one()
    report.inserted, report.updated = int(inserted), int(updated)
    report.unchanged = int(stored) - report.inserted - report.updated
    report.rejected = len({p.row for p in problems})
    report.problems = problems
    report.seconds = time.perf_counter() - started
    return report
