"""The demo city: big enough, deterministic, and its invariants hold in PostGIS."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.demo_city import generate_road_layer


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_demo_city_is_large_enough(demo_engine: Engine) -> None:
    assert _scalar(demo_engine, "SELECT count(*) FROM road_nodes") >= 50_000
    assert _scalar(demo_engine, "SELECT count(*) FROM schools") >= 300
    assert _scalar(demo_engine, "SELECT count(*) FROM applicants") >= 40_000
    assert _scalar(demo_engine,
                   "SELECT count(DISTINCT level) FROM schools WHERE code LIKE 'DM-%'") == 4
    assert _scalar(demo_engine,
                   "SELECT count(DISTINCT ownership) FROM schools WHERE code LIKE 'DM-%'") == 2
    assert _scalar(demo_engine, "SELECT count(DISTINCT year) FROM enrolment") >= 3
    assert _scalar(demo_engine, "SELECT count(DISTINCT year) FROM cutoffs") >= 3
    assert _scalar(demo_engine, "SELECT count(DISTINCT grade) FROM admission_rounds") == 3


def test_every_ward_lies_in_the_province_and_in_a_former_district(demo_engine: Engine) -> None:
    assert _scalar(demo_engine, "SELECT count(*) FROM admin_units WHERE level = 'ward'"
                                " AND valid_to IS NULL") >= 40
    assert _scalar(demo_engine,
                   "SELECT count(*) FROM admin_units w JOIN admin_units p ON p.code = w.parent_code"
                   " WHERE w.level = 'ward' AND p.level = 'province' AND p.valid_to IS NULL"
                   " AND ST_CoveredBy(w.geom, p.geom)") == _scalar(
        demo_engine, "SELECT count(*) FROM admin_units WHERE level = 'ward'")
    assert _scalar(demo_engine, "SELECT count(*) FROM admin_units w WHERE level = 'ward'"
                                " AND NOT EXISTS (SELECT 1 FROM admin_units d WHERE d.level = 'district'"
                                " AND ST_CoveredBy(w.geom, d.geom))") == 0
    # the districts are history: abolished on 1 July 2025
    assert _scalar(demo_engine, "SELECT count(*) FROM admin_units WHERE level = 'district'"
                                " AND valid_to = DATE '2025-07-01'") == _scalar(
        demo_engine, "SELECT count(*) FROM admin_units WHERE level = 'district'") > 0


def test_every_school_lies_in_its_ward_with_positive_capacity(demo_engine: Engine) -> None:
    assert _scalar(demo_engine,
                   "SELECT count(*) FROM schools s LEFT JOIN admin_units w ON w.code = s.ward_code"
                   " WHERE w.code IS NULL OR NOT ST_Intersects(w.geom, s.geom)") == 0
    assert _scalar(demo_engine,
                   "SELECT count(*) FROM schools WHERE (level = 'primary' AND NOT capacity_grade1 > 0)"
                   " OR (level = 'lower_secondary' AND NOT capacity_grade6 > 0)"
                   " OR (level = 'upper_secondary' AND NOT capacity_grade10 > 0)") == 0


def test_population_has_single_years_and_births(demo_engine: Engine) -> None:
    assert _scalar(demo_engine, "SELECT count(DISTINCT age) FROM population") >= 18
    assert _scalar(demo_engine, "SELECT count(*) FROM births b JOIN admin_units w"
                                " ON w.code = b.ward_code WHERE b.births > 0") >= 40 * 5


def test_river_makes_road_distance_differ_from_straight_line(demo_engine: Engine) -> None:
    """Only a few edges (the bridges) cross the river band; the rest stay on one bank."""
    assert 2 <= _scalar(demo_engine, "SELECT count(*) FROM road_edges WHERE name LIKE 'Cầu Mẫu%'") <= 4
    assert _scalar(demo_engine, "SELECT count(*) FROM road_edges WHERE highway = 'motorway'") > 0
    assert _scalar(demo_engine, "SELECT count(*) FROM road_edges WHERE oneway") > 1000


def test_generation_is_deterministic() -> None:
    assert generate_road_layer(5_000, seed=3).version == generate_road_layer(5_000, seed=3).version
    assert generate_road_layer(5_000, seed=3).version != generate_road_layer(5_000, seed=4).version
