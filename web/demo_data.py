"""Load the generated demo city into PostGIS (replacing any earlier demo city).

With the city come its admission rounds and the catchments derived from its wards and roads.
This orchestrates several packages (basemaps stores the layers, admissions derives the
catchments), so it lives above both, next to the ``edugis demo`` commands.
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from admissions.catchments import GRADE_OF_LEVEL, derive_catchments
from basemaps.demo_city import DemoCity
from basemaps.demo_store import store_demo_city


def load_demo_city(engine: Engine, city: DemoCity) -> dict[str, float]:
    """Store every table of ``city`` and derive its catchments.

    Returns the row counts and the seconds taken.
    """
    started = time.perf_counter()
    store_demo_city(engine, city)
    # The demo city has no official catchment lists: derive them as a district would start.
    catchment_pairs = sum(len(derive_catchments(engine, level, actor="demo-data"))
                          for level in GRADE_OF_LEVEL)
    return {
        "road_nodes": city.roads.node_count, "road_edges": city.roads.edge_count,
        "admin_units": len(city.admin_units), "schools": len(city.schools),
        "applicants": len(city.applicants), "population_rows": len(city.population),
        "catchment_pairs": catchment_pairs,
        "seconds": round(time.perf_counter() - started, 1),
    }
