"""Planners' workspace: forecasts, the capacity-gap map, proposed sites and what-ifs.

Stored enrolment forecasts come with their intervals and methods, the capacity-gap map
shows the stored ``capacity_gaps`` (through the OGC collection), proposed sites come with
their before/after summary, and the what-if is a round with the sites added.

Every route checks the role and every form the CSRF token; each computation is audited.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import uuid
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from forecasting import queries, service
from forecasting.backtest import run_backtest
from forecasting.population_import import population_methods
from forecasting.vocabulary import Measure, ModelName
from gis_service.accounts import User, audit
from gis_service.errors import EdugisError, NotFoundError, StateError
from gis_service.levels import GeneralLevelName
from web.auth import PlannerUser, check_csrf
from web.deps import EngineDep
from web.errors import error_answer
from web.i18n import lang_of, translate
from web.pages import city_bounds, render

router = APIRouter(include_in_schema=False)
LOGGER = logging.getLogger(__name__)
#: The level of the stored forecasts' intervals, in per cent (the backtest's default, with
#: which :func:`forecasting.service.forecast_and_store` runs it).
INTERVAL_LEVEL = round(100 * float(inspect.signature(run_backtest).parameters["coverage"].default))
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
    user = getattr(request.state, "session_user", None)
    job = (_job_status(engine, user.username, lang_of(request)) if isinstance(user, User)
           else {"state": "idle"})
    if not run_id and job.get("run_id") in {r["run_id"] for r in runs}:
        run_id = str(job["run_id"])  # the planner's last result first
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
        "bounds": city_bounds(engine), "what_if": None, "error": None,
        "interval_level": INTERVAL_LEVEL, "job": job,
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


#: A job started longer ago than this without an end is taken as lost (its worker stopped).
STALE_S = 1800.0
#: Stages of a job as this process knows them (a job of another worker has none).
_STAGES: dict[str, str] = {}


def _message(error: Exception, lang: str) -> str:
    """``error`` in ``lang`` where it carries both languages, else the plain-words refusal."""
    if isinstance(error, StateError) and error.message_vi:
        return error.message_vi if lang == "vi" else error.message
    return f"{translate('job_failed', lang)}: {error}"


def _run_sites_job(engine: Engine, username: str, job: str, params: dict[str, Any]) -> None:
    """Compute and store the sites of ``params`` (in a thread); its end lands in the audit log."""
    started = time.monotonic()
    _STAGES[job] = "demand"
    try:
        run = service.sites_and_store(engine, params["level"], params["year"], params["p"],
                                      params["threshold_min"], model=params["model"],
                                      max_candidates=params["max_candidates"],
                                      progress=lambda stage: _STAGES.__setitem__(job, stage))
    except REFUSALS as error:
        audit(engine, username, "planning.sites_failed", "", {
            "job": job, "error": str(error), "message": _message(error, "en"),
            "message_vi": _message(error, "vi")})
    except Exception as error:  # a bug: logged in full, the page says a server error
        LOGGER.exception("siting job %s failed", job)
        audit(engine, username, "planning.sites_failed", "", {
            "job": job, "error": repr(error), "message": translate("server_error", "en"),
            "message_vi": translate("server_error", "vi")})
    else:
        audit(engine, username, "planning.sites", run.run_id, {
            "job": job, **params, "method": run.method, "gap_to_bound": run.gap_to_bound,
            "seconds": round(time.monotonic() - started, 1)})
    finally:
        _STAGES.pop(job, None)


def _job_status(engine: Engine, username: str, lang: str) -> dict[str, Any]:
    """Return the state of ``username``'s latest siting job, for the page and its polling script.

    ``state`` is ``idle`` (none yet), ``running``, ``done`` (with ``run_id`` and
    ``result_url``) or ``failed`` (with ``message`` in ``lang``).
    """
    last = queries.last_sites_job(engine, username)
    if last is None:
        return {"state": "idle"}
    details = last["details"] or {}
    status: dict[str, Any] = {"job": details.get("job"), "age_s": round(float(last["age_s"]))}
    if last["action"] == "planning.sites_started":
        if float(last["age_s"]) > STALE_S:
            return {**status, "state": "failed", "message": translate("job_lost", lang)}
        stage = _STAGES.get(str(details.get("job")))
        expected = details.get("expected_s")
        return {**status, "state": "running", "elapsed_s": status["age_s"],
                "expected_s": None if expected is None else round(float(expected)),
                "stage": translate(f"job_stage_{stage}", lang) if stage else None,
                "text": translate("job_running", lang)}
    if last["action"] == "planning.sites_failed":
        message = details.get("message_vi" if lang == "vi" else "message") or details.get("error")
        return {**status, "state": "failed", "message": message}
    query = {"level": details.get("level"), "year": details.get("year"),
             "threshold_min": details.get("threshold_min"), "run_id": last["target"]}
    return {**status, "state": "done", "run_id": last["target"], "text": translate("job_done", lang),
            "result_url": f"/planner?{urlencode({k: v for k, v in query.items() if v is not None})}"
                          "#sites"}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/planner/sites", response_model=None)
def run_sites(request: Request, engine: EngineDep, user: PlannerUser,
              level: Annotated[GeneralLevelName, Form()], year: Annotated[int, Form()],
              p: Annotated[int, Form(ge=1, le=50)] = 3,
              threshold_min: Annotated[float, Form(gt=0, le=120)] = 15.0,
              model: Annotated[ModelName, Form()] = "p_median",
              max_candidates: Annotated[int, Form(ge=10, le=5000)] = 2000,
              csrf_token: Annotated[str, Form()] = "") -> Response:
    """Start choosing ``p`` new sites in the background; its state is at ``/planner/sites/status``.

    One job at a time per planner (a second one is refused while the first runs, whichever
    worker holds it); the job's start and end are audit rows, so every worker answers the
    status and a reloaded page shows the running job or its last result. A fetch asking for
    JSON gets 202 and the status; a plain form post is sent back to the page.
    """
    check_csrf(request, csrf_token)
    lang = lang_of(request)
    params = {"level": level, "year": year, "p": p, "threshold_min": threshold_min,
              "model": model, "max_candidates": max_candidates}
    try:
        queries.entry_demand(engine, level, year)  # no forecast: say so now, not in a minute
    except REFUSALS as error:
        if _wants_json(request):
            audit(engine, user.username, "planning.sites_failed", "", {
                "error": str(error), "message": _message(error, "en"),
                "message_vi": _message(error, "vi")})
            return JSONResponse({"state": "failed", "message": _message(error, lang)}, 409)
        return _failed(request, engine, user, "planning.sites", error, level, year, threshold_min)
    job = uuid.uuid4().hex[:12]
    with engine.begin() as conn:
        # two workers starting a job of the same planner at once: one waits for the other
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                     {"k": f"planner.sites:{user.username}"})
        last = queries.last_sites_job(conn, user.username)
        busy = (last is not None and last["action"] == "planning.sites_started"
                and float(last["age_s"]) <= STALE_S)
        if not busy:
            audit(conn, user.username, "planning.sites_started", "", {
                "job": job, **params, "expected_s": queries.typical_sites_seconds(conn)})
    if busy:
        if _wants_json(request):
            return JSONResponse({"state": "failed", "message": translate("job_busy", lang)}, 409)
        return _page(request, engine, level, "entry", year, threshold_min, "", status_code=409,
                     error=translate("job_busy", lang))
    threading.Thread(target=_run_sites_job, args=(engine, user.username, job, params),
                     name=f"planner-sites-{job}", daemon=True).start()
    if _wants_json(request):
        return JSONResponse(_job_status(engine, user.username, lang), 202)
    return RedirectResponse(f"/planner?{urlencode({'level': level, 'year': year})}#sites",
                            status_code=303)


@router.get("/planner/sites/status")
def sites_status(request: Request, engine: EngineDep, user: PlannerUser) -> JSONResponse:
    """Return the state of the planner's latest siting job (polled while it runs)."""
    return JSONResponse(_job_status(engine, user.username, lang_of(request)),
                        headers={"Cache-Control": "no-store"})


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
        "run_id": run_id, "round_id": round_id, "rows": _records(table)})


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
