"""Round 2: allocate the seats left after round 1 to applicants still without a school.

Round-2 applicants usually state new choices among the schools with seats left (HCMC's
"tuyển bổ sung"), so round 2 takes its own :class:`~admissions.problem.AdmissionProblem` over
the same schools; :func:`seats_left` gives its capacities.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from admissions.allocation import Allocation, Mechanism, MechanismName, allocate
from admissions.problem import AdmissionProblem


def seats_left(problem: AdmissionProblem, allocation: Allocation) -> NDArray[np.int64]:
    """Capacity minus placed applicants per school (never below zero)."""
    left = problem.capacity - allocation.admitted_count(problem.n_schools)
    return np.asarray(np.maximum(left, 0), dtype=np.int64)


def second_round(
    first_problem: AdmissionProblem,
    first: Allocation,
    round_two: AdmissionProblem,
    mechanism: Mechanism | MechanismName = "da",
    seed: int = 0,
) -> Allocation:
    """Run ``mechanism`` on ``round_two`` with the seats round 1 left.

    Parameters
    ----------
    first_problem, first
        Round 1's input and (possibly overridden) result.
    round_two
        Round-2 applicants and their new choices, over the same schools in the same order;
        its capacities are ignored and replaced by the seats left.
    mechanism, seed
        As for :func:`admissions.allocation.allocate`.

    Raises
    ------
    ValueError
        When the schools differ or an applicant placed in round 1 applies again.
    """
    if not np.array_equal(first_problem.school_codes, round_two.school_codes):
        raise ValueError("round 2 must use the schools of round 1, in the same order")
    placed_ids = set(first_problem.applicant_ids[first.placed].tolist())
    again = [a for a in round_two.applicant_ids.tolist() if a in placed_ids]
    if again:
        raise ValueError(
            f"{len(again)} applicant(s) already placed in round 1 apply again, e.g. {again[:5]}"
        )
    problem = round_two.with_capacity(seats_left(first_problem, first))
    result = allocate(problem, mechanism, seed)
    parameters = dict(result.provenance.parameters)
    parameters["round"] = 2
    parameters["round_one_input_sha256"] = first.provenance.input_sha256
    return replace(result, provenance=replace(result.provenance, parameters=parameters))
