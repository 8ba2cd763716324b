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


def test_the_basemap_setting_pins_the_layer(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from basemaps.demo_city import generate_road_layer
    from basemaps.fetch import current_basemap
    from basemaps.store import store_roads
    from tests.conftest import database_env

    small = generate_road_layer(target_nodes=400, seed=1)
    other = generate_road_layer(target_nodes=600, seed=2)
    store_roads(engine, small, "first")
    store_roads(engine, other, "second")  # imported last: the default
    with database_env(engine, monkeypatch):
        assert current_basemap(engine) == "second"
        assert load_road_layer(engine).version == other.version
        monkeypatch.setenv("EDUGIS_BASEMAP", "first")
        from gis_service import settings

        settings.get_settings.cache_clear()
        assert current_basemap(engine) == "first"
        assert load_road_layer(engine).version == small.version
        monkeypatch.setenv("EDUGIS_BASEMAP", "missing")
        settings.get_settings.cache_clear()
        with pytest.raises(NotFoundError, match="EDUGIS_BASEMAP='missing' is not imported"):
            load_road_layer(engine)


def test_roads_edited_in_the_database_get_a_new_version(demo_copy: Engine) -> None:
    """A road changed by hand (psql) must not be routed on with a graph of the old roads."""
    import sqlalchemy as sa

    imported = load_road_layer(demo_copy).version
    with demo_copy.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM basemaps")).scalar_one() == imported
    with demo_copy.begin() as conn:
        conn.execute(sa.text("UPDATE road_edges SET oneway = NOT oneway WHERE edge_id = 7"))
    assert load_road_layer(demo_copy).version != imported
