"""Exact siting models as sparse MILPs, solved by HiGHS (SciPy) or OR-tools ``pywraplp``.

Variables are ``y`` (one binary per candidate) followed by model-specific continuous ones.
Every model is written as ``lower <= A x <= upper`` with a sparse ``A`` so that large
instances are built with array operations, not one Python call per coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

if TYPE_CHECKING:
    from forecasting.siting import SitingProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SparseMilp:
    """``minimise c x + constant`` s.t. ``row_lower <= A x <= row_upper``, bounds, integrality."""

    cost: FloatArray
    constant: float
    matrix: sparse.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    integer: npt.NDArray[np.bool_]
    var_upper: FloatArray


def _p_median_model(problem: SitingProblem, p: int, upper_bound: float) -> SparseMilp:
    """Elloumi's radius formulation, written as a chain per demand point.

    For demand point ``i`` with distinct times ``L_0 < ... < L_K`` (those that can still be
    optimal), ``z_k = 1`` means "nothing open within ``L_k``". Its cost is
    ``L_0 + sum_k (L_{k+1} - L_k) z_k`` with ``z_0 >= 1 - sum_{t_ij = L_0} y_j`` and
    ``z_k >= z_{k-1} - sum_{t_ij = L_k} y_j``; this chain has the same LP relaxation as the
    original (each ``z_k = max(0, 1 - sum_{t_ij <= L_k} y_j)``) with far fewer nonzeros.
    A level above the existing school's time is never used; a level above
    ``cap_i = min_j t_ij + (UB - LB_0) / w_i`` cannot be in a solution better than the
    heuristic's ``UB``, where ``LB_0`` is the cost with every point at its nearest site.
    """
    matrix, weights, existing = problem.time_s, problem.weights, problem.existing_time_s
    n_candidates = problem.n_candidates
    nearest = np.minimum(matrix.min(axis=1), existing)
    slack = max(upper_bound - float(weights @ nearest), 0.0) * (1 + 1e-9) + 1e-9
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    lower: list[FloatArray] = []
    costs: list[FloatArray] = []
    constant = 0.0
    next_row = 0
    next_z = n_candidates
    for i in np.flatnonzero(weights > 0):
        times = matrix[i]
        cap = nearest[i] + slack / weights[i]
        if existing[i] <= cap:
            below = times < existing[i]
            levels = np.unique(np.append(times[below], existing[i]))
            closed_top = False
        else:
            below = times <= cap
            levels = np.unique(times[below])
            closed_top = True
        constant += weights[i] * levels[0]
        n_z = len(levels) - 1
        z_cols = next_z + np.arange(n_z, dtype=np.int64)
        costs.append(weights[i] * np.diff(levels))
        n_rows = n_z + (1 if closed_top else 0)
        row_ids = next_row + np.arange(n_rows, dtype=np.int64)
        # z_k with +1 on row k; z_{k-1} with -1 on row k (k >= 1, including the closing row).
        rows += [row_ids[:n_z], row_ids[1:n_rows]]
        cols += [z_cols, z_cols[: max(n_rows - 1, 0)]]
        vals += [np.ones(n_z), -np.ones(max(n_rows - 1, 0))]
        site_level = np.searchsorted(levels, times[below])
        sites = np.flatnonzero(below)
        in_rows = site_level < n_rows
        rows.append(row_ids[site_level[in_rows]])
        cols.append(sites[in_rows].astype(np.int64))
        vals.append(np.ones(int(in_rows.sum())))
        rhs = np.zeros(n_rows)
        if n_rows:
            rhs[0] = 1.0
        lower.append(rhs)
        next_row += n_rows
        next_z += n_z
    # Exactly p sites.
    rows.append(np.full(n_candidates, next_row, dtype=np.int64))
    cols.append(np.arange(n_candidates, dtype=np.int64))
    vals.append(np.ones(n_candidates))
    n_rows_total = next_row + 1
    a = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows_total, next_z),
    )
    row_lower = np.concatenate([*lower, [float(p)]]) if lower else np.array([float(p)])
    row_upper = np.full(n_rows_total, np.inf)
    row_upper[-1] = float(p)
    cost = np.concatenate([np.zeros(n_candidates), *costs])
    integer = np.zeros(next_z, dtype=bool)
    integer[:n_candidates] = True
    return SparseMilp(cost, constant, a, row_lower, row_upper, integer, np.ones(next_z))


def _coverage_model(problem: SitingProblem, p: int, threshold_s: float) -> SparseMilp:
    """Maximal coverage: maximise ``sum w_i u_i``, ``u_i <= sum_{t_ij <= T} y_j``, ``sum y = p``.

    Points already covered by an existing school, and points no candidate covers, are
    constants and left out. Written as a minimisation of ``-sum w_i u_i``.
    """
    cover = problem.time_s <= threshold_s
    open_points = np.flatnonzero(
        (problem.existing_time_s > threshold_s) & cover.any(axis=1) & (problem.weights > 0)
    )
    n_candidates = problem.n_candidates
    n_vars = n_candidates + len(open_points)
    point_rows, site_cols = np.nonzero(cover[open_points])
    rows = np.concatenate(
        [np.arange(len(open_points)), point_rows, np.full(n_candidates, len(open_points))]
    )
    cols = np.concatenate(
        [n_candidates + np.arange(len(open_points)), site_cols, np.arange(n_candidates)]
    )
    vals = np.concatenate([np.ones(len(open_points)), -np.ones(len(point_rows)), np.ones(n_candidates)])
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(len(open_points) + 1, n_vars))
    row_lower = np.concatenate([np.full(len(open_points), -np.inf), [float(p)]])
    row_upper = np.concatenate([np.zeros(len(open_points)), [float(p)]])
    cost = np.concatenate([np.zeros(n_candidates), -problem.weights[open_points]])
    integer = np.zeros(n_vars, dtype=bool)
    integer[:n_candidates] = True
    constant = -float(problem.weights[problem.existing_time_s <= threshold_s].sum())
    return SparseMilp(cost, constant, a, row_lower, row_upper, integer, np.ones(n_vars))


def _solve_highs(model: SparseMilp, time_limit_s: float) -> tuple[FloatArray | None, float, bool]:
    result = optimize.milp(
        model.cost,
        integrality=model.integer.astype(np.int64),
        bounds=optimize.Bounds(np.zeros(len(model.cost)), model.var_upper),
        constraints=optimize.LinearConstraint(model.matrix, model.row_lower, model.row_upper),
        options={"time_limit": time_limit_s, "disp": False, "mip_rel_gap": 1e-6},
    )
    solution = None if result.x is None else np.asarray(result.x, dtype=np.float64)
    bound = getattr(result, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        bound = result.fun if result.status == 0 else -np.inf
    return solution, float(bound) + model.constant, bool(result.status == 0)


def _solve_ortools(
    model: SparseMilp, time_limit_s: float, solver_id: str
) -> tuple[FloatArray | None, float, bool]:
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(solver_id)
    if solver is None:
        raise ValueError(f"OR-tools solver {solver_id!r} is not available")
    solver.SetTimeLimit(int(time_limit_s * 1000))
    variables = [
        solver.IntVar(0.0, float(up), f"y{k}") if integer else solver.NumVar(0.0, float(up), f"z{k}")
        for k, (integer, up) in enumerate(zip(model.integer, model.var_upper, strict=True))
    ]
    csr = model.matrix
    for r in range(csr.shape[0]):
        low = model.row_lower[r] if np.isfinite(model.row_lower[r]) else -solver.infinity()
        up = model.row_upper[r] if np.isfinite(model.row_upper[r]) else solver.infinity()
        constraint = solver.RowConstraint(float(low), float(up), "")
        for k in range(csr.indptr[r], csr.indptr[r + 1]):
            constraint.SetCoefficient(variables[int(csr.indices[k])], float(csr.data[k]))
    objective = solver.Objective()
    for var, c in zip(variables, model.cost, strict=True):
        if c:
            objective.SetCoefficient(var, float(c))
    objective.SetMinimization()
    status = solver.Solve()
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return None, -np.inf, False
    solution = np.array([v.solution_value() for v in variables])
    optimal = status == pywraplp.Solver.OPTIMAL
    bound = objective.Value() if optimal else objective.BestBound()
    return solution, float(bound) + model.constant, optimal


def _solve(model: SparseMilp, time_limit_s: float, backend: str) -> tuple[FloatArray | None, float, bool]:
    if backend.lower() == "highs":
        return _solve_highs(model, time_limit_s)
    return _solve_ortools(model, time_limit_s, backend.upper())


def _chosen(solution: FloatArray | None, n_candidates: int, p: int) -> IntArray | None:
    if solution is None:
        return None
    # The p largest y values: exact for an integral solution, robust to 1e-9 noise.
    return np.sort(np.argsort(-solution[:n_candidates], kind="stable")[:p]).astype(np.int64)


def solve_p_median_milp(
    problem: SitingProblem, p: int, upper_bound: float, time_limit_s: float, backend: str
) -> tuple[IntArray | None, float, float, bool]:
    """Solve the p-median exactly; returns ``(sites, objective, lower_bound, optimal)``."""
    model = _p_median_model(problem, p, upper_bound)
    solution, bound, optimal = _solve(model, time_limit_s, backend)
    sites = _chosen(solution, problem.n_candidates, p)
    objective = float(model.cost @ solution) + model.constant if solution is not None else np.inf
    return sites, objective, min(bound, upper_bound) if np.isfinite(bound) else bound, optimal


def solve_coverage_milp(
    problem: SitingProblem, p: int, threshold_s: float, time_limit_s: float, backend: str
) -> tuple[IntArray, float, float, bool]:
    """Solve maximal coverage exactly; returns ``(sites, covered, upper_bound, optimal)``."""
    model = _coverage_model(problem, p, threshold_s)
    solution, bound, optimal = _solve(model, time_limit_s, backend)
    sites = _chosen(solution, problem.n_candidates, p)
    if sites is None:
        raise RuntimeError("the coverage MILP found no solution within the time limit")
    covered = -(float(model.cost @ solution) + model.constant) if solution is not None else 0.0
    return sites, covered, -bound, optimal
