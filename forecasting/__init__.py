"""Demand forecasting and planning: enrolment projections, cut-offs, seat gaps, siting.

The names below are pure computations on arrays and data frames; the submodules
``service`` (read, compute, store in one transaction) and ``queries`` (reads of the stored
results) are the thin database layer around them, and ``cli`` the commands.

The public names below are imported on first use (PEP 562), so that importing one
submodule, or starting the ``edugis`` command, does not load pandas, scikit-learn or OR-Tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis_service.lazy import lazy_names

if TYPE_CHECKING:
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
    from forecasting.siting import (
        MODELS,
        MaxCoverage,
        PMedian,
        SitingModel,
        SitingProblem,
        SitingResult,
        best_of,
        siting_model,
        siting_summary,
        solve_exact,
        solve_heuristic,
    )
    from gis_service.levels import LEVELS, SchoolLevel

__all__ = [
    "LEVELS",
    "MODELS",
    "BacktestReport",
    "ChanceBand",
    "CohortModel",
    "CutoffBacktest",
    "EnrolmentData",
    "MaxCoverage",
    "PMedian",
    "SchoolLevel",
    "SitingModel",
    "SitingProblem",
    "SitingResult",
    "advance_cohorts",
    "backtest_cutoffs",
    "backtest_scores",
    "best_of",
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
    "siting_model",
    "siting_summary",
    "solve_exact",
    "solve_heuristic",
    "two_step_fca",
    "ward_enrolment",
]

#: The submodule defining each public name.
_SOURCES: dict[str, str] = {
    **dict.fromkeys(("capacity_gaps", "two_step_fca"), "forecasting.accessibility"),
    **dict.fromkeys(("BacktestReport", "backtest_scores", "forecast_enrolment",
                     "rolling_origin_backtest", "run_backtest"), "forecasting.backtest"),
    "challenger_forecast": "forecasting.challenger",
    **dict.fromkeys(("CohortModel", "advance_cohorts", "fit_cohort_model", "project_population"),
                    "forecasting.cohort"),
    **dict.fromkeys(("ChanceBand", "CutoffBacktest", "backtest_cutoffs", "chance_band",
                     "forecast_cutoffs"), "forecasting.cutoffs"),
    **dict.fromkeys(("EnrolmentData", "cohort_forecast", "naive_forecast", "ward_enrolment"),
                    "forecasting.enrolment"),
    **dict.fromkeys(("LEVELS", "SchoolLevel"), "gis_service.levels"),
    **dict.fromkeys(("MODELS", "MaxCoverage", "PMedian", "SitingModel", "SitingProblem",
                     "SitingResult", "best_of", "siting_model", "siting_summary", "solve_exact",
                     "solve_heuristic"), "forecasting.siting"),
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_names(__name__, _SOURCES)
