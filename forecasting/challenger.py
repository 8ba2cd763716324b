"""Machine-learning challenger: gradient boosting on lagged enrolment, births and ward features.

One model per level and measure (entry-grade or total enrolment) predicts the log growth
``log1p E[t+h] - log1p E[t]`` from features known at ``t``: the horizon, lagged enrolment
and its growth, the cohort already in the pipeline (children at ``t`` who will be of the
level's ages at ``t+h``; births at ``t`` stand in for those not yet born), births and their
growth, density (people per km², or people when areas are not given) and population
growth. Training rows are every ``(ward, t, h)`` with ``t + h <= origin``, so nothing after
the origin is used.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from threadpoolctl import threadpool_limits

from forecasting._panel import births_array, to_panel
from forecasting.enrolment import FORECAST_COLUMNS, EnrolmentData, ward_enrolment
from gis_service.levels import ALL_GRADES, LEVELS, SchoolLevel

FloatArray = npt.NDArray[np.float64]


def _lag_log_ratio(values: FloatArray, lag: int) -> FloatArray:
    """``log1p x[t] - log1p x[t - lag]`` along axis 1 (NaN for the first ``lag`` years)."""
    out = np.full(values.shape, np.nan)
    out[:, lag:] = np.log1p(values[:, lag:]) - np.log1p(values[:, :-lag])
    return out


def _pipeline(population: FloatArray, births: FloatArray, ages: list[int], horizon: int) -> FloatArray:
    """Children at ``t`` who will be aged ``ages`` at ``t + horizon`` (``wards x years``)."""
    total = np.zeros(population.shape[:2])
    for age in ages:
        source_age = age - horizon
        total += births if source_age < 0 else population[:, :, source_age]
    return total


def _features(
    level: SchoolLevel,
    measure: str,
    horizon: int,
    enrolment: FloatArray,
    population: FloatArray,
    births: FloatArray,
    area_km2: FloatArray | None,
) -> tuple[FloatArray, FloatArray]:
    """Features ``wards x years x k`` and the current value ``wards x years`` of the target."""
    grade_at = {g: k for k, g in enumerate(ALL_GRADES)}
    entry = enrolment[:, :, grade_at[level.entry_grade]]
    total = enrolment[:, :, [grade_at[g] for g in level.grades]].sum(axis=2)
    current = entry if measure == "entry" else total
    ages = (
        [level.entry_age]
        if measure == "entry"
        else [level.entry_age + k for k in range(len(level.grades))]
    )
    people = np.nansum(population, axis=2)
    density = people / area_km2[:, None] if area_km2 is not None else people
    columns = [
        np.full(current.shape, float(horizon)),
        np.log1p(current),
        np.log1p(entry),
        np.log1p(total),
        _lag_log_ratio(current, 1),
        _lag_log_ratio(current, 2),
        np.log1p(_pipeline(population, births, ages, horizon)) - np.log1p(current),
        np.log1p(births),
        _lag_log_ratio(births, 3),
        np.log1p(density),
        _lag_log_ratio(people, 1),
    ]
    return np.stack(columns, axis=2), current


def challenger_forecast(
    data: EnrolmentData,
    origin: int,
    horizon_years: int,
    seed: int = 0,
    max_iter: int = 100,
) -> pd.DataFrame:
    """Forecast enrolment with gradient boosting trained on data up to ``origin``.

    Parameters
    ----------
    data
        Ward-level inputs (rows after ``origin`` are dropped first).
    origin
        Forecast origin (last year known).
    horizon_years
        Years ahead.
    seed
        Random state of the booster.
    max_iter
        Boosting iterations.

    Returns
    -------
    pandas.DataFrame
        :data:`forecasting.enrolment.FORECAST_COLUMNS` for horizons ``1..horizon_years``.
    """
    # scikit-learn takes a second to import: only when the challenger runs, not with every
    # CLI command or web worker that imports the forecasting package
    from sklearn.ensemble import HistGradientBoostingRegressor

    known = data.truncate(origin)
    enrolment_panel = to_panel(
        ward_enrolment(known.enrolment), "grade", "count", "enrolment", keys=ALL_GRADES
    )
    wards, years = enrolment_panel.wards, enrolment_panel.years
    population = to_panel(known.population, "age", "count", "population", wards=wards, years=years)
    births = births_array(known.births, wards, years)
    area = None
    if known.ward_area_km2 is not None:
        area = known.ward_area_km2.reindex(wards).to_numpy(dtype=np.float64)
    enrolment = enrolment_panel.values
    origin_at = years.index(origin)
    parts = []
    for level in LEVELS:
        for measure in ("entry", "total"):
            train_x, train_y = [], []
            test_x, base = [], None
            for horizon in range(1, horizon_years + 1):
                features, current = _features(
                    level, measure, horizon, enrolment, population.values, births, area
                )
                if horizon <= origin_at:
                    growth = np.log1p(current[:, horizon:]) - np.log1p(current[:, :-horizon])
                    x = features[:, : origin_at + 1 - horizon, :].reshape(-1, features.shape[2])
                    y = growth[:, : origin_at + 1 - horizon].reshape(-1)
                    ok = np.isfinite(y)
                    train_x.append(x[ok])
                    train_y.append(y[ok])
                test_x.append(features[:, origin_at, :])
                base = current[:, origin_at]
            assert base is not None
            model = HistGradientBoostingRegressor(
                max_iter=max_iter,
                learning_rate=0.1,
                max_leaf_nodes=15,
                min_samples_leaf=20,
                early_stopping=False,
                random_state=seed,
            )
            x_train = np.concatenate(train_x)
            # A feature with no value yet (e.g. 3-year births growth on a short history)
            # carries no information and is dropped.
            usable = ~np.all(np.isnan(x_train), axis=0)
            # One OpenMP thread: on small data the threads' synchronisation costs more than
            # it saves, by an order of magnitude on a busy machine.
            with threadpool_limits(limits=1, user_api="openmp"):
                model.fit(x_train[:, usable], np.concatenate(train_y))
            for horizon, x in enumerate(test_x, start=1):
                with threadpool_limits(limits=1, user_api="openmp"):
                    growth_hat = model.predict(x[:, usable])
                parts.append(
                    pd.DataFrame(
                        {
                            "ward_code": wards,
                            "level": level.name,
                            "measure": measure,
                            "year": origin + horizon,
                            "horizon": horizon,
                            "predicted": np.expm1(np.log1p(np.nan_to_num(base)) + growth_hat).clip(0),
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)[FORECAST_COLUMNS]
