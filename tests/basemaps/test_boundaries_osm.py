"""Boundaries from OSM relations and two-tier administration: the province of today, its
wards and communes (parent: the province), former districts and wards kept as history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from basemaps.boundaries import osm_code, read_boundaries, read_osm_boundaries
from basemaps.store import store_boundaries
from gis_service.errors import InputError
from tests.conftest import database_env, table_counts
from tests.support.osm_xml import OsmXml

PBF = "roads/hcmc_osm_2018-01-01.osm.pbf"
DISTRICTS = "admin/hcmc_districts_2021_22units.geojson"
JULY_2025 = date(2025, 7, 1)


def _province_file(hcmc: Path, tmp_path: Path) -> Path:
    """The old city's outline (the union of its 22 districts) as a province file."""
    districts = gpd.read_file(hcmc / DISTRICTS)
    outline = shapely.union_all(shapely.make_valid(districts.geometry.to_numpy()))
    path = tmp_path / "province.geojson"
    gpd.GeoDataFrame({"code": ["79"], "name": ["Thành phố Hồ Chí Minh"]}, geometry=[outline],
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_real_osm_wards_refused_whole_unless_skipping(hcmc: Path, engine: Engine) -> None:
    units, problems = read_osm_boundaries(hcmc / PBF, 10, "ward")
    assert len(units) == 269 and len(problems) == 14
    assert any(p.field == "relation 7144244" and "Phường Tam Phú" in p.reason for p in problems)
    before = table_counts(engine)
    with pytest.raises(InputError, match="relation 7144244"):
        store_boundaries(engine, units, list(problems), "wards.pbf")
    assert table_counts(engine) == before


def test_real_osm_wards_of_today_go_into_the_province(hcmc: Path, tmp_path: Path,
                                                       engine: Engine) -> None:
    province, problems = read_boundaries(_province_file(hcmc, tmp_path), level="province")
    assert problems == [] and list(province["level"]) == ["province"]
    store_boundaries(engine, province, [], "province", valid_from=JULY_2025)
    units, problems = read_osm_boundaries(hcmc / PBF, 10, "ward")
    report = store_boundaries(engine, units, problems, "wards.pbf", skip_invalid=True,
                              valid_from=JULY_2025)
    assert (report.inserted, report.rejected) == (269, 14)
    ben_nghe = _rows(engine, "SELECT code, parent_code, valid_from, valid_to FROM admin_units"
                             " WHERE name = 'Phường Bến Nghé'")
    assert len(ben_nghe) == 1 and ben_nghe[0][1:] == ("79", JULY_2025, None)
    assert str(ben_nghe[0][0]).startswith("osm-r") and len(str(ben_nghe[0][0])) <= 16
    # wards on the fringe (in Bình Dương, Long An...) lie outside the old city and stay unparented
    orphans = _count(engine, "SELECT count(*) FROM admin_units WHERE level = 'ward'"
                             " AND parent_code IS NULL")
    inside = _count(engine, "SELECT count(*) FROM admin_units w JOIN admin_units p"
                           " ON p.code = w.parent_code WHERE w.level = 'ward'"
                           " AND ST_Intersects(p.geom, ST_PointOnSurface(w.geom))")
    assert inside + orphans == 269 and inside > 240
    again = store_boundaries(engine, units, [], "wards.pbf", valid_from=JULY_2025)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 269)


def test_former_wards_are_history_in_their_former_district(hcmc: Path, engine: Engine) -> None:
    districts, _ = read_boundaries(hcmc / DISTRICTS)
    store_boundaries(engine, districts, [], "districts", valid_to=JULY_2025)
    units, problems = read_osm_boundaries(hcmc / PBF, 10, "ward")
    store_boundaries(engine, units, problems, "wards.pbf", skip_invalid=True, valid_to=JULY_2025)
    ((district, period),) = _rows(engine, "SELECT d.name, w.valid_to FROM admin_units w"
                                          " JOIN admin_units d ON d.code = w.parent_code"
                                          " WHERE w.name = 'Phường Bến Nghé'")
    assert (district, period) == ("Quận 1", JULY_2025)
    assert _rows(engine, "SELECT count(*) FROM admin_units WHERE valid_to IS NULL") == [(0,)]


def test_a_ward_naming_the_province_as_parent_is_accepted(tmp_path: Path, engine: Engine) -> None:
    osm = OsmXml()
    osm.boundary(1, "Thành phố Mẫu", 4, [osm.ring(106.0, 10.0, 107.0, 11.0)])
    osm.boundary(2, "Phường Một", 10, [osm.ring(106.1, 10.1, 106.2, 10.2)], tags={"ref": "26734"})
    path = osm.write(tmp_path / "city.osm")
    province, _ = read_osm_boundaries(path, 4)
    store_boundaries(engine, province, [], "city.osm")
    path = tmp_path / "wards.geojson"
    file_wards = gpd.GeoDataFrame(
        {"ward_code": ["W2"], "ward_name": ["Phường Hai"], "parent_code": [osm_code(1)]},
        geometry=[shapely.box(106.3, 10.3, 106.4, 10.4)], crs="EPSG:4326")
    file_wards.to_file(path, driver="GeoJSON")
    units, problems = read_boundaries(path)
    report = store_boundaries(engine, units, problems, str(path))
    assert report.inserted == 1
    osm_wards, _ = read_osm_boundaries(tmp_path / "city.osm", 10)
    store_boundaries(engine, osm_wards, [], "city.osm")
    assert _rows(engine, "SELECT code, level, parent_code FROM admin_units ORDER BY code") == [
        ("26734", "ward", "osm-r1"), ("W2", "ward", "osm-r1"), ("osm-r1", "province", None)]


def test_validity_must_be_ordered(tmp_path: Path, engine: Engine) -> None:
    osm = OsmXml()
    osm.boundary(1, "Phường Một", 10, [osm.ring(106.1, 10.1, 106.2, 10.2)])
    units, _ = read_osm_boundaries(osm.write(tmp_path / "w.osm"), 10)
    with pytest.raises(InputError, match="not after"):
        store_boundaries(engine, units, [], "w.osm", valid_from=JULY_2025, valid_to=JULY_2025)


def test_cli_imports_osm_wards_with_their_period(tmp_path: Path, engine: Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import app

    osm = OsmXml()
    osm.boundary(1, "Phường Một", 10, [osm.ring(106.1, 10.1, 106.2, 10.2)])
    osm.boundary(2, "Phường Hở", 10, [osm.ring(106.3, 10.1, 106.4, 10.2, closed=False)])
    path = osm.write(tmp_path / "wards.osm")
    with database_env(engine, monkeypatch):
        result = CliRunner().invoke(app, ["import", "boundaries", str(path)])
        assert result.exit_code != 0 and "--admin-level" in result.output
        result = CliRunner().invoke(app, ["import", "boundaries", str(path), "--admin-level", "10"])
        assert isinstance(result.exception, InputError) and "relation 2" in str(result.exception)
        result = CliRunner().invoke(app, [
            "import", "boundaries", str(path), "--admin-level", "10", "--level", "ward",
            "--valid-from", "2018-01-01", "--valid-to", "2025-07-01", "--skip-invalid"])
        assert result.exit_code == 0, result.output
        assert "1 inserted, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert _rows(engine, "SELECT code, valid_from, valid_to FROM admin_units") == [
        ("osm-r1", date(2018, 1, 1), JULY_2025)]


def test_wards_imported_before_their_province_are_placed_in_it(tmp_path: Path,
                                                               engine: Engine) -> None:
    osm = OsmXml()
    osm.boundary(1, "Thành phố Mẫu", 4, [osm.ring(106.0, 10.0, 107.0, 11.0)])
    osm.boundary(2, "Phường Một", 10, [osm.ring(106.1, 10.1, 106.2, 10.2)])
    path = osm.write(tmp_path / "city.osm")
    store_boundaries(engine, read_osm_boundaries(path, 10)[0], [], "wards")
    assert _rows(engine, "SELECT parent_code FROM admin_units") == [(None,)]
    report = store_boundaries(engine, read_osm_boundaries(path, 4)[0], [], "province")
    assert report.details == {"placed in a parent unit": 1}
    assert _rows(engine, "SELECT code, parent_code FROM admin_units WHERE level = 'ward'") == [
        ("osm-r2", "osm-r1")]
    again = store_boundaries(engine, read_osm_boundaries(path, 10)[0], [], "wards")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    assert _rows(engine, "SELECT parent_code FROM admin_units WHERE code = 'osm-r2'") == [
        ("osm-r1",)]
