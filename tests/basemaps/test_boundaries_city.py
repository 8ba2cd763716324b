"""The city's extent is its province (else its wards of today, else its districts); schools
get the ward of today and, as history, their former district."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.boundaries import read_boundaries
from basemaps.schools import read_schools
from basemaps.store import store_boundaries, store_schools
from gis_service import spatial
from gis_service.errors import InputError
from tests.support.two_tier import store_history, store_today

HEADER = "code,name,level,ownership,lon,lat,ward_code\n"
SCHOOLS = [
    "S1,Trường Một,primary,public,106.65,10.75,",  # N1, former D1 (and W1a/W1b)
    "S2,Trường Hai,primary,public,106.75,10.75,W2",  # names its former ward: N1, former D2
    "S3,Trường Bình Dương,primary,public,106.9,10.9,",  # N2, in no former district
]


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "schools.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _placed(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    with engine.connect() as conn:
        return [(c, w, d) for c, w, d in conn.execute(sa.text(
            "SELECT code, ward_code, district_code FROM schools ORDER BY code"))]


def test_schools_outside_the_old_districts_are_in_the_city(tmp_path: Path, engine: Engine) -> None:
    store_history(engine)
    store_today(engine)
    path = _write(tmp_path, SCHOOLS)
    report = store_schools(engine, *read_schools(path), str(path))
    assert (report.inserted, report.rejected) == (3, 0)
    assert report.details["city extent"] == "the province boundary"
    assert _placed(engine) == [("S1", "N1", "D1"), ("S2", "N1", "D2"), ("S3", "N2", None)]


def test_a_school_outside_the_province_is_refused(tmp_path: Path, engine: Engine) -> None:
    store_history(engine)
    store_today(engine)
    path = _write(tmp_path, [*SCHOOLS, "S4,Trường Xa,primary,public,107.5,10.9,"])
    with pytest.raises(InputError, match=r"row 4, field 'lon'.*outside the city"):
        store_schools(engine, *read_schools(path), str(path))
    assert _placed(engine) == []


@pytest.mark.parametrize(("today", "province", "expected"), [
    (True, True, "province"), (True, False, "wards"), (False, False, "districts")])
def test_the_city_extent_falls_back_to_wards_then_districts(
        engine: Engine, today: bool, province: bool, expected: str) -> None:
    store_history(engine)
    if today:
        store_today(engine, with_province=province)
    with engine.connect() as conn:
        extent = spatial.city_extent(conn, "u")
    assert extent is not None and extent[0] == expected and "u.level" in extent[1]


def test_without_any_unit_the_report_says_nothing_was_checked(tmp_path: Path,
                                                              engine: Engine) -> None:
    path = _write(tmp_path, SCHOOLS[:1])
    report = store_schools(engine, *read_schools(path), str(path))
    assert report.inserted == 1 and report.details["city extent"].startswith("no check")


def test_without_the_province_former_binh_duong_is_still_in_the_wards(tmp_path: Path,
                                                                      engine: Engine) -> None:
    store_history(engine)
    store_today(engine, with_province=False)
    path = _write(tmp_path, SCHOOLS)
    report = store_schools(engine, *read_schools(path), str(path))
    assert report.details["city extent"].startswith("the union of the wards of today")
    assert ("S3", "N2", None) in _placed(engine)


def test_wards_of_today_are_parented_to_the_province(engine: Engine) -> None:
    store_history(engine)
    store_today(engine)
    with engine.connect() as conn:
        parents: dict[str, str] = dict(conn.execute(sa.text(
            "SELECT code, parent_code FROM admin_units WHERE level = 'ward'")).all())
    assert parents == {"W1a": "D1", "W1b": "D1", "W2": "D2", "N1": "P", "N2": "P"}
    assert spatial.admin_unit_at(engine, 106.75, 10.75)["code"] == "N1"
    assert spatial.admin_unit_at(engine, 106.75, 10.75, level="district")["code"] == "D2"


def test_a_province_file_is_detected_by_its_code_column(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "province.geojson"
    gpd.GeoDataFrame({"province_code": ["79"], "province_name": ["Thành phố Hồ Chí Minh"]},
                     geometry=[shapely.box(106.3, 10.3, 107.1, 11.2)], crs="EPSG:4326").to_file(path)
    units, problems = read_boundaries(path)
    assert problems == [] and units[["code", "name", "level"]].values.tolist() == [
        ["79", "Thành phố Hồ Chí Minh", "province"]]
    store_boundaries(engine, units, problems, str(path))
    with engine.connect() as conn:
        assert spatial.city_extent(conn) == ("province",
                                             "a.level = 'province' AND a.valid_to IS NULL")
