"""The HCMC rank-round rule, today's practice, for comparison with deferred acceptance.

Strict rule (the default): a school first fills its seats from applicants who listed it as
NV1, best priority first; the applicants it could not take move on to their NV2, where each
school fills the seats it has left from its NV2 applicants, and so on. An admission is final
as soon as it is made (the "immediate acceptance" or Boston mechanism). Listing a popular
school first therefore costs an applicant her chances at schools she lists second.

With score penalties (grade 10), a school ranks an applicant who listed it as choice ``j+1``
by ``score + bonus - penalty[j]`` and admissions are tentative until the end (deferred
acceptance on the penalised scores). This is the "NV2 cut-off at least 1 point above NV1"
rule: with penalties ``(0, 1, 2)`` an NV2 applicant needs one point more than an NV1
applicant to take the same seat. Penalties larger than the score range give back the strict
rule exactly (tested in ``tests/admissions``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from admissions.deferred_acceptance import deferred_acceptance


def rank_rounds(
    choices: NDArray[np.int32],
    pair_rank: NDArray[np.int64],
    capacity: NDArray[np.int64],
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Run the strict rank-round rule (immediate acceptance).

    Parameters
    ----------
    choices, pair_rank, capacity
        As for :func:`admissions.deferred_acceptance.deferred_acceptance`.

    Returns
    -------
    assigned, choice_index
        School index and 0-based choice index per applicant (``-1`` when unplaced).
    """
    choices = np.asarray(choices, dtype=np.int32)
    n, k = choices.shape
    seats_left = np.asarray(capacity, dtype=np.int64).copy()
    assigned = np.full(n, -1, dtype=np.int32)
    choice_index = np.full(n, -1, dtype=np.int32)
    for j in range(k):
        applying = np.flatnonzero((assigned < 0) & (choices[:, j] >= 0))
        if applying.size == 0:
            continue
        school = choices[applying, j].astype(np.int64)
        order = np.lexsort((pair_rank[applying, j], school))
        applying, school = applying[order], school[order]
        # position of each applicant among this round's applicants to the same school
        group_start = np.r_[0, np.flatnonzero(np.diff(school)) + 1]
        group_size = np.diff(np.r_[group_start, school.size])
        position = np.arange(school.size) - np.repeat(group_start, group_size)
        admitted = position < seats_left[school]
        assigned[applying[admitted]] = school[admitted].astype(np.int32)
        choice_index[applying[admitted]] = j
        seats_left -= np.bincount(school[admitted], minlength=seats_left.size)
    return assigned, choice_index


def penalised_rank_rule(
    choices: NDArray[np.int32],
    penalised_pair_rank: NDArray[np.int64],
    capacity: NDArray[np.int64],
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Run the rule with finite score penalties per rank.

    ``penalised_pair_rank`` must order applicants at each school by the penalised score (see
    :func:`admissions.priority.school_priorities` with ``rank_penalties``).
    """
    return deferred_acceptance(choices, penalised_pair_rank, capacity)
