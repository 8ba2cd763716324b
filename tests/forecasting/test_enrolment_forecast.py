"""Enrolment by ward and level: progression ratios, school-to-ward aggregation, checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.enrolment import (
    EnrolmentData,
    actual_measures,
    cohort_forecast,
    naive_forecast,
    ward_enrolment,
)
from forecasting.synthetic import synthetic_city
from gis_service.errors import InputError


@pytest.fixture(scope="module")
def city_data() -> EnrolmentData:
    city = synthetic_city(n_wards=30, first_year=2012, last_year=2030, seed=11, noise_sd=0.005,
                          ratio_drift_sd=0.0)
    return EnrolmentData(city.population, city.births, city.enrolment, city.ward_area_km2)


def test_cohort_forecast_tracks_simulated_enrolment_within_five_percent(city_data: EnrolmentData) -> None:
    forecast = cohort_forecast(city_data, 2022, 8)
    joined = forecast.merge(actual_measures(city_data), on=["ward_code", "level", "measure", "year"])
    totals = joined.groupby(["level", "measure", "year"])[["predicted", "actual"]].sum()
    relative = (totals["predicted"] / totals["actual"] - 1).abs()
    assert relative.max() < 0.05, relative.sort_values().tail()


def test_naive_forecast_repeats_the_origin_value(city_data: EnrolmentData) -> None:
    forecast = naive_forecast(city_data, 2020, 3)
    actual = actual_measures(city_data)
    at_origin = actual[actual["year"] == 2020].drop(columns="year")
    joined = forecast.merge(at_origin, on=["ward_code", "level", "measure"])
    np.testing.assert_allclose(joined["predicted"], joined["actual"])
    assert sorted(forecast["horizon"].unique()) == [1, 2, 3]


def test_totals_are_sums_of_the_level_grades(city_data: EnrolmentData) -> None:
    actual = actual_measures(city_data)
    row = actual[(actual["ward_code"] == "W0003") & (actual["year"] == 2015)]
    grades = city_data.enrolment[(city_data.enrolment["ward_code"] == "W0003")
                                 & (city_data.enrolment["year"] == 2015)].set_index("grade")["count"]
    total = row[(row["level"] == "lower_secondary") & (row["measure"] == "total")]["actual"].item()
    assert total == grades.loc[[6, 7, 8, 9]].sum()
    entry = row[(row["level"] == "upper_secondary") & (row["measure"] == "entry")]["actual"].item()
    assert entry == grades.loc[10]


def test_school_enrolment_is_summed_into_wards() -> None:
    schools = pd.DataFrame({"school_code": ["S1", "S2", "S3"], "ward_code": ["A", "A", "B"]})
    enrolment = pd.DataFrame({"school_code": ["S1", "S2", "S3", "S1"], "year": [2020] * 3 + [2021],
                              "grade": [1, 1, 1, 1], "count": [10, 20, 5, 7]})
    wards = ward_enrolment(enrolment, schools).set_index(["ward_code", "year"])["count"]
    assert wards.loc[("A", 2020)] == 30
    assert wards.loc[("B", 2020)] == 5
    assert wards.loc[("A", 2021)] == 7


def test_school_without_ward_is_refused_with_its_row() -> None:
    schools = pd.DataFrame({"school_code": ["S1"], "ward_code": ["A"]})
    enrolment = pd.DataFrame({"school_code": ["S1", "S9"], "year": [2020, 2020], "grade": [1, 1],
                              "count": [10, 20]})
    with pytest.raises(InputError, match="row 2"):
        ward_enrolment(enrolment, schools)


def test_negative_counts_are_refused(city_data: EnrolmentData) -> None:
    broken = city_data.enrolment.copy()
    broken.loc[5, "count"] = -3
    with pytest.raises(InputError, match="count"):
        cohort_forecast(EnrolmentData(city_data.population, city_data.births, broken), 2020, 2)
