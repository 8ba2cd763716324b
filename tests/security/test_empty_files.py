"""A file with a header and no data rows (or no features) is refused by every importer,
naming the file, and the stored data stay as they were (issue 12.7: a header-only
applicants file used to wipe the round, an empty GraphML the road network)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions import service
from admissions.catchments import import_catchments
from admissions.round_capacities import import_capacities
from gis_service.errors import InputError
from tests.conftest import database_env, table_counts
from tests.support.officer_session import officer_session
from tests.support.web import csrf
from web.cli import app

FIRST, SECOND = "DM-THPT-001", "DM-THPT-002"
NO_DATA_ROWS = "the file has a header but no data rows"


def _count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def _round_with_two_applicants(engine: Engine, tmp_path: Path) -> str:
    round_id = f"empty-{uuid.uuid4().hex[:8]}"
    service.create_round(engine, round_id, 10, 2026, "da", 1)
    full = tmp_path / "full.csv"
    full.write_text(f"applicant_id,score,choice1,choice2,choice3\nA1,20,{FIRST},,\nA2,21,{SECOND},,\n",
                    encoding="utf-8")
    service.import_applicants(engine, round_id, full)
    return round_id


def test_round_importers_refuse_a_header_only_file(demo_engine: Engine, tmp_path: Path) -> None:
    round_id = _round_with_two_applicants(demo_engine, tmp_path)
    places = tmp_path / "chitieu.csv"
    places.write_text(f"school_code,capacity\n{FIRST},3\n", encoding="utf-8")
    import_capacities(demo_engine, round_id, places)
    before = table_counts(demo_engine)
    catchments_before = _count(demo_engine, "SELECT count(*) FROM catchments")
    headers = {"hoso.csv": "applicant_id,score,choice1,choice2,choice3\n",
               "chitieu.csv": "school_code,capacity\n",
               "diaban.csv": "school_code,ward_code\r\n"}
    importers = {"hoso.csv": lambda p: service.import_applicants(demo_engine, round_id, p),
                 "chitieu.csv": lambda p: import_capacities(demo_engine, round_id, p),
                 "diaban.csv": lambda p: import_catchments(demo_engine, p)}
    for name, header in headers.items():
        path = tmp_path / "header-only" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(header, encoding="utf-8")
        with pytest.raises(InputError) as refused:
            importers[name](path)
        (problem,) = refused.value.problems
        assert (problem.file, problem.row, problem.field) == (name, None, None)
        assert NO_DATA_ROWS in problem.reason
        assert problem.reason_vi is not None and "không có dòng dữ liệu nào" in problem.reason_vi
    assert table_counts(demo_engine) == before
    assert _count(demo_engine, "SELECT count(*) FROM applicants WHERE round_id = :r", r=round_id) == 2
    assert _count(demo_engine, "SELECT capacity FROM round_capacities WHERE round_id = :r",
                  r=round_id) == 3
    assert _count(demo_engine, "SELECT count(*) FROM catchments") == catchments_before


def test_the_cli_and_the_upload_form_refuse_a_header_only_applicants_file(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    round_id = _round_with_two_applicants(demo_engine, tmp_path)
    header_only = tmp_path / "hoso.csv"
    header_only.write_text("applicant_id,score,choice1,choice2,choice3\n", encoding="utf-8")
    with database_env(demo_engine, monkeypatch):
        refused = CliRunner().invoke(app, ["admissions", "import", str(header_only),
                                           "--round", round_id])
    assert isinstance(refused.exception, InputError)
    assert f"hoso.csv: {NO_DATA_ROWS}" in str(refused.exception)

    with officer_session(demo_engine, monkeypatch) as (client, name):
        service.grant_round(demo_engine, round_id, name)
        uploaded = client.post(f"/officer/rounds/{round_id}/applicants",
                               data={"csrf_token": csrf(client)},
                               files={"file": ("hoso.csv", header_only.read_bytes(), "text/csv")})
    assert uploaded.status_code == 422
    assert "<td>hoso.csv</td><td></td><td></td><td></td><td>tệp chỉ có dòng tiêu đề" in uploaded.text
    assert _count(demo_engine, "SELECT count(*) FROM applicants WHERE round_id = :r", r=round_id) == 2


@pytest.fixture
def city(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with database_env(demo_copy, monkeypatch):
        yield demo_copy


def _empty_layer(path: Path, columns: dict[str, str]) -> Path:
    """A GeoPackage with the given text columns and no features."""
    frame = gpd.GeoDataFrame({name: [value] for name, value in columns.items()},
                             geometry=[shapely.Point(106.7, 10.77)], crs="EPSG:4326").iloc[:0]
    frame.to_file(path, driver="GPKG")
    return path


def test_basemap_importers_refuse_files_without_rows_or_features(city: Engine, tmp_path: Path) -> None:
    with city.connect() as conn:
        basemap = conn.execute(sa.text("SELECT name FROM basemaps ORDER BY name LIMIT 1")).scalar_one()
    schools_csv = tmp_path / "truong.csv"
    schools_csv.write_text("code,name,level,ownership,lon,lat\n", encoding="utf-8")
    graph = tmp_path / "duong.graphml"
    graph.write_text("<?xml version='1.0' encoding='utf-8'?>\n"
                     '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                     '<graph edgedefault="directed"></graph></graphml>\n', encoding="utf-8")
    osm = tmp_path / "duong.osm"
    osm.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6"></osm>\n',
                   encoding="utf-8")
    lines = _empty_layer(tmp_path / "duong.gpkg", {"highway": "primary"})
    wards = _empty_layer(tmp_path / "phuong.gpkg", {"ward_code": "W1", "ward_name": "P1",
                                                    "district_code": "D1"})
    cases = [
        (["import", "schools", str(schools_csv)], "the file has no data rows", "truong.csv"),
        (["import", "roads", str(graph), "--name", basemap], "no roads: the graph has no edges",
         "duong.graphml"),
        (["import", "roads", str(osm), "--name", basemap], "không có đường nào", "duong.osm"),
        (["import", "roads", str(lines), "--name", basemap], "the file has no features",
         "duong.gpkg"),
        (["import", "boundaries", str(wards)], "the file has no features", "phuong.gpkg"),
    ]
    before = table_counts(city)
    runner = CliRunner()
    for args, reason, name in cases:
        result = runner.invoke(app, args)
        assert isinstance(result.exception, InputError), (args, result.output, result.exception)
        (problem,) = result.exception.problems
        assert Path(problem.file).name == name and problem.row is None, args
        assert reason in str(problem), args
        assert table_counts(city) == before, args  # nothing stored, nothing wiped
