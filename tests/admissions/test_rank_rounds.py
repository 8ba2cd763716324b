"""The HCMC rank-round rule on hand-worked examples, and its relation to deferred acceptance."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from admissions import RankRounds, allocate, justified_envy
from admissions.problem import AdmissionProblem
from tests.support.admissions_cases import grade1, grade10, grade10_problems, problems


def _worked_example(s3_score: float = 22.75) -> AdmissionProblem:
    # H1 and H2 have 2 seats, H3 has 3.            (index: H1=0, H2=1, H3=2)
    return grade10(
        score=[25.0, 24.5, s3_score, 22.0, 21.0, 20.0],
        bonus=[0.0, 0.5, 0.0, 0.0, 0.0, 0.0],
        choices=[[0, 1], [0, 2], [0, 1, 2], [1, 0], [1, 2], [0, 1, 2]],
        capacity=[2, 2, 3],
    )


def test_hcmc_fills_from_nv1_then_nv2_then_nv3() -> None:
    # Round 1: H1's NV1 applicants s1 (25), s2 (24.5 + 0.5), s3, s6 -> s1, s2.
    #          H2's NV1 applicants s4 (22), s5 (21) -> both; H2 is full.
    # Round 2: s3 and s6 ask H2 (NV2): full.   Round 3: both ask H3 (NV3): admitted.
    result = allocate(_worked_example(), "hcmc", seed=1)
    assert result.assigned.tolist() == [0, 0, 2, 1, 1, 2]
    assert (result.choice_index + 1).tolist() == [1, 1, 3, 1, 1, 3]


def test_da_on_the_worked_example_admits_by_score_across_ranks() -> None:
    # Serial order s1, s2, s3 (22.75), s4, s5, s6: s3 takes H2 before s5, s5 goes to H3.
    result = allocate(_worked_example(), "da", seed=1)
    assert result.assigned.tolist() == [0, 0, 1, 1, 2, 2]
    assert (result.choice_index + 1).tolist() == [1, 1, 2, 1, 2, 3]


def test_hcmc_gives_s3_justified_envy_and_da_none() -> None:
    problem = _worked_example()
    hcmc = allocate(problem, "hcmc", seed=1)
    da = allocate(problem, "da", seed=1)
    envy = justified_envy(problem, hcmc.priorities, hcmc.assigned, hcmc.choice_index)
    assert np.flatnonzero(envy).tolist() == [2]  # s3 (22.75) lost H2 to s5 (21)
    assert not justified_envy(problem, da.priorities, da.assigned, da.choice_index).any()


def test_hcmc_rank_penalty_of_one_point_decides_nv2_against_nv1() -> None:
    # Penalties (0, 1, 2): at H2, s3 counts 21.75 - 1 = 20.75 at NV2, below s5's 21 at NV1,
    # so s3 goes to H3 (NV3). With 22.75, 21.75 beats 21 and s3 takes H2 from s5.
    low = allocate(_worked_example(21.75), RankRounds(penalties=(0, 1, 2)), seed=1)
    assert low.assigned.tolist() == [0, 0, 2, 1, 1, 2]
    high = allocate(_worked_example(22.75), RankRounds(penalties=(0, 1, 2)), seed=1)
    assert high.assigned.tolist() == [0, 0, 1, 1, 2, 2]
    assert (high.choice_index + 1).tolist() == [1, 1, 2, 1, 2, 3]


def test_hcmc_grade1_rounds_use_tier_then_distance() -> None:
    # P1 has one seat, P2 two. c1 (tier 2, 200 m) and c2 (tier 1, 900 m) list P1 first: c2
    # wins on tier although c1 lives nearer. c3 takes P2 (its NV1) in round 1, and c1 takes
    # P2's last seat in round 2.
    tier = np.array([[2, 1], [1, 1], [1, 1]], dtype=np.int8)
    distance = np.array([[200.0, 500.0], [900.0, 700.0], [100.0, 300.0]])
    problem = grade1(tier, distance, [[0, 1], [0, 1], [1, 0]], [1, 2])
    result = allocate(problem, "hcmc", seed=0)
    assert result.assigned.tolist() == [1, 0, 1]


@settings(max_examples=200, deadline=None)
@given(grade10_problems(), st.integers(0, 1000))
def test_huge_penalties_reproduce_the_strict_rule(problem: AdmissionProblem, seed: int) -> None:
    strict = allocate(problem, "hcmc", seed)
    penalised = allocate(problem, RankRounds(penalties=(0, 1000, 2000)), seed)
    assert np.array_equal(strict.assigned, penalised.assigned)
    assert np.array_equal(strict.choice_index, penalised.choice_index)


@settings(max_examples=200, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_hcmc_respects_capacities_and_equals_da_with_single_choices(
    problem: AdmissionProblem, seed: int
) -> None:
    result = allocate(problem, "hcmc", seed)
    assert np.all(result.admitted_count(problem.n_schools) <= problem.capacity)
    if problem.max_choices == 1:
        assert np.array_equal(result.assigned, allocate(problem, "da", seed).assigned)
