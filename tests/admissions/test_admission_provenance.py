"""Every result names its inputs, seed, parameters and code version."""

from __future__ import annotations

import numpy as np

from admissions import RankRounds, allocate, code_version, problem_checksum
from tests.support.admissions_cases import grade10


def test_checksum_changes_with_any_input_array() -> None:
    base = grade10([25.0, 24.0], [[0], [0, 1]], [1, 1])
    other_score = grade10([25.0, 24.25], [[0], [0, 1]], [1, 1])
    other_capacity = grade10([25.0, 24.0], [[0], [0, 1]], [1, 2])
    other_choice = grade10([25.0, 24.0], [[0], [1, 0]], [1, 1])
    sums = {problem_checksum(p) for p in (base, other_score, other_capacity, other_choice)}
    assert len(sums) == 4
    assert problem_checksum(base) == problem_checksum(grade10([25.0, 24.0], [[0], [0, 1]], [1, 1]))


def test_result_carries_seed_parameters_and_code_version() -> None:
    problem = grade10([25.0, 24.0], [[0], [0, 1]], [1, 1])
    result = allocate(problem, RankRounds(penalties=(0, 1, 2)), seed=42)
    provenance = result.provenance.as_dict()
    assert provenance["seed"] == 42
    assert provenance["parameters"] == {"grade": 10, "rank_penalties": [0, 1, 2]}
    assert provenance["code_version"] == code_version()
    assert "+" in provenance["code_version"]
    rerun = allocate(problem, RankRounds(penalties=(0, 1, 2)), seed=42)
    assert rerun.provenance == result.provenance
    assert np.array_equal(rerun.assigned, result.assigned)
