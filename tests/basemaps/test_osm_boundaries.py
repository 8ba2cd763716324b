"""Assembling OSM boundary relations: the real 2018 HCMC wards, holes, open rings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Geod

from basemaps.osm_boundaries import assemble_boundary_relations, read_boundary_relations
from tests.support.osm_xml import OsmXml

PBF = "roads/hcmc_osm_2018-01-01.osm.pbf"


def _km2(geometry: object) -> float:
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geometry)[0]) / 1e6


def test_real_2018_wards_assemble_and_the_open_ones_are_named(hcmc: Path) -> None:
    wards = read_boundary_relations(hcmc / PBF, 10)
    refused = wards.attrs["refused"]
    assert len(wards) + len(refused) == 283
    assert len(wards) == 269 and len(refused) == 14
    assert set(wards.geom_type) == {"MultiPolygon"} and wards.crs.to_epsg() == 4326
    assert wards.geometry.is_valid.all() and wards["osm_id"].is_unique
    assert {"name", "osm_id", "admin_level", "ref", "geometry"} <= set(wards.columns)
    tam_phu = next(r for r in refused if r.osm_id == 7144244)
    assert tam_phu.name == "Phường Tam Phú" and "not closed" in tam_phu.reason_en
    assert "khép kín" in tam_phu.reason_vi
    ben_nghe = wards.loc[wards["name"] == "Phường Bến Nghé"]
    assert len(ben_nghe) == 1 and _km2(ben_nghe.geometry.item()) == pytest.approx(2.5, rel=0.15)
    # a ring closed by 3 of its 4 ways, with a spur, still assembles (Trường Thạnh, ~9.8 km²)
    truong_thanh = wards.loc[wards["osm_id"] == 7343273]
    assert _km2(truong_thanh.geometry.item()) == pytest.approx(9.2, rel=0.1)


def test_inner_rings_are_holes_and_other_levels_are_ignored(tmp_path: Path) -> None:
    osm = OsmXml()
    outer = osm.ring(106.60, 10.70, 106.62, 10.72)
    hole = osm.ring(106.605, 10.705, 106.615, 10.715)
    osm.boundary(11, "Phường Có Lỗ", 10, [outer], inner=(hole,), tags={"ref:gso": "26734"})
    osm.boundary(12, "Quận Khác", 6, [osm.ring(106.5, 10.6, 106.7, 10.8)])
    frame, refused = assemble_boundary_relations(osm.write(tmp_path / "a.osm"), 10)
    assert refused == [] and list(frame["osm_id"]) == [11]
    row = frame.iloc[0]
    assert row["ref"] == "26734" and row["admin_level"] == 10
    assert _km2(row.geometry) == pytest.approx(_km2_box(0.02) - _km2_box(0.01), rel=0.01)


def _km2_box(side_deg: float) -> float:
    from shapely.geometry import box

    return _km2(box(106.6, 10.7, 106.6 + side_deg, 10.7 + side_deg))


def test_open_rings_and_missing_ways_are_refused_with_the_reason(tmp_path: Path) -> None:
    osm = OsmXml()
    osm.boundary(21, "Phường Hở", 10, [osm.ring(106.6, 10.7, 106.61, 10.71, closed=False)])
    osm.boundary(22, "Xã Thiếu", 10, [osm.ring(106.7, 10.7, 106.71, 10.71, closed=False)],
                 missing=(999_999,))
    osm.boundary(23, "Phường Đủ", 10, [osm.ring(106.8, 10.7, 106.81, 10.71)])
    frame = read_boundary_relations(osm.write(tmp_path / "b.osm"), 10)
    assert list(frame["name"]) == ["Phường Đủ"]
    reasons = {r.osm_id: (r.name, r.reason_en) for r in frame.attrs["refused"]}
    assert reasons[21][0] == "Phường Hở" and "rings not closed near" in reasons[21][1]
    assert reasons[22] == ("Xã Thiếu", "rings not closed: 1 of 2 member ways are missing from the file")
