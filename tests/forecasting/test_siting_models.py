"""p-median and maximal coverage siting, exact and heuristic, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from forecasting.siting import (
    MODELS,
    MaxCoverage,
    PMedian,
    SitingProblem,
    covered_demand,
    p_median_cost,
    siting_model,
    siting_summary,
    solve_exact,
    solve_heuristic,
)

THRESHOLD_S = 900.0


def _instance(seed: int, n: int = 18, m: int = 11, existing: bool = True) -> SitingProblem:
    rng = np.random.default_rng(seed)
    homes = rng.uniform(0, 15000, (n, 2))
    sites = rng.uniform(0, 15000, (m, 2))
    time_s = np.linalg.norm(homes[:, None] - sites[None], axis=2) / 7.0
    weights = rng.integers(20, 400, n).astype(float)
    existing_time = None
    if existing:
        schools = rng.uniform(0, 15000, (3, 2))
        existing_time = (np.linalg.norm(homes[:, None] - schools[None], axis=2) / 7.0).min(axis=1)
    return SitingProblem.from_matrix(time_s, weights, existing_time)


def _brute_force(problem: SitingProblem, p: int, model: str) -> float:
    best = np.inf if model == "p_median" else -np.inf
    for combo in itertools.combinations(range(problem.n_candidates), p):
        sites = np.array(combo)
        if model == "p_median":
            best = min(best, p_median_cost(problem, sites))
        else:
            best = max(best, covered_demand(problem, sites, THRESHOLD_S))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("existing", [True, False])
@pytest.mark.parametrize("model", ["p_median", "max_coverage"])
def test_exact_and_heuristic_match_brute_force(seed: int, existing: bool, model: str) -> None:
    problem = _instance(seed, existing=existing)
    optimum = _brute_force(problem, 3, model)
    exact = solve_exact(problem, siting_model(model, 3, THRESHOLD_S))
    heuristic = solve_heuristic(problem, siting_model(model, 3, THRESHOLD_S))
    assert exact.proven_optimal
    assert exact.objective == pytest.approx(optimum)
    assert exact.bound == pytest.approx(optimum, rel=1e-6)
    assert heuristic.objective == pytest.approx(optimum)
    assert len(set(exact.sites.tolist())) == 3


@pytest.mark.parametrize("backend", ["SCIP", "CBC"])
def test_or_tools_backends_agree_with_brute_force(backend: str) -> None:
    problem = _instance(4)
    for model in ("p_median", "max_coverage"):
        result = solve_exact(problem, siting_model(model, 2, THRESHOLD_S), backend=backend)
        assert result.objective == pytest.approx(_brute_force(problem, 2, model))


def test_summary_reports_before_and_after() -> None:
    problem = _instance(5)
    result = solve_heuristic(problem, PMedian(2))
    summary = siting_summary(problem, result.sites, THRESHOLD_S).set_index("scenario")
    assert summary.loc["after", "mean_time_s"] <= summary.loc["before", "mean_time_s"]
    assert summary.loc["after", "covered_share"] >= summary.loc["before", "covered_share"]
    expected = p_median_cost(problem, result.sites) / problem.weights.sum()
    assert summary.loc["after", "mean_time_s"] == pytest.approx(expected)


def test_problem_from_sparse_frames_penalises_missing_pairs() -> None:
    demand = pd.DataFrame({"ward_code": ["A", "B"], "demand": [10.0, 20.0]})
    times = pd.DataFrame({"origin_id": ["A", "B", "A"], "site_id": ["x", "x", "y"],
                          "time_s": [100.0, 200.0, 50.0]})
    existing = pd.DataFrame({"origin_id": ["B"], "school_code": ["S"], "time_s": [120.0]})
    problem = SitingProblem.from_long(demand, times, existing)
    assert problem.candidate_ids == ["x", "y"]
    np.testing.assert_allclose(problem.time_s, [[100.0, 50.0], [200.0, 400.0]])
    np.testing.assert_allclose(problem.existing_time_s, [np.inf, 120.0])
    result = solve_exact(problem, PMedian(1))
    assert problem.candidate_ids[int(result.sites[0])] == "y"


def test_p_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="p must be"):
        solve_heuristic(_instance(0), PMedian(0))


def test_models_are_parameter_objects_registered_by_their_stored_name() -> None:
    assert siting_model("p_median", 3, THRESHOLD_S) == PMedian(3)
    assert siting_model("max_coverage", 3, THRESHOLD_S) == MaxCoverage(3, THRESHOLD_S)
    assert {name: cls.name for name, cls in MODELS.items()} == {
        "p_median": "p_median", "max_coverage": "max_coverage"}
    problem = _instance(3)
    assert solve_heuristic(problem, MaxCoverage(2, THRESHOLD_S)).model == "max_coverage"
    assert solve_exact(problem, PMedian(2)).model == "p_median"


@pytest.mark.parametrize("name", ["p-median", "max_cover", "", "P_MEDIAN"])
def test_an_unknown_model_is_refused_naming_the_known_ones(name: str) -> None:
    # it used to become max_coverage silently
    with pytest.raises(ValueError, match="choose one of p_median, max_coverage"):
        siting_model(name, 3, THRESHOLD_S)


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_is_valid_and_never_drops_an_optimal_site(seed: int) -> None:
    from forecasting._lagrangian import p_median_lagrangian
    from forecasting.siting import served_time_s

    problem = _instance(seed, n=16, m=10, existing=seed % 2 == 0)
    best_cost, best_sites = np.inf, np.array([], dtype=np.int64)
    for combo in itertools.combinations(range(problem.n_candidates), 3):
        cost = p_median_cost(problem, np.array(combo))
        if cost < best_cost:
            best_cost, best_sites = cost, np.array(combo)
    # A deliberately poor incumbent: the bound must stay below the optimum regardless.
    poor = np.argsort(-problem.time_s.mean(axis=0))[:3].astype(np.int64)
    poor_cost = p_median_cost(problem, poor)
    relaxation = p_median_lagrangian(problem, 3, poor_cost, served_time_s(problem, poor))
    assert relaxation.bound <= best_cost * (1 + 1e-9)
    assert relaxation.keep[best_sites].all()
    # With the optimum as incumbent the bound is close (the p-median LP is tight).
    tight = p_median_lagrangian(problem, 3, best_cost, served_time_s(problem, best_sites))
    assert tight.bound <= best_cost * (1 + 1e-9)
    assert tight.bound >= 0.9 * best_cost


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("backend", ["highs", "SCIP"])
def test_radius_milp_alone_finds_the_brute_force_optimum(seed: int, backend: str) -> None:
    from forecasting._milp import solve_p_median_milp

    problem = _instance(seed, existing=seed == 0)
    optimum = _brute_force(problem, 3, "p_median")
    # A loose incumbent bound keeps nearly every level in the model.
    sites, objective, bound, optimal = solve_p_median_milp(problem, 3, 10 * optimum, 30.0, backend)
    assert optimal and sites is not None
    assert p_median_cost(problem, sites) == pytest.approx(optimum)
    assert objective == pytest.approx(optimum)
    assert bound == pytest.approx(optimum, rel=1e-6)


def test_route_nearest_output_is_accepted_as_candidate_times() -> None:
    demand = pd.DataFrame({"ward_code": ["A", "B"], "demand": [10.0, 20.0]})
    nearest = pd.DataFrame({"origin_id": ["A", "B"], "rank": [1, 1], "school_code": ["x", "x"],
                            "distance_m": [900.0, 1500.0], "time_s": [100.0, 200.0]})
    problem = SitingProblem.from_long(demand, nearest)
    assert problem.candidate_ids == ["x"]
    np.testing.assert_allclose(problem.time_s[:, 0], [100.0, 200.0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("model", ["p_median", "max_coverage"])
def test_vertex_substitution_stops_only_at_a_swap_local_optimum(seed: int, model: str) -> None:
    from forecasting.siting import _coverage_matrix, _swap_coverage, _swap_p_median

    problem = _instance(seed, n=30, m=25, existing=seed % 2 == 1)
    start = np.random.default_rng(seed).choice(25, size=4, replace=False).astype(np.int64)
    if model == "p_median":
        sites, value = _swap_p_median(problem, start)
    else:
        sites, value = _swap_coverage(problem, _coverage_matrix(problem, THRESHOLD_S), THRESHOLD_S, start)

    def score(chosen: np.ndarray) -> float:
        if model == "p_median":
            return p_median_cost(problem, chosen)
        return -covered_demand(problem, chosen, THRESHOLD_S)

    current = score(sites)
    assert current == pytest.approx(value if model == "p_median" else -value)
    for position in range(len(sites)):
        for candidate in set(range(25)) - set(sites.tolist()):
            swapped = sites.copy()
            swapped[position] = candidate
            assert score(swapped) >= current - 1e-9 * abs(current)
