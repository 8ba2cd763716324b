"""What the parents' finder asks besides the ranking.

That is the route to a school, the catchment the home falls in, and the grade-10 cut-off
outlook with a chance band. All public: schools, wards and forecasts only; the home point a
parent sends is used for the answer and not stored.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import orjson
import pandas as pd
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

import routing
from admissions.catchments import GRADE_OF_LEVEL, catchments_at
from forecasting.cutoffs import chance_band
from forecasting.service import cutoff_outlook
from gis_service.directory import cutoffs_version, nv1_cutoff_history, school_detail
from gis_service.errors import InputError
from gis_service.levels import SCHOOL_LEVELS
from gis_service.models import OWNERSHIPS
from web.api_docs import NO_ROAD_NETWORK, NOT_FOUND, TEXT, GeoJSONResponse, Lat, Lon, one_of
from web.deps import EngineDep, app_engine
from web.errors import ApiError, BadRequestError
from web.finder import FINDER_MODES, MAX_K, OffNetworkError, check_point, nearest, road_answer
from web.public_api import finder_state

router = APIRouter(tags=["public"])
MAX_OUTLOOK_SCHOOLS = 20
#: The highest grade-10 total: three exam subjects of 10 points each (bonus points included
#: in the cut-offs never lift it above this).
MAX_SCORE = 30
#: ``schools`` of the cut-off outlook: 1 to 20 comma-separated codes (empty ones are skipped).
OUTLOOK_SCHOOLS = f"^[^,\\x00]*(?:,[^,\\x00]*){{0,{MAX_OUTLOOK_SCHOOLS - 1}}}$"


@router.get("/api/nearest/{ownership}", responses=NO_ROAD_NETWORK)
async def nearest_owned_api(request: Request, ownership: Annotated[str, Path(pattern=one_of(OWNERSHIPS))],
                            lon: Lon, lat: Lat,
                            level: Annotated[str | None, Query(pattern=one_of(SCHOOL_LEVELS, empty=True))]
                            = None,
                            mode: Annotated[str, Query(pattern=one_of(FINDER_MODES))] = "motorbike",
                            k: Annotated[int, Query(ge=1, le=MAX_K)] = 5) -> Response:
    """Find the ``k`` nearest public (or private) schools by road time from a point.

    The finder's public/private filter: the same answer as ``/api/nearest`` over the schools
    of that ownership only, so that it names the ``k`` nearest private schools, not the
    private ones among the ``k`` nearest of all. Crow-flies when no roads are loaded.
    """
    state = finder_state(request)
    warm = state.warm(mode, level or None, ownership)
    if warm is not None:
        check_point(lon, lat)
        network, search = warm
        body = road_answer(network.basemap, search, network.by_code, lon, lat, mode, k)
    else:
        engine = await run_in_threadpool(app_engine, request)
        body = await run_in_threadpool(nearest, state, engine, lon, lat, level or None, mode, k,
                                       ownership)
    body["ownership"] = ownership
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/api/catchment", response_class=GeoJSONResponse)
def catchment_api(engine: EngineDep, lon: Lon, lat: Lat,
                  level: Annotated[str, Query(pattern=one_of(GRADE_OF_LEVEL))] = "primary",
                  ) -> GeoJSONResponse:
    """Find the ward at a home and the schools of ``level`` whose catchment holds it.

    ``level`` is primary or lower_secondary; each school comes with its catchment outline,
    as GeoJSON.
    """
    check_point(lon, lat)
    if level not in GRADE_OF_LEVEL:
        raise BadRequestError(f"level must be one of {', '.join(GRADE_OF_LEVEL)}: only they have "
                              "catchments")
    found = catchments_at(engine, lon, lat, level)
    features = [{"type": "Feature", "id": s["code"], "geometry": s["geometry"],
                 "properties": {"school_code": s["code"], "school_name": s["name"],
                                "ward_codes": s["wards"], "school_lon": s["lon"],
                                "school_lat": s["lat"]}}
                for s in found["schools"]]
    return GeoJSONResponse({"type": "FeatureCollection", "ward": found["ward"], "level": level,
                            "features": features})


@router.get("/api/route", response_class=GeoJSONResponse,
            responses={**NOT_FOUND, **NO_ROAD_NETWORK})
def route_api(request: Request, engine: EngineDep, lon: Lon, lat: Lat,
              school: Annotated[str, Query(min_length=1, max_length=32, pattern=TEXT)],
              mode: Annotated[str, Query(pattern=one_of(FINDER_MODES))] = "motorbike",
              ) -> GeoJSONResponse:
    """Find the fastest road route from a home to a school, as a GeoJSON Feature.

    Answers as ``/api/nearest`` and ``/api/isochrone`` do: 409 when no road network is
    loaded, or when it does not reach the home (or the school from it).
    """
    check_point(lon, lat)
    if mode not in FINDER_MODES:
        raise BadRequestError(f"mode must be one of {', '.join(FINDER_MODES)}")
    target = school_detail(engine, school)
    found = finder_state(request).graph(engine, mode)
    if found is None:
        raise ApiError(409, "NoRoadNetwork", "no road network is loaded; routes need one")
    _, graph = found
    try:
        found_route = routing.route(graph, (lon, lat), (float(target["lon"]), float(target["lat"])),
                                    "time")
    except InputError as exc:
        raise OffNetworkError(str(exc)) from exc
    feature = found_route.to_geojson()
    feature["properties"].update({"school_code": school, "school_name": target["name"]})
    return GeoJSONResponse(feature)


class _Outlook:
    """Cut-off forecasts per database, recomputed when the stored history changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, Any], pd.DataFrame] = {}

    def get(self, engine: Engine) -> pd.DataFrame:
        key = (engine.url.render_as_string(hide_password=True), cutoffs_version(engine))
        with self._lock:
            if key not in self._cache:
                self._cache.clear()
                self._cache[key] = cutoff_outlook(engine).set_index("school_code")
            return self._cache[key]


_OUTLOOK = _Outlook()


def school_outlooks(engine: Engine, codes: list[str], score: float | None) -> list[dict[str, Any]]:
    """Return the cut-off outlook per school code.

    That is its NV1 regular-programme cut-off ``history``, next year's ``forecast`` interval
    and, given a total ``score``, the ``chance`` band (``None`` where there is no history).
    """
    forecast = _OUTLOOK.get(engine)
    history = nv1_cutoff_history(engine, codes)
    answer = []
    for code in codes:
        entry: dict[str, Any] = {"code": code, "history": history.get(code, []), "forecast": None,
                                 "chance": None}
        if code in forecast.index:
            f = forecast.loc[code]
            entry["forecast"] = {"year": int(f["year"]), "predicted": float(f["predicted_cutoff"]),
                                 "lower": float(f["lower"]), "upper": float(f["upper"]),
                                 # the band's nominal coverage and the share it covered in
                                 # the rolling backtest (None: too short a history to measure)
                                 "coverage": float(f["nominal_coverage"]),
                                 "backtest_coverage": None if pd.isna(f["backtest_coverage"])
                                 else float(f["backtest_coverage"]),
                                 "backtest_n": int(f["backtest_n"])}
            if score is not None:
                band = chance_band(score, float(f["lower"]), float(f["upper"]))
                entry["chance"] = {"code": band.code, "label_vi": band.label_vi,
                                   "label_en": band.label_en}
        answer.append(entry)
    return answer


@router.get("/api/cutoff-outlook")
def outlook_api(engine: EngineDep,
                schools: Annotated[str, Query(min_length=1, max_length=700, pattern=OUTLOOK_SCHOOLS)],
                score: Annotated[float | None, Query(
                    ge=0, le=MAX_SCORE, description=f"grade-10 total, 0 to {MAX_SCORE}")] = None,
                ) -> dict[str, Any]:
    """Give grade-10 schools' NV1 cut-off history, forecast interval and chance band.

    For comma-separated school codes: the NV1 cut-off history, next year's forecast interval
    and, given a total ``score`` (0 to :data:`MAX_SCORE`; above is refused with 400), the
    chance band (a range, never a promise).
    """
    codes = [c.strip() for c in schools.split(",") if c.strip()]
    if len(codes) > MAX_OUTLOOK_SCHOOLS:
        raise BadRequestError(f"give at most {MAX_OUTLOOK_SCHOOLS} school codes")
    answer = school_outlooks(engine, codes, score)
    return {"score": score, "max_score": MAX_SCORE, "schools": answer,
            "note_vi": "Dự báo là một khoảng, không phải cam kết trúng tuyển.",
            "note_en": "The forecast is a range, never a promise of admission."}
