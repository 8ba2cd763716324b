"""2SFCA seats within reach, checked against a hand-computed example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.accessibility import capacity_gaps, decay_weights, two_step_fca


def test_two_step_fca_matches_hand_computation() -> None:
    # Ward A (100 children) reaches S1 in 5 min, S2 in 20 min (outside 15);
    # ward B (50 children) reaches S1 in 10 min and S2 in 12 min.
    # R1 = 60 / (100 + 50) = 0.4, R2 = 90 / 50 = 1.8; A_A = 0.4, A_B = 0.4 + 1.8 = 2.2.
    seats_per_child, ratio = two_step_fca(
        demand=np.array([100.0, 50.0]),
        seats=np.array([60.0, 90.0]),
        origin_index=np.array([0, 0, 1, 1]),
        school_index=np.array([0, 1, 0, 1]),
        time_s=np.array([300.0, 1200.0, 600.0, 720.0]),
        threshold_s=900.0,
    )
    np.testing.assert_allclose(ratio, [0.4, 1.8])
    np.testing.assert_allclose(seats_per_child, [0.4, 2.2])


def test_capacity_gap_table_from_route_nearest_output() -> None:
    demand = pd.DataFrame({"ward_code": ["A", "B", "C"], "demand": [100.0, 50.0, 30.0]})
    schools = pd.DataFrame({"school_code": ["S1", "S2"], "seats": [60.0, 90.0]})
    times = pd.DataFrame({
        "origin_id": ["A", "A", "B", "B"],
        "rank": [1, 2, 1, 2],
        "school_code": ["S1", "S2", "S1", "S2"],
        "distance_m": [1000, 4000, 2000, 2400],
        "time_s": [300.0, 1200.0, 600.0, 720.0],
    })
    table = capacity_gaps(demand, schools, times, threshold_min=15).set_index("ward_code")
    assert table.loc["A", "seats_within_threshold"] == 60
    assert table.loc["B", "seats_within_threshold"] == 150
    assert table.loc["A", "accessible_seats"] == pytest.approx(40.0)
    assert table.loc["A", "shortfall_seats"] == pytest.approx(60.0)
    assert table.loc["B", "shortfall_seats"] == pytest.approx(0.0)
    # C reaches nothing: its whole demand is short and it has no nearest time.
    assert table.loc["C", "shortfall_seats"] == pytest.approx(30.0)
    assert np.isnan(table.loc["C", "nearest_time_s"])
    assert table.index[0] == "A"  # largest shortfall first


def test_total_accessible_seats_never_exceed_total_seats() -> None:
    rng = np.random.default_rng(2)
    n, m = 40, 12
    pairs = [(i, j) for i in range(n) for j in range(m) if rng.random() < 0.3]
    origin = np.array([p[0] for p in pairs])
    school = np.array([p[1] for p in pairs])
    time_s = rng.uniform(0, 1800, len(pairs))
    demand = rng.uniform(10, 200, n)
    seats = rng.uniform(10, 300, m)
    for decay in ("binary", "gaussian"):
        access, _ = two_step_fca(demand, seats, origin, school, time_s, 1200.0, decay)
        assert (access * demand).sum() <= seats.sum() + 1e-6


def test_gaussian_decay_is_one_at_zero_and_zero_beyond_threshold() -> None:
    weights = decay_weights(np.array([0.0, 450.0, 900.0, 901.0]), 900.0, "gaussian")
    assert weights[0] == pytest.approx(1.0)
    assert 0 < weights[1] < 1
    assert weights[2] == pytest.approx(0.0)
    assert weights[3] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    n_origins=st.integers(1, 12),
    n_schools=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    decay=st.sampled_from(["binary", "gaussian"]),
)
def test_two_step_fca_hands_out_exactly_the_reachable_seats(
    n_origins: int, n_schools: int, seed: int, decay: str
) -> None:
    # sum_i D_i A_i = sum_j R_j sum_i D_i f_ij = sum of seats of schools somebody reaches.
    rng = np.random.default_rng(seed)
    mask = rng.random((n_origins, n_schools)) < 0.5
    origin, school = np.nonzero(mask)
    time_s = rng.uniform(0, 1500, len(origin))
    demand = rng.uniform(1, 100, n_origins)
    seats = rng.uniform(0, 100, n_schools)
    access, ratio = two_step_fca(demand, seats, origin.astype(np.int64), school.astype(np.int64),
                                 time_s, 1200.0, decay)  # type: ignore[arg-type]
    weights = decay_weights(time_s, 1200.0, decay)  # type: ignore[arg-type]
    reached = np.bincount(school, weights=demand[origin] * weights, minlength=n_schools) > 0
    assert (access * demand).sum() == pytest.approx(seats[reached].sum(), rel=1e-9, abs=1e-9)
    assert (ratio[~reached] == 0).all()
