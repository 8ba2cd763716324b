"""Planners' streaming page (phân luồng sau lớp 9): ward map and table for a year and threshold.

``GET /planner/streaming?year=Y&threshold_min=M`` computes
:func:`forecasting.streaming_service.streaming_forecast` (nothing is stored) and shows the
remainder per ward on a Leaflet map (OSM basemap) and in a table, the city's totals first.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from forecasting.streaming import compare_streaming
from forecasting.streaming_service import (
    THRESHOLD_RANGE_MIN,
    admission_years,
    finite,
    scenario_names,
    scenario_times,
    streaming_forecast,
    ward_shapes,
)
from gis_service.errors import EdugisError, InputError
from web.auth import PlannerUser
from web.deps import EngineDep
from web.i18n import lang_of
from web.pages import city_bounds, render

router = APIRouter(include_in_schema=False)
#: The year shown first: two years after the last enrolment year (a projected one).
DEFAULT_AHEAD_YEARS = 2


def _message(error: EdugisError, lang: str) -> str:
    """Return the error in the page's language where it carries Vietnamese."""
    if isinstance(error, InputError):
        return "; ".join(p.reason_in(lang) for p in error.problems)
    message_vi = getattr(error, "message_vi", None)
    if message_vi:
        return str(message_vi) if lang == "vi" else str(getattr(error, "message", error))
    return str(error)


def _features(shapes: pd.DataFrame, wards: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the wards of today as GeoJSON with their streaming figures."""
    figures = {w["ward_code"]: w for w in wards}
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(row.geometry),
         "properties": {"code": row.ward_code, "name": row.name, **figures.get(row.ward_code, {})}}
        for row in shapes.itertuples() if row.ward_code in figures]}


@router.get("/planner/streaming", response_class=HTMLResponse)
def streaming_page(request: Request, engine: EngineDep, user: PlannerUser,
                   year: int | None = None, threshold_min: float = 15.0,
                   scenario: str = "") -> HTMLResponse:
    """Show streaming after grade 9 per ward: map, table and the city's totals.

    With ``scenario`` (a stored transport scenario) the figures are on its network, the
    change of public places against the network in use next to them.
    """
    lang = lang_of(request)
    years = admission_years(engine)
    if year is None and years:
        last_enrolment = years[-1] - 10  # admission_years goes 10 years past it
        year = min(last_enrolment + DEFAULT_AHEAD_YEARS, years[-1])
    context: dict[str, Any] = {"years": years, "year": year, "threshold_min": threshold_min,
                               "threshold_range": THRESHOLD_RANGE_MIN, "bounds": city_bounds(engine),
                               "error": None, "result": None, "wards": [], "totals": None,
                               "scenarios": scenario_names(engine), "scenario": scenario,
                               "change": None}
    status = 200
    low, high = THRESHOLD_RANGE_MIN
    if not low <= threshold_min <= high:
        context["error"] = (f"Thời gian đi phải từ {low:g} đến {high:g} phút" if lang == "vi"
                            else f"The travel time must be between {low:g} and {high:g} minutes")
        status = 400
    elif scenario and scenario not in context["scenarios"]:
        context["error"] = (f"Không có kịch bản giao thông {scenario!r}" if lang == "vi"
                            else f"No transport scenario {scenario!r}")
        status = 404
    elif year is not None:
        try:
            result = streaming_forecast(engine, year, threshold_min)
            table = result.wards
            if scenario:
                base = result
                result = streaming_forecast(engine, year, threshold_min,
                                            travel_times=scenario_times(engine, scenario))
                table = compare_streaming(base.wards, result.wards)
                context["change"] = float(table["public_seats_change"].sum())
        except EdugisError as error:
            context["error"] = _message(error, lang)
            status = 404 if isinstance(error, LookupError) else 409
        else:
            shapes = ward_shapes(engine)
            names = dict(zip(shapes["ward_code"], shapes["name"], strict=True))
            wards = [{k: (finite(v) if k != "ward_code" else v) for k, v in row.items()}
                     for row in table.to_dict("records")]
            for ward in wards:
                ward["name"] = names.get(ward["ward_code"], "")
            context.update(result=result, wards=wards, totals=result.totals(),
                           features=json.dumps(_features(shapes, wards), ensure_ascii=False))
    return render(request, engine, "streaming.html", context, status_code=status)
