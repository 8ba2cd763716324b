"""Benchmark: new-school siting, exact MILP vs vertex substitution vs spopt (PuLP + CBC).

Instances are road-like travel-time matrices (Manhattan distance with a detour factor and
slower speeds near the centre) over a 30 x 25 km city with clustered demand. Prints one
line per figure: run times, objectives, gaps to the proven bound, coverage and mean travel
time before (existing schools) and after, and the time ratio against spopt's ``PMedian``
solved by its bundled CBC on the same matrix, measured in the same run.

Run: ``.venv/bin/python bench/forecasting_siting.py [--skip-spopt] [--time-limit 60]``
"""

from __future__ import annotations

import argparse
import time
from typing import get_args

import numpy as np
import numpy.typing as npt

from forecasting.siting import (
    PMedian,
    SitingProblem,
    SitingResult,
    best_of,
    siting_model,
    siting_summary,
    solve_exact,
    solve_heuristic,
)
from forecasting.vocabulary import ModelName

THRESHOLD_S = 15 * 60.0


def road_like_times(
    origins: npt.NDArray[np.float64], targets: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Motorbike-like times in seconds: Manhattan x 1.15, 18 km/h in the centre to 35 km/h out."""
    manhattan = np.abs(origins[:, None, :] - targets[None, :, :]).sum(axis=2) * 1.15
    centre = np.array([15000.0, 12500.0])
    radius = np.linalg.norm((origins[:, None, :] + targets[None, :, :]) / 2 - centre, axis=2)
    speed_ms = (18.0 + 17.0 * np.clip(radius / 15000.0, 0, 1)) / 3.6
    times = manhattan / speed_ms * rng.uniform(0.9, 1.1, manhattan.shape) + 60.0
    return np.asarray(times, dtype=np.float64)


def instance(n_demand: int, n_candidates: int, n_existing: int, seed: int) -> SitingProblem:
    """Clustered demand (ward centroids), uniform candidates, optional existing schools."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([3000, 3000], [27000, 22000], (8, 2))
    demand = centres[rng.integers(0, 8, n_demand)] + rng.normal(0, 2500, (n_demand, 2))
    demand = np.clip(demand, 0, [30000, 25000])
    candidates = rng.uniform([0, 0], [30000, 25000], (n_candidates, 2))
    weights = np.exp(rng.normal(np.log(400), 0.6, n_demand)).round()
    existing_time = None
    if n_existing:
        schools = centres[rng.integers(0, 8, n_existing)] + rng.normal(0, 4000, (n_existing, 2))
        existing_time = road_like_times(demand, schools, rng).min(axis=1)
    return SitingProblem.from_matrix(road_like_times(demand, candidates, rng), weights, existing_time)


def report(label: str, result: SitingResult) -> None:
    bound = ""
    if result.bound is not None:
        bound = f" bound={result.bound:.6g} proven_optimal={result.proven_optimal}"
    gap = "" if result.gap is None else f" solver_gap={result.gap:.4%}"
    print(f"{label}: {result.method} time={result.seconds:.2f}s objective={result.objective:.6g}{bound}{gap}")


def compare(label: str, problem: SitingProblem, p: int, model: ModelName, time_limit_s: float) -> None:
    siting = siting_model(model, p, THRESHOLD_S)
    heuristic = solve_heuristic(problem, siting)
    report(f"{label} {model}", heuristic)
    exact = solve_exact(problem, siting, time_limit_s)
    report(f"{label} {model}", exact)
    if exact.bound is not None:
        gap = abs(heuristic.objective - exact.bound) / max(abs(exact.bound), 1e-12)
        what = "optimum" if exact.proven_optimal else "proven bound"
        print(f"{label} {model}: heuristic gap to {what} {gap:.4%}; "
              f"time ratio exact/heuristic {exact.seconds / heuristic.seconds:.1f}")
    best = best_of(siting, exact, heuristic)
    summary = siting_summary(problem, best.sites, THRESHOLD_S).set_index("scenario")
    for scenario in ("before", "after"):
        row = summary.loc[scenario]
        mean_min = row["mean_time_s"] / 60 if np.isfinite(row["mean_time_s"]) else float("nan")
        print(f"{label} {model} {scenario}: covered within 15 min {row['covered_share']:.1%}, "
              f"mean time {mean_min:.2f} min")


def spopt_p_median(problem: SitingProblem, p: int, time_limit_s: float) -> tuple[float, float, str]:
    """Solve with spopt's PMedian (classic Hakimi/ReVelle formulation) and PuLP's CBC."""
    import pulp
    from spopt.locate import PMedian

    started = time.perf_counter()
    model = PMedian.from_cost_matrix(problem.time_s, problem.weights, p_facilities=p)
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=int(time_limit_s)))
    seconds = time.perf_counter() - started
    status = pulp.LpStatus[model.problem.status]
    return seconds, float(pulp.value(model.problem.objective)), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--skip-spopt", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()

    city = instance(300, 2000, 40, seed=1)
    print("instance A: 300 demand wards x 2000 candidate sites, 40 existing schools, p=5")
    for model in get_args(ModelName):
        compare("A", city, 5, model, args.time_limit)

    greenfield = instance(300, 2000, 0, seed=2)
    print("instance B: 300 demand wards x 2000 candidate sites, no existing school, p=5")
    for model in get_args(ModelName):
        compare("B", greenfield, 5, model, args.time_limit)

    print("instance D: same as B with p=20 (the Lagrangian bound no longer closes the gap alone)")
    compare("D", greenfield, 20, "p_median", args.time_limit)

    small = instance(100, 1000, 0, seed=3)
    print("instance C: 100 demand wards x 1000 candidate sites, no existing school, p=10")
    heuristic = solve_heuristic(small, PMedian(10))
    report("C p_median", heuristic)
    exact = solve_exact(small, PMedian(10), time_limit_s=args.time_limit)
    report("C p_median", exact)
    if not args.skip_spopt:
        seconds, objective, status = spopt_p_median(small, 10, 300)
        print(f"C p_median: spopt PMedian + CBC time={seconds:.2f}s objective={objective:.6g} "
              f"status={status}")
        print(f"C p_median: time ratio spopt/exact {seconds / exact.seconds:.1f}, "
              f"spopt/heuristic {seconds / heuristic.seconds:.1f}")
        print(f"C p_median: objective ratio exact/spopt {exact.objective / objective:.6f}, "
              f"heuristic/spopt {heuristic.objective / objective:.6f}")
    print(f"total time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
