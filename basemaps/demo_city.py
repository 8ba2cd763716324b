"""A deterministic synthetic city ("Thành phố Mẫu" / demo city) for the quick start and tests.

Everything here is generated, clearly labelled synthetic (codes start with ``DM``), and
placed over the HCMC area so maps look familiar. The city has a river crossed by four
bridges, so road distance differs from straight-line distance; a motorway on its south
edge that walkers and motorbikes may not use; one-way streets; alleys; a province with
its wards (two tiers, as since 1 July 2025) and its former districts as history;
population by ward and single year of age with births; schools of all four levels with
capacities; a year of grade-1, grade-6 and grade-10 applicants; and a few
years of enrolment and cut-off history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, box

from basemaps.road_layer import RoadLayer
from basemaps.roads import lengths_m

ORIGIN_LON, ORIGIN_LAT = 106.58, 10.68
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(ORIGIN_LAT + 0.1))
SPACING_M = 90.0
RIVER_HALF_WIDTH_M = 130.0
WARD_COLS, WARD_ROWS = 8, 6
DISTRICT_BLOCK = 2  # wards per district side
PROVINCE_CODE = "DM"
#: The day the districts were abolished: the demo's districts are history from then on.
TWO_TIER_FROM = date(2025, 7, 1)
YEARS = range(2016, 2027)
ADMISSION_YEAR = 2026
LABEL = "Dữ liệu mẫu tổng hợp (synthetic demo data)"


def to_lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres east/north of the origin to lon/lat."""
    return ORIGIN_LON + x_m / M_PER_DEG_LON, ORIGIN_LAT + y_m / M_PER_DEG_LAT


@dataclass
class DemoCity:
    """All generated tables, in the shapes the importers and loaders take."""

    roads: RoadLayer
    admin_units: pd.DataFrame  # code, name, level, parent_code, valid_from, valid_to, geometry
    schools: pd.DataFrame  # the school CSV contract columns + row
    population: pd.DataFrame  # ward_code, year, age, count
    births: pd.DataFrame  # ward_code, year, births
    enrolment: pd.DataFrame  # school_code, year, grade, headcount
    cutoffs: pd.DataFrame  # school_code, year, admission_round, programme, cutoff_score
    rounds: pd.DataFrame  # id, grade, year, mechanism, seed
    applicants: pd.DataFrame  # round_id, applicant_id, lon, lat, ward_code, residence_type,
    #                           tier, score, bonus, choices (list)


# ---- roads ------------------------------------------------------------------------------------


def _grid_size(target_nodes: int) -> tuple[int, int]:
    ncols = int(np.ceil(np.sqrt(target_nodes * 1.25 / 0.97)))
    nrows = int(np.ceil(target_nodes / 0.97 / ncols))
    return ncols, nrows


def river_centre_y(x_m: np.ndarray, height_m: float, width_m: float) -> np.ndarray:
    """Return the river's centre line: a meander across the city, west to east."""
    return height_m * 0.46 + height_m * 0.07 * np.sin(2 * np.pi * x_m / width_m * 1.5)


def generate_road_layer(target_nodes: int = 60_000, seed: int = 7) -> RoadLayer:
    """Generate a perturbed street grid of about ``target_nodes`` nodes with a river and 4 bridges."""
    rng = np.random.default_rng(seed)
    ncols, nrows = _grid_size(target_nodes)
    width, height = (ncols - 1) * SPACING_M, (nrows - 1) * SPACING_M
    col_grid, row_grid = np.meshgrid(np.arange(ncols), np.arange(nrows))
    col, row = col_grid.ravel(), row_grid.ravel()
    x = col * SPACING_M + rng.uniform(-15, 15, col.size)
    y = row * SPACING_M + rng.uniform(-15, 15, col.size)
    arterial_col = col % 10 == 0
    arterial_row = row % 10 == 0
    offset = y - river_centre_y(x, height, width)
    in_river = np.abs(offset) < RIVER_HALF_WIDTH_M
    # keep bridge columns' nodes out of the river too: bridges span it in one edge
    node_id = (row * ncols + col + 1).astype(np.int64)

    def idx(c: np.ndarray, r: np.ndarray) -> np.ndarray:
        return np.asarray(r * ncols + c)

    # horizontal then vertical candidate edges
    h_c, h_r = np.meshgrid(np.arange(ncols - 1), np.arange(nrows))
    h_a, h_b = idx(h_c.ravel(), h_r.ravel()), idx(h_c.ravel() + 1, h_r.ravel())
    v_c, v_r = np.meshgrid(np.arange(ncols), np.arange(nrows - 1))
    v_a, v_b = idx(v_c.ravel(), v_r.ravel()), idx(v_c.ravel(), v_r.ravel() + 1)
    a = np.concatenate([h_a, v_a])
    b = np.concatenate([h_b, v_b])
    horizontal = np.arange(a.size) < h_a.size
    keep = ~in_river[a] & ~in_river[b]
    # bridges: at four arterial columns, join the last node south to the first node north
    bridge_cols = [c for c in range(0, ncols, 10)][1::max(1, len(range(0, ncols, 10)) // 4)][:4]
    bridges_a, bridges_b = [], []
    for c in bridge_cols:
        rows_here = np.arange(nrows)
        ids = idx(np.full(nrows, c), rows_here)
        south = ids[(offset[ids] <= -RIVER_HALF_WIDTH_M)]
        north = ids[(offset[ids] >= RIVER_HALF_WIDTH_M)]
        if south.size and north.size:
            bridges_a.append(south.max())
            bridges_b.append(north.min())
    # a little irregularity: drop 4% of local street segments
    local = ~(np.where(horizontal, arterial_row[a], arterial_col[a]))
    keep &= ~(local & (rng.random(a.size) < 0.04))
    a = np.concatenate([a[keep], bridges_a]).astype(np.int64)
    b = np.concatenate([b[keep], bridges_b]).astype(np.int64)
    horizontal = np.concatenate([horizontal[keep], np.zeros(len(bridges_a), bool)])
    is_bridge = np.zeros(a.size, bool)
    is_bridge[a.size - len(bridges_a):] = True

    line_index = np.where(horizontal, row[a], col[a])
    arterial = np.where(horizontal, arterial_row[a], arterial_col[a]) | is_bridge
    secondary = ~arterial & (line_index % 5 == 0)
    highway = np.full(a.size, "residential", dtype=object)
    highway[secondary] = "tertiary"
    highway[arterial] = "primary"
    highway[arterial & (line_index % 20 == 0)] = "secondary"
    alley = (highway == "residential") & (rng.random(a.size) < 0.15)
    highway[alley] = "service"
    motorway = horizontal & (row[a] == 0)
    highway[motorway] = "motorway"
    maxspeed = np.full(a.size, np.nan)
    maxspeed[highway == "primary"] = 60.0
    maxspeed[highway == "motorway"] = 100.0
    # one-way residential streets, alternating direction
    oneway = (highway == "residential") & (line_index % 4 % 2 == 1)
    flip = oneway & (line_index % 4 == 3)
    u = np.where(flip, b, a)
    v = np.where(flip, a, b)
    lon, lat = to_lonlat(x, y)
    pieces = [np.array([[lon[p], lat[p]], [lon[q], lat[q]]]) for p, q in zip(u, v, strict=True)]
    geometry = shapely.linestrings(
        np.column_stack([lon[u], lat[u], lon[v], lat[v]]).reshape(-1, 2),
        indices=np.repeat(np.arange(u.size), 2))
    names = np.where(horizontal, [f"Đường Mẫu Ngang {r}" for r in line_index],
                     [f"Đường Mẫu Dọc {c}" for c in line_index])
    names = np.where(is_bridge, [f"Cầu Mẫu {i}" for i in range(a.size)], names)
    edges = pd.DataFrame({
        "u": node_id[u], "v": node_id[v], "osm_id": np.zeros(u.size, np.int64),
        "highway": highway, "oneway": oneway, "maxspeed_kmh": maxspeed,
        "access": np.full(u.size, "", dtype=object), "name": names.astype(object),
        "length_m": lengths_m(pieces), "geometry": geometry,
    })
    used = np.unique(np.concatenate([u, v]))
    nodes = pd.DataFrame({"node_id": node_id[used], "lon": lon[used], "lat": lat[used]})
    return RoadLayer(nodes=nodes, edges=edges, source=f"demo-city seed={seed}")


# ---- admin units, population --------------------------------------------------------------


def _admin_units(width: float, height: float) -> pd.DataFrame:
    """Return the province of today, its wards, and its districts as history.

    As in HCMC since 1 July 2025 the wards' parent is the province; the districts they
    belonged to are kept with ``valid_to`` set, and each ward's former district is in the
    ``district`` column (used for the schools' history grouping, not stored on the unit).
    """
    rows: list[tuple[str, str, str, str | None, str | None, shapely.Polygon]] = [
        (PROVINCE_CODE, "Thành phố Mẫu", "province", None, None, box(0, 0, width, height))]
    ward_w, ward_h = width / WARD_COLS, height / WARD_ROWS
    for dc in range(WARD_COLS // DISTRICT_BLOCK):
        for dr in range(WARD_ROWS // DISTRICT_BLOCK):
            number = dr * (WARD_COLS // DISTRICT_BLOCK) + dc + 1
            code = f"DM{number:02d}"
            x0, y0 = dc * DISTRICT_BLOCK * ward_w, dr * DISTRICT_BLOCK * ward_h
            rows.append((code, f"Quận Mẫu {number}", "district", PROVINCE_CODE, None,
                         box(x0, y0, x0 + DISTRICT_BLOCK * ward_w, y0 + DISTRICT_BLOCK * ward_h)))
            for wc in range(DISTRICT_BLOCK):
                for wr in range(DISTRICT_BLOCK):
                    ward_number = wr * DISTRICT_BLOCK + wc + 1
                    bx, by = x0 + wc * ward_w, y0 + wr * ward_h
                    rows.append((f"{code}{ward_number:02d}", f"Phường Mẫu {number}.{ward_number}",
                                 "ward", PROVINCE_CODE, code, box(bx, by, bx + ward_w, by + ward_h)))
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "district",
                                        "local"])
    # the demo's wards kept their outlines through the reform (no start date: valid before
    # and after it); only the districts end
    frame["valid_from"] = None
    frame["valid_to"] = [TWO_TIER_FROM if lv == "district" else None for lv in frame["level"]]

    def lonlat_polygon(poly: shapely.Polygon) -> MultiPolygon:
        ring = np.asarray(poly.exterior.coords)
        lon, lat = to_lonlat(ring[:, 0], ring[:, 1])
        return MultiPolygon([shapely.Polygon(np.column_stack([lon, lat]))])

    frame["geometry"] = [lonlat_polygon(p) for p in frame["local"]]
    return frame


def _population(wards: pd.DataFrame, width: float, height: float,
                rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Single-year ages 0-24 per ward for 2016-2026 by a simple cohort process, plus births."""
    ages = np.arange(25)
    centre = np.array([width / 2, height / 2])
    records: list[tuple[str, int, int, int]] = []
    birth_records: list[tuple[str, int, int]] = []
    for ward in wards.itertuples():
        cx, cy = ward.local.centroid.coords[0]
        remoteness = np.hypot(cx - centre[0], cy - centre[1]) / np.hypot(*centre)
        cohort0 = 430 * (1.25 - 0.6 * remoteness) * rng.uniform(0.85, 1.15)
        growth = rng.uniform(-0.02, 0.035) + 0.02 * remoteness  # outer wards grow
        migration = rng.uniform(-0.01, 0.02) + 0.01 * remoteness
        counts = cohort0 * (1 - 0.004 * ages) * rng.uniform(0.95, 1.05, ages.size)
        for year in YEARS:
            births = cohort0 * (1 + growth) ** (year - YEARS[0])
            birth_records.append((ward.code, year, round(births)))
            if year > YEARS[0]:
                counts = np.concatenate([[births * 0.995], counts[:-1] * (1 + migration)])
            records.extend((ward.code, year, int(a), round(c)) for a, c in zip(ages, counts,
                                                                                    strict=True))
    population = pd.DataFrame(records, columns=["ward_code", "year", "age", "count"])
    births = pd.DataFrame(birth_records, columns=["ward_code", "year", "births"])
    return population, births


# ---- schools ----------------------------------------------------------------------------------

_LEVEL_NAMES = {"preschool": ("MN", "Trường Mầm non Mẫu"), "primary": ("TH", "Trường Tiểu học Mẫu"),
                "lower_secondary": ("THCS", "Trường THCS Mẫu"),
                "upper_secondary": ("THPT", "Trường THPT Mẫu")}


def _demo_programmes(level: str, number: int, private: bool) -> list[str]:
    """Programmes as HCMC schools list them, assigned by school number (no random draw)."""
    if level == "upper_secondary":
        extra = [] if private else (["Tích hợp"] if number % 4 == 0 else []) + (
            ["Tiếng Pháp tăng cường"] if number % 9 == 0 else [])
        return ["Thường (đại trà)", *extra]
    if level == "lower_secondary":
        return ["Thường (đại trà)"] + (["Tiếng Anh tích hợp"] if number % 5 == 0 else [])
    if level == "primary":
        return ["Học 2 buổi/ngày"] + (["Tiếng Anh tích hợp"] if number % 3 == 0 else [])
    return []


def _schools(wards: pd.DataFrame, districts: pd.DataFrame, population: pd.DataFrame,
             node_xy: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    tree = shapely.STRtree(shapely.points(node_xy))
    cohort = population[population["year"] == ADMISSION_YEAR].pivot_table(
        index="ward_code", columns="age", values="count")
    rows: list[dict[str, object]] = []
    counters: dict[str, int] = {}

    def add(level: str, area: shapely.Polygon, district: str, ward: str | None,
            capacity: dict[str, int], private: bool) -> None:
        prefix, label = _LEVEL_NAMES[level]
        counters[prefix] = counters.get(prefix, 0) + 1
        minx, miny, maxx, maxy = area.buffer(-150).bounds
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        nearest = node_xy[tree.nearest(point)]
        lon, lat = to_lonlat(np.array([nearest[0] + 8.0]), np.array([nearest[1] + 8.0]))
        rows.append({
            "code": f"DM-{prefix}-{counters[prefix]:03d}",
            "name": f"{label} {counters[prefix]}" + (" (tư thục)" if private else ""),
            "level": level, "ownership": "private" if private else "public",
            "lon": float(lon[0]), "lat": float(lat[0]), "district_code": district,
            "ward_code": ward, "address": f"{LABEL}",
            "capacity_grade1": capacity.get("1"), "capacity_grade6": capacity.get("6"),
            "capacity_grade10": capacity.get("10"),
            "programmes": _demo_programmes(level, counters[prefix], private),
        })

    for ward in wards.itertuples():
        for i in range(3):
            add("preschool", ward.local, ward.district, ward.code, {}, private=i == 2)
        age6, age11 = cohort.loc[ward.code, 6], cohort.loc[ward.code, 11]
        n_primary = max(1, int(np.ceil(age6 / 230)))
        for i in range(n_primary):
            add("primary", ward.local, ward.district, ward.code,
                {"1": int(age6 / n_primary * rng.uniform(0.95, 1.2)) // 5 * 5},
                private=(i > 0 and rng.random() < 0.25))
        n_lower = max(1, int(np.ceil(age11 / 330)))
        for i in range(n_lower):
            add("lower_secondary", ward.local, ward.district, ward.code,
                {"6": int(age11 / n_lower * rng.uniform(0.95, 1.2)) // 5 * 5},
                private=(i > 0 and rng.random() < 0.25))
    for district in districts.itertuples():
        ward_codes = wards.loc[wards["district"] == district.code, "code"]
        age15 = cohort.loc[ward_codes, 15].sum()
        n_upper = max(2, int(np.ceil(age15 * 0.85 / 560)))
        for i in range(n_upper):
            add("upper_secondary", district.local, district.code, None,
                {"10": int(age15 * 0.85 / n_upper * rng.uniform(0.9, 1.05)) // 5 * 5},
                private=(i == n_upper - 1 and rng.random() < 0.3))
    frame = pd.DataFrame(rows)
    frame["row"] = np.arange(1, len(frame) + 1)
    return frame


# ---- history: enrolment, cut-offs --------------------------------------------------------------


def _history(schools: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    grades = {"primary": range(1, 6), "lower_secondary": range(6, 10),
              "upper_secondary": range(10, 13)}
    enrolment, cutoffs = [], []
    for school in schools.itertuples():
        if school.level not in grades:
            continue
        entry = {"primary": school.capacity_grade1, "lower_secondary": school.capacity_grade6,
                 "upper_secondary": school.capacity_grade10}[school.level]
        quality = rng.uniform(12.0, 25.5)
        for year in range(2016, ADMISSION_YEAR):
            trend = 1 - 0.02 * (ADMISSION_YEAR - year)
            for grade in grades[school.level]:
                fill = rng.uniform(0.86, 1.0) * (1 - 0.015 * (grade - min(grades[school.level])))
                enrolment.append((school.code, year, grade, int(entry * trend * fill)))
            if school.level == "upper_secondary" and school.ownership == "public" and year >= 2022:
                nv1 = np.clip(round((quality + rng.normal(0, 0.6)) * 4) / 4, 10.0, 27.0)
                cutoffs.append((school.code, year, "NV1", "regular", nv1))
                cutoffs.append((school.code, year, "NV2", "regular", nv1 + 0.25 * rng.integers(1, 4)))
                cutoffs.append((school.code, year, "NV3", "regular", nv1 + 0.25 * rng.integers(3, 7)))
    return (pd.DataFrame(enrolment, columns=["school_code", "year", "grade", "headcount"]),
            pd.DataFrame(cutoffs, columns=["school_code", "year", "admission_round", "programme",
                                           "cutoff_score"]))


# ---- applicants --------------------------------------------------------------------------------


def _applicants(wards: pd.DataFrame, population: pd.DataFrame, schools: pd.DataFrame,
                node_xy: np.ndarray, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    cohort = population[population["year"] == ADMISSION_YEAR].pivot_table(
        index="ward_code", columns="age", values="count")
    upper = schools[schools["level"] == "upper_secondary"].reset_index(drop=True)
    upper_xy = np.column_stack([(upper["lon"] - ORIGIN_LON) * M_PER_DEG_LON,
                                (upper["lat"] - ORIGIN_LAT) * M_PER_DEG_LAT])
    cutoff_quality = rng.uniform(0, 1, len(upper))
    frames = []
    for grade, age, share in ((1, 6, 1.0), (6, 11, 1.0), (10, 15, 0.85)):
        round_id = f"demo-{ADMISSION_YEAR}-g{grade}"
        records = []
        for ward in wards.itertuples():
            n = int(cohort.loc[ward.code, age] * share)
            minx, miny, maxx, maxy = ward.local.bounds
            inside = node_xy[(node_xy[:, 0] > minx) & (node_xy[:, 0] < maxx)
                             & (node_xy[:, 1] > miny) & (node_xy[:, 1] < maxy)]
            homes = inside[rng.integers(0, len(inside), n)] + rng.uniform(-35, 35, (n, 2))
            for x, y in homes:
                records.append((round_id, ward.code, x, y))
        frame = pd.DataFrame(records, columns=["round_id", "ward_code", "x", "y"])
        n = len(frame)
        frame["applicant_id"] = [f"G{grade}-{i:06d}" for i in range(1, n + 1)]
        tier = rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1])
        frame["tier"] = tier
        frame["residence_type"] = np.select([tier == 1, tier == 2], ["thuong_tru", "tam_tru"],
                                            "khac")
        if grade == 10:
            frame["score"] = np.clip(np.round(rng.normal(17.9, 4.8, n) * 4) / 4, 0, 30)
            frame["bonus"] = np.where(rng.random(n) < 0.08, rng.choice([0.5, 1.0, 1.5, 2.0], n), 0.0)
            distance = np.hypot(frame["x"].to_numpy()[:, None] - upper_xy[:, 0],
                                frame["y"].to_numpy()[:, None] - upper_xy[:, 1])
            weight = np.exp(-distance / 2500.0) * (0.5 + cutoff_quality)
            gumbel = -np.log(-np.log(rng.random(weight.shape)))
            top3 = np.argsort(-(np.log(weight) + gumbel), axis=1)[:, :3]
            frame["choices"] = [list(upper["code"].to_numpy()[row]) for row in top3]
        else:
            frame["score"] = np.nan
            frame["bonus"] = 0.0
            frame["choices"] = [[] for _ in range(n)]
        lon, lat = to_lonlat(frame["x"].to_numpy(), frame["y"].to_numpy())
        frame["lon"], frame["lat"] = lon, lat
        frames.append(frame.drop(columns=["x", "y"]))
    rounds = pd.DataFrame({
        "id": [f"demo-{ADMISSION_YEAR}-g{g}" for g in (1, 6, 10)], "grade": [1, 6, 10],
        "year": ADMISSION_YEAR, "mechanism": ["da", "da", "hcmc"], "seed": ADMISSION_YEAR,
    })
    return rounds, pd.concat(frames, ignore_index=True)


def generate_demo_city(target_nodes: int = 60_000, seed: int = 2026) -> DemoCity:
    """Generate the whole demo city; the same ``seed`` always gives the same city."""
    rng = np.random.default_rng(seed)
    roads = generate_road_layer(target_nodes, seed)
    node_xy = np.column_stack([(roads.nodes["lon"] - ORIGIN_LON) * M_PER_DEG_LON,
                               (roads.nodes["lat"] - ORIGIN_LAT) * M_PER_DEG_LAT])
    width, height = node_xy[:, 0].max(), node_xy[:, 1].max()
    units = _admin_units(width + 20, height + 20)
    wards = units[units["level"] == "ward"].reset_index(drop=True)
    districts = units[units["level"] == "district"].reset_index(drop=True)
    population, births = _population(wards, width, height, rng)
    schools = _schools(wards, districts, population, node_xy, rng)
    enrolment, cutoffs = _history(schools, rng)
    rounds, applicants = _applicants(wards, population, schools, node_xy, rng)
    return DemoCity(roads=roads, admin_units=units.drop(columns=["local", "district"]),
                    schools=schools,
                    population=population, births=births, enrolment=enrolment, cutoffs=cutoffs,
                    rounds=rounds, applicants=applicants)
