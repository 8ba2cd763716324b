"""Read and check the applicants and schools CSV files (ARCHITECTURE.md §8).

Every problem found is reported, each with its file, 1-based data row and field, in one
:class:`gis_service.errors.InputError`; nothing is fixed silently. A person fixing the file
in a spreadsheet needs its line there instead (the header is line 1, and a blank line the
reader skipped still counts): :func:`spreadsheet_rows` gives it for each data row, and the
texts naming another row (``first at ...``) give that line.

- schools: ``code,name,level,ownership,lon,lat`` [+ ``district_code,ward_code,address,
  capacity_grade1,capacity_grade6,capacity_grade10``]
- applicants, grade 1/6: ``applicant_id,lon,lat,tier`` [+ ``choice1..choiceN``]
- applicants, grade 10: ``applicant_id,score,choice1,choice2,choice3`` [+ ``bonus,lon,lat``]

The ``tier`` of a grade 1/6 file holds at every school (the file has no catchments); the
service layer can give a tier per school through :class:`~admissions.problem.AdmissionProblem`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from admissions.distance import DistanceSource
from admissions.problem import LEVEL_OF_GRADE, TIERS, AdmissionProblem
from gis_service import levels
from gis_service.csv_cells import long_cells
from gis_service.errors import InputError, Problem
from gis_service.levels import ALL_LEVELS

SCHOOL_COLUMNS = ("code", "name", "level", "ownership", "lon", "lat")
SCHOOL_OPTIONAL = (
    "district_code", "ward_code", "address",
    "capacity_grade1", "capacity_grade6", "capacity_grade10",
)
LEVELS = ("preschool", "primary", "lower_secondary", "upper_secondary")
OWNERSHIPS = ("public", "private")
GRADE10_CHOICES = 3
GRADE10_MAX_SCORE = 30.0
#: Default length of stated choice lists for grades 1/6, and of the "nearest first" list.
DEFAULT_MAX_CHOICES = 10
_CHOICE = re.compile(r"^choice(\d+)$")
#: Longest applicant id (the ``applicants.applicant_id`` column).
MAX_APPLICANT_ID_CHARS = 32
#: Level names in the Vietnamese reasons (the English ones use the codes).
_LEVEL_VI: dict[str, str] = {level.name: level.in_sentence_vi for level in ALL_LEVELS}

#: Why a file is refused, as (Vietnamese, English) ``str.format`` templates by key.
REASONS: dict[str, tuple[str, str]] = {
    "unreadable": ("không đọc được tệp CSV: {error}", "cannot read CSV: {error}"),
    "missing_column": ("thiếu cột", "missing column"),
    "no_rows": ("tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào: không lưu gì",
                "the file has a header but no data rows: nothing is stored"),
    "id_too_long": ("mã hồ sơ dài {length} ký tự, tối đa {limit}",
                    "applicant id of {length} characters, at most {limit}"),
    "empty": ("bỏ trống", "empty"),
    "not_a_number": ("không phải là số: {value!r}", "not a number: {value!r}"),
    "coordinate_range": ("{value} nằm ngoài khoảng -{limit:g}..{limit:g}",
                         "{value} is outside -{limit:g}..{limit:g}"),
    "missing_coordinate": ("thiếu tọa độ", "missing coordinate"),
    "half_coordinate": ("cần có cả lon và lat, hoặc bỏ trống cả hai", "give both lon and lat, or neither"),
    "half_coordinate_columns": ("cần có cả hai cột lon và lat, hoặc không có cột nào",
                                "give both lon and lat columns, or neither"),
    "duplicate_school": ("mã trường {code!r} bị trùng (xuất hiện lần đầu ở dòng {first} của bảng tính)",
                         "duplicate school code {code!r} (first at spreadsheet line {first})"),
    "not_one_of": ("{value!r} không phải một trong {allowed}", "{value!r} is not one of {allowed}"),
    "negative_capacity": ("chỉ tiêu âm {value:g}", "negative capacity {value:g}"),
    "fractional_capacity": ("chỉ tiêu {value:g} không phải số nguyên", "capacity {value:g} is not whole"),
    "duplicate_applicant": ("mã hồ sơ {applicant!r} bị trùng (xuất hiện lần đầu ở dòng {first}"
                            " của bảng tính)",
                            "duplicate applicant id {applicant!r} (first at spreadsheet line {first})"),
    "bad_tier": ("{value!r} không phải 1, 2 hoặc 3", "{value!r} is not 1, 2 or 3"),
    "missing_score": ("thiếu điểm", "missing score"),
    "score_range": ("điểm {value:g} nằm ngoài khoảng 0..{top:g}", "{value:g} is outside 0..{top:g}"),
    "negative_bonus": ("điểm cộng âm {value:g}", "negative bonus {value:g}"),
    "too_many_choices": ("nhiều nguyện vọng hơn mức cho phép ({limit})",
                         "more choices than allowed ({limit})"),
    "unknown_school": ("không có trường nào mã {code!r}", "unknown school code {code!r}"),
    "wrong_level": ("trường {code!r} là trường {level_vi}, không phải trường {wanted_vi} (lớp {grade})",
                    "school {code!r} is {level}, not a {wanted} school (grade {grade})"),
    "no_capacity": ("trường {code!r} chưa có chỉ tiêu lớp {grade} ({column})",
                    "school {code!r} has no {column}"),
    "choice_after_gap": ("nguyện vọng này đứng sau một nguyện vọng bỏ trống",
                         "a choice follows an empty one"),
    "listed_twice": ("trường {code!r} được ghi hai lần", "school {code!r} listed twice"),
    "needs_nv1": ("lớp 10 cần ít nhất NV1", "grade 10 needs at least NV1"),
    "nothing_to_allocate": ("không có trường {level_vi} nào có {column}: không có chỗ để phân bổ",
                            "no {level} school has a {column}: nothing to allocate"),
}


def _problem(label: str, row: int | None, field: str | None, key: str, **values: object) -> Problem:
    """Return the :class:`Problem` with the reason ``key`` of :data:`REASONS`, in both languages."""
    return Problem.of(label, row, field, REASONS[key], **values)


def _rows(mask: NDArray[np.bool_]) -> list[int]:
    """0-based positions where ``mask`` holds, as Python ints."""
    return [int(i) for i in np.flatnonzero(mask)]


def _read_csv(path: Path, label: str) -> pd.DataFrame:
    """Read the CSV as stripped strings.

    A file without data rows is refused, and so is any cell (or column name) longer than
    :data:`gis_service.csv_cells.MAX_CELL_CHARS`, each named by row and field.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(_problem(label, None, None, "unreadable", error=error)) from error
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    problems = long_cells(frame, label)
    if problems:
        raise InputError(problems)
    if frame.empty:
        raise InputError(_problem(label, None, None, "no_rows"))
    return frame


def spreadsheet_rows(path: str | Path, key_column: str) -> list[tuple[int, str]]:
    """Return, for each data row of the CSV, its spreadsheet line and its ``key_column`` cell.

    Item ``row - 1`` belongs to the data row ``row`` of a :class:`Problem`. The line counts
    the header as line 1 and counts the blank lines the reader skips (a spreadsheet shows
    them as empty rows); the key cell (e.g. the applicant id) is stripped, ``""`` when the
    column is missing. An unreadable file gives an empty list.
    """
    rows: list[tuple[int, str]] = []
    # a cell may be as long as the file (the default limit, 128 kB, would stop the reader)
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(limit, Path(path).stat().st_size + 1))
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            records = csv.reader(handle)
            header = [cell.strip() for cell in next(records, [])]
            key = header.index(key_column) if key_column in header else None
            for line, record in enumerate(records, start=2):
                if not record:  # a blank line: skipped by the reader, still a spreadsheet row
                    continue
                cell = record[key] if key is not None and key < len(record) else ""
                rows.append((line, cell.strip()))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    finally:
        csv.field_size_limit(limit)
    return rows


def read_table(path: str | Path, columns: tuple[str, ...]) -> tuple[str, pd.DataFrame]:
    """Read a small CSV with the given ``columns`` and at least one row, as stripped strings.

    Return it with the file's name for problems; raise InputError naming each missing column
    otherwise.
    """
    label = Path(path).name
    frame = _read_csv(Path(path), label)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([_problem(label, None, c, "missing_column") for c in missing])
    return label, frame


def _numbers(frame: pd.DataFrame, column: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Return parsed values (NaN when empty or bad) and a mask of non-empty unparsable cells."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = (raw != "").to_numpy() & ~np.isfinite(values)
    values = np.where(np.isfinite(values), values, np.nan)
    return values, bad


def _check_coordinates(
    frame: pd.DataFrame, label: str, problems: list[Problem], required: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon, bad_lon = _numbers(frame, "lon")
    lat, bad_lat = _numbers(frame, "lat")
    for field, values, bad, limit in (("lon", lon, bad_lon, 180.0), ("lat", lat, bad_lat, 90.0)):
        empty = (frame[field] == "").to_numpy()
        for i in _rows(bad):
            problems.append(_problem(label, i + 1, field, "not_a_number", value=frame[field].iat[i]))
        for i in _rows(np.abs(values) > limit):
            problems.append(
                _problem(label, i + 1, field, "coordinate_range", value=values[i], limit=limit)
            )
        if required:
            for i in _rows(empty):
                problems.append(_problem(label, i + 1, field, "missing_coordinate"))
    if not required:
        half = (frame["lon"] == "").to_numpy() != (frame["lat"] == "").to_numpy()
        for i in _rows(half):
            problems.append(_problem(label, i + 1, "lon/lat", "half_coordinate"))
    return lon, lat


def read_schools(path: str | Path) -> pd.DataFrame:
    """Read and check a schools CSV.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name, level, ownership, lon, lat`` plus the optional ones (empty
        strings / ``<NA>`` capacities when absent), in file order.

    Raises
    ------
    InputError
        With one :class:`Problem` per bad cell or missing column.
    """
    path = Path(path)
    label = path.name
    frame = _read_csv(path, label)
    missing = [c for c in SCHOOL_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError([_problem(label, None, c, "missing_column") for c in missing])
    problems = _check_school_identity(frame, label)
    lon, lat = _check_coordinates(frame, label, problems, required=True)
    out = pd.DataFrame(
        {c: frame[c] for c in ("code", "name", "level", "ownership")}
    )
    out["lon"], out["lat"] = lon, lat
    for column in SCHOOL_OPTIONAL:
        if not column.startswith("capacity_"):
            out[column] = frame[column] if column in frame.columns else ""
        elif column not in frame.columns:
            out[column] = pd.array([pd.NA] * len(frame), dtype="Int64")
        else:
            out[column] = _read_capacity(frame, column, label, problems)
    if problems:
        raise InputError(problems)
    return out


def _check_school_identity(frame: pd.DataFrame, label: str) -> list[Problem]:
    """Return the problems of the schools' codes, names, levels and ownerships."""
    problems: list[Problem] = []
    for column in ("code", "name"):
        for i in _rows((frame[column] == "").to_numpy()):
            problems.append(_problem(label, i + 1, column, "empty"))
    first_row: dict[str, int] = {}
    for i, code in enumerate(frame["code"].tolist()):
        if code and code in first_row:
            problems.append(
                _problem(label, i + 1, "code", "duplicate_school", code=code,
                         first=first_row[code] + 1)
            )
        first_row.setdefault(code, i + 1)
    for column, allowed in (("level", LEVELS), ("ownership", OWNERSHIPS)):
        for i in _rows(~frame[column].isin(allowed).to_numpy()):
            problems.append(
                _problem(label, i + 1, column, "not_one_of", value=frame[column].iat[i], allowed=allowed)
            )
    return problems


def _read_capacity(
    frame: pd.DataFrame, column: str, label: str, problems: list[Problem]
) -> pd.api.extensions.ExtensionArray:
    """Read a capacity column as whole numbers (``<NA>`` when empty), adding its problems."""
    values, bad = _numbers(frame, column)
    for i in _rows(bad):
        problems.append(_problem(label, i + 1, column, "not_a_number", value=frame[column].iat[i]))
    for i in _rows(values < 0):
        problems.append(_problem(label, i + 1, column, "negative_capacity", value=values[i]))
    for i in _rows(np.isfinite(values) & (values != np.round(values))):
        problems.append(_problem(label, i + 1, column, "fractional_capacity", value=values[i]))
    return pd.array([pd.NA if not np.isfinite(v) else int(v) for v in values], dtype="Int64")


def _choice_columns(frame: pd.DataFrame) -> list[tuple[int, str]]:
    found = []
    for column in frame.columns:
        match = _CHOICE.match(column)
        if match:
            found.append((int(match.group(1)), column))
    return sorted(found)


def read_applicants(
    path: str | Path,
    grade: int,
    schools: pd.DataFrame,
    max_choices: int | None = None,
) -> pd.DataFrame:
    """Read and check an applicants CSV against the schools that admit the grade.

    Parameters
    ----------
    path
        The CSV file.
    grade
        1, 6 or 10; decides the columns and checks.
    schools
        Schools as returned by :func:`read_schools`.
    max_choices
        Most choices an applicant may state (grade 10: 3; grades 1/6: 10 by default).

    Returns
    -------
    pandas.DataFrame
        ``applicant_id`` plus ``lon, lat`` (float, NaN when absent), ``tier`` (grade 1/6),
        ``score, bonus`` (grade 10) and ``choice1..choiceK`` (school codes, ``""`` for none).

    Raises
    ------
    InputError
        With one :class:`Problem` per bad cell or missing column.
    """
    if grade not in LEVEL_OF_GRADE:
        raise ValueError(f"grade must be 1, 6 or 10, not {grade}")
    path = Path(path)
    label = path.name
    frame = _read_csv(path, label)
    limit = _choice_limit(grade, max_choices)
    required = ["applicant_id", "lon", "lat", "tier"] if grade != 10 else [
        "applicant_id", "score", "choice1", "choice2", "choice3"
    ]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError([_problem(label, None, c, "missing_column") for c in missing])
    problems = _check_applicant_ids(frame, label)
    out = pd.DataFrame({"applicant_id": frame["applicant_id"]})

    has_coordinates = "lon" in frame.columns and "lat" in frame.columns
    if grade == 10 and ("lon" in frame.columns) != ("lat" in frame.columns):
        problems.append(_problem(label, None, "lon/lat", "half_coordinate_columns"))
    if has_coordinates:
        out["lon"], out["lat"] = _check_coordinates(frame, label, problems, required=grade != 10)
    else:
        out["lon"], out["lat"] = np.nan, np.nan

    if grade != 10:
        out["tier"] = _read_tiers(frame, label, problems)
    else:
        out["score"] = _read_scores(frame, label, problems)
        out["bonus"] = _read_bonuses(frame, label, problems) if "bonus" in frame.columns else 0.0

    problems.extend(_check_choices(frame, label, grade, schools, limit, out))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.row or 0, p.field or "")))
    return out


def _choice_limit(grade: int, max_choices: int | None) -> int:
    """Return the most choices an applicant of ``grade`` may state."""
    if grade == 10:
        return GRADE10_CHOICES if max_choices is None else min(max_choices, GRADE10_CHOICES)
    return max_choices or DEFAULT_MAX_CHOICES


def _check_applicant_ids(frame: pd.DataFrame, label: str) -> list[Problem]:
    """Return the problems of empty, too long and repeated applicant ids."""
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    for i, applicant in enumerate(frame["applicant_id"].tolist()):
        if not applicant:
            problems.append(_problem(label, i + 1, "applicant_id", "empty"))
        elif len(applicant) > MAX_APPLICANT_ID_CHARS:
            problems.append(_problem(label, i + 1, "applicant_id", "id_too_long",
                                     length=len(applicant), limit=MAX_APPLICANT_ID_CHARS))
        elif applicant in first_row:
            problems.append(
                _problem(label, i + 1, "applicant_id", "duplicate_applicant", applicant=applicant,
                         first=first_row[applicant] + 1)
            )
        first_row.setdefault(applicant, i + 1)
    return problems


def _read_tiers(frame: pd.DataFrame, label: str, problems: list[Problem]) -> NDArray[np.int8]:
    """Read the priority tiers (3 where bad), adding the problems of bad cells."""
    tier, bad = _numbers(frame, "tier")
    for i in _rows(~np.isin(tier, TIERS) | bad):
        problems.append(
            _problem(label, i + 1, "tier", "bad_tier", value=frame["tier"].iat[i])
        )
    return np.where(np.isin(tier, TIERS), tier, 3).astype(np.int8)


def _read_scores(frame: pd.DataFrame, label: str, problems: list[Problem]) -> NDArray[np.float64]:
    """Read the grade 10 scores (NaN where bad), adding the problems of bad or missing cells."""
    score, bad = _numbers(frame, "score")
    for i in _rows(bad):
        problems.append(_problem(label, i + 1, "score", "not_a_number", value=frame["score"].iat[i]))
    for i in _rows((frame["score"] == "").to_numpy()):
        problems.append(_problem(label, i + 1, "score", "missing_score"))
    for i in _rows((score < 0) | (score > GRADE10_MAX_SCORE)):
        problems.append(
            _problem(label, i + 1, "score", "score_range", value=score[i], top=GRADE10_MAX_SCORE)
        )
    return score


def _read_bonuses(frame: pd.DataFrame, label: str, problems: list[Problem]) -> NDArray[np.float64]:
    """Read the grade 10 bonus points (0 where empty or bad), adding the problems of bad cells."""
    bonus, bad = _numbers(frame, "bonus")
    for i in _rows(bad):
        problems.append(
            _problem(label, i + 1, "bonus", "not_a_number", value=frame["bonus"].iat[i])
        )
    for i in _rows(bonus < 0):
        problems.append(_problem(label, i + 1, "bonus", "negative_bonus", value=bonus[i]))
    return np.where(np.isfinite(bonus), bonus, 0.0)


def _check_choices(
    frame: pd.DataFrame,
    label: str,
    grade: int,
    schools: pd.DataFrame,
    limit: int,
    out: pd.DataFrame,
) -> list[Problem]:
    """Check the choice columns, add ``choice1..choiceK`` to ``out`` and return the problems."""
    columns = _choice_columns(frame)
    problems = _check_choice_cells(frame, label, grade, schools, limit, columns)
    # Columns may skip numbers (choice1, choice3): a missing column is an empty choice.
    numbered = {number: column for number, column in columns if number <= limit}
    width = max(numbered) if numbered else 0
    grid = np.full((len(frame), width), "", dtype=object)
    for number, column in numbered.items():
        grid[:, number - 1] = frame[column].to_numpy(dtype=object)
    for i in range(len(frame)):
        problems.extend(_check_choice_order(grid[i], label, i + 1))
        if grade == 10 and width and grid[i][0] == "":
            problems.append(_problem(label, i + 1, "choice1", "needs_nv1"))
    for number in range(1, width + 1):
        out[f"choice{number}"] = grid[:, number - 1].astype(str) if width else ""
    return problems


def _check_choice_cells(
    frame: pd.DataFrame,
    label: str,
    grade: int,
    schools: pd.DataFrame,
    limit: int,
    columns: list[tuple[int, str]],
) -> list[Problem]:
    """Return the problems of choices past ``limit`` and of schools that cannot admit the grade."""
    problems: list[Problem] = []
    capacity_column = levels.capacity_column(grade)
    school_level = dict(zip(schools["code"], schools["level"], strict=True))
    has_capacity = dict(
        zip(schools["code"], schools[capacity_column].notna().to_numpy(), strict=True)
    )
    for number, column in columns:
        filled = (frame[column] != "").to_numpy()
        if number > limit:
            for i in _rows(filled):
                problems.append(
                    _problem(label, i + 1, column, "too_many_choices", limit=limit)
                )
            continue
        for i in _rows(filled):
            code = frame[column].iat[i]
            problem = _school_choice_problem(
                code, school_level.get(code), has_capacity.get(code, False), grade
            )
            if problem is not None:
                key, values = problem
                problems.append(_problem(label, i + 1, column, key, code=code, **values))
    return problems


def _school_choice_problem(
    code: str, school_level: str | None, has_capacity: bool, grade: int
) -> tuple[str, dict[str, object]] | None:
    """Return the reason key and values why school ``code`` cannot be chosen, or ``None``."""
    level = LEVEL_OF_GRADE[grade]
    if school_level is None:
        return "unknown_school", {}
    if school_level != level:
        return "wrong_level", {"level": school_level, "level_vi": _LEVEL_VI[school_level],
                               "wanted": level, "wanted_vi": _LEVEL_VI[level], "grade": grade}
    if not has_capacity:
        return "no_capacity", {"column": levels.capacity_column(grade), "grade": grade}
    return None


def _check_choice_order(row: NDArray[np.object_], label: str, row_number: int) -> list[Problem]:
    """Return the problems of one applicant's choices: a choice after a gap, a school twice."""
    problems: list[Problem] = []
    seen: set[str] = set()
    gap = False
    for j, code in enumerate(row):
        if code == "":
            gap = True
            continue
        if gap:
            problems.append(_problem(label, row_number, f"choice{j + 1}", "choice_after_gap"))
            gap = False
        if code in seen:
            problems.append(_problem(label, row_number, f"choice{j + 1}", "listed_twice", code=code))
        seen.add(code)
    return problems


def build_problem(
    applicants: pd.DataFrame,
    schools: pd.DataFrame,
    grade: int,
    distances: DistanceSource | None,
    candidates: int = DEFAULT_MAX_CHOICES,
    schools_label: str = "schools",
) -> AdmissionProblem:
    """Assemble the arrays of an :class:`AdmissionProblem` from checked frames.

    Parameters
    ----------
    applicants, schools
        Frames from :func:`read_applicants` and :func:`read_schools`.
    grade
        1, 6 or 10.
    distances
        Source of home-to-school distances; built over exactly the schools admitting
        ``grade`` (see :func:`admitting_schools`), in that order. Required for grades 1/6.
        The homes it reaches only in a straight line (far from every road) are flagged in
        ``problem.offroad``.
    candidates
        Grades 1/6 without stated choices: length of the "nearest first" list.
    schools_label
        Name of the schools file in error messages.

    Raises
    ------
    InputError
        When no school admits the grade (no ``capacity_grade{grade}`` values).
    """
    admitting = admitting_schools(schools, grade, schools_label)
    index = {code: i for i, code in enumerate(admitting["code"].tolist())}
    choice_columns = [c for c in applicants.columns if _CHOICE.match(c)]
    choice_columns.sort(key=lambda c: int(c[len("choice"):]))
    n = len(applicants)
    lon = applicants["lon"].to_numpy(dtype=np.float64)
    lat = applicants["lat"].to_numpy(dtype=np.float64)
    stated = bool(choice_columns) and bool((applicants[choice_columns] != "").to_numpy().any())
    if grade != 10 and distances is None:
        raise ValueError("grades 1 and 6 rank by distance: give a distance source")
    if stated:
        codes = applicants[choice_columns].to_numpy(dtype=object)
        choices = np.vectorize(lambda c: index.get(c, -1), otypes=[np.int32])(codes)
        choices = choices.reshape(n, len(choice_columns)).astype(np.int32)
        distance_m = np.full(choices.shape, np.nan)
        time_s = np.full(choices.shape, np.nan)
        if distances is not None:
            known = np.isfinite(lon) & np.isfinite(lat)
            if known.any():
                d, t = distances.pairs(lon[known], lat[known], choices[known])
                distance_m[known], time_s[known] = d, t
        preference = "stated"
    else:
        if grade == 10:
            raise ValueError("grade 10 needs stated choices")
        assert distances is not None  # grades 1 and 6 without one were refused above
        public = (admitting["ownership"] == "public").to_numpy()
        choices, distance_m, time_s = distances.nearest(lon, lat, candidates)
        # Private schools do not take children by residence: drop them, keep the order.
        keep = np.where(choices >= 0, public[np.maximum(choices, 0)], False)
        order = np.argsort(~keep, axis=1, kind="stable")
        choices = np.where(np.take_along_axis(keep, order, 1),
                           np.take_along_axis(choices, order, 1), -1).astype(np.int32)
        distance_m = np.where(choices >= 0, np.take_along_axis(distance_m, order, 1), np.nan)
        time_s = np.where(choices >= 0, np.take_along_axis(time_s, order, 1), np.nan)
        preference = "nearest"
    offroad = _offroad_homes(distances, lon, lat)
    has_distance = distances is not None and bool(np.isfinite(distance_m).any())
    kind = distances.kind if (distances is not None and has_distance) else "none"
    tier = None
    if grade != 10:
        tier = np.repeat(
            applicants["tier"].to_numpy(dtype=np.int8)[:, None], choices.shape[1], axis=1
        )
    return AdmissionProblem(
        grade=grade,
        applicant_ids=applicants["applicant_id"].to_numpy(dtype=str),
        school_codes=admitting["code"].to_numpy(dtype=str),
        school_names=admitting["name"].to_numpy(dtype=str),
        capacity=admitting[levels.capacity_column(grade)].to_numpy(dtype=np.int64),
        choices=choices,
        distance_m=distance_m,
        time_s=time_s,
        distance_kind=kind,  # type: ignore[arg-type]
        preference_kind=preference,  # type: ignore[arg-type]
        tier=tier,
        score=applicants["score"].to_numpy(dtype=np.float64) if grade == 10 else None,
        bonus=applicants["bonus"].to_numpy(dtype=np.float64) if grade == 10 else None,
        offroad=offroad,
    )


def _offroad_homes(distances: DistanceSource | None, lon: NDArray[np.float64],
                   lat: NDArray[np.float64]) -> NDArray[np.bool_] | None:
    """Flag the homes that ``distances`` reaches only in a straight line (``None``: no source)."""
    if distances is None:
        return None
    flags = np.zeros(lon.shape[0], dtype=np.bool_)
    known = np.isfinite(lon) & np.isfinite(lat)
    if known.any():
        flags[known] = distances.offroad(lon[known], lat[known])
    return flags


def admitting_schools(schools: pd.DataFrame, grade: int, label: str = "schools") -> pd.DataFrame:
    """Schools of the grade's level with a ``capacity_grade{grade}``, in file order."""
    column = levels.capacity_column(grade)
    chosen = schools[(schools["level"] == LEVEL_OF_GRADE[grade]) & schools[column].notna()]
    if chosen.empty:
        raise InputError(
            _problem(label, None, column, "nothing_to_allocate", level=LEVEL_OF_GRADE[grade],
                     level_vi=_LEVEL_VI[LEVEL_OF_GRADE[grade]], column=column)
        )
    return chosen.reset_index(drop=True)
