"""The admission problem: applicants, schools, choices and priorities as arrays.

An :class:`AdmissionProblem` is what every mechanism takes. It is built from files
(:mod:`admissions.files`) or from a stored round (:func:`admissions.service.load_problem`);
the mechanisms never see a file or a session.

Conventions
-----------
- Schools are indexed ``0..n_schools-1``; applicants ``0..n_applicants-1`` in input order.
- ``choices[a, j]`` is the school index of applicant ``a``'s ``(j+1)``-th choice, ``-1`` for
  none. Choices form a prefix: no ``-1`` before a real choice, no school twice.
- ``distance_m[a, j]`` / ``time_s[a, j]`` belong to the pair ``(a, choices[a, j])``; NaN when
  unknown (e.g. grade 10 without home coordinates).
- Grade 1/6 rank applicants at a school by ``tier[a, j]`` (1 = permanent residence in the
  catchment, 2 = temporary residence, 3 = others), then ``distance_m[a, j]`` (to the
  millimetre), then the lottery.
  The tier is per pair because a catchment belongs to a school.
- Grade 10 ranks by ``score + bonus``, then the lottery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gis_service.levels import ENTRY_GRADES, LEVELS

DistanceKind = Literal["road", "straight_line", "none"]
PreferenceKind = Literal["stated", "nearest"]

#: School level admitting each entry grade (from :mod:`gis_service.levels`).
LEVEL_OF_GRADE: dict[int, str] = {level.entry_grade: level.name for level in LEVELS}
GRADES: tuple[int, ...] = ENTRY_GRADES
TIERS: tuple[int, ...] = (1, 2, 3)


@dataclass(frozen=True)
class AdmissionProblem:
    """Everything a mechanism needs, as aligned arrays.

    Parameters
    ----------
    grade
        Entry grade: 1 and 6 are residence-based, 10 is score-based.
    applicant_ids
        Identifier of each applicant, shape ``(n,)``.
    school_codes, school_names
        Code and name of each school, shape ``(m,)``.
    capacity
        Seats per school for this grade, shape ``(m,)``, non-negative.
    choices
        School index per applicant and preference rank, shape ``(n, k)``, ``-1`` padded.
    distance_m, time_s
        Travel distance and time for each ``(applicant, choice)`` pair, shape ``(n, k)``.
    distance_kind
        ``"road"`` when distances come from the road network, ``"straight_line"`` for
        haversine distances (must be shown as such to people), ``"none"`` when unknown.
    preference_kind
        ``"stated"`` when applicants ranked schools themselves, ``"nearest"`` when the list is
        the default "nearest school first" list.
    tier
        Priority tier per pair, shape ``(n, k)``; required for grades 1 and 6.
    score, bonus
        Exam score and bonus points per applicant, shape ``(n,)``; required for grade 10.
    offroad
        Per applicant, shape ``(n,)``: the home is too far from every road, so its distances
        are straight-line at the off-road speed (:class:`admissions.road_distance.RoadNetwork`).
    """

    grade: int
    applicant_ids: NDArray[np.str_]
    school_codes: NDArray[np.str_]
    school_names: NDArray[np.str_]
    capacity: NDArray[np.int64]
    choices: NDArray[np.int32]
    distance_m: NDArray[np.float64]
    time_s: NDArray[np.float64]
    distance_kind: DistanceKind = "none"
    preference_kind: PreferenceKind = "stated"
    tier: NDArray[np.int8] | None = None
    score: NDArray[np.float64] | None = None
    bonus: NDArray[np.float64] | None = None
    offroad: NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        """Refuse an inconsistent problem (see :func:`check_problem`)."""
        check_problem(self)

    @property
    def n_applicants(self) -> int:
        """Number of applicants."""
        return int(self.choices.shape[0])

    @property
    def n_schools(self) -> int:
        """Number of schools."""
        return int(self.capacity.shape[0])

    @property
    def max_choices(self) -> int:
        """Length of the longest preference list the arrays can hold."""
        return int(self.choices.shape[1])

    def total_score(self) -> NDArray[np.float64]:
        """Score plus bonus per applicant (grade 10)."""
        if self.score is None:
            raise ValueError(f"grade {self.grade} problem has no scores")
        bonus = self.bonus if self.bonus is not None else np.zeros_like(self.score)
        return np.asarray(self.score + bonus, dtype=np.float64)

    def with_capacity(self, capacity: NDArray[np.int64]) -> AdmissionProblem:
        """Return the same problem with other capacities (e.g. the seats left for round 2)."""
        return _replace(self, capacity=np.asarray(capacity, dtype=np.int64))

    def subset(self, applicants: NDArray[np.intp]) -> AdmissionProblem:
        """Return the problem restricted to some applicants, in the given order."""
        idx = np.asarray(applicants, dtype=np.intp)
        return _replace(
            self,
            applicant_ids=self.applicant_ids[idx],
            choices=self.choices[idx],
            distance_m=self.distance_m[idx],
            time_s=self.time_s[idx],
            tier=None if self.tier is None else self.tier[idx],
            score=None if self.score is None else self.score[idx],
            bonus=None if self.bonus is None else self.bonus[idx],
            offroad=None if self.offroad is None else self.offroad[idx],
        )


def _replace(problem: AdmissionProblem, **changes: object) -> AdmissionProblem:
    values = {
        name: getattr(problem, name)
        for name in problem.__dataclass_fields__
    }
    values.update(changes)
    return AdmissionProblem(**values)


def check_problem(problem: AdmissionProblem) -> None:
    """Refuse arrays that do not fit together (programming errors, not bad files).

    Raises
    ------
    ValueError
        On mismatched shapes, a choice list that is not a prefix, a school listed twice, a
        negative capacity, or a missing tier/score for the grade.
    """
    if problem.grade not in GRADES:
        raise ValueError(f"grade must be one of {GRADES}, not {problem.grade}")
    n = _check_shapes(problem)
    listed = _check_choice_lists(problem.choices, problem.capacity.shape[0])
    if problem.grade in (1, 6):
        _check_residence_priorities(problem, listed)
    else:
        _check_scores(problem)
    if len(set(problem.applicant_ids.tolist())) != n:
        raise ValueError("applicant ids must be unique")
    if len(set(problem.school_codes.tolist())) != problem.capacity.shape[0]:
        raise ValueError("school codes must be unique")


def _check_shapes(problem: AdmissionProblem) -> int:
    """Refuse arrays whose shapes do not match ``choices``; return the number of applicants."""
    n, k = problem.choices.shape if problem.choices.ndim == 2 else (-1, -1)
    if n < 0:
        raise ValueError("choices must be a 2-D array (applicants x ranks)")
    m = problem.capacity.shape[0]
    if problem.applicant_ids.shape != (n,):
        raise ValueError("applicant_ids must have one entry per applicant")
    if problem.school_codes.shape != (m,) or problem.school_names.shape != (m,):
        raise ValueError("school_codes and school_names must have one entry per school")
    for name in ("distance_m", "time_s"):
        if getattr(problem, name).shape != (n, k):
            raise ValueError(f"{name} must have the shape of choices {(n, k)}")
    if problem.offroad is not None and problem.offroad.shape != (n,):
        raise ValueError("offroad must have one entry per applicant")
    if np.any(problem.capacity < 0):
        raise ValueError("capacity must be non-negative")
    return int(n)


def _check_choice_lists(choices: NDArray[np.int32], m: int) -> NDArray[np.bool_]:
    """Refuse choices that are not prefixes of distinct school indices; return the listed mask."""
    k = choices.shape[1]
    if choices.size and (choices.min() < -1 or choices.max() >= m):
        raise ValueError("choices must be school indices or -1")
    listed = choices >= 0
    if k > 1 and np.any(~listed[:, :-1] & listed[:, 1:]):
        raise ValueError("choices must be a prefix: no gap before a later choice")
    if k > 1:
        ordered = np.sort(np.where(listed, choices, -1 - np.arange(k)), axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            raise ValueError("an applicant lists the same school twice")
    return listed


def _check_residence_priorities(problem: AdmissionProblem, listed: NDArray[np.bool_]) -> None:
    """Refuse a grade 1/6 problem without a valid tier and a distance for every listed pair."""
    if problem.tier is None or problem.tier.shape != problem.choices.shape:
        raise ValueError("grades 1 and 6 need a tier per (applicant, choice) pair")
    if np.any(listed & ~np.isin(problem.tier, TIERS)):
        raise ValueError("tier must be 1, 2 or 3")
    if np.any(listed & np.isnan(problem.distance_m)):
        raise ValueError("grades 1 and 6 need a distance for every listed school")


def _check_scores(problem: AdmissionProblem) -> None:
    """Refuse a grade 10 problem without a finite score (plus bonus) per applicant."""
    n = problem.choices.shape[0]
    if problem.score is None or problem.score.shape != (n,):
        raise ValueError("grade 10 needs a score per applicant")
    if problem.bonus is not None and problem.bonus.shape != (n,):
        raise ValueError("bonus must have one entry per applicant")
    if np.any(~np.isfinite(problem.total_score())):
        raise ValueError("scores must be finite")
