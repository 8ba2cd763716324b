"""Figures that describe an allocation, and a table comparing mechanisms on one input.

Justified envy is computed here from the priorities and the final assignment alone, without
reading anything a mechanism computed along the way, so it can judge any mechanism (and any
officer override).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from admissions.allocation import Allocation
from admissions.priority import UNLISTED, Priorities
from admissions.problem import AdmissionProblem

WITHIN_KM: tuple[int, ...] = (1, 2, 3)


def justified_envy(
    problem: AdmissionProblem,
    priorities: Priorities,
    assigned: NDArray[np.int32],
    choice_index: NDArray[np.int32],
) -> NDArray[np.bool_]:
    """Which applicants have justified envy.

    Applicant ``a`` has justified envy when she lists a school above the one she got (or she is
    unplaced) and that school either has a free seat or placed someone it ranks below her.
    Applicants placed at a school they did not list (officer overrides) are not counted as
    holding a ranked seat there.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``, ``True`` where the applicant has justified envy.
    """
    choices = problem.choices
    k = choices.shape[1]
    m = problem.n_schools
    pair_rank = priorities.pair_rank
    occupied = np.bincount(assigned[assigned >= 0], minlength=m)
    held = np.flatnonzero((assigned >= 0) & (choice_index >= 0))
    held_rank = pair_rank[held, choice_index[held]]
    worst_held = np.full(m, -1, dtype=np.int64)
    np.maximum.at(worst_held, assigned[held].astype(np.int64), held_rank)
    got = np.where(assigned >= 0, choice_index, k)
    got = np.where((assigned >= 0) & (choice_index < 0), k, got)
    above = (np.arange(k)[None, :] < got[:, None]) & (choices >= 0)
    school = np.where(above, choices, 0)
    free_seat = occupied[school] < problem.capacity[school]
    outranks = (pair_rank < worst_held[school]) & (pair_rank != UNLISTED)
    return np.asarray(np.any(above & (free_seat | outranks), axis=1), dtype=np.bool_)


def summary(problem: AdmissionProblem, allocation: Allocation) -> dict[str, Any]:
    """Headline figures of an allocation (JSON-compatible).

    Keys: applicants, placed, unplaced, placed_by_choice (``{"1": count, ...}``,
    ``"override"`` for officer placements off the list), distance mean/median/p90 in metres
    over placed applicants with a known distance, share within 1/2/3 km, total distance,
    justified envy count, distance kind, provenance.
    """
    placed = allocation.placed
    ranks = allocation.choice_index[placed]
    by_choice = {
        str(rank + 1): int(np.sum(ranks == rank)) for rank in range(problem.max_choices)
    }
    off_list = int(np.sum(ranks < 0))
    if off_list:
        by_choice["override"] = off_list
    distance = allocation.distance_m[placed]
    distance = distance[np.isfinite(distance)]
    envy = justified_envy(
        problem, allocation.priorities, allocation.assigned, allocation.choice_index
    )
    figures: dict[str, Any] = {
        "mechanism": allocation.mechanism,
        "grade": problem.grade,
        "applicants": problem.n_applicants,
        "placed": int(placed.sum()),
        "unplaced": int((~placed).sum()),
        "placed_by_choice": by_choice,
        "distance_kind": problem.distance_kind,
        "distance_known": int(distance.size),
    }
    if distance.size:
        figures["distance_mean_m"] = round(float(distance.mean()), 1)
        figures["distance_median_m"] = round(float(np.median(distance)), 1)
        figures["distance_p90_m"] = round(float(np.percentile(distance, 90)), 1)
        figures["distance_total_m"] = round(float(distance.sum()), 1)
        for km in WITHIN_KM:
            figures[f"share_within_{km}km"] = round(float(np.mean(distance <= km * 1000.0)), 4)
    figures["justified_envy"] = int(envy.sum())
    figures["provenance"] = allocation.provenance.as_dict()
    return figures


def comparison_table(
    problem: AdmissionProblem, allocations: Mapping[str, Allocation]
) -> pd.DataFrame:
    """One row per figure, one column per mechanism, on the same input."""
    columns: dict[str, dict[str, Any]] = {}
    for name, allocation in allocations.items():
        figures = summary(problem, allocation)
        row: dict[str, Any] = {
            "applicants": figures["applicants"],
            "placed": figures["placed"],
            "unplaced": figures["unplaced"],
        }
        for rank, count in figures["placed_by_choice"].items():
            row[f"placed_choice_{rank}"] = count
        for key in (
            "distance_mean_m", "distance_median_m", "distance_p90_m", "distance_total_m",
            *(f"share_within_{km}km" for km in WITHIN_KM),
        ):
            if key in figures:
                row[key] = figures[key]
        row["justified_envy"] = figures["justified_envy"]
        columns[name] = row
    index: list[str] = []
    for row in columns.values():
        index.extend(key for key in row if key not in index)
    names = list(columns)
    values = [[columns[name].get(key) for name in names] for key in index]
    # object dtype keeps counts as integers next to the float figures
    return pd.DataFrame(values, index=index, columns=names, dtype=object)
