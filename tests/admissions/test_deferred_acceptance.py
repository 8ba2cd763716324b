"""Deferred acceptance: stable, within capacity, reproducible, strategy-proof, fast path exact."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from admissions import allocate, deferred_acceptance, school_priorities, serial_dictatorship
from admissions.problem import AdmissionProblem
from tests.support.admissions_cases import blocking_pairs, grade1, grade10, problems


@settings(max_examples=300, deadline=None)
@given(problems(), st.integers(0, 2**31 - 1))
def test_da_has_no_blocking_pair(problem: AdmissionProblem, seed: int) -> None:
    result = allocate(problem, "da", seed)
    assert blocking_pairs(problem, result, seed) == []


@settings(max_examples=200, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_da_respects_capacities_and_lists(problem: AdmissionProblem, seed: int) -> None:
    result = allocate(problem, "da", seed)
    assert np.all(result.admitted_count(problem.n_schools) <= problem.capacity)
    placed = np.flatnonzero(result.placed)
    assert np.all(problem.choices[placed, result.choice_index[placed]] == result.assigned[placed])
    assert np.all(result.choice_index[~result.placed] == -1)


@settings(max_examples=100, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_da_is_identical_for_identical_seed_and_input(problem: AdmissionProblem, seed: int) -> None:
    first = allocate(problem, "da", seed)
    second = allocate(problem, "da", seed)
    assert np.array_equal(first.assigned, second.assigned)
    assert np.array_equal(first.choice_index, second.choice_index)
    assert first.provenance == second.provenance


def test_da_ties_are_broken_by_the_seeded_lottery() -> None:
    # Ten applicants with equal scores for one seat: the seed decides, and differently.
    problem = grade10([24.0] * 10, [[0]] * 10, [1])
    winners = {int(np.flatnonzero(allocate(problem, "da", seed).placed)[0]) for seed in range(40)}
    assert len(winners) > 3
    assert allocate(problem, "da", 7).assigned.tolist() == allocate(problem, "da", 7).assigned.tolist()


@settings(max_examples=300, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_serial_dictatorship_equals_general_da_under_common_priority(
    problem: AdmissionProblem, seed: int
) -> None:
    # Any common order: take the lottery as the one ranking of every school.
    n, k = problem.choices.shape
    common = np.argsort(np.argsort(np.random.default_rng(seed).random(n))).astype(np.int64)
    pair_rank = np.repeat(common[:, None], k, axis=1)
    general = deferred_acceptance(problem.choices, pair_rank, problem.capacity)
    fast = serial_dictatorship(problem.choices, common, problem.capacity)
    assert np.array_equal(general[0], fast[0])
    assert np.array_equal(general[1], fast[1])


@settings(max_examples=100, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_grade10_fast_path_equals_general_da(problem: AdmissionProblem, seed: int) -> None:
    priorities = school_priorities(problem, seed)
    if problem.grade == 10:
        assert priorities.common_rank is not None
        general = deferred_acceptance(problem.choices, priorities.pair_rank, problem.capacity)
        assert np.array_equal(allocate(problem, "da", seed).assigned, general[0])
    else:
        assert priorities.common_rank is None


def _outcome_rank(true_list: list[int], school: int) -> int:
    """Position of ``school`` in the true list; len(list) when unplaced or unlisted."""
    return true_list.index(school) if school in true_list else len(true_list)


def _with_list(problem: AdmissionProblem, a: int, new_list: tuple[int, ...],
               tier: np.ndarray, distance: np.ndarray) -> AdmissionProblem:
    lists = [[int(s) for s in row if s >= 0] for row in problem.choices]
    lists[a] = list(new_list)
    if problem.grade == 10:
        assert problem.score is not None
        return grade10(problem.score.tolist(), lists, problem.capacity.tolist(),
                       bonus=None if problem.bonus is None else problem.bonus.tolist())
    return grade1(tier, distance, lists, problem.capacity.tolist())


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_no_applicant_gains_by_misreporting(data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    n, m = data.draw(st.integers(2, 4)), 3
    capacity = rng.integers(0, 3, m).tolist()
    true_lists = [rng.permutation(m)[: rng.integers(1, m + 1)].tolist() for _ in range(n)]
    tier = rng.integers(1, 4, (n, m)).astype(np.int8)
    distance = rng.choice([300.0, 800.0, 1200.0], (n, m))
    seed = int(rng.integers(0, 100))
    if data.draw(st.booleans()):
        truthful = grade10(rng.choice([20.0, 21.0], n).tolist(), true_lists, capacity)
    else:
        truthful = grade1(tier, distance, true_lists, capacity)
    honest = allocate(truthful, "da", seed)
    reports = [p for r in range(m + 1) for p in itertools.permutations(range(m), r)]
    for a in range(n):
        best_honest = _outcome_rank(true_lists[a], int(honest.assigned[a]))
        for report in reports:
            lied = allocate(_with_list(truthful, a, report, tier, distance), "da", seed)
            assert _outcome_rank(true_lists[a], int(lied.assigned[a])) >= best_honest, (
                a, report
            )


def test_hcmc_rule_is_not_strategy_proof_but_da_is() -> None:
    # s2 (21.0) truly prefers H1 then H2. H1 admits one and s1 (22.0) lists it first;
    # H2 has one seat and s3 (20.0) lists it first. Under the rank rounds, s2 loses H1 to s1
    # and finds H2 already filled by s3's NV1: unplaced. Listing H2 first would have won it.
    honest = grade10([22.0, 21.0, 20.0], [[0], [0, 1], [1]], [1, 1])
    lie = grade10([22.0, 21.0, 20.0], [[0], [1, 0], [1]], [1, 1])
    assert allocate(honest, "hcmc").assigned[1] == -1
    assert allocate(lie, "hcmc").assigned[1] == 1
    assert allocate(honest, "da").assigned[1] == 1


@settings(max_examples=100, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_compiled_kernel_equals_its_python_source(problem: AdmissionProblem, seed: int) -> None:
    from admissions._kernels import deferred_acceptance_py

    priorities = school_priorities(problem, seed)
    compiled = deferred_acceptance(problem.choices, priorities.pair_rank, problem.capacity)
    python = deferred_acceptance_py(problem.choices, priorities.pair_rank, problem.capacity)
    assert np.array_equal(compiled[0], python[0])
    assert np.array_equal(compiled[1], python[1])
