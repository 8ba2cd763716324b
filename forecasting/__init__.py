"""Demand forecasting and planning: enrolment projections, cut-offs, seat gaps, siting.

Pure computations on arrays and data frames; the database layer wraps them elsewhere.
"""

from forecasting.accessibility import capacity_gaps, two_step_fca
from forecasting.backtest import (
    BacktestReport,
    backtest_scores,
    forecast_enrolment,
    rolling_origin_backtest,
    run_backtest,
)
from forecasting.challenger import challenger_forecast
from forecasting.cohort import (
    CohortModel,
    advance_cohorts,
    fit_cohort_model,
    project_population,
)
from forecasting.cutoffs import (
    ChanceBand,
    CutoffBacktest,
    backtest_cutoffs,
    chance_band,
    forecast_cutoffs,
)
from forecasting.enrolment import (
    EnrolmentData,
    cohort_forecast,
    naive_forecast,
    ward_enrolment,
)
from forecasting.levels import LEVELS, SchoolLevel
from forecasting.siting import (
    SitingProblem,
    SitingResult,
    siting_summary,
    solve_exact,
    solve_heuristic,
)

__all__ = [
    "LEVELS",
    "BacktestReport",
    "ChanceBand",
    "CohortModel",
    "CutoffBacktest",
    "EnrolmentData",
    "SchoolLevel",
    "SitingProblem",
    "SitingResult",
    "advance_cohorts",
    "backtest_cutoffs",
    "backtest_scores",
    "capacity_gaps",
    "challenger_forecast",
    "chance_band",
    "cohort_forecast",
    "fit_cohort_model",
    "forecast_cutoffs",
    "forecast_enrolment",
    "naive_forecast",
    "project_population",
    "rolling_origin_backtest",
    "run_backtest",
    "siting_summary",
    "solve_exact",
    "solve_heuristic",
    "two_step_fca",
    "ward_enrolment",
]
