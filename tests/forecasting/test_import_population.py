"""``edugis import population``: any granularity in, ward x single age out, the method stored."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from basemaps.roads import read_roads
from basemaps.store import store_roads
from forecasting import age_structure
from forecasting._matching import parse_overrides
from forecasting.population_import import (
    PopulationFile,
    apportion,
    disaggregate,
    import_population,
    population_methods,
)
from gis_service.errors import InputError
from tests.conftest import database_env, table_counts
from tests.support.hcmc_wards import load_districts_and_wards

WEB_TABLE = "population/hcmc_district_population_web.csv"
#: The pre-2021 units of the web table inside Thành phố Thủ Đức (code 769) since 2021.
THU_DUC = ["Quận 2=769", "Quận 9=769", "Thủ Đức=769"]


def test_apportion_keeps_the_total_and_the_shares() -> None:
    assert apportion(10, np.array([1.0, 1.0, 1.0])).tolist() == [4, 3, 3]
    assert apportion(7, np.array([0.0, 0.0])).sum() == 7
    split = apportion(1_000_003, np.array([3.0, 1.0]))
    assert split.sum() == 1_000_003 and abs(split[0] - 750_002) <= 1


def test_age_shares_are_the_documented_table() -> None:
    shares = age_structure.single_year_shares()
    assert len(shares) == age_structure.MAX_AGE + 1 and shares.sum() == pytest.approx(1.0)
    assert shares[0:5].sum() == pytest.approx(8.1 / 98.0)  # the 0-4 group of the table
    assert age_structure.band_shares(6, 10).sum() == pytest.approx(1.0)


def test_road_length_shares_a_district_and_area_replaces_it_where_a_ward_has_none() -> None:
    groups = pd.DataFrame({"unit": ["D", "E"], "unit_level": ["district", "district"],
                           "year": [2024, 2024], "age_from": [6, 6], "age_to": [6, 6],
                           "count": [1000, 1000], "row": [1, 2]})
    weights = pd.DataFrame({"unit": ["D", "D", "E", "E"], "ward": ["D1", "D2", "E1", "E2"],
                            "area_m2": [1.0, 1.0, 3.0, 1.0], "road_m": [300.0, 100.0, 50.0, 0.0]})
    cells, no_wards = disaggregate(groups, weights, "osm", "f.csv")
    by_ward = dict(zip(cells["ward_code"], cells["count"], strict=True))
    assert no_wards == [] and by_ward == {"D1": 750, "D2": 250, "E1": 750, "E2": 250}
    methods = dict(zip(cells["ward_code"], cells["method"], strict=True))
    assert "residential streets (basemap osm)" in methods["D1"]
    assert "ward area (some ward has no residential street mapped)" in methods["E1"]
    without_roads, _ = disaggregate(groups, weights, None, "f.csv")
    assert "no basemap in use" in without_roads["method"].iloc[0]


@pytest.fixture
def hcmc_city(engine: Engine, hcmc: Path) -> Engine:
    """The 22 districts, stand-in wards and the 2018 drive roads of HCMC (basemap in use)."""
    assert load_districts_and_wards(engine, hcmc) >= 290
    layer, _ = read_roads(hcmc / "roads" / "hcmc_drive_2018-01-01.graphml.gz")
    store_roads(engine, layer, "hcmc_drive_2018")
    return engine


def test_real_district_totals_go_to_wards_and_ages(hcmc: Path, hcmc_city: Engine) -> None:
    source = PopulationFile(hcmc / WEB_TABLE, year=2024, count_column="population_table_b")
    before = table_counts(hcmc_city)
    with pytest.raises(InputError) as caught:  # Hóc Môn's figure is missing in the table
        import_population(hcmc_city, source, parse_overrides(THU_DUC))
    assert [(p.row, p.field) for p in caught.value.problems] == [(21, "population_table_b")]
    assert table_counts(hcmc_city) == before
    started = time.perf_counter()
    report = import_population(hcmc_city, source, parse_overrides(THU_DUC), skip_invalid=True)
    print(f"import population (24 district rows -> wards x ages): {time.perf_counter() - started:.2f} s")
    table = pd.read_csv(hcmc / WEB_TABLE)
    expected = int(table["population_table_b"].sum())
    with hcmc_city.connect() as conn:
        total, wards = conn.execute(sa.text(
            "SELECT sum(count), count(DISTINCT ward_code) FROM population WHERE year = 2024")).one()
        by_district: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT w.parent_code, sum(p.count) FROM population p"
            " JOIN admin_units w ON w.code = p.ward_code GROUP BY 1")).all())
        age6 = conn.execute(sa.text("SELECT sum(count) FROM population WHERE age = 6")).scalar_one()
    assert total == expected and report.rejected == 1
    assert by_district["760"] == 211_589  # Quận 1 as in the table
    assert by_district["769"] == 173_949 + 409_400 + 541_058  # Quận 2 + Quận 9 + Thủ Đức
    assert "784" not in by_district  # Hóc Môn: no figure, nothing made up
    assert age6 == pytest.approx(expected * age_structure.single_year_shares()[6], rel=1e-3)
    assert wards >= 270
    methods = population_methods(hcmc_city)
    assert any("residential streets (basemap hcmc_drive_2018)" in str(m["method"]) for m in methods)
    assert all("Vietnam 2019 census" in str(m["method"]) for m in methods)


def test_unknown_district_name_is_named_with_the_way_out(hcmc: Path, engine: Engine) -> None:
    load_districts_and_wards(engine, hcmc)
    source = PopulationFile(hcmc / WEB_TABLE, year=2024, count_column="population_table_b")
    with pytest.raises(InputError) as caught:
        import_population(engine, source, {})
    problem = caught.value.problems[0]
    assert (problem.row, problem.field) == (2, "district_name")
    assert "no admin unit named 'Quận 2'; use --map" in problem.reason
    assert table_counts(engine)["population"] == 0


@pytest.fixture
def two_wards(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO admin_units (code, name, level, parent_code, geom) VALUES"
            " ('D1', 'Quận Thử', 'district', NULL,"
            "  ST_Multi(ST_MakeEnvelope(106.6, 10.7, 106.8, 10.8, 4326))),"
            " ('W1', 'Phường Một', 'ward', 'D1', ST_Multi(ST_MakeEnvelope(106.6, 10.7, 106.7, 10.8, 4326))),"
            " ('W2', 'Phường Hai', 'ward', 'D1', ST_Multi(ST_MakeEnvelope(106.7, 10.7, 106.8, 10.8, 4326)))"))
    return engine


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "population.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_ward_rows_by_age_and_bands_are_stored_and_reimport_changes_nothing(
        two_wards: Engine, tmp_path: Path) -> None:
    path = _file(tmp_path, "ward_name,year,age_from,age_to,count\n"
                           "Phường Một,2024,6,6,120\nPhường Một,2024,7,10,400\n"
                           "phuong hai,2024,,,5000\n")
    report = import_population(two_wards, PopulationFile(path), {})
    assert report.inserted == 1 + 4 + 90
    with two_wards.connect() as conn:
        stored: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT ward_code || ':' || age, count FROM population WHERE age <= 7")).all())
        methods: dict[int, str] = dict(conn.execute(sa.text(
            "SELECT age, method FROM population WHERE ward_code = 'W1' AND age IN (6, 7)")).all())
        total_w2 = conn.execute(sa.text(
            "SELECT sum(count) FROM population WHERE ward_code = 'W2'")).scalar_one()
    assert stored["W1:6"] == 120 and total_w2 == 5000
    assert "single ages as given" in methods[6] and "ages 7-10 by Vietnam 2019" in methods[7]
    again = import_population(two_wards, PopulationFile(path), {})
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 95)


@pytest.mark.parametrize(("row", "field", "reason"), [
    ("Phường Một,2024,6,-3", "count", "not a whole number >= 0: '-3'"),
    ("Phường Một,2024,120,10", "age", "bad age '120'"),
    ("Phường Một,24,6,10", "year", "bad year '24'"),
    ("Phường Ba,2024,6,10", "ward_name", "no admin unit named 'Phường Ba'"),
    ("Phường Một,2024,7,10", "ward_name", "same unit, year and ages as row 1"),
])
def test_bad_rows_are_named_and_nothing_is_stored(
        two_wards: Engine, tmp_path: Path, row: str, field: str, reason: str) -> None:
    path = _file(tmp_path, f"ward_name,year,age,count\nPhường Một,2024,7,10\n{row}\n")
    with pytest.raises(InputError) as caught:
        import_population(two_wards, PopulationFile(path), {})
    problem = caught.value.problems[0]
    assert (problem.row, problem.field) == (2, field) and reason in problem.reason
    assert problem.reason_vi
    assert table_counts(two_wards)["population"] == 0


def test_district_total_overlapping_ward_rows_is_refused(two_wards: Engine, tmp_path: Path) -> None:
    path = _file(tmp_path, "code,year,count\nD1,2024,1000\nW1,2024,300\n")
    with pytest.raises(InputError, match="ward W1, year 2024, age 0 already comes from row 1"):
        import_population(two_wards, PopulationFile(path), {})


def test_cli_imports_with_year_and_count_column(two_wards: Engine, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    path = _file(tmp_path, "district_name,people\nThử,900\n")
    with database_env(two_wards, monkeypatch):
        result = CliRunner().invoke(app, ["import", "population", str(path)])
        assert isinstance(result.exception, InputError) and "--year" in str(result.exception)
        result = CliRunner().invoke(app, ["import", "population", str(path), "--year", "2025",
                                          "--count-column", "people"])
    assert result.exit_code == 0, result.output
    assert "180 inserted" in result.output and "ward area (no basemap in use)" in result.output


def test_planner_page_says_how_the_population_was_made(two_wards: Engine, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from gis_service.accounts import create_user
    from tests.support.web import PASSWORD, login, settle
    from web.app import create_app

    path = _file(tmp_path, "district_code,year,count\nD1,2024,900\n")
    import_population(two_wards, PopulationFile(path), {})
    create_user(two_wards, "planner1", PASSWORD, "planner")
    with database_env(two_wards, monkeypatch), TestClient(create_app()) as client:
        login(client, "planner1")
        page = client.get("/planner")
        settle(client.app)
    assert page.status_code == 200
    assert ("Dân số (đầu vào của dự báo và thiếu chỗ) được lập: district figures of population.csv;"
            " to wards by ward area (no basemap in use)") in page.text
    assert "(2 Phường/xã, 2024–2024)" in page.text


def test_a_district_without_wards_is_named(two_wards: Engine, tmp_path: Path) -> None:
    with two_wards.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO admin_units (code, name, level, geom) VALUES ('D2', 'Huyện Cần Giờ',"
            " 'district', ST_Multi(ST_MakeEnvelope(106.8, 10.4, 107.0, 10.6, 4326)))"))
    path = _file(tmp_path, "district_code,year,count\nD1,2024,900\nD2,2024,70000\n")
    with pytest.raises(InputError) as caught:
        import_population(two_wards, PopulationFile(path), {})
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, None)]
    assert "D2 Huyện Cần Giờ has no wards in the database" in caught.value.problems[0].reason
    report = import_population(two_wards, PopulationFile(path), {}, skip_invalid=True)
    assert report.rejected == 1 and report.details["people"] == 900
