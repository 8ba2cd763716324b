"""Planners' transport scenarios page: list, create, upload edits, compare before/after.

``GET /planner/scenarios`` lists the stored scenarios; ``?name=N`` shows one with its
edits on a map; ``&level=L`` (and ``&round=R``) compares it with the network in use
(:func:`forecasting.transport_whatif.scenario_what_if`, nothing stored): the ward table
and map of the change of time to the nearest school, 2SFCA gaps, catchment changes and the
admission round rerun. The forms post with the CSRF token, as every planner form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from gis_service.errors import EdugisError, InputError, Problem
from gis_service.levels import LEVELS
from web.auth import PlannerUser, check_csrf
from web.deps import EngineDep
from web.errors import ApiError
from web.i18n import lang_of
from web.pages import city_bounds
from web.templating import render

router = APIRouter(include_in_schema=False)
MAX_GEOJSON_BYTES = 5 * 1024 * 1024
KINDS = ("road", "metro", "closure")


def _message(error: EdugisError, lang: str) -> str:
    """Return the error in the page's language (each problem of a refused file on its own)."""
    if isinstance(error, InputError):
        return "; ".join(str(p.file) + (f" #{p.row}" if p.row else "") +
                         (f" [{p.field}]" if p.field else "") + ": " + p.reason_in(lang)
                         for p in error.problems)
    text = str(error)
    if " / " in text:  # "English / Vietnamese" messages of the scenario store
        english, vietnamese = text.split(" / ", 1)
        return vietnamese if lang == "vi" else english
    message_vi = getattr(error, "message_vi", None)
    return str(message_vi) if lang == "vi" and message_vi else text


def _clean(value: Any) -> Any:
    """Return a JSON- and template-friendly value (``None`` for NaN and infinity)."""
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _records(frame: Any) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _rounds(engine: Engine, level: str) -> list[str]:
    from forecasting.transport_whatif import rounds_of_level

    return rounds_of_level(engine, level)


def _compare(engine: Engine, name: str, level: str, round_id: str | None) -> dict[str, Any]:
    from forecasting.streaming_service import ward_shapes
    from forecasting.transport_whatif import scenario_what_if

    result = scenario_what_if(engine, name, level, round_id=round_id or None)
    wards = _records(result.wards.sort_values("change_s"))
    shapes = ward_shapes(engine)
    by_code = {w["ward_code"]: w for w in wards}
    features = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(row.geometry),
         "properties": {"code": row.ward_code, "name": row.name,
                        **{k: by_code[row.ward_code].get(k) for k in (
                            "time_before_s", "time_after_s", "change_s")}}}
        for row in shapes.itertuples() if row.ward_code in by_code]}
    changed = result.catchments[result.catchments["catchment_changed"] > 0]
    return {
        "summary": {k: _clean(v) for k, v in result.summary().items()}, "wards": wards,
        "gaps": _records(result.gaps), "catchments": _records(changed),
        "admissions": None if result.admissions is None else _records(result.admissions),
        "ward_features": json.dumps(features, ensure_ascii=False),
    }


@router.get("/planner/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, engine: EngineDep, user: PlannerUser, name: str = "",
                   level: str = "", round: str = "", added: int | None = None,
                   ) -> HTMLResponse:
    """List the scenarios; show one with its edits; compare it when a level is chosen."""
    from routing.scenario_store import edits_geojson, list_scenarios, load_scenario

    lang = lang_of(request)
    context: dict[str, Any] = {
        "scenarios": _records(list_scenarios(engine).drop(columns=["created_at"])),
        "name": name, "level": level or "primary", "round": round, "levels": LEVELS,
        "kinds": KINDS, "bounds": city_bounds(engine), "scenario": None, "error": None,
        "added": added, "compare": None, "rounds": [],
    }
    status = 200
    if name:
        try:
            scenario = load_scenario(engine, name)
        except EdugisError:
            context["error"] = (f"Không có kịch bản {name!r}" if lang == "vi"
                                else f"No scenario {name!r}")
            return render(request, engine, "planner_scenarios.html", context, status_code=404)
        context["scenario"] = scenario
        context["edits"] = json.dumps(edits_geojson(scenario), ensure_ascii=False)
        if level in {lv.name for lv in LEVELS}:
            context["rounds"] = _rounds(engine, level)
            try:
                context["compare"] = _compare(engine, name, level, round or None)
            except EdugisError as error:
                context["error"] = _message(error, lang)
                status = 404 if isinstance(error, LookupError) else 409
        elif level:
            context["error"] = (f"Cấp học không hợp lệ: {level!r}" if lang == "vi"
                                else f"Unknown level {level!r}")
            status = 400
        else:
            context["rounds"] = _rounds(engine, "primary")
    return render(request, engine, "planner_scenarios.html", context, status_code=status)


def _back(name: str = "", lang: str = "vi", **extra: Any) -> RedirectResponse:
    query = {k: v for k, v in {"name": name, **extra}.items() if v not in ("", None)}
    if lang == "en":
        query["lang"] = "en"
    return RedirectResponse("/planner/scenarios" + (f"?{urlencode(query)}" if query else ""),
                            status_code=303)


@router.post("/planner/scenarios", response_model=None)
def create(request: Request, engine: EngineDep, user: PlannerUser,
           name: Annotated[str, Form(max_length=64)],
           description: Annotated[str, Form(max_length=500)] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    """Create a scenario on the basemap in use."""
    from routing.scenario_store import create_scenario

    check_csrf(request, csrf_token)
    lang = lang_of(request)
    try:
        create_scenario(engine, name.strip(), description.strip(), actor=user.username)
    except EdugisError as error:
        return _refused(request, engine, "", error, lang)
    return _back(name.strip(), lang)


def _refused(request: Request, engine: Engine, name: str, error: EdugisError,
             lang: str) -> HTMLResponse:
    from routing.scenario_store import edits_geojson, list_scenarios, load_scenario

    context: dict[str, Any] = {
        "scenarios": _records(list_scenarios(engine).drop(columns=["created_at"])),
        "name": name, "level": "primary", "round": "", "levels": LEVELS, "kinds": KINDS,
        "bounds": city_bounds(engine), "scenario": None, "error": _message(error, lang),
        "added": None, "compare": None, "rounds": [],
    }
    if name:
        scenario = load_scenario(engine, name)
        context.update(scenario=scenario, rounds=_rounds(engine, "primary"),
                       edits=json.dumps(edits_geojson(scenario), ensure_ascii=False))
    status = 422 if isinstance(error, InputError) else 409
    if isinstance(error, LookupError):
        status = 404
    return render(request, engine, "planner_scenarios.html", context, status_code=status)


@router.post("/planner/scenarios/{name}/edits", response_model=None)
def add(request: Request, engine: EngineDep, user: PlannerUser, name: str,
        file: Annotated[UploadFile, File()], kind: Annotated[str, Form()],
        speed_kmh: Annotated[str, Form()] = "", highway: Annotated[str, Form(max_length=32)] = "",
        oneway: Annotated[bool, Form()] = False, headway_min: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "") -> Response:
    """Add the features of an uploaded GeoJSON file of one kind, checked against the roads."""
    from routing.scenario_edits import edits_from_geojson
    from routing.scenario_store import add_edits, load_scenario

    check_csrf(request, csrf_token)
    lang = lang_of(request)
    load_scenario(engine, name)  # an unknown scenario is a 404
    content = file.file.read(MAX_GEOJSON_BYTES + 1)
    if len(content) > MAX_GEOJSON_BYTES:
        raise ApiError(413, "PayloadTooLarge", "GeoJSON over 5 MB")
    source = (file.filename or "upload.geojson").rsplit("/", 1)[-1][:80]
    try:
        try:
            data = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError([Problem(source, None, None, f"not a GeoJSON file: {error}",
                                      f"không phải tệp GeoJSON: {error}")]) from None
        if not isinstance(data, dict):
            data = {}
        edits = edits_from_geojson(
            data, kind, source, speed_kmh=_number(speed_kmh), highway=highway or None,
            oneway=oneway or None,
            headway_s=None if _number(headway_min) is None else float(headway_min) * 60.0)
        add_edits(engine, name, edits, user.username, source=source)
    except EdugisError as error:
        return _refused(request, engine, name, error, lang)
    return _back(name, lang, added=len(edits))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


@router.post("/planner/scenarios/{name}/delete", response_model=None)
def delete(request: Request, engine: EngineDep, user: PlannerUser, name: str,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    """Delete a scenario (the basemap is untouched)."""
    from routing.scenario_store import delete_scenario

    check_csrf(request, csrf_token)
    delete_scenario(engine, name, user.username)
    return _back("", lang_of(request))
