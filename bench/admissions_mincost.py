"""Benchmark: min-cost allocation (OR-tools) on a grade-1 round, against networkx.

Prints one line per figure. Target: 113,000 applicants x 10 candidate schools in under 10 s.
Baseline: ``networkx.max_flow_min_cost`` on the same network at 5,000 applicants (it is too
slow for the full round), with the same optimal total distance (checked).

Run: ``.venv/bin/python bench/admissions_mincost.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from admissions_synthetic import grade1_round

from admissions import allocate, min_cost_assignment
from admissions.min_cost import COST_SCALE
from admissions.problem import AdmissionProblem


def networkx_total(problem: AdmissionProblem) -> tuple[float, int, float]:
    """(seconds, placed, total distance in metres) with networkx's max-flow min-cost."""
    start = time.perf_counter()
    graph = nx.DiGraph()
    n = problem.n_applicants
    for a in range(n):
        graph.add_edge("source", ("a", a), capacity=1, weight=0)
        for j in range(problem.max_choices):
            s = int(problem.choices[a, j])
            if s >= 0:
                cost = round(float(problem.distance_m[a, j]) * COST_SCALE)
                graph.add_edge(("a", a), ("s", s), capacity=1, weight=cost)
    for s in range(problem.n_schools):
        graph.add_edge(("s", s), "sink", capacity=int(problem.capacity[s]), weight=0)
    flow = nx.max_flow_min_cost(graph, "source", "sink")
    seconds = time.perf_counter() - start
    placed = sum(flow["source"].values())
    total = nx.cost_of_flow(graph, flow) / COST_SCALE
    return seconds, placed, total


def main() -> None:
    """Print the figures."""
    big = grade1_round(113_000, 10)
    start = time.perf_counter()
    result = allocate(big, "mincost")
    seconds = time.perf_counter() - start
    allocate(big, "da", seed=1)  # load the numba kernels
    start = time.perf_counter()
    da = allocate(big, "da", seed=1)
    da_seconds = time.perf_counter() - start
    n, k = big.choices.shape
    print(f"mincost grade1 {n} applicants x {k} candidates, {big.n_schools} schools: "
          f"{seconds:.2f} s (target < 10 s)")
    print(f"da (general, per-school priorities) on the same round: {da_seconds * 1000:.0f} ms")
    print(f"mincost placed {int(result.placed.sum())}, da placed {int(da.placed.sum())}")
    print(f"mincost mean distance {np.nanmean(result.distance_m):.0f} m, "
          f"da mean distance {np.nanmean(da.distance_m):.0f} m (straight-line)")

    small = grade1_round(5_000, 10, seed=5)
    # same total seats ratio, fewer schools' worth of seats: scale capacities down
    baseline, placed, total = networkx_total(small)
    start = time.perf_counter()
    ours = min_cost_assignment(small.choices, small.distance_m, small.capacity)
    ours_seconds = time.perf_counter() - start
    ours_rows = np.flatnonzero(ours[0] >= 0)
    ours_total = float(small.distance_m[ours_rows, ours[1][ours_rows]].sum())
    print(f"networkx max_flow_min_cost 5000 applicants: {baseline:.2f} s")
    print(f"edugis mincost 5000 applicants: {ours_seconds * 1000:.1f} ms")
    print(f"same optimum as networkx: placed {placed} vs {len(ours_rows)}, "
          f"total {total:.0f} m vs {ours_total:.0f} m")
    print(f"ratio networkx / edugis mincost: {baseline / ours_seconds:.0f}x")


if __name__ == "__main__":
    main()
