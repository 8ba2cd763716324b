"""Planners' workspace: stored enrolment forecasts with their intervals and methods, the
capacity-gap map (stored ``capacity_gaps``, through the OGC collection), proposed sites with
their before/after summary, and the what-if of a round with the sites added.

Every route checks the role and every form the CSRF token; each computation is audited.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from forecasting import service
from forecasting.service import ENTRY_GRADE
from gis_service.errors import NotFoundError
from web.auth import PlannerUser, check_csrf
from web.deps import BadRequestError, EngineDep
from web.pages import city_bounds, render
from web.users import User, audit

router = APIRouter(include_in_schema=False)
LEVELS = tuple(ENTRY_GRADE)
MEASURES = ("entry", "total")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` with NaN as ``None`` (templates print nothing for them)."""
    return [{str(k): v for k, v in row.items()}
            for row in frame.astype(object).where(frame.notna(), None).to_dict("records")]


def forecast_years(engine: Engine) -> list[int]:
    """Years with a stored forecast, earliest first."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT DISTINCT year FROM enrolment_forecasts ORDER BY year")).scalars())


def forecast_methods(engine: Engine) -> list[dict[str, Any]]:
    """Which method the backtest chose, per level and measure, and for how many wards."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT level, measure, method, count(DISTINCT ward_code) AS wards"
            " FROM enrolment_forecasts GROUP BY level, measure, method ORDER BY level, measure, method"))]


def forecast_table(engine: Engine, level: str, measure: str, year: int) -> list[dict[str, Any]]:
    """Stored forecast of one level, measure and year per ward, with its interval."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT f.ward_code, w.name, f.horizon, f.method, f.predicted, f.lower, f.upper"
            " FROM enrolment_forecasts f LEFT JOIN admin_units w ON w.code = f.ward_code"
            " WHERE f.level = :l AND f.measure = :m AND f.year = :y ORDER BY f.ward_code"),
            {"l": level, "m": measure, "y": year})]


def gap_table(engine: Engine, level: str, year: int, threshold_min: float) -> list[dict[str, Any]]:
    """Stored capacity gaps of one level, year and threshold, largest shortfall first."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT g.ward_code, w.name, g.demand, g.seats_within_threshold, g.seats_per_child,"
            " g.accessible_seats, g.shortfall_seats, g.nearest_time_s FROM capacity_gaps g"
            " LEFT JOIN admin_units w ON w.code = g.ward_code"
            " WHERE g.level = :l AND g.year = :y AND g.threshold_min = :t"
            " ORDER BY g.shortfall_seats DESC, g.ward_code"),
            {"l": level, "y": year, "t": threshold_min})]


def gap_choices(engine: Engine) -> list[dict[str, Any]]:
    """The stored (level, year, threshold) combinations."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT level, year, threshold_min, count(*) AS wards, sum(shortfall_seats) AS shortfall"
            " FROM capacity_gaps GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"))]


def site_runs(engine: Engine) -> list[dict[str, Any]]:
    """Stored siting runs."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT run_id, level, model, method, count(*) AS sites FROM proposed_sites"
            " GROUP BY run_id, level, model, method ORDER BY run_id"))]


def sites_of(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The proposed sites of one run, best first."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT p.rank, p.ward_code, w.name AS ward_name, p.model, p.method, ST_X(p.geom) AS lon,"
            " ST_Y(p.geom) AS lat FROM proposed_sites p LEFT JOIN admin_units w ON w.code = p.ward_code"
            " WHERE p.run_id = :r ORDER BY p.rank"), {"r": run_id})]


def rounds_for(engine: Engine) -> list[dict[str, Any]]:
    """Admission rounds with applicants, for the what-if."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT r.id, r.grade, r.year FROM admission_rounds r WHERE r.grade IN (1, 6)"
            " AND EXISTS (SELECT 1 FROM applicants a WHERE a.round_id = r.id) ORDER BY r.year DESC, r.id"))]


def _level(level: str) -> str:
    if level not in LEVELS:
        raise BadRequestError(f"level must be one of {', '.join(LEVELS)}")
    return level


def _page(request: Request, engine: Engine, level: str, measure: str, year: int | None,
          threshold_min: float | None, run_id: str, status_code: int = 200,
          **extra: Any) -> HTMLResponse:
    _level(level)
    if measure not in MEASURES:
        raise BadRequestError(f"measure must be one of {', '.join(MEASURES)}")
    years = forecast_years(engine)
    if year is None and years:
        year = years[0]
    choices = gap_choices(engine)
    if threshold_min is None:
        matching = [c for c in choices if c["level"] == level and c["year"] == year]
        threshold_min = float(matching[0]["threshold_min"]) if matching else 15.0
    runs = site_runs(engine)
    if not run_id and runs:
        run_id = str(runs[-1]["run_id"])
    gaps = gap_table(engine, level, year, threshold_min) if year is not None else []
    gaps_query = urlencode({"level": level, "year": year, "threshold_min": f"{threshold_min:g}",
                            "basis": "forecast_2sfca", "limit": 10000})
    context: dict[str, Any] = {
        "levels": LEVELS, "measures": MEASURES, "level": level, "measure": measure, "year": year,
        "years": years, "threshold_min": threshold_min, "methods": forecast_methods(engine),
        "forecasts": forecast_table(engine, level, measure, year) if year is not None else [],
        "gaps": gaps, "gap_choices": choices, "runs": runs, "run_id": run_id,
        "sites": sites_of(engine, run_id) if run_id else [], "rounds": rounds_for(engine),
        "gaps_url": f"/ogc/collections/capacity-gaps/items?{gaps_query}" if gaps else "",
        "sites_url": f"/planner/sites.geojson?{urlencode({'run_id': run_id})}" if run_id else "",
        "bounds": city_bounds(engine), "siting": None, "what_if": None, "error": None,
    }
    context.update(extra)
    return render(request, engine, "planner.html", context, status_code=status_code)


@router.get("/planner", response_class=HTMLResponse)
def planner_home(request: Request, engine: EngineDep, user: PlannerUser, level: str = "primary",
                 measure: str = "entry", year: int | None = None, threshold_min: float | None = None,
                 run_id: str = "") -> HTMLResponse:
    """Forecasts, gaps map, proposed sites and what-if forms."""
    return _page(request, engine, level, measure, year, threshold_min, run_id)


def _back(level: str, year: int | None = None, threshold_min: float | None = None,
          run_id: str = "") -> RedirectResponse:
    query = {k: v for k, v in {"level": level, "year": year, "threshold_min": threshold_min,
                               "run_id": run_id}.items() if v not in (None, "")}
    return RedirectResponse(f"/planner?{urlencode(query)}", status_code=303)


def _failed(request: Request, engine: Engine, user: User, action: str, error: Exception,
            level: str = "primary", year: int | None = None,
            threshold_min: float | None = None) -> HTMLResponse:
    audit(engine, user.username, action + "_failed", "", {"error": str(error)})
    return _page(request, engine, level, "entry", year, threshold_min, "", status_code=409,
                 error=str(error))


@router.post("/planner/forecasts", response_model=None)
def run_forecasts(request: Request, engine: EngineDep, user: PlannerUser,
                  horizon_years: Annotated[int, Form(ge=1, le=20)] = 10,
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    """Backtest and forecast enrolment for every ward and level; replace the stored ones."""
    check_csrf(request, csrf_token)
    try:
        forecast, _report = service.forecast_and_store(engine, horizon_years)
    except (NotFoundError, ValueError) as error:
        return _failed(request, engine, user, "planning.forecast", error)
    audit(engine, user.username, "planning.forecast", "enrolment_forecasts",
          {"horizon_years": horizon_years, "rows": len(forecast)})
    return _back("primary")


@router.post("/planner/gaps", response_model=None)
def run_gaps(request: Request, engine: EngineDep, user: PlannerUser, level: Annotated[str, Form()],
             year: Annotated[int, Form()], threshold_min: Annotated[float, Form(gt=0, le=120)] = 15.0,
             csrf_token: Annotated[str, Form()] = "") -> Response:
    """Capacity gaps (2SFCA by road) of one level and forecast year; stored."""
    check_csrf(request, csrf_token)
    _level(level)
    try:
        gaps = service.gaps_and_store(engine, level, year, threshold_min)
    except (NotFoundError, ValueError) as error:
        return _failed(request, engine, user, "planning.gaps", error, level, year, threshold_min)
    audit(engine, user.username, "planning.gaps", "capacity_gaps",
          {"level": level, "year": year, "threshold_min": threshold_min, "wards": len(gaps)})
    return _back(level, year, threshold_min)


@router.post("/planner/sites", response_class=HTMLResponse)
def run_sites(request: Request, engine: EngineDep, user: PlannerUser, level: Annotated[str, Form()],
              year: Annotated[int, Form()], p: Annotated[int, Form(ge=1, le=50)] = 3,
              threshold_min: Annotated[float, Form(gt=0, le=120)] = 15.0,
              model: Annotated[str, Form()] = "p_median",
              max_candidates: Annotated[int, Form(ge=10, le=5000)] = 2000,
              csrf_token: Annotated[str, Form()] = "") -> HTMLResponse:
    """Choose ``p`` new sites, store them and show the before/after summary."""
    check_csrf(request, csrf_token)
    _level(level)
    if model not in ("p_median", "max_coverage"):
        raise BadRequestError("model must be p_median or max_coverage")
    try:
        run = service.sites_and_store(engine, level, year, p, threshold_min, model=model,
                                      max_candidates=max_candidates)
    except (NotFoundError, ValueError) as error:
        return _failed(request, engine, user, "planning.sites", error, level, year, threshold_min)
    audit(engine, user.username, "planning.sites", run.run_id,
          {"level": level, "year": year, "p": p, "threshold_min": threshold_min, "model": model,
           "method": run.method, "gap_to_bound": run.gap_to_bound})
    summary = run.summary.reset_index(drop=True)
    return _page(request, engine, level, "entry", year, threshold_min, run.run_id, siting={
        "run_id": run.run_id, "method": run.method, "gap_to_bound": run.gap_to_bound,
        "columns": [str(c) for c in summary.columns], "rows": _records(summary)})


@router.post("/planner/what-if", response_class=HTMLResponse)
def run_what_if(request: Request, engine: EngineDep, user: PlannerUser,
                run_id: Annotated[str, Form(max_length=64)], round_id: Annotated[str, Form(max_length=64)],
                csrf_token: Annotated[str, Form()] = "") -> HTMLResponse:
    """A round's allocation before and after adding a run's sites as schools (nothing stored)."""
    check_csrf(request, csrf_token)
    try:
        table = service.what_if_sites(engine, run_id, round_id)
    except (NotFoundError, ValueError) as error:
        return _failed(request, engine, user, "planning.what_if", error)
    audit(engine, user.username, "planning.what_if", run_id, {"round_id": round_id})
    return _page(request, engine, _run_level(engine, run_id), "entry", None, None, run_id, what_if={
        "run_id": run_id, "round_id": round_id, "columns": [str(c) for c in table.columns],
        "rows": _records(table)})


def _run_level(engine: Engine, run_id: str) -> str:
    with engine.connect() as conn:
        level: str = conn.execute(sa.text("SELECT level FROM proposed_sites WHERE run_id = :r LIMIT 1"),
                                  {"r": run_id}).scalar_one()
    return level


@router.get("/planner/sites.geojson")
def sites_geojson(engine: EngineDep, user: PlannerUser, run_id: str) -> JSONResponse:
    """The proposed sites of one run as GeoJSON points, for the planner's map."""
    sites = sites_of(engine, run_id)
    if not sites:
        raise NotFoundError(f"no proposed sites for run {run_id!r}")
    return JSONResponse({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
         "properties": {k: s[k] for k in ("rank", "ward_code", "ward_name", "model", "method")}}
        for s in sites]}, media_type="application/geo+json")
