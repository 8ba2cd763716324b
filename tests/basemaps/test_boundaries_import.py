"""District boundaries import: the 22 HCMC districts, VN-2000 files, bad rows, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.boundaries import read_boundaries
from basemaps.store import store_boundaries
from gis_service.crs import from_storage
from gis_service.errors import CRSError, InputError
from tests.conftest import table_counts

DISTRICTS = "admin/hcmc_districts_2021_22units.geojson"


def test_hcmc_22_districts_import_and_reimport_changes_nothing(hcmc: Path, engine: Engine) -> None:
    units, problems = read_boundaries(hcmc / DISTRICTS)
    assert problems == [] and len(units) == 22
    report = store_boundaries(engine, units, problems, "districts")
    assert (report.inserted, report.updated) == (22, 0)
    again = store_boundaries(engine, units, [], "districts")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 22)
    with engine.connect() as conn:
        q1, area = conn.execute(sa.text(
            "SELECT name, ST_Area(geom::geography) / 1e6 FROM admin_units WHERE code = '760'")).one()
        total = conn.execute(sa.text(
            "SELECT sum(ST_Area(geom::geography)) / 1e6 FROM admin_units")).scalar_one()
    assert q1 == "Quận 1" and area == pytest.approx(7.72, abs=0.05)
    assert total == pytest.approx(2032, rel=0.01)


def _to_vn2000(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = from_storage(coords[:, 0], coords[:, 1], "EPSG:9210")
        return np.column_stack([x, y])

    geometry = shapely.transform(frame.geometry.to_numpy(), transform)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geometry, crs="EPSG:9210")


def test_vn2000_geopackage_lands_in_the_right_place(hcmc: Path, tmp_path: Path,
                                                     engine: Engine) -> None:
    original = gpd.read_file(hcmc / DISTRICTS)
    gpkg = tmp_path / "districts_vn2000.gpkg"
    _to_vn2000(original).to_file(gpkg, driver="GPKG")
    units, problems = read_boundaries(gpkg)  # CRS detected from the file
    assert problems == []
    store_boundaries(engine, units, problems, str(gpkg))
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT ST_AsText(geom) FROM admin_units WHERE code = '760'")).scalar_one()
    expected = original.loc[original["district_code"].astype(str) == "760", "geometry"].item()
    # each vertex back within 1 cm (about 1e-7 degrees)
    assert shapely.hausdorff_distance(shapely.from_wkt(stored), expected) < 1e-7


def test_vn2000_grid_without_crs_is_refused_and_with_crs_imports(hcmc: Path,
                                                                 tmp_path: Path) -> None:
    original = gpd.read_file(hcmc / DISTRICTS).head(3)
    projected = _to_vn2000(original)
    plain = json.loads(projected.to_json(drop_id=True))
    plain.pop("crs", None)
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps(plain), encoding="utf-8")
    with pytest.raises(CRSError, match="EPSG:9210"):
        read_boundaries(path)
    units, problems = read_boundaries(path, crs="EPSG:9210")
    assert problems == [] and len(units) == 3
    lon, lat = units.geometry.iloc[0].representative_point().coords[0]
    assert 106 < lon < 107.2 and 10.3 < lat < 11.2


def test_bad_features_are_reported_and_nothing_is_stored(tmp_path: Path, engine: Engine) -> None:
    square = {"type": "Polygon", "coordinates": [[[106.6, 10.7], [106.7, 10.7], [106.7, 10.8],
                                                  [106.6, 10.8], [106.6, 10.7]]]}
    features = [
        {"type": "Feature", "properties": {"district_code": "901", "district_name": "A"},
         "geometry": square},
        {"type": "Feature", "properties": {"district_code": "901", "district_name": "dup"},
         "geometry": square},
        {"type": "Feature", "properties": {"district_code": "903", "district_name": "C"},
         "geometry": {"type": "Point", "coordinates": [106.6, 10.7]}},
        {"type": "Feature", "properties": {"district_code": "904", "district_name": "far"},
         "geometry": {"type": "Polygon", "coordinates": [[[6, 1], [7, 1], [7, 2], [6, 1]]]}},
    ]
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    units, problems = read_boundaries(path)
    assert [(p.row, p.field) for p in problems] == [(2, "district_code"), (3, "geometry"),
                                                    (4, "geometry")]
    assert "duplicate code 901" in problems[0].reason and "outside Vietnam" in problems[2].reason
    assert problems[0].reason_vi == "mã 901 bị trùng (xuất hiện lần đầu ở dòng 1)"
    assert problems[1].reason_vi == "hình học bị thiếu, rỗng hoặc không phải đa giác"
    before = table_counts(engine)
    with pytest.raises(InputError, match=r"bad\.geojson, row 2, field 'district_code'"):
        store_boundaries(engine, units, problems, str(path))
    assert table_counts(engine) == before
    report = store_boundaries(engine, units, problems, str(path), skip_invalid=True)
    assert report.inserted == 1 and report.rejected == 3
