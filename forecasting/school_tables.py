"""Import per-school tables: enrolment history and entry-grade capacities.

``edugis import enrolment FILE``: ``school_code,year,grade,headcount`` into ``enrolment``
(upsert by school, year and grade). ``edugis import capacities FILE``:
``school_code,capacity`` with ``grade`` (an entry grade, 1, 6 or 10) or ``level``
(``primary``, ``lower_secondary``, ``upper_secondary``) into ``schools.capacity_grade{1,6,10}``
(the column named by :mod:`gis_service.levels`). Planning reads both (forecasts, gaps).

Each file is one transaction: a bad value, an unknown school code, a grade or level the school
does not teach, or a repeated key refuses the whole file, naming row and field; nothing is
stored.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from basemaps._frames import parse_int
from basemaps.store import ImportReport, copy_rows, refuse_if_problems
from forecasting._import_rows import (
    count_problem,
    duplicate_problems,
    read_table,
    unknown_schools,
    upsert,
    year_problem,
)
from gis_service.errors import InvalidValueError, Problem
from gis_service.levels import capacity_column, level_of_grade, school_level

REASONS: dict[str, tuple[str, str]] = {
    "missing_code": ("thiếu mã trường", "missing school code"),
    "bad_grade": ("lớp không hợp lệ {value!r}: {why}", "bad grade {value!r}: {why}"),
    "bad_level": ("cấp học không hợp lệ {value!r}: {why}", "bad level {value!r}: {why}"),
    "no_grade": ("cần cột grade hoặc level", "a grade or level column is needed"),
    "not_taught": ("trường {code} không dạy {level} (cấp của trường: {levels})",
                   "school {code} does not teach {level} (its levels: {levels})"),
}


def _school_levels(conn: Connection, codes: list[str]) -> dict[str, list[str]]:
    """Return each known school's levels (its one ``level`` when ``levels`` is empty)."""
    return dict(conn.execute(sa.text(
        "SELECT code, CASE WHEN cardinality(levels) > 0 THEN levels ELSE ARRAY[level] END"
        " FROM schools WHERE code = ANY(:c)"), {"c": sorted(set(codes))}).all())


def _not_taught(conn: Connection, path: Path, frame: pd.DataFrame, field: str) -> list[Problem]:
    """Return a problem for each row whose ``level`` the (known) school does not teach."""
    taught = _school_levels(conn, list(frame["school_code"]))
    return [Problem.of(str(path), row, field, REASONS["not_taught"], code=code, level=level,
                       levels=", ".join(taught[code]))
            for code, level, row in zip(frame["school_code"], frame["level"], frame["row"],
                                        strict=True)
            if code in taught and level not in taught[code]]


def read_enrolment(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Read ``school_code,year,grade,headcount``; return clean rows (with ``row``, ``level``)."""
    table = read_table(path, ["school_code", "year", "grade", "headcount"])
    records, problems = [], []
    for row, cells in enumerate(table.to_dict("records"), start=1):
        code = cells["school_code"].strip()
        found = [] if code else [Problem.of(str(path), row, "school_code", REASONS["missing_code"])]
        year, bad_year = year_problem(path, row, "year", cells["year"])
        headcount, bad_count = count_problem(path, row, "headcount", cells["headcount"])
        grade = parse_int(cells["grade"])
        try:
            level = level_of_grade(grade if grade is not None else -1).name
        except InvalidValueError as error:
            found.append(Problem.of(str(path), row, "grade", REASONS["bad_grade"],
                                    value=cells["grade"], why=error))
        found += [p for p in (bad_year, bad_count) if p]
        problems += found
        if not found:
            records.append({"row": row, "school_code": code, "year": year, "grade": grade,
                            "headcount": headcount, "level": level})
    frame = pd.DataFrame(records, columns=["row", "school_code", "year", "grade", "headcount",
                                           "level"])
    return frame, problems


def import_enrolment(engine: Engine, path: Path) -> ImportReport:
    """Check and upsert an enrolment file in one transaction.

    Raises
    ------
    InputError
        Naming row and field of every bad value, unknown school, grade the school does not
        teach and repeated school, year and grade; nothing is stored.
    """
    started = time.perf_counter()
    rows, problems = read_enrolment(path)
    key = ["school_code", "year", "grade"]
    problems += duplicate_problems(path, rows[key].itertuples(index=False, name=None),
                                   rows["row"], "grade", "school, year and grade")
    with engine.begin() as conn:
        problems += unknown_schools(conn, path, list(rows["school_code"]), list(rows["row"]))
        problems += _not_taught(conn, path, rows, "grade")
        refuse_if_problems(sorted(problems, key=lambda p: p.row or 0), False)
        inserted, updated = upsert(conn, "enrolment", key, ["headcount"],
                                   list(rows[[*key, "headcount"]].itertuples(index=False, name=None)))
    report = ImportReport("enrolment", str(path), inserted=inserted, updated=updated,
                          unchanged=len(rows) - inserted - updated)
    report.details = {"schools": rows["school_code"].nunique(),
                      "years": f"{rows['year'].min()}-{rows['year'].max()}"}
    report.seconds = time.perf_counter() - started
    return report


def _capacity_column(path: Path, row: int, cells: dict[str, str],
                     field: str) -> tuple[str, str, Problem | None]:
    """Return the row's capacity column and level, from its ``grade`` or its ``level``."""
    raw = cells[field].strip()
    try:
        if field == "grade":
            grade = parse_int(raw)
            column = capacity_column(grade if grade is not None else -1)  # entry grades only
            level = level_of_grade(grade if grade is not None else -1)
        else:
            level = school_level(raw)
            column = level.capacity_column  # preschool has none (ValueError)
    except ValueError as error:
        return "", "", Problem.of(str(path), row, field, REASONS[f"bad_{field}"], value=raw,
                                  why=error)
    return column, level.name, None


def read_capacities(path: Path) -> tuple[pd.DataFrame, list[Problem], str]:
    """Read ``school_code,(grade|level),capacity``.

    Returns ``row, school_code, column, level, capacity``, the problems and the field that
    names the grade (``grade`` or ``level``).
    """
    table = read_table(path, ["school_code", "capacity"])
    if "grade" not in table.columns and "level" not in table.columns:
        refuse_if_problems([Problem.of(str(path), None, "grade", REASONS["no_grade"])], False)
    field = "grade" if "grade" in table.columns else "level"
    records, problems = [], []
    for row, cells in enumerate(table.to_dict("records"), start=1):
        code = cells["school_code"].strip()
        found = [] if code else [Problem.of(str(path), row, "school_code", REASONS["missing_code"])]
        column, level, bad_column = _capacity_column(path, row, cells, field)
        capacity, bad_capacity = count_problem(path, row, "capacity", cells["capacity"])
        found += [p for p in (bad_column, bad_capacity) if p]
        problems += found
        if not found:
            records.append({"row": row, "school_code": code, "column": column, "level": level,
                            "capacity": capacity})
    frame = pd.DataFrame(records, columns=["row", "school_code", "column", "level", "capacity"])
    return frame, problems, field


def import_capacities(engine: Engine, path: Path) -> ImportReport:
    """Check a capacity file and set ``schools.capacity_grade{1,6,10}`` in one transaction.

    Raises
    ------
    InputError
        Naming row and field of every bad value, unknown school, level the school does not
        teach and school given twice for one grade; nothing is stored.
    """
    started = time.perf_counter()
    rows, problems, field = read_capacities(path)
    problems += duplicate_problems(path, rows[["school_code", "column"]].itertuples(
        index=False, name=None), rows["row"], field, "school and entry grade")
    updated = 0
    with engine.begin() as conn:
        problems += unknown_schools(conn, path, list(rows["school_code"]), list(rows["row"]))
        problems += _not_taught(conn, path, rows, field)
        refuse_if_problems(sorted(problems, key=lambda p: p.row or 0), False)
        conn.execute(sa.text("CREATE TEMP TABLE staging_capacities (school_code text,"
                             " column_name text, capacity int) ON COMMIT DROP"))
        copy_rows(conn, "staging_capacities", ["school_code", "column_name", "capacity"],
                  list(rows[["school_code", "column", "capacity"]].itertuples(index=False, name=None)))
        for column in sorted(set(rows["column"])):  # each from gis_service.levels, never the file
            updated += conn.execute(sa.text(
                f"UPDATE schools s SET {column} = v.capacity FROM staging_capacities v"
                f" WHERE v.school_code = s.code AND v.column_name = :c"
                f" AND s.{column} IS DISTINCT FROM v.capacity"), {"c": column}).rowcount
    report = ImportReport("capacities", str(path), updated=updated, unchanged=len(rows) - updated)
    report.details = {"schools": rows["school_code"].nunique(),
                      "columns": ", ".join(sorted(set(rows["column"])))}
    report.seconds = time.perf_counter() - started
    return report
