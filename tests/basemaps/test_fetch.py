"""Layers read back from PostGIS equal what was imported."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from basemaps.demo_city import generate_demo_city
from basemaps.fetch import load_road_layer, load_schools
from gis_service.errors import NotFoundError


def test_road_layer_round_trips_through_postgis(demo_engine: Engine) -> None:
    stored = load_road_layer(demo_engine)
    generated = generate_demo_city().roads
    assert stored.version == generated.version
    assert stored.node_count == generated.node_count and stored.edge_count == generated.edge_count
    np.testing.assert_allclose(stored.edges["length_m"], generated.edges["length_m"])
    assert (stored.edges["oneway"].to_numpy() == generated.edges["oneway"].to_numpy()).all()
    assert stored.edges.geometry.iloc[10].equals_exact(generated.edges.geometry.iloc[10], 1e-9)


def test_schools_by_level(demo_engine: Engine) -> None:
    upper = load_schools(demo_engine, "upper_secondary")
    assert len(upper) > 10 and set(upper["level"]) == {"upper_secondary"}
    assert upper["capacity_grade10"].gt(0).all()
    with pytest.raises(ValueError, match="unknown level"):
        load_schools(demo_engine, "college")


def test_no_roads_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="edugis import roads"):
        load_road_layer(engine)


def test_a_later_import_does_not_change_the_basemap_in_use(engine: Engine) -> None:
    """Issue 12.8: a small roads file imported later must not replace the city's routing."""
    import sqlalchemy as sa

    from basemaps.demo_city import generate_road_layer
    from basemaps.fetch import current_basemap
    from basemaps.in_use import use_basemap
    from basemaps.store import store_roads

    city = generate_road_layer(target_nodes=600, seed=2)
    small = generate_road_layer(target_nodes=100, seed=1)
    first = store_roads(engine, city, "city")  # the first import is put in use
    later = store_roads(engine, small, "test_file")
    assert first.details["in_use"] == "city" and later.details["in_use"] == "city"
    assert current_basemap(engine) == "city"
    assert load_road_layer(engine).version == city.version
    assert use_basemap(engine, "test_file", actor="admin1") == "city"
    assert load_road_layer(engine).version == small.version
    assert use_basemap(engine, "test_file", actor="admin1") == "test_file"  # no change, no row
    with pytest.raises(NotFoundError, match="'missing' is not imported; imported: city, test_file"):
        use_basemap(engine, "missing")
    assert current_basemap(engine) == "test_file"
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor, target, details->>'previous' FROM audit_log"
                                    " WHERE action = 'basemap.use' ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("import", "city", None), ("admin1", "test_file", "city")]


def test_roads_edited_in_the_database_get_a_new_version(demo_copy: Engine) -> None:
    """A road changed by hand (psql) must not be routed on with a graph of the old roads."""
    import sqlalchemy as sa

    imported = load_road_layer(demo_copy).version
    with demo_copy.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM basemaps")).scalar_one() == imported
    with demo_copy.begin() as conn:
        conn.execute(sa.text("UPDATE road_edges SET oneway = NOT oneway WHERE edge_id = 7"))
    assert load_road_layer(demo_copy).version != imported
