"""The allocation mechanisms as parameter objects: what to run, with the settings of that run.

Each mechanism is a small frozen dataclass carrying only its own parameters
(``RankRounds(penalties=(0, 1, 2))``, ``MinCost(cost="time_s")``), the way spopt's models
take theirs; :func:`admissions.allocation.allocate` runs any of them. The command line and
the web check a mechanism's name (:data:`admissions.names.MechanismName`) and parse it with
:func:`mechanism_from`, which refuses unknown names and parameters that belong to another
mechanism. A stored round keeps the name (``name``) and :meth:`parameters` as its
provenance; :func:`mechanism_of_run` reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from admissions.deferred_acceptance import deferred_acceptance
from admissions.min_cost import min_cost_assignment, rank_cost_without_home
from admissions.names import COSTS, MECHANISMS, CostKind, MechanismName
from admissions.priority import Priorities, school_priorities
from admissions.problem import AdmissionProblem
from admissions.rank_rounds import penalised_rank_rule, rank_rounds
from gis_service.errors import InvalidValueError

__all__ = ["COSTS", "MECHANISMS", "REGISTRY", "CostKind", "DeferredAcceptance", "Mechanism",
           "MechanismName", "MinCost", "RankRounds", "mechanism_from", "mechanism_of_run"]

#: One run's outcome: school index and 0-based choice index per applicant (``-1`` when
#: unplaced), and the priorities the mechanism admitted by.
Assignment = tuple[NDArray[np.int32], NDArray[np.int32], Priorities]


@dataclass(frozen=True)
class DeferredAcceptance:
    """Student-proposing deferred acceptance: stable and strategy-proof."""

    name: ClassVar[MechanismName] = "da"

    def parameters(self) -> dict[str, object]:
        """Return the settings recorded with a run (none)."""
        return {}

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> DeferredAcceptance:
        """Return the mechanism that :meth:`parameters` recorded."""
        return cls()

    def assign(self, problem: AdmissionProblem, seed: int, priorities: Priorities) -> Assignment:
        """Allocate ``problem`` by ``priorities`` (the schools' rankings drawn with ``seed``)."""
        assigned, choice_index = deferred_acceptance(
            problem.choices, priorities.pair_rank, problem.capacity, priorities.common_rank
        )
        return assigned, choice_index, priorities


@dataclass(frozen=True)
class RankRounds:
    """The HCMC rank-round rule: a school considers its NV1 applicants first, then NV2, ...

    Parameters
    ----------
    penalties
        Grade 10 only: score penalty per choice rank, e.g. ``(0, 1, 2)``; ``None`` is the
        strict rule (every NV1 applicant before any NV2 applicant).
    """

    name: ClassVar[MechanismName] = "hcmc"
    penalties: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        """Keep ``penalties`` as a tuple, so the mechanism stays hashable."""
        if self.penalties is not None:  # a list is accepted and kept as a (hashable) tuple
            object.__setattr__(self, "penalties", tuple(self.penalties))

    def parameters(self) -> dict[str, object]:
        """Return the settings recorded with a run: ``rank_penalties`` (a list, or ``None``)."""
        return {"rank_penalties": None if self.penalties is None else list(self.penalties)}

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> RankRounds:
        """Return the mechanism that :meth:`parameters` recorded."""
        penalties = parameters.get("rank_penalties")
        return cls(None if penalties is None else tuple(penalties))

    def assign(self, problem: AdmissionProblem, seed: int, priorities: Priorities) -> Assignment:
        """Allocate ``problem``; with penalties, the schools rank by the penalised scores."""
        if self.penalties is None:
            assigned, choice_index = rank_rounds(
                problem.choices, priorities.pair_rank, problem.capacity
            )
            return assigned, choice_index, priorities
        used = school_priorities(problem, seed, self.penalties)
        assigned, choice_index = penalised_rank_rule(
            problem.choices, used.pair_rank, problem.capacity
        )
        return assigned, choice_index, used


@dataclass(frozen=True)
class MinCost:
    """Minimum total travel (min-cost flow), for planning; needs every listed pair's cost.

    Parameters
    ----------
    cost
        ``"distance_m"`` or ``"time_s"``: what the total minimised is made of.
    """

    name: ClassVar[MechanismName] = "mincost"
    cost: CostKind = "distance_m"

    def __post_init__(self) -> None:
        """Refuse an unknown ``cost``."""
        if self.cost not in COSTS:
            raise InvalidValueError(f"cost must be one of {', '.join(COSTS)}, not {self.cost!r}")

    def parameters(self) -> dict[str, object]:
        """Return the settings recorded with a run: ``cost``."""
        return {"cost": self.cost}

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> MinCost:
        """Return the mechanism that :meth:`parameters` recorded."""
        return cls(parameters.get("cost", "distance_m"))

    def assign(self, problem: AdmissionProblem, seed: int, priorities: Priorities) -> Assignment:
        """Allocate ``problem`` at minimum total cost; priorities only judge the result.

        Applicants without a home get a choice-rank cost only
        (:func:`admissions.min_cost.rank_cost_without_home`).

        Raises
        ------
        ValueError
            When no applicant has a known cost, or one with a home lacks it for a school.
        """
        pair_cost, _ = rank_cost_without_home(
            problem.choices, problem.distance_m if self.cost == "distance_m" else problem.time_s)
        missing = np.any((problem.choices >= 0) & ~np.isfinite(pair_cost), axis=1)
        if np.any(missing):
            raise InvalidValueError(
                f"mincost needs {self.cost} for every listed school (missing for applicants "
                f"{', '.join(problem.applicant_ids[missing][:10])}); "
                "give home coordinates (lon, lat)"
            )
        assigned, choice_index = min_cost_assignment(problem.choices, pair_cost, problem.capacity)
        return assigned, choice_index, priorities


Mechanism = DeferredAcceptance | RankRounds | MinCost
#: The class of each mechanism name.
REGISTRY: dict[str, type[Mechanism]] = {cls.name: cls for cls in (DeferredAcceptance, RankRounds,
                                                                   MinCost)}


def mechanism_from(name: str, **parameters: Any) -> Mechanism:
    """Return the mechanism called ``name`` with the ``parameters`` given.

    ``None`` values are left out: those keep their defaults. For example
    ``mechanism_from("hcmc", penalties=(0, 1, 2))``.

    Raises
    ------
    ValueError
        For a name not in :data:`MECHANISMS` or a bad parameter value (e.g. a cost not in
        :data:`COSTS`), naming the allowed ones, and for a parameter the mechanism does not
        take.
    """
    if name not in REGISTRY:
        raise InvalidValueError(f"mechanism must be one of {', '.join(MECHANISMS)}, not {name!r}")
    cls = REGISTRY[name]
    given = {key: value for key, value in parameters.items() if value is not None}
    takes = [f.name for f in fields(cls)]
    unknown = sorted(set(given) - set(takes))
    if unknown:
        raise InvalidValueError(f"the {name} mechanism takes no {', '.join(unknown)} parameter"
                         f" (its parameters: {', '.join(takes) or 'none'})")
    return cls(**given)


def mechanism_of_run(name: str, parameters: Mapping[str, Any] | None = None) -> Mechanism:
    """Return the mechanism of a stored run from its name and recorded ``parameters``.

    The parameters are those its provenance recorded (:meth:`DeferredAcceptance.parameters`
    and the others); other keys are ignored.
    """
    if name not in REGISTRY:
        raise InvalidValueError(f"mechanism must be one of {', '.join(MECHANISMS)}, not {name!r}")
    return REGISTRY[name].from_parameters(parameters or {})
