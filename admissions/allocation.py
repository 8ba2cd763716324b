"""Run a mechanism on a problem and keep the result with its provenance.

:func:`allocate` is the one entry point the CLI and the service layer call; the mechanisms
themselves (:mod:`~admissions.deferred_acceptance`, :mod:`~admissions.rank_rounds`,
:mod:`~admissions.min_cost`) work on bare arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from admissions.deferred_acceptance import deferred_acceptance
from admissions.min_cost import min_cost_assignment
from admissions.priority import Priorities, school_priorities
from admissions.problem import AdmissionProblem
from admissions.provenance import Provenance, code_version, problem_checksum
from admissions.rank_rounds import penalised_rank_rule, rank_rounds

Mechanism = Literal["da", "hcmc", "mincost"]
MECHANISMS: tuple[Mechanism, ...] = ("da", "hcmc", "mincost")
CostKind = Literal["distance_m", "time_s"]


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
    mechanism: Mechanism,
    seed: int = 0,
    rank_penalties: Sequence[float] | None = None,
    cost: CostKind = "distance_m",
) -> Allocation:
    """Allocate seats with one mechanism.

    Parameters
    ----------
    problem
        Applicants, schools, choices and priorities.
    mechanism
        ``"da"`` (deferred acceptance), ``"hcmc"`` (rank rounds) or ``"mincost"``.
    seed
        Seed of the lottery that breaks priority ties.
    rank_penalties
        ``"hcmc"`` on grade 10 only: score penalty per choice rank, e.g. ``(0, 1, 2)``;
        ``None`` is the strict rule (NV1 applicants first, then NV2, ...).
    cost
        ``"mincost"`` only: minimise total ``distance_m`` or ``time_s``.

    Returns
    -------
    Allocation
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {MECHANISMS}, not {mechanism!r}")
    if rank_penalties is not None and mechanism != "hcmc":
        raise ValueError("rank penalties belong to the hcmc mechanism")
    priorities = school_priorities(problem, seed)
    used = priorities
    parameters: dict[str, object] = {"grade": problem.grade}
    if mechanism == "da":
        assigned, choice_index = deferred_acceptance(
            problem.choices, priorities.pair_rank, problem.capacity, priorities.common_rank
        )
    elif mechanism == "hcmc":
        parameters["rank_penalties"] = None if rank_penalties is None else list(rank_penalties)
        if rank_penalties is None:
            assigned, choice_index = rank_rounds(
                problem.choices, priorities.pair_rank, problem.capacity
            )
        else:
            used = school_priorities(problem, seed, rank_penalties)
            assigned, choice_index = penalised_rank_rule(
                problem.choices, used.pair_rank, problem.capacity
            )
    else:
        parameters["cost"] = cost
        pair_cost = problem.distance_m if cost == "distance_m" else problem.time_s
        listed = problem.choices >= 0
        if np.any(listed & ~np.isfinite(pair_cost)):
            raise ValueError(
                f"mincost needs {cost} for every listed school; "
                "give home coordinates (lon, lat) for all applicants"
            )
        assigned, choice_index = min_cost_assignment(problem.choices, pair_cost, problem.capacity)
    provenance = Provenance(
        input_sha256=problem_checksum(problem),
        seed=int(seed),
        mechanism=mechanism,
        parameters=parameters,
        code_version=code_version(),
    )
    return Allocation(
        mechanism=mechanism,
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
