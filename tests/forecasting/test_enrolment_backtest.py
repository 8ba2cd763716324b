"""Rolling-origin backtests: no look-ahead, scores, method choice and intervals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import (
    FORECASTERS,
    BacktestReport,
    forecast_enrolment,
    interval_coverage,
    rolling_origin_backtest,
    run_backtest,
)
from forecasting.enrolment import EnrolmentData
from forecasting.synthetic import synthetic_city

TRAP = 10_000_000.0


@pytest.fixture(scope="module")
def data() -> EnrolmentData:
    city = synthetic_city(n_wards=25, first_year=2012, last_year=2023, seed=21)
    return EnrolmentData(city.population, city.births, city.enrolment, city.ward_area_km2)


@pytest.fixture(scope="module")
def report(data: EnrolmentData) -> BacktestReport:
    return run_backtest(data, max_horizon=5)


def _trapped(data: EnrolmentData, after: int) -> EnrolmentData:
    """Plant huge values in every input after ``after``."""
    def plant(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[frame["year"] > after, column] = TRAP
        return frame

    return EnrolmentData(
        plant(data.population, "count"), plant(data.births, "births"),
        plant(data.enrolment, "count"), data.ward_area_km2,
    )


@pytest.mark.parametrize("method", list(FORECASTERS))
def test_backtest_never_uses_data_after_the_origin(data: EnrolmentData, method: str) -> None:
    origin = 2018
    clean = rolling_origin_backtest(data, [origin], 3, [method])
    trapped = rolling_origin_backtest(_trapped(data, origin), [origin], 3, [method])
    # The trap is visible to the scorer (actuals changed) ...
    assert (trapped["actual"] >= TRAP).all()
    # ... and invisible to the forecaster.
    np.testing.assert_allclose(
        clean.sort_values(["ward_code", "level", "measure", "year"])["predicted"].to_numpy(),
        trapped.sort_values(["ward_code", "level", "measure", "year"])["predicted"].to_numpy(),
    )


def test_backtest_reports_mape_at_horizons_one_three_five_and_picks_the_winner(
    report: BacktestReport,
) -> None:
    assert set(report.scores["horizon"]) == {1, 3, 5}
    assert set(report.scores["method"]) == {"cohort", "challenger", "naive"}
    mean = report.scores.groupby(["level", "method"])["mape"].mean()
    for level, method in report.chosen.items():
        assert mean.loc[level, method] == mean.loc[level].min()
    # On a city simulated as cohorts, the cohort model must beat carrying the last value.
    for level in report.chosen:
        assert mean.loc[level, "cohort"] < mean.loc[level, "naive"]
    assert any(line.startswith("chosen method for primary:") for line in report.lines())


def test_forecast_intervals_bracket_the_forecast_and_widen_with_horizon(
    data: EnrolmentData, report: BacktestReport
) -> None:
    forecast = forecast_enrolment(data, horizon_years=8, report=report)
    assert (forecast["lower"] <= forecast["predicted"] + 1e-9).all()
    assert (forecast["upper"] >= forecast["predicted"] - 1e-9).all()
    assert sorted(forecast["horizon"].unique()) == list(range(1, 9))
    assert set(forecast["year"]) == set(range(2024, 2032))
    width = (np.log1p(forecast["upper"]) - np.log1p(forecast["lower"])).groupby(forecast["horizon"]).mean()
    assert width.loc[5] > width.loc[1]
    # Beyond the backtested horizons the widest interval is stretched by sqrt(h / 5).
    assert width.loc[8] > width.loc[5]
    for level, method in report.chosen.items():
        assert set(forecast[forecast["level"] == level]["method"]) == {method}


def test_interval_of_a_biased_method_still_contains_its_forecast(
    data: EnrolmentData, report: BacktestReport
) -> None:
    # every backtest error positive (the method always under-forecast): the residual
    # quantiles alone would put the whole interval above the forecast
    biased = dataclasses.replace(report, quantiles=report.quantiles.assign(q_low=0.1, q_high=0.3))
    forecast = forecast_enrolment(data, horizon_years=3, report=biased)
    np.testing.assert_allclose(forecast["lower"], forecast["predicted"])
    expected_upper = np.expm1(np.log1p(forecast["predicted"]) + 0.3)
    np.testing.assert_allclose(forecast["upper"], expected_upper)


def test_forced_method_overrides_the_backtest_choice(data: EnrolmentData) -> None:
    report = run_backtest(data, max_horizon=2, methods=["cohort", "naive"])
    forecast = forecast_enrolment(data, 2, report, methods={"primary": "naive"})
    assert set(forecast[forecast["level"] == "primary"]["method"]) == {"naive"}


def test_interval_coverage_counts_actuals_inside_the_quantile_band() -> None:
    predictions = pd.DataFrame({
        "method": "cohort", "level": "primary", "measure": "total", "horizon": 1,
        "predicted": [100.0, 100.0, 100.0, 100.0], "actual": [100.0, 104.0, 150.0, 60.0],
    })
    quantiles = pd.DataFrame({"method": ["cohort"], "level": ["primary"], "measure": ["total"],
                              "horizon": [1], "q_low": [-0.1], "q_high": [0.1]})
    coverage = interval_coverage(predictions, quantiles)
    assert coverage["coverage"].item() == pytest.approx(0.5)
