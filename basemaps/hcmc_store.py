"""Store the real-HCMC bundle's extra tables and its synthetic rounds (``web.real_city`` loads).

The roads, boundaries, schools, population, enrolment and cut-offs go through the ordinary
importers (:mod:`basemaps.store`, ``edugis import population / enrolment / cutoffs``); this
module writes what those do not: each unit's own source, the synthetic rounds with their
applicants and places, and the version of the bundle loaded (``app_settings``). It also
removes either demo (the synthetic city, or the real city's rows) so that one shows at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.hcmc_synthetic import SyntheticCity
from basemaps.store import copy_rows, ewkb

#: ``app_settings`` key holding the version of the bundle loaded.
MARKER = "real_city_bundle"
ROUND_PREFIX = "hcmc-synthetic-"
#: Text in the ``source`` of every unit and school the bundle stores.
BUNDLE_TAG = "data/hcmc"


def loaded_version(engine: Engine) -> str | None:
    """Return the version of the real-city bundle in the database (``None`` when not loaded)."""
    with engine.connect() as conn:
        value = conn.execute(sa.text("SELECT value FROM app_settings WHERE key = :k"),
                             {"k": MARKER}).scalar()
    return str(value) if value is not None else None


def mark_loaded(engine: Engine, version: str) -> None:
    """Note that bundle ``version`` is loaded."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO app_settings (key, value, updated_by) VALUES (:k, :v, 'demo')"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"),
            {"k": MARKER, "v": version})


def has_synthetic_data(engine: Engine) -> bool:
    """Tell whether a demo's synthetic data are loaded (the real city's, or the demo city).

    Small tables only (settings, rounds, schools): every page asks.
    """
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM app_settings WHERE key = :k)"
            " OR EXISTS (SELECT 1 FROM admission_rounds WHERE id LIKE :p OR id LIKE 'demo-%')"
            " OR EXISTS (SELECT 1 FROM schools WHERE code LIKE 'DM-%')"),
            {"k": MARKER, "p": ROUND_PREFIX + "%"}).scalar())


def store_unit_sources(engine: Engine, units: gpd.GeoDataFrame) -> None:
    """Give each stored unit its own ``source`` (a district made of its wards says so)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE admin_units a SET source = t.source FROM unnest(CAST(:c AS text[]),"
            " CAST(:s AS text[])) AS t(code, source) WHERE a.code = t.code"),
            {"c": units["code"].tolist(), "s": [f"{s}, {BUNDLE_TAG}" for s in units["source"]]})


def store_rounds(engine: Engine, city: SyntheticCity) -> None:
    """Replace the synthetic rounds (draft) with their applicants and places."""
    ids: Sequence[str] = city.rounds["id"].tolist()
    applicants = city.applicants
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM allocations WHERE round_id = ANY(:r)"), {"r": ids})
        conn.execute(sa.text("DELETE FROM admission_rounds WHERE id = ANY(:r)"), {"r": ids})
        copy_rows(conn, "admission_rounds",
                  ["id", "grade", "year", "mechanism", "seed", "parameters", "status"],
                  ((r.id, r.grade, r.year, r.mechanism, r.seed, json.dumps({}), "draft")
                   for r in city.rounds.itertuples()))
        scores = [None if np.isnan(s) else float(s) for s in applicants["score"]]
        copy_rows(conn, "applicants",
                  ["round_id", "applicant_id", "ward_code", "residence_type", "tier", "score",
                   "bonus", "choices", "geom"],
                  zip(applicants["round_id"], applicants["applicant_id"], applicants["ward_code"],
                      applicants["residence_type"], applicants["tier"].tolist(), scores,
                      applicants["bonus"].tolist(), applicants["choices"],
                      ewkb(gpd.points_from_xy(applicants["lon"], applicants["lat"])), strict=True))
        copy_rows(conn, "round_capacities", ["round_id", "school_code", "capacity"],
                  city.round_places[["round_id", "school_code", "capacity"]].itertuples(
                      index=False, name=None))


def remove_demo_city(engine: Engine) -> None:
    """Remove the synthetic demo city's rows (codes ``DM``, rounds ``demo-``), as its loader would."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM allocations WHERE round_id LIKE 'demo-%'"))
        conn.execute(sa.text("DELETE FROM admission_rounds WHERE id LIKE 'demo-%'"))
        conn.execute(sa.text("DELETE FROM schools WHERE code LIKE 'DM-%'"))
        conn.execute(sa.text("DELETE FROM admin_units WHERE code LIKE 'DM%' AND level = 'ward'"))
        conn.execute(sa.text("DELETE FROM admin_units WHERE code LIKE 'DM%'"))


def remove_real_city(engine: Engine) -> None:
    """Remove the rows the real-city load made (before the synthetic demo city is loaded).

    Only the bundle's rows go: its synthetic rounds, and the schools and units whose source
    names ``data/hcmc`` (their population, cut-offs and catchments with them); the basemap
    stays imported, no longer in use once the demo's is.
    """
    tag = f"%{BUNDLE_TAG}%"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM allocations WHERE round_id LIKE :p"),
                     {"p": ROUND_PREFIX + "%"})
        conn.execute(sa.text("DELETE FROM admission_rounds WHERE id LIKE :p"),
                     {"p": ROUND_PREFIX + "%"})
        conn.execute(sa.text("DELETE FROM schools WHERE source LIKE :t"), {"t": tag})
        conn.execute(sa.text("DELETE FROM admin_units WHERE source LIKE :t AND level = 'ward'"),
                     {"t": tag})
        conn.execute(sa.text("DELETE FROM admin_units WHERE source LIKE :t"), {"t": tag})
        conn.execute(sa.text("DELETE FROM app_settings WHERE key = :k"), {"k": MARKER})
