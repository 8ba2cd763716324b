"""The CSV contracts: good files load, every bad cell is reported with row and field."""

from __future__ import annotations

from pathlib import Path
from string import Formatter

import numpy as np
import pandas as pd
import pytest

from admissions import build_problem, read_applicants, read_schools
from admissions.distance import StraightLine
from admissions.files import REASONS, spreadsheet_rows
from gis_service.errors import InputError, Problem

SCHOOLS = """code,name,level,ownership,lon,lat,capacity_grade1,capacity_grade6,capacity_grade10
P1,TH Lê Văn Tám,primary,public,106.700,10.770,2,,
P2,TH Nguyễn Du,primary,public,106.705,10.772,1,,
P9,TH Tư thục,primary,private,106.7011,10.7702,5,,
S1,THCS Văn Lang,lower_secondary,public,106.701,10.771,,3,
H1,THPT Bùi Thị Xuân,upper_secondary,public,106.690,10.770,,,2
H2,THPT Trưng Vương,upper_secondary,public,106.700,10.760,,,2
H3,THPT Lương Thế Vinh,upper_secondary,public,106.710,10.750,,,3
H4,THPT Chưa mở,upper_secondary,public,106.710,10.750,,,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(error: pytest.ExceptionInfo[InputError]) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.field) for p in error.value.problems}


@pytest.fixture
def schools(tmp_path: Path) -> Path:
    return _write(tmp_path, "schools.csv", SCHOOLS)


def test_good_grade10_file_loads(tmp_path: Path, schools: Path) -> None:
    text = "applicant_id,score,choice1,choice2,choice3,bonus\ns1,25,H1,H2,,0.5\ns2,0,H3,,,\n"
    frame = read_applicants(_write(tmp_path, "a.csv", text), 10, read_schools(schools))
    assert frame["score"].tolist() == [25.0, 0.0]
    assert frame["bonus"].tolist() == [0.5, 0.0]
    problem = build_problem(frame, read_schools(schools), 10, None)
    assert problem.school_codes.tolist() == ["H1", "H2", "H3"]
    assert problem.choices.tolist() == [[0, 1, -1], [2, -1, -1]]
    assert problem.distance_kind == "none"


def test_every_bad_grade10_row_is_reported(tmp_path: Path, schools: Path) -> None:
    text = (
        "applicant_id,score,choice1,choice2,choice3,choice4,bonus\n"
        "s1,25,H1,H2,,,\n"          # 1 fine
        "s1,24,H1,,,,\n"            # 2 duplicate id
        "s3,,H1,,,,\n"              # 3 missing score
        "s4,31,H1,,,,\n"            # 4 score out of range
        "s5,abc,H1,,,,-1\n"         # 5 score not a number, negative bonus
        "s6,20,HX,P1,,,\n"          # 6 unknown school, wrong level
        "s7,20,H1,H2,H3,H4,\n"      # 7 more choices than allowed
        "s8,20,H1,,H2,,\n"          # 8 gap
        "s9,20,H1,H1,,,\n"          # 9 same school twice
        "s10,20,H4,,,,\n"           # 10 school without capacity for grade 10
        "s11,20,,,,,\n"             # 11 no NV1
    )
    with pytest.raises(InputError) as error:
        read_applicants(_write(tmp_path, "a.csv", text), 10, read_schools(schools))
    found = _problems(error)
    assert found == {
        (2, "applicant_id"), (3, "score"), (4, "score"), (5, "score"), (5, "bonus"),
        (6, "choice1"), (6, "choice2"), (7, "choice4"), (8, "choice3"), (9, "choice2"),
        (10, "choice1"), (11, "choice1"),
    }
    assert all(p.file == "a.csv" for p in error.value.problems)
    reasons = {(p.row, p.field): p.reason for p in error.value.problems}
    assert "unknown school code 'HX'" in reasons[(6, "choice1")]
    assert "more choices than allowed (3)" in reasons[(7, "choice4")]
    assert "outside 0..30" in reasons[(4, "score")]
    vietnamese = {(p.row, p.field): p.reason_vi for p in error.value.problems}
    assert vietnamese[(4, "score")] == "điểm 31 nằm ngoài khoảng 0..30"
    assert vietnamese[(6, "choice1")] == "không có trường nào mã 'HX'"
    assert vietnamese[(6, "choice2")] == "trường 'P1' là trường tiểu học, không phải trường THPT (lớp 10)"
    assert vietnamese[(7, "choice4")] == "nhiều nguyện vọng hơn mức cho phép (3)"
    assert all(p.reason_vi and p.reason_in("vi") == p.reason_vi and p.reason_in("en") == p.reason
               for p in error.value.problems)


def test_bad_grade1_rows_are_reported(tmp_path: Path, schools: Path) -> None:
    text = (
        "applicant_id,lon,lat,tier\n"
        "c1,106.70,10.77,1\n"
        "c2,196.70,10.77,2\n"   # lon out of range
        "c3,106.70,,3\n"        # missing lat
        "c4,106.70,10.77,4\n"   # bad tier
        ",106.70,10.77,1\n"     # empty id
    )
    with pytest.raises(InputError) as error:
        read_applicants(_write(tmp_path, "g1.csv", text), 1, read_schools(schools))
    assert _problems(error) == {(2, "lon"), (3, "lat"), (4, "tier"), (5, "applicant_id")}


def test_missing_columns_are_reported_for_the_file(tmp_path: Path, schools: Path) -> None:
    with pytest.raises(InputError) as error:
        read_applicants(_write(tmp_path, "a.csv", "applicant_id,choice1\ns1,H1\n"), 10,
                        read_schools(schools))
    assert _problems(error) == {(None, "score"), (None, "choice2"), (None, "choice3")}


def test_bad_schools_are_reported(tmp_path: Path) -> None:
    text = (
        "code,name,level,ownership,lon,lat,capacity_grade10\n"
        "H1,A,upper_secondary,public,106.7,10.7,-5\n"   # negative capacity
        "H1,B,upper_secondary,public,106.7,10.7,3\n"    # duplicate code
        "H3,C,college,public,106.7,10.7,3\n"            # bad level
        "H4,D,upper_secondary,state,106.7,95,2.5\n"     # ownership, lat, capacity not whole
    )
    with pytest.raises(InputError) as error:
        read_schools(_write(tmp_path, "s.csv", text))
    assert _problems(error) == {
        (1, "capacity_grade10"), (2, "code"), (3, "level"), (4, "ownership"), (4, "lat"),
        (4, "capacity_grade10"),
    }


def test_input_error_lists_all_problems_in_its_message() -> None:
    error = InputError([Problem("a.csv", 3, "score", "missing score"),
                        Problem("a.csv", 4, "score", "31 is outside 0..30")])
    assert "2 problem(s)" in str(error)
    assert "a.csv, row 4, field 'score'" in str(error)


def test_problem_reasons_are_vietnamese_with_english_fallback() -> None:
    both = Problem.of("a.csv", 3, "score", REASONS["missing_score"])
    assert (both.reason_in("vi"), both.reason_in("en")) == ("thiếu điểm", "missing score")
    assert str(both) == "a.csv, row 3, field 'score': missing score / thiếu điểm"
    english_only = Problem("a.csv", 3, "score", "missing score")
    assert english_only.reason_in("vi") == "missing score" and str(english_only).endswith(": missing score")


def _fields(template: str) -> set[str]:
    return {name.removesuffix("_vi") for _, name, _, _ in Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(REASONS))
def test_every_file_reason_is_translated_without_losing_a_value(key: str) -> None:
    vi, en = REASONS[key]
    assert vi and en and vi != en
    assert _fields(en) <= _fields(vi)  # the Vietnamese may take the `_vi` form of a value


def test_grade1_default_list_is_public_schools_nearest_first(
    tmp_path: Path, schools: Path
) -> None:
    text = "applicant_id,lon,lat,tier\nc1,106.7010,10.7701,1\nc2,106.7049,10.7719,2\n"
    school_frame = read_schools(schools)
    frame = read_applicants(_write(tmp_path, "g1.csv", text), 1, school_frame)
    admitting = school_frame[school_frame["capacity_grade1"].notna()
                             & (school_frame["level"] == "primary")]
    source = StraightLine(admitting["lon"].to_numpy(), admitting["lat"].to_numpy())
    problem = build_problem(frame, school_frame, 1, source, candidates=3)
    # P9 (private) is nearest to c1 but never a default choice.
    assert problem.school_codes.tolist() == ["P1", "P2", "P9"]
    assert problem.choices.tolist() == [[0, 1, -1], [1, 0, -1]]
    assert problem.preference_kind == "nearest"
    assert problem.distance_kind == "straight_line"
    assert np.all(np.diff(problem.distance_m[:, :2], axis=1) >= 0)
    assert problem.tier is not None and problem.tier[:, 0].tolist() == [1, 2]


@pytest.mark.parametrize("choices", [{}, {"choice1": ["", ""]}])
def test_grade10_without_choices_or_distances_is_refused_with_a_value_error(
    schools: Path, choices: dict[str, list[str]]
) -> None:
    applicants = pd.DataFrame({"applicant_id": ["s1", "s2"], "lon": [np.nan, np.nan],
                               "lat": [np.nan, np.nan], "score": [20.0, 21.0],
                               "bonus": [0.0, 0.0], **choices})
    with pytest.raises(ValueError, match="grade 10 needs stated choices"):
        build_problem(applicants, read_schools(schools), 10, None)


def test_problems_map_to_spreadsheet_lines_and_applicant_ids(tmp_path: Path, schools: Path) -> None:
    # a blank line the reader skips is still a row of the spreadsheet; a quoted cell with a
    # line break is one row
    text = ("applicant_id,score,choice1,choice2,choice3\n"
            "s1,25,H1,,\n"
            "\n"
            "\"s2\nx\",24,H1,,\n"
            " s3 ,31,H1,,\n"
            "s1,20,H2,,\n")
    path = _write(tmp_path, "a.csv", text)
    with pytest.raises(InputError) as error:
        read_applicants(path, 10, read_schools(schools))
    lines = spreadsheet_rows(path, "applicant_id")
    assert lines == [(2, "s1"), (4, "s2\nx"), (5, "s3"), (6, "s1")]
    where = {(lines[p.row - 1], p.field) for p in error.value.problems if p.row is not None}
    assert where == {((5, "s3"), "score"), ((6, "s1"), "applicant_id")}
    duplicate = next(p for p in error.value.problems if p.field == "applicant_id")
    assert duplicate.reason == "duplicate applicant id 's1' (first at spreadsheet line 2)"
    assert spreadsheet_rows(tmp_path / "missing.csv", "applicant_id") == []
    assert spreadsheet_rows(path, "no_such_column")[0] == (2, "")
