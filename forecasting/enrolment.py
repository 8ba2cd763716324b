"""Enrolment by ward and level: entry ratios and grade progression ratios on the cohort model.

Entry-grade enrolment is the projected population at the level's entry age times the
ward's entry ratio (``E[t, entry] / P[t, entry_age]``: it absorbs private schooling and
children crossing ward lines); every later grade is the previous grade a year earlier
times its grade progression ratio (``E[t+1, g+1] / E[t, g]``: repetition, drop-out,
transfers). Both ratios are the ratio of sums over the last ``window_years`` years, shrunk
toward the city-wide ratio with a prior weight in students.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting._panel import Panel, require_columns, to_panel
from forecasting.cohort import fit_cohort_model, project_array
from forecasting.vocabulary import Measure
from gis_service.errors import InputError, Problem
from gis_service.levels import ALL_GRADES, LEVELS

FloatArray = npt.NDArray[np.float64]
MEASURES: tuple[Measure, ...] = ("entry", "total")
FORECAST_COLUMNS = ["ward_code", "level", "measure", "year", "horizon", "predicted"]


@dataclass(frozen=True)
class EnrolmentData:
    """Everything an enrolment forecast reads: ward-level frames and optional ward areas."""

    population: pd.DataFrame
    births: pd.DataFrame
    enrolment: pd.DataFrame
    ward_area_km2: pd.Series | None = None

    @property
    def last_year(self) -> int:
        """Last year with both population and enrolment."""
        return int(min(self.population["year"].max(), self.enrolment["year"].max()))

    @property
    def first_year(self) -> int:
        """First year with both population and enrolment."""
        return int(max(self.population["year"].min(), self.enrolment["year"].min()))

    def truncate(self, last_year: int) -> EnrolmentData:
        """Return the same data without any row after ``last_year`` (what a forecaster then knew)."""
        return replace(
            self,
            population=self.population[self.population["year"] <= last_year],
            births=self.births[self.births["year"] <= last_year],
            enrolment=self.enrolment[self.enrolment["year"] <= last_year],
        )


def ward_enrolment(
    enrolment: pd.DataFrame, school_wards: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Aggregate enrolment to ``ward_code, year, grade, count``.

    Parameters
    ----------
    enrolment
        Either ward level (has ``ward_code``) or school level (``school_code``).
    school_wards
        ``school_code, ward_code``; needed for school-level input without ``ward_code``.
    """
    require_columns(enrolment, ["year", "grade", "count"], "enrolment")
    frame = enrolment
    if "ward_code" not in frame.columns:
        if "school_code" not in frame.columns or school_wards is None:
            raise InputError(
                Problem(
                    "enrolment", None, "ward_code", "need ward_code, or school_code with a school-ward table"
                )
            )
        require_columns(school_wards, ["school_code", "ward_code"], "school_wards")
        mapping = school_wards.assign(school_code=school_wards["school_code"].astype(str))
        frame = frame.assign(school_code=frame["school_code"].astype(str)).merge(
            mapping[["school_code", "ward_code"]], on="school_code", how="left"
        )
        unknown = frame["ward_code"].isna()
        if unknown.any():
            raise InputError(
                [
                    Problem("enrolment", int(i) + 1, "school_code", "school has no ward")
                    for i in np.flatnonzero(unknown.to_numpy())[:50]
                ]
            )
    grouped = frame.groupby(["ward_code", "year", "grade"], as_index=False)["count"].sum()
    return grouped.assign(ward_code=grouped["ward_code"].astype(str))


def _shrunk(numerator: FloatArray, denominator: FloatArray, prior: float) -> FloatArray:
    total = denominator.sum()
    city = numerator.sum() / total if total > 0 else 1.0
    return (numerator + prior * city) / (denominator + prior)


@dataclass(frozen=True)
class ProgressionModel:
    """Entry ratios per ward and level, progression ratios per ward and grade."""

    wards: list[str]
    base_year: int
    entry_ratio: dict[str, FloatArray]
    progression: dict[int, FloatArray]
    base_enrolment: FloatArray


def fit_progression(
    enrolment: Panel,
    population: Panel,
    base_year: int,
    window_years: int = 3,
    prior_students: float = 100.0,
) -> ProgressionModel:
    """Calibrate entry and grade progression ratios on the years up to ``base_year``.

    Parameters
    ----------
    enrolment
        ``wards x years x grades`` panel with keys :data:`ALL_GRADES`.
    population
        ``wards x years x ages`` panel on the same wards.
    base_year
        Forecast origin.
    window_years
        Most recent years used.
    prior_students
        Weight of the city-wide ratio, in students.
    """
    end = enrolment.year_index(base_year) + 1
    start = max(0, end - window_years)
    grade_at = {g: k for k, g in enumerate(enrolment.keys)}
    entry_ratio: dict[str, FloatArray] = {}
    progression: dict[int, FloatArray] = {}
    p_start = population.year_index(enrolment.years[start])
    p_end = population.year_index(base_year) + 1
    for level in LEVELS:
        students = enrolment.values[:, start:end, grade_at[level.entry_grade]]
        children = population.values[:, p_start:p_end, level.entry_age]
        ok = ~np.isnan(students) & ~np.isnan(children)
        entry_ratio[level.name] = _shrunk(
            np.where(ok, students, 0.0).sum(axis=1), np.where(ok, children, 0.0).sum(axis=1), prior_students
        )
        for grade in level.grades[1:]:
            later = enrolment.values[:, max(start, 1) : end, grade_at[grade]]
            earlier = enrolment.values[:, max(start, 1) - 1 : end - 1, grade_at[grade - 1]]
            ok = ~np.isnan(later) & ~np.isnan(earlier)
            if not ok.any():
                raise InputError(
                    Problem("enrolment", None, "year", "need two consecutive years to calibrate progression")
                )
            progression[grade] = _shrunk(
                np.where(ok, later, 0.0).sum(axis=1), np.where(ok, earlier, 0.0).sum(axis=1), prior_students
            )
    base = np.nan_to_num(enrolment.values[:, enrolment.year_index(base_year), :])
    return ProgressionModel(enrolment.wards, base_year, entry_ratio, progression, base)


def project_grades(model: ProgressionModel, population: FloatArray, horizon_years: int) -> FloatArray:
    """Project ``wards x (horizon + 1) x grades`` from projected population.

    Parameters
    ----------
    model
        Fitted ratios.
    population
        ``wards x (horizon + 1) x ages`` from :func:`forecasting.cohort.project_array`.
    horizon_years
        Years ahead.
    """
    grade_at = {g: k for k, g in enumerate(ALL_GRADES)}
    out = np.empty((len(model.wards), horizon_years + 1, len(ALL_GRADES)))
    out[:, 0, :] = model.base_enrolment
    for step in range(1, horizon_years + 1):
        for level in LEVELS:
            out[:, step, grade_at[level.entry_grade]] = (
                model.entry_ratio[level.name] * population[:, step, level.entry_age]
            )
            for grade in level.grades[1:]:
                out[:, step, grade_at[grade]] = (
                    model.progression[grade] * out[:, step - 1, grade_at[grade - 1]]
                )
    return out


def level_measures(wards: list[str], years: list[int], grades: FloatArray, base_year: int) -> pd.DataFrame:
    """Entry-grade and total enrolment per ward, level and year from a grade array.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FORECAST_COLUMNS`.
    """
    grade_at = {g: k for k, g in enumerate(ALL_GRADES)}
    parts = []
    for level in LEVELS:
        columns = [grade_at[g] for g in level.grades]
        for measure, values in (
            ("entry", grades[:, :, grade_at[level.entry_grade]]),
            ("total", grades[:, :, columns].sum(axis=2)),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "ward_code": np.repeat(wards, len(years)),
                        "level": level.name,
                        "measure": measure,
                        "year": np.tile(years, len(wards)),
                        "horizon": np.tile(np.asarray(years) - base_year, len(wards)),
                        "predicted": values.ravel(),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)[FORECAST_COLUMNS]


def enrolment_panel(data: EnrolmentData) -> Panel:
    """Ward-level enrolment as a panel over :data:`ALL_GRADES`."""
    return to_panel(ward_enrolment(data.enrolment), "grade", "count", "enrolment", keys=ALL_GRADES)


def cohort_forecast(data: EnrolmentData, origin: int, horizon_years: int) -> pd.DataFrame:
    """Forecast enrolment with the cohort-component model fitted on data up to ``origin``.

    Returns
    -------
    pandas.DataFrame
        :data:`FORECAST_COLUMNS` for horizons ``1..horizon_years``.
    """
    known = data.truncate(origin)
    cohort = fit_cohort_model(known.population, known.births, base_year=origin)
    enrolment = to_panel(
        ward_enrolment(known.enrolment), "grade", "count", "enrolment", wards=cohort.wards, keys=ALL_GRADES
    )
    if origin not in enrolment.years:
        raise InputError(Problem("enrolment", None, "year", f"no enrolment in {origin}"))
    population = to_panel(known.population, "age", "count", "population", wards=cohort.wards)
    missing = set(ward_enrolment(known.enrolment)["ward_code"]) - set(cohort.wards)
    if missing:
        raise InputError(
            Problem("population", None, "ward_code", f"no population for wards {sorted(missing)[:10]}")
        )
    progression = fit_progression(enrolment, population, origin)
    grades = project_grades(progression, project_array(cohort, horizon_years), horizon_years)
    years = [origin + h for h in range(horizon_years + 1)]
    frame = level_measures(cohort.wards, years, grades, origin)
    return frame[frame["horizon"] >= 1].reset_index(drop=True)


def naive_forecast(data: EnrolmentData, origin: int, horizon_years: int) -> pd.DataFrame:
    """Baseline: every future year equals the value at ``origin`` (last value carried)."""
    known = data.truncate(origin)
    enrolment = enrolment_panel(known)
    base = np.nan_to_num(enrolment.values[:, enrolment.year_index(origin), :])
    grades = np.repeat(base[:, None, :], horizon_years + 1, axis=1)
    years = [origin + h for h in range(horizon_years + 1)]
    frame = level_measures(enrolment.wards, years, grades, origin)
    return frame[frame["horizon"] >= 1].reset_index(drop=True)


def actual_measures(data: EnrolmentData) -> pd.DataFrame:
    """Observed entry and total enrolment per ward, level and year (``actual`` column)."""
    enrolment = enrolment_panel(data)
    frame = level_measures(enrolment.wards, enrolment.years, enrolment.values, enrolment.years[0])
    return frame.drop(columns="horizon").rename(columns={"predicted": "actual"})
