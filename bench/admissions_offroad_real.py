"""Benchmark: a grade-10 round of 5,000 synthetic applicants on real HCMC homes and roads.

Homes are drawn in the 22 districts of 2021 (``admin/hcmc_districts_2021_22units.geojson``),
as many per district as its share of the population
(``population/hcmc_district_population_web.csv``; Hóc Môn, missing there, counted at its
2019 census figure 542,243), uniformly inside the district: rural homes in Củ Chi, Cần Giờ
and Bình Chánh land far from the 2018 "drive" network, as real homes of those districts
would. Schools are the OSM 2018 points named as upper secondary (``level_guess == "thpt"``)
inside the city, 45 seats each; every applicant lists 3 of the 8 schools nearest in a
straight line, with an exam total drawn from the 2023 histogram. The round runs on the
real drive network (``roads/hcmc_drive_2018-01-01.graphml.gz``) by motorbike with
da, hcmc and mincost; the road file is read first and not counted.

Run: ``.venv/bin/python bench/admissions_offroad_real.py [max_offroad_m]``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

N_APPLICANTS, SEATS, NEAREST, SEED = 5_000, 45, 8, 2026
HCMC = Path(os.environ.get("EDUGIS_HCMC_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data" / "hcmc"))
#: Population per district of the 2021 structure (Thủ Đức city = Quận 2 + Quận 9 + Thủ Đức).
_MERGED = {"Thành phố Thủ Đức": ("Quận 2", "Quận 9", "Thủ Đức")}
_HOC_MON_2019 = 542_243


def district_population(hcmc: Path = HCMC) -> dict[str, float]:
    """Population by district name of the 2021 geojson."""
    table = pd.read_csv(hcmc / "population" / "hcmc_district_population_web.csv")
    by_name = dict(zip(table["district_name"], table["population_table_b"], strict=True))
    by_name["Hóc Môn"] = _HOC_MON_2019
    districts = gpd.read_file(hcmc / "admin" / "hcmc_districts_2021_22units.geojson")
    out = {}
    for name in districts["district_name"]:
        parts = _MERGED.get(name, (name.removeprefix("Quận ").removeprefix("Huyện "),))
        keys = [p if p in by_name else f"Quận {p}" for p in parts]
        out[name] = float(sum(by_name[k] for k in keys))
    return out


def synthetic_round(n: int = N_APPLICANTS, seed: int = SEED,
                    hcmc: Path = HCMC) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(applicants, schools)`` frames in the shape of the CSV contracts."""
    rng = np.random.default_rng(seed)
    districts = gpd.read_file(hcmc / "admin" / "hcmc_districts_2021_22units.geojson")
    population = district_population(hcmc)
    weight = np.array([population[d] for d in districts["district_name"]])
    counts = rng.multinomial(n, weight / weight.sum())
    homes = []
    for geom, count in zip(districts.geometry, counts, strict=True):
        minx, miny, maxx, maxy = geom.bounds
        got: list[np.ndarray] = []
        while sum(len(g) for g in got) < count:
            xy = rng.uniform((minx, miny), (maxx, maxy), (4 * count + 10, 2))
            got.append(xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])])
        homes.append(np.concatenate(got)[:count])
    home = np.concatenate(homes)
    pois = pd.read_csv(hcmc / "schools" / "hcmc_osm2018_education_pois.csv")
    pois = pois[(pois["level_guess"] == "thpt")].reset_index(drop=True)
    city = shapely.union_all(districts.geometry.to_numpy())
    pois = pois[shapely.contains_xy(city, pois["lon"], pois["lat"])].reset_index(drop=True)
    schools = pd.DataFrame({
        "code": [f"THPT{i:03d}" for i in range(len(pois))], "name": pois["name"].fillna("THPT"),
        "level": "upper_secondary", "ownership": "public", "lon": pois["lon"], "lat": pois["lat"],
        "capacity_grade1": pd.array([pd.NA] * len(pois), dtype="Int64"),
        "capacity_grade6": pd.array([pd.NA] * len(pois), dtype="Int64"),
        "capacity_grade10": pd.array([SEATS] * len(pois), dtype="Int64"),
    })
    distance = np.hypot(home[:, None, 0] - schools["lon"].to_numpy()[None, :],
                        home[:, None, 1] - schools["lat"].to_numpy()[None, :])
    nearest = np.argsort(distance, axis=1)[:, :NEAREST]
    picks = np.argsort(rng.random((n, NEAREST)), axis=1)[:, :3]
    chosen = np.take_along_axis(nearest, picks, axis=1)
    histogram = pd.read_csv(hcmc / "schools" / "hcmc_grade10_exam2023_total_score_histogram.csv")
    p = histogram["n_candidates"].to_numpy(float)
    score = rng.choice(histogram["total_score_3_subjects"].to_numpy(float), n, p=p / p.sum())
    codes = schools["code"].to_numpy()
    applicants = pd.DataFrame({
        "applicant_id": [f"HS{i:05d}" for i in range(n)], "score": score, "bonus": 0.0,
        "lon": home[:, 0], "lat": home[:, 1],
        **{f"choice{j + 1}": codes[chosen[:, j]] for j in range(3)},
    })
    return applicants, schools


def main() -> None:
    """Time the problem (routing) and each mechanism; print the off-road count."""
    import routing
    from admissions import allocate
    from admissions.explain import offroad_figures
    from admissions.files import build_problem
    from admissions.road_distance import RoadNetwork
    from basemaps.roads import read_roads

    max_offroad_m = float(sys.argv[1]) if len(sys.argv) > 1 else 500.0
    applicants, schools = synthetic_round()
    layer, _ = read_roads(HCMC / "roads" / "hcmc_drive_2018-01-01.graphml.gz")
    graph = routing.build_graph(layer, "motorbike")
    started = time.perf_counter()
    source = RoadNetwork(graph, schools["lon"].to_numpy(float), schools["lat"].to_numpy(float),
                         max_offroad_m=max_offroad_m)
    problem = build_problem(applicants, schools, 10, source)
    routed = time.perf_counter() - started
    print(f"{len(applicants)} applicants, {len(schools)} schools; problem (road distances) in "
          f"{routed:.2f} s; homes beyond {max_offroad_m:g} m of a road: "
          f"{int(np.sum(problem.offroad))}")
    for name in ("da", "hcmc", "mincost"):
        started = time.perf_counter()
        allocation = allocate(problem, name, seed=SEED)
        figures = offroad_figures(problem, allocation)
        print(f"{name}: {time.perf_counter() - started:.2f} s, placed "
              f"{int(allocation.placed.sum())}, off-road placed {figures['offroad_placed']}")


if __name__ == "__main__":
    main()
