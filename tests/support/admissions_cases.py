"""Builders and independent checkers shared by the admissions tests.

The checkers here read the raw data (scores, tiers, distances, the lottery) and never the
ranks the library computes, so they judge the mechanisms independently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from admissions.allocation import Allocation
from admissions.priority import draw_lottery
from admissions.problem import AdmissionProblem


def grade10(
    score: Sequence[float],
    choices: Sequence[Sequence[int]],
    capacity: Sequence[int],
    bonus: Sequence[float] | None = None,
    distance: NDArray[np.float64] | None = None,
    names: Sequence[str] | None = None,
) -> AdmissionProblem:
    """A grade 10 problem from lists; ``distance`` is an (applicant x school) matrix."""
    n, m = len(score), len(capacity)
    k = max([len(c) for c in choices] + [1])
    grid = np.full((n, k), -1, dtype=np.int32)
    for a, listed in enumerate(choices):
        grid[a, : len(listed)] = listed
    dist = np.full((n, k), np.nan)
    if distance is not None:
        dist = np.where(grid >= 0, distance[np.arange(n)[:, None], np.maximum(grid, 0)], np.nan)
    return AdmissionProblem(
        grade=10,
        applicant_ids=np.array([f"s{a + 1}" for a in range(n)]),
        school_codes=np.array([f"H{s + 1}" for s in range(m)]),
        school_names=np.array(list(names) if names else [f"School {s + 1}" for s in range(m)]),
        capacity=np.asarray(capacity, dtype=np.int64),
        choices=grid,
        distance_m=dist,
        time_s=np.full((n, k), np.nan),
        distance_kind="road" if distance is not None else "none",
        score=np.asarray(score, dtype=np.float64),
        bonus=None if bonus is None else np.asarray(bonus, dtype=np.float64),
    )


def grade1(
    tier: NDArray[np.int8],
    distance: NDArray[np.float64],
    choices: Sequence[Sequence[int]],
    capacity: Sequence[int],
    preference_kind: str = "stated",
) -> AdmissionProblem:
    """A grade 1 problem from (applicant x school) tier and distance matrices."""
    n, m = distance.shape
    k = max([len(c) for c in choices] + [1])
    grid = np.full((n, k), -1, dtype=np.int32)
    for a, listed in enumerate(choices):
        grid[a, : len(listed)] = listed
    rows = np.arange(n)[:, None]
    safe = np.maximum(grid, 0)
    return AdmissionProblem(
        grade=1,
        applicant_ids=np.array([f"c{a + 1}" for a in range(n)]),
        school_codes=np.array([f"P{s + 1}" for s in range(m)]),
        school_names=np.array([f"Primary {s + 1}" for s in range(m)]),
        capacity=np.asarray(capacity, dtype=np.int64),
        choices=grid,
        distance_m=np.where(grid >= 0, distance[rows, safe], np.nan),
        time_s=np.full((n, k), np.nan),
        distance_kind="road",
        preference_kind=preference_kind,  # type: ignore[arg-type]
        tier=np.where(grid >= 0, tier[rows, safe], 3).astype(np.int8),
    )


def priority_key(problem: AdmissionProblem, seed: int, a: int, s: int) -> tuple[float, ...]:
    """Raw priority of applicant ``a`` at school ``s`` (smaller is better)."""
    lottery = draw_lottery(problem.n_applicants, seed)
    j = int(np.flatnonzero(problem.choices[a] == s)[0])
    if problem.grade == 10:
        assert problem.score is not None
        bonus = 0.0 if problem.bonus is None else float(problem.bonus[a])
        return (-(float(problem.score[a]) + bonus), float(lottery[a]))
    assert problem.tier is not None
    return (float(problem.tier[a, j]), float(problem.distance_m[a, j]), float(lottery[a]))


def blocking_pairs(
    problem: AdmissionProblem, allocation: Allocation, seed: int
) -> list[tuple[int, int]]:
    """Every (applicant, school) pair that blocks the allocation, by brute force."""
    found = []
    capacity = problem.capacity
    for a in range(problem.n_applicants):
        listed = [int(s) for s in problem.choices[a] if s >= 0]
        got = int(allocation.assigned[a])
        better = listed[: listed.index(got)] if got >= 0 else listed
        for s in better:
            holders = [b for b in range(problem.n_applicants) if allocation.assigned[b] == s]
            if len(holders) < capacity[s]:
                found.append((a, s))
                continue
            mine = priority_key(problem, seed, a, s)
            if any(priority_key(problem, seed, b, s) > mine for b in holders):
                found.append((a, s))
    return found


@st.composite
def grade10_problems(draw: st.DrawFn, max_applicants: int = 12) -> AdmissionProblem:
    """Small grade 10 problems with many score ties and tight capacities."""
    n = draw(st.integers(1, max_applicants))
    m = draw(st.integers(1, 5))
    k = draw(st.integers(1, min(3, m)))
    capacity = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
    score = draw(st.lists(st.sampled_from([20.0, 20.25, 21.5, 22.75]), min_size=n, max_size=n))
    bonus = draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0]), min_size=n, max_size=n))
    choices = [
        draw(st.permutations(range(m)))[: draw(st.integers(0, k))] for _ in range(n)
    ]
    distance = np.asarray(
        draw(st.lists(st.integers(100, 9000), min_size=n * m, max_size=n * m)), dtype=np.float64
    ).reshape(n, m)
    return grade10(score, choices, capacity, bonus=bonus, distance=distance)


@st.composite
def grade1_problems(draw: st.DrawFn, max_applicants: int = 12) -> AdmissionProblem:
    """Small grade 1 problems: tiers and distances with ties, per applicant and school."""
    n = draw(st.integers(1, max_applicants))
    m = draw(st.integers(1, 5))
    k = draw(st.integers(1, m))
    capacity = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
    tier = np.asarray(
        draw(st.lists(st.integers(1, 3), min_size=n * m, max_size=n * m)), dtype=np.int8
    ).reshape(n, m)
    distance = np.asarray(
        draw(st.lists(st.sampled_from([300, 450, 800, 1200, 2500]),
                      min_size=n * m, max_size=n * m)), dtype=np.float64
    ).reshape(n, m)
    choices = [
        draw(st.permutations(range(m)))[: draw(st.integers(0, k))] for _ in range(n)
    ]
    return grade1(tier, distance, choices, capacity)


def problems() -> st.SearchStrategy[AdmissionProblem]:
    """Grade 10 or grade 1 problems."""
    return st.one_of(grade10_problems(), grade1_problems())


#: Small files of the CLI tests: six schools, six grade-10 and five grade-1 applicants.
SCHOOLS = """code,name,level,ownership,lon,lat,capacity_grade1,capacity_grade6,capacity_grade10
P1,TH Lê Văn Tám,primary,public,106.700,10.770,2,,
P2,TH Nguyễn Du,primary,public,106.705,10.772,1,,
P3,TH Kim Đồng,primary,public,106.720,10.780,5,,
H1,THPT Bùi Thị Xuân,upper_secondary,public,106.690,10.770,,,2
H2,THPT Trưng Vương,upper_secondary,public,106.700,10.760,,,2
H3,THPT Lương Thế Vinh,upper_secondary,public,106.710,10.750,,,3
"""
GRADE10 = """applicant_id,score,choice1,choice2,choice3,bonus,lon,lat
s1,25,H1,H2,,0,106.69,10.77
s2,24.5,H1,H3,,0.5,106.70,10.76
s3,22.75,H1,H2,H3,,106.70,10.765
s4,22,H2,H1,,,106.71,10.75
s5,21,H2,H3,,,106.70,10.76
s6,20,H1,H2,H3,,106.695,10.77
"""
GRADE1 = """applicant_id,lon,lat,tier
a1,106.7001,10.7701,1
a2,106.7010,10.7705,1
a3,106.7020,10.7710,2
a4,106.7030,10.7712,3
a5,106.7040,10.7715,1
"""
