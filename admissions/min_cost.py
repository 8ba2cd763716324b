"""Minimum total travel subject to capacities (min-cost flow), for planners.

This is not an admission rule parents could be held to (it ignores choices beyond using them
as the allowed schools, and is not stable); it answers "how short could journeys be with the
seats we have?". It places as many applicants as the capacities allow and, among all such
placements, minimises the total travel cost, using OR-tools' ``SimpleMinCostFlow``:
source -> applicant (capacity 1) -> listed school (cost) -> sink (capacity = seats).
Applicants without a home (grade 10 homes are optional) get a choice-rank cost only
(:func:`rank_cost_without_home`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

#: Costs are whole centimetres (or centiseconds): the solver needs integers.
COST_SCALE = 100.0
#: Cost of each step down the list of an applicant whose journeys are unknown (no home):
#: 0 at the first choice, 1 (metre or second) at the second, ...
RANK_STEP_COST = 1.0


def rank_cost_without_home(
    choices: NDArray[np.int32], cost: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Give each applicant without any known cost (no home) a choice-rank cost.

    Their journeys are unknown, so they add (almost) nothing to the total travel and only
    their order of choices steers them: where seats run short, the flow seats them before
    applicants with long known journeys. When no applicant has a known cost at all (no
    homes, or times asked of straight-line distances) nothing is filled in and
    :func:`min_cost_assignment` refuses the input.

    Returns
    -------
    cost, without_home
        The costs with the rank costs filled in, and which applicants got them.
    """
    listed = choices >= 0
    known = listed & np.isfinite(cost)
    without_home: NDArray[np.bool_] = np.asarray(listed.any(axis=1) & ~known.any(axis=1))
    if not known.any():
        return cost, np.zeros(choices.shape[0], dtype=np.bool_)
    rank = np.arange(choices.shape[1], dtype=np.float64)[None, :] * RANK_STEP_COST
    filled = np.where(without_home[:, None] & listed, rank, cost)
    return np.asarray(filled, dtype=np.float64), without_home


def min_cost_assignment(
    choices: NDArray[np.int32],
    cost: NDArray[np.float64],
    capacity: NDArray[np.int64],
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Place the most applicants, then minimise their total cost.

    Parameters
    ----------
    choices
        Shape ``(n, k)``: schools each applicant may be placed at, ``-1`` padded.
    cost
        Shape ``(n, k)``: travel cost of each pair (metres or seconds), finite where listed.
    capacity
        Shape ``(m,)``: seats per school.

    Returns
    -------
    assigned, choice_index
        School index and 0-based choice index per applicant (``-1`` when unplaced).

    Raises
    ------
    ValueError
        When a listed pair has no finite, non-negative cost.
    RuntimeError
        When the solver does not report an optimal flow.
    """
    choices = np.asarray(choices, dtype=np.int32)
    n = choices.shape[0]
    m = int(capacity.shape[0])
    rows, cols = np.nonzero(choices >= 0)
    pair_cost = cost[rows, cols]
    if np.any(~np.isfinite(pair_cost)) or np.any(pair_cost < 0):
        raise ValueError("min-cost allocation needs a finite, non-negative cost for every pair")
    assigned = np.full(n, -1, dtype=np.int32)
    choice_index = np.full(n, -1, dtype=np.int32)
    if rows.size == 0:
        return assigned, choice_index

    source, sink = n + m, n + m + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    applicant_nodes = np.arange(n, dtype=np.int64)
    school_nodes = n + np.arange(m, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source, dtype=np.int64), applicant_nodes,
        np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
    )
    pair_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        rows.astype(np.int64), n + choices[rows, cols].astype(np.int64),
        np.ones(rows.size, dtype=np.int64),
        np.rint(pair_cost * COST_SCALE).astype(np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        school_nodes, np.full(m, sink, dtype=np.int64),
        np.minimum(np.asarray(capacity, dtype=np.int64), n), np.zeros(m, dtype=np.int64),
    )
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow solver returned status {status}")
    used = flow.flows(np.asarray(pair_arcs, dtype=np.int64)) > 0
    assigned[rows[used]] = choices[rows[used], cols[used]]
    choice_index[rows[used]] = cols[used].astype(np.int32)
    return assigned, choice_index
