"""Officer overrides: a placement changed by hand, always with a written reason.

:func:`apply_overrides` is pure: it returns a new :class:`~admissions.allocation.Allocation`
and leaves the input untouched. The service layer stores who decided and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from admissions.allocation import Allocation
from admissions.problem import AdmissionProblem
from gis_service.errors import InputError, Problem

MIN_REASON_CHARS = 10


@dataclass(frozen=True)
class Override:
    """Place ``applicant_id`` at ``school_code`` (``None``: withdraw the placement).

    ``force`` allows placing at a school with no seat left; ``distance_m`` is recorded for a
    school the applicant did not list (otherwise the listed pair's distance is used).
    """

    applicant_id: str
    school_code: str | None
    reason: str
    force: bool = False
    distance_m: float | None = None


def _checked_override(
    problem: AdmissionProblem,
    override: Override,
    applicant_index: dict[str, int],
    school_index: dict[str, int],
    assigned: NDArray[np.int32],
    occupied: NDArray[np.int64],
    label: str,
    row: int,
) -> tuple[int, int] | Problem:
    """Return ``(applicant, school)`` of an acceptable override (school -1: withdraw), or a refusal."""
    if len(override.reason.strip()) < MIN_REASON_CHARS:
        return Problem(label, row, "reason",
                       f"a written reason of at least {MIN_REASON_CHARS} characters is required")
    a = applicant_index.get(override.applicant_id)
    if a is None:
        return Problem(label, row, "applicant_id", f"unknown applicant {override.applicant_id!r}")
    if override.school_code is None:
        return a, -1
    target = school_index.get(override.school_code)
    if target is None:
        return Problem(label, row, "school_code", f"unknown school {override.school_code!r}")
    already_there = assigned[a] == target
    if not already_there and occupied[target] >= problem.capacity[target] and not override.force:
        return Problem(
            label, row, "school_code",
            f"school {override.school_code!r} is full "
            f"({occupied[target]}/{problem.capacity[target]}); use force to exceed",
        )
    return a, target


def _choice_and_distance(
    problem: AdmissionProblem, a: int, target: int, override: Override
) -> tuple[int, float]:
    """Return the choice index and distance of applicant ``a`` placed at school ``target``.

    The listed pair's distance when ``a`` listed the school, else the override's own
    ``distance_m`` (NaN when not given or when the placement is withdrawn).
    """
    if target < 0:
        return -1, np.nan
    listed = np.flatnonzero(problem.choices[a] == target)
    if len(listed):
        return int(listed[0]), problem.distance_m[a, int(listed[0])]
    return -1, np.nan if override.distance_m is None else float(override.distance_m)


def apply_overrides(
    problem: AdmissionProblem,
    allocation: Allocation,
    overrides: Sequence[Override],
    label: str = "overrides",
) -> Allocation:
    """Apply overrides in order and return the new allocation.

    Raises
    ------
    InputError
        Listing every refused override (1-based position as row): a missing or too short
        reason, an unknown applicant or school, or a full school without ``force``. Nothing is
        applied when any is refused.
    """
    applicant_index = {a: i for i, a in enumerate(problem.applicant_ids.tolist())}
    school_index = {c: i for i, c in enumerate(problem.school_codes.tolist())}
    assigned = allocation.assigned.copy()
    choice_index = allocation.choice_index.copy()
    distance = allocation.distance_m.copy()
    occupied = np.bincount(assigned[assigned >= 0], minlength=problem.n_schools)
    notes = dict(allocation.overrides)
    problems: list[Problem] = []
    for row, override in enumerate(overrides, start=1):
        checked = _checked_override(problem, override, applicant_index, school_index,
                                    assigned, occupied, label, row)
        if isinstance(checked, Problem):
            problems.append(checked)
            continue
        a, target = checked
        if assigned[a] >= 0:
            occupied[assigned[a]] -= 1
        assigned[a] = target
        choice_index[a], distance[a] = _choice_and_distance(problem, a, target, override)
        if target >= 0:
            occupied[target] += 1
        notes[a] = override.reason.strip()
    if problems:
        raise InputError(problems)
    parameters = dict(allocation.provenance.parameters)
    parameters["overrides"] = [
        *parameters.get("overrides", []),
        *(
            {"applicant_id": o.applicant_id, "school_code": o.school_code,
             "reason": o.reason.strip(), "force": o.force}
            for o in overrides
        ),
    ]
    return replace(
        allocation,
        assigned=assigned,
        choice_index=choice_index,
        distance_m=distance,
        overrides=notes,
        provenance=replace(allocation.provenance, parameters=parameters),
    )
