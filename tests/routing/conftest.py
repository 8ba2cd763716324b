"""Fixtures of the routing tests: real HCMC road layers (skipped when absent) and caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from basemaps.road_layer import RoadLayer
from basemaps.roads import read_roads


@pytest.fixture(scope="session")
def quan1_layer(hcmc: Path) -> RoadLayer:
    """District 1 (osmnx 2025 drive graph, 1,000 nodes)."""
    layer, _ = read_roads(hcmc / "roads" / "hcmc_quan1_osmnx_2025-03.graphml")
    return layer


@pytest.fixture(scope="session")
def hcmc_layer(hcmc: Path) -> RoadLayer:
    """The whole-city 2018 OSM extract (all highway classes: alleys, service roads...)."""
    layer, _ = read_roads(hcmc / "roads" / "hcmc_osm_2018-01-01.osm.pbf")
    return layer
