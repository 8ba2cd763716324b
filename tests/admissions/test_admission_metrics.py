"""Metrics and justified envy, checked against brute force on the raw data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admissions import allocate, comparison_table, justified_envy, summary
from admissions.problem import AdmissionProblem
from tests.support.admissions_cases import blocking_pairs, grade10, problems


@settings(max_examples=200, deadline=None)
@given(problems(), st.integers(0, 1000), st.sampled_from(["hcmc", "mincost"]))
def test_justified_envy_matches_brute_force_blocking_pairs(
    problem: AdmissionProblem, seed: int, mechanism: str
) -> None:
    result = allocate(problem, mechanism, seed)  # type: ignore[arg-type]
    envy = justified_envy(problem, result.priorities, result.assigned, result.choice_index)
    expected = sorted({a for a, _ in blocking_pairs(problem, result, seed)})
    assert np.flatnonzero(envy).tolist() == expected


def test_summary_figures_on_a_small_case() -> None:
    distance = np.array([[500.0, 2500.0], [1500.0, 800.0], [3500.0, 900.0]])
    problem = grade10([25.0, 24.0, 23.0], [[0, 1], [0, 1], [0]], [1, 1], distance=distance)
    figures = summary(problem, allocate(problem, "da"))
    assert figures["placed"] == 2 and figures["unplaced"] == 1
    assert figures["placed_by_choice"] == {"1": 1, "2": 1}
    assert figures["distance_mean_m"] == pytest.approx(650.0)
    assert figures["distance_median_m"] == pytest.approx(650.0)
    assert figures["share_within_1km"] == 1.0
    assert figures["justified_envy"] == 0
    assert len(figures["provenance"]["input_sha256"]) == 64


def test_comparison_table_has_a_column_per_mechanism() -> None:
    distance = np.array([[4000.0, 500.0], [600.0, 5000.0]])
    problem = grade10([25.0, 20.0], [[0, 1], [0, 1]], [1, 1], distance=distance)
    table = comparison_table(problem, {m: allocate(problem, m) for m in ("da", "hcmc", "mincost")})
    assert list(table.columns) == ["da", "hcmc", "mincost"]
    assert table.loc["distance_total_m", "mincost"] == 1100.0
    assert table.loc["distance_total_m", "da"] == 9000.0
    assert table.loc["justified_envy", "mincost"] == 1
