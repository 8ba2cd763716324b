"""A synthetic city with known dynamics, for tests and benchmarks (no real data involved).

Births grow log-linearly per ward at a known rate; every cohort ages with a known net
migration ratio per ward and age (some wards get a housing-driven shift part-way through);
enrolment follows entry ratios and grade progression ratios that drift slowly. Every
random draw comes from one seeded generator, so a seed reproduces a city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting._panel import panel_to_frame
from forecasting.cohort import advance_cohorts
from gis_service.levels import LEVELS


@dataclass(frozen=True)
class SyntheticCity:
    """Input frames of a synthetic city and the truth they were drawn from."""

    population: pd.DataFrame
    births: pd.DataFrame
    enrolment: pd.DataFrame
    ward_area_km2: pd.Series
    births_growth: pd.Series


def synthetic_city(
    n_wards: int = 300,
    first_year: int = 2010,
    last_year: int = 2024,
    max_age: int = 17,
    seed: int = 0,
    births_growth_mean: float = 0.0,
    births_growth_sd: float = 0.03,
    migration_sd: float = 0.015,
    shock_share: float = 0.15,
    noise_sd: float = 0.02,
    ratio_drift_sd: float = 0.005,
) -> SyntheticCity:
    """Simulate population, births and ward-level enrolment.

    Parameters
    ----------
    n_wards
        Number of wards.
    first_year, last_year
        Years simulated (inclusive).
    max_age
        Last single-year age kept (people ageing past it leave the table).
    seed
        Seed of every random draw.
    births_growth_mean, births_growth_sd
        Distribution of the wards' yearly births growth (log scale).
    migration_sd
        Spread of the wards' net migration rates.
    shock_share
        Share of wards whose migration shifts once (new housing, clearance).
    noise_sd
        Multiplicative noise on every recorded count (log scale).
    ratio_drift_sd
        Yearly random-walk step of enrolment ratios.
    """
    rng = np.random.default_rng(seed)
    wards = [f"W{w:04d}" for w in range(n_wards)]
    years = list(range(first_year, last_year + 1))
    n_years, n_ages = len(years), max_age + 1
    births_start = np.exp(rng.normal(np.log(600.0), 0.5, n_wards))
    growth = rng.normal(births_growth_mean, births_growth_sd, n_wards)
    age_profile = np.where(np.arange(n_ages) < 6, 1.0, np.where(np.arange(n_ages) < 11, 0.6, 0.3))
    ward_rate = rng.normal(0.0, migration_sd, n_wards)
    shock_year = rng.integers(first_year + 2, last_year + 1, n_wards)
    shock = np.where(rng.random(n_wards) < shock_share, rng.normal(0.02, 0.02, n_wards), 0.0)

    def migration(year: int) -> np.ndarray:
        rate = ward_rate + np.where(year >= shock_year, shock, 0.0)
        return 1.0 + rate[:, None] * age_profile[None, :]

    def noisy(values: np.ndarray) -> np.ndarray:
        return values * np.exp(rng.normal(0.0, noise_sd, values.shape))

    births = births_start[:, None] * np.exp(growth[:, None] * np.arange(n_years)[None, :])
    births = noisy(births)
    population = np.empty((n_wards, n_years, n_ages))
    steady = migration(first_year) ** 0.5
    population[:, 0, :] = births_start[:, None] * np.exp(-growth[:, None] * np.arange(n_ages)) * (
        steady ** np.arange(n_ages)
    )
    for t in range(1, n_years):
        population[:, t, :] = noisy(
            advance_cohorts(population[:, t - 1, :], births[:, t], migration(years[t]))
        )
    grades = [g for level in LEVELS for g in level.grades]
    enrolment = np.empty((n_wards, n_years, len(grades)))
    column = {g: k for k, g in enumerate(grades)}
    for level in LEVELS:
        low, high = {"primary": (0.95, 1.08), "lower_secondary": (0.9, 1.02)}.get(
            level.name, (0.6, 0.8)
        )
        entry_ratio = rng.uniform(low, high, n_wards)
        progression = rng.uniform(0.96, 1.01, (n_wards, len(level.grades) - 1))
        for t in range(n_years):
            if t:
                entry_ratio = entry_ratio * np.exp(rng.normal(0.0, ratio_drift_sd, n_wards))
                progression = progression * np.exp(rng.normal(0.0, ratio_drift_sd, progression.shape))
            enrolment[:, t, column[level.entry_grade]] = noisy(
                entry_ratio * population[:, t, level.entry_age]
            )
            for step, grade in enumerate(level.grades[1:]):
                if t == 0:
                    age = level.entry_age + step + 1
                    previous = entry_ratio * population[:, 0, age] * progression[:, : step + 1].prod(axis=1)
                    enrolment[:, 0, column[grade]] = noisy(previous)
                else:
                    enrolment[:, t, column[grade]] = noisy(
                        progression[:, step] * enrolment[:, t - 1, column[grade - 1]]
                    )
    population_frame = panel_to_frame(wards, years, list(range(n_ages)), np.round(population), "age", "count")
    enrolment_frame = panel_to_frame(wards, years, grades, np.round(enrolment), "grade", "count")
    births_frame = pd.DataFrame(
        {
            "ward_code": np.repeat(wards, n_years),
            "year": np.tile(years, n_wards),
            "births": np.round(births).ravel(),
        }
    )
    area = pd.Series(np.exp(rng.normal(np.log(2.0), 0.7, n_wards)), index=wards, name="area_km2")
    return SyntheticCity(
        population=population_frame,
        births=births_frame,
        enrolment=enrolment_frame,
        ward_area_km2=area,
        births_growth=pd.Series(growth, index=wards, name="births_growth"),
    )
