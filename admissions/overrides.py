"""Officer overrides: a placement changed by hand, always with a written reason.

:func:`apply_overrides` is pure: it returns a new :class:`~admissions.allocation.Allocation`
and leaves the input untouched. The service layer stores who decided and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

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
        if len(override.reason.strip()) < MIN_REASON_CHARS:
            problems.append(Problem(label, row, "reason",
                                    f"a written reason of at least {MIN_REASON_CHARS} characters "
                                    "is required"))
            continue
        a = applicant_index.get(override.applicant_id)
        if a is None:
            problems.append(Problem(label, row, "applicant_id",
                                    f"unknown applicant {override.applicant_id!r}"))
            continue
        target = -1
        if override.school_code is not None:
            found = school_index.get(override.school_code)
            if found is None:
                problems.append(Problem(label, row, "school_code",
                                        f"unknown school {override.school_code!r}"))
                continue
            target = found
            already_there = assigned[a] == target
            if not already_there and occupied[target] >= problem.capacity[target] and not (
                override.force
            ):
                problems.append(Problem(
                    label, row, "school_code",
                    f"school {override.school_code!r} is full "
                    f"({occupied[target]}/{problem.capacity[target]}); use force to exceed",
                ))
                continue
        if assigned[a] >= 0:
            occupied[assigned[a]] -= 1
        assigned[a] = target
        listed = (
            np.flatnonzero(problem.choices[a] == target) if target >= 0 else np.empty(0, np.intp)
        )
        choice_index[a] = int(listed[0]) if len(listed) else -1
        if target < 0:
            distance[a] = np.nan
        elif len(listed):
            distance[a] = problem.distance_m[a, int(listed[0])]
        else:
            distance[a] = np.nan if override.distance_m is None else float(override.distance_m)
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
