"""Load the real Ho Chi Minh City bundle (``data/hcmc``) and its synthetic people into PostGIS.

``edugis demo`` runs :func:`load_real_city`: the OSM 2018 roads (put in use), districts and
wards, schools and grade-10 cut-off history of the bundle (``data/hcmc/SOURCES.md``), then
the synthetic population, school places and grade-1/6/10 rounds generated on that geography
(:mod:`basemaps.hcmc_synthetic`), and the catchments derived from wards and road times. The
synthetic demo city (``edugis demo --synthetic``) is removed first, and the real city is
removed by :func:`remove_real_city` when the synthetic one is loaded, so one demo shows at a
time.

A second load finds the bundle's version (a digest of its files and of the generator) in
``app_settings`` and does nothing. Like :mod:`web.demo_data`, this orchestrates basemaps and
admissions, so it lives above both.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps import hcmc_bundle as bundle_files
from basemaps import hcmc_synthetic

REPO = Path(__file__).resolve().parent.parent
BUNDLE_DIR = REPO / "data" / "hcmc"
BASEMAP = "hcmc_osm_2018"
#: ``app_settings`` key holding the version of the bundle loaded.
MARKER = "real_city_bundle"
#: Bumped when the loader or generator makes other rows from the same files.
GENERATOR_VERSION = "1"
OSM_SOURCE = "OpenStreetMap 2018-01-01 (© OpenStreetMap contributors, ODbL 1.0), data/hcmc"
#: ``schools.source`` of the bundle's schools: capacities are synthetic, the rest OSM.
SCHOOL_SOURCE = OSM_SOURCE + "; capacities synthetic"
ROUND_PREFIX = "hcmc-synthetic-"

Step = Callable[[str], None]


def bundle_version(bundle: Path = BUNDLE_DIR) -> str:
    """Return the digest of the bundle's files and of :data:`GENERATOR_VERSION`."""
    digest = hashlib.blake2b(GENERATOR_VERSION.encode(), digest_size=12)
    for name in bundle_files.BUNDLE_FILES:
        digest.update(name.encode())
        digest.update((bundle / name).read_bytes())
    return digest.hexdigest()


def loaded_version(engine: Engine) -> str | None:
    """Return the version of the real-city bundle in the database (``None`` when not loaded)."""
    with engine.connect() as conn:
        value = conn.execute(sa.text("SELECT value FROM app_settings WHERE key = :k"),
                             {"k": MARKER}).scalar()
    return str(value) if value is not None else None


def load_real_city(engine: Engine, bundle: Path = BUNDLE_DIR, force: bool = False,
                   echo: Step | None = None) -> dict[str, Any]:
    """Load the bundle unless this version is loaded already; return counts and seconds per step.

    ``{"skipped": version}`` when the database holds this version (and ``force`` is off).
    """
    say: Step = echo or (lambda _text: None)
    version = bundle_version(bundle)
    if not force and loaded_version(engine) == version:
        return {"skipped": version}
    timings: dict[str, Any] = {}
    started = time.perf_counter()

    def timed(step: str, action: Callable[[], object]) -> None:
        begin = time.perf_counter()
        result = action()
        timings[step] = round(time.perf_counter() - begin, 2)
        say(f"  {step}: {result} in {timings[step]:.1f} s")

    remove_demo_city(engine)
    loaded: dict[str, Any] = {}
    timed("roads", lambda: _load_roads(engine, bundle, loaded))
    timed("boundaries", lambda: _load_boundaries(engine, bundle, loaded))
    timed("synthetic generation", lambda: _generate(bundle, loaded))
    timed("population", lambda: _store_population(engine, loaded["synthetic"]))
    timed("schools", lambda: _load_schools(engine, bundle, loaded))
    timed("cut-offs", lambda: _store_cutoffs(engine, loaded["cutoffs"]))
    timed("rounds", lambda: _store_rounds(engine, loaded["synthetic"]))
    timed("catchments", lambda: _derive_catchments(engine))
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO app_settings (key, value, updated_by) VALUES (:k, :v, 'demo')"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"),
            {"k": MARKER, "v": version})
    timings["total"] = round(time.perf_counter() - started, 1)
    return {"version": version, "seconds": timings}


def _load_roads(engine: Engine, bundle: Path, loaded: dict[str, Any]) -> str:
    from basemaps.in_use import use_basemap
    from basemaps.roads import read_roads
    from basemaps.store import store_roads

    layer, _ = read_roads(bundle / bundle_files.ROADS_FILE)
    store_roads(engine, layer, BASEMAP, actor="demo")
    use_basemap(engine, BASEMAP, actor="demo")
    loaded["roads"] = layer
    return f"{layer.node_count} nodes, {layer.edge_count} edges (basemap {BASEMAP}, in use)"


def _load_boundaries(engine: Engine, bundle: Path, loaded: dict[str, Any]) -> str:
    from basemaps.boundaries import read_boundaries
    from basemaps.store import refuse_if_problems, store_boundaries

    path = bundle / bundle_files.BOUNDARIES_FILE
    units, problems = read_boundaries(path)
    refuse_if_problems(problems, skip_invalid=False)
    store_boundaries(engine, units, problems, OSM_SOURCE)
    own = gpd.read_file(path)  # each unit's own source (a district made of its wards says so)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE admin_units a SET source = t.source FROM unnest(CAST(:c AS text[]),"
            " CAST(:s AS text[])) AS t(code, source) WHERE a.code = t.code"),
            {"c": own["code"].tolist(), "s": [f"{s}, data/hcmc" for s in own["source"]]})
    loaded["units"] = own
    counts = own["level"].value_counts()
    return f"{counts.get('district', 0)} districts, {counts.get('ward', 0)} wards"


def _bundle_schools(bundle: Path) -> pd.DataFrame:
    frame = pd.read_csv(bundle / bundle_files.SCHOOLS_FILE, dtype={"code": str},
                        keep_default_na=False)
    frame["levels"] = frame["levels"].str.split(";")
    return frame


def _generate(bundle: Path, loaded: dict[str, Any]) -> str:
    loaded["cutoffs"] = pd.read_csv(bundle / bundle_files.CUTOFFS_FILE, dtype={"school_code": str})
    city = hcmc_synthetic.generate(
        loaded["units"], loaded["roads"], _bundle_schools(bundle),
        pd.read_csv(bundle / bundle_files.POPULATION_FILE),
        pd.read_csv(bundle / bundle_files.HISTOGRAM_FILE), loaded["cutoffs"])
    loaded["synthetic"] = city
    return (f"{len(city.population)} population rows, {len(city.applicants)} applicants"
            f" in {len(city.rounds)} rounds")


def _store_population(engine: Engine, city: hcmc_synthetic.SyntheticCity) -> str:
    from basemaps.store import copy_rows

    rows = city.population
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM population WHERE ward_code = ANY(:w)"),
                     {"w": sorted(set(rows["ward_code"]))})
        copy_rows(conn, "population", ["ward_code", "year", "age", "count", "method"],
                  rows.itertuples(index=False, name=None))
    return f"{len(rows)} rows (ward x age, {hcmc_synthetic.POPULATION_YEAR}, synthetic)"


def _load_schools(engine: Engine, bundle: Path, loaded: dict[str, Any]) -> str:
    from basemaps.schools import read_schools
    from basemaps.store import refuse_if_problems, store_schools

    rows, problems = read_schools(bundle / bundle_files.SCHOOLS_FILE)
    refuse_if_problems(problems, skip_invalid=False)
    extra = _bundle_schools(bundle)[["code", "levels"]].merge(
        loaded["synthetic"].capacities, on="code")
    rows = rows.drop(columns=[c for c in extra.columns if c != "code"], errors="ignore").merge(
        extra, on="code", how="left")
    report = store_schools(engine, rows, problems, SCHOOL_SOURCE)
    refuse_if_problems(report.problems, skip_invalid=False)
    return f"{report.inserted + report.updated + report.unchanged} schools (places synthetic)"


def _store_cutoffs(engine: Engine, cutoffs: pd.DataFrame) -> str:
    from basemaps.store import copy_rows

    columns = ["school_code", "year", "admission_round", "programme", "cutoff_score"]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM cutoffs WHERE school_code = ANY(:c)"),
                     {"c": sorted(set(cutoffs["school_code"]))})
        copy_rows(conn, "cutoffs", columns, cutoffs[columns].itertuples(index=False, name=None))
    return f"{len(cutoffs)} rows of {cutoffs['school_code'].nunique()} schools (UNVERIFIED)"


def _store_rounds(engine: Engine, city: hcmc_synthetic.SyntheticCity) -> str:
    import json

    import numpy as np

    from basemaps.store import copy_rows, ewkb

    ids = city.rounds["id"].tolist()
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
                  city.round_places.itertuples(index=False, name=None))
    return f"{len(ids)} rounds, {len(applicants)} synthetic applicants, {len(city.round_places)} places rows"


def _derive_catchments(engine: Engine) -> str:
    from admissions.catchments import GRADE_OF_LEVEL, derive_catchments

    pairs = sum(len(derive_catchments(engine, level, actor="demo")) for level in GRADE_OF_LEVEL)
    return f"{pairs} school-ward pairs (derived)"


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

    Only rows from the bundle go: its synthetic rounds, the schools and units whose source
    names ``data/hcmc``; the basemap stays imported (not in use once the demo's is).
    """
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM allocations WHERE round_id LIKE :p"),
                     {"p": ROUND_PREFIX + "%"})
        conn.execute(sa.text("DELETE FROM admission_rounds WHERE id LIKE :p"),
                     {"p": ROUND_PREFIX + "%"})
        conn.execute(sa.text("DELETE FROM schools WHERE source LIKE '%data/hcmc%'"))
        conn.execute(sa.text("DELETE FROM admin_units WHERE source LIKE '%data/hcmc%'"
                             " AND level = 'ward'"))
        conn.execute(sa.text("DELETE FROM admin_units WHERE source LIKE '%data/hcmc%'"))
        conn.execute(sa.text("DELETE FROM app_settings WHERE key = :k"), {"k": MARKER})
