"""Real HCMC schools for import tests: the named OSM 2018 school POIs in the 22 districts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from basemaps.boundaries import read_boundaries
from basemaps.store import store_boundaries, store_schools

#: OSM name-based level guess -> the school's levels (unknown and higher education left out).
LEVELS_OF_GUESS = {"mam_non": ["preschool"], "tieu_hoc": ["primary"],
                   "thcs": ["lower_secondary"], "thpt": ["upper_secondary"],
                   "lien_cap": ["lower_secondary", "upper_secondary"]}


def osm_school_frame(hcmc: Path) -> pd.DataFrame:
    """The named OSM POIs of a known level as clean school rows (ownership unknown: public)."""
    pois = pd.read_csv(hcmc / "schools" / "hcmc_osm2018_education_pois.csv", dtype=str,
                       keep_default_na=False)
    pois = pois[(pois["name"] != "") & pois["level_guess"].isin(list(LEVELS_OF_GUESS))]
    levels = [LEVELS_OF_GUESS[g] for g in pois["level_guess"]]
    return pd.DataFrame({
        "code": "osm_" + pois["osm_type"] + "_" + pois["osm_id"], "name": pois["name"],
        "level": [ls[0] for ls in levels], "levels": levels, "ownership": "public",
        "lon": pois["lon"].astype(float), "lat": pois["lat"].astype(float), "address": "",
        "district_code": None, "ward_code": None, "capacity_grade1": None,
        "capacity_grade6": None, "capacity_grade10": None,
        "programmes": [[] for _ in range(len(pois))], "row": range(1, len(pois) + 1),
    })


def load_hcmc_schools(engine: Engine, hcmc: Path) -> int:
    """Store the 22 districts and the OSM schools inside them; return the schools stored."""
    units, problems = read_boundaries(hcmc / "admin" / "hcmc_districts_2021_22units.geojson")
    store_boundaries(engine, units, problems, "districts")
    report = store_schools(engine, osm_school_frame(hcmc), [], "osm2018", skip_invalid=True)
    return report.inserted
