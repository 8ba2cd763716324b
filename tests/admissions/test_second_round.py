"""Round 2 allocates only the seats round 1 left, to applicants still unplaced."""

from __future__ import annotations

import numpy as np
import pytest

from admissions import allocate, seats_left, second_round
from tests.support.admissions_cases import grade10


def test_second_round_uses_only_the_seats_left() -> None:
    first_problem = grade10([25.0, 24.0, 23.0, 22.0], [[0], [0], [0], [1]], [2, 3])
    first = allocate(first_problem, "da")
    assert seats_left(first_problem, first).tolist() == [0, 2]
    # s3 was unplaced; round 2 brings her and a late applicant, both asking H1 then H2.
    round_two = grade10([23.0, 26.0], [[0, 1], [0, 1]], [99, 99])
    round_two = round_two.__class__(
        **{**round_two.__dict__, "applicant_ids": np.array(["s3", "late1"])}
    )
    result = second_round(first_problem, first, round_two, "da", seed=1)
    assert result.assigned.tolist() == [1, 1]  # H1 has no seat left, even for 26.0
    assert result.provenance.parameters["round"] == 2


def test_second_round_refuses_applicants_placed_in_round_one() -> None:
    first_problem = grade10([25.0, 24.0], [[0], [0]], [1, 1])
    first = allocate(first_problem, "da")
    with pytest.raises(ValueError, match="already placed"):
        second_round(first_problem, first, grade10([25.0], [[1]], [1, 1]))
