"""A round's places per school (chỉ tiêu), uploaded by the officers.

The schools table holds each school's usual entry-grade capacity; a round may set other
numbers for some schools (a new class opened, a building closed). The CSV contract is
``school_code,capacity``; :func:`import_capacities` checks every row and stores all of them
or none, and :func:`apply_capacities` gives the schools frame of a round its numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from admissions.problem import LEVEL_OF_GRADE
from admissions.rounds import RoundStateError, get_round
from gis_service.audit import audit
from gis_service.errors import InputError, Problem
from gis_service.levels import capacity_column

COLUMNS = ("school_code", "capacity")
#: More places than any school has (a typo guard, and inside PostgreSQL's integer).
MAX_PLACES = 100_000
#: Why a row is refused, as (Vietnamese, English) templates.
REASONS = {
    "unknown_school": ("không có trường nào mã {code!r}", "unknown school code {code!r}"),
    "wrong_level": ("trường {code!r} không phải trường {level} (lớp {grade})",
                    "school {code!r} is not a {level} school (grade {grade})"),
    "listed_twice": ("trường {code!r} được ghi hai lần (lần đầu ở dòng {first} của bảng tính)",
                     "school {code!r} listed twice (first on spreadsheet line {first})"),
    "not_whole": ("chỉ tiêu phải là số nguyên từ 0 đến 100000, không phải {value!r}",
                  "capacity must be a whole number from 0 to 100000, not {value!r}"),
}



def import_capacities(engine: Engine, round_id: str, path: str | Path,
                      actor: str = "system", discard_run: bool = False) -> int:
    """Store the places of the schools listed in ``path`` for ``round_id``; return the row count.

    They replace the round's earlier numbers for those schools.

    A stored run of the round is dropped (the round is a draft again) only when
    ``discard_run`` confirms it (:class:`admissions.round_inputs.RunDiscardError` otherwise); a
    published round refuses new numbers.
    """
    from admissions.files import read_table, spreadsheet_rows
    from admissions.round_inputs import change_round_inputs
    from gis_service.transactions import write_transaction

    info = get_round(engine, round_id)
    if info.status == "published":
        raise RoundStateError(f"round {round_id} is published: its places are frozen")
    grade = info.grade
    label, frame = read_table(path, COLUMNS)
    level = LEVEL_OF_GRADE[grade]
    with engine.connect() as conn:
        levels: dict[str, str] = dict(conn.execute(sa.text("SELECT code, level FROM schools")).all())
    problems: list[Problem] = []
    first: dict[str, int] = {}
    # the spreadsheet line (header = line 1) of each data row, for "first on line N"
    lines = [line for line, _ in spreadsheet_rows(path, "school_code")]
    for row, (code, raw) in enumerate(zip(frame["school_code"], frame["capacity"], strict=True),
                                      start=1):
        if code not in levels:
            problems.append(Problem.of(label, row, "school_code", REASONS["unknown_school"], code=code))
        elif levels[code] != level:
            problems.append(Problem.of(label, row, "school_code", REASONS["wrong_level"], code=code,
                                       level=level, grade=grade))
        if code in first:
            problems.append(Problem.of(label, row, "school_code", REASONS["listed_twice"], code=code,
                                       first=lines[first[code] - 1] if first[code] <= len(lines)
                                       else first[code] + 1))
        first.setdefault(code, row)
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_PLACES:
            problems.append(Problem.of(label, row, "capacity", REASONS["not_whole"], value=raw))
    if problems:
        raise InputError(problems)

    def store(conn: Connection) -> None:
        discarded = change_round_inputs(conn, round_id, discard_run, "places")
        conn.execute(sa.text(
            "INSERT INTO round_capacities (round_id, school_code, capacity)"
            " SELECT :r, s, c FROM unnest(CAST(:s AS text[]), CAST(:c AS int[])) AS t(s, c)"
            " ON CONFLICT (round_id, school_code) DO UPDATE SET capacity = excluded.capacity"),
            {"r": round_id, "s": frame["school_code"].tolist(),
             "c": [int(v) for v in frame["capacity"]]})
        details: dict[str, Any] = {"file": label, "rows": len(frame)}
        if discarded is not None:
            details["discarded_run"] = discarded
        audit(conn, actor, "round.import_capacities", round_id, details)

    write_transaction(engine, store, what=f"import of places into round {round_id}")
    return len(frame)


def apply_capacities(conn: Connection, round_id: str, grade: int,
                     schools: pd.DataFrame) -> pd.DataFrame:
    """``schools`` with the round's own places in ``capacity_grade{grade}`` where it has any."""
    rows: dict[str, int] = dict(conn.execute(sa.text(
        "SELECT school_code, capacity FROM round_capacities WHERE round_id = :r"),
        {"r": round_id}).all())
    if not rows:
        return schools
    column = capacity_column(grade)
    out = schools.copy()
    own = out["code"].map(rows)
    out[column] = pd.array(own.where(own.notna(), out[column]), dtype="Int64")
    return out
