"""Cohort-component projection of single-year ages per ward.

Each year every cohort moves one age on and is multiplied by its net migration ratio
(``1 + net migration rate``; child mortality in HCMC is small enough to be absorbed in it);
age 0 is the year's births times the same kind of ratio. Ratios are estimated from the
history as ``sum P[t+1, a+1] / sum P[t, a]`` per ward and age, shrunk toward the city-wide
ratio of that age with a prior weight of ``prior_persons`` (so small wards borrow
strength). Births are projected by a log-linear trend per ward whose growth rate is shrunk
toward the city-wide growth by empirical Bayes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting._panel import Panel, births_array, panel_to_frame, to_panel
from gis_service.errors import InputError, Problem

FloatArray = npt.NDArray[np.float64]


def advance_cohorts(
    population: FloatArray,
    births: FloatArray,
    migration_ratio: FloatArray,
    open_top_age: bool = False,
) -> FloatArray:
    """Move every cohort one year on.

    Parameters
    ----------
    population
        ``wards x ages`` counts in year ``t``.
    births
        ``wards`` births in year ``t + 1``.
    migration_ratio
        ``wards x ages``: entry ``a`` multiplies the cohort arriving at age ``a`` (entry 0
        multiplies births). All ones means no migration.
    open_top_age
        If true the last age is an open group (``A+``) that keeps its members; otherwise
        people ageing past the last age leave the table.

    Returns
    -------
    numpy.ndarray
        ``wards x ages`` counts in year ``t + 1``.
    """
    advanced = np.empty_like(population)
    advanced[:, 0] = births * migration_ratio[:, 0]
    advanced[:, 1:] = population[:, :-1] * migration_ratio[:, 1:]
    if open_top_age:
        advanced[:, -1] += population[:, -1] * migration_ratio[:, -1]
    return advanced


@dataclass(frozen=True)
class CohortModel:
    """Fitted cohort-component model of one city, at a base year."""

    wards: list[str]
    ages: list[int]
    base_year: int
    base_population: FloatArray
    migration_ratio: FloatArray
    births_level: FloatArray
    births_growth: FloatArray
    known_births: dict[int, FloatArray]
    open_top_age: bool

    def births_in(self, year: int) -> FloatArray:
        """Births per ward in ``year``: recorded if known, else the fitted trend."""
        if year in self.known_births:
            return self.known_births[year]
        return self.births_level * np.exp(self.births_growth * (year - self.base_year))


def _shrunk_ratio(numerator: FloatArray, denominator: FloatArray, prior_persons: float) -> FloatArray:
    """``(num + k r_city) / (den + k)`` per ward and age, with the city ratio per age."""
    city = np.divide(
        numerator.sum(axis=0),
        denominator.sum(axis=0),
        out=np.ones(numerator.shape[1]),
        where=denominator.sum(axis=0) > 0,
    )
    shrunk = (numerator + prior_persons * city[None, :]) / (denominator + prior_persons)
    return np.asarray(shrunk, dtype=np.float64)


def estimate_migration_ratio(
    population: Panel,
    births: FloatArray,
    window_years: int = 5,
    prior_persons: float = 200.0,
    open_top_age: bool = False,
) -> FloatArray:
    """Net migration ratios per ward and age from the last ``window_years`` transitions.

    Parameters
    ----------
    population
        ``wards x years x ages`` panel (ages contiguous from 0).
    births
        ``wards x years`` births aligned with the panel's years.
    window_years
        Number of most recent year-to-year transitions used.
    prior_persons
        Weight of the city-wide ratio, in persons.
    open_top_age
        Whether the last age is an open group.
    """
    values = population.values
    n_years = values.shape[1]
    if n_years < 2:
        raise InputError(Problem("population", None, "year", "need at least two years of history"))
    first = max(0, n_years - 1 - window_years)
    before = values[:, first : n_years - 1, :]
    after = values[:, first + 1 : n_years, :]
    born = births[:, first + 1 : n_years]
    numerator = np.zeros((values.shape[0], values.shape[2]))
    denominator = np.zeros_like(numerator)
    # Only transitions where both ends are recorded count.
    age_ok = ~np.isnan(before[:, :, :-1]) & ~np.isnan(after[:, :, 1:])
    numerator[:, 1:] = np.where(age_ok, after[:, :, 1:], 0.0).sum(axis=1)
    denominator[:, 1:] = np.where(age_ok, before[:, :, :-1], 0.0).sum(axis=1)
    if open_top_age:
        top_ok = age_ok[:, :, -1] & ~np.isnan(before[:, :, -1])
        denominator[:, -1] += np.where(top_ok, before[:, :, -1], 0.0).sum(axis=1)
    birth_ok = ~np.isnan(born) & ~np.isnan(after[:, :, 0])
    numerator[:, 0] = np.where(birth_ok, after[:, :, 0], 0.0).sum(axis=1)
    denominator[:, 0] = np.where(birth_ok, born, 0.0).sum(axis=1)
    return _shrunk_ratio(numerator, denominator, prior_persons)


def fit_births_trend(
    births: FloatArray, years: list[int], base_year: int, trend_years: int = 6
) -> tuple[FloatArray, FloatArray]:
    """Log-linear births trend per ward, growth shrunk toward the city by empirical Bayes.

    Returns
    -------
    level : numpy.ndarray
        Fitted births per ward in ``base_year``.
    growth : numpy.ndarray
        Continuous growth rate per ward and year (``log`` scale).
    """
    upto = years.index(base_year) + 1
    first = max(0, upto - trend_years)
    window = births[:, first:upto]
    x = np.asarray(years[first:upto], dtype=np.float64) - base_year
    n_wards = window.shape[0]
    level = np.zeros(n_wards)
    growth = np.zeros(n_wards)
    variance = np.full(n_wards, np.inf)
    for w in range(n_wards):
        ok = ~np.isnan(window[w]) & (window[w] > 0)
        if ok.sum() >= 3:
            xs, ys = x[ok], np.log(window[w, ok])
            slope, intercept = np.polyfit(xs, ys, 1)
            residual = ys - (intercept + slope * xs)
            sxx = float(((xs - xs.mean()) ** 2).sum())
            variance[w] = float((residual**2).sum()) / (ok.sum() - 2) / sxx if sxx > 0 else np.inf
            growth[w], level[w] = slope, np.exp(intercept)
        elif ok.any():
            level[w] = float(window[w, ok][-1])
    measured = np.isfinite(variance)
    if measured.any():
        city = float(np.median(growth[measured]))
        spread = float(np.var(growth[measured]) - np.mean(variance[measured]))
        tau2 = max(spread, 0.0)
        weight = np.where(measured, tau2 / (tau2 + np.where(measured, variance, 1.0) + 1e-12), 0.0)
        growth = np.where(measured, city + weight * (growth - city), city)
        # Level at the base year on the shrunk slope, through the window's centre.
        for ward in np.flatnonzero(measured):
            ok = ~np.isnan(window[ward]) & (window[ward] > 0)
            centre = float(np.mean(np.log(window[ward, ok]) - growth[ward] * x[ok]))
            level[ward] = np.exp(centre)
    return level, growth


def fit_cohort_model(
    population: pd.DataFrame,
    births: pd.DataFrame,
    base_year: int | None = None,
    window_years: int = 5,
    trend_years: int = 6,
    prior_persons: float = 200.0,
    open_top_age: bool = False,
) -> CohortModel:
    """Fit the cohort-component model on history up to ``base_year``.

    Parameters
    ----------
    population
        ``ward_code, year, age, count`` with single-year ages from 0.
    births
        ``ward_code, year, births``.
    base_year
        Last year used (the forecast origin); default the last population year. Rows after
        it are ignored, so a model fitted at an origin never sees later data.
    window_years, trend_years, prior_persons, open_top_age
        See :func:`estimate_migration_ratio` and :func:`fit_births_trend`.
    """
    if base_year is not None:
        population = population[population["year"] <= base_year]
        births = births[births["year"] <= base_year]
    panel = to_panel(population, "age", "count", "population")
    if panel.keys != list(range(len(panel.keys))):
        raise InputError(Problem("population", None, "age", "ages must be 0, 1, 2, ... without gaps"))
    base = panel.years[-1] if base_year is None else base_year
    if base not in panel.years:
        raise InputError(Problem("population", None, "year", f"no population in {base}"))
    born = births_array(births, panel.wards, panel.years)
    # Births already registered after the base year (e.g. a newer civil-registry extract)
    # replace the trend for those years.
    later_years = sorted(int(y) for y in births["year"].unique() if int(y) > base)
    later = births_array(births, panel.wards, later_years) if later_years else None
    known_births = {
        year: later[:, k]
        for k, year in enumerate(later_years)
        if later is not None and not np.isnan(later[:, k]).any()
    }
    ratio = estimate_migration_ratio(panel, born, window_years, prior_persons, open_top_age)
    level, growth = fit_births_trend(born, panel.years, base, trend_years)
    base_population = np.nan_to_num(panel.values[:, panel.year_index(base), :])
    return CohortModel(
        wards=panel.wards,
        ages=panel.keys,
        base_year=base,
        base_population=base_population,
        migration_ratio=ratio,
        births_level=level,
        births_growth=growth,
        known_births=known_births,
        open_top_age=open_top_age,
    )


def project_array(model: CohortModel, horizon_years: int) -> FloatArray:
    """Project ``wards x (horizon + 1) x ages``; index 0 is the base year."""
    out = np.empty((len(model.wards), horizon_years + 1, len(model.ages)))
    out[:, 0, :] = model.base_population
    for step in range(1, horizon_years + 1):
        out[:, step, :] = advance_cohorts(
            out[:, step - 1, :],
            model.births_in(model.base_year + step),
            model.migration_ratio,
            model.open_top_age,
        )
    return out


def project_population(model: CohortModel, horizon_years: int) -> pd.DataFrame:
    """Project population ``horizon_years`` ahead.

    Returns
    -------
    pandas.DataFrame
        ``ward_code, year, age, count`` for the years after the base year.
    """
    projected = project_array(model, horizon_years)[:, 1:, :]
    years = [model.base_year + h for h in range(1, horizon_years + 1)]
    return panel_to_frame(model.wards, years, model.ages, projected, "age", "count")
