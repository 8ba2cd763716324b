"""Seats within reach: two-step floating catchment area (2SFCA) and capacity gaps per ward.

Step 1 gives each school a seats-per-child ratio ``R_j = S_j / sum_i D_i f(t_ij)`` over the
demand points that reach it within the threshold; step 2 gives each demand point the sum
``A_i = sum_j R_j f(t_ij)`` over the schools it reaches. ``A_i`` is the seats per child
available at ``i`` once competition for each seat is counted; ``D_i * (1 - A_i)`` is the
shortfall. The travel-time matrix is sparse (only pairs within a cut-off are listed), as
produced by ``routing``; missing pairs are unreachable.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.vocabulary import Decay
from gis_service.errors import InputError, Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GAP_COLUMNS = [
    "ward_code",
    "demand",
    "seats_within_threshold",
    "seats_per_child",
    "accessible_seats",
    "shortfall_seats",
    "nearest_time_s",
]


def decay_weights(time_s: FloatArray, threshold_s: float, decay: Decay = "binary") -> FloatArray:
    """Weight of each pair: 1 inside the threshold (``binary``) or a Gaussian fall-off.

    The Gaussian form is the enhanced 2SFCA of Dai (2010): weight 1 at zero time and
    about 0.01 at the threshold; zero beyond the threshold in both forms.
    """
    inside = time_s <= threshold_s
    if decay == "binary":
        return inside.astype(np.float64)
    ratio = time_s / threshold_s
    gaussian = (np.exp(-0.5 * ratio**2 * 9.0) - np.exp(-4.5)) / (1.0 - np.exp(-4.5))
    return np.where(inside, gaussian, 0.0)


def two_step_fca(
    demand: FloatArray,
    seats: FloatArray,
    origin_index: IntArray,
    school_index: IntArray,
    time_s: FloatArray,
    threshold_s: float,
    decay: Decay = "binary",
) -> tuple[FloatArray, FloatArray]:
    """Compute 2SFCA accessibility on a sparse travel-time matrix.

    Parameters
    ----------
    demand
        Children per demand point, shape ``(n_origins,)``.
    seats
        Seats per school, shape ``(n_schools,)``.
    origin_index, school_index, time_s
        The sparse matrix as coordinate triples (one entry per reachable pair).
    threshold_s
        Catchment size in seconds.
    decay
        Distance decay inside the catchment.

    Returns
    -------
    seats_per_child : numpy.ndarray
        ``A_i`` per demand point.
    supply_ratio : numpy.ndarray
        ``R_j`` per school (seats per child in its catchment; 0 when nobody reaches it).
    """
    if not (len(origin_index) == len(school_index) == len(time_s)):
        raise ValueError("origin_index, school_index and time_s must have the same length")
    if np.any(time_s < 0):
        raise ValueError("travel times must be non-negative")
    weight = decay_weights(time_s, threshold_s, decay)
    catchment_demand = np.bincount(
        school_index, weights=demand[origin_index] * weight, minlength=len(seats)
    )
    supply_ratio = np.divide(
        seats,
        catchment_demand,
        out=np.zeros(len(seats), dtype=np.float64),
        where=catchment_demand > 0,
    )
    seats_per_child = np.bincount(
        origin_index, weights=supply_ratio[school_index] * weight, minlength=len(demand)
    )
    return seats_per_child.astype(np.float64), supply_ratio


def capacity_gaps(
    demand: pd.DataFrame,
    schools: pd.DataFrame,
    travel_times: pd.DataFrame,
    threshold_min: float,
    decay: Decay = "binary",
) -> pd.DataFrame:
    """Tabulate, per ward, forecast demand against the seats reachable within a threshold.

    Parameters
    ----------
    demand
        ``ward_code, demand`` (e.g. forecast entry-grade enrolment of one level and year).
    schools
        ``school_code, seats`` (e.g. ``capacity_grade10``).
    travel_times
        ``origin_id, school_code, time_s``; ``origin_id`` is the ward code (a ward centroid
        or population-weighted point). Extra columns (``rank, distance_m``) are ignored, so
        the output of ``edugis route nearest`` can be used as is.
    threshold_min
        Catchment size in minutes.
    decay
        Distance decay inside the catchment.

    Returns
    -------
    pandas.DataFrame
        One row per ward with the columns of :data:`GAP_COLUMNS`, largest shortfall first.
    """
    for frame, name, columns in (
        (demand, "demand", ("ward_code", "demand")),
        (schools, "schools", ("school_code", "seats")),
        (travel_times, "travel_times", ("origin_id", "school_code", "time_s")),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError([Problem(name, None, c, "required column is missing") for c in missing])
    ward_codes = demand["ward_code"].astype(str).to_numpy()
    school_codes = schools["school_code"].astype(str).to_numpy()
    ward_position = pd.Index(ward_codes)
    school_position = pd.Index(school_codes)
    if ward_position.has_duplicates or school_position.has_duplicates:
        raise InputError(Problem("demand/schools", None, None, "duplicated ward or school code"))
    origin_index = ward_position.get_indexer(travel_times["origin_id"].astype(str))
    school_index = school_position.get_indexer(travel_times["school_code"].astype(str))
    known = (origin_index >= 0) & (school_index >= 0)
    time_s = travel_times["time_s"].to_numpy(dtype=np.float64)[known]
    origin_known = origin_index[known].astype(np.int64)
    school_known = school_index[known].astype(np.int64)
    demand_values = demand["demand"].to_numpy(dtype=np.float64)
    seats_values = schools["seats"].to_numpy(dtype=np.float64)
    threshold_s = threshold_min * 60.0
    seats_per_child, _ = two_step_fca(
        demand_values, seats_values, origin_known, school_known, time_s, threshold_s, decay
    )
    inside = time_s <= threshold_s
    seats_within = np.bincount(
        origin_known[inside], weights=seats_values[school_known[inside]], minlength=len(ward_codes)
    )
    nearest = np.full(len(ward_codes), np.inf)
    np.minimum.at(nearest, origin_known, time_s)
    accessible = np.minimum(seats_per_child * demand_values, demand_values)
    table = pd.DataFrame(
        {
            "ward_code": ward_codes,
            "demand": demand_values,
            "seats_within_threshold": seats_within,
            "seats_per_child": seats_per_child,
            "accessible_seats": accessible,
            "shortfall_seats": demand_values - accessible,
            "nearest_time_s": np.where(np.isinf(nearest), np.nan, nearest),
        }
    )
    return table.sort_values(["shortfall_seats", "ward_code"], ascending=[False, True]).reset_index(
        drop=True
    )[GAP_COLUMNS]
