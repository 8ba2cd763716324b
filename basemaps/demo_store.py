"""Store the generated demo city, replacing any earlier one.

Its roads, province, wards (and former districts), schools, population, enrolment,
cut-offs, admission rounds and applicants are all marked as synthetic (codes start with ``DM``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.demo_city import DemoCity
from basemaps.store import copy_rows, ewkb, store_boundaries, store_roads, store_schools

DEMO_BASEMAP = "demo"


def store_demo_city(engine: Engine, city: DemoCity) -> None:
    """Replace the demo rows of every table by those of ``city``."""
    with engine.begin() as conn:  # earlier demo rows go first (children before parents)
        conn.execute(sa.text("DELETE FROM admission_rounds WHERE id LIKE 'demo-%'"))
        conn.execute(sa.text("DELETE FROM allocations WHERE round_id LIKE 'demo-%'"))
        conn.execute(sa.text("DELETE FROM schools WHERE code LIKE 'DM-%'"))
        for level in ("ward", "district", "province"):  # children before their parents
            conn.execute(sa.text("DELETE FROM admin_units WHERE code LIKE 'DM%' AND level = :l"),
                         {"l": level})
    store_roads(engine, city.roads, DEMO_BASEMAP)
    units = gpd.GeoDataFrame(city.admin_units, geometry="geometry", crs="EPSG:4326")
    store_boundaries(engine, units, [], "demo-city")
    store_schools(engine, city.schools, [], "demo-city")
    with engine.begin() as conn:
        copy_rows(conn, "population", ["ward_code", "year", "age", "count"],
                  city.population.itertuples(index=False, name=None))
        copy_rows(conn, "births", ["ward_code", "year", "births"],
                  city.births.itertuples(index=False, name=None))
        copy_rows(conn, "enrolment", ["school_code", "year", "grade", "headcount"],
                  city.enrolment.itertuples(index=False, name=None))
        copy_rows(conn, "cutoffs", ["school_code", "year", "admission_round", "programme",
                                    "cutoff_score"],
                  city.cutoffs.itertuples(index=False, name=None))
        copy_rows(conn, "admission_rounds",
                  ["id", "grade", "year", "mechanism", "seed", "parameters", "status"],
                  ((r.id, r.grade, r.year, r.mechanism, r.seed, "{}", "draft")
                   for r in city.rounds.itertuples()))
        applicants = city.applicants
        geoms = ewkb(gpd.points_from_xy(applicants["lon"], applicants["lat"]))
        scores = [None if np.isnan(s) else float(s) for s in applicants["score"]]
        copy_rows(conn, "applicants",
                  ["round_id", "applicant_id", "ward_code", "residence_type", "tier", "score",
                   "bonus", "choices", "geom"],
                  zip(applicants["round_id"], applicants["applicant_id"], applicants["ward_code"],
                      applicants["residence_type"], applicants["tier"].tolist(), scores,
                      applicants["bonus"].tolist(), applicants["choices"], geoms, strict=True))
