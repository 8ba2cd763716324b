"""Lagrangian lower bound for the p-median and the candidate-elimination test it allows.

Relaxing "every demand point is assigned once" with multipliers ``lambda_i`` leaves
``L(lambda) = sum_i lambda_i + sum_i min(0, w_i e_i - lambda_i) + (sum of the p smallest
rho_j)`` with ``rho_j = sum_i min(0, w_i t_ij - lambda_i)`` (``e_i``: time to the existing
school, always open). Every ``L(lambda)`` is a lower bound; subgradient steps raise it
(Beasley 1993). A candidate ``j`` outside the ``p`` smallest ``rho`` can only be in a
solution costing at least ``L + rho_j - rho_(p)``; if that exceeds the incumbent it is
dropped before the exact model is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from forecasting.siting import SitingProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LagrangianBound:
    """Best lower bound found and the candidates that may still be in an improving solution."""

    bound: float
    keep: npt.NDArray[np.bool_]
    iterations: int


def _evaluate(
    weighted: FloatArray, existing_weighted: FloatArray, multipliers: FloatArray, p: int
) -> tuple[float, FloatArray, IntArray]:
    reduced = np.minimum(weighted - multipliers[:, None], 0.0)
    rho = reduced.sum(axis=0)
    fixed = float(np.minimum(existing_weighted - multipliers, 0.0).sum())
    chosen = np.argpartition(rho, p - 1)[:p].astype(np.int64)
    value = float(multipliers.sum()) + fixed + float(rho[chosen].sum())
    return value, rho, chosen


def p_median_lagrangian(
    problem: SitingProblem,
    p: int,
    upper_bound: float,
    served_by_incumbent_s: FloatArray,
    max_iterations: int = 600,
    tolerance: float = 1e-6,
) -> LagrangianBound:
    """Raise a Lagrangian lower bound by subgradient steps and run the elimination test.

    Parameters
    ----------
    problem
        The instance.
    p
        Number of sites.
    upper_bound
        Cost of the incumbent (a feasible solution).
    served_by_incumbent_s
        Each point's time under the incumbent; ``w_i`` times it starts the multipliers.
    max_iterations
        Subgradient iterations.
    tolerance
        Stop when the relative gap to ``upper_bound`` falls below it.
    """
    weights = problem.weights
    weighted = problem.time_s * weights[:, None]
    existing = np.where(np.isfinite(problem.existing_time_s), problem.existing_time_s, np.inf)
    existing_weighted = np.where(np.isfinite(existing), existing * weights, np.inf)
    multipliers = weights * served_by_incumbent_s
    best_value, best_rho = -np.inf, np.zeros(problem.n_candidates)
    step_scale, stalled = 2.0, 0
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        value, rho, chosen = _evaluate(weighted, existing_weighted, multipliers, p)
        if value > best_value + 1e-12 * abs(value):
            best_value, best_rho = value, rho
            stalled = 0
        else:
            stalled += 1
            if stalled >= 20:
                step_scale, stalled = step_scale / 2, 0
        if upper_bound - best_value <= tolerance * abs(upper_bound) or step_scale < 1e-6:
            break
        # Subgradient of the relaxed constraints: 1 - number of open facilities serving i.
        serving = (weighted[:, chosen] - multipliers[:, None] < 0).sum(axis=1)
        serving += (existing_weighted - multipliers < 0).astype(np.int64)
        gradient = 1.0 - serving
        norm = float(gradient @ gradient)
        if norm == 0:
            break
        multipliers = np.maximum(
            multipliers + step_scale * (upper_bound - value) / norm * gradient, 0.0
        )
    order = np.sort(best_rho)
    pth = order[p - 1]
    # A candidate among the p smallest keeps its own bound; others pay rho_j - rho_(p).
    bound_if_open = best_value + np.maximum(best_rho - pth, 0.0)
    keep = bound_if_open <= upper_bound * (1 + 1e-9) + 1e-9
    return LagrangianBound(bound=best_value, keep=keep, iterations=iteration)
