"""Import population at any granularity and store it by ward and single year of age.

``edugis import population FILE``. Each row is keyed by a unit (``ward_code``,
``district_code`` or ``code``; or ``ward_name``, ``district_name`` or ``name``), a ``year``
(or ``--year`` for the whole file) and a ``count`` (or ``--count-column``), with a single
``age``, an ``age_from``/``age_to`` band (``age_to`` empty: up to
:data:`forecasting.age_structure.MAX_AGE`) or no age at all (every age).

How the figures are made (stored in ``population.method`` of each row, shown to planners):

1. **Unit to wards (dasymetric).** A ward row stays as it is. A district (or province) total
   is shared among its current wards (``parent_code``; for a unit whose wards have another
   parent, the current wards whose inner point lies in it) in proportion to the length of
   residential and living streets (``highway`` ``residential`` / ``living_street``) of the
   basemap in use inside each ward: people live along those streets. When there is no
   basemap in use, or some ward of the unit has no such street mapped (the map does not cover
   it), the unit is shared by ward area instead.
2. **Total to single ages.** A row without age, or with a band, is split over the ages by the
   national age structure of :mod:`forecasting.age_structure` (approximate 2019 census
   shares).
3. Counts are whole people: each split keeps the total exactly (largest remainder).

Names are matched like :func:`forecasting._matching.unit_key` ("Bình Thạnh" is "Quận Bình
Thạnh"); ``--map "name=code"`` decides a name. Rows of several names that land on one unit
(e.g. Quận 2, Quận 9 and Thủ Đức mapped to Thành phố Thủ Đức) are added up. Bad values,
unknown units and two rows covering one ward, year and age are errors naming row and field;
nothing is stored unless ``skip_invalid``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine

from basemaps._frames import parse_int
from basemaps.in_use import basemap_in_use
from basemaps.store import ImportReport, refuse_if_problems
from forecasting import age_structure
from forecasting._import_rows import count_problem, read_table, upsert, year_problem
from forecasting._matching import unit_key
from gis_service.errors import InputError, Problem
from gis_service.text_search import fold

#: Key columns, in order of preference: (column, by code?, admin level or None for any).
KEY_COLUMNS: tuple[tuple[str, bool, str | None], ...] = (
    ("ward_code", True, "ward"), ("district_code", True, "district"), ("code", True, None),
    ("ward_name", False, "ward"), ("district_name", False, "district"), ("name", False, None),
)
#: Streets people live along (the dasymetric weight).
LIVING_STREETS = ("residential", "living_street")

REASONS: dict[str, tuple[str, str]] = {
    "no_key": ("cần một cột đơn vị: {columns}", "a unit column is needed: one of {columns}"),
    "no_year": ("không có cột year: thêm --year", "no year column: pass --year"),
    "no_count": ("không có cột {column}", "no column {column}"),
    "bad_age": ("tuổi không hợp lệ {value!r}: cần số nguyên 0–{max}",
                "bad age {value!r}: a whole number 0-{max}"),
    "bad_band": ("nhóm tuổi {first}–{last} không hợp lệ", "bad age band {first}-{last}"),
    "unknown_code": ("không có đơn vị hành chính nào mã {value!r}", "no admin unit coded {value!r}"),
    "unknown_name": ("không có đơn vị nào tên {value!r}; dùng --map \"tên=mã\"",
                     "no admin unit named {value!r}; use --map \"name=code\""),
    "ambiguous_name": ("tên {value!r} ứng với nhiều đơn vị ({codes}); dùng --map \"tên=mã\"",
                       "name {value!r} fits several units ({codes}); use --map \"name=code\""),
    "no_wards": ("{unit} chưa có phường nào trong cơ sở dữ liệu: nhập ranh giới phường trước",
                 "{unit} has no wards in the database: import ward boundaries first"),
    "overlap": ("phường {ward}, năm {year}, tuổi {age} đã có từ dòng {first}",
                "ward {ward}, year {year}, age {age} already comes from row {first}"),
    "duplicate": ("trùng với dòng {first}", "same unit, year and ages as row {first}"),
}


@dataclass(frozen=True)
class PopulationFile:
    """Where the columns of a population file are, and the options that complete it."""

    path: Path
    year: int | None = None
    count_column: str = "count"


def read_population(source: PopulationFile) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and check the rows; return ``row, key, by_code, level, year, age_from, age_to, count``.

    Raises
    ------
    InputError
        For a file without a unit, year or count column.
    """
    path = source.path
    table = read_table(path, [])
    found = next((k for k in KEY_COLUMNS if k[0] in table.columns), None)
    if found is None:
        raise InputError(Problem.of(str(path), None, None, REASONS["no_key"],
                                    columns=", ".join(c for c, _, _ in KEY_COLUMNS)))
    if "year" not in table.columns and source.year is None:
        raise InputError(Problem.of(str(path), None, "year", REASONS["no_year"]))
    if source.count_column not in table.columns:
        raise InputError(Problem.of(str(path), None, source.count_column, REASONS["no_count"],
                                    column=source.count_column))
    column, by_code, level = found
    records, problems = [], []
    for row, cells in enumerate(table.to_dict("records"), start=1):
        year, bad_year = year_problem(path, row, "year", cells.get("year", str(source.year)))
        count, bad_count = count_problem(path, row, source.count_column, cells[source.count_column])
        age_from, age_to, bad_ages = _ages(path, row, cells)
        bad = [p for p in (bad_year, bad_count, *bad_ages) if p]
        problems += bad
        if not bad:
            records.append({"row": row, "key": cells[column].strip(), "column": column,
                            "by_code": by_code, "level": level, "year": year,
                            "age_from": age_from, "age_to": age_to, "count": count})
    return pd.DataFrame(records, columns=["row", "key", "column", "by_code", "level", "year",
                                          "age_from", "age_to", "count"]), problems


def _ages(path: Path, row: int, cells: dict[str, str]) -> tuple[int, int, list[Problem]]:
    """Return the row's age band (every age when the file has none) and its problems."""
    top = age_structure.MAX_AGE
    single = (cells.get("age") or "").strip()
    fields = (("age", single, 0), ("age", single, top)) if single else (
        ("age_from", (cells.get("age_from") or "").strip(), 0),
        ("age_to", (cells.get("age_to") or "").strip(), top))
    ages, problems = [], []
    for field, raw, default in fields:
        value = parse_int(raw) if raw else default
        if value is None or not 0 <= value <= top:
            problems.append(Problem.of(str(path), row, field, REASONS["bad_age"], value=raw,
                                       max=top))
            value = 0
        ages.append(value)
    if not problems and ages[0] > ages[1]:
        problems.append(Problem.of(str(path), row, "age_to", REASONS["bad_band"],
                                   first=ages[0], last=ages[1]))
    return ages[0], ages[1], problems[:1] if single else problems


def resolve_units(conn: Connection, rows: pd.DataFrame, path: Path,
                  overrides: dict[str, str]) -> tuple[pd.DataFrame, list[Problem]]:
    """Add each row's admin unit (``unit``, ``unit_level``); a problem for each row without one."""
    units = pd.DataFrame(conn.execute(sa.text(
        "SELECT code, name, level, valid_to IS NULL FROM admin_units")).all(),
        columns=["code", "name", "level", "current"])
    level_of = dict(zip(units["code"], units["level"], strict=True))
    units["key"] = [unit_key(n) for n in units["name"]]
    decided: dict[tuple[str, str], tuple[str, Problem | None]] = {}
    problems, codes = [], []
    for r in rows.itertuples():
        if (r.key, r.column) not in decided:
            decided[r.key, r.column] = _unit_of(str(r.key), str(r.column), bool(r.by_code),
                                                r.level if isinstance(r.level, str) else None,
                                                units, overrides, path)
        code, problem = decided[r.key, r.column]
        if problem is not None:
            problems.append(Problem(str(path), r.row, problem.field, problem.reason,
                                    problem.reason_vi))
        codes.append(code)
    resolved = rows.assign(unit=codes, unit_level=[level_of.get(c, "") for c in codes])
    return resolved[resolved["unit"] != ""], problems


def _unit_of(key: str, column: str, by_code: bool, level: str | None, units: pd.DataFrame,
             overrides: dict[str, str], path: Path) -> tuple[str, Problem | None]:
    """Return the unit code of one key (by ``--map``, code or name) or the problem."""
    level_of = dict(zip(units["code"], units["level"], strict=True))
    code = overrides.get(fold(key)) or (key if by_code else "")
    if code:
        fits = code in level_of and (level is None or level_of[code] == level or fold(key) in overrides)
        return (code, None) if fits else ("", Problem.of(str(path), 0, column,
                                                         REASONS["unknown_code"], value=code))
    same = units[(units["key"] == unit_key(key)) & ((units["level"] == level) if level else True)]
    if len(same) > 1:
        same = same[same["current"]] if same["current"].any() else same
    if len(same) == 1:
        return str(same["code"].iloc[0]), None
    reason = "ambiguous_name" if len(same) else "unknown_name"
    return "", Problem.of(str(path), 0, column, REASONS[reason], value=key,
                          codes=", ".join(same["code"]))


WEIGHTS_SQL = """
WITH units AS (SELECT code, geom FROM admin_units WHERE code = ANY(:units)),
children AS (
  SELECT u.code AS unit, w.code AS ward, w.geom FROM units u
  JOIN admin_units w ON w.parent_code = u.code AND w.level = 'ward' AND w.valid_to IS NULL),
inside AS (
  SELECT u.code AS unit, w.code AS ward, ST_Intersection(w.geom, u.geom) AS geom FROM units u
  JOIN admin_units w ON w.level = 'ward' AND w.valid_to IS NULL
   AND ST_Contains(u.geom, ST_PointOnSurface(w.geom))
  WHERE u.code NOT IN (SELECT unit FROM children)),
parts AS (SELECT * FROM children UNION ALL SELECT * FROM inside)
SELECT p.unit, p.ward, ST_Area(p.geom::geography) AS area_m2,
  coalesce((SELECT sum(CASE WHEN ST_CoveredBy(e.geom, p.geom) THEN e.length_m
                       ELSE ST_Length(ST_Intersection(e.geom, p.geom)::geography) END)
            FROM road_edges e WHERE e.basemap = :basemap AND e.highway = ANY(:streets)
             AND ST_Intersects(e.geom, p.geom)), 0) AS road_m
FROM parts p ORDER BY p.unit, p.ward
"""


def ward_weights(conn: Connection, units: list[str], basemap: str | None) -> pd.DataFrame:
    """Return ``unit, ward, area_m2, road_m`` for the current wards of each unit.

    ``road_m`` is the length of living streets of ``basemap`` in the ward (0 without one).
    """
    return pd.DataFrame(conn.execute(sa.text(WEIGHTS_SQL), {
        "units": units, "basemap": basemap or "", "streets": list(LIVING_STREETS)}).all(),
        columns=["unit", "ward", "area_m2", "road_m"])


def apportion(total: int, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """Split ``total`` in proportion to ``weights`` into whole numbers summing to ``total``.

    Largest remainder; equal shares when every weight is 0.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if not weights.sum() > 0:
        weights = np.ones_like(weights)
    exact = total * weights / weights.sum()
    whole = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[:total - int(whole.sum())]] += 1
    return np.asarray(whole, dtype=np.int64)


def _ward_split(group: pd.Series, weights: pd.DataFrame,
                basemap: str | None) -> tuple[list[str], NDArray[np.int64], str]:
    """Return the wards of a group's unit, its count split among them, and how."""
    if group["unit_level"] == "ward":
        return [group["unit"]], np.array([group["count"]]), "ward figures"
    mine = weights[weights["unit"] == group["unit"]]
    if basemap and len(mine) and (mine["road_m"] > 0).all():
        how = f"to wards by length of residential streets (basemap {basemap})"
        return list(mine["ward"]), apportion(group["count"], mine["road_m"].to_numpy()), how
    why = "no basemap in use" if not basemap else "some ward has no residential street mapped"
    how = f"to wards by ward area ({why})"
    return list(mine["ward"]), apportion(group["count"], mine["area_m2"].to_numpy()), how


def disaggregate(groups: pd.DataFrame, weights: pd.DataFrame, basemap: str | None,
                 source: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Split each group's count to wards and single ages (the method of the module docstring).

    ``groups`` has ``unit, unit_level, year, age_from, age_to, count, row``; returns
    ``ward_code, year, age, count, method, row`` and the (row, unit) of units without wards.
    """
    out: list[tuple[str, int, int, int, str, int]] = []
    no_wards: list[tuple[int, str]] = []
    for _, group in groups.iterrows():
        wards, counts, how = _ward_split(group, weights, basemap)
        if not wards:
            no_wards.append((int(group["row"]), str(group["unit"])))
            continue
        first, last = int(group["age_from"]), int(group["age_to"])
        ages_how = "single ages as given" if first == last else f"ages {first}-{last} by " + \
            age_structure.LABEL
        method = f"{group['unit_level']} figures of {source}; {how}; {ages_how}"
        shares = age_structure.band_shares(first, last)
        for ward, count in zip(wards, counts, strict=True):
            by_age = apportion(int(count), shares)
            out.extend((ward, int(group["year"]), first + i, int(n), method, int(group["row"]))
                       for i, n in enumerate(by_age))
    return pd.DataFrame(out, columns=["ward_code", "year", "age", "count", "method", "row"]), no_wards


def _groups(rows: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Add up rows of different names landing on one unit, year and band; refuse repeats."""
    problems = []
    seen: dict[tuple[object, ...], int] = {}
    for r in rows.itertuples():
        key = (r.key, r.year, r.age_from, r.age_to)
        if key in seen:
            problems.append(Problem.of(str(path), r.row, r.column, REASONS["duplicate"],
                                       first=seen[key]))
        seen.setdefault(key, r.row)
    grouped = rows.groupby(["unit", "unit_level", "year", "age_from", "age_to"], as_index=False,
                           sort=True).agg(count=("count", "sum"), row=("row", "min"))
    return grouped, problems


def _overlaps(cells: pd.DataFrame, path: Path) -> list[Problem]:
    """Return a problem for each (ward, year, age) a second group of rows also gives."""
    repeated = cells[cells.duplicated(["ward_code", "year", "age"], keep=False)]
    problems = []
    for (ward, year, age), same in repeated.groupby(["ward_code", "year", "age"], sort=True):
        rows = sorted(same["row"])
        problems.append(Problem.of(str(path), rows[1], "count", REASONS["overlap"], ward=ward,
                                   year=year, age=age, first=rows[0]))
    return problems[:1000]


def _without_wards(conn: Connection, path: Path, no_wards: list[tuple[int, str]]) -> list[Problem]:
    """Return a problem for each row whose unit has no ward to share its count among."""
    names: dict[str, str] = dict(conn.execute(sa.text(
        "SELECT code, code || ' ' || name FROM admin_units WHERE code = ANY(:c)"),
        {"c": [unit for _, unit in no_wards]}).all())
    return [Problem.of(str(path), row, None, REASONS["no_wards"], unit=names[unit])
            for row, unit in no_wards]


def import_population(engine: Engine, source: PopulationFile, overrides: dict[str, str],
                      skip_invalid: bool = False) -> ImportReport:
    """Read, disaggregate and upsert a population file in one transaction.

    Raises
    ------
    InputError
        Naming row and field of every bad value, unknown unit, unit without wards and
        overlap (nothing is stored), unless ``skip_invalid``.
    """
    started = time.perf_counter()
    path = source.path
    rows, problems = read_population(source)
    with engine.begin() as conn:
        rows, unknown = resolve_units(conn, rows, path, overrides)
        groups, repeats = _groups(rows, path)
        basemap = basemap_in_use(conn)
        weights = ward_weights(conn, sorted(set(groups["unit"])), basemap)
        label = path.name + (f", column {source.count_column}" if source.count_column != "count" else "")
        cells, no_wards = disaggregate(groups, weights, basemap, label)
        problems += unknown + repeats + _without_wards(conn, path, no_wards) + _overlaps(cells, path)
        problems.sort(key=lambda p: p.row or 0)
        refuse_if_problems(problems, skip_invalid)
        bad_rows = {p.row for p in problems}
        cells = cells[~cells["row"].isin(bad_rows)]
        inserted, updated = upsert(conn, "population", ["ward_code", "year", "age"],
                                   ["count", "method"], list(cells.drop(columns="row").itertuples(
                                       index=False, name=None)))
    report = ImportReport("population", str(path), inserted=inserted, updated=updated,
                          unchanged=len(cells) - inserted - updated, rejected=len(bad_rows),
                          problems=problems)
    report.details = {"wards": cells["ward_code"].nunique(), "people": int(cells["count"].sum()),
                      "methods": "; ".join(f"[{n} rows] {m}" for m, n
                                           in cells["method"].value_counts().items())}
    report.seconds = time.perf_counter() - started
    return report


def population_methods(engine: Engine) -> list[dict[str, object]]:
    """Return how the stored population was made: ``method, wards, first_year, last_year``."""
    with engine.connect() as conn:
        return [row._asdict() for row in conn.execute(sa.text(
            "SELECT method, count(DISTINCT ward_code) AS wards, min(year) AS first_year,"
            " max(year) AS last_year FROM population GROUP BY method ORDER BY wards DESC"))]
