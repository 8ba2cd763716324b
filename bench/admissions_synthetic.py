"""Synthetic but realistic admission rounds for the admissions benchmarks.

Scores are drawn from the real 2023 HCMC grade-10 exam histogram, school popularity from the
real 2023 NV1 cut-offs, school positions from OpenStreetMap (2018); homes and choices are
simulated. Data are read from ``$EDUGIS_HCMC_DATA`` (default ``../shared/data/hcmc`` next to
the repository) and never copied into it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from admissions.distance import StraightLine
from admissions.problem import AdmissionProblem

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The HCMC data folder; exits with a clear message when it is missing."""
    path = Path(os.environ.get("EDUGIS_HCMC_DATA", REPO / ".." / "shared" / "data" / "hcmc"))
    if not (path / "schools").is_dir():
        raise SystemExit(f"HCMC data not found at {path}: set EDUGIS_HCMC_DATA")
    return path.resolve()


def draw_scores(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Grade-10 totals (0..30) drawn from the 2023 histogram of 3-subject totals."""
    hist = pd.read_csv(data_dir() / "schools" / "hcmc_grade10_exam2023_total_score_histogram.csv")
    weight = hist["n_candidates"].to_numpy(dtype=np.float64)
    values = hist["total_score_3_subjects"].to_numpy(dtype=np.float64)
    return np.asarray(rng.choice(values, size=n, p=weight / weight.sum()))


def _points(level: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pois = pd.read_csv(data_dir() / "schools" / "hcmc_osm2018_education_pois.csv")
    chosen = pois[pois["level_guess"] == level]
    return chosen["lon"].to_numpy(dtype=np.float64), chosen["lat"].to_numpy(dtype=np.float64)


def _homes_near(lon: NDArray[np.float64], lat: NDArray[np.float64], n: int,
                rng: np.random.Generator, spread_m: float = 1500.0
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    anchor = rng.integers(0, lon.size, n)
    dlat = rng.normal(0, spread_m, n) / 111_320.0
    dlon = rng.normal(0, spread_m, n) / (111_320.0 * np.cos(np.radians(lat[anchor])))
    return lon[anchor] + dlon, lat[anchor] + dlat


def grade10_round(n: int = 100_000, n_schools: int = 110, seed: int = 2023,
                  seat_ratio: float = 0.78) -> AdmissionProblem:
    """A grade-10 round: ``n`` applicants, 3 choices each, ``n_schools`` public schools.

    Applicants aim at schools whose 2023 NV1 cut-off is near their own score, prefer nearby
    schools, and list the most selective of their three first (as HCMC candidates do).
    """
    rng = np.random.default_rng(seed)
    cutoffs = pd.read_csv(data_dir() / "schools" / "hcmc_grade10_cutoffs_nv1_2022_2024.csv")
    cut = cutoffs[cutoffs["year"] == 2023]["cutoff_score"].to_numpy(dtype=np.float64)
    cut = np.concatenate([cut, rng.choice(cut, max(0, n_schools - cut.size))])[:n_schools]
    slon, slat = _points("thpt")
    pick = rng.choice(slon.size, n_schools, replace=slon.size < n_schools)
    school_lon, school_lat = slon[pick], slat[pick]
    score = draw_scores(n, rng)
    bonus = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0], n, p=[0.9, 0.04, 0.03, 0.02, 0.01])
    home_lon, home_lat = _homes_near(school_lon, school_lat, n, rng, 2500.0)
    source = StraightLine(school_lon, school_lat)
    all_km = np.empty((n, n_schools), dtype=np.float32)
    for start in range(0, n, 20_000):
        stop = min(n, start + 20_000)
        every = np.broadcast_to(np.arange(n_schools, dtype=np.int32), (stop - start, n_schools))
        all_km[start:stop] = source.pairs(home_lon[start:stop], home_lat[start:stop], every)[0] / 1000
    ambition = score + bonus + rng.normal(0.5, 1.5, n)
    utility = (-np.abs(cut[None, :] - ambition[:, None]) / 2.0 - all_km / 4.0
               + rng.gumbel(size=(n, n_schools)))
    top3 = np.argpartition(-utility, 3, axis=1)[:, :3]
    order = np.argsort(-cut[top3], axis=1, kind="stable")
    choices = np.take_along_axis(top3, order, axis=1).astype(np.int32)
    capacity = rng.uniform(0.7, 1.3, n_schools)
    capacity = np.floor(capacity / capacity.sum() * seat_ratio * n).astype(np.int64)
    distance = np.take_along_axis(all_km, choices, axis=1).astype(np.float64) * 1000.0
    return AdmissionProblem(
        grade=10,
        applicant_ids=np.array([f"TS{i:06d}" for i in range(n)]),
        school_codes=np.array([f"THPT{s:03d}" for s in range(n_schools)]),
        school_names=np.array([f"THPT {s:03d}" for s in range(n_schools)]),
        capacity=capacity,
        choices=choices,
        distance_m=distance,
        time_s=np.full(choices.shape, np.nan),
        distance_kind="straight_line",
        score=score,
        bonus=bonus,
    )


def grade1_round(n: int = 113_000, k: int = 10, seed: int = 2024,
                 seat_ratio: float = 1.02) -> AdmissionProblem:
    """A grade-1 round over the primary schools in OSM: the ``k`` nearest, nearest first."""
    rng = np.random.default_rng(seed)
    slon, slat = _points("tieu_hoc")
    m = slon.size
    home_lon, home_lat = _homes_near(slon, slat, n, rng, 1200.0)
    choices, distance, time_s = StraightLine(slon, slat).nearest(home_lon, home_lat, k)
    weight = rng.uniform(0.5, 1.5, m)
    capacity = np.floor(weight / weight.sum() * seat_ratio * n).astype(np.int64)
    tier = np.repeat(rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1]).astype(np.int8)[:, None], k, 1)
    # Tier 1 (permanent residence in the catchment) only at the nearest school.
    tier[:, 1:] = np.maximum(tier[:, 1:], 2)
    return AdmissionProblem(
        grade=1,
        applicant_ids=np.array([f"HS{i:06d}" for i in range(n)]),
        school_codes=np.array([f"TH{s:03d}" for s in range(m)]),
        school_names=np.array([f"TH {s:03d}" for s in range(m)]),
        capacity=capacity,
        choices=choices,
        distance_m=distance,
        time_s=time_s,
        distance_kind="straight_line",
        preference_kind="nearest",
        tier=tier,
    )
