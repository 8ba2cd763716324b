"""New-school siting: p-median and maximal coverage, exact (MILP) and by vertex substitution.

Both models choose ``p`` candidate sites on a demand x candidate road-time matrix and keep
the existing schools open: a child's travel time is the smaller of the time to the nearest
existing school and to the nearest new site.

* :class:`PMedian`: least demand-weighted travel time.
* :class:`MaxCoverage` (MCLP, Church and ReVelle 1974): most demand within ``threshold_s``.

Each model is a parameter object (as in spopt) carrying its own parameters and the parts of
the solvers that differ; :data:`MODELS` maps the stored names to the classes and
:func:`siting_model` builds one from a name, refusing unknown names.

The heuristic is the vertex substitution of Teitz and Bart (1968) with best-improvement
swaps evaluated for all candidates at once (each swap costs one pass over the matrix), run
from a greedy start and a few random starts. The exact models are in :mod:`._milp`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.vocabulary import ModelName
from gis_service.errors import InputError, InvalidValueError, Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SitingProblem:
    """Demand points, candidate sites and existing schools, as travel-time arrays.

    Attributes
    ----------
    time_s
        Travel time demand x candidate in seconds, shape ``(n_demand, n_candidates)``;
        unreachable pairs carry a finite penalty (see :meth:`from_long`).
    weights
        Demand per point (children), shape ``(n_demand,)``.
    existing_time_s
        Time from each demand point to its nearest existing school (``inf`` if none).
    demand_ids, candidate_ids
        Labels of rows and columns.
    """

    time_s: FloatArray
    weights: FloatArray
    existing_time_s: FloatArray
    demand_ids: list[str] = field(default_factory=list)
    candidate_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Check the shapes and values, and label rows and columns by position if unlabelled."""
        n_demand, n_candidates = self.time_s.shape
        if self.weights.shape != (n_demand,) or self.existing_time_s.shape != (n_demand,):
            raise ValueError("weights and existing_time_s must have one value per demand point")
        if not np.all(np.isfinite(self.time_s)) or np.any(self.time_s < 0):
            raise ValueError("time_s must be finite and non-negative (penalise unreachable)")
        if np.any(self.weights < 0):
            raise ValueError("weights must be non-negative")
        if not self.demand_ids:
            object.__setattr__(self, "demand_ids", [str(i) for i in range(n_demand)])
        if not self.candidate_ids:
            object.__setattr__(self, "candidate_ids", [str(j) for j in range(n_candidates)])

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites."""
        return int(self.time_s.shape[1])

    @classmethod
    def from_matrix(
        cls,
        time_s: FloatArray,
        weights: FloatArray,
        existing_time_s: FloatArray | None = None,
        unreachable_time_s: float | None = None,
    ) -> SitingProblem:
        """Build from a dense matrix where ``inf`` or ``nan`` marks unreachable pairs.

        Parameters
        ----------
        unreachable_time_s
            Time charged for unreachable pairs; default twice the largest finite time.
        """
        matrix = np.asarray(time_s, dtype=np.float64).copy()
        bad = ~np.isfinite(matrix)
        if bad.any():
            finite = matrix[~bad]
            penalty = unreachable_time_s
            if penalty is None:
                penalty = 2.0 * float(finite.max()) if finite.size else 1.0
            matrix[bad] = penalty
        existing = (
            np.full(matrix.shape[0], np.inf)
            if existing_time_s is None
            else np.asarray(existing_time_s, dtype=np.float64)
        )
        return cls(matrix, np.asarray(weights, dtype=np.float64), existing)

    @classmethod
    def from_long(
        cls,
        demand: pd.DataFrame,
        candidate_times: pd.DataFrame,
        existing_times: pd.DataFrame | None = None,
        unreachable_time_s: float | None = None,
    ) -> SitingProblem:
        """Build from CSV-shaped frames.

        Parameters
        ----------
        demand
            ``ward_code, demand``.
        candidate_times
            ``origin_id, site_id, time_s`` (sparse; missing pairs are unreachable). A
            ``school_code`` column stands for ``site_id``, so ``edugis route nearest`` run
            with the candidate sites as schools can be used as is.
        existing_times
            ``origin_id, school_code, time_s`` to existing schools (optional).
        unreachable_time_s
            Time charged for unreachable pairs; default twice the largest listed time.
        """
        if "site_id" not in candidate_times.columns and "school_code" in candidate_times.columns:
            candidate_times = candidate_times.rename(columns={"school_code": "site_id"})
        for frame, name, columns in (
            (demand, "demand", ("ward_code", "demand")),
            (candidate_times, "candidate_times", ("origin_id", "site_id", "time_s")),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise InputError([Problem(name, None, c, "required column is missing") for c in missing])
        demand_ids = demand["ward_code"].astype(str).tolist()
        row_of = pd.Index(demand_ids)
        candidate_ids = sorted(candidate_times["site_id"].astype(str).unique().tolist())
        col_of = pd.Index(candidate_ids)
        rows = row_of.get_indexer(candidate_times["origin_id"].astype(str))
        cols = col_of.get_indexer(candidate_times["site_id"].astype(str))
        keep = rows >= 0
        matrix = np.full((len(demand_ids), len(candidate_ids)), np.inf)
        np.minimum.at(
            matrix, (rows[keep], cols[keep]), candidate_times["time_s"].to_numpy(float)[keep]
        )
        existing = np.full(len(demand_ids), np.inf)
        if existing_times is not None and len(existing_times):
            erows = row_of.get_indexer(existing_times["origin_id"].astype(str))
            ekeep = erows >= 0
            np.minimum.at(existing, erows[ekeep], existing_times["time_s"].to_numpy(float)[ekeep])
        problem = cls.from_matrix(
            matrix, demand["demand"].to_numpy(dtype=np.float64), existing, unreachable_time_s
        )
        return cls(problem.time_s, problem.weights, problem.existing_time_s, demand_ids, candidate_ids)


@dataclass(frozen=True)
class SitingResult:
    """Chosen sites and how they were found.

    ``bound`` is the solver's proven bound on the optimum (a lower bound for p-median, an
    upper bound for coverage); ``None`` for the heuristic.
    """

    model: ModelName
    method: str
    sites: IntArray
    objective: float
    bound: float | None
    proven_optimal: bool
    seconds: float

    @property
    def gap(self) -> float | None:
        """Relative distance between the objective and the proven bound."""
        if self.bound is None:
            return None
        scale = max(abs(self.objective), 1e-12)
        return abs(self.objective - self.bound) / scale


def served_time_s(problem: SitingProblem, sites: IntArray) -> FloatArray:
    """Travel time of each demand point to its nearest school (existing or new site)."""
    best = problem.existing_time_s.copy()
    if len(sites):
        best = np.minimum(best, problem.time_s[:, np.asarray(sites)].min(axis=1))
    return best


def p_median_cost(problem: SitingProblem, sites: IntArray) -> float:
    """Demand-weighted total travel time with ``sites`` opened."""
    return float(problem.weights @ served_time_s(problem, sites))


def covered_demand(problem: SitingProblem, sites: IntArray, threshold_s: float) -> float:
    """Demand within ``threshold_s`` of an existing school or a site in ``sites``."""
    return float(problem.weights @ (served_time_s(problem, sites) <= threshold_s))


def _check_p(problem: SitingProblem, p: int) -> None:
    if not 1 <= p <= problem.n_candidates:
        raise ValueError(f"p must be between 1 and {problem.n_candidates}, got {p}")


def _swap_p_median(problem: SitingProblem, start: IntArray) -> tuple[IntArray, float]:
    """Best-improvement swaps, every (leaving, entering) pair priced in one pass.

    With ``d1``/``d2`` the nearest and second-nearest open time of each point (existing
    schools included, never removed) and ``c1`` the site giving ``d1``, swapping site ``r``
    for candidate ``j`` costs ``sum_i w_i min(t_ij, d1_i)`` plus, over the points whose
    nearest is ``r``, ``w_i (min(t_ij, d2_i) - min(t_ij, d1_i))`` (Whitaker's fast
    interchange): two passes over the matrix and one ``p x n`` by ``n x m`` product.
    """
    matrix, weights = problem.time_s, problem.weights
    sites = np.array(start, dtype=np.int64)
    n_points, p = matrix.shape[0], len(sites)
    cost = p_median_cost(problem, sites)
    while True:
        open_times = np.column_stack([matrix[:, sites], problem.existing_time_s])
        order = np.argsort(open_times, axis=1, kind="stable")
        nearest = order[:, 0]
        d1 = open_times[np.arange(n_points), nearest]
        d2 = open_times[np.arange(n_points), order[:, 1]]
        with_d1 = np.minimum(matrix, d1[:, None])
        keep_cost = weights @ with_d1
        delta = weights[:, None] * (np.minimum(matrix, d2[:, None]) - with_d1)
        owner = np.zeros((p, n_points))
        served_by_site = nearest < p
        owner[nearest[served_by_site], np.flatnonzero(served_by_site)] = 1.0
        swap_cost = keep_cost[None, :] + owner @ delta
        swap_cost[:, sites] = np.inf
        leaving, entering = np.unravel_index(int(np.argmin(swap_cost)), swap_cost.shape)
        if cost - float(swap_cost[leaving, entering]) <= 1e-9 * max(cost, 1.0):
            return np.sort(sites), cost
        previous = int(sites[leaving])
        sites[leaving] = entering
        new_cost = p_median_cost(problem, sites)
        if new_cost >= cost:  # rounding in the pricing: stop rather than cycle
            sites[leaving] = previous
            return np.sort(sites), cost
        cost = new_cost


def _greedy_p_median(problem: SitingProblem, p: int) -> IntArray:
    current = problem.existing_time_s.copy()
    chosen: list[int] = []
    for _ in range(p):
        if np.all(np.isinf(current)):
            # With nothing open yet, the best single site is the 1-median.
            gain_cost = problem.weights @ problem.time_s
        else:
            gain_cost = problem.weights @ np.minimum(problem.time_s, current[:, None])
        gain_cost[chosen] = np.inf
        entering = int(np.argmin(gain_cost))
        chosen.append(entering)
        current = np.minimum(current, problem.time_s[:, entering])
    return np.array(chosen, dtype=np.int64)


def _coverage_matrix(problem: SitingProblem, threshold_s: float) -> npt.NDArray[np.float64]:
    return (problem.time_s <= threshold_s).astype(np.float64)


def _swap_coverage(
    problem: SitingProblem, cover: npt.NDArray[np.float64], threshold_s: float, start: IntArray
) -> tuple[IntArray, float]:
    """Best-improvement swaps for coverage, every pair priced in one pass.

    Swapping ``r`` for ``j`` gains the uncovered demand ``j`` covers and loses the demand
    only ``r`` covers that ``j`` does not.
    """
    weights = problem.weights
    already = problem.existing_time_s <= threshold_s
    sites = np.array(start, dtype=np.int64)
    value = covered_demand(problem, sites, threshold_s)
    while True:
        site_cover = cover[:, sites]
        count = site_cover.sum(axis=1)
        covered = already | (count > 0)
        gain = (weights * ~covered) @ cover
        # Points whose only cover is site r (and no existing school).
        sole = site_cover * ((count == 1) & ~already)[:, None]
        loss = (sole * weights[:, None]).T @ (1.0 - cover)
        swap_value = value + gain[None, :] - loss
        swap_value[:, sites] = -np.inf
        leaving, entering = np.unravel_index(int(np.argmax(swap_value)), swap_value.shape)
        if float(swap_value[leaving, entering]) - value <= 1e-9 * max(value, 1.0):
            return np.sort(sites), value
        previous = int(sites[leaving])
        sites[leaving] = entering
        new_value = covered_demand(problem, sites, threshold_s)
        if new_value <= value:  # rounding in the pricing: stop rather than cycle
            sites[leaving] = previous
            return np.sort(sites), value
        value = new_value


def _greedy_coverage(
    problem: SitingProblem, cover: npt.NDArray[np.float64], p: int, threshold_s: float
) -> IntArray:
    covered = problem.existing_time_s <= threshold_s
    chosen: list[int] = []
    for _ in range(p):
        gain = (problem.weights * ~covered) @ cover
        # Ties (typically zero gain late on) are broken by the p-median cost, so the
        # spare sites still go where they shorten trips.
        tie_break = -1e-12 * (problem.weights @ problem.time_s) / max(problem.weights.sum(), 1.0)
        score = gain + tie_break
        score[chosen] = -np.inf
        entering = int(np.argmax(score))
        chosen.append(entering)
        covered = covered | (cover[:, entering] > 0)
    return np.array(chosen, dtype=np.int64)


Search = Callable[[IntArray], tuple[IntArray, float]]


@dataclass(frozen=True)
class PMedian:
    """The p-median: open ``p`` sites for the least demand-weighted travel time."""

    p: int
    #: The name stored with the results (``proposed_sites.model``) and given on the CLI and web.
    name: ClassVar[ModelName] = "p_median"
    #: Random starts of the heuristic besides the greedy one.
    random_starts: ClassVar[int] = 4

    @classmethod
    def from_options(cls, p: int, threshold_s: float) -> PMedian:
        """Build the model from the options every siting run has.

        The threshold only reports coverage (:func:`siting_summary`); the p-median does not
        use it.
        """
        return cls(p)

    def objective(self, problem: SitingProblem, sites: IntArray) -> float:
        """Demand-weighted total travel time (smaller is better)."""
        return p_median_cost(problem, sites)

    def at_least_as_good(self, value: float, other: float) -> bool:
        """Return whether objective ``value`` is as good as ``other`` or better."""
        return value <= other

    def strictly_better(self, value: float, other: float) -> bool:
        """Return whether objective ``value`` beats ``other`` by more than rounding."""
        return value < other - 1e-9

    def local_search(self, problem: SitingProblem) -> tuple[IntArray, Search]:
        """Return the greedy start and the swap search :func:`solve_heuristic` runs from it."""
        return _greedy_p_median(problem, self.p), lambda start: _swap_p_median(problem, start)

    def exact_solution(self, problem: SitingProblem, time_limit_s: float,
                       backend: str) -> tuple[IntArray, float, float | None, bool, str]:
        """Solve exactly for :func:`solve_exact`: sites, objective, bound, optimality, method.

        A Lagrangian bound that meets the heuristic's objective proves it optimal without a
        MILP; otherwise the MILP is built on the candidates the relaxation keeps.
        """
        from forecasting._lagrangian import p_median_lagrangian
        from forecasting._milp import solve_p_median_milp

        upper = solve_heuristic(problem, self, random_starts=1)
        relaxation = p_median_lagrangian(
            problem, self.p, upper.objective, served_time_s(problem, upper.sites)
        )
        keep = relaxation.keep.copy()
        keep[upper.sites] = True
        certificate = f"exact_{backend.lower()}"
        sites: IntArray | None
        if relaxation.bound >= upper.objective * (1 - 1e-9):
            # The Lagrangian bound meets the incumbent: optimal without building a MILP.
            sites, bound, optimal = upper.sites, relaxation.bound, True
            certificate = "exact_lagrangian"
        else:
            # Candidates that cannot beat the incumbent are dropped before the model is built.
            kept = np.flatnonzero(keep).astype(np.int64)
            reduced = SitingProblem(problem.time_s[:, kept], problem.weights, problem.existing_time_s)
            reduced_sites, _, milp_bound, optimal = solve_p_median_milp(
                reduced, self.p, upper.objective, time_limit_s, backend
            )
            sites = None if reduced_sites is None else kept[reduced_sites]
            bound = max(relaxation.bound, min(milp_bound, upper.objective))
        # On a timeout the incumbent may be worse than the heuristic that seeded the cap.
        if sites is None or p_median_cost(problem, sites) > upper.objective:
            sites = upper.sites
        return sites, p_median_cost(problem, sites), bound, optimal, certificate


@dataclass(frozen=True)
class MaxCoverage:
    """Maximal coverage (MCLP): open ``p`` sites for the most demand within ``threshold_s``."""

    p: int
    threshold_s: float
    name: ClassVar[ModelName] = "max_coverage"
    #: Coverage has many equal-valued swaps and so more local optima: measured on the
    #: benchmark instances, 4 starts stopped 1-2 % short of the optimum, 16 reached it.
    random_starts: ClassVar[int] = 16

    @classmethod
    def from_options(cls, p: int, threshold_s: float) -> MaxCoverage:
        """Build the model from the options every siting run has."""
        return cls(p, threshold_s)

    def objective(self, problem: SitingProblem, sites: IntArray) -> float:
        """Demand within the threshold (larger is better)."""
        return covered_demand(problem, sites, self.threshold_s)

    def at_least_as_good(self, value: float, other: float) -> bool:
        """Return whether objective ``value`` is as good as ``other`` or better."""
        return value >= other

    def strictly_better(self, value: float, other: float) -> bool:
        """Return whether objective ``value`` beats ``other`` by more than rounding."""
        return value > other + 1e-9

    def local_search(self, problem: SitingProblem) -> tuple[IntArray, Search]:
        """Return the greedy start and the swap search :func:`solve_heuristic` runs from it."""
        cover = _coverage_matrix(problem, self.threshold_s)
        start = _greedy_coverage(problem, cover, self.p, self.threshold_s)
        return start, lambda sites: _swap_coverage(problem, cover, self.threshold_s, sites)

    def exact_solution(self, problem: SitingProblem, time_limit_s: float,
                       backend: str) -> tuple[IntArray, float, float | None, bool, str]:
        """Solve exactly for :func:`solve_exact`: sites, objective, bound, optimality, method."""
        from forecasting._milp import solve_coverage_milp

        sites, _, bound, optimal = solve_coverage_milp(
            problem, self.p, self.threshold_s, time_limit_s, backend
        )
        return (sites, covered_demand(problem, sites, self.threshold_s), bound, optimal,
                f"exact_{backend.lower()}")


SitingModel = PMedian | MaxCoverage
#: The siting models by name (spopt-style parameter objects, one class per model).
MODELS: dict[str, type[PMedian] | type[MaxCoverage]] = {
    PMedian.name: PMedian,
    MaxCoverage.name: MaxCoverage,
}


def siting_model(name: str, p: int, threshold_s: float) -> SitingModel:
    """Return the model called ``name`` with ``p`` new sites and the run's coverage threshold.

    Raises
    ------
    InvalidValueError
        ``name`` is not one of :data:`MODELS` (the message lists them).
    """
    if name not in MODELS:
        raise InvalidValueError(f"unknown siting model {name!r}: choose one of {', '.join(MODELS)}")
    return MODELS[name].from_options(p, threshold_s)


def solve_heuristic(
    problem: SitingProblem,
    model: SitingModel,
    random_starts: int | None = None,
    seed: int = 0,
) -> SitingResult:
    """Choose ``model.p`` sites by vertex substitution (Teitz-Bart) from greedy and random starts.

    Parameters
    ----------
    problem
        The instance.
    model
        :class:`PMedian` or :class:`MaxCoverage` with their parameters.
    random_starts
        Random starting sets besides the greedy one; default the model's ``random_starts``.
    seed
        Seed of the random starts.
    """
    _check_p(problem, model.p)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    if random_starts is None:
        random_starts = model.random_starts
    greedy, search = model.local_search(problem)
    best_sites, best_value = search(greedy)
    for _ in range(random_starts):
        start = rng.choice(problem.n_candidates, size=model.p, replace=False).astype(np.int64)
        sites, value = search(start)
        if model.strictly_better(value, best_value):
            best_sites, best_value = sites, value
    return SitingResult(
        model=model.name,
        method="vertex_substitution",
        sites=best_sites,
        objective=best_value,
        bound=None,
        proven_optimal=False,
        seconds=time.perf_counter() - started,
    )


def solve_exact(
    problem: SitingProblem,
    model: SitingModel,
    time_limit_s: float = 60.0,
    backend: str = "highs",
) -> SitingResult:
    """Choose ``model.p`` sites by mixed-integer programming.

    The p-median uses the radius formulation of Elloumi (2010) with a chain of level
    variables per demand point, cut off where the heuristic's objective proves a level
    cannot be optimal (so its size is usually far below ``n_demand x n_candidates``).

    Parameters
    ----------
    problem, model
        As in :func:`solve_heuristic`.
    time_limit_s
        Solver time limit; on timeout the best solution and proven bound are returned.
    backend
        ``"highs"`` (SciPy's HiGHS, vectorised model build) or an OR-tools ``pywraplp``
        solver id (``"SCIP"``, ``"CBC"``, ``"CP_SAT"``) for small instances.
    """
    _check_p(problem, model.p)
    started = time.perf_counter()
    sites, objective, bound, optimal, certificate = model.exact_solution(problem, time_limit_s, backend)
    return SitingResult(
        model=model.name,
        method=certificate,
        sites=np.sort(sites),
        objective=objective,
        bound=bound,
        proven_optimal=optimal,
        seconds=time.perf_counter() - started,
    )


def best_of(model: SitingModel, exact: SitingResult, heuristic: SitingResult) -> SitingResult:
    """Return the exact solver's answer unless the heuristic found a strictly better one.

    The heuristic can only be better when the exact solver stopped at its time limit.
    """
    return exact if model.at_least_as_good(exact.objective, heuristic.objective) else heuristic


def siting_summary(
    problem: SitingProblem, sites: IntArray, threshold_s: float
) -> pd.DataFrame:
    """Coverage and mean travel time before (existing schools) and after adding ``sites``.

    Returns
    -------
    pandas.DataFrame
        Rows ``before`` and ``after``; columns ``covered_share`` (demand within the
        threshold), ``mean_time_s`` (demand-weighted; ``nan`` before when there are no
        existing schools) and ``total_weighted_time_s``.
    """
    total = float(problem.weights.sum())
    rows = []
    for label, chosen in (("before", np.array([], dtype=np.int64)), ("after", np.asarray(sites))):
        served = served_time_s(problem, chosen)
        weighted = float(problem.weights @ served) if np.all(np.isfinite(served)) else np.nan
        rows.append(
            {
                "scenario": label,
                "covered_share": float(problem.weights @ (served <= threshold_s)) / total,
                "mean_time_s": weighted / total,
                "total_weighted_time_s": weighted,
            }
        )
    return pd.DataFrame(rows)


def site_contributions(
    problem: SitingProblem, sites: IntArray, threshold_s: float
) -> pd.DataFrame:
    """Why each of ``sites`` was chosen: the demand it would serve and the shortfall it removes.

    A demand point is served by a site when that site becomes its nearest school (nearer
    than every existing school and every other site) and lies within ``threshold_s``; it is
    newly covered when, in addition, no existing school was within ``threshold_s``.

    Returns
    -------
    pandas.DataFrame
        One row per site, in the order of ``sites``: ``points_served``, ``demand_served``
        (children), ``newly_covered`` (children who had no school within the threshold) and
        ``minutes_saved`` (demand-weighted mean of the time saved by those served, where
        they had a school before; ``nan`` otherwise).
    """
    chosen = np.asarray(sites, dtype=np.int64)
    rows: list[dict[str, float | int]] = []
    if len(chosen) == 0:
        return pd.DataFrame(rows, columns=["points_served", "demand_served", "newly_covered",
                                           "minutes_saved"])
    times = problem.time_s[:, chosen]
    nearest = np.argmin(times, axis=1)
    nearest_time = times[np.arange(times.shape[0]), nearest]
    before = problem.existing_time_s
    served = (nearest_time < before) & (nearest_time <= threshold_s)
    for k in range(len(chosen)):
        mine = served & (nearest == k)
        weights = problem.weights[mine]
        had_school = np.isfinite(before[mine])
        saved_weights = weights[had_school]
        saved = (before[mine][had_school] - nearest_time[mine][had_school]) / 60.0
        rows.append({
            "points_served": int(mine.sum()),
            "demand_served": float(weights.sum()),
            "newly_covered": float(problem.weights[mine & (before > threshold_s)].sum()),
            "minutes_saved": (float(saved_weights @ saved / saved_weights.sum())
                              if saved_weights.sum() > 0 else float("nan")),
        })
    return pd.DataFrame(rows)
