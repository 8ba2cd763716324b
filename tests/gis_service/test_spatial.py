"""Spatial queries against PostGIS on the demo city."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod
from sqlalchemy.engine import Engine

from gis_service import spatial
from gis_service.errors import NotFoundError


def _a_school(engine: Engine, level: str) -> tuple[str, float, float]:
    with engine.connect() as conn:
        code, lon, lat = conn.execute(sa.text(
            "SELECT code, ST_X(geom), ST_Y(geom) FROM schools WHERE level = :l ORDER BY code"
            " LIMIT 1"), {"l": level}).one()
    return code, lon, lat


def test_bbox_polygon_and_radius_agree(demo_engine: Engine) -> None:
    code, lon, lat = _a_school(demo_engine, "primary")
    box = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    in_box = {s["code"] for s in spatial.schools_in_bbox(demo_engine, *box)}
    in_poly = {s["code"] for s in spatial.schools_in_polygon(demo_engine, shapely.box(*box))}
    assert code in in_box and in_box == in_poly
    near = spatial.schools_within(demo_engine, lon, lat, 1500, level="primary")
    assert near[0]["code"] == code and near[0]["distance_m"] < 0.01
    geod = Geod(ellps="WGS84")
    for school in near:
        _, _, metres = geod.inv(lon, lat, school["lon"], school["lat"])
        assert metres <= 1500.5 and school["distance_m"] == pytest.approx(metres, abs=0.5)


def test_nearest_as_the_crow_flies_is_sorted_and_filtered(demo_engine: Engine) -> None:
    _, lon, lat = _a_school(demo_engine, "upper_secondary")
    nearest = spatial.nearest_schools_crow(demo_engine, lon, lat, k=5, level="upper_secondary")
    assert len(nearest) == 5
    assert all(s["level"] == "upper_secondary" for s in nearest)
    distances = [s["distance_m"] for s in nearest]
    assert distances == sorted(distances)
    farther = spatial.schools_within(demo_engine, lon, lat, distances[-1] - 0.01,
                                     level="upper_secondary")
    assert len(farther) <= 4


def test_admin_unit_of_a_point_and_off_the_map(demo_engine: Engine) -> None:
    code, lon, lat = _a_school(demo_engine, "primary")
    ward = spatial.admin_unit_at(demo_engine, lon, lat)
    with demo_engine.connect() as conn:
        expected = conn.execute(sa.text("SELECT ward_code FROM schools WHERE code = :c"),
                                {"c": code}).scalar_one()
    assert ward["code"] == expected and ward["parent_code"] is not None
    with pytest.raises(NotFoundError, match="off the map"):
        spatial.admin_unit_at(demo_engine, 100.0, 20.0)


def test_unknown_level_is_refused(demo_engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown level"):
        spatial.schools_in_bbox(demo_engine, 106, 10, 107, 11, level="college")
