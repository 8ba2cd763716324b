"""Grade-10 cut-off scores (điểm chuẩn): forecast per school, interval, and the chance band.

The model is a two-way additive panel: ``cutoff[s, t] = school[s] + year[t] + noise``.
The school effect is the school's mean deviation from the yearly level (how selective it
is); the year effect moves every school together (exam difficulty, cohort size).

The yearly level is forecast by the candidate of :data:`LEVEL_MODELS` (mean, last,
drift, cohort-size regression when candidates per year are given) with the lowest error
in a rolling-origin backtest on the history given: every year but the last is an origin,
forecasting the years one and two ahead. The choice is pooled over schools, not made per
school: three years (2022-2024) give a school at most two one-year-ahead errors and one
two-year-ahead error, while pooled they are 210 and 105 errors. The interval is
``predicted ± w[h]``, ``w[h]`` the nominal-coverage quantile of the absolute backtest
errors at horizon ``h`` pooled over schools and origins, growing with the horizon
(:data:`HORIZON_GROWTH`). Every band carries the coverage it reached in that backtest,
scored leave-one-school-out (:class:`CutoffCalibration`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from statistics import NormalDist

import numpy as np
import pandas as pd

from gis_service.errors import InputError, Problem

REQUIRED_COLUMNS = ("school_name", "year", "cutoff_score")
#: The forecast file: the band, and next to it the coverage it reached in the backtest.
FORECAST_COLUMNS = ["school_name", "year", "predicted_cutoff", "lower", "upper", "horizon",
                    "model", "nominal_coverage", "backtest_coverage", "backtest_n"]
BACKTEST_COLUMNS = ["school_name", "origin", "year", "horizon", "model", "predicted", "actual",
                    "last_value"]
#: Interval widths grow at least like ``horizon ** HORIZON_GROWTH``. A short backtest cannot
#: tell how errors grow: not at all if yearly levels return to their mean (2022-2024 did),
#: like ``sqrt(h)`` if they wander (a random walk). A quarter power is halfway between the
#: two on a log scale, so a two-year-ahead band is always wider than a one-year one.
HORIZON_GROWTH = 0.25
#: Candidate models of the yearly level, simplest first (a tie in the backtest goes first).
LEVEL_MODELS = ("mean", "last", "drift", "cohort")
#: Used when the history has a single year and no spread of yearly levels can be measured.
DEFAULT_YEAR_SD = 0.75
#: Used when no school has two years, so within-school noise cannot be measured.
DEFAULT_WITHIN_SD = 0.5


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower().strip()


def is_regular_programme(program: str) -> bool:
    """Tell whether a programme label is the regular programme (chương trình thường / đại trà).

    Parameters
    ----------
    program
        The label as written in the history file, e.g. ``"Thường (đại trà)"``.
    """
    folded = _fold(program)
    return folded.startswith("thuong") or "dai tra" in folded or folded in {"regular", "standard"}


def select_regular_nv1(history: pd.DataFrame, source: str = "history") -> pd.DataFrame:
    """Validate a cut-off history and keep only NV1 rows of the regular programme.

    Parameters
    ----------
    history
        Columns ``school_name, year, cutoff_score`` and optionally ``admission_round`` and
        ``program`` (other columns are ignored).
    source
        Name of the file, used in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``school_name, year, cutoff_score`` with one row per school and year.

    Raises
    ------
    InputError
        On missing columns, non-numeric values, duplicated school-years or no NV1 row of
        the regular programme.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in history.columns]
    if missing:
        raise InputError(
            [Problem(source, None, c, "required column is missing") for c in missing]
        )
    frame = history.copy()
    if "admission_round" in frame.columns:
        frame = frame[frame["admission_round"].astype(str).str.strip().str.upper() == "NV1"]
    if "program" in frame.columns:
        # a boolean array: an empty mapped Series would be taken as a list of columns
        frame = frame[frame["program"].astype(str).map(is_regular_programme).to_numpy(bool)]
    if frame.empty:
        raise InputError([Problem(source, None, "admission_round",
                                  "no NV1 row of the regular programme to forecast from")])
    problems: list[Problem] = []
    years = pd.to_numeric(frame["year"], errors="coerce")
    scores = pd.to_numeric(frame["cutoff_score"], errors="coerce")
    for index in frame.index[years.isna()]:
        problems.append(Problem(source, int(index) + 1, "year", "not an integer year"))
    for index in frame.index[scores.isna()]:
        problems.append(Problem(source, int(index) + 1, "cutoff_score", "not a number"))
    if problems:
        raise InputError(problems)
    clean = pd.DataFrame(
        {
            "school_name": frame["school_name"].astype(str).str.strip(),
            "year": years.astype(int),
            "cutoff_score": scores.astype(float),
        }
    )
    duplicated = clean.duplicated(["school_name", "year"], keep=False)
    if duplicated.any():
        raise InputError(
            [
                Problem(source, int(i) + 1, "school_name", "school and year appear twice")
                for i in clean.index[duplicated]
            ]
        )
    return clean.reset_index(drop=True)


@dataclass(frozen=True)
class CutoffPanel:
    """The fitted two-way decomposition of a cut-off history."""

    school_effect: pd.Series
    year_effect: pd.Series
    years_per_school: pd.Series
    within_sd: float
    year_sd: float


def fit_panel(history: pd.DataFrame, iterations: int = 50) -> CutoffPanel:
    """Fit ``cutoff = school + year`` by alternating means (exact for balanced panels).

    Parameters
    ----------
    history
        Output of :func:`select_regular_nv1`.
    iterations
        Backfitting sweeps; unbalanced panels converge in a few.
    """
    wide = history.pivot(index="school_name", columns="year", values="cutoff_score")
    values = wide.to_numpy(dtype=float)
    observed = ~np.isnan(values)
    year_level = np.nanmean(values, axis=0)
    school = np.zeros(values.shape[0])
    for _ in range(iterations):
        school = np.nanmean(values - year_level[None, :], axis=1)
        school -= school.mean()
        year_level = np.nanmean(values - school[:, None], axis=0)
    residual = np.where(observed, values - school[:, None] - year_level[None, :], 0.0)
    n_obs = int(observed.sum())
    dof = n_obs - values.shape[0] - values.shape[1] + 1
    within_sd = float(np.sqrt((residual**2).sum() / dof)) if dof > 0 else DEFAULT_WITHIN_SD
    year_sd = float(np.std(year_level, ddof=1)) if len(year_level) > 1 else DEFAULT_YEAR_SD
    return CutoffPanel(
        school_effect=pd.Series(school, index=wide.index),
        year_effect=pd.Series(year_level, index=wide.columns.astype(int)),
        years_per_school=pd.Series(observed.sum(axis=1), index=wide.index),
        within_sd=within_sd,
        year_sd=year_sd,
    )


def level_forecast(
    levels: pd.Series, model: str, year: int, cohort_size: pd.Series | None = None
) -> float | None:
    """Forecast the city-wide level of the cut-offs for ``year`` with one level model.

    Parameters
    ----------
    levels
        Yearly levels (:attr:`CutoffPanel.year_effect`), indexed by year.
    model
        One of :data:`LEVEL_MODELS`: ``mean`` of past levels, ``last`` level, ``drift`` (the
        last level plus the mean yearly change from the first to the last year, none with a
        single year), ``cohort`` (levels regressed on the log of the grade-9 cohort).
    year
        Target year.
    cohort_size
        Candidates per year, including ``year``; ``cohort`` needs it for at least three
        history years.

    Returns
    -------
    float or None
        ``None`` when ``cohort`` lacks its inputs.
    """
    levels = levels.sort_index()
    first, last_year, last = int(levels.index[0]), int(levels.index[-1]), float(levels.iloc[-1])
    if model == "mean":
        return float(levels.mean())
    if model == "last":
        return last
    if model == "drift":
        slope = (last - float(levels.iloc[0])) / (last_year - first) if last_year > first else 0.0
        return last + slope * (year - last_year)
    if model != "cohort":
        raise ValueError(f"unknown level model {model!r}; one of {', '.join(LEVEL_MODELS)}")
    if cohort_size is None or year not in cohort_size.index:
        return None
    known = [y for y in levels.index if y in cohort_size.index]
    if len(known) < 3:
        return None
    x = np.log(cohort_size.loc[known].to_numpy(dtype=float))
    slope, intercept = np.polyfit(x, levels.loc[known].to_numpy(dtype=float), 1)
    return float(intercept + slope * np.log(float(cohort_size.loc[year])))


def _point_forecasts(
    past: pd.DataFrame, years: list[int], cohort_size: pd.Series | None, max_score: float
) -> pd.DataFrame:
    """``school_name, year, horizon, model, predicted`` of every level model from ``past``."""
    panel = fit_panel(past)
    origin = int(past["year"].max())
    parts = []
    for model in LEVEL_MODELS:
        for year in years:
            level = level_forecast(panel.year_effect, model, year, cohort_size)
            if level is None:
                continue
            predicted = np.clip(panel.school_effect.to_numpy() + level, 0.0, max_score)
            parts.append(pd.DataFrame({"school_name": panel.school_effect.index, "year": year,
                                       "horizon": year - origin, "model": model,
                                       "predicted": predicted}))
    return pd.concat(parts, ignore_index=True)


def rolling_cutoff_backtest(
    history: pd.DataFrame,
    max_horizon: int = 2,
    cohort_size: pd.Series | None = None,
    max_score: float = 30.0,
) -> pd.DataFrame:
    """Forecast every observed year from each earlier origin, with every level model.

    Every history year but the last is an origin ``T``; the panel is fitted on years up to
    ``T`` only and forecasts the observed years ``T + 1 .. T + max_horizon``.

    Returns
    -------
    pandas.DataFrame
        ``school_name, origin, year, horizon, model, predicted, actual, last_value`` (the
        school's own last cut-off up to the origin, the naive baseline); empty when the
        history has a single year.
    """
    clean = select_regular_nv1(history)
    years = sorted(int(y) for y in clean["year"].unique())
    parts = []
    for origin in years[:-1]:
        targets = [y for y in years if origin < y <= origin + max_horizon]
        past = clean[clean["year"] <= origin]
        last = past.sort_values("year").groupby("school_name")["cutoff_score"].last()
        parts.append(
            _point_forecasts(past, targets, cohort_size, max_score)
            .assign(origin=origin, last_value=lambda f, last=last: f["school_name"].map(last))
        )
    if not parts:
        return pd.DataFrame(columns=BACKTEST_COLUMNS)
    actual = clean.rename(columns={"cutoff_score": "actual"})
    return pd.concat(parts, ignore_index=True).merge(actual, on=["school_name", "year"])[
        BACKTEST_COLUMNS
    ]


def choose_level_model(backtest: pd.DataFrame) -> str:
    """Choose the level model with the lowest mean absolute error in a rolling backtest.

    One model for all schools (pooled): a 3-year history gives each school one or two
    errors, far too few to choose per school. Models are compared on the forecasts every
    one of them made (``cohort`` exists only where its inputs do), the MAE averaged over
    horizons with equal weight; a tie goes to the simpler model (order of
    :data:`LEVEL_MODELS`). Without backtest rows: ``mean``.
    """
    if backtest.empty:
        return "mean"
    wide = backtest.pivot_table(index=["school_name", "origin", "year", "horizon"],
                                columns="model", values="predicted").dropna()
    actual = backtest.drop_duplicates(["school_name", "origin", "year"]).set_index(
        ["school_name", "origin", "year", "horizon"])["actual"].reindex(wide.index)
    errors = wide.sub(actual, axis=0).abs()
    mae = errors.groupby(level="horizon").mean().mean()
    return str(min(mae.index, key=lambda m: (round(float(mae[m]), 9), LEVEL_MODELS.index(m))))


def _coverage_width(abs_errors: np.ndarray, coverage: float) -> float:
    """Give the half-width whose share of ``abs_errors`` inside is nearest ``coverage``.

    Cut-offs move in steps of 0.25 points, so many errors are equal: the plain quantile
    then sits on a tie and takes all of it in, covering far more than ``coverage``. The
    largest error below the tie is taken instead when its share is nearer the nominal one.
    """
    errors = np.round(np.asarray(abs_errors, dtype=float), 6)
    above = float(np.min(errors[errors >= np.quantile(errors, coverage) - 1e-9]))
    below = errors[errors < above]
    if below.size and abs(np.mean(errors <= below.max()) - coverage) < abs(
        np.mean(errors <= above) - coverage
    ):
        return float(below.max())
    return above


def _half_widths(abs_errors: dict[int, np.ndarray], coverage: float) -> dict[int, float]:
    """Per horizon, the width covering ``coverage`` of absolute errors, growing with the horizon.

    A horizon's width is at least the previous one's times ``(h / h_prev) ** HORIZON_GROWTH``.
    """
    widths: dict[int, float] = {}
    previous = 0
    for horizon in sorted(abs_errors):
        floor = widths[previous] * (horizon / previous) ** HORIZON_GROWTH if previous else 0.0
        widths[horizon] = max(_coverage_width(abs_errors[horizon], coverage), floor)
        previous = horizon
    return widths


@dataclass(frozen=True)
class CutoffCalibration:
    """The level model chosen by rolling-origin backtest and the interval it earned.

    ``half_width[h]`` is the ``coverage`` quantile of the absolute errors at horizon ``h``,
    pooled over schools and origins (symmetric: with one or two origins the sign of the
    errors is that of one or two exam years, which says nothing about the next one).
    ``backtest_coverage[h]`` is the share of backtest cut-offs inside intervals calibrated
    *without their own school* (leave-one-school-out), so no interval is scored on the
    errors it was calibrated on. The schools of one origin share that year's level shock,
    so this measures calibration given the exam years seen: with 2022-2024 that is two
    origins at horizon 1 and a single one at horizon 2.
    """

    model: str
    coverage: float
    half_width: dict[int, float]
    backtest_coverage: dict[int, float]
    backtest_n: dict[int, int]
    backtest_origins: dict[int, int]
    mae: pd.DataFrame
    predictions: pd.DataFrame

    def width(self, horizon: int) -> float:
        """Half-width at ``horizon``; beyond the backtested ones, grown from the furthest."""
        if not self.half_width:
            z = NormalDist().inv_cdf(0.5 + self.coverage / 2)
            return z * float(np.hypot(DEFAULT_YEAR_SD, DEFAULT_WITHIN_SD)) * float(np.sqrt(2 * horizon))
        if horizon in self.half_width:
            return float(self.half_width[horizon])
        nearest = max((h for h in self.half_width if h < horizon), default=min(self.half_width))
        return float(self.half_width[nearest] * (horizon / nearest) ** HORIZON_GROWTH)

    def lines(self) -> list[str]:
        """Report lines: MAE per model and horizon, the choice and the coverage per horizon."""
        out = []
        for horizon, row in self.mae.iterrows():
            figures = " ".join(f"{m}={row[m]:.3f}" for m in self.mae.columns)
            out.append(f"cut-off MAE h={horizon}: {figures}")
        out.append(f"chosen level model: {self.model}")
        for horizon, width in self.half_width.items():
            out.append(
                f"h={horizon}: {self.coverage:.0%} interval ±{width:.2f}, backtest coverage "
                f"{self.backtest_coverage[horizon]:.1%} of {self.backtest_n[horizon]} school-years "
                f"({self.backtest_origins[horizon]} origin(s), leave-one-school-out)"
            )
        return out


def _loso_inside(errors: pd.DataFrame, coverage: float) -> pd.Series:
    """Whether each error is inside the interval calibrated on the other schools' errors."""
    inside = pd.Series(False, index=errors.index)
    for school, own in errors.groupby("school_name"):
        others = errors[errors["school_name"] != school]
        widths = _half_widths(
            {h: g["abs_error"].to_numpy() for h, g in others.groupby("horizon")}, coverage
        )
        limit = own["horizon"].map(pd.Series(widths, dtype=float))
        inside[own.index] = own["abs_error"] <= limit + 1e-9
    return inside


def calibrate_cutoffs(
    history: pd.DataFrame,
    max_horizon: int = 2,
    coverage: float = 0.8,
    cohort_size: pd.Series | None = None,
    max_score: float = 30.0,
) -> CutoffCalibration:
    """Choose the level model and calibrate intervals per horizon by rolling-origin backtest.

    Parameters
    ----------
    history
        Cut-off history (see :func:`select_regular_nv1`); all of it is used.
    max_horizon
        Longest horizon backtested.
    coverage
        Nominal coverage of the intervals.
    cohort_size
        Optional candidates per year (the ``cohort`` level model).
    max_score
        Scores are clipped to ``[0, max_score]``.
    """
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be between 0 and 1, not {coverage}")
    backtest = rolling_cutoff_backtest(history, max_horizon, cohort_size, max_score)
    model = choose_level_model(backtest)
    chosen = backtest[backtest["model"] == model].reset_index(drop=True)
    chosen = chosen.assign(abs_error=(chosen["actual"] - chosen["predicted"]).abs())
    widths = _half_widths(
        {int(h): g["abs_error"].to_numpy() for h, g in chosen.groupby("horizon")}, coverage
    )
    chosen["inside"] = _loso_inside(chosen, coverage) if len(chosen) else []
    by_horizon = chosen.groupby("horizon")
    mae = (
        backtest.assign(error=(backtest["actual"] - backtest["predicted"]).abs())
        .pivot_table(index="horizon", columns="model", values="error", aggfunc="mean")
        .reindex(columns=[m for m in LEVEL_MODELS if m in set(backtest["model"])])
    )
    if not chosen.empty:
        mae["last_value"] = by_horizon.apply(
            lambda g: float((g["actual"] - g["last_value"]).abs().mean()), include_groups=False
        )
    return CutoffCalibration(
        model=model,
        coverage=coverage,
        half_width=widths,
        backtest_coverage={int(h): float(g["inside"].mean()) for h, g in by_horizon},
        backtest_n={int(h): len(g) for h, g in by_horizon},
        backtest_origins={int(h): int(g["origin"].nunique()) for h, g in by_horizon},
        mae=mae,
        predictions=chosen,
    )


def forecast_cutoffs(
    history: pd.DataFrame,
    year: int,
    coverage: float = 0.8,
    cohort_size: pd.Series | None = None,
    max_score: float = 30.0,
) -> pd.DataFrame:
    """Forecast each school's NV1 regular-programme cut-off for ``year`` with an interval.

    Only history rows strictly before ``year`` are used: the level model and the interval
    come from :func:`calibrate_cutoffs` on them, the horizon being ``year`` minus the last
    history year.

    Parameters
    ----------
    history
        Cut-off history (see :func:`select_regular_nv1`).
    year
        Year to forecast.
    coverage
        Nominal coverage of the two-sided interval.
    cohort_size
        Optional candidates per year (see :func:`level_forecast`).
    max_score
        Scores are clipped to ``[0, max_score]``.

    Returns
    -------
    pandas.DataFrame
        :data:`FORECAST_COLUMNS`, one row per school with history: the band ``lower..upper``
        at ``nominal_coverage``, and next to it ``backtest_coverage``, the share of
        backtest cut-offs at that horizon its interval covered (leave-one-school-out,
        empty when the history is too short to measure it) over ``backtest_n`` of them.
    """
    clean = select_regular_nv1(history)
    past = clean[clean["year"] < year]
    if past.empty:
        raise InputError(Problem("history", None, "year", f"no history before {year}"))
    horizon = year - int(past["year"].max())
    calibration = calibrate_cutoffs(past, max(2, horizon), coverage, cohort_size, max_score)
    panel = fit_panel(past)
    model = calibration.model
    level = level_forecast(panel.year_effect, model, year, cohort_size)
    if level is None:  # the cohort of the target year is missing: the mean, and said so
        model, level = "mean", float(panel.year_effect.mean())
    width = calibration.width(horizon)
    predicted = np.clip(panel.school_effect.to_numpy() + level, 0.0, max_score)
    return pd.DataFrame(
        {
            "school_name": panel.school_effect.index,
            "year": year,
            "predicted_cutoff": np.round(predicted, 2),
            "lower": np.round(np.clip(predicted - width, 0.0, max_score), 2),
            "upper": np.round(np.clip(predicted + width, 0.0, max_score), 2),
            "horizon": horizon,
            "model": model,
            "nominal_coverage": coverage,
            "backtest_coverage": round(calibration.backtest_coverage.get(horizon, np.nan), 3),
            "backtest_n": calibration.backtest_n.get(horizon, 0),
        }
    )[FORECAST_COLUMNS]


def last_value_cutoffs(history: pd.DataFrame, year: int) -> pd.DataFrame:
    """Baseline: each school's most recent cut-off before ``year``."""
    clean = select_regular_nv1(history)
    past = clean[clean["year"] < year].sort_values("year")
    last = past.groupby("school_name", sort=True)["cutoff_score"].last()
    return pd.DataFrame(
        {"school_name": last.index, "year": year, "predicted_cutoff": last.to_numpy()}
    )


@dataclass(frozen=True)
class CutoffBacktest:
    """Errors of the cut-off forecast and of the last-value baseline on one held-out year."""

    year: int
    n_schools: int
    mae_model: float
    mae_last_value: float
    interval_coverage: float
    predictions: pd.DataFrame

    @property
    def ratio_to_baseline(self) -> float:
        """MAE of the model divided by MAE of the baseline (below 1 = better)."""
        return self.mae_model / self.mae_last_value if self.mae_last_value else float("nan")


def backtest_cutoffs(history: pd.DataFrame, year: int, coverage: float = 0.8) -> CutoffBacktest:
    """Forecast ``year`` from earlier years only and score against the actual cut-offs.

    Parameters
    ----------
    history
        Full cut-off history including ``year``.
    year
        Held-out year; schools without an actual value that year are not scored.
    coverage
        Nominal interval coverage.
    """
    clean = select_regular_nv1(history)
    actual = clean[clean["year"] == year][["school_name", "cutoff_score"]]
    model = forecast_cutoffs(clean[clean["year"] < year], year, coverage)
    naive = last_value_cutoffs(clean[clean["year"] < year], year)
    scored = model.merge(actual, on="school_name").merge(
        naive.rename(columns={"predicted_cutoff": "last_value"})[["school_name", "last_value"]],
        on="school_name",
    )
    if scored.empty:
        raise InputError(Problem("history", None, "year", f"no school has both {year} and history"))
    inside = (scored["cutoff_score"] >= scored["lower"]) & (
        scored["cutoff_score"] <= scored["upper"]
    )
    return CutoffBacktest(
        year=year,
        n_schools=len(scored),
        mae_model=float((scored["predicted_cutoff"] - scored["cutoff_score"]).abs().mean()),
        mae_last_value=float((scored["last_value"] - scored["cutoff_score"]).abs().mean()),
        interval_coverage=float(inside.mean()),
        predictions=scored,
    )


class ChanceBand(Enum):
    """A parent's chance of admission at a school, Vietnamese label first."""

    LIKELY = ("kha_nang_cao", "Khả năng cao", "Likely")
    POSSIBLE = ("co_the", "Có thể", "Possible")
    UNLIKELY = ("kha_nang_thap", "Khả năng thấp", "Unlikely")

    def __init__(self, code: str, label_vi: str, label_en: str) -> None:
        self.code = code
        self.label_vi = label_vi
        self.label_en = label_en

    @property
    def label(self) -> str:
        """Bilingual label, Vietnamese first: ``"Khả năng cao / Likely"``."""
        return f"{self.label_vi} / {self.label_en}"


def chance_band(score: float, lower: float, upper: float) -> ChanceBand:
    """Map an applicant's score to a chance band against a forecast cut-off interval.

    At or above the upper bound of the interval the applicant is likely admitted; below
    the lower bound, unlikely; in between, possible.

    Parameters
    ----------
    score
        The applicant's total (exam score plus bonus), same scale as the cut-offs.
    lower, upper
        Forecast interval of the school's cut-off.
    """
    if lower > upper:
        raise ValueError(f"lower ({lower}) is above upper ({upper})")
    if score >= upper:
        return ChanceBand.LIKELY
    if score >= lower:
        return ChanceBand.POSSIBLE
    return ChanceBand.UNLIKELY
