"""Grade-10 cut-off scores (điểm chuẩn): forecast per school, interval, and the chance band.

The model is a two-way additive panel: ``cutoff[s, t] = school[s] + year[t] + noise``.
The school effect is the school's mean deviation from the yearly level (how selective it
is); the year effect moves every school together (exam difficulty, cohort size). Exam
difficulty is not predictable from the past, so the next year's level is forecast as the
mean of past levels, unless cohort sizes are given (at least three years), in which case
the level is regressed on the log of the cohort size. The interval adds the spread of
past yearly levels to the within-school noise (normal approximation).
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
FORECAST_COLUMNS = ["school_name", "year", "predicted_cutoff", "lower", "upper"]
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


def forecast_year_level(
    panel: CutoffPanel, cohort_size: pd.Series | None = None, year: int | None = None
) -> float:
    """Forecast the city-wide level of the cut-offs for ``year``.

    Parameters
    ----------
    panel
        Fitted decomposition.
    cohort_size
        Optional grade-9 cohort (candidates) per year, including ``year``. Used only when it
        covers at least three history years, as a log-linear regressor of the yearly level.
    year
        Target year (needed with ``cohort_size``).
    """
    levels = panel.year_effect
    if cohort_size is not None and year is not None and year in cohort_size.index:
        known = [y for y in levels.index if y in cohort_size.index]
        if len(known) >= 3:
            x = np.log(cohort_size.loc[known].to_numpy(dtype=float))
            slope, intercept = np.polyfit(x, levels.loc[known].to_numpy(dtype=float), 1)
            return float(intercept + slope * np.log(float(cohort_size.loc[year])))
    return float(levels.mean())


def forecast_cutoffs(
    history: pd.DataFrame,
    year: int,
    coverage: float = 0.8,
    cohort_size: pd.Series | None = None,
    max_score: float = 30.0,
) -> pd.DataFrame:
    """Forecast each school's NV1 regular-programme cut-off for ``year`` with an interval.

    Only history rows strictly before ``year`` are used.

    Parameters
    ----------
    history
        Cut-off history (see :func:`select_regular_nv1`).
    year
        Year to forecast.
    coverage
        Nominal coverage of the two-sided interval.
    cohort_size
        Optional candidates per year (see :func:`forecast_year_level`).
    max_score
        Scores are clipped to ``[0, max_score]``.

    Returns
    -------
    pandas.DataFrame
        ``school_name, year, predicted_cutoff, lower, upper``, one row per school with history.
    """
    clean = select_regular_nv1(history)
    past = clean[clean["year"] < year]
    if past.empty:
        raise InputError(Problem("history", None, "year", f"no history before {year}"))
    panel = fit_panel(past)
    level = forecast_year_level(panel, cohort_size, year)
    n_years = len(panel.year_effect)
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    years_seen = panel.years_per_school.to_numpy(dtype=float)
    sd = np.sqrt(
        panel.year_sd**2 * (1 + 1 / n_years) + panel.within_sd**2 * (1 + 1 / years_seen)
    )
    predicted = np.clip(panel.school_effect.to_numpy() + level, 0.0, max_score)
    return pd.DataFrame(
        {
            "school_name": panel.school_effect.index,
            "year": year,
            "predicted_cutoff": np.round(predicted, 2),
            "lower": np.round(np.clip(predicted - z * sd, 0.0, max_score), 2),
            "upper": np.round(np.clip(predicted + z * sd, 0.0, max_score), 2),
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
