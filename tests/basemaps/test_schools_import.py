"""School import: every kind of bad row names its row and field and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from basemaps.schools import read_schools
from basemaps.store import store_schools
from gis_service.crs import from_storage
from gis_service.errors import InputError
from tests.conftest import database_env, table_counts

HEADER = "code,name,level,ownership,lon,lat,capacity_grade1\n"
GOOD = [
    "S1,Trường Tiểu học A,primary,public,106.700,10.770,200",
    "S2,Trường THCS B,lower_secondary,private,106.710,10.780,",
]


@pytest.fixture
def city(engine: Engine) -> Engine:
    """A one-district city with one ward, 106.6-106.8 E, 10.7-10.9 N."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO admin_units (code, name, level, parent_code, geom) VALUES"
            " ('D1', 'Quận Thử', 'district', NULL,"
            "  ST_Multi(ST_MakeEnvelope(106.6, 10.7, 106.8, 10.9, 4326))),"
            " ('W1', 'Phường Thử', 'ward', 'D1',"
            "  ST_Multi(ST_MakeEnvelope(106.6, 10.7, 106.8, 10.9, 4326)))"))
    return engine


def _write(tmp_path: Path, lines: list[str], name: str = "schools.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_file_imports_places_in_ward_and_reimport_changes_nothing(
        tmp_path: Path, city: Engine) -> None:
    path = _write(tmp_path, GOOD)
    rows, problems = read_schools(path)
    report = store_schools(city, rows, problems, str(path))
    assert (report.inserted, report.updated, report.rejected) == (2, 0, 0)
    again = store_schools(city, *read_schools(path), str(path))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    with city.connect() as conn:
        placed = conn.execute(sa.text(
            "SELECT code, ward_code, district_code, capacity_grade1 FROM schools ORDER BY code"
        )).all()
    assert placed == [("S1", "W1", "D1", 200), ("S2", "W1", "D1", None)]


def test_programmes_are_a_semicolon_list(tmp_path: Path, city: Engine) -> None:
    path = tmp_path / "programmes.csv"
    path.write_text("code,name,level,ownership,lon,lat,programmes\n"
                    "S9,Trường THPT C,upper_secondary,public,106.7,10.77,Thường (đại trà); Tích hợp\n"
                    "S8,Trường THPT D,upper_secondary,public,106.7,10.78,\n", encoding="utf-8")
    store_schools(city, *read_schools(path), str(path))
    with city.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT code, programmes FROM schools")).all())
    assert stored == {"S9": ["Thường (đại trà)", "Tích hợp"], "S8": []}


def test_changed_row_is_updated_in_place(tmp_path: Path, city: Engine) -> None:
    store_schools(city, *read_schools(_write(tmp_path, GOOD)), "a")
    changed = [GOOD[0].replace(",200", ",250"), GOOD[1]]
    report = store_schools(city, *read_schools(_write(tmp_path, changed)), "a")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)


@pytest.mark.parametrize(("bad_row", "field", "reason"), [
    ("S3,Trường C,primary,public,abc,10.77,100", "lon", "bad coordinates"),
    ("S3,Trường C,university,public,106.7,10.77,100", "level", "unknown level"),
    ("S1,Trường C,primary,public,106.7,10.77,100", "code", "duplicate code S1"),
    ("S3,Trường C,primary,public,105.0,10.0,100", "lon", "outside the city"),
    ("S3,Trường C,primary,public,106.7,10.77,-5", "capacity_grade1", "negative capacity"),
    ("S3,Trường C,primary,state,106.7,10.77,100", "ownership", "unknown ownership"),
    ("S3,Trường C,primary,public,106.7,95.0,100", "lon", "out of range"),
])
def test_each_bad_row_is_named_and_nothing_is_stored(
        tmp_path: Path, city: Engine, bad_row: str, field: str, reason: str) -> None:
    store_schools(city, *read_schools(_write(tmp_path, ["S0,Cũ,primary,public,106.75,10.75,90"],
                                             "old.csv")), "old")
    before = table_counts(city)
    path = _write(tmp_path, [*GOOD, bad_row])
    with pytest.raises(InputError) as caught:
        store_schools(city, *read_schools(path), str(path))
    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.field) == (str(path), 3, field)
    assert reason in problem.reason
    assert table_counts(city) == before


def test_bad_rows_are_explained_in_vietnamese_too(tmp_path: Path) -> None:
    path = _write(tmp_path, [*GOOD, "S3,,university,state,abc,10.77,-5"])
    _, problems = read_schools(path)
    assert {p.field: p.reason_vi for p in problems} == {
        "name": "thiếu tên trường",
        "level": "cấp học không hợp lệ 'university'; dùng một trong preschool, primary, lower_secondary, "
                 "upper_secondary, vocational (trung tâm GDNN-GDTX, trung cấp: vocational)",
        "ownership": "loại hình không hợp lệ 'state'; dùng public hoặc private",
        "lon": "tọa độ không hợp lệ 'abc', '10.77'",
        "capacity_grade1": "chỉ tiêu âm -5",
    }


def test_skip_invalid_stores_good_rows_and_reports_bad(tmp_path: Path, city: Engine) -> None:
    path = _write(tmp_path, [*GOOD, "S3,Trường C,primary,public,105.0,10.0,100"])
    report = store_schools(city, *read_schools(path), str(path), skip_invalid=True)
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.problems[0].row == 3


def test_vn2000_grid_csv_with_crs(tmp_path: Path, city: Engine) -> None:
    x, y = from_storage(106.7009, 10.7769, "EPSG:9210")
    path = tmp_path / "vn2000.csv"
    path.write_text(f"code,name,level,ownership,x,y\nV1,Trường V,primary,public,{x},{y}\n")
    with pytest.raises(InputError, match="--crs"):
        read_schools(path)
    store_schools(city, *read_schools(path, crs="EPSG:9210"), str(path))
    with city.connect() as conn:
        lon, lat = conn.execute(sa.text("SELECT ST_X(geom), ST_Y(geom) FROM schools")).one()
    assert lon == pytest.approx(106.7009, abs=1e-7) and lat == pytest.approx(10.7769, abs=1e-7)


def test_broken_csv_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"code,name\n\xff\xfe broken")
    with pytest.raises(InputError, match=r"broken\.csv: not a readable UTF-8 CSV"):
        read_schools(path)
    missing = tmp_path / "missing.csv"
    missing.write_text("code,name\nA,B\n")
    with pytest.raises(InputError, match="missing column"):
        read_schools(missing)


def test_cli_reports_bad_row_and_exit_code(tmp_path: Path, city: Engine,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    with database_env(city, monkeypatch):
        path = _write(tmp_path, [*GOOD, "S3,Trường C,university,public,106.7,10.77,100"])
        result = CliRunner().invoke(app, ["import", "schools", str(path)])
        assert isinstance(result.exception, InputError)
        assert "row 3, field 'level'" in str(result.exception)
        ok = _write(tmp_path, GOOD, "ok.csv")
        result = CliRunner().invoke(app, ["import", "schools", str(ok)])
        assert result.exit_code == 0, result.output
        assert "2 inserted, 0 updated, 0 unchanged, 0 rejected" in result.output


def test_empty_address_cells_stay_empty(tmp_path: Path, city: Engine) -> None:
    path = tmp_path / "addresses.csv"
    path.write_text("code,name,level,ownership,lon,lat,address\n"
                    "A1,Trường A,primary,public,106.70,10.77,\n"
                    "A2,Trường B,primary,public,106.71,10.78,12 Lê Lợi\n"
                    "A3,Trường C,primary,public,106.72,10.79,\n", encoding="utf-8")
    store_schools(city, *read_schools(path), str(path))
    with city.connect() as conn:
        stored: dict[str, str] = dict(conn.execute(sa.text("SELECT code, address FROM schools")).all())
    assert stored == {"A1": "", "A2": "12 Lê Lợi", "A3": ""}


def test_geojson_null_properties_are_blank_not_nan(tmp_path: Path, city: Engine) -> None:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.7, 10.77]},
                 "properties": {"code": "G1", "name": "Trường G", "level": "primary",
                                "ownership": "public", "address": address}}
                for address in (None, "5 Hai Bà Trưng")]
    features[1]["properties"]["code"] = "G2"  # type: ignore[index]
    path = tmp_path / "schools.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    store_schools(city, *read_schools(path), str(path))
    with city.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT code, address FROM schools")).all())
    assert stored == {"G1": "", "G2": "5 Hai Bà Trưng"}


def test_multi_level_school_is_one_school_with_its_levels(tmp_path: Path, city: Engine) -> None:
    path = tmp_path / "lien_cap.csv"
    path.write_text("code,name,level,levels,ownership,lon,lat\n"
                    "M1,Trường Tiểu học và THCS A,lower_secondary;primary,,tư thục,106.70,10.77\n"
                    "M2,Trường liên cấp B,lien_cap,primary;lower_secondary;upper_secondary,public,"
                    "106.71,10.77\n"
                    "M3,Trường THCS-THPT C,lower_secondary,upper_secondary,Công lập,106.72,10.77\n"
                    "M4,Trường D,primary,,public,106.73,10.77\n", encoding="utf-8")
    rows, problems = read_schools(path)
    assert problems == []
    store_schools(city, rows, problems, str(path))
    with city.connect() as conn:
        stored = {code: (level, levels, ownership) for code, level, levels, ownership in conn.execute(
            sa.text("SELECT code, level, levels, ownership FROM schools"))}
    assert stored == {
        "M1": ("primary", ["primary", "lower_secondary"], "private"),
        "M2": ("primary", ["primary", "lower_secondary", "upper_secondary"], "public"),
        "M3": ("lower_secondary", ["lower_secondary", "upper_secondary"], "public"),
        "M4": ("primary", ["primary"], "public"),
    }


@pytest.mark.parametrize(("level", "levels", "field", "reason"), [
    ("lien_cap", "", "levels", "needs a levels column"),
    ("lien_cap", "primary;college", "levels", "unknown level 'college'"),
    ("primary;nursery", "", "level", "unknown level 'nursery'"),
])
def test_bad_levels_are_named(tmp_path: Path, level: str, levels: str, field: str,
                              reason: str) -> None:
    path = tmp_path / "levels.csv"
    path.write_text(f"code,name,level,levels,ownership,lon,lat\nB1,Trường B,{level},{levels},public,"
                    "106.7,10.77\n", encoding="utf-8")
    _, problems = read_schools(path)
    assert [(p.row, p.field) for p in problems] == [(1, field)] and reason in problems[0].reason
    assert problems[0].reason_vi


def test_problem_report_lists_every_problem(tmp_path: Path, city: Engine,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    bad = [f"X{i},Trường {i},university,public,106.7,10.77,100" for i in range(60)]
    path = _write(tmp_path, [*GOOD, *bad])
    report = tmp_path / "problems.csv"
    with database_env(city, monkeypatch):
        result = CliRunner().invoke(app, ["import", "schools", str(path), "--report", str(report)])
        assert isinstance(result.exception, InputError)
        assert "... and 10 more" in str(result.exception)  # the message stops at 50
        listed = pd.read_csv(report, keep_default_na=False)
        assert len(listed) == 60 and list(listed.columns) == ["file", "row", "field", "reason_vi",
                                                              "reason"]
        assert listed["row"].tolist() == list(range(3, 63)) and set(listed["field"]) == {"level"}
        result = CliRunner().invoke(app, ["import", "schools", str(path), "--skip-invalid",
                                          "--report", str(report)])
        assert result.exit_code == 0 and "60 problems in" in result.output, result.output
        assert len(pd.read_csv(report)) == 60
