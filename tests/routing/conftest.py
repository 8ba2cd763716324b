"""Fixtures of the routing tests: the real HCMC road layer (skipped when absent).

District 1 (``quan1_layer``) is shared with the basemap tests: see ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from basemaps.road_layer import RoadLayer
from basemaps.roads import read_roads


@pytest.fixture(scope="session")
def hcmc_layer(hcmc: Path) -> RoadLayer:
    """The whole-city 2018 OSM extract (all highway classes: alleys, service roads...)."""
    layer, _ = read_roads(hcmc / "roads" / "hcmc_osm_2018-01-01.osm.pbf")
    return layer
