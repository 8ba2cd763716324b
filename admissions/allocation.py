"""Run a mechanism on a problem and keep the result with its provenance.

:func:`allocate` is the one entry point the CLI and the service layer call; it runs a
mechanism of :mod:`admissions.mechanisms` (a parameter object), whose kernels
(:mod:`~admissions.deferred_acceptance`, :mod:`~admissions.rank_rounds`,
:mod:`~admissions.min_cost`) work on bare arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from admissions.mechanisms import (
    MECHANISMS,
    CostKind,
    Mechanism,
    MechanismName,
    mechanism_from,
)
from admissions.priority import Priorities, school_priorities
from admissions.problem import AdmissionProblem
from admissions.provenance import Provenance, code_version, problem_checksum

__all__ = ["MECHANISMS", "Allocation", "CostKind", "Mechanism", "MechanismName", "allocate",
           "assigned_distance"]


@dataclass(frozen=True)
class Allocation:
    """The outcome of one run.

    Parameters
    ----------
    mechanism
        Name of the mechanism that produced it.
    assigned
        Shape ``(n,)``: school index per applicant, ``-1`` when unplaced.
    choice_index
        Shape ``(n,)``: 0-based index of the assigned school in the applicant's list; ``-1``
        when unplaced or when an officer placed the applicant at a school not listed.
    distance_m
        Shape ``(n,)``: travel distance to the assigned school, NaN when unplaced or unknown.
    priorities
        The schools' priorities used to judge the result (score/tier, distance, lottery),
        without rank penalties.
    admission_priorities
        The priorities the mechanism admitted by (differs from ``priorities`` only for the
        HCMC rule with rank penalties); cut-offs are read from these.
    provenance
        Input checksum, seed, parameters, code version.
    overrides
        Officer decisions: applicant index -> written reason.
    """

    mechanism: str
    assigned: NDArray[np.int32]
    choice_index: NDArray[np.int32]
    distance_m: NDArray[np.float64]
    priorities: Priorities
    admission_priorities: Priorities
    provenance: Provenance
    overrides: dict[int, str] = field(default_factory=dict)

    @property
    def placed(self) -> NDArray[np.bool_]:
        """Whether each applicant has a school."""
        return self.assigned >= 0

    def admitted_count(self, n_schools: int) -> NDArray[np.int64]:
        """Applicants placed at each school."""
        return np.bincount(self.assigned[self.placed], minlength=n_schools).astype(np.int64)


def allocate(
    problem: AdmissionProblem,
    mechanism: Mechanism | MechanismName,
    seed: int = 0,
) -> Allocation:
    """Allocate seats with one mechanism.

    Parameters
    ----------
    problem
        Applicants, schools, choices and priorities.
    mechanism
        A mechanism with its parameters (:class:`~admissions.mechanisms.DeferredAcceptance`,
        :class:`~admissions.mechanisms.RankRounds`, :class:`~admissions.mechanisms.MinCost`),
        or a name of :data:`MECHANISMS` for the mechanism with its defaults.
    seed
        Seed of the lottery that breaks priority ties.

    Returns
    -------
    Allocation

    Raises
    ------
    ValueError
        For an unknown name, or input the mechanism cannot run on (``mincost`` without
        homes).
    """
    chosen = mechanism_from(mechanism) if isinstance(mechanism, str) else mechanism
    priorities = school_priorities(problem, seed)
    assigned, choice_index, used = chosen.assign(problem, seed, priorities)
    provenance = Provenance(
        input_sha256=problem_checksum(problem),
        seed=int(seed),
        mechanism=chosen.name,
        parameters={"grade": problem.grade, **chosen.parameters()},
        code_version=code_version(),
    )
    return Allocation(
        mechanism=chosen.name,
        assigned=assigned,
        choice_index=choice_index,
        distance_m=assigned_distance(problem, assigned, choice_index),
        priorities=priorities,
        admission_priorities=used,
        provenance=provenance,
    )


def assigned_distance(
    problem: AdmissionProblem, assigned: NDArray[np.int32], choice_index: NDArray[np.int32]
) -> NDArray[np.float64]:
    """Distance of each applicant to the school at ``choice_index`` (NaN when none)."""
    distance = np.full(assigned.shape[0], np.nan, dtype=np.float64)
    rows = np.flatnonzero((assigned >= 0) & (choice_index >= 0))
    distance[rows] = problem.distance_m[rows, choice_index[rows]]
    return distance
