"""Load the real Ho Chi Minh City bundle (``data/hcmc``) and its synthetic people into PostGIS.

``edugis demo`` runs :func:`load_real_city`: the OSM 2018 roads (put in use), districts and
wards, schools and grade-10 cut-off history of the bundle (``data/hcmc/SOURCES.md``), then
the synthetic population history, school places, enrolment history and grade-1/6/10 rounds
generated on that geography (:mod:`basemaps.hcmc_synthetic`), and the catchments derived
from wards and road times. Population, enrolment and cut-offs go through the importers an
official uses (``edugis import population / enrolment / cutoffs``): the cut-offs by school
name, the names left unmatched reported in the result; so ``edugis forecast enrolment``,
``plan gaps`` and ``plan sites`` run on the real city as on the demo city. The
synthetic demo city (``edugis demo --synthetic``) is removed first, and the real city is
removed by :func:`remove_real_city` when the synthetic one is loaded, so one demo shows at a
time.

A second load finds the bundle's version (a digest of its files and of the generator) in
``app_settings`` and does nothing. Like :mod:`web.demo_data`, this orchestrates basemaps and
admissions, so it lives above both; the SQL is in :mod:`basemaps.hcmc_store`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Engine

from basemaps import hcmc_bundle as bundle_files
from basemaps import hcmc_store, hcmc_synthetic
from basemaps.hcmc_store import loaded_version, remove_demo_city, remove_real_city

REPO = Path(__file__).resolve().parent.parent
BUNDLE_DIR = REPO / "data" / "hcmc"
BASEMAP = "hcmc_osm_2018"
#: Bumped when the loader or generator makes other rows from the same files.
GENERATOR_VERSION = "4"
OSM_SOURCE = "OpenStreetMap 2018-01-01 (© OpenStreetMap contributors, ODbL 1.0), data/hcmc"
#: ``schools.source`` of the bundle's schools: capacities are synthetic, the rest OSM.
SCHOOL_SOURCE = OSM_SOURCE + "; capacities synthetic"

__all__ = ["BUNDLE_DIR", "bundle_version", "load_real_city", "loaded_version", "remove_real_city"]
Step = Callable[[str], None]
#: ``--map`` of the bundle's cut-off import: OSM 2018 holds "THPT Nguyễn An Ninh" twice in one
#: ward (once as "Bán Công"), so its name is ambiguous; an official would name the school so.
CUTOFF_MAP = ("THPT Nguyễn An Ninh=OSM-W516933019",)


def bundle_version(bundle: Path = BUNDLE_DIR) -> str:
    """Return the digest of the bundle's files and of :data:`GENERATOR_VERSION`."""
    digest = hashlib.blake2b(GENERATOR_VERSION.encode(), digest_size=12)
    for name in bundle_files.BUNDLE_FILES:
        digest.update(name.encode())
        digest.update((bundle / name).read_bytes())
    return digest.hexdigest()


def load_real_city(engine: Engine, bundle: Path = BUNDLE_DIR, force: bool = False,
                   echo: Step | None = None) -> dict[str, Any]:
    """Load the bundle unless this version is loaded already; return what it did.

    ``{"version", "seconds": per step, "cutoffs": {"details": matched names by status,
    "unmatched": [(name, status), ...]}}``; ``{"skipped": version}`` when the database
    holds this version (and ``force`` is off).
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
    timed("enrolment", lambda: _store_enrolment(engine, loaded["synthetic"]))
    timed("cut-offs", lambda: _store_cutoffs(engine, bundle, loaded))
    timed("rounds", lambda: _store_rounds(engine, loaded["synthetic"]))
    timed("catchments", lambda: _derive_catchments(engine))
    hcmc_store.mark_loaded(engine, version)
    timings["total"] = round(time.perf_counter() - started, 1)
    return {"version": version, "seconds": timings, "cutoffs": loaded["cutoff_names"]}


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
    own = gpd.read_file(path)
    hcmc_store.store_unit_sources(engine, own)
    loaded["units"] = own
    counts = own["level"].value_counts()
    return f"{counts.get('district', 0)} districts, {counts.get('ward', 0)} wards"


def _bundle_schools(bundle: Path) -> pd.DataFrame:
    frame = pd.read_csv(bundle / bundle_files.SCHOOLS_FILE, dtype={"code": str},
                        keep_default_na=False)
    frame["levels"] = frame["levels"].str.split(";")
    return frame


def _cutoffs_by_code(bundle: Path) -> pd.DataFrame:
    """Return the bundle's cut-offs with the school code their name matches (in memory).

    For the synthetic choices only (a school's latest cut-off makes it sought after): the
    importer's matching without the district hints; the stored cut-offs come from the import.
    """
    from forecasting._matching import parse_overrides
    from forecasting.cutoff_import import SchoolIndex, match_names, read_cutoffs

    schools = _bundle_schools(bundle)
    index = SchoolIndex.from_frame(schools.assign(places=[[] for _ in range(len(schools))]))
    matched = match_names(read_cutoffs(bundle / bundle_files.CUTOFFS_FILE), index,
                          parse_overrides(CUTOFF_MAP))
    return matched[matched["school_code"] != ""]


def _generate(bundle: Path, loaded: dict[str, Any]) -> str:
    city = hcmc_synthetic.generate(
        loaded["units"], loaded["roads"], _bundle_schools(bundle),
        pd.read_csv(bundle / bundle_files.POPULATION_FILE),
        pd.read_csv(bundle / bundle_files.HISTOGRAM_FILE), _cutoffs_by_code(bundle))
    loaded["synthetic"] = city
    return (f"{city.districts['district_code'].nunique()} district totals over"
            f" {city.districts['year'].nunique()} years, {len(city.enrolment)} enrolment rows,"
            f" {len(city.applicants)} applicants in {len(city.rounds)} rounds")


#: Name of the district totals file handed to ``edugis import population`` (it names its
#: source in every row's ``population.method``: the rows say they are synthetic).
POPULATION_FILE = "synthetic-district-population-2024.csv"


def _store_population(engine: Engine, city: hcmc_synthetic.SyntheticCity) -> str:
    """Import the districts' totals with ``edugis import population`` (ward x age by its method)."""
    import tempfile

    from basemaps.store import refuse_if_problems
    from forecasting.population_import import PopulationFile, import_population

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / POPULATION_FILE
        city.districts[["district_code", "year", "count"]].to_csv(path, index=False)
        report = import_population(engine, PopulationFile(path), {})
    refuse_if_problems(report.problems, skip_invalid=False)
    estimated = int(city.districts.drop_duplicates("district_code")["estimated"].sum())
    return (f"{report.details['people']:,} people-years in {report.details['wards']} wards,"
            f" {city.districts['year'].min()}-{city.districts['year'].max()}"
            f" ({estimated} district totals estimated from road length)")


#: Name of the enrolment history file handed to ``edugis import enrolment``.
ENROLMENT_FILE = "synthetic-enrolment.csv"


def _store_enrolment(engine: Engine, city: hcmc_synthetic.SyntheticCity) -> str:
    """Import the synthetic enrolment history with ``edugis import enrolment``."""
    import tempfile

    from forecasting.school_tables import import_enrolment

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ENROLMENT_FILE
        city.enrolment.to_csv(path, index=False)
        report = import_enrolment(engine, path)
    return (f"{report.inserted + report.updated + report.unchanged} rows of"
            f" {report.details['schools']} schools, {report.details['years']} (synthetic)")


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


def _store_cutoffs(engine: Engine, bundle: Path, loaded: dict[str, Any]) -> str:
    """Import the bundle's cut-offs by school name (``edugis import cutoffs``, :data:`CUTOFF_MAP`).

    The names the import leaves unmatched or ambiguous go to ``loaded["cutoff_names"]``.
    """
    import tempfile

    from forecasting._matching import parse_overrides
    from forecasting.cutoff_import import import_cutoffs

    with tempfile.TemporaryDirectory() as folder:
        done = import_cutoffs(engine, bundle / bundle_files.CUTOFFS_FILE,
                              parse_overrides(CUTOFF_MAP), Path(folder) / "unmatched.csv")
    left = list(zip(done.unmatched["school_name"], done.unmatched["status"], strict=True))
    loaded["cutoff_names"] = {"details": done.report.details["school names"], "unmatched": left}
    stored = done.report.inserted + done.report.updated + done.report.unchanged
    return (f"{stored} rows stored by school name ({done.report.details['school names']});"
            f" {done.report.rejected} rows of {len(left)} names not stored (UNVERIFIED)")


def _store_rounds(engine: Engine, city: hcmc_synthetic.SyntheticCity) -> str:
    hcmc_store.store_rounds(engine, city)
    return (f"{len(city.rounds)} rounds, {len(city.applicants)} synthetic applicants,"
            f" {len(city.round_places)} places rows")


def _derive_catchments(engine: Engine) -> str:
    from admissions.catchments import GRADE_OF_LEVEL, derive_catchments

    pairs = sum(len(derive_catchments(engine, level, actor="demo")) for level in GRADE_OF_LEVEL)
    return f"{pairs} school-ward pairs (derived)"
