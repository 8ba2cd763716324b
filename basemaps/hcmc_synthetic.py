"""Synthetic people on the real HCMC geography: population, school places, applicants.

Nothing here is real. The real city's bundle (``data/hcmc``) has roads, wards, schools and
cut-offs but no residents, applicants or school capacities, so the demo generates them on
that geography, deterministically from a seed, and every row is marked synthetic:

- **population**: each district's total (the bundle's ``district_population.csv``, 2024
  figures; a district without a figure, or whose polygon is only the union of its assembled
  wards, gets the median persons per km of residential road of the others times its own),
  for ``edugis import population`` to spread over wards and ages (its method, stored in
  ``population.method``); here, for places and homes, each ward gets its district's total by
  its length of residential roads (residential, living streets, alleys, unclassified) and an
  entry cohort is :data:`AGE_SHARE` of it;
- **places** (``capacity_grade1/6/10``): each ward's entry-age cohort goes to the nearest
  school of the level (straight line), times :data:`PLACE_FACTOR`;
- **population history**: the district totals of :data:`POPULATION_YEARS`, the last year's
  back-cast at :data:`POPULATION_GROWTH` a year (assumed), imported like the last year's;
- **enrolment history** (``edugis import enrolment``: school, year, grade, headcount) of
  :data:`POPULATION_YEARS`: each ward's children of a grade's age (:data:`AGE_SHARE` of the
  ward's total that year) times :data:`ENROLMENT_SHARE` of the level go to the nearest school
  teaching the level (public THPT for upper secondary, as for places), with a seeded noise of
  :data:`ENROLMENT_NOISE` per school, year and grade;
- **applicants** of a grade-1, grade-6 and grade-10 round, samples of :data:`ROUND_SIZE`
  of the cohort, with the round's places scaled to the sample (:data:`PLACE_FACTOR` places
  per applicant: every child in grades 1 and 6, 70 % in public THPT): homes on residential
  roads (on the line, within 15 m), in proportion to the population; grade-10 scores
  drawn from the 2023 exam histogram and three ranked choices among the eight nearest
  public THPT schools (nearer and higher cut-off schools more likely).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from basemaps.road_layer import RoadLayer
from basemaps.school_names import fold
from gis_service.levels import LEVEL_BY_NAME

SYNTHETIC = "synthetic"
#: Year of the district totals.
POPULATION_YEAR = 2024
ADMISSION_YEAR = 2026
#: Share of the population in each single year of age 6-15 (an entry cohort), assumed.
AGE_SHARE = 0.013
#: Roads where people live.
RESIDENTIAL = frozenset({"residential", "living_street", "service", "unclassified"})
#: Places per child of the entry age in the school's area (grade 10: public THPT seats).
PLACE_FACTOR = {1: 1.05, 6: 1.05, 10: 0.70}
ENTRY_AGE = {1: 6, 6: 11, 10: 15}
LEVEL_OF_GRADE = {1: "primary", 6: "lower_secondary", 10: "upper_secondary"}
#: Applicants generated per round (a sample of the city's cohort).
ROUND_SIZE = {1: 5_000, 6: 5_000, 10: 5_000}
M_PER_DEG = 110_000.0
#: Years of the synthetic population and enrolment history (the last is POPULATION_YEAR).
POPULATION_YEARS = tuple(range(POPULATION_YEAR - 5, POPULATION_YEAR + 1))
#: Yearly growth of every district's population, assumed (HCMC grew ~2 % a year, 2009-2019).
POPULATION_GROWTH = 0.02
#: Share of a grade's age cohort enrolled at the level's (public, for THPT) schools, assumed.
ENROLMENT_SHARE = {"primary": 0.98, "lower_secondary": 0.93, "upper_secondary": 0.65}
#: Relative spread of a school's headcount around its share of the cohorts, per year and grade.
ENROLMENT_NOISE = 0.03


@dataclass
class SyntheticCity:
    """The generated tables (all synthetic)."""

    districts: pd.DataFrame  # district_code, year, count, estimated: the population to import
    enrolment: pd.DataFrame  # school_code, year, grade, headcount: the history to import
    capacities: pd.DataFrame  # code, capacity_grade1, capacity_grade6, capacity_grade10
    rounds: pd.DataFrame  # id, grade, year, mechanism, seed, sample_share
    applicants: pd.DataFrame  # round_id, applicant_id, ward_code, residence_type, tier, score,
    #                           bonus, choices, lon, lat
    round_places: pd.DataFrame  # round_id, school_code, capacity


def _district_key(name: str) -> str:
    """Return a district's name without "Quận"/"Huyện", folded ("Quận Bình Thạnh" → "binh thanh")."""
    folded = fold(name)
    for prefix in ("quan ", "huyen "):
        folded = folded.removeprefix(prefix)
    return folded


def residential_edges(roads: RoadLayer, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the residential road edges with the ward holding their midpoint (``ward_code``)."""
    edges = roads.edges[roads.edges["highway"].isin(RESIDENTIAL)]
    middles = shapely.line_interpolate_point(edges["geometry"].to_numpy(), 0.5, normalized=True)
    tree = shapely.STRtree(wards.geometry.to_numpy())
    point_index, ward_index = tree.query(middles, predicate="within")
    ward_of = np.full(len(edges), -1)
    ward_of[point_index] = ward_index
    inside = ward_of >= 0
    return pd.DataFrame({
        "geometry": edges["geometry"].to_numpy()[inside],
        "length_m": edges["length_m"].to_numpy()[inside],
        "ward_code": wards["code"].to_numpy()[ward_of[inside]],
    })


def district_totals(units: gpd.GeoDataFrame, homes: pd.DataFrame,
                    figures: pd.DataFrame) -> pd.DataFrame:
    """Return each district's population (``district_code, year, count, estimated``).

    The figure of ``figures`` (table B, 2024, else table A) when the district has one and its
    polygon is its own; else the median persons per km of residential road of the others
    times its residential road length.
    """
    districts = units[units["level"] == "district"]
    parents = units[units["level"] == "ward"].set_index("code")["parent_code"]
    road_km = homes.groupby(homes["ward_code"].map(parents))["length_m"].sum() / 1000
    by_name = {_district_key(str(n)): (b if pd.notna(b) else a) for n, a, b in zip(
        figures["district_name"], figures["population_table_a"], figures["population_table_b"],
        strict=True)}
    known = {code: float(by_name[_district_key(name)]) for code, name, source in zip(
        districts["code"], districts["name"], districts["source"], strict=True)
        if pd.notna(by_name.get(_district_key(name))) and "union" not in source
        and road_km.get(code, 0) > 0}
    density = float(np.median([known[c] / road_km[c] for c in known]))
    codes = districts["code"].tolist()
    return pd.DataFrame({
        "district_code": codes, "year": POPULATION_YEAR,
        "count": [round(known.get(c, density * road_km.get(c, 0.0))) for c in codes],
        "estimated": [c not in known for c in codes]})


def ward_population(units: gpd.GeoDataFrame, homes: pd.DataFrame,
                    totals: pd.DataFrame) -> pd.DataFrame:
    """Return each ward's share of its district's total by residential road length."""
    parents = units[units["level"] == "ward"].set_index("code")["parent_code"]
    road_m = homes.groupby("ward_code")["length_m"].sum().reindex(parents.index).fillna(0.0)
    district_m = road_m.groupby(parents).sum()
    count = totals.set_index("district_code")["count"]
    share = road_m / district_m.reindex(parents).to_numpy()
    return pd.DataFrame({"ward_code": parents.index,
                         "total": (share.fillna(0.0) * count.reindex(parents).to_numpy()).to_numpy()})


def _xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return lon/lat as rough metres (good enough at 10.8° N for nearest-school picks)."""
    return np.column_stack([lon * M_PER_DEG * 0.982, lat * M_PER_DEG])


def _teaches(schools: pd.DataFrame, grade: int) -> np.ndarray:
    """Return which schools admit at entry ``grade`` (public THPT only for grade 10)."""
    teaches = np.array([LEVEL_OF_GRADE[grade] in ls for ls in schools["levels"]], dtype=bool)
    if grade == 10:
        teaches &= (schools["ownership"] == "public").to_numpy()
    return teaches


def _nearest(chosen: pd.DataFrame, ward_xy: np.ndarray) -> np.ndarray:
    """Return the index in ``chosen`` of the school nearest each ward point (straight line)."""
    _, nearest = cKDTree(_xy(chosen["lon"].to_numpy(), chosen["lat"].to_numpy())).query(ward_xy)
    return np.asarray(nearest)


def _ward_points(wards: gpd.GeoDataFrame, totals: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Return each ward's point in rough metres and its population (``totals``), by ward code."""
    points = wards.set_index("code").geometry.representative_point()
    people = totals.set_index("ward_code")["total"].reindex(points.index).fillna(0.0)
    return _xy(points.x.to_numpy(), points.y.to_numpy()), people


def school_places(schools: pd.DataFrame, wards: gpd.GeoDataFrame,
                  totals: pd.DataFrame) -> pd.DataFrame:
    """Return each school's synthetic places (``code, capacity_grade1/6/10``).

    Each ward's entry-age cohort goes to the nearest school teaching the level (public
    THPT only for grade 10); a school gets :data:`PLACE_FACTOR` places per child sent,
    rounded to 5, at least 35 (one class).
    """
    ward_xy, people = _ward_points(wards, totals)
    cohort = people.to_numpy() * AGE_SHARE
    result = pd.DataFrame({"code": schools["code"]})
    for grade in LEVEL_OF_GRADE:
        teaches = _teaches(schools, grade)
        chosen = schools[teaches]
        places = np.zeros(len(chosen))
        if len(chosen):
            np.add.at(places, _nearest(chosen, ward_xy), cohort * PLACE_FACTOR[grade])
        column = np.full(len(schools), np.nan)
        column[teaches] = np.maximum(35, np.round(places / 5) * 5)
        result[f"capacity_grade{grade}"] = pd.array(column, dtype="Int64")
    return result


def population_history(districts: pd.DataFrame) -> pd.DataFrame:
    """Return the district totals of every year of :data:`POPULATION_YEARS` (back-cast)."""
    return pd.concat([districts.assign(
        year=year, count=(districts["count"] / (1 + POPULATION_GROWTH) ** (POPULATION_YEAR - year)
                          ).round().astype(int)) for year in POPULATION_YEARS], ignore_index=True)


def enrolment_history(schools: pd.DataFrame, wards: gpd.GeoDataFrame, totals: pd.DataFrame,
                      rng: np.random.Generator) -> pd.DataFrame:
    """Return the synthetic headcounts ``school_code, year, grade, headcount`` (module docstring).

    Schools that no ward is nearest to get no rows (nobody is sent to them).
    """
    ward_xy, people = _ward_points(wards, totals)
    rows = []
    for entry, level in LEVEL_OF_GRADE.items():
        chosen = schools[_teaches(schools, entry)]
        sent = np.zeros(len(chosen))
        np.add.at(sent, _nearest(chosen, ward_xy), people.to_numpy() * AGE_SHARE * ENROLMENT_SHARE[level])
        for year in POPULATION_YEARS:
            scale = (1 + POPULATION_GROWTH) ** (year - POPULATION_YEAR)
            for grade in LEVEL_BY_NAME[level].grades:
                noise = rng.normal(1.0, ENROLMENT_NOISE, len(chosen))
                count = np.round(sent * scale * noise).astype(int)
                rows.append(pd.DataFrame({"school_code": chosen["code"].to_numpy(), "year": year,
                                          "grade": grade, "headcount": count})[sent > 0])
    return pd.concat(rows, ignore_index=True)


def _homes(homes: pd.DataFrame, density: pd.Series, wards: gpd.GeoDataFrame, n: int,
           rng: np.random.Generator) -> pd.DataFrame:
    """Return ``n`` homes on residential edges (weight: length x persons per metre).

    A home's ward is the ward holding it; a point of a long edge that runs out of every ward
    is drawn again.
    """
    weight = homes["length_m"].to_numpy() * density.reindex(homes["ward_code"]).fillna(0).to_numpy()
    tree = shapely.STRtree(wards.geometry.to_numpy())
    frames, found = [], 0
    while found < n:
        draw = int((n - found) * 1.1) + 10
        picked = rng.choice(len(homes), size=draw, p=weight / weight.sum())
        points = shapely.line_interpolate_point(homes["geometry"].to_numpy()[picked],
                                                rng.uniform(0, 1, draw), normalized=True)
        jitter = rng.uniform(-15, 15, (draw, 2)) / M_PER_DEG
        points = shapely.points(shapely.get_x(points) + jitter[:, 0],
                                shapely.get_y(points) + jitter[:, 1])
        point_index, ward_index = tree.query(points, predicate="within")
        first = np.unique(point_index, return_index=True)[1]
        frame = pd.DataFrame({"ward_code": wards["code"].to_numpy()[ward_index[first]],
                              "lon": shapely.get_x(points[point_index[first]]),
                              "lat": shapely.get_y(points[point_index[first]])})
        frames.append(frame.iloc[:n - found])
        found += len(frames[-1])
    return pd.concat(frames, ignore_index=True)


def _scores(histogram: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` total scores drawn from the exam's histogram (score, candidates)."""
    counts = histogram["n_candidates"].to_numpy(float)
    return np.asarray(rng.choice(histogram["total_score_3_subjects"].to_numpy(float), size=n,
                                 p=counts / counts.sum()))


def _choices(homes: pd.DataFrame, upper: pd.DataFrame, appeal: np.ndarray,
             rng: np.random.Generator) -> list[list[str]]:
    """Return three ranked choices per home among its eight nearest public THPT schools."""
    near = min(8, len(upper))
    distance, index = cKDTree(_xy(upper["lon"].to_numpy(), upper["lat"].to_numpy())).query(
        _xy(homes["lon"].to_numpy(), homes["lat"].to_numpy()), k=near)
    distance, index = distance.reshape(len(homes), near), index.reshape(len(homes), near)
    utility = -distance / 2500.0 + np.log(appeal[index]) - np.log(-np.log(rng.random(index.shape)))
    top = np.take_along_axis(index, np.argsort(-utility, axis=1)[:, :3], axis=1)
    codes = upper["code"].to_numpy()
    return [list(codes[row]) for row in top]


def generate(units: gpd.GeoDataFrame, roads: RoadLayer, schools: pd.DataFrame,
             district_figures: pd.DataFrame, histogram: pd.DataFrame, cutoffs: pd.DataFrame,
             seed: int = ADMISSION_YEAR) -> SyntheticCity:
    """Generate the synthetic tables on the real geography; the same inputs give the same tables.

    ``schools`` has ``code, levels (list), ownership, lon, lat``; ``cutoffs`` the bundle's
    cut-off rows (a school's latest regular cut-off makes it more sought after).
    """
    rng = np.random.default_rng(seed)
    wards = units[units["level"] == "ward"].reset_index(drop=True)
    homes = residential_edges(roads, wards)
    districts = district_totals(units, homes, district_figures)
    totals = ward_population(units, homes, districts)
    density = totals.set_index("ward_code")["total"] / homes.groupby("ward_code")["length_m"].sum()
    capacities = school_places(schools, wards, totals)
    with_places = schools.merge(capacities, on="code")
    upper = with_places[(with_places["level"] == "upper_secondary")
                        & with_places["capacity_grade10"].notna()].reset_index(drop=True)
    latest = cutoffs[cutoffs["programme"] == "regular"].sort_values("year").groupby(
        "school_code")["cutoff_score"].last()
    appeal = np.exp((latest.reindex(upper["code"]).fillna(latest.median()).to_numpy() - 17) / 4)
    city_cohort = totals["total"].sum() * AGE_SHARE
    frames, places, rounds = [], [], []
    for grade, n in ROUND_SIZE.items():
        round_id = f"hcmc-synthetic-{ADMISSION_YEAR}-g{grade}"
        frame = _homes(homes, density, wards, n, rng)
        frame.insert(0, "round_id", round_id)
        frame["applicant_id"] = [f"SYN-G{grade}-{i:06d}" for i in range(1, n + 1)]
        frame["tier"] = rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1])
        frame["residence_type"] = np.select([frame["tier"] == 1, frame["tier"] == 2],
                                            ["thuong_tru", "tam_tru"], "khac")
        if grade == 10:
            frame["score"] = _scores(histogram, n, rng)
            frame["bonus"] = 0.0
            frame["choices"] = _choices(frame, upper, appeal, rng)
        else:
            frame["score"], frame["bonus"] = np.nan, 0.0
            frame["choices"] = [[] for _ in range(n)]
        frames.append(frame)
        column = f"capacity_grade{grade}"
        admitting = with_places[(with_places["level"] == LEVEL_OF_GRADE[grade])
                                & with_places[column].notna()]
        # the round's places: the schools' places scaled to the sample (PLACE_FACTOR x n)
        scale = n * PLACE_FACTOR[grade] / float(admitting[column].sum())
        places.append(pd.DataFrame({
            "round_id": round_id, "school_code": admitting["code"],
            "capacity": np.maximum(1, np.ceil(admitting[column].to_numpy(float) * scale)).astype(int)}))
        rounds.append((round_id, grade, ADMISSION_YEAR, "hcmc" if grade == 10 else "da", seed,
                       round(n / city_cohort, 4)))
    enrolment = enrolment_history(schools, wards, totals, np.random.default_rng(seed + 1))
    return SyntheticCity(
        districts=population_history(districts), enrolment=enrolment, capacities=capacities,
        rounds=pd.DataFrame(rounds, columns=["id", "grade", "year", "mechanism", "seed",
                                             "sample_share"]),
        applicants=pd.concat(frames, ignore_index=True),
        round_places=pd.concat(places, ignore_index=True))
