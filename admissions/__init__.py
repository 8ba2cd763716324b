"""Admissions: allocation of grade 1, 6 and 10 places.

The mechanisms and their figures are pure functions on arrays; :mod:`admissions.service`
(actions) and :mod:`admissions.queries` (reads) keep rounds in PostGIS around them.

Mechanisms, as parameter objects: student-proposing deferred acceptance
(:class:`DeferredAcceptance`, ``da``), the HCMC rank-round rule (:class:`RankRounds`,
``hcmc``) and minimum total travel (:class:`MinCost`, ``mincost``). Every result carries
readable reasons, cut-offs, metrics and the provenance needed to reproduce it.

The public names below are imported on first use (PEP 562), so that importing one
submodule, or starting the ``edugis`` command, does not load numba, scipy and pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis_service.lazy import lazy_names

if TYPE_CHECKING:
    from admissions.allocation import MECHANISMS, Allocation, allocate, assigned_distance
    from admissions.deferred_acceptance import deferred_acceptance, serial_dictatorship
    from admissions.distance import DistanceSource, StraightLine, haversine_m
    from admissions.explain import RESULT_COLUMNS, Reasons, explain, result_frame, school_cutoffs
    from admissions.files import admitting_schools, build_problem, read_applicants, read_schools
    from admissions.mechanisms import (
        DeferredAcceptance,
        Mechanism,
        MinCost,
        RankRounds,
        mechanism_from,
    )
    from admissions.metrics import comparison_table, justified_envy, summary
    from admissions.min_cost import min_cost_assignment
    from admissions.overrides import Override, apply_overrides
    from admissions.priority import Priorities, draw_lottery, school_priorities
    from admissions.problem import LEVEL_OF_GRADE, AdmissionProblem
    from admissions.provenance import Provenance, code_version, problem_checksum
    from admissions.rank_rounds import penalised_rank_rule, rank_rounds
    from admissions.second_round import seats_left, second_round

__all__ = [
    "LEVEL_OF_GRADE",
    "MECHANISMS",
    "RESULT_COLUMNS",
    "AdmissionProblem",
    "Allocation",
    "DeferredAcceptance",
    "DistanceSource",
    "Mechanism",
    "MinCost",
    "Override",
    "Priorities",
    "Provenance",
    "RankRounds",
    "Reasons",
    "StraightLine",
    "admitting_schools",
    "allocate",
    "apply_overrides",
    "assigned_distance",
    "build_problem",
    "code_version",
    "comparison_table",
    "deferred_acceptance",
    "draw_lottery",
    "explain",
    "haversine_m",
    "justified_envy",
    "mechanism_from",
    "min_cost_assignment",
    "penalised_rank_rule",
    "problem_checksum",
    "rank_rounds",
    "read_applicants",
    "read_schools",
    "result_frame",
    "school_cutoffs",
    "school_priorities",
    "seats_left",
    "second_round",
    "serial_dictatorship",
    "summary",
]

#: The submodule defining each public name.
_SOURCES: dict[str, str] = {
    **dict.fromkeys(("MECHANISMS", "Allocation", "allocate", "assigned_distance"),
                    "admissions.allocation"),
    **dict.fromkeys(("deferred_acceptance", "serial_dictatorship"),
                    "admissions.deferred_acceptance"),
    **dict.fromkeys(("DistanceSource", "StraightLine", "haversine_m"), "admissions.distance"),
    **dict.fromkeys(("RESULT_COLUMNS", "Reasons", "explain", "result_frame", "school_cutoffs"),
                    "admissions.explain"),
    **dict.fromkeys(("admitting_schools", "build_problem", "read_applicants", "read_schools"),
                    "admissions.files"),
    **dict.fromkeys(("comparison_table", "justified_envy", "summary"), "admissions.metrics"),
    **dict.fromkeys(("DeferredAcceptance", "Mechanism", "MinCost", "RankRounds", "mechanism_from"),
                    "admissions.mechanisms"),
    "min_cost_assignment": "admissions.min_cost",
    **dict.fromkeys(("Override", "apply_overrides"), "admissions.overrides"),
    **dict.fromkeys(("Priorities", "draw_lottery", "school_priorities"), "admissions.priority"),
    **dict.fromkeys(("LEVEL_OF_GRADE", "AdmissionProblem"), "admissions.problem"),
    **dict.fromkeys(("Provenance", "code_version", "problem_checksum"), "admissions.provenance"),
    **dict.fromkeys(("penalised_rank_rule", "rank_rounds"), "admissions.rank_rounds"),
    **dict.fromkeys(("seats_left", "second_round"), "admissions.second_round"),
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_names(__name__, _SOURCES)
