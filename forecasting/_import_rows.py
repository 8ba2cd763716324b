"""What the forecasting imports share: row checks, the upsert by natural key, report files.

Private helpers of :mod:`forecasting.cutoff_import`, :mod:`forecasting.population_import`
and :mod:`forecasting.school_tables`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from basemaps._frames import parse_int, read_csv
from basemaps.store import copy_rows
from gis_service.errors import InputError, Problem

#: Earliest year an import accepts (the city's statistics before it are not comparable).
FIRST_YEAR = 1990

#: Why a cell is refused, as (Vietnamese, English) ``str.format`` templates.
REASONS: dict[str, tuple[str, str]] = {
    "missing_columns": ("thiếu cột {columns}", "missing column(s) {columns}"),
    "no_rows": ("tệp không có dòng dữ liệu nào: không lưu gì",
                "the file has no data rows: nothing is stored"),
    "bad_year": ("năm không hợp lệ {value!r}: cần số nguyên {first}–{last}",
                 "bad year {value!r}: a whole number {first}-{last}"),
    "not_whole": ("không phải số nguyên không âm: {value!r}",
                  "not a whole number >= 0: {value!r}"),
    "missing": ("ô trống", "empty cell"),
    "duplicate": ("trùng với dòng {first} ({what})", "same {what} as row {first}"),
    "unknown_school": ("không có trường nào mã {code}", "unknown school code {code}"),
}


def read_table(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """Read a CSV as text cells; refuse an empty file or one without the ``required`` columns."""
    table = read_csv(path)
    if table.empty:
        raise InputError(Problem.of(str(path), None, None, REASONS["no_rows"]))
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(Problem.of(str(path), None, missing[0], REASONS["missing_columns"],
                                    columns=", ".join(missing)))
    return table


def year_problem(path: Path, row: int, field: str, raw: str) -> tuple[int, Problem | None]:
    """Return the year in ``raw`` and ``None``, or 0 and the problem naming row and field."""
    year = parse_int(raw)
    last = dt.date.today().year + 1
    if year is None or not FIRST_YEAR <= year <= last:
        return 0, Problem.of(str(path), row, field, REASONS["bad_year"], value=raw,
                             first=FIRST_YEAR, last=last)
    return year, None


def count_problem(path: Path, row: int, field: str, raw: str) -> tuple[int, Problem | None]:
    """Return the whole number >= 0 in ``raw`` and ``None``, or 0 and the problem."""
    if not raw.strip():
        return 0, Problem.of(str(path), row, field, REASONS["missing"])
    value = parse_int(raw)
    if value is None or value < 0:
        return 0, Problem.of(str(path), row, field, REASONS["not_whole"], value=raw)
    return value, None


def duplicate_problems(path: Path, keys: Iterable[tuple[Any, ...]], rows: Iterable[int],
                       field: str, what: str) -> list[Problem]:
    """Return a problem for each row whose key an earlier row already had."""
    first: dict[tuple[Any, ...], int] = {}
    problems = []
    for key, row in zip(keys, rows, strict=True):
        if key in first:
            problems.append(Problem.of(str(path), row, field, REASONS["duplicate"],
                                       first=first[key], what=what))
        else:
            first[key] = row
    return problems


def upsert(conn: Connection, table: str, key: Sequence[str], values: Sequence[str],
           rows: list[tuple[Any, ...]]) -> tuple[int, int]:
    """Insert ``rows`` into ``table`` or update those whose ``key`` exists; return the counts.

    Returns ``(inserted, updated)``; a row equal to the stored one counts as neither.
    """
    columns = [*key, *values]
    staging = f"staging_{table}"
    conn.execute(sa.text(f"CREATE TEMP TABLE {staging} (LIKE {table} INCLUDING DEFAULTS)"
                         " ON COMMIT DROP"))
    copy_rows(conn, staging, columns, rows)
    listed = ", ".join(columns)
    changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in values)
    inserted, updated = conn.execute(sa.text(
        f"WITH upserted AS (INSERT INTO {table} ({listed}) SELECT {listed} FROM {staging}"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
        + f" WHERE {changed} RETURNING (xmax = 0) AS inserted)"
        " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
        " FROM upserted")).one()
    conn.execute(sa.text(f"DROP TABLE {staging}"))
    return int(inserted), int(updated)


def unknown_schools(conn: Connection, path: Path, codes: Sequence[str],
                    rows: Sequence[int]) -> list[Problem]:
    """Return a problem for each row whose school code is not in ``schools``."""
    known = set(conn.execute(sa.text("SELECT code FROM schools WHERE code = ANY(:c)"),
                             {"c": sorted(set(codes))}).scalars())
    return [Problem.of(str(path), row, "school_code", REASONS["unknown_school"], code=code)
            for code, row in zip(codes, rows, strict=True) if code not in known]


def report_path(given: Path | None, source: Path, suffix: str) -> Path:
    """Return where to write an import's report file.

    ``given`` when set; else ``<source stem><suffix>`` next to the source file when that
    folder is writable, else in the working directory.
    """
    if given is not None:
        return given
    name = source.stem + suffix
    folder = source.resolve().parent
    return folder / name if os.access(folder, os.W_OK) else Path.cwd() / name
