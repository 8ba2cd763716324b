"""``edugis import enrolment`` and ``import capacities``: one transaction, errors by row and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from forecasting.school_tables import import_capacities, import_enrolment
from gis_service.errors import InputError
from tests.conftest import database_env, table_counts


@pytest.fixture
def schools(engine: Engine) -> Engine:
    """A primary school, a lower-secondary one and a liên cấp school (lower + upper secondary)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, levels, ownership, geom) VALUES"
            " ('P1', 'Tiểu học A', 'primary', '{}', 'public', ST_SetSRID(ST_MakePoint(106.7, 10.7), 4326)),"
            " ('L1', 'THCS B', 'lower_secondary', '{lower_secondary}', 'public',"
            "  ST_SetSRID(ST_MakePoint(106.7, 10.7), 4326)),"
            " ('M1', 'THCS-THPT C', 'lower_secondary', '{lower_secondary,upper_secondary}', 'private',"
            "  ST_SetSRID(ST_MakePoint(106.7, 10.7), 4326))"))
    return engine


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_enrolment_is_upserted_and_reimport_changes_nothing(schools: Engine, tmp_path: Path) -> None:
    path = _file(tmp_path, "school_code,year,grade,headcount\nP1,2024,1,210\nP1,2024,2,198\n"
                           "M1,2024,6,300\nM1,2024,10,420\n")
    report = import_enrolment(schools, path)
    assert (report.inserted, report.updated, report.unchanged) == (4, 0, 0)
    assert (import_enrolment(schools, path).unchanged) == 4
    changed = _file(tmp_path, "school_code,year,grade,headcount\nP1,2024,1,215\n")
    assert import_enrolment(schools, changed).updated == 1
    with schools.connect() as conn:
        assert conn.execute(sa.text("SELECT sum(headcount) FROM enrolment")).scalar_one() == 1133


@pytest.mark.parametrize(("row", "field", "reason"), [
    ("X9,2024,1,10", "school_code", "unknown school code X9"),
    ("P1,2024,13,10", "grade", "bad grade '13'"),
    ("P1,2024,6,10", "grade", "school P1 does not teach lower_secondary (its levels: primary)"),
    ("P1,20024,1,10", "year", "bad year"),
    ("P1,2024,2,many", "headcount", "not a whole number >= 0: 'many'"),
    ("P1,2024,1,12", "grade", "same school, year and grade as row 1"),
])
def test_bad_enrolment_rows_are_named_and_nothing_is_stored(
        schools: Engine, tmp_path: Path, row: str, field: str, reason: str) -> None:
    path = _file(tmp_path, f"school_code,year,grade,headcount\nP1,2024,1,200\n{row}\n")
    with pytest.raises(InputError) as caught:
        import_enrolment(schools, path)
    problem = caught.value.problems[0]
    assert (problem.row, problem.field) == (2, field) and reason in problem.reason
    assert problem.reason_vi
    assert table_counts(schools)["enrolment"] == 0


def _capacities(engine: Engine) -> dict[str, tuple[int | None, int | None, int | None]]:
    with engine.connect() as conn:
        return {code: (g1, g6, g10) for code, g1, g6, g10 in conn.execute(sa.text(
            "SELECT code, capacity_grade1, capacity_grade6, capacity_grade10 FROM schools"))}


def test_capacities_by_grade_or_level_go_to_the_entry_grade_column(
        schools: Engine, tmp_path: Path) -> None:
    by_grade = _file(tmp_path, "school_code,grade,capacity\nP1,1,200\nM1,6,90\nM1,10,450\n")
    assert import_capacities(schools, by_grade).updated == 3
    by_level = _file(tmp_path, "school_code,level,capacity\nM1,upper_secondary,500\nL1,lower_secondary,80\n")
    report = import_capacities(schools, by_level)
    assert (report.updated, report.unchanged) == (2, 0)
    assert _capacities(schools) == {"P1": (200, None, None), "L1": (None, 80, None),
                                    "M1": (None, 90, 500)}
    assert import_capacities(schools, by_level).unchanged == 2


@pytest.mark.parametrize(("header", "row", "field", "reason"), [
    ("grade", "P1,2,30", "grade", "grade 2 is not an entry grade"),
    ("grade", "L1,10,30", "grade", "school L1 does not teach upper_secondary"),
    ("level", "P1,preschool,30", "level", "preschool has no grades"),
    ("level", "P1,college,30", "level", "unknown level 'college'"),
    ("grade", "Z1,1,30", "school_code", "unknown school code Z1"),
    ("grade", "P1,1,-30", "capacity", "not a whole number >= 0"),
    ("grade", "P1,1,40", "grade", "same school and entry grade as row 1"),
])
def test_bad_capacity_rows_are_named_and_nothing_changes(
        schools: Engine, tmp_path: Path, header: str, row: str, field: str, reason: str) -> None:
    first = "P1,1,200" if header == "grade" else "P1,primary,200"
    path = _file(tmp_path, f"school_code,{header},capacity\n{first}\n{row}\n")
    with pytest.raises(InputError) as caught:
        import_capacities(schools, path)
    problem = caught.value.problems[0]
    assert (problem.row, problem.field) == (2, field) and reason in problem.reason
    assert _capacities(schools)["P1"] == (None, None, None)


def test_cli_imports_both(schools: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    enrolment = _file(tmp_path, "school_code,year,grade,headcount\nL1,2023,6,95\n")
    with database_env(schools, monkeypatch):
        result = CliRunner().invoke(app, ["import", "enrolment", str(enrolment)])
        assert result.exit_code == 0 and "1 inserted" in result.output, result.output
        capacities = tmp_path / "capacities.csv"
        capacities.write_text("school_code,grade,capacity\nL1,6,100\n", encoding="utf-8")
        result = CliRunner().invoke(app, ["import", "capacities", str(capacities)])
        assert result.exit_code == 0 and "1 updated" in result.output, result.output
        capacities.write_text("school_code,grade,capacity\nQ7,6,100\n", encoding="utf-8")
        result = CliRunner().invoke(app, ["import", "capacities", str(capacities)])
        assert isinstance(result.exception, InputError)
        assert "row 1, field 'school_code': unknown school code Q7" in str(result.exception)
