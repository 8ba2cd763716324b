"""Import grade-10 cut-offs (điểm chuẩn) named by school name: ``edugis import cutoffs FILE``.

The file is ``school_name,year,cutoff_score`` [+ ``district_section`` (or ``district`` /
``ward``), ``admission_round`` (NV1 when absent), ``program`` (or ``programme``; the regular
programme when absent), ``max_score`` (30 when absent)], as published by the city.

Names are matched to the schools in the database by their proper name
(:func:`forecasting._matching.school_key`: diacritics folded, "THPT" / "Trường" / "PTTH" and
the like dropped); a leading "Chuyên" is dropped only when nothing matched with it. Only
schools teaching upper secondary are candidates; among several of that name, those inside
the admin unit the district/ward hint names are kept. ``--map "name=code"`` decides a name
outright (any school; the name as in the file, or without its type words).

A name left ambiguous or unmatched does not make the import fail: the matched rows are
stored, every other name is written to the report file with its candidates, and the counts
are printed; ``strict`` refuses the whole file instead. A bad value (year, score outside
0..max, round), or two rows giving one school, year, round and programme different scores,
always refuses the whole file, naming row and field; nothing is stored. Rows repeating the
same score (the file names a school twice) are stored once.
"""

from __future__ import annotations

import difflib
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps._frames import parse_float
from basemaps.store import ImportReport
from forecasting._import_rows import duplicate_problems, read_table, upsert, year_problem
from forecasting._matching import school_key, unit_key
from forecasting.cutoffs import is_regular_programme
from gis_service.csv_cells import write_frame
from gis_service.errors import InputError, InvalidValueError, Problem, StateError
from gis_service.text_search import fold

REQUIRED = ("school_name", "year", "cutoff_score")
HINT_COLUMNS = ("district_section", "district", "ward")
ROUNDS = ("NV1", "NV2", "NV3")
#: Highest score when the file has no ``max_score`` (Văn + Toán + Ngoại ngữ, 10 each).
DEFAULT_MAX_SCORE = 30.0
#: Longest programme label (``cutoffs.programme``).
MAX_PROGRAMME_CHARS = 32
REPORT_COLUMNS = ["school_name", "district_hint", "status", "rows", "first_row", "candidates"]

REASONS: dict[str, tuple[str, str]] = {
    "missing_name": ("thiếu tên trường", "missing school name"),
    "bad_score": ("điểm chuẩn không hợp lệ {value!r}: cần số trong 0–{max:g}",
                  "bad cut-off {value!r}: a number in 0-{max:g}"),
    "bad_max": ("điểm tối đa không hợp lệ {value!r}", "bad max_score {value!r}"),
    "bad_round": ("nguyện vọng không hợp lệ {value!r}; dùng NV1, NV2 hoặc NV3",
                  "bad admission_round {value!r}; NV1, NV2 or NV3"),
    "too_long": ("dài {length} ký tự, tối đa {limit}", "{length} characters, at most {limit}"),
    "unmatched": ("không tìm thấy trường {name!r} ({status}); xem {report}",
                  "school {name!r} not found ({status}); see {report}"),
}


@dataclass
class SchoolIndex:
    """The schools a name may match: keys -> codes, and what the report shows of each."""

    by_key: dict[str, list[str]]
    by_loose_key: dict[str, list[str]]
    upper_secondary: set[str]
    places: dict[str, set[str]]
    labels: dict[str, str]

    @classmethod
    def from_frame(cls, schools: pd.DataFrame) -> SchoolIndex:
        """Index ``schools`` (``code, name, levels, places``: unit names the school lies in)."""
        by_key: dict[str, list[str]] = defaultdict(list)
        by_loose: dict[str, list[str]] = defaultdict(list)
        for code, name in zip(schools["code"], schools["name"], strict=True):
            by_key[school_key(name)].append(code)
            by_loose[school_key(name, drop_chuyen=True)].append(code)
        places = {code: {unit_key(p) for p in names if p}
                  for code, names in zip(schools["code"], schools["places"], strict=True)}
        labels = {code: f"{code}: {name}" + (f" ({', '.join(sorted(p for p in names if p))})"
                                              if any(names) else "")
                  for code, name, names in zip(schools["code"], schools["name"],
                                               schools["places"], strict=True)}
        upper = {code for code, levels in zip(schools["code"], schools["levels"], strict=True)
                 if "upper_secondary" in levels}
        return cls(dict(by_key), dict(by_loose), upper, places, labels)

    def match(self, name: str, hint: str) -> tuple[str, list[str]]:
        """Return ``("matched", [code])``, ``("ambiguous", codes)`` or ``("unmatched", near)``.

        Only schools teaching upper secondary take grade-10 cut-offs: a name found only at
        other levels is unmatched, with those schools as its candidates.
        """
        named = self.by_key.get(school_key(name)) or self.by_loose_key.get(
            school_key(name, drop_chuyen=True), [])
        codes = [c for c in named if c in self.upper_secondary]
        if len(codes) > 1 and hint:
            codes = [c for c in codes if unit_key(hint) in self.places[c]] or codes
        if len(codes) == 1:
            return "matched", codes
        if codes:
            return "ambiguous", codes
        near = difflib.get_close_matches(school_key(name), list(self.by_key), n=3, cutoff=0.75)
        return "unmatched", named or [c for key in near for c in self.by_key[key]]


@dataclass
class CutoffImport:
    """What ``import cutoffs`` did: the counts, and the names it could not match."""

    report: ImportReport
    unmatched: pd.DataFrame
    report_file: Path | None


def read_cutoffs(path: Path) -> pd.DataFrame:
    """Read and check a cut-off file; return one clean row per data row.

    Columns ``row, school_name, hint, year, admission_round, programme, cutoff_score``.

    Raises
    ------
    InputError
        Naming the row and field of every bad value.
    """
    table = read_table(path, REQUIRED)
    hint_column = next((c for c in HINT_COLUMNS if c in table.columns), None)
    programme_column = "programme" if "programme" in table.columns else "program"
    records, problems = [], []
    for row, cells in enumerate(table.to_dict("records"), start=1):
        record, found = _check_row(path, row, cells, hint_column, programme_column)
        problems += found
        records.append(record)
    if problems:
        raise InputError(problems)
    return pd.DataFrame(records)


def _check_row(path: Path, row: int, cells: dict[str, str], hint_column: str | None,
               programme_column: str) -> tuple[dict[str, object], list[Problem]]:
    """Check one row's name, year, round, programme and score against its maximum."""
    problems: list[Problem] = []

    def refuse(field: str, key: str, **values: object) -> None:
        problems.append(Problem.of(str(path), row, field, REASONS[key], **values))

    name = cells["school_name"].strip()
    if not name:
        refuse("school_name", "missing_name")
    year, bad_year = year_problem(path, row, "year", cells["year"])
    problems += [bad_year] if bad_year else []
    round_ = (cells.get("admission_round") or "NV1").strip().upper()
    if round_ not in ROUNDS:
        refuse("admission_round", "bad_round", value=cells.get("admission_round"))
    label = (cells.get(programme_column) or "").strip()
    programme = "regular" if not label or is_regular_programme(label) else label
    if len(programme) > MAX_PROGRAMME_CHARS:
        refuse(programme_column, "too_long", length=len(programme), limit=MAX_PROGRAMME_CHARS)
    raw_max = (cells.get("max_score") or "").strip()
    top = parse_float(raw_max) if raw_max else DEFAULT_MAX_SCORE
    if top is None or not top > 0:
        refuse("max_score", "bad_max", value=raw_max)
        top = DEFAULT_MAX_SCORE
    score = parse_float(cells["cutoff_score"])
    if score is None or not 0 <= score <= top:
        refuse("cutoff_score", "bad_score", value=cells["cutoff_score"], max=top)
    hint = (cells.get(hint_column) or "").strip() if hint_column else ""
    return {"row": row, "school_name": name, "hint": hint, "year": year,
            "admission_round": round_, "programme": programme, "cutoff_score": score}, problems


def school_index(engine: Engine) -> SchoolIndex:
    """Read the schools with their levels and the names of the admin units they lie in."""
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(sa.text(
            "SELECT s.code, s.name, CASE WHEN cardinality(s.levels) > 0 THEN s.levels"
            "  ELSE ARRAY[s.level] END AS levels,"
            " array_remove(array_agg(a.name), NULL) AS places FROM schools s"
            " LEFT JOIN admin_units a ON ST_Intersects(a.geom, s.geom)"
            " GROUP BY s.code")).all(), columns=["code", "name", "levels", "places"])
    return SchoolIndex.from_frame(frame)


def match_names(rows: pd.DataFrame, index: SchoolIndex,
                overrides: dict[str, str]) -> pd.DataFrame:
    """Match each distinct (name, hint) of ``rows``; return the rows with ``school_code``.

    Adds ``status`` (``matched``, ``mapped``, ``ambiguous``, ``unmatched``) and
    ``candidates`` (codes); ``school_code`` is empty unless matched or mapped.

    Raises
    ------
    InvalidValueError
        For a ``--map`` code that is no school in the database.
    """
    unknown = sorted(set(overrides.values()) - set(index.labels))
    if unknown:
        raise InvalidValueError(f"--map names unknown school code(s): {', '.join(unknown)}")
    decided: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for name, hint in set(zip(rows["school_name"], rows["hint"], strict=True)):
        mapped = overrides.get(fold(name)) or overrides.get(school_key(name))
        decided[name, hint] = ("mapped", [mapped]) if mapped else index.match(name, hint)
    outcome = [decided[key] for key in zip(rows["school_name"], rows["hint"], strict=True)]
    return rows.assign(
        status=[status for status, _ in outcome],
        candidates=[codes for _, codes in outcome],
        school_code=[codes[0] if status in ("matched", "mapped") else ""
                     for status, codes in outcome])


def unmatched_table(matched: pd.DataFrame, index: SchoolIndex) -> pd.DataFrame:
    """One row per name left ambiguous or unmatched, with its candidates (the report file)."""
    left = matched[~matched["status"].isin(["matched", "mapped"])]
    groups = left.groupby(["school_name", "hint"], sort=True)
    return pd.DataFrame([
        {"school_name": name, "district_hint": hint, "status": group["status"].iloc[0],
         "rows": len(group), "first_row": int(group["row"].min()),
         "candidates": "; ".join(index.labels[c] for c in group["candidates"].iloc[0])}
        for (name, hint), group in groups], columns=REPORT_COLUMNS)


def import_cutoffs(engine: Engine, path: Path, overrides: dict[str, str], report_file: Path,
                   strict: bool = False) -> CutoffImport:
    """Read, match and upsert a cut-off file in one transaction; write the unmatched names.

    Raises
    ------
    InputError
        For bad values or two rows of one school, year, round and programme (nothing is
        stored); with ``strict``, also for any name left unmatched or ambiguous.
    StateError
        When the database holds no school at all.
    """
    started = time.perf_counter()
    index = school_index(engine)
    if not index.labels:
        raise StateError("no schools in the database to match the names to: import schools first"
                         " (edugis import schools FILE)",
                         "chưa có trường nào trong cơ sở dữ liệu để khớp tên: nhập danh sách"
                         " trường trước (edugis import schools FILE)")
    matched = match_names(read_cutoffs(path), index, overrides)
    left = unmatched_table(matched, index)
    written = None
    if len(left):
        write_frame(left, report_file)
        written = report_file
    if strict and len(left):
        raise InputError([Problem.of(str(path), int(r.first_row), "school_name", REASONS["unmatched"],
                                     name=r.school_name, status=r.status, report=report_file)
                          for r in left.itertuples()])
    key_columns = ["school_code", "year", "admission_round", "programme"]
    # two names of one school with the same figure (the file repeats a row) are one row
    good = matched[matched["school_code"] != ""].drop_duplicates([*key_columns, "cutoff_score"])
    duplicates = duplicate_problems(path, good[key_columns].itertuples(index=False, name=None),
                                    good["row"], "school_name",
                                    "school, year, round and programme")
    if duplicates:
        raise InputError(duplicates)
    with engine.begin() as conn:
        inserted, updated = upsert(conn, "cutoffs", key_columns, ["cutoff_score"],
                                   list(good[[*key_columns, "cutoff_score"]].itertuples(
                                       index=False, name=None)))
    report = ImportReport("cut-offs", str(path), inserted=inserted, updated=updated,
                          unchanged=len(good) - inserted - updated,
                          rejected=int((matched["school_code"] == "").sum()))
    names = matched.drop_duplicates(["school_name", "hint"])["status"].value_counts()
    report.details = {"school names": ", ".join(f"{n} {s}" for s, n in names.items())}
    in_file = {fold(n) for n in matched["school_name"]} | {school_key(n) for n in matched["school_name"]}
    unused = sorted(set(overrides) - in_file)
    if unused:
        report.details["--map names not in the file"] = ", ".join(unused)
    if written:
        report.details["not stored"] = (f"{report.rejected} rows of {len(left)} names; "
                                        f"listed with candidates in {written}")
    report.seconds = time.perf_counter() - started
    return CutoffImport(report, left, written)
