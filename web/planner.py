"""Planners' workspace: forecasts, the capacity-gap map, proposed sites and what-ifs.

Stored enrolment forecasts come with their intervals and methods, the capacity-gap map
shows the stored ``capacity_gaps`` (through the OGC collection), proposed sites come with
their before/after summary, and the what-if is a round with the sites added.

Every route checks the role and every form the CSRF token; each computation is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from forecasting import queries, service
from forecasting.population_import import population_methods
from forecasting.vocabulary import Measure, ModelName
from gis_service.accounts import User, audit
from gis_service.errors import EdugisError, NotFoundError, StateError
from gis_service.levels import GeneralLevelName
from web.auth import PlannerUser, check_csrf
from web.deps import EngineDep
from web.errors import error_answer
from web.pages import city_bounds, render

router = APIRouter(include_in_schema=False)
LEVELS: tuple[GeneralLevelName, ...] = get_args(GeneralLevelName)
MEASURES: tuple[Measure, ...] = get_args(Measure)
MODELS: tuple[ModelName, ...] = get_args(ModelName)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` with NaN as ``None`` (templates print nothing for them)."""
    return [{str(k): v for k, v in row.items()}
            for row in frame.astype(object).where(frame.notna(), None).to_dict("records")]


def _page(request: Request, engine: Engine, level: str, measure: str, year: int | None,
          threshold_min: float | None, run_id: str, status_code: int = 200,
          **extra: Any) -> HTMLResponse:
    years = queries.forecast_years(engine)
    if year is None and years:
        year = years[0]
    choices = _records(queries.gap_choices(engine))
    if threshold_min is None:
        matching = [c for c in choices if c["level"] == level and c["year"] == year]
        threshold_min = float(matching[0]["threshold_min"]) if matching else 15.0
    runs = _records(queries.site_runs(engine))
    if not run_id and runs:
        run_id = str(runs[-1]["run_id"])
    gaps = _records(queries.gap_table(engine, level, year, threshold_min)) if year is not None else []
    gaps_query = urlencode({"level": level, "year": year, "threshold_min": f"{threshold_min:g}",
                            "basis": "forecast_2sfca", "limit": 10000})
    context: dict[str, Any] = {
        "levels": LEVELS, "measures": MEASURES, "models": MODELS, "level": level,
        "measure": measure, "year": year, "years": years, "threshold_min": threshold_min,
        "methods": _records(queries.forecast_methods(engine)),
        "population_methods": population_methods(engine),
        "forecasts": (_records(queries.forecast_table(engine, level, measure, year))
                      if year is not None else []),
        "gaps": gaps, "gap_choices": choices, "runs": runs, "run_id": run_id,
        "sites": _records(queries.sites_of(engine, run_id)) if run_id else [],
        "rounds": _records(queries.rounds_with_applicants(engine)),
        "gaps_url": f"/ogc/collections/capacity-gaps/items?{gaps_query}" if gaps else "",
        "sites_url": f"/planner/sites.geojson?{urlencode({'run_id': run_id})}" if run_id else "",
        "bounds": city_bounds(engine), "siting": None, "what_if": None, "error": None,
    }
    context.update(extra)
    return render(request, engine, "planner.html", context, status_code=status_code)


@router.get("/planner", response_class=HTMLResponse)
def planner_home(request: Request, engine: EngineDep, user: PlannerUser,
                 level: GeneralLevelName = "primary", measure: Measure = "entry", year: int | None = None,
                 threshold_min: float | None = None, run_id: str = "") -> HTMLResponse:
    """Show forecasts, gaps map, proposed sites and what-if forms."""
    return _page(request, engine, level, measure, year, threshold_min, run_id)


def _back(level: str, year: int | None = None, threshold_min: float | None = None,
          run_id: str = "") -> RedirectResponse:
    query = {k: v for k, v in {"level": level, "year": year, "threshold_min": threshold_min,
                               "run_id": run_id}.items() if v not in (None, "")}
    return RedirectResponse(f"/planner?{urlencode(query)}", status_code=303)


#: What a computation refuses, shown on the page again: data it cannot run on yet (a
#: StateError, e.g. no forecast stored), an unknown run or round (NotFoundError), or a
#: kernel's refusal of the request (a ValueError, e.g. more sites than candidates).
REFUSALS = (StateError, NotFoundError, ValueError)


def _failed(request: Request, engine: Engine, user: User, action: str, error: Exception,
            level: str = "primary", year: int | None = None,
            threshold_min: float | None = None) -> HTMLResponse:
    """Show the page again with ``error``.

    Its status comes from the one error table (:data:`web.errors.ERROR_ANSWERS`); 409 for an
    error without an entry there.
    """
    audit(engine, user.username, action + "_failed", "", {"error": str(error)})
    answer = error_answer(error) if isinstance(error, EdugisError) else None
    return _page(request, engine, level, "entry", year, threshold_min, "",
                 status_code=409 if answer is None else answer.status, error=str(error))


@router.post("/planner/forecasts", response_model=None)
def run_forecasts(request: Request, engine: EngineDep, user: PlannerUser,
                  horizon_years: Annotated[int, Form(ge=1, le=20)] = 10,
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    """Backtest and forecast enrolment for every ward and level; replace the stored ones."""
    check_csrf(request, csrf_token)
    try:
        forecast, _report = service.forecast_and_store(engine, horizon_years)
    except REFUSALS as error:
        return _failed(request, engine, user, "planning.forecast", error)
    audit(engine, user.username, "planning.forecast", "enrolment_forecasts",
          {"horizon_years": horizon_years, "rows": len(forecast)})
    return _back("primary")


@router.post("/planner/gaps", response_model=None)
def run_gaps(request: Request, engine: EngineDep, user: PlannerUser,
             level: Annotated[GeneralLevelName, Form()], year: Annotated[int, Form()],
             threshold_min: Annotated[float, Form(gt=0, le=120)] = 15.0,
             csrf_token: Annotated[str, Form()] = "") -> Response:
    """Capacity gaps (2SFCA by road) of one level and forecast year; stored."""
    check_csrf(request, csrf_token)
    try:
        gaps = service.gaps_and_store(engine, level, year, threshold_min)
    except REFUSALS as error:
        return _failed(request, engine, user, "planning.gaps", error, level, year, threshold_min)
    audit(engine, user.username, "planning.gaps", "capacity_gaps",
          {"level": level, "year": year, "threshold_min": threshold_min, "wards": len(gaps)})
    return _back(level, year, threshold_min)


@router.post("/planner/sites", response_class=HTMLResponse)
def run_sites(request: Request, engine: EngineDep, user: PlannerUser,
              level: Annotated[GeneralLevelName, Form()], year: Annotated[int, Form()],
              p: Annotated[int, Form(ge=1, le=50)] = 3,
              threshold_min: Annotated[float, Form(gt=0, le=120)] = 15.0,
              model: Annotated[ModelName, Form()] = "p_median",
              max_candidates: Annotated[int, Form(ge=10, le=5000)] = 2000,
              csrf_token: Annotated[str, Form()] = "") -> HTMLResponse:
    """Choose ``p`` new sites, store them and show the before/after summary."""
    check_csrf(request, csrf_token)
    try:
        run = service.sites_and_store(engine, level, year, p, threshold_min, model=model,
                                      max_candidates=max_candidates)
    except REFUSALS as error:
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
    """Compare a round's allocation before and after adding a run's sites as schools (nothing stored)."""
    check_csrf(request, csrf_token)
    try:
        table = service.what_if_sites(engine, run_id, round_id)
    except REFUSALS as error:
        return _failed(request, engine, user, "planning.what_if", error)
    audit(engine, user.username, "planning.what_if", run_id, {"round_id": round_id})
    return _page(request, engine, queries.run_level(engine, run_id), "entry", None, None, run_id, what_if={
        "run_id": run_id, "round_id": round_id, "columns": [str(c) for c in table.columns],
        "rows": _records(table)})


@router.get("/planner/sites.geojson")
def sites_geojson(engine: EngineDep, user: PlannerUser, run_id: str) -> JSONResponse:
    """Return the proposed sites of one run as GeoJSON points, for the planner's map."""
    sites = _records(queries.sites_of(engine, run_id))
    if not sites:
        raise NotFoundError(f"no proposed sites for run {run_id!r}")
    return JSONResponse({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
         "properties": {k: s[k] for k in ("rank", "ward_code", "ward_name", "model", "method")}}
        for s in sites]}, media_type="application/geo+json")
