"""Rolling-origin backtests of enrolment forecasts, method choice and forecast intervals.

For every origin ``T`` the data are cut at ``T`` (:meth:`EnrolmentData.truncate`) before
any method sees them, each method forecasts ``1..max_horizon`` years ahead, and the
forecasts are scored against what happened. Per level the method with the lowest mean MAPE
over the reported horizons wins and is used for the real forecast; its backtest errors
(log ratios actual / predicted) give the interval at each horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.challenger import challenger_forecast
from forecasting.enrolment import EnrolmentData, actual_measures, cohort_forecast, naive_forecast
from gis_service.errors import InputError, Problem
from gis_service.levels import LEVELS

Forecaster = Callable[[EnrolmentData, int, int], pd.DataFrame]
FORECASTERS: dict[str, Forecaster] = {
    "cohort": cohort_forecast,
    "challenger": challenger_forecast,
    "naive": naive_forecast,
}
KEYS = ["ward_code", "level", "measure", "year"]
REPORTED_HORIZONS = (1, 3, 5)
OUTPUT_COLUMNS = [
    "ward_code", "level", "measure", "year", "horizon", "method", "predicted", "lower", "upper",
]


def default_origins(data: EnrolmentData, max_horizon: int, min_history_years: int = 4) -> list[int]:
    """Origins with ``min_history_years`` of history and at least one year to score."""
    first, last = data.first_year, data.last_year
    origins = list(range(first + min_history_years - 1, last))
    if not origins:
        raise InputError(
            Problem("enrolment", None, "year", f"need more than {min_history_years} years for a backtest")
        )
    return origins


def rolling_origin_backtest(
    data: EnrolmentData,
    origins: Sequence[int] | None = None,
    max_horizon: int = 5,
    methods: Sequence[str] = tuple(FORECASTERS),
) -> pd.DataFrame:
    """Forecast from each origin with each method and attach the actual values.

    Returns
    -------
    pandas.DataFrame
        ``ward_code, level, measure, year, horizon, predicted, origin, method, actual`` for
        every forecast whose year has been observed.
    """
    chosen_origins = list(origins) if origins is not None else default_origins(data, max_horizon)
    actual = actual_measures(data)
    parts = []
    for origin in chosen_origins:
        horizon = min(max_horizon, data.last_year - origin)
        if horizon < 1:
            continue
        for method in methods:
            forecast = FORECASTERS[method](data.truncate(origin), origin, horizon)
            parts.append(forecast.assign(origin=origin, method=method))
    if not parts:
        raise InputError(Problem("enrolment", None, "year", "no origin has a year to score"))
    return pd.concat(parts, ignore_index=True).merge(actual, on=KEYS, how="inner")


def backtest_scores(
    predictions: pd.DataFrame, horizons: Sequence[int] = REPORTED_HORIZONS
) -> pd.DataFrame:
    """MAPE (percent, over ward-years with non-zero actuals) per method, level, measure, horizon."""
    scored = predictions[(predictions["actual"] > 0) & predictions["horizon"].isin(list(horizons))]
    ape = (scored["predicted"] - scored["actual"]).abs() / scored["actual"] * 100.0
    return (
        scored.assign(ape=ape)
        .groupby(["method", "level", "measure", "horizon"], as_index=False)
        .agg(mape=("ape", "mean"), n=("ape", "size"))
    )


def select_methods(scores: pd.DataFrame) -> dict[str, str]:
    """Per level, the method with the lowest mean MAPE over horizons and measures."""
    mean = scores.groupby(["level", "method"])["mape"].mean().reset_index()
    best = mean.loc[mean.groupby("level")["mape"].idxmin()]
    return dict(zip(best["level"], best["method"], strict=True))


def residual_quantiles(predictions: pd.DataFrame, coverage: float = 0.8) -> pd.DataFrame:
    """Quantiles of ``log1p(actual) - log1p(predicted)`` per method, level, measure, horizon."""
    low, high = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    error = np.log1p(predictions["actual"]) - np.log1p(predictions["predicted"])
    grouped = predictions.assign(error=error).groupby(["method", "level", "measure", "horizon"])["error"]
    return pd.DataFrame({"q_low": grouped.quantile(low), "q_high": grouped.quantile(high)}).reset_index()


def interval_coverage(predictions: pd.DataFrame, quantiles: pd.DataFrame) -> pd.DataFrame:
    """Share of actual values inside the intervals that ``quantiles`` put around predictions.

    Use quantiles from early origins on predictions from later ones for an honest check.
    """
    joined = predictions.merge(quantiles, on=["method", "level", "measure", "horizon"])
    error = np.log1p(joined["actual"]) - np.log1p(joined["predicted"])
    inside = (error >= joined["q_low"]) & (error <= joined["q_high"])
    return (
        joined.assign(inside=inside)
        .groupby(["method", "horizon"], as_index=False)
        .agg(coverage=("inside", "mean"), n=("inside", "size"))
    )


@dataclass(frozen=True)
class BacktestReport:
    """Backtest predictions, scores, the chosen method per level and interval quantiles."""

    predictions: pd.DataFrame
    scores: pd.DataFrame
    chosen: dict[str, str]
    quantiles: pd.DataFrame

    def lines(self) -> list[str]:
        """One line per level, measure and horizon: MAPE per method and ratio to naive."""
        out = []
        wide = self.scores.pivot_table(
            index=["level", "measure", "horizon"], columns="method", values="mape"
        )
        for (level, measure, horizon), row in wide.iterrows():
            figures = " ".join(f"{m}={row[m]:.2f}%" for m in wide.columns)
            ratios = " ".join(
                f"{m}/naive={row[m] / row['naive']:.3f}"
                for m in wide.columns
                if m != "naive" and "naive" in wide.columns
            )
            out.append(f"MAPE {level} {measure} h={horizon}: {figures} {ratios}")
        for level, method in self.chosen.items():
            out.append(f"chosen method for {level}: {method}")
        return out


def run_backtest(
    data: EnrolmentData,
    origins: Sequence[int] | None = None,
    max_horizon: int = 5,
    methods: Sequence[str] = tuple(FORECASTERS),
    coverage: float = 0.8,
) -> BacktestReport:
    """Backtest every method, score at :data:`REPORTED_HORIZONS`, choose per level."""
    predictions = rolling_origin_backtest(data, origins, max_horizon, methods)
    scores = backtest_scores(predictions, [h for h in REPORTED_HORIZONS if h <= max_horizon])
    if scores.empty:
        scores = backtest_scores(predictions, range(1, max_horizon + 1))
    quantiles = residual_quantiles(predictions, coverage)
    return BacktestReport(predictions, scores, select_methods(scores), quantiles)


def _interval_factors(
    quantiles: pd.DataFrame, method: str, level: str, measure: str, horizon: int
) -> tuple[float, float]:
    """Quantiles at ``horizon``; beyond the backtested horizons, widened by ``sqrt(h / h_max)``."""
    rows = quantiles[
        (quantiles["method"] == method) & (quantiles["level"] == level) & (quantiles["measure"] == measure)
    ]
    if rows.empty:
        return float("nan"), float("nan")
    exact = rows[rows["horizon"] == horizon]
    if not exact.empty:
        return float(exact["q_low"].iloc[0]), float(exact["q_high"].iloc[0])
    furthest = rows.loc[rows["horizon"].idxmax()]
    scale = float(np.sqrt(horizon / furthest["horizon"]))
    return float(furthest["q_low"]) * scale, float(furthest["q_high"]) * scale


def forecast_enrolment(
    data: EnrolmentData,
    horizon_years: int = 10,
    report: BacktestReport | None = None,
    methods: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Forecast entry and total enrolment per ward and level with intervals.

    Parameters
    ----------
    data
        Ward-level history; the origin is its last year.
    horizon_years
        Years ahead (1-10 in practice).
    report
        Backtest used to choose methods and set intervals; run here when not given.
    methods
        Force a method per level (``{"primary": "cohort", ...}``) instead of the backtest's.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTPUT_COLUMNS`; ``lower``/``upper`` are the backtest's residual
        quantiles (80 % by default) around ``predicted``, widened where needed so that
        they always contain ``predicted``.
    """
    backtest = report if report is not None else run_backtest(data)
    chosen = {**backtest.chosen, **(methods or {})}
    origin = data.last_year
    forecasts: dict[str, pd.DataFrame] = {}
    parts = []
    for level in LEVELS:
        method = chosen.get(level.name, "cohort")
        if method not in forecasts:
            forecasts[method] = FORECASTERS[method](data, origin, horizon_years)
        frame = forecasts[method]
        part = frame[frame["level"] == level.name].assign(method=method)
        factors = {
            (measure, h): _interval_factors(backtest.quantiles, method, level.name, measure, h)
            for measure in ("entry", "total")
            for h in range(1, horizon_years + 1)
        }
        low = np.array([factors[(m, h)][0] for m, h in zip(part["measure"], part["horizon"], strict=True)])
        high = np.array([factors[(m, h)][1] for m, h in zip(part["measure"], part["horizon"], strict=True)])
        # a biased method has both quantiles on one side of zero: widen the interval to the
        # forecast itself rather than show a range that excludes it
        low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
        base = np.log1p(part["predicted"].to_numpy(dtype=np.float64))
        parts.append(
            part.assign(lower=np.expm1(base + low).clip(0), upper=np.expm1(base + high).clip(0))
        )
    return pd.concat(parts, ignore_index=True)[OUTPUT_COLUMNS]
