"""Student-proposing deferred acceptance (Gale-Shapley) with school priorities.

The mechanism is stable (no applicant prefers a school that has a free seat or holds someone
it ranks lower) and strategy-proof for applicants: listing schools in true order is never worse
than any other list.

Fast path
---------
When every school orders applicants by the same ranking (grade 10: score + bonus, one
lottery), deferred acceptance gives exactly the outcome of serial dictatorship in that order:
the best-ranked applicant can never be displaced, so she gets her best school with a seat,
and by induction so does every next applicant among the seats that remain. The fast path is
taken only when the caller passes such a common ranking; ``tests/admissions`` check the
equality on random problems.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from admissions._kernels import deferred_acceptance_kernel, serial_dictatorship_kernel


def deferred_acceptance(
    choices: NDArray[np.int32],
    pair_rank: NDArray[np.int64],
    capacity: NDArray[np.int64],
    common_rank: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Run student-proposing deferred acceptance.

    Parameters
    ----------
    choices
        Shape ``(n, k)``: school index of each applicant's choices in order, ``-1`` padded.
    pair_rank
        Shape ``(n, k)``: rank of the applicant at the school of that choice (lower is
        better, strict within a school).
    capacity
        Shape ``(m,)``: seats per school.
    common_rank
        Shape ``(n,)``: if given, every school ranks applicants in this one order and
        ``pair_rank[a, j] == common_rank[a]`` for every listed pair; serial dictatorship is
        then used (same outcome, fewer steps).

    Returns
    -------
    assigned : numpy.ndarray
        Shape ``(n,)``: school index per applicant, ``-1`` when unplaced.
    choice_index : numpy.ndarray
        Shape ``(n,)``: 0-based index into the applicant's choices, ``-1`` when unplaced.
    """
    choices = np.ascontiguousarray(choices, dtype=np.int32)
    capacity = np.ascontiguousarray(capacity, dtype=np.int64)
    if choices.shape[0] == 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32)
    if common_rank is not None:
        order = np.empty_like(common_rank)
        order[common_rank] = np.arange(common_rank.size, dtype=np.int64)
        return serial_dictatorship_kernel(choices, order, capacity)
    pair_rank = np.ascontiguousarray(pair_rank, dtype=np.int64)
    return deferred_acceptance_kernel(choices, pair_rank, capacity)


def serial_dictatorship(
    choices: NDArray[np.int32], common_rank: NDArray[np.int64], capacity: NDArray[np.int64]
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Serve applicants best-ranked first, each taking the first listed school with a seat.

    ``common_rank`` must be a permutation of ``0..n-1`` (0 = served first).
    """
    choices = np.ascontiguousarray(choices, dtype=np.int32)
    order = np.empty_like(common_rank)
    order[common_rank] = np.arange(common_rank.size, dtype=np.int64)
    return serial_dictatorship_kernel(
        choices, order, np.ascontiguousarray(capacity, dtype=np.int64)
    )
