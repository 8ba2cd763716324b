"""VN-2000 goes through EPSG:6960, in pyproj and in PostGIS, to the centimetre."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Engine

from gis_service import crs
from gis_service.errors import CRSError

LON, LAT = 106.7009, 10.7769
E_6960, N_6960 = 603797.26, 1191942.30
E_5194, N_5194 = 603796.46, 1191942.26


def test_reference_point_pyproj_path_uses_6960() -> None:
    x, y = crs.from_storage(LON, LAT, "EPSG:9210")
    assert abs(float(x) - E_6960) < 0.01 and abs(float(y) - N_6960) < 0.01


def test_reference_point_round_trips_to_a_millimetre() -> None:
    lon, lat = crs.to_storage(E_6960, N_6960, 9210)
    x, y = crs.from_storage(lon, lat, 9210)
    assert math.hypot(float(x) - E_6960, float(y) - N_6960) < 0.001


def test_proj_default_would_be_off_by_80_cm() -> None:
    """Guards the reason this module exists: the default operation is EPSG:5194."""
    x, y = Transformer.from_crs(4326, 9210, always_xy=True).transform(LON, LAT)
    assert abs(x - E_5194) < 0.01 and abs(y - N_5194) < 0.01
    assert math.hypot(x - E_6960, y - N_6960) > 0.75


def test_reference_point_postgis_path_uses_custom_srid(engine: Engine) -> None:
    with engine.connect() as conn:
        x, y = conn.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform("
            " ST_SetSRID(ST_Point(:lon, :lat), 4326), :srid) AS p"),
            {"lon": LON, "lat": LAT, "srid": crs.vn2000_srid(9210)}).one()
    assert abs(x - E_6960) < 0.01 and abs(y - N_6960) < 0.01


def test_every_vn2000_zone_is_registered(engine: Engine) -> None:
    codes = crs.vn2000_epsg_codes()
    assert {4756, 3405, 3406, 9210, 9218} <= set(codes)
    with engine.connect() as conn:
        registered = set(conn.execute(sa.text(
            "SELECT srid FROM spatial_ref_sys WHERE srid > :lo AND auth_name IS NULL"),
            {"lo": crs.CUSTOM_SRID_OFFSET}
        ).scalars())
    assert registered == {crs.vn2000_srid(c) for c in codes}


def test_other_zone_agrees_between_pyproj_and_postgis(engine: Engine) -> None:
    x, y = crs.from_storage(LON, LAT, "EPSG:3405")  # VN-2000 / UTM 48N
    with engine.connect() as conn:
        px, py = conn.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_Point(:lon, :lat), 4326),"
            " :srid) AS p"), {"lon": LON, "lat": LAT, "srid": crs.vn2000_srid(3405)}).one()
    assert math.hypot(float(x) - px, float(y) - py) < 0.01


def test_missing_crs_is_an_error() -> None:
    with pytest.raises(CRSError, match="no declared CRS"):
        crs.parse_crs(None)
    with pytest.raises(CRSError, match="unknown CRS"):
        crs.parse_crs("EPSG:not-a-code")
