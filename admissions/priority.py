"""School priorities: how each school orders the applicants who list it.

A priority is turned into one integer per ``(applicant, choice)`` pair, ``pair_rank``: lower is
better, and two pairs at the same school never share a rank (ties are broken by one seeded
lottery, the same lottery at every school). Ranks are only comparable within a school.

When every school orders applicants the same way (grade 10 without rank penalties) the
priority is *common* and also given as one rank per applicant, ``common_rank``; deferred
acceptance then reduces to serial dictatorship (see :mod:`admissions.deferred_acceptance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from admissions.problem import AdmissionProblem

#: Rank given to pairs that are not listed (``choices == -1``).
UNLISTED = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Priorities:
    """School priorities of one problem under one seed.

    Parameters
    ----------
    pair_rank
        Shape ``(n, k)``; rank of applicant ``a`` at school ``choices[a, j]``, lower first;
        :data:`UNLISTED` where nothing is listed.
    common_rank
        Shape ``(n,)`` when all schools share one order, else ``None``.
    lottery
        Shape ``(n,)``; the seeded lottery number of each applicant (lower wins a tie).
    effective_score
        Shape ``(n, k)``; grade 10 only: the score a school compares (score + bonus minus the
        penalty of the rank at which the school was listed).
    """

    pair_rank: NDArray[np.int64]
    common_rank: NDArray[np.int64] | None
    lottery: NDArray[np.int64]
    effective_score: NDArray[np.float64] | None = None


def draw_lottery(n_applicants: int, seed: int) -> NDArray[np.int64]:
    """One lottery number per applicant: a permutation drawn with ``numpy`` from ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.permutation(n_applicants).astype(np.int64)


def school_priorities(
    problem: AdmissionProblem,
    seed: int,
    rank_penalties: Sequence[float] | None = None,
) -> Priorities:
    """Rank every ``(applicant, choice)`` pair at its school.

    Parameters
    ----------
    problem
        The admission problem.
    seed
        Seed of the lottery that breaks ties.
    rank_penalties
        Grade 10 only: points subtracted from the score of an applicant at a school listed as
        choice ``j+1`` (``rank_penalties[j]``). ``None`` or all zeros means no penalty.

    Returns
    -------
    Priorities
    """
    lottery = draw_lottery(problem.n_applicants, seed)
    choices = problem.choices
    n, k = choices.shape
    listed = choices >= 0
    rows, cols = np.nonzero(listed)
    school = choices[rows, cols].astype(np.int64)
    pair_rank = np.full((n, k), UNLISTED, dtype=np.int64)

    if problem.grade == 10:
        total = problem.total_score()
        penalties = _penalty_row(rank_penalties, k)
        effective = np.where(listed, total[:, None] - penalties[None, :], np.nan)
        if not np.any(penalties):
            order = np.lexsort((lottery, -total))
            common = np.empty(n, dtype=np.int64)
            common[order] = np.arange(n, dtype=np.int64)
            pair_rank[rows, cols] = common[rows]
            return Priorities(pair_rank, common, lottery, effective)
        order = np.lexsort((lottery[rows], -effective[rows, cols], school))
        pair_rank[rows[order], cols[order]] = np.arange(order.size, dtype=np.int64)
        return Priorities(pair_rank, None, lottery, effective)

    if rank_penalties is not None and any(rank_penalties):
        raise ValueError("rank penalties apply to grade 10 scores only")
    assert problem.tier is not None  # checked by AdmissionProblem
    # One integer key (school, tier, distance in whole millimetres) sorts twice as fast as
    # three float/int keys; distances equal to the millimetre are a tie for the lottery.
    distance_mm = np.rint(problem.distance_m[rows, cols] * 1000.0).astype(np.int64)
    if distance_mm.size and (distance_mm.min() < 0 or distance_mm.max() >= 1 << 31):
        raise ValueError("distances must be between 0 and 2,147 km")
    key = (school << 33) | (problem.tier[rows, cols].astype(np.int64) << 31) | distance_mm
    order = np.lexsort((lottery[rows], key))
    pair_rank[rows[order], cols[order]] = np.arange(order.size, dtype=np.int64)
    return Priorities(pair_rank, None, lottery, None)


def _penalty_row(rank_penalties: Sequence[float] | None, k: int) -> NDArray[np.float64]:
    penalties = np.zeros(k, dtype=np.float64)
    if rank_penalties is None:
        return penalties
    given = np.asarray(list(rank_penalties), dtype=np.float64)
    if given.size == 0:
        return penalties
    if given.size < k:
        # Later ranks keep the last penalty given, so (0, 1) means (0, 1, 1, ...).
        given = np.concatenate([given, np.full(k - given.size, given[-1])])
    if np.any(~np.isfinite(given)) or np.any(given < 0):
        raise ValueError("rank penalties must be finite and non-negative")
    penalties[:] = given[:k]
    return penalties
