"""Planning in PostGIS: forecasts, capacity gaps and proposed sites, stored for the web maps.

Thin functions around the pure kernels: they read population, births, enrolment, schools
and the road network from the database (:mod:`forecasting.queries`), call the kernels, and
store the results in one transaction each (``enrolment_forecasts``, ``capacity_gaps``,
``proposed_sites``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.fetch import current_basemap
from forecasting import queries
from forecasting.accessibility import capacity_gaps
from forecasting.backtest import BacktestReport, forecast_enrolment, run_backtest
from forecasting.siting import (
    SitingProblem,
    SitingResult,
    best_of,
    site_contributions,
    siting_model,
    siting_summary,
    solve_exact,
    solve_heuristic,
)
from forecasting.vocabulary import ModelName
from gis_service.errors import InvalidValueError, NotFoundError, StateError
from gis_service.levels import LEVELS, GeneralLevelName, capacity_column

ENTRY_GRADE: dict[str, int] = {level.name: level.entry_grade for level in LEVELS}


def _check_level(level: str) -> None:
    if level not in ENTRY_GRADE:
        raise InvalidValueError(f"unknown school level {level!r}: choose one of "
                                f"{', '.join(ENTRY_GRADE)}")


def forecast_and_store(engine: Engine, horizon_years: int = 10) -> tuple[pd.DataFrame,
                                                                         BacktestReport]:
    """Backtest, forecast enrolment per ward and level, and replace the stored forecasts."""
    data = queries.enrolment_inputs(engine)
    report = run_backtest(data)
    forecast = forecast_enrolment(data, horizon_years, report)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM enrolment_forecasts"))
        conn.execute(sa.text(
            "INSERT INTO enrolment_forecasts (ward_code, level, measure, year, horizon, method,"
            " predicted, lower, upper) VALUES (:ward_code, :level, :measure, :year, :horizon,"
            " :method, :predicted, :lower, :upper)"),
            [{**row, "year": int(row["year"]), "horizon": int(row["horizon"])}
             for row in forecast.to_dict("records")])
    return forecast, report


def _graph(engine: Engine, mode: str) -> Any:
    import routing
    from basemaps.fetch import load_road_layer

    return routing.build_graph(load_road_layer(engine), mode)


def _long_times(matrix: Any, origin_ids: list[str], school_ids: list[str]) -> pd.DataFrame:
    coo = matrix.time_s.tocoo()
    return pd.DataFrame({"origin_id": np.asarray(origin_ids)[coo.row],
                         "school_code": np.asarray(school_ids)[coo.col],
                         "time_s": coo.data})


def gaps_and_store(engine: Engine, level: GeneralLevelName, year: int, threshold_min: float = 15.0,
                   mode: str = "motorbike") -> pd.DataFrame:
    """2SFCA of forecast entry demand against entry seats within ``threshold_min`` by road.

    Raises
    ------
    InvalidValueError
        ``level`` is not a known one (the message lists them).
    """
    import routing
    from basemaps.fetch import load_schools

    _check_level(level)

    points = queries.ward_points(engine).merge(queries.entry_demand(engine, level, year),
                                               on="ward_code")
    seats_column = capacity_column(ENTRY_GRADE[level])
    schools = load_schools(engine, level).dropna(subset=[seats_column])
    schools = schools.assign(seats=schools[seats_column].astype(float)).rename(
        columns={"code": "school_code"})
    matrix = routing.od_matrix(_graph(engine, mode), points[["lon", "lat"]].to_numpy(),
                               schools[["lon", "lat"]].to_numpy(), threshold_min * 60.0, "time")
    times = _long_times(matrix, points["ward_code"].tolist(), schools["school_code"].tolist())
    gaps = capacity_gaps(points[["ward_code", "demand"]], schools[["school_code", "seats"]], times,
                         threshold_min)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM capacity_gaps WHERE level = :l AND year = :y"
                             " AND threshold_min = :t"), {"l": level, "y": year, "t": threshold_min})
        conn.execute(sa.text(
            "INSERT INTO capacity_gaps (ward_code, level, year, threshold_min, demand,"
            " seats_within_threshold, seats_per_child, accessible_seats, shortfall_seats,"
            " nearest_time_s) VALUES (:ward_code, :level, :year, :threshold_min, :demand,"
            " :seats_within_threshold, :seats_per_child, :accessible_seats, :shortfall_seats,"
            " :nearest_time_s)"),
            [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
              for k, v in {**row, "level": level, "year": year,
                           "threshold_min": threshold_min}.items()}
             for row in gaps.to_dict("records")])
    return gaps


@dataclass(frozen=True)
class SitingRun:
    """A stored siting run: its id, sites, coverage before and after, method and gap to bound."""

    run_id: str
    sites: pd.DataFrame  # rank, node_id, lon, lat, ward_code
    summary: pd.DataFrame  # before / after
    method: str
    gap_to_bound: float | None


def sites_and_store(engine: Engine, level: GeneralLevelName, year: int, p: int, threshold_min: float = 15.0,
                    model: ModelName = "p_median", mode: str = "motorbike",
                    max_candidates: int = 2000, seed: int = 0,
                    progress: Callable[[str], None] | None = None) -> SitingRun:
    """Choose ``p`` new sites among road nodes of under-served wards and store them.

    Demand points are ward points weighted by the forecast entry demand; existing schools
    of the level count as already open. Exact when the solver proves optimality within its
    limit, otherwise the vertex-substitution heuristic's answer with its gap to the bound.

    Each stored site keeps, in its ``details``, why it was chosen
    (:func:`forecasting.siting.site_contributions`: children served, children newly within
    the threshold, minutes saved) and the run's coverage and mean time before and after.
    ``progress`` is told each stage as it starts: ``routes``, ``solve``, ``store``.

    Raises
    ------
    InvalidValueError
        ``model`` or ``level`` is not a known one (the message lists them).
    """
    import routing
    from basemaps.fetch import load_schools

    _check_level(level)
    threshold_s = threshold_min * 60.0
    siting = siting_model(model, p, threshold_s)
    points = queries.ward_points(engine).merge(queries.entry_demand(engine, level, year),
                                               on="ward_code")
    with engine.connect() as conn:
        wards = (queries.short_wards(conn, level, year, threshold_min)
                 or points["ward_code"].tolist())
        candidates = queries.road_nodes_in(conn, wards, current_basemap(engine))
    graph = _graph(engine, mode)
    # nodes on the mode's network only: a footpath's node may lie far from every road of the mode
    on_network = graph.node_ids[np.union1d(graph.edge_u, graph.edge_v)]
    candidates = candidates[candidates["node_id"].isin(on_network)]
    if candidates.empty:
        raise StateError("no candidate road nodes in the under-served wards")
    if len(candidates) > max_candidates:
        candidates = candidates.sample(max_candidates, random_state=seed).sort_values("node_id")
    if progress is not None:
        progress("routes")
    origins = points[["lon", "lat"]].to_numpy()
    cutoff = 4 * threshold_min * 60.0
    cand = routing.od_matrix(graph, origins, candidates[["lon", "lat"]].to_numpy(), cutoff, "time")
    schools = load_schools(engine, level)
    existing = routing.od_matrix(graph, origins, schools[["lon", "lat"]].to_numpy(), cutoff, "time")
    existing_dense = _dense_times(existing)
    existing_time = (existing_dense.min(axis=1) if existing_dense.shape[1]
                     else np.full(len(points), np.inf))
    problem = SitingProblem.from_matrix(_dense_times(cand), points["demand"].to_numpy(float),
                                        existing_time, unreachable_time_s=cutoff * 2)
    if progress is not None:
        progress("solve")
    heuristic = solve_heuristic(problem, siting, seed=seed)
    exact = solve_exact(problem, siting, time_limit_s=60.0)
    best = best_of(siting, exact, heuristic)
    sites = candidates.iloc[np.asarray(best.sites)].reset_index(drop=True)
    sites.insert(0, "rank", np.arange(1, len(sites) + 1))
    run_id = f"{level}-{year}-{siting.name}-p{p}-t{threshold_min:g}"
    summary = siting_summary(problem, np.asarray(best.sites), threshold_s)
    method = "exact" if best is exact and exact.proven_optimal else best.method
    why = site_contributions(problem, np.asarray(best.sites), threshold_s).to_dict("records")
    figures = summary.set_index("scenario")
    run_figures = {f"{column}_{label}": _finite(figures.loc[label, column])
                   for column in ("covered_share", "mean_time_s") for label in ("before", "after")}
    if progress is not None:
        progress("store")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM proposed_sites WHERE run_id = :r"), {"r": run_id})
        conn.execute(sa.text(
            "INSERT INTO proposed_sites (run_id, rank, level, model, method, ward_code, details, geom)"
            " VALUES (:r, :rank, :level, :model, :method, :ward, CAST(:details AS jsonb),"
            " ST_SetSRID(ST_Point(:lon, :lat), 4326))"),
            [{"r": run_id, "rank": int(s.rank), "level": level, "model": siting.name,
              "method": method, "ward": s.ward_code, "lon": float(s.lon), "lat": float(s.lat),
              "details": json.dumps({"node_id": int(s.node_id), "year": year,
                                     "threshold_min": threshold_min, "mode": mode,
                                     **{k: _finite(v) for k, v in why[i].items()},
                                     **run_figures, "gap_to_bound": _gap(best, exact)})}
             for i, s in enumerate(sites.itertuples())])
    return SitingRun(run_id, sites, summary, method, _gap(best, exact))


def _finite(value: Any) -> float | None:
    """``value`` as a float for JSON, ``None`` when it is not finite."""
    number = float(value)
    return number if np.isfinite(number) else None


def _dense_times(matrix: Any) -> np.ndarray:
    """Dense times with ``inf`` beyond the cut-off (stored zeros stay zeros)."""
    dense = np.full(matrix.shape, np.inf)
    coo = matrix.time_s.tocoo()
    dense[coo.row, coo.col] = coo.data
    return dense


def _gap(best: SitingResult, exact: SitingResult) -> float | None:
    """Relative gap between the answer and the exact solver's proven bound."""
    if exact.bound is None or not best.objective:
        return None
    return float(abs(best.objective - exact.bound) / abs(best.objective))


def what_if_sites(engine: Engine, run_id: str, round_id: str, mode: str = "motorbike",
                  capacity: int | None = None) -> pd.DataFrame:
    """Rerun a round's allocation with the proposed sites added as schools (nothing stored).

    Each new school gets ``capacity`` seats (default: the median of its level). Returns the
    round's metrics before and after: mean distance, unplaced applicants, share within 2 km.
    """
    from admissions.allocation import allocate
    from admissions.metrics import summary
    from admissions.service import get_round, load_problem

    info = get_round(engine, round_id)
    sites = queries.sites_of(engine, run_id)
    if sites.empty:
        raise NotFoundError(f"no proposed sites for run {run_id!r}")
    column = capacity_column(info.grade)
    level = str(sites["level"].iloc[0])
    if ENTRY_GRADE[level] != info.grade:
        raise InvalidValueError(f"sites of {level} cannot take grade {info.grade} applicants")
    if capacity is None:
        capacity = queries.median_capacity(engine, level, info.grade)
    extra = pd.DataFrame({
        "code": [f"NEW-{run_id}-{r}" for r in sites["rank"]],
        "name": [f"Trường mới đề xuất {r} (proposed)" for r in sites["rank"]],
        "level": level, "ownership": "public", "lon": sites["lon"], "lat": sites["lat"],
        "district_code": None, "ward_code": sites["ward_code"], "address": "",
        "capacity_grade1": pd.NA, "capacity_grade6": pd.NA, "capacity_grade10": pd.NA,
    })
    extra[column] = capacity
    rows = []
    for label, added in (("before", None), ("after", extra)):
        problem = load_problem(engine, round_id, mode, added)
        figures = summary(problem, allocate(problem, info.mechanism, info.seed))  # type: ignore[arg-type]
        rows.append({"scenario": label, "schools": problem.n_schools,
                     "placed": figures["placed"], "unplaced": figures["unplaced"],
                     "distance_mean_m": figures["distance_mean_m"],
                     "share_within_2km": figures["share_within_2km"]})
    return pd.DataFrame(rows)


def cutoff_outlook(engine: Engine, coverage: float = 0.8) -> pd.DataFrame:
    """Forecast next year's NV1 regular-programme cut-off of every school with history.

    Columns ``school_code, year, predicted_cutoff, lower, upper`` and, next to the band,
    ``horizon, model, nominal_coverage, backtest_coverage, backtest_n`` (see
    :func:`forecasting.cutoffs.forecast_cutoffs`); no rows when no history is stored.
    """
    from forecasting.cutoffs import FORECAST_COLUMNS, forecast_cutoffs

    history = queries.regular_nv1_cutoffs(engine)
    if history.empty:
        return pd.DataFrame(columns=["school_code", *FORECAST_COLUMNS[1:]])
    year = int(history["year"].max()) + 1
    forecast = forecast_cutoffs(history, year, coverage)
    return forecast.rename(columns={"school_name": "school_code"})
