"""Public HTML pages (map, list, school, finder, open data) and sign-in, Vietnamese first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from gis_service.accounts import audit, authenticate, end_sessions
from gis_service.directory import (
    SchoolFilters,
    cutoff_history,
    former_districts,
    list_schools,
    school_catchment,
    school_detail,
    school_extent,
    wards,
)
from gis_service.levels import SCHOOL_LEVELS
from gis_service.login_throttle import claim_attempt, record_success
from gis_service.models import OWNERSHIPS
from web.auth import OptionalUser, check_csrf, rotate_csrf
from web.charts import line_chart
from web.deps import EngineDep, app_settings
from web.directory import school_filters
from web.i18n import lang_of, translate
from web.i18n_public import programme_name
from web.public_api import CSV_COLUMN_TEXT, CSV_METADATA_PATH
from web.rate_limit import client_network
from web.sessions import clear_session, new_session, set_session
from web.templating import render

__all__ = ["city_bounds", "render", "router"]

router = APIRouter(include_in_schema=False)


def _filter_context(engine: Engine, filters: SchoolFilters) -> dict[str, Any]:
    """Return the filter form's context.

    ``nav_query`` makes the top menu's map and list links keep the filters (base.html).
    """
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    return {"filters": filters, "levels": SCHOOL_LEVELS, "ownerships": OWNERSHIPS,
            "wards": wards(engine), "former_districts": former_districts(engine), "query": query,
            "nav_query": query}


def city_bounds(engine: Engine) -> str:
    """Return the schools' extent as Leaflet bounds (JSON ``[[lat, lon], [lat, lon]]``)."""
    box = school_extent(engine)
    if box is None:
        return json.dumps([[10.6, 106.5], [11.0, 106.9]])  # HCMC centre when no school is loaded
    return json.dumps([[box[1], box[0]], [box[3], box[2]]])


def schools_bounds(schools: Sequence[dict[str, Any]]) -> str | None:
    """Return the extent of ``schools`` as Leaflet bounds, or ``None`` when there are none."""
    if not schools:
        return None
    lons, lats = [float(s["lon"]) for s in schools], [float(s["lat"]) for s in schools]
    return json.dumps([[min(lats), min(lons)], [max(lats), max(lons)]])


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, engine: EngineDep, q: str = "", level: str = "",
             ownership: str = "", district: str = "", ward: str = "") -> HTMLResponse:
    """Show the public map of all schools with filters (ward of today, former district...).

    The map opens on the filtered schools (``bounds``); ``city`` is every school's extent,
    where it goes when no school matches.
    """
    filters = school_filters(q, level, ownership, district, ward)
    schools = list_schools(engine, filters)
    city = city_bounds(engine)
    return render(request, engine, "map.html", {**_filter_context(engine, filters),
                                                "count": len(schools), "city_bounds": city,
                                                "bounds": schools_bounds(schools) or city})


@router.get("/schools", response_class=HTMLResponse)
def list_page(request: Request, engine: EngineDep, q: str = "", level: str = "",
              ownership: str = "", district: str = "", ward: str = "") -> HTMLResponse:
    """Show the accessible list view: the same schools as the map, as a table."""
    filters = school_filters(q, level, ownership, district, ward)
    return render(request, engine, "schools.html", {**_filter_context(engine, filters),
                                                    "schools": list_schools(engine, filters)})


@router.get("/schools/{code}", response_class=HTMLResponse)
def school_page(code: str, request: Request, engine: EngineDep) -> HTMLResponse:
    """Show one school: facts, location and the grade-10 cut-off history chart."""
    school = school_detail(engine, code)
    history = cutoff_history(engine, code)
    rounds = sorted({h["admission_round"] for h in history})
    series: dict[str, Sequence[tuple[int, float]]] = {
        r: [(int(h["year"]), float(h["cutoff_score"])) for h in history if h["admission_round"] == r]
        for r in rounds}
    table: dict[int, dict[str, float]] = {}
    for h in history:
        table.setdefault(h["year"], {})[h["admission_round"]] = h["cutoff_score"]
    lang = lang_of(request)
    chart = line_chart(series, translate("cutoffs", lang) + f" — {school['name']}")
    return render(request, engine, "school.html", {
        "school": school, "chart": chart, "rounds": rounds, "cutoff_table": sorted(table.items()),
        "catchment": school_catchment(engine, code),
        "programmes": [programme_name(p, lang) for p in school["programmes"] or []],
        # the grade-10 section belongs to schools that take grade 10 (or have its history)
        "grade10": school["level"] == "upper_secondary" or bool(history)})


@router.get("/finder", response_class=HTMLResponse)
def finder_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """Show the parents' finder: address search, draggable pin, nearest schools by road."""
    return render(request, engine, "finder.html", {"levels": SCHOOL_LEVELS,
                                                   "bounds": city_bounds(engine)})


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """Open data: downloads, licence, OGC API entry points, the road network in use."""
    from basemaps.fetch import current_basemap

    return render(request, engine, "data.html", {"basemap": current_basemap(engine),
                                                 "csv_columns": CSV_COLUMN_TEXT.items(),
                                                 "csv_metadata": CSV_METADATA_PATH})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, engine: EngineDep) -> HTMLResponse:
    """Staff sign-in form."""
    return render(request, engine, "login.html", {"failed": False, "next": _safe_next(request)})


def _safe_next(request: Request, value: str | None = None) -> str:
    target = value or request.query_params.get("next") or "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", response_model=None)
def login(request: Request, engine: EngineDep, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)], csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    """Check the password, then set a new session and CSRF token and go on.

    Sign-in is throttled per account and address, per address and, gently, per account
    (``gis_service.login_throttle``): 429 with Retry-After while locked, whatever the
    password.
    """
    check_csrf(request, csrf_token)
    settings = app_settings(request)
    address = client_network(request.client.host) if request.client else "unknown"
    wait_s = claim_attempt(engine, username, address, settings)
    if wait_s is not None:
        refused = render(request, engine, "login.html", {
            "failed": False, "next": _safe_next(request, next),
            "message": translate("login_throttled", lang_of(request)).format(seconds=wait_s)},
            status_code=429)
        refused.headers["Retry-After"] = str(wait_s)
        return refused
    user = authenticate(engine, username, password)
    if user is None:
        audit(engine, username, "login_failed")
        return render(request, engine, "login.html", {"failed": True, "next": _safe_next(request, next)},
                      status_code=401)
    record_success(engine, user.username, address, settings)
    audit(engine, user.username, "login", details={"role": user.role})
    response = RedirectResponse(_safe_next(request, next), status_code=303)
    set_session(settings, response, new_session(user.user_id, user.username, user.session_version))
    rotate_csrf(request, response)
    return response


@router.post("/logout")
def logout(request: Request, engine: EngineDep, user: OptionalUser,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    """Sign out everywhere.

    The user's session version is bumped, so every cookie of theirs, on any device or copied
    anywhere, stops working (CSRF-protected so another site cannot sign a user out).
    """
    check_csrf(request, csrf_token)
    if user is not None:
        end_sessions(engine, user.username)
        audit(engine, user.username, "logout")
    response = RedirectResponse("/", status_code=303)
    clear_session(app_settings(request), response)
    rotate_csrf(request, response)
    return response
