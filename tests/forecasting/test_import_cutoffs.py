"""``edugis import cutoffs``: names matched to schools, the rest reported, bad values refused."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from forecasting._matching import parse_overrides, school_key, unit_key
from forecasting.cutoff_import import import_cutoffs
from gis_service.errors import InputError, InvalidValueError, StateError
from tests.conftest import database_env, table_counts
from tests.support.hcmc_schools import load_hcmc_schools

NV1 = "schools/hcmc_grade10_cutoffs_nv1_2022_2024.csv"
SPECIALISED = "schools/hcmc_grade10_cutoffs_specialized_2022_2024.csv"


def test_keys_drop_type_words_and_diacritics() -> None:
    assert school_key("Trường THPT Bùi Thị Xuân") == school_key("PTTH Bùi thị Xuân") == "bui thi xuan"
    assert school_key("Trường phổ thông trung học Lê Thánh Tôn") == "le thanh ton"
    assert school_key("THCS - THPT Tân Phú") == school_key("Trường THCS & THPT Tân Phú") == "tan phu"
    assert school_key("THPT Chuyên Trần Đại Nghĩa", drop_chuyen=True) == "tran dai nghia"
    assert school_key("Trường Thpt Bán Công Nguyễn An Ninh\u200e") == "nguyen an ninh"
    assert unit_key("Quận Bình Thạnh") == unit_key("Bình Thạnh") == "binh thanh"
    assert unit_key("TP Thủ Đức") == unit_key("Thành phố Thủ Đức") == "thu duc"
    assert unit_key("Quận 1") != unit_key("Phường 1")
    with pytest.raises(InvalidValueError, match="name=code"):
        parse_overrides(["THPT A"])


@pytest.fixture
def hcmc_schools(engine: Engine, hcmc: Path) -> Engine:
    assert load_hcmc_schools(engine, hcmc) > 500
    return engine


def test_real_nv1_file_stores_matched_names_and_reports_the_rest(
        hcmc: Path, hcmc_schools: Engine, tmp_path: Path) -> None:
    report_file = tmp_path / "unmatched.csv"
    started = time.perf_counter()
    done = import_cutoffs(hcmc_schools, hcmc / NV1, {}, report_file)
    print(f"import cutoffs (NV1, 315 rows): {time.perf_counter() - started:.2f} s")
    left = pd.read_csv(report_file, keep_default_na=False)
    assert set(left["status"]) == {"ambiguous", "unmatched"}
    assert done.report.inserted + done.report.rejected == 315
    matched_names = 105 - len(left)
    assert matched_names >= 40  # SOURCES.md: a name-only join found 41 unique THPT matches
    with hcmc_schools.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT school_code) FROM cutoffs"
            " WHERE admission_round = 'NV1' AND programme = 'regular'")).one()
        bui_thi_xuan = conn.execute(sa.text(
            "SELECT s.name, c.cutoff_score FROM cutoffs c JOIN schools s ON s.code = c.school_code"
            " WHERE c.year = 2023 AND s.name ILIKE '%Bùi thị Xuân%'")).one()
    assert stored == (done.report.inserted, matched_names)
    assert bui_thi_xuan == ("PTTH Bùi thị Xuân", 23.5)
    # the ambiguous names list their candidates, e.g. the two OSM points of Nguyễn Công Trứ
    ambiguous = left.set_index("school_name").loc["THPT Nguyễn Công Trứ"]
    assert ambiguous["status"] == "ambiguous" and ambiguous["candidates"].count("osm_") >= 2
    again = import_cutoffs(hcmc_schools, hcmc / NV1, {}, report_file)
    assert (again.report.inserted, again.report.updated) == (0, 0)
    assert again.report.unchanged == done.report.inserted


def test_map_overrides_an_ambiguous_name_and_strict_refuses_the_rest(
        hcmc: Path, hcmc_schools: Engine, tmp_path: Path) -> None:
    report_file = tmp_path / "left.csv"
    before = table_counts(hcmc_schools)
    with pytest.raises(InputError) as caught:
        import_cutoffs(hcmc_schools, hcmc / NV1, {}, report_file, strict=True)
    assert table_counts(hcmc_schools) == before
    problem = caught.value.problems[0]
    assert problem.field == "school_name" and str(report_file) in problem.reason
    left = pd.read_csv(report_file, keep_default_na=False).set_index("school_name")
    code = left.loc["THPT Nguyễn Công Trứ", "candidates"].split(":")[0]
    done = import_cutoffs(hcmc_schools, hcmc / NV1, parse_overrides([f"thpt nguyen cong tru={code}"]),
                          report_file)
    with hcmc_schools.connect() as conn:
        years = conn.execute(sa.text("SELECT count(*) FROM cutoffs WHERE school_code = :c"),
                             {"c": code}).scalar_one()
    assert years == 3 and "mapped" in done.report.details["school names"]


def test_specialised_programmes_keep_their_label_up_to_fifty(
        hcmc: Path, hcmc_schools: Engine, tmp_path: Path) -> None:
    done = import_cutoffs(hcmc_schools, hcmc / SPECIALISED, {}, tmp_path / "left.csv")
    with hcmc_schools.connect() as conn:
        programmes: dict[str, float] = dict(conn.execute(sa.text(
            "SELECT programme, max(cutoff_score) FROM cutoffs GROUP BY programme")).all())
    assert done.report.inserted > 0
    assert "Chuyên Toán" in programmes and max(programmes.values()) > 30


def _school(conn: sa.Connection, code: str, name: str, lon: float, lat: float) -> None:
    conn.execute(sa.text(
        "INSERT INTO schools (code, name, level, levels, ownership, geom) VALUES (:c, :n,"
        " 'upper_secondary', ARRAY['upper_secondary'], 'public', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
        {"c": code, "n": name, "x": lon, "y": lat})


@pytest.fixture
def two_districts(engine: Engine) -> Engine:
    """Two districts side by side with a "THPT Nguyễn Du" in each, and a THCS Lê Lợi."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO admin_units (code, name, level, geom) VALUES"
            " ('D10', 'Quận 10', 'district', ST_Multi(ST_MakeEnvelope(106.6, 10.7, 106.7, 10.8, 4326))),"
            " ('DGV', 'Quận Gò Vấp', 'district', ST_Multi(ST_MakeEnvelope(106.7, 10.7, 106.8, 10.8, 4326)))"))
        _school(conn, "ND10", "Trường THPT Nguyễn Du", 106.65, 10.75)
        _school(conn, "NDGV", "THPT Nguyễn Du", 106.75, 10.75)
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, geom) VALUES ('NDC', 'THCS Lê Lợi',"
            " 'lower_secondary', 'public', ST_SetSRID(ST_MakePoint(106.66, 10.76), 4326))"))
    return engine


def _cutoff_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "cutoffs.csv"
    path.write_text("school_name,district_section,year,cutoff_score,max_score\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_district_hint_breaks_a_tie_and_without_it_the_name_is_ambiguous(
        two_districts: Engine, tmp_path: Path) -> None:
    path = _cutoff_file(tmp_path, ["THPT Nguyễn Du,Gò Vấp,2024,18.5,30",
                                   "THPT Nguyen Du,Quận 10,2024,20,30",
                                   "THPT Nguyễn Du,,2023,19,30"])
    done = import_cutoffs(two_districts, path, {}, tmp_path / "left.csv")
    with two_districts.connect() as conn:
        stored = conn.execute(sa.text("SELECT school_code, cutoff_score FROM cutoffs ORDER BY 1")).all()
    assert stored == [("ND10", 20.0), ("NDGV", 18.5)]
    assert done.report.rejected == 1
    left = pd.read_csv(tmp_path / "left.csv", keep_default_na=False)
    assert left.to_dict("records")[0]["status"] == "ambiguous"
    assert "ND10: Trường THPT Nguyễn Du (Quận 10)" in left["candidates"][0]


@pytest.mark.parametrize(("row", "field", "reason"), [
    ("THPT Nguyễn Du,Quận 10,2024,31,30", "cutoff_score", "bad cut-off '31': a number in 0-30"),
    ("THPT Nguyễn Du,Quận 10,2024,-1,30", "cutoff_score", "a number in 0-30"),
    ("THPT Nguyễn Du,Quận 10,20x4,20,30", "year", "bad year '20x4'"),
    ("THPT Nguyễn Du,Quận 10,1890,20,30", "year", "bad year"),
    ("THPT Nguyễn Du,Quận 10,2024,20,zero", "max_score", "bad max_score"),
    (",Quận 10,2024,20,30", "school_name", "missing school name"),
    ("THPT Nguyen Du,Quận 10,2023,20.5,30", "school_name", "same school, year, round and programme as row 1"),
])
def test_bad_rows_are_named_and_nothing_is_stored(
        two_districts: Engine, tmp_path: Path, row: str, field: str, reason: str) -> None:
    path = _cutoff_file(tmp_path, ["THPT Nguyễn Du,Quận 10,2023,20,30", row])
    with pytest.raises(InputError) as caught:
        import_cutoffs(two_districts, path, {}, tmp_path / "left.csv")
    problem = caught.value.problems[0]
    assert (problem.row, problem.field) == (2, field) and reason in problem.reason
    assert problem.reason_vi
    assert table_counts(two_districts)["cutoffs"] == 0


def test_cli_prints_counts_and_where_the_report_is(two_districts: Engine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    path = _cutoff_file(tmp_path, ["THPT Nguyễn Du,Quận 10,2024,20,30",
                                   "THPT Lê Lợi,Quận 10,2024,18,30"])
    with database_env(two_districts, monkeypatch):
        result = CliRunner().invoke(app, ["import", "cutoffs", str(path)])
        assert result.exit_code == 0, result.output
        assert "1 inserted" in result.output and "1 rejected" in result.output
        assert str(tmp_path / "cutoffs_unmatched.csv") in result.output
        result = CliRunner().invoke(app, ["import", "cutoffs", str(path), "--strict"])
        assert isinstance(result.exception, InputError)
        result = CliRunner().invoke(app, ["import", "cutoffs", str(path), "--map", "Lê Lợi=NDC",
                                          "--map", "THPT Gia Định=NDC"])
        assert result.exit_code == 0 and "1 inserted, 0 updated, 1 unchanged" in result.output
        assert "--map names not in the file: thpt gia dinh" in result.output


def test_a_school_of_another_level_is_a_candidate_not_a_match(
        two_districts: Engine, tmp_path: Path) -> None:
    path = _cutoff_file(tmp_path, ["THPT Lê Lợi,Quận 10,2024,20,30"])
    done = import_cutoffs(two_districts, path, {}, tmp_path / "left.csv")
    left = pd.read_csv(tmp_path / "left.csv", keep_default_na=False).to_dict("records")
    assert done.report.inserted == 0
    assert left == [{"school_name": "THPT Lê Lợi", "district_hint": "Quận 10", "status": "unmatched",
                     "rows": 1, "first_row": 1, "candidates": "NDC: THCS Lê Lợi (Quận 10)"}]


def test_without_schools_the_import_says_to_import_them_first(engine: Engine, tmp_path: Path) -> None:
    path = _cutoff_file(tmp_path, ["THPT Nguyễn Du,Quận 10,2024,20,30"])
    with pytest.raises(StateError, match="import schools first"):
        import_cutoffs(engine, path, {}, tmp_path / "left.csv")
    assert not (tmp_path / "left.csv").exists()
