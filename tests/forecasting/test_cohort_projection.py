"""Cohort-component projection: people are conserved and known growth is recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.cohort import advance_cohorts, fit_cohort_model, project_array, project_population
from forecasting.synthetic import synthetic_city


def test_ageing_without_births_or_migration_moves_every_cohort_one_year_on() -> None:
    rng = np.random.default_rng(3)
    population = rng.integers(0, 1000, (7, 19)).astype(float)
    advanced = advance_cohorts(population, np.zeros(7), np.ones((7, 19)))
    np.testing.assert_array_equal(advanced[:, 1:], population[:, :-1])
    np.testing.assert_array_equal(advanced[:, 0], 0.0)
    # The oldest cohort leaves the table and nobody else is lost or created.
    assert advanced.sum() == population.sum() - population[:, -1].sum()


def test_open_top_age_group_keeps_everyone() -> None:
    rng = np.random.default_rng(4)
    population = rng.integers(0, 1000, (5, 10)).astype(float)
    advanced = advance_cohorts(population, np.zeros(5), np.ones((5, 10)), open_top_age=True)
    np.testing.assert_allclose(advanced.sum(axis=1), population.sum(axis=1))
    np.testing.assert_allclose(advanced[:, -1], population[:, -2] + population[:, -1])


def test_projection_without_migration_shifts_cohorts_by_the_horizon() -> None:
    city = synthetic_city(n_wards=6, first_year=2010, last_year=2016, migration_sd=0.0,
                          shock_share=0.0, noise_sd=0.0, seed=5)
    # Remove births and freeze migration at exactly zero: the model must then just age people.
    model = fit_cohort_model(city.population, city.births, base_year=2016)
    still = type(model)(
        wards=model.wards, ages=model.ages, base_year=model.base_year,
        base_population=model.base_population, migration_ratio=np.ones_like(model.migration_ratio),
        births_level=np.zeros(len(model.wards)), births_growth=np.zeros(len(model.wards)),
        known_births={}, open_top_age=False,
    )
    projected = project_array(still, 4)
    np.testing.assert_allclose(projected[:, 4, 4:], model.base_population[:, :-4])
    np.testing.assert_allclose(projected[:, 4, :4], 0.0)


def test_migration_ratios_are_estimated_from_history() -> None:
    city = synthetic_city(n_wards=20, first_year=2010, last_year=2020, migration_sd=0.02,
                          shock_share=0.0, noise_sd=0.0, seed=6)
    model = fit_cohort_model(city.population, city.births, prior_persons=0.0)
    # Without noise the ratio of consecutive cohorts is the simulated one (1 + rate * profile).
    wide = city.population.pivot_table(index=["ward_code", "age"], columns="year", values="count")
    w0 = wide.loc["W0000"]
    observed = (w0[2020].to_numpy()[1:] / w0[2019].to_numpy()[:-1])
    np.testing.assert_allclose(model.migration_ratio[0, 1:], observed, rtol=0.01)


def test_forecast_recovers_known_births_growth_within_five_percent() -> None:
    city = synthetic_city(n_wards=40, first_year=2010, last_year=2034, seed=7,
                          births_growth_mean=0.03, births_growth_sd=0.02, noise_sd=0.01)
    history = city.population[city.population["year"] <= 2024]
    births = city.births[city.births["year"] <= 2024]
    model = fit_cohort_model(history, births)
    np.testing.assert_allclose(model.births_growth, city.births_growth.to_numpy(), atol=0.01)
    forecast = project_population(model, 10)
    truth = city.population[city.population["year"] > 2024]
    joined = forecast.merge(truth, on=["ward_code", "year", "age"], suffixes=("_hat", ""))
    by_year = joined.groupby("year")[["count_hat", "count"]].sum()
    relative = (by_year["count_hat"] / by_year["count"] - 1).abs()
    assert (relative < 0.05).all(), relative
    # Ward by ward, the six-year-olds (the primary entry cohort) ten years on.
    six = joined[(joined["age"] == 6) & (joined["year"] == 2034)]
    assert ((six["count_hat"] / six["count"] - 1).abs().median() < 0.05)


def test_births_registered_after_the_base_year_replace_the_trend() -> None:
    city = synthetic_city(n_wards=5, first_year=2010, last_year=2020, seed=8)
    births = pd.concat(
        [city.births, pd.DataFrame({"ward_code": [f"W{w:04d}" for w in range(5)], "year": 2021,
                                    "births": 12345.0})]
    )
    model = fit_cohort_model(city.population, births)
    projected = project_population(model, 1)
    age0 = projected[projected["age"] == 0]["count"].to_numpy()
    np.testing.assert_allclose(age0, 12345.0 * model.migration_ratio[:, 0])
