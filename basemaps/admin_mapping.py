"""Old unit -> new unit mapping (``admin_mapping``): read, check, store, and carry data over.

On 1 July 2025 HCMC's wards were merged and split into the wards and communes of today.
Data keyed by a former ward (population, catchments, history) carries over through a CSV
``old_code,new_code[,share]``: ``share`` is the part of the old unit that went to the new
one (1 when it went whole; an old unit split in several gives one row per part, and its
shares add up to at most 1). :func:`to_new_units` moves rows keyed by old units onto the new
ones by share; rows keyed by a unit that is not mapped stay as they are.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from basemaps._frames import parse_float, read_csv
from basemaps.store import _UPSERT_COUNTS, ImportReport, refuse_if_problems
from gis_service.errors import InputError, Problem

COLUMNS = ("old_code", "new_code", "share")
#: Shares of one old unit may exceed 1 by this much (rounding in the source tables).
SHARE_TOLERANCE = 1e-6

#: Why a mapping row is refused, as (Vietnamese, English) ``str.format`` templates.
REASONS: dict[str, tuple[str, str]] = {
    "missing_column": ("thiếu cột {column} (cần old_code,new_code[,share])",
                       "missing column {column} (wanted old_code,new_code[,share])"),
    "missing_code": ("thiếu mã", "missing code"),
    "bad_share": ("tỷ lệ {value!r} không phải số trong (0, 1]",
                  "share {value!r} is not a number in (0, 1]"),
    "itself": ("đơn vị {code} được ánh xạ vào chính nó", "unit {code} is mapped to itself"),
    "pair_twice": ("{old} -> {new} đã có ở dòng {first}", "{old} -> {new} is already at row {first}"),
    "unknown_unit": ("không có đơn vị hành chính nào mã {code}", "unknown unit {code}"),
    "shares_over_one": ("tổng tỷ lệ của {code} là {total:.4g} > 1 (các dòng {rows})",
                        "the shares of {code} add up to {total:.4g} > 1 (rows {rows})"),
    "no_rows": ("tệp không có dòng nào: không lưu gì", "the file has no rows: nothing is stored"),
}


def read_admin_mapping(path: str | Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a mapping CSV to ``old_code, new_code, share, row`` and the problems of its rows.

    A row is refused for a missing code, a share that is not in (0, 1], a unit mapped to
    itself or a pair given twice; shares of one old unit adding up to more than 1 are refused
    on each of its rows. Codes are checked against the database by :func:`store_admin_mapping`.
    """
    label = str(path)
    frame = read_csv(Path(path))
    for column in COLUMNS[:2]:
        if column not in frame.columns:
            raise InputError(Problem.of(label, None, column, REASONS["missing_column"], column=column))
    if frame.empty:
        raise InputError(Problem.of(label, None, None, REASONS["no_rows"]))
    rows: list[dict[str, object]] = []
    problems: list[Problem] = []
    first: dict[tuple[str, str], int] = {}
    for index, record in enumerate(frame.to_dict("records"), start=1):
        old, new = str(record["old_code"]).strip(), str(record["new_code"]).strip()
        finding = _finding(old, new, str(record.get("share", "")), first)
        if finding is not None:
            field, key, values = finding
            problems.append(Problem.of(label, index, field, REASONS[key], **values))
            continue
        first[(old, new)] = index
        text = str(record.get("share", "")).strip()
        rows.append({"old_code": old, "new_code": new,
                     "share": parse_float(text) if text else 1.0, "row": index})
    mapping = pd.DataFrame(rows, columns=[*COLUMNS, "row"])
    problems += _shares_over_one(mapping, label)
    return mapping, problems


def _finding(old: str, new: str, share: str, first: dict[tuple[str, str], int]
             ) -> tuple[str, str, dict[str, object]] | None:
    """Return the first thing wrong with one row as (field, reason key, values), if any."""
    if not old:
        return "old_code", "missing_code", {}
    if not new:
        return "new_code", "missing_code", {}
    if old == new:
        return "new_code", "itself", {"code": old}
    if (old, new) in first:
        return "new_code", "pair_twice", {"old": old, "new": new, "first": first[(old, new)]}
    value = parse_float(share) if share.strip() else 1.0
    if value is None or not 0 < value <= 1:
        return "share", "bad_share", {"value": share}
    return None


def _shares_over_one(mapping: pd.DataFrame, label: str) -> list[Problem]:
    totals = mapping.groupby("old_code")["share"].sum()
    problems: list[Problem] = []
    for code, total in totals[totals > 1 + SHARE_TOLERANCE].items():
        rows = mapping.loc[mapping["old_code"] == code, "row"].tolist()
        problems.extend(Problem.of(label, row, "share", REASONS["shares_over_one"], code=code,
                                   total=total, rows=", ".join(map(str, rows))) for row in rows)
    return problems


def store_admin_mapping(engine: Engine, mapping: pd.DataFrame, problems: list[Problem],
                        source: str, skip_invalid: bool = False) -> ImportReport:
    """Store the mapping of the old units in the file, replacing what they had.

    Every code must be a unit in the database (refused by row and field otherwise); an old
    unit's pairs not in the file are deleted, so re-importing a corrected file is enough.
    """
    started = time.perf_counter()
    report = ImportReport("admin mapping", source)
    with engine.begin() as conn:
        known = set(conn.execute(sa.text("SELECT code FROM admin_units")).scalars())
        for row, old, new in zip(mapping["row"], mapping["old_code"], mapping["new_code"],
                                 strict=True):
            problems.extend(Problem.of(source, int(row), field, REASONS["unknown_unit"], code=code)
                            for field, code in (("old_code", old), ("new_code", new))
                            if code not in known)
        refuse_if_problems(problems, skip_invalid)
        bad_rows = {p.row for p in problems}
        good = mapping[~mapping["row"].isin(bad_rows)]
        params = {"o": good["old_code"].tolist(), "n": good["new_code"].tolist(),
                  "s": good["share"].astype(float).tolist(), "source": source}
        stale = conn.execute(sa.text(
            "DELETE FROM admin_mapping m WHERE m.old_code = ANY(CAST(:o AS text[]))"
            " AND (m.old_code, m.new_code) NOT IN (SELECT * FROM unnest(CAST(:o AS text[]),"
            " CAST(:n AS text[])))"), params).rowcount
        inserted, updated = conn.execute(sa.text(
            "WITH upserted AS (INSERT INTO admin_mapping (old_code, new_code, share, source)"
            " SELECT * , :source FROM unnest(CAST(:o AS text[]), CAST(:n AS text[]),"
            " CAST(:s AS float8[]))"
            " ON CONFLICT (old_code, new_code) DO UPDATE SET share = EXCLUDED.share,"
            " source = EXCLUDED.source WHERE admin_mapping.share IS DISTINCT FROM EXCLUDED.share"
            " RETURNING (xmax = 0) AS inserted) " + _UPSERT_COUNTS), params).one()
    report.inserted, report.updated = int(inserted), int(updated)
    report.unchanged = len(good) - report.inserted - report.updated
    report.rejected = len(bad_rows)
    report.problems = problems
    if stale:
        report.details["pairs no longer in the file, deleted"] = stale
    report.seconds = time.perf_counter() - started
    return report


def read_mapping(conn: Connection) -> pd.DataFrame:
    """Return the stored mapping as ``old_code, new_code, share``."""
    return pd.DataFrame(conn.execute(sa.text(
        "SELECT old_code, new_code, share FROM admin_mapping ORDER BY old_code, new_code")).all(),
        columns=list(COLUMNS))


def to_new_units(frame: pd.DataFrame, mapping: pd.DataFrame, key: str = "ward_code",
                 values: Sequence[str] = ("count",)) -> pd.DataFrame:
    """Move rows keyed by old units onto the new units by share, summing what meets.

    Parameters
    ----------
    frame
        Rows keyed by ``key`` (e.g. population ``ward_code, year, age, count``); every
        column other than ``key`` and ``values`` is a grouping key kept as it is.
    mapping
        ``old_code, new_code, share`` (:func:`read_mapping`).
    key
        The column holding the unit code.
    values
        The additive columns, multiplied by the share and summed (counts stay floats
        where a share split them).

    Returns
    -------
    pandas.DataFrame
        The same columns; rows of unmapped units are unchanged, rows of mapped ones
        replaced by one row per new unit, and rows meeting on the same keys summed.
    """
    if mapping.empty or frame.empty or not frame[key].isin(mapping["old_code"]).any():
        return frame
    mapped = frame.merge(mapping, left_on=key, right_on="old_code", how="left")
    moved = mapped["new_code"].notna()
    mapped.loc[moved, key] = mapped.loc[moved, "new_code"]
    for column in values:
        mapped[column] = mapped[column] * mapped["share"].where(moved, 1.0)
    groups = [c for c in frame.columns if c not in values]
    result = mapped.groupby(groups, as_index=False, sort=True)[list(values)].sum()
    return result[list(frame.columns)]
