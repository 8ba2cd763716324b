"""Public JSON API and downloads: school search, address search, nearest schools.

Everything here is public: no personal data, only schools, places and aggregates.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gis_service.spatial import school_counts
from web.deps import BadRequestError, EngineDep, app_engine
from web.directory import SchoolFilters, cutoff_history, data_date, list_schools, school_detail
from web.finder import (
    MAX_K,
    FinderState,
    check_point,
    geocode,
    isochrone,
    nearest,
    road_answer,
)

router = APIRouter(tags=["public"])
LICENCE = "ODbL 1.0 (https://opendatacommons.org/licenses/odbl/1-0/)"
ATTRIBUTION = "edugis, Sở GD-ĐT TP.HCM; road data © OpenStreetMap contributors where imported from OSM"
CSV_COLUMNS = ("code", "name", "level", "ownership", "address", "district_code", "district_name",
               "capacity_grade1", "capacity_grade6", "capacity_grade10", "lon", "lat")


def finder_state(request: Request) -> FinderState:
    """The app's finder cache (road graphs and place names)."""
    state: FinderState | None = getattr(request.app.state, "finder", None)
    if state is None:
        state = FinderState()
        request.app.state.finder = state
    return state


def _filters(q: str, level: str, ownership: str, district: str) -> SchoolFilters:
    return SchoolFilters(q=q.strip(), level=level, ownership=ownership, district=district)


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: row[k] for k in CSV_COLUMNS if k not in ("lon", "lat")}
    return {"type": "Feature", "id": row["code"], "properties": props,
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}}


@router.get("/api/schools")
def schools_geojson(engine: EngineDep, q: str = "", level: str = "", ownership: str = "",
                    district: str = "") -> JSONResponse:
    """Schools matching the filters as GeoJSON (the map's data, the same as the list view)."""
    rows = list_schools(engine, _filters(q, level, ownership, district))
    return JSONResponse({"type": "FeatureCollection", "features": [_feature(r) for r in rows],
                         "licence": LICENCE, "attribution": ATTRIBUTION,
                         "dataDate": data_date(engine)}, media_type="application/geo+json")


@router.get("/api/schools/summary")
def summary(engine: EngineDep) -> list[dict[str, Any]]:
    """Schools and entry-grade capacity per district, level and ownership (aggregates)."""
    return school_counts(engine)


@router.get("/api/schools/{code}")
def school_json(code: str, engine: EngineDep) -> dict[str, Any]:
    """One school with its grade-10 cut-off history."""
    return {**school_detail(engine, code), "cutoffs": cutoff_history(engine, code)}


@router.get("/api/geocode")
def geocode_api(request: Request, engine: EngineDep,
                q: Annotated[str, Query(min_length=2, max_length=100)]) -> dict[str, Any]:
    """Streets and wards whose name matches ``q`` (with or without diacritics)."""
    return {"query": q, "places": geocode(finder_state(request), engine, q)}


@router.get("/api/nearest")
async def nearest_api(request: Request, lon: float, lat: float, level: str | None = None,
                      mode: str = "motorbike",
                      k: Annotated[int, Query(ge=1, le=20)] = 5) -> JSONResponse:
    """The ``k`` nearest schools by road time from a point (crow-flies when no roads).

    Once the search for (mode, level) is prepared an answer is well under a millisecond of
    array work, done on the event loop; the first request (graph load, label search) and the
    crow-flies fallback run in a worker thread.
    """
    state = finder_state(request)
    warm = state.warm(mode, level or None)
    if warm is not None:
        check_point(lon, lat)
        if not 1 <= k <= MAX_K:
            raise BadRequestError(f"k must be within 1..{MAX_K}")
        network, search = warm
        body = road_answer(network.basemap, search, network.by_code, lon, lat, mode, k)
    else:
        engine = await run_in_threadpool(app_engine, request)
        body = await run_in_threadpool(nearest, state, engine, lon, lat, level or None, mode, k)
    return JSONResponse(body)


@router.get("/api/isochrone")
def isochrone_api(request: Request, engine: EngineDep, lon: float, lat: float,
                  mode: str = "motorbike", minutes: str = "5,10,15") -> JSONResponse:
    """Areas reachable from a point within the given minutes by road (GeoJSON polygons)."""
    try:
        limits = tuple(float(m) for m in minutes.split(","))
    except ValueError:
        raise BadRequestError(f"minutes must be comma-separated numbers, got {minutes!r}") from None
    return JSONResponse(isochrone(finder_state(request), engine, lon, lat, mode, limits),
                        media_type="application/geo+json")


@router.get("/download/schools.geojson")
def download_geojson(engine: EngineDep) -> Response:
    """Every school as a GeoJSON file with licence and data date."""
    rows = list_schools(engine, SchoolFilters())
    body = {"type": "FeatureCollection", "name": "edugis-schools", "licence": LICENCE,
            "attribution": ATTRIBUTION, "dataDate": data_date(engine),
            "features": [_feature(r) for r in rows]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json",
                    headers={"Content-Disposition": 'attachment; filename="edugis-schools.geojson"'})


@router.get("/download/schools.csv")
def download_csv(engine: EngineDep) -> Response:
    """Every school as UTF-8 CSV; licence and data date in leading ``#`` comment lines."""
    rows = list_schools(engine, SchoolFilters())
    out = io.StringIO()
    out.write(f"# licence: {LICENCE}\n# attribution: {ATTRIBUTION}\n# data date: {data_date(engine)}\n")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="edugis-schools.csv"'})
