"""Grade-10 cut-off forecasts: the real HCMC backtest, the chance band, input rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.cutoffs import (
    ChanceBand,
    backtest_cutoffs,
    calibrate_cutoffs,
    chance_band,
    forecast_cutoffs,
    select_regular_nv1,
)
from gis_service.errors import InputError


@pytest.fixture(scope="module")
def hcmc_history(hcmc_cutoffs_nv1: Path) -> pd.DataFrame:
    return pd.read_csv(hcmc_cutoffs_nv1)


def test_hcmc_2024_backtest_beats_last_value(hcmc_history: pd.DataFrame) -> None:
    result = backtest_cutoffs(hcmc_history, 2024)
    print(
        f"HCMC cut-offs 2024 from 2022-2023: MAE model={result.mae_model:.3f} "
        f"last-value={result.mae_last_value:.3f} ratio={result.ratio_to_baseline:.3f} "
        f"80% interval coverage={result.interval_coverage:.2f} over {result.n_schools} schools"
    )
    assert result.n_schools == 105
    assert result.mae_model < result.mae_last_value
    assert result.interval_coverage >= 0.6


def test_cutoff_forecast_ignores_the_target_year_and_later(hcmc_history: pd.DataFrame) -> None:
    trapped = hcmc_history.copy()
    trapped.loc[trapped["year"] >= 2024, "cutoff_score"] = 29.75
    clean = forecast_cutoffs(hcmc_history, 2024)
    pd.testing.assert_frame_equal(clean, forecast_cutoffs(trapped, 2024))


def test_forecast_has_the_file_contract_columns_and_ordered_bounds(hcmc_history: pd.DataFrame) -> None:
    forecast = forecast_cutoffs(hcmc_history, 2025)
    assert list(forecast.columns) == ["school_name", "year", "predicted_cutoff", "lower", "upper",
                                      "horizon", "model", "nominal_coverage", "backtest_coverage",
                                      "backtest_n"]
    assert (forecast["lower"] <= forecast["predicted_cutoff"]).all()
    assert (forecast["predicted_cutoff"] <= forecast["upper"]).all()
    assert forecast["upper"].max() <= 30


def test_school_effect_and_year_level_are_separated() -> None:
    # Every school moves with the year; school B is always 3 points above A. The levels rise
    # by one point a year, so the backtest prefers drift to the mean or the last level.
    history = pd.DataFrame({
        "school_name": ["A", "A", "A", "B", "B", "B"],
        "year": [2021, 2022, 2023] * 2,
        "cutoff_score": [15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
    })
    forecast = forecast_cutoffs(history, 2024).set_index("school_name")
    assert (forecast["model"] == "drift").all()
    assert forecast.loc["A", "predicted_cutoff"] == pytest.approx(18.0)
    assert forecast.loc["B", "predicted_cutoff"] == pytest.approx(21.0)


def test_levels_that_come_back_choose_the_mean() -> None:
    history = pd.DataFrame({
        "school_name": ["A"] * 4 + ["B"] * 4,
        "year": [2020, 2021, 2022, 2023] * 2,
        "cutoff_score": [15.0, 17.0, 15.0, 17.0, 18.0, 20.0, 18.0, 20.0],
    })
    forecast = forecast_cutoffs(history, 2024).set_index("school_name")
    assert (forecast["model"] == "mean").all()
    assert forecast.loc["A", "predicted_cutoff"] == pytest.approx(16.0)


def test_cohort_size_drives_the_level_when_the_backtest_says_so() -> None:
    # The level is 15 + log(cohort) for A: a regression on three earlier years is exact.
    x = [0.0, 2.0, 1.0, 3.0, 1.0]
    history = pd.DataFrame({
        "school_name": ["A"] * 5 + ["B"] * 5,
        "year": list(range(2019, 2024)) * 2,
        "cutoff_score": [15.0 + v for v in x] + [18.0 + v for v in x],
    })
    cohort = pd.Series(np.exp([*x, 2.0]), index=range(2019, 2025))
    forecast = forecast_cutoffs(history, 2024, cohort_size=cohort).set_index("school_name")
    assert (forecast["model"] == "cohort").all()
    assert forecast.loc["A", "predicted_cutoff"] == pytest.approx(17.0)
    assert forecast.loc["B", "predicted_cutoff"] == pytest.approx(20.0)
    assert (forecast_cutoffs(history, 2024)["model"] != "cohort").all()


def test_only_nv1_and_the_regular_programme_are_forecast() -> None:
    history = pd.DataFrame({
        "school_name": ["A", "A", "A", "A"],
        "year": [2023, 2023, 2023, 2022],
        "admission_round": ["NV1", "NV2", "NV1", "NV1"],
        "program": ["Thường (đại trà)", "Thường (đại trà)", "Tích hợp", "Thường (đại trà)"],
        "cutoff_score": [20.0, 21.0, 25.0, 19.0],
    })
    kept = select_regular_nv1(history)
    assert kept["cutoff_score"].tolist() == [20.0, 19.0]


def test_duplicated_school_year_is_refused() -> None:
    history = pd.DataFrame({"school_name": ["A", "A"], "year": [2023, 2023], "cutoff_score": [1.0, 2.0]})
    with pytest.raises(InputError, match="appear twice"):
        forecast_cutoffs(history, 2024)


def test_a_history_without_any_regular_nv1_row_is_a_clear_error() -> None:
    history = pd.DataFrame({"school_name": ["A", "B"], "year": [2023, 2023],
                            "admission_round": ["NV2", "NV1"], "program": ["Thường", "Tích hợp"],
                            "cutoff_score": [20.0, 25.0]})
    with pytest.raises(InputError, match="no NV1 row of the regular programme") as caught:
        select_regular_nv1(history, "history.csv")
    assert caught.value.problems[0].field == "admission_round"


def test_outlook_reads_the_regular_rows_whatever_else_the_table_holds(demo_copy: Engine) -> None:
    """The stored key is (school, year, round, programme): a second label that also reads as
    the regular programme must not make the same school-year appear twice."""
    from forecasting.service import cutoff_outlook

    before = cutoff_outlook(demo_copy)
    with demo_copy.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO cutoffs (school_code, year, admission_round, programme, cutoff_score)"
            " SELECT school_code, year, admission_round, 'Thường (đại trà)', cutoff_score + 3"
            " FROM cutoffs WHERE admission_round = 'NV1' AND programme = 'regular'"))
    assert not before.empty
    pd.testing.assert_frame_equal(cutoff_outlook(demo_copy), before)


def test_chance_band_vietnamese_first() -> None:
    assert chance_band(24.0, 21.0, 23.0) is ChanceBand.LIKELY
    assert chance_band(22.0, 21.0, 23.0) is ChanceBand.POSSIBLE
    assert chance_band(20.5, 21.0, 23.0) is ChanceBand.UNLIKELY
    assert ChanceBand.LIKELY.label == "Khả năng cao / Likely"
    assert ChanceBand.UNLIKELY.label_vi == "Khả năng thấp"
    with pytest.raises(ValueError):
        chance_band(20.0, 23.0, 21.0)


def test_a_missing_target_cohort_falls_back_to_the_mean_and_says_so() -> None:
    x = [0.0, 2.0, 1.0, 3.0, 1.0]
    history = pd.DataFrame({"school_name": ["A"] * 5, "year": list(range(2019, 2024)),
                            "cutoff_score": [15.0 + v for v in x]})
    cohort = pd.Series(np.exp(x), index=range(2019, 2024))  # no 2024 cohort
    assert calibrate_cutoffs(history, cohort_size=cohort).model == "cohort"
    forecast = forecast_cutoffs(history, 2024, cohort_size=cohort)
    assert forecast["model"].tolist() == ["mean"]
    assert forecast["predicted_cutoff"].iloc[0] == pytest.approx(16.4)
