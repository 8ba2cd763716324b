"""Minimum total travel: optimal on small cases, never worse than deferred acceptance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admissions import allocate
from admissions.problem import AdmissionProblem
from tests.support.admissions_cases import grade10, problems


def _brute_force(problem: AdmissionProblem) -> tuple[int, float]:
    """(most placed, least total distance among those) over every feasible assignment."""
    options = [[-1] + [j for j in range(problem.max_choices) if problem.choices[a, j] >= 0]
               for a in range(problem.n_applicants)]
    best = (0, 0.0)
    for pick in itertools.product(*options):
        used = np.zeros(problem.n_schools, dtype=np.int64)
        total = 0.0
        for a, j in enumerate(pick):
            if j >= 0:
                used[problem.choices[a, j]] += 1
                total += problem.distance_m[a, j]
        if np.any(used > problem.capacity):
            continue
        placed = sum(j >= 0 for j in pick)
        if placed > best[0] or (placed == best[0] and total < best[1]):
            best = (placed, total)
    return best


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mincost_matches_brute_force_on_small_problems(data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    choices = [rng.permutation(m)[: rng.integers(0, m + 1)].tolist() for _ in range(n)]
    distance = rng.integers(100, 5000, (n, m)).astype(np.float64)
    problem = grade10([20.0] * n, choices, rng.integers(0, 3, m).tolist(), distance=distance)
    result = allocate(problem, "mincost")
    placed, total = _brute_force(problem)
    assert int(result.placed.sum()) == placed
    assert float(np.nansum(result.distance_m)) == pytest.approx(total)


@settings(max_examples=200, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_mincost_is_never_worse_than_da(problem: AdmissionProblem, seed: int) -> None:
    # mincost first places as many as the seats allow, then minimises total distance;
    # so it places at least as many as DA, and at equal count travels no further.
    da = allocate(problem, "da", seed)
    mincost = allocate(problem, "mincost", seed)
    assert np.all(mincost.admitted_count(problem.n_schools) <= problem.capacity)
    assert mincost.placed.sum() >= da.placed.sum()
    if mincost.placed.sum() == da.placed.sum():
        assert np.nansum(mincost.distance_m) <= np.nansum(da.distance_m) + 1e-6


def test_mincost_sends_the_nearer_child_to_the_near_school() -> None:
    # One seat at each school; DA by score sends the far-living top scorer to H1.
    distance = np.array([[4000.0, 500.0], [600.0, 5000.0]])
    problem = grade10([25.0, 20.0], [[0, 1], [0, 1]], [1, 1], distance=distance)
    assert allocate(problem, "da").assigned.tolist() == [0, 1]
    assert allocate(problem, "mincost").assigned.tolist() == [1, 0]


def test_mincost_refuses_unknown_distances() -> None:
    problem = grade10([25.0], [[0]], [1])
    with pytest.raises(ValueError, match="lon, lat"):
        allocate(problem, "mincost")
