"""Old -> new unit mapping: checked by row and field, stored idempotently, and used to count
data keyed by former wards in the wards of today."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from basemaps.admin_mapping import read_admin_mapping, store_admin_mapping, to_new_units
from gis_service.errors import InputError
from tests.conftest import database_env
from tests.support.two_tier import store_history, store_today

GOOD = ["W1a,N1,", "W1b,N1,1", "W2,N1,0.6", "W2,N2,0.4"]


@pytest.fixture
def geography(engine: Engine) -> Engine:
    store_history(engine)
    store_today(engine)
    return engine


def _write(tmp_path: Path, lines: list[str], header: str = "old_code,new_code,share") -> Path:
    path = tmp_path / "mapping.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(engine: Engine) -> list[tuple[str, str, float]]:
    with engine.connect() as conn:
        return [(o, n, s) for o, n, s in conn.execute(sa.text(
            "SELECT old_code, new_code, share FROM admin_mapping ORDER BY 1, 2"))]


def test_mapping_is_stored_and_reimport_changes_nothing(tmp_path: Path, geography: Engine) -> None:
    path = _write(tmp_path, GOOD)
    report = store_admin_mapping(geography, *read_admin_mapping(path), str(path))
    assert (report.inserted, report.updated, report.rejected) == (4, 0, 0)
    assert _stored(geography) == [("W1a", "N1", 1.0), ("W1b", "N1", 1.0), ("W2", "N1", 0.6),
                                  ("W2", "N2", 0.4)]
    again = store_admin_mapping(geography, *read_admin_mapping(path), str(path))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    fixed = _write(tmp_path, ["W2,N1,1"])  # W2 went whole to N1 after all
    report = store_admin_mapping(geography, *read_admin_mapping(fixed), str(fixed))
    assert (report.updated, report.details) == (1, {"pairs no longer in the file, deleted": 1})
    assert ("W2", "N2", 0.4) not in _stored(geography)


@pytest.mark.parametrize(("line", "row", "field", "reason"), [
    ("W2,W2,1", 5, "new_code", "unit W2 is mapped to itself"),
    ("W1a,N2,0", 5, "share", "share '0' is not a number in (0, 1]"),
    ("W1a,N2,abc", 5, "share", "share 'abc' is not a number in (0, 1]"),
    (",N2,1", 5, "old_code", "missing code"),
    ("W1a,N1,1", 5, "new_code", "W1a -> N1 is already at row 1"),
    ("W1a,N2,0.5", 1, "share", "the shares of W1a add up to 1.5 > 1 (rows 1, 5)"),
    ("W9,N2,1", 5, "old_code", "unknown unit W9"),
    ("W1a,N9,0.5", 5, "new_code", "unknown unit N9"),
])
def test_bad_rows_are_named_and_nothing_is_stored(tmp_path: Path, geography: Engine, line: str,
                                                  row: int, field: str, reason: str) -> None:
    path = _write(tmp_path, [*GOOD, line])
    with pytest.raises(InputError) as refused:
        store_admin_mapping(geography, *read_admin_mapping(path), str(path))
    assert any(p.row == row and p.field == field and p.reason == reason and p.reason_vi
               for p in refused.value.problems), refused.value
    assert _stored(geography) == []


def test_a_file_without_new_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing column new_code"):
        read_admin_mapping(_write(tmp_path, ["W1a"], header="old_code"))


def test_population_of_former_wards_is_counted_in_the_wards_of_today() -> None:
    population = pd.DataFrame({"ward_code": ["W1a", "W1b", "W2", "N2", "W2"],
                               "year": [2024, 2024, 2024, 2024, 2023], "age": [6] * 5,
                               "count": [100, 20, 50, 10, 40]})
    mapping = pd.DataFrame({"old_code": ["W1a", "W1b", "W2", "W2"],
                            "new_code": ["N1", "N1", "N1", "N2"], "share": [1, 1, 0.6, 0.4]})
    moved = to_new_units(population, mapping)
    assert list(moved.columns) == ["ward_code", "year", "age", "count"]
    assert moved.to_dict("records") == [
        {"ward_code": "N1", "year": 2023, "age": 6, "count": 24.0},
        {"ward_code": "N1", "year": 2024, "age": 6, "count": 150.0},
        {"ward_code": "N2", "year": 2023, "age": 6, "count": 16.0},
        {"ward_code": "N2", "year": 2024, "age": 6, "count": 30.0}]
    assert moved["count"].sum() == population["count"].sum()
    assert to_new_units(population, mapping.iloc[:0]) is population


def test_forecast_inputs_read_population_by_ward_of_today(tmp_path: Path, geography: Engine) -> None:
    from forecasting.queries import enrolment_inputs

    path = _write(tmp_path, GOOD)
    store_admin_mapping(geography, *read_admin_mapping(path), str(path))
    with geography.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO population (ward_code, year, age, count) VALUES"
            " ('W1a', 2024, 6, 100), ('W2', 2024, 6, 50), ('N2', 2024, 6, 10);"
            "INSERT INTO births (ward_code, year, births) VALUES ('W2', 2024, 10);"
            "INSERT INTO schools (code, name, level, ownership, ward_code, geom) VALUES"
            " ('S1', 'Trường Một', 'primary', 'public', 'N1',"
            "  ST_SetSRID(ST_Point(106.65, 10.75), 4326));"
            "INSERT INTO enrolment (school_code, year, grade, headcount) VALUES ('S1', 2024, 1, 90)"))
    data = enrolment_inputs(geography)
    counts = data.population.set_index("ward_code")["count"].to_dict()
    assert counts == {"N1": 130.0, "N2": 30.0}
    assert data.births.set_index("ward_code")["births"].to_dict() == {"N1": 6.0, "N2": 4.0}


def test_cli_imports_the_mapping(tmp_path: Path, geography: Engine,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    with database_env(geography, monkeypatch):
        result = CliRunner().invoke(app, ["import", "admin-mapping", str(_write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    assert "admin mapping from" in result.output and "4 inserted" in result.output
