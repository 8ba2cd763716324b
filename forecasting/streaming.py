"""Streaming after grade 9 (phân luồng): leavers, public grade-10 seats in reach, the rest.

For an admission year ``Y`` and a travel-time threshold, per ward:

- **leavers**: the pupils in grade 9 in the school year before (``Y - 1``) — observed when
  that year is in the enrolment history, else the cohort projection of
  :mod:`forecasting.enrolment` (population by the cohort-component model, entry ratios and
  grade progression ratios). Wards are those of the schools the pupils attend.
- **public seats in reach**: public grade-10 places (``capacity_grade10`` of public
  upper-secondary schools) shared among the wards that reach them within the threshold.
- **remainder**: leavers minus their public seats, who need a private upper-secondary
  school, a vocational or continuing-education centre (GDNN-GDTX), or a trade school; and
  how many of them the non-public grade-10 places within the threshold can take.

How seats are shared. The 2SFCA of :mod:`forecasting.accessibility` gives each ward seats in
proportion to demand, which is right for a ratio map but, capped at a ward's demand, loses
seats a crowded ward cannot use while a neighbour could, and a larger threshold can then
*lower* the city's total (:func:`two_step_fca_total` shows it on two wards in the tests).
Here the seats go as a flow: as many leavers as possible get a seat within the threshold
(a maximum flow from wards to schools, so the city total never exceeds the seats nor the
leavers, and a larger threshold, which only adds pairs, never lowers it), and among the
ways to seat that many, one where every ward that reaches a seat gets at least the same
share of its leavers (as large as the seats allow), and within that the least total travel
time (nearer wards first).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from forecasting._panel import to_panel
from forecasting.accessibility import two_step_fca
from forecasting.cohort import fit_cohort_model, project_array
from forecasting.enrolment import EnrolmentData, fit_progression, project_grades, ward_enrolment
from gis_service.errors import InputError, Problem
from gis_service.levels import ALL_GRADES

#: The last grade of lower secondary: its pupils sit the grade-10 entrance exam.
LEAVER_GRADE = 9
#: ``ward_code, lon, lat`` and ``school_code, lon, lat`` and a threshold in seconds to
#: ``origin_id, school_code, time_s`` (pairs within the threshold). The road network in use
#: by default; a transport scenario's graph can stand in for it (:func:`graph_times`).
TravelTimeSource = Callable[[pd.DataFrame, pd.DataFrame, float], pd.DataFrame]
STREAMING_COLUMNS = [
    "ward_code", "leavers", "public_seats_within_threshold", "public_seats", "remainder",
    "other_places_within_threshold", "other_places", "without_place", "nearest_public_time_s",
]


def project_grade_counts(data: EnrolmentData, horizon_years: int) -> pd.DataFrame:
    """Pupils per ward, year and grade: the last history year, then the cohort projection.

    The same projection as :func:`forecasting.enrolment.cohort_forecast` from the last
    history year (its entry and total forecasts are sums of these grades).

    Returns
    -------
    pandas.DataFrame
        ``ward_code, year, grade, count`` for years ``last_year .. last_year + horizon_years``.
    """
    origin = data.last_year
    known = data.truncate(origin)
    cohort = fit_cohort_model(known.population, known.births, base_year=origin)
    enrolment = to_panel(ward_enrolment(known.enrolment), "grade", "count", "enrolment",
                         wards=cohort.wards, keys=ALL_GRADES)
    population = to_panel(known.population, "age", "count", "population", wards=cohort.wards)
    progression = fit_progression(enrolment, population, origin)
    grades = project_grades(progression, project_array(cohort, horizon_years), horizon_years)
    n_wards, n_years, n_grades = grades.shape
    return pd.DataFrame({
        "ward_code": np.repeat(cohort.wards, n_years * n_grades),
        "year": np.tile(np.repeat(np.arange(origin, origin + n_years), n_grades), n_wards),
        "grade": np.tile(np.asarray(ALL_GRADES), n_wards * n_years),
        "count": grades.ravel(),
    })


def grade9_leavers(data: EnrolmentData, year: int) -> pd.DataFrame:
    """Leavers per ward who seek a grade-10 place in ``year``: grade 9 of ``year - 1``.

    Observed when ``year - 1`` is in the enrolment history, else projected
    (:func:`project_grade_counts`).

    Returns
    -------
    pandas.DataFrame
        ``ward_code, leavers, projected`` (``projected`` tells which of the two it is).

    Raises
    ------
    InputError
        ``year - 1`` is before the enrolment history.
    """
    school_year = year - 1
    if school_year < data.first_year:
        raise InputError(Problem(
            "enrolment", None, "year",
            f"no grade-9 pupils before {data.first_year}: the first admission year is"
            f" {data.first_year + 1}",
            f"không có học sinh lớp 9 trước năm {data.first_year}: năm tuyển sinh đầu tiên là"
            f" {data.first_year + 1}"))
    if school_year <= data.last_year:
        observed = ward_enrolment(data.enrolment)
        rows = observed[(observed["year"] == school_year) & (observed["grade"] == LEAVER_GRADE)]
        counts = rows.groupby("ward_code")["count"].sum()
        projected = False
    else:
        grades = project_grade_counts(data, school_year - data.last_year)
        rows = grades[(grades["year"] == school_year) & (grades["grade"] == LEAVER_GRADE)]
        counts = rows.set_index("ward_code")["count"]
        projected = True
    return pd.DataFrame({"ward_code": counts.index.astype(str),
                         "leavers": counts.to_numpy(dtype=float), "projected": projected})


def _flow(demand: np.ndarray, seats: np.ndarray, origin_index: np.ndarray,
          school_index: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Seats per pair: the most leavers seated, a fair floor, then the least time (3 LPs, HiGHS).

    1. The maximum flow ``F`` from wards (at most their leavers) to schools (at most their
       seats) over the pairs within the threshold.
    2. Among flows of ``F``, the largest share ``z`` such that every ward reaching a seat gets
       at least ``z`` of its leavers (without it the least-time flow seats the nearest wards
       in full and may leave a ward with seats in reach nothing).
    3. Among those, the least total travel time.
    """
    n_pairs = len(time_s)
    if n_pairs == 0 or demand.sum() <= 0 or seats.sum() <= 0:
        return np.zeros(n_pairs)
    columns = np.arange(n_pairs)
    by_ward = sp.csr_matrix((np.ones(n_pairs), (origin_index, columns)), shape=(len(demand), n_pairs))
    by_school = sp.csr_matrix((np.ones(n_pairs), (school_index, columns)), shape=(len(seats), n_pairs))
    rows = sp.vstack([by_ward, by_school]).tocsr()
    limits = np.concatenate([demand, seats])
    most = linprog(-np.ones(n_pairs), A_ub=rows, b_ub=limits, bounds=(0, None), method="highs")
    if most.status != 0:
        raise RuntimeError(f"seat sharing failed: {most.message}")
    total = -float(most.fun)
    # keep that total (a hair under it: the solver's tolerance) in the next two steps
    floor = total - 1e-9 * max(1.0, total)
    reaching = np.flatnonzero((np.bincount(origin_index, minlength=len(demand)) > 0) & (demand > 0))
    keep_total = -sp.csr_matrix(np.ones((1, n_pairs)))
    # step 2 on (x, z): z * D_i - sum_i x <= 0 for every ward reaching a seat
    share_rows = sp.hstack([-by_ward[reaching], sp.csr_matrix(demand[reaching][:, None])])
    fair = linprog(np.r_[np.zeros(n_pairs), -1.0],
                   A_ub=sp.vstack([sp.hstack([rows, sp.csr_matrix((rows.shape[0], 1))]),
                                   sp.hstack([keep_total, sp.csr_matrix((1, 1))]),
                                   share_rows]).tocsr(),
                   b_ub=np.r_[limits, -floor, np.zeros(len(reaching))],
                   bounds=[(0, None)] * n_pairs + [(0, 1)], method="highs")
    share = max(0.0, float(fair.x[-1]) - 1e-9) if fair.status == 0 else 0.0
    nearest = linprog(time_s, A_ub=sp.vstack([rows, keep_total, -by_ward[reaching]]).tocsr(),
                      b_ub=np.r_[limits, -floor, -share * demand[reaching]],
                      bounds=(0, None), method="highs")
    flow = nearest.x if nearest.status == 0 else most.x
    seated: np.ndarray = np.clip(np.asarray(flow, dtype=float), 0.0, None)
    return seated


def share_seats(demand: pd.DataFrame, places: pd.DataFrame, travel_times: pd.DataFrame,
                threshold_min: float) -> pd.DataFrame:
    """Share places among wards within ``threshold_min``: seats per ward and in reach per ward.

    Parameters
    ----------
    demand
        ``ward_code, demand``.
    places
        ``school_code, seats``.
    travel_times
        ``origin_id, school_code, time_s`` (``origin_id`` the ward code); pairs beyond the
        threshold or with an unknown ward or school are ignored.
    threshold_min
        Largest travel time, in minutes.

    Returns
    -------
    pandas.DataFrame
        ``ward_code, seated, within_threshold, nearest_time_s`` in the order of ``demand``:
        ``seated`` sums to at most the places and at most the demand, ward by ward and in
        total; ``within_threshold`` is every place a ward reaches, before sharing.
    """
    wards = pd.Index(demand["ward_code"].astype(str))
    schools = pd.Index(places["school_code"].astype(str))
    if wards.has_duplicates or schools.has_duplicates:
        raise InputError(Problem("demand/places", None, None, "duplicated ward or school code"))
    origin_index = wards.get_indexer(travel_times["origin_id"].astype(str))
    school_index = schools.get_indexer(travel_times["school_code"].astype(str))
    time_s = travel_times["time_s"].to_numpy(dtype=float)
    keep = (origin_index >= 0) & (school_index >= 0) & (time_s <= threshold_min * 60.0)
    origin_index, school_index, time_s = origin_index[keep], school_index[keep], time_s[keep]
    demand_values = np.clip(demand["demand"].to_numpy(dtype=float), 0.0, None)
    seat_values = np.clip(places["seats"].to_numpy(dtype=float), 0.0, None)
    flow = _flow(demand_values, seat_values, origin_index, school_index, time_s)
    nearest = np.full(len(wards), np.inf)
    np.minimum.at(nearest, origin_index, time_s)
    seated = np.bincount(origin_index, weights=flow, minlength=len(wards))
    return pd.DataFrame({
        "ward_code": wards,
        "seated": np.minimum(seated, demand_values),
        "within_threshold": np.bincount(origin_index, weights=seat_values[school_index],
                                        minlength=len(wards)),
        "nearest_time_s": np.where(np.isinf(nearest), np.nan, nearest),
    })


def two_step_fca_total(demand: pd.DataFrame, places: pd.DataFrame, travel_times: pd.DataFrame,
                       threshold_min: float) -> float:
    """Return the city's seats in reach as 2SFCA shares them, each ward's capped at its demand.

    Kept to compare with :func:`share_seats` (the module docstring says why it is not used).
    """
    wards = pd.Index(demand["ward_code"].astype(str))
    schools = pd.Index(places["school_code"].astype(str))
    origin_index = wards.get_indexer(travel_times["origin_id"].astype(str))
    school_index = schools.get_indexer(travel_times["school_code"].astype(str))
    keep = (origin_index >= 0) & (school_index >= 0)
    values = demand["demand"].to_numpy(dtype=float)
    per_child, _ = two_step_fca(values, places["seats"].to_numpy(dtype=float),
                                origin_index[keep].astype(np.int64),
                                school_index[keep].astype(np.int64),
                                travel_times["time_s"].to_numpy(dtype=float)[keep],
                                threshold_min * 60.0)
    return float(np.minimum(per_child * values, values).sum())


def streaming(leavers: pd.DataFrame, public_places: pd.DataFrame, other_places: pd.DataFrame,
              travel_times: pd.DataFrame, threshold_min: float) -> pd.DataFrame:
    """Streaming per ward: public seats in reach for the leavers, and the rest.

    Parameters
    ----------
    leavers
        ``ward_code, leavers`` (:func:`grade9_leavers`).
    public_places
        ``school_code, seats``: grade-10 places of public upper-secondary schools.
    other_places
        ``school_code, seats``: the other grade-10 places (private upper-secondary schools,
        vocational and continuing-education centres).
    travel_times
        ``origin_id, school_code, time_s`` from the wards to every school of both kinds.
    threshold_min
        Largest travel time, in minutes.

    Returns
    -------
    pandas.DataFrame
        :data:`STREAMING_COLUMNS`, one row per ward, the largest remainder first:
        ``public_seats`` (shared, :func:`share_seats`), ``remainder = leavers -
        public_seats``, the ``other_places`` the remainder gets when the non-public places in
        reach are shared the same way, and ``without_place``, who is left even then.
    """
    demand = leavers.rename(columns={"leavers": "demand"})[["ward_code", "demand"]]
    public = share_seats(demand, public_places, travel_times, threshold_min)
    remainder = np.clip(demand["demand"].to_numpy(dtype=float) - public["seated"].to_numpy(), 0, None)
    other = share_seats(demand.assign(demand=remainder), other_places, travel_times, threshold_min)
    table = pd.DataFrame({
        "ward_code": public["ward_code"],
        "leavers": demand["demand"].to_numpy(dtype=float),
        "public_seats_within_threshold": public["within_threshold"],
        "public_seats": public["seated"],
        "remainder": remainder,
        "other_places_within_threshold": other["within_threshold"],
        "other_places": other["seated"],
        "without_place": np.clip(remainder - other["seated"].to_numpy(), 0, None),
        "nearest_public_time_s": public["nearest_time_s"],
    })
    return table.sort_values(["remainder", "ward_code"], ascending=[False, True]).reset_index(
        drop=True)[STREAMING_COLUMNS]


def compare_streaming(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Put a scenario's streaming next to the base network's, ward by ward.

    Parameters
    ----------
    base, scenario
        Outputs of :func:`streaming` for the same year and threshold on two networks.

    Returns
    -------
    pandas.DataFrame
        The scenario's :data:`STREAMING_COLUMNS` plus ``public_seats_base``,
        ``remainder_base`` and ``public_seats_change`` (scenario minus base), in the
        scenario's order.
    """
    before = base.set_index("ward_code")[["public_seats", "remainder"]].add_suffix("_base")
    table = scenario.join(before, on="ward_code")
    return table.assign(public_seats_change=table["public_seats"] - table["public_seats_base"])
