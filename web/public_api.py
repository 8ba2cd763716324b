"""Public JSON API and downloads: school search, address search, nearest schools.

Everything here is public: no personal data, only schools, places and aggregates.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import Scope, Send

from gis_service.csv_cells import csv_text
from gis_service.directory import (
    SchoolFilters,
    cutoff_history,
    data_date,
    list_schools,
    school_detail,
)
from gis_service.levels import SCHOOL_LEVELS
from gis_service.models import OWNERSHIPS
from gis_service.spatial import school_counts
from web.api_docs import (
    NO_ROAD_NETWORK,
    NOT_FOUND,
    TEXT,
    CSVResponse,
    GeoJSONResponse,
    Lat,
    Lon,
    one_of,
)
from web.deps import EngineDep, app_engine, database
from web.directory import school_filters
from web.errors import ApiError, BadRequestError
from web.finder import (
    FINDER_MODES,
    MAX_K,
    FinderState,
    OffNetworkError,
    check_point,
    geocode,
    isochrone,
    nearest,
    road_answer,
    road_body,
)
from web.i18n import translate

router = APIRouter(tags=["public"])
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
LICENCE = f"ODbL 1.0 ({LICENCE_URL})"
ATTRIBUTION = "edugis, Sở GD-ĐT TP.HCM; road data © OpenStreetMap contributors where imported from OSM"
#: ``q`` of the address search: 2 to 100 characters once the spaces around are cut. Its first
#: and last characters are no control characters: Python's ``str.strip`` cuts some (U+001C..1F,
#: U+0085) that a JSON Schema ``\s`` keeps, and the two must agree on what is left.
PLACE_QUERY = "^\\s*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00]*[^\\s\\x00-\\x1f\\x7f-\\x9f]\\s*$"
#: One minute limit of an isochrone, in (0, 60], as a plain decimal.
_MINUTE = "(?:60(?:[.]0+)?|[1-5][0-9](?:[.][0-9]+)?|[1-9](?:[.][0-9]+)?|0[.][0-9]*[1-9][0-9]*)"
#: ``minutes`` of an isochrone: 1 to 4 limits, comma-separated.
MINUTES = f"^{_MINUTE}(?:,{_MINUTE}){{0,3}}$"
CSV_COLUMNS = ("code", "name", "level", "ownership", "address", "ward_code", "ward_name",
               "district_code", "district_name", "capacity_grade1", "capacity_grade6",
               "capacity_grade10", "lon", "lat")
#: The text key (:mod:`web.i18n`) describing each column of the CSV download.
CSV_COLUMN_TEXT = {"code": "col_code", "name": "col_name", "level": "level",
                   "ownership": "ownership", "address": "address", "ward_code": "col_ward_code",
                   "ward_name": "col_ward_name", "district_code": "col_district_code",
                   "district_name": "col_district_name", "capacity_grade1": "capacity_grade1",
                   "capacity_grade6": "capacity_grade6", "capacity_grade10": "capacity_grade10",
                   "lon": "col_lon", "lat": "col_lat"}
#: CSVW datatype of the columns that are not text.
_CSV_DATATYPES = {"capacity_grade1": "integer", "capacity_grade6": "integer",
                  "capacity_grade10": "integer", "lon": "number", "lat": "number"}
CSV_METADATA_PATH = "/download/schools.csv-metadata.json"
#: Byte order mark: Excel reads a CSV as UTF-8 only when it starts with one.
BOM = "\ufeff"


class CSVMetadataResponse(JSONResponse):
    """A JSON answer served (and documented) as CSV on the Web metadata (``application/csvm+json``)."""

    media_type = "application/csvm+json"

    def render(self, content: Any) -> bytes:
        """Write the metadata as UTF-8 JSON, Vietnamese unescaped."""
        return json.dumps(content, ensure_ascii=False, indent=1).encode("utf-8")


def finder_state(request: Request) -> FinderState:
    """Return the app's finder cache (road graphs and place names).

    It reloads in the background when the data it was loaded from changed.
    """
    return _followed_state(request.app.state)


def _followed_state(app_state: State) -> FinderState:
    state: FinderState = app_state.finder  # made by the app's lifespan (web.app)
    engine = database(app_state).current
    if engine is not None:  # never the first connection here (maybe on the event loop)
        state.follow(engine)
    return state


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: row[k] for k in CSV_COLUMNS if k not in ("lon", "lat")}
    return {"type": "Feature", "id": row["code"], "properties": props,
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}}


@router.get("/api/schools", response_class=GeoJSONResponse)
def schools_geojson(engine: EngineDep,
                    q: Annotated[str, Query(max_length=100, pattern=TEXT)] = "",
                    level: Annotated[str, Query(pattern=one_of(SCHOOL_LEVELS, empty=True))] = "",
                    ownership: Annotated[str, Query(pattern=one_of(OWNERSHIPS, empty=True))] = "",
                    district: Annotated[str, Query(max_length=16, pattern=TEXT)] = "",
                    ward: Annotated[str, Query(max_length=16, pattern=TEXT)] = "") -> GeoJSONResponse:
    """Return schools matching the filters as GeoJSON (the map's data, the same as the list view).

    ``ward`` is a ward or commune of today; ``district`` a former district (before 1 July 2025).
    """
    rows = list_schools(engine, school_filters(q, level, ownership, district, ward))
    return GeoJSONResponse({"type": "FeatureCollection", "features": [_feature(r) for r in rows],
                            "licence": LICENCE, "attribution": ATTRIBUTION,
                            "dataDate": data_date(engine)})


@router.get("/api/schools/summary")
def summary(engine: EngineDep) -> list[dict[str, Any]]:
    """Count schools and entry-grade capacity per district, level and ownership (aggregates)."""
    return school_counts(engine)


@router.get("/api/schools/{code}", responses=NOT_FOUND)
def school_json(code: Annotated[str, Path(pattern=TEXT)], engine: EngineDep) -> dict[str, Any]:
    """Return one school with its grade-10 cut-off history."""
    return {**school_detail(engine, code), "cutoffs": cutoff_history(engine, code)}


@router.get("/api/geocode")
def geocode_api(request: Request, engine: EngineDep,
                q: Annotated[str, Query(min_length=2, max_length=100, pattern=PLACE_QUERY)]
                ) -> dict[str, Any]:
    """Find streets and wards whose name matches ``q`` (with or without diacritics)."""
    return {"query": q, "places": geocode(finder_state(request), engine, q)}


@router.get("/api/nearest", responses=NO_ROAD_NETWORK)
async def nearest_api(request: Request, lon: Lon, lat: Lat,
                      level: Annotated[str | None, Query(pattern=one_of(SCHOOL_LEVELS, empty=True))]
                      = None,
                      mode: Annotated[str, Query(pattern=one_of(FINDER_MODES))] = "motorbike",
                      k: Annotated[int, Query(ge=1, le=MAX_K)] = 5) -> Response:
    """Find the ``k`` nearest schools by road time from a point (crow-flies when no roads).

    Once the search for (mode, level) is prepared an answer is well under a millisecond of
    array work, done on the event loop (and a plain query is answered by
    :func:`nearest_fast` before it reaches this route); the first request (graph load,
    label search) and the crow-flies fallback run in a worker thread.
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
    return Response(orjson.dumps(body), media_type="application/json")


#: What :func:`nearest_fast` answers itself: a plain decimal coordinate and a 1-2 digit k;
#: anything else (percent-escapes, exponents, duplicates, other parameters) goes the
#: validated FastAPI way, so both answer the same.
_DECIMAL = re.compile(rb"-?[0-9]{1,3}(?:\.[0-9]{1,17})?")
_COUNT = re.compile(rb"[0-9]{1,2}")
_NAME = re.compile(rb"[a-z_]{0,32}")
_NEAREST_PARAMS = frozenset((b"lon", b"lat", b"level", b"mode", b"k"))


def plain_nearest_query(query: bytes) -> tuple[float, float, str | None, str, int] | None:
    """Return ``(lon, lat, level, mode, k)`` of a plain ``/api/nearest`` query string, else ``None``."""
    params: dict[bytes, bytes] = {}
    for part in query.split(b"&"):
        name, eq, value = part.partition(b"=")
        if not eq or name not in _NEAREST_PARAMS or name in params:
            return None
        params[name] = value
    lon, lat = params.get(b"lon"), params.get(b"lat")
    level, mode, k = params.get(b"level", b""), params.get(b"mode", b"motorbike"), params.get(b"k", b"5")
    if (lon is None or lat is None or not _DECIMAL.fullmatch(lon) or not _DECIMAL.fullmatch(lat)
            or not _COUNT.fullmatch(k) or not _NAME.fullmatch(level) or not _NAME.fullmatch(mode)):
        return None
    return float(lon), float(lat), level.decode() or None, mode.decode(), int(k)


async def nearest_fast(scope: Scope, send: Send) -> bool:
    """Answer a plain ``GET /api/nearest`` whose search is prepared, as pure ASGI.

    The same answer as :func:`nearest_api` without FastAPI's routing, dependency solving
    and validation, which cost about twice the search itself (see bench/web_load.py).
    Returns ``False``, having sent nothing, for anything else: a cold search, an unusual
    query string or an invalid value (the route then answers it, errors included).
    """
    app_state = scope["app"].state
    parsed = plain_nearest_query(scope["query_string"])
    if parsed is None:
        return False
    state = _followed_state(app_state)
    lon, lat, level, mode, k = parsed
    warm = state.warm(mode, level)
    if warm is None or not 1 <= k <= MAX_K:
        return False
    network, search = warm
    try:
        check_point(lon, lat)
        ranked = await search.nearest_soon(lon, lat, k)
    except (ApiError, OffNetworkError):  # the route answers them
        return False
    body = orjson.dumps(road_body(network.basemap, network.by_code, mode, ranked))
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
    return True


@router.get("/api/isochrone", response_class=GeoJSONResponse, responses=NO_ROAD_NETWORK)
def isochrone_api(request: Request, engine: EngineDep, lon: Lon, lat: Lat,
                  mode: Annotated[str, Query(pattern=one_of(FINDER_MODES))] = "motorbike",
                  minutes: Annotated[str, Query(pattern=MINUTES)] = "5,10,15") -> GeoJSONResponse:
    """Return the areas reachable from a point within the given minutes by road (GeoJSON polygons)."""
    try:
        limits = tuple(float(m) for m in minutes.split(","))
    except ValueError:
        raise BadRequestError(f"minutes must be comma-separated numbers, got {minutes!r}") from None
    return GeoJSONResponse(isochrone(finder_state(request), engine, lon, lat, mode, limits))


@router.get("/download/schools.geojson", response_class=GeoJSONResponse)
def download_geojson(engine: EngineDep) -> Response:
    """Download every school as a GeoJSON file with licence and data date."""
    rows = list_schools(engine, SchoolFilters())
    body = {"type": "FeatureCollection", "name": "edugis-schools", "licence": LICENCE,
            "attribution": ATTRIBUTION, "dataDate": data_date(engine),
            "features": [_feature(r) for r in rows]}
    return Response(json.dumps(body, ensure_ascii=False), media_type=GeoJSONResponse.media_type,
                    headers={"Content-Disposition": 'attachment; filename="edugis-schools.geojson"'})


@router.get("/download/schools.csv", response_class=CSVResponse)
def download_csv(engine: EngineDep) -> CSVResponse:
    """Download every school as a CSV file that spreadsheets open cleanly.

    UTF-8 with a byte order mark (Excel), the column names on the first line, one school a
    line, no comment lines. The licence, attribution, data date and the meaning of each
    column are in the CSV on the Web metadata file, :func:`download_csv_metadata`, linked
    from the ``Link`` header (``rel="describedby"``). Text cells a spreadsheet would run as
    formulas are neutralised (:mod:`gis_service.csv_cells`).
    """
    rows = list_schools(engine, SchoolFilters())
    return CSVResponse(csv_text(rows, CSV_COLUMNS, BOM), headers={
        "Content-Disposition": 'attachment; filename="edugis-schools.csv"',
        "Link": f'<{CSV_METADATA_PATH}>; rel="describedby"; type="application/csvm+json"'})


@router.get(CSV_METADATA_PATH, response_class=CSVMetadataResponse)
def download_csv_metadata(engine: EngineDep) -> CSVMetadataResponse:
    """Describe the CSV download (W3C CSV on the Web metadata, ``application/csvm+json``).

    Its licence, attribution, data date, dialect (UTF-8 with a byte order mark, one header
    line) and each column's name, type and meaning in Vietnamese and English.
    """
    columns = [{"name": c, "titles": c, "datatype": _CSV_DATATYPES.get(c, "string"),
                "dc:description": [{"@value": translate(CSV_COLUMN_TEXT[c], lang), "@language": lang}
                                   for lang in ("vi", "en")]} for c in CSV_COLUMNS]
    body = {"@context": "http://www.w3.org/ns/csvw", "url": "schools.csv",
            "dc:title": [{"@value": "Trường học TP.HCM", "@language": "vi"},
                         {"@value": "Schools of Ho Chi Minh City", "@language": "en"}],
            "dc:license": {"@id": LICENCE_URL}, "dc:rights": LICENCE,
            "dc:publisher": ATTRIBUTION, "dc:modified": data_date(engine),
            "dialect": {"encoding": "utf-8", "header": True, "headerRowCount": 1,
                        "delimiter": ",", "doubleQuote": True, "skipRows": 0},
            "tableSchema": {"columns": columns, "primaryKey": "code"}}
    return CSVMetadataResponse(body)
