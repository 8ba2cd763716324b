"""Reasons a parent can read, and the per-school cut-offs they quote."""

from __future__ import annotations

import numpy as np

from admissions import RankRounds, allocate, explain, school_cutoffs
from tests.support.admissions_cases import grade1, grade10


def test_grade10_reason_names_the_full_choice_and_its_cutoff() -> None:
    # H1 has one seat, taken by s1 (22.75); s2 (21.5) gets NV2.
    problem = grade10([22.75, 21.5], [[0, 1], [0, 1]], [1, 1], names=["THPT A", "THPT B"])
    result = allocate(problem, "da")
    reasons = explain(problem, result)
    assert reasons.en[1] == (
        "NV1 THPT A full: last admitted score 22.75; admitted at NV2, THPT B"
    )
    assert reasons.vi[1] == (
        "NV1 THPT A đã đủ chỉ tiêu: điểm chuẩn 22,75; trúng tuyển NV2, THPT B"
    )
    assert reasons.en[0] == "admitted at NV1, THPT A"


def test_tie_at_the_cutoff_is_explained_as_lottery() -> None:
    problem = grade10([22.75, 22.75], [[0], [0]], [1])
    result = allocate(problem, "da", seed=3)
    loser = int(np.flatnonzero(~result.placed)[0])
    reasons = explain(problem, result)
    assert reasons.en[loser] == (
        "Not placed: NV1 School 1 full: last admitted score 22.75, tie broken by lottery"
    )
    assert "bốc thăm" in reasons.vi[loser]


def test_grade1_reason_lists_nearer_full_schools_with_their_last_admitted() -> None:
    # Default "nearest first" lists. P1 (0.6 km from c3) and P2 (0.9 km) each have one seat,
    # taken by tier-1 children living 0.45 km and 0.5 km away; c3 goes to P3.
    tier = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1]], dtype=np.int8)
    distance = np.array([[450.0, 2000.0, 3000.0], [2000.0, 500.0, 3000.0],
                         [600.0, 900.0, 1400.0]])
    problem = grade1(tier, distance, [[0, 1, 2], [1, 0, 2], [0, 1, 2]], [1, 1, 1],
                     preference_kind="nearest")
    result = allocate(problem, "da")
    assert result.assigned.tolist() == [0, 1, 2]
    reasons = explain(problem, result)
    assert reasons.en[2] == (
        "Nearer schools were full: Primary 1 (0.60 km; last admitted: tier 1, 0.45 km); "
        "Primary 2 (0.90 km; last admitted: tier 1, 0.50 km). "
        "Admitted at Primary 3 (1.4 km), nearest school no. 3"
    )
    assert reasons.vi[2].startswith(
        "Các trường gần hơn đã đủ chỉ tiêu: Primary 1 (0,60 km; người cuối cùng được nhận: "
        "diện 1, 0,45 km)"
    )


def test_hcmc_reason_says_the_school_filled_with_nv1_applicants() -> None:
    # H2 (one seat) is filled in round 1 by s2 (20.0, NV1); s1 (24.0) asks it at NV2.
    problem = grade10([24.0, 20.0, 25.0], [[0, 1], [1], [0]], [1, 1])
    result = allocate(problem, "hcmc")
    assert result.assigned.tolist() == [-1, 1, 0]
    reasons = explain(problem, result)
    assert reasons.en[0] == (
        "Not placed: NV1 School 1 full: last admitted score 25.00; NV2 School 2 full: "
        "last admitted score 20.00; filled by NV1 applicants before NV2"
    )


def test_straight_line_distances_are_labelled() -> None:
    tier = np.ones((1, 1), dtype=np.int8)
    problem = grade1(tier, np.array([[1234.0]]), [[0]], [1])
    problem = problem.__class__(**{**problem.__dict__, "distance_kind": "straight_line"})
    reasons = explain(problem, allocate(problem, "da"))
    assert "1.2 km straight-line" in reasons.en[0]
    assert "1,2 km đường chim bay" in reasons.vi[0]


def test_cutoffs_report_last_admitted_score_per_school() -> None:
    problem = grade10([25.0, 24.0, 23.0, 22.0], [[0], [0], [1], [1]], [2, 3])
    cutoffs = school_cutoffs(problem, allocate(problem, "da"))
    assert cutoffs["last_score"].tolist() == [24.0, 22.0]
    assert cutoffs["full"].tolist() == [True, False]
    assert cutoffs["seats_left"].tolist() == [0, 1]


def test_penalised_reason_shows_both_effective_scores() -> None:
    # H1 one seat: s1 (21.0, NV1) against s2 (21.5, NV2 with a 1-point penalty -> 20.5).
    problem = grade10([21.0, 21.5], [[0], [1, 0]], [1, 0])
    result = allocate(problem, RankRounds(penalties=(0, 1, 2)))
    assert result.assigned.tolist() == [0, -1]
    reasons = explain(problem, result)
    assert reasons.en[1] == (
        "Not placed: NV1 School 2: no seats for this grade; NV2 School 1 full: last admitted "
        "score 21.00 (ranked at 21.00 after rank penalties; yours at NV2: 20.50)"
    )
    assert "của bạn ở NV2: 20,50" in reasons.vi[1]
