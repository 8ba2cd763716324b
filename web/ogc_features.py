"""OGC API - Features Part 1 (core, GeoJSON, OAS 3.0) and Part 2 (CRS by reference) at ``/ogc``."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import orjson
from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pyproj import CRS, Transformer
from sqlalchemy.engine import Engine
from starlette.datastructures import State

from gis_service.feature_schema import feature_schema, geojson_feature_schema
from gis_service.features import FeatureFilter, extent, feature, feature_page, temporal_extent
from web.collections import (
    COLLECTIONS,
    CRS84,
    LICENCE_TITLE,
    LICENCE_URL,
    SUPPORTED_CRS,
    Collection,
    OutputCrs,
    output_crs,
)
from web.deps import EngineDep
from web.errors import BadRequestError, NotFoundHTTPError
from web.large_pages import LargePageGate
from web.ogc_openapi import (
    DATETIME_PATTERN,
    DEFAULT_LIMIT,
    MAX_OFFSET,
    OPENAPI_MEDIA_TYPE,
    openapi_document,
)
from web.rate_limit import client_key
from web.templating import render

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: Degrees added around a projected CRS's area of use before a ``bbox`` is clamped to it.
AREA_MARGIN_DEG = 1.0
#: A page asking for more features than this is a large one: a worker process writes one
#: large page at a time (:func:`items`), however many clients ask for them.
LARGE_PAGE = 100
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
]
DATETIME_RE = re.compile(DATETIME_PATTERN.removeprefix("^").removesuffix("$"), re.ASCII)
ITEMS_PARAMS = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f"}
ITEM_PARAMS = {"crs", "f"}

router = APIRouter(prefix="/ogc", tags=["OGC API"])


def base_url(request: Request) -> str:
    """Return the absolute URL of ``/ogc`` for this request (no trailing slash)."""
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, media_type=media_type, headers=headers)


def get_collection(collection_id: str) -> Collection:
    """Return the collection called ``collection_id``; 404 when unknown."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFoundHTTPError(f"no collection {collection_id!r}; see /ogc/collections") from None


def check_params(request: Request, allowed: set[str]) -> None:
    """Refuse with 400 any query parameter the endpoint does not know (/req/core/query-param-unknown)."""
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        raise BadRequestError(f"unknown query parameter(s): {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(allowed))}", code="UnknownParameter")
    for key in request.query_params:
        values = request.query_params.getlist(key)
        if len(values) > 1:
            raise BadRequestError(f"query parameter {key!r} given more than once")
        if "\x00" in values[0]:
            raise BadRequestError(f"query parameter {key!r} contains a NUL character")
    fmt = request.query_params.get("f")
    if fmt is not None and fmt not in ("json", "geojson", "html"):
        raise BadRequestError(f"f={fmt!r} is not offered; use f=json or f=html")


def wants_html(request: Request) -> bool:
    """Whether the answer should be the HTML page: ``f=html``, or a browser's ``Accept``.

    Without ``f``, a client whose ``Accept`` puts ``text/html`` before any JSON type (as
    browsers do) gets HTML; GIS clients, scripts (``*/*``) and everything else get JSON.
    """
    fmt = request.query_params.get("f")
    if fmt is not None:
        return fmt == "html"
    accept = request.headers.get("accept", "").lower()
    html_at = accept.find("text/html")
    json_at = min((i for i in (accept.find("json"),) if i >= 0), default=len(accept) + 1)
    return html_at >= 0 and html_at < json_at


def html_page(request: Request, engine: Engine, kind: str, body: dict[str, Any]) -> Response:
    """Render the HTML representation of an OGC API answer (``ogc.html``).

    ``body`` is the JSON document the page shows (its links, collections, features ...);
    the page links back to the JSON (``f=json``).
    """
    json_url = str(request.url.include_query_params(f="json"))
    return render(request, engine, "ogc.html", {"kind": kind, "doc": body, "json_url": json_url})


def parse_limit(raw: str | None, maximum: int) -> int:
    """Return ``limit`` as an int in 1..``maximum``.

    Larger values are served as ``maximum``, as /req/core/fc-limit-response-1 asks: never an
    error.
    """
    if raw is None:
        return min(DEFAULT_LIMIT, maximum)
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"limit must be an integer, got {raw!r}") from None
    if value < 1:
        raise BadRequestError(f"limit must be at least 1, got {value}")
    return min(value, maximum)


def parse_offset(raw: str | None) -> int:
    """Parse ``offset`` (paging by the ``next`` link) as a non-negative int."""
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"offset must be an integer, got {raw!r}") from None
    if value < 0:
        raise BadRequestError(f"offset must not be negative, got {value}")
    if value > MAX_OFFSET:
        raise BadRequestError(f"offset must be at most {MAX_OFFSET}, got {value}")
    return value


def parse_crs(raw: str | None, name: str) -> OutputCrs:
    """Return a supported CRS URI (``crs`` / ``bbox-crs``), CRS84 when absent.

    400 for any other value, the empty one included (the document lists the URIs as an
    ``enum``).
    """
    try:
        return output_crs(CRS84 if raw is None else raw)
    except KeyError:
        raise BadRequestError(f"{name}={raw!r} is not supported; use one of {', '.join(SUPPORTED_CRS)}") \
            from None


Box = tuple[float, float, float, float]


@lru_cache(maxsize=8)
def projected_bounds(uri: str) -> Box:
    """Return the bounds where a projected CRS's coordinates still mean something.

    That is (minx, miny, maxx, maxy) of its area of use widened by :data:`AREA_MARGIN_DEG`,
    in that CRS.
    """
    crs = CRS.from_user_input(f"EPSG:{uri.rsplit('/', 1)[1]}")
    area = crs.area_of_use
    assert area is not None, uri  # every supported projected CRS has one
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return to_crs.transform_bounds(area.west - AREA_MARGIN_DEG, area.south - AREA_MARGIN_DEG,
                                   area.east + AREA_MARGIN_DEG, area.north + AREA_MARGIN_DEG)


def parse_bbox(raw: str | None, crs: OutputCrs) -> list[Box] | None:
    """Parse ``bbox`` into the boxes (minx, miny, maxx, maxy) it covers; ``None`` when absent.

    x is lon/easting. Every 4 or 6 finite numbers are a box, as the document says (a third
    and sixth number, heights, are ignored). In CRS84/EPSG:4326 a west edge east of the east
    edge crosses the antimeridian (two boxes, as the standard allows) and coordinates beyond
    the poles or ±180° are taken at them; in a projected CRS they are taken at the edge of
    its area of use (:func:`projected_bounds`). A box whose south edge lies north of its north
    edge (or, projected, whose lower corner exceeds the upper one) holds nothing: no boxes.
    """
    if raw is None:
        return None
    try:
        numbers = [float(v) for v in raw.split(",")]
    except ValueError:
        raise BadRequestError(f"bbox must be 4 or 6 comma-separated numbers, got {raw!r}") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(v) for v in numbers):
        raise BadRequestError(f"bbox must be 4 or 6 finite numbers, got {raw!r}")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    a, b, c, d = numbers
    if crs.lat_first:
        a, b, c, d = b, a, d, c
    if crs.srid == 4326:
        a, c = (min(max(v, -180.0), 180.0) for v in (a, c))
        b, d = (min(max(v, -90.0), 90.0) for v in (b, d))
        if b > d:
            return []
        return [(a, b, 180.0, d), (-180.0, b, c, d)] if a > c else [(a, b, c, d)]
    if a > c or b > d:
        return []
    west, south, east, north = projected_bounds(crs.uri)
    return [(min(max(a, west), east), min(max(b, south), north),
             min(max(c, west), east), min(max(d, south), north))]


def _parse_instant(text: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        if "T" not in text:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"datetime {text!r} is not RFC 3339") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_datetime(raw: str | None) -> tuple[datetime | None, datetime | None] | None:
    """Parse ``datetime`` into an instant or an interval (open ends as ``None``).

    The grammar is RFC 3339's, as in :data:`web.ogc_openapi.DATETIME_PATTERN`. An interval
    that ends before it starts is kept as it is: it holds no instant, so nothing valid in
    time matches it.
    """
    if raw is None:
        return None
    if not DATETIME_RE.fullmatch(raw):
        raise BadRequestError(f"datetime must be an RFC 3339 date, date-time (with Z or an offset) or "
                              f"an interval of them with '..' for an open end, got {raw!r}")
    if "/" in raw:
        start_text, _, end_text = raw.partition("/")
        return _parse_instant(start_text), _parse_instant(end_text)
    instant = _parse_instant(raw)
    if instant is None:
        raise BadRequestError("datetime needs an instant or an interval")
    return instant, instant


def _links_of_features(base: str, collection: Collection) -> tuple[str, str]:
    """Return the URL of a feature without its id and the JSON of its link to the collection."""
    link = {"href": f"{base}/collections/{collection.id}", "rel": "collection", "type": JSON,
            "title": "the collection"}
    return f"{base}/collections/{collection.id}/items/", orjson.dumps(link).decode()


def feature_filter(collection: Collection, request: Request, bbox_crs: OutputCrs) -> FeatureFilter:
    """Return the filter of an ``/items`` request: bbox, datetime and the property filters."""
    qp = request.query_params
    boxes = parse_bbox(qp.get("bbox"), bbox_crs)
    return FeatureFilter(
        boxes=tuple(boxes) if boxes is not None else None, bbox_srid=bbox_crs.srid,
        when=parse_datetime(qp.get("datetime")),
        equals=tuple((name, qp[name]) for name in collection.filters if name in qp))


def query_features(engine: Engine, collection: Collection, request: Request) -> bytes:
    """Answer ``/items``: a GeoJSON FeatureCollection with paging links and counts, as bytes.

    The features are written by PostGIS (:func:`gis_service.features.feature_page`) and
    spliced in as they are. A ``limit`` above the collection's ``max_limit`` is served as
    ``max_limit`` (the links say the limit served); ``bbox-crs`` without ``bbox`` has
    nothing to apply to.
    """
    check_params(request, ITEMS_PARAMS | set(collection.filters))
    qp = request.query_params
    limit = parse_limit(qp.get("limit"), collection.max_limit)
    offset = parse_offset(qp.get("offset"))
    crs = parse_crs(qp.get("crs"), "crs")
    found = feature_filter(collection, request, parse_crs(qp.get("bbox-crs"), "bbox-crs"))
    base = base_url(request)
    page = feature_page(engine, collection, found, crs, limit, offset,
                        *_links_of_features(base, collection))
    items_url = f"{base}/collections/{collection.id}/items"
    query = {k: v for k, v in qp.items() if k != "offset"}
    if "limit" in query:
        query["limit"] = str(limit)
    links = [
        {"href": f"{items_url}?{urlencode({**query, 'offset': offset})}", "rel": "self",
         "type": GEOJSON, "title": "this page"},
        {"href": f"{base}/collections/{collection.id}", "rel": "collection", "type": JSON,
         "title": "the collection"},
    ]
    if offset + page.returned < page.matched:
        links.append({"href": f"{items_url}?{urlencode({**query, 'offset': offset + page.returned})}",
                      "rel": "next", "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": f"{items_url}?{urlencode({**query, 'offset': max(0, offset - limit)})}",
                      "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return orjson.dumps({
        "type": "FeatureCollection",
        "features": orjson.Fragment(f"[{page.features}]"),
        "numberMatched": page.matched, "numberReturned": page.returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    })


def get_feature(engine: Engine, collection: Collection, feature_id: str,
                request: Request) -> bytes:
    """Answer ``/items/{featureId}`` as GeoJSON bytes; 404 when no such feature."""
    check_params(request, ITEM_PARAMS)
    crs = parse_crs(request.query_params.get("crs"), "crs")
    written = feature(engine, collection, feature_id, crs,
                      *_links_of_features(base_url(request), collection))
    if written is None:
        raise NotFoundHTTPError(f"no feature {feature_id!r} in collection {collection.id!r}")
    return written.encode()


def _temporal(engine: Engine, collection: Collection) -> dict[str, Any]:
    """Return the temporal extent of a collection with validity dates (``datetime`` filters it)."""
    interval = temporal_extent(engine, collection)
    if interval is None:
        return {}
    return {"temporal": {"interval": [interval], "trs": GREGORIAN}}


def collection_metadata(engine: Engine, collection: Collection, base: str) -> dict[str, Any]:
    """Describe a collection with its CRS84 extent, CRS list and links."""
    bounds = extent(engine, collection)
    bbox = [list(bounds)] if bounds is not None else [[-180.0, -90.0, 180.0, 90.0]]
    url = f"{base}/collections/{collection.id}"
    return {
        "id": collection.id, "title": collection.title, "description": collection.description,
        "keywords": list(collection.keywords), "itemType": "feature",
        "attribution": collection.attribution,
        "extent": {"spatial": {"bbox": bbox, "crs": CRS84}, **_temporal(engine, collection)},
        "crs": list(SUPPORTED_CRS), "storageCrs": CRS84,
        "links": [
            {"href": url, "rel": "self", "type": JSON, "title": "this collection"},
            {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html",
             "title": "this collection as HTML"},
            {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": "the features"},
            {"href": f"{url}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": JSON, "title": "vector tilesets"},
            {"href": f"{url}/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": SCHEMA_JSON, "title": "the properties features can be filtered by"},
            {"href": f"{url}/feature-schema", "rel": "describedby", "type": SCHEMA_JSON,
             "title": "the schema of a feature as GeoJSON"},
            {"href": f"{url}/schema", "rel": "http://www.opengis.net/def/rel/ogc/1.0/schema",
             "type": SCHEMA_JSON, "title": "the schema of the features"},
            {"href": LICENCE_URL, "rel": "license", "type": "text/html", "title": LICENCE_TITLE},
        ],
    }


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def landing_page(request: Request, engine: EngineDep) -> Response:
    """Landing page: links to the API definition, conformance and the collections."""
    check_params(request, {"f"})
    base = base_url(request)
    body = {
        "title": "edugis — OGC API of the education GIS of Ho Chi Minh City",
        "description": "Schools, administrative units and roads as OGC API - Features and Tiles.",
        "links": [
            {"href": base, "rel": "self", "type": JSON, "title": "this document"},
            {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI_MEDIA_TYPE,
             "title": "the API definition (OpenAPI 3.0)"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": JSON,
             "title": "conformance classes"},
            {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "collections"},
            {"href": f"{base}/tileMatrixSets", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "type": JSON, "title": "tile matrix sets"},
            {"href": f"{base}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": JSON, "title": "vector tilesets of the base map"},
            {"href": f"{base}?f=html", "rel": "alternate", "type": "text/html",
             "title": "this document as HTML"},
            {"href": f"{base.removesuffix('/ogc')}/data", "rel": "service-doc",
             "type": "text/html", "title": "how to use the open data (Dữ liệu mở)"},
        ],
    }
    return html_page(request, engine, "landing", body) if wants_html(request) else _json(body)


@router.get("/api", include_in_schema=False)
def api_definition(request: Request) -> JSONResponse:
    """Return the hand-built OpenAPI 3.0 document of the OGC API."""
    check_params(request, {"f"})
    return _json(openapi_document(base_url(request)), media_type=OPENAPI_MEDIA_TYPE)


@router.get("/conformance", include_in_schema=False)
def conformance(request: Request) -> JSONResponse:
    """List the conformance classes implemented."""
    check_params(request, {"f"})
    return _json({"conformsTo": CONFORMANCE})


@router.get("/collections", include_in_schema=False)
def collections(request: Request, engine: EngineDep) -> Response:
    """List every collection with its metadata."""
    check_params(request, {"f"})
    base = base_url(request)
    body = {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON,
                   "title": "this document"},
                  {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html",
                   "title": "this document as HTML"}],
        "collections": [collection_metadata(engine, c, base) for c in COLLECTIONS.values()],
        "crs": list(SUPPORTED_CRS),
    }
    return html_page(request, engine, "collections", body) if wants_html(request) else _json(body)


@router.get("/collections/{collection_id}", include_in_schema=False)
def collection(collection_id: str, request: Request, engine: EngineDep) -> Response:
    """Describe one collection (its metadata)."""
    found = get_collection(collection_id)
    check_params(request, {"f"})
    body = collection_metadata(engine, found, base_url(request))
    return html_page(request, engine, "collection", body) if wants_html(request) else _json(body)


@router.get("/collections/{collection_id}/schema", include_in_schema=False)
def schema(collection_id: str, request: Request, engine: EngineDep) -> JSONResponse:
    """Answer the JSON Schema of a collection's features (types read from the database)."""
    found = get_collection(collection_id)
    check_params(request, {"f"})
    url = f"{base_url(request)}/collections/{found.id}/schema"
    return _json(feature_schema(engine, found, url), SCHEMA_JSON)


@router.get("/collections/{collection_id}/feature-schema", include_in_schema=False)
def geojson_schema(collection_id: str, request: Request, engine: EngineDep) -> JSONResponse:
    """Answer the JSON Schema of one GeoJSON feature of a collection (``describedby``)."""
    found = get_collection(collection_id)
    check_params(request, {"f"})
    url = f"{base_url(request)}/collections/{found.id}/feature-schema"
    return _json(geojson_feature_schema(engine, found, url), SCHEMA_JSON)


@router.get("/collections/{collection_id}/queryables", include_in_schema=False)
def queryables(collection_id: str, request: Request, engine: EngineDep) -> JSONResponse:
    """Answer the properties a collection's features can be filtered by, with their types."""
    found = get_collection(collection_id)
    check_params(request, {"f"})
    url = f"{base_url(request)}/collections/{found.id}/queryables"
    return _json(feature_schema(engine, found, url, only=found.filters), SCHEMA_JSON)


def _crs_header(request: Request) -> dict[str, str]:
    return {"Content-Crs": f"<{parse_crs(request.query_params.get('crs'), 'crs').uri}>"}


def _geojson(body: bytes, request: Request) -> Response:
    """Answer GeoJSON ``body`` with its ``Content-Crs``."""
    return Response(body, media_type=GEOJSON, headers=_crs_header(request))


def _large_pages(state: State) -> LargePageGate:
    """Return the app's gate of large pages: one at a time, one queued per client.

    It is made by the app's lifespan (web.app).
    """
    gate: LargePageGate = state.large_pages
    return gate


def _requested(raw: str | None) -> int:
    # at most 9 digits: int() refuses strings of over 4,300 digits with a ValueError (a 500)
    usable = raw is not None and len(raw) <= 9 and raw.isascii() and raw.isdigit()
    return int(raw) if usable and raw is not None else DEFAULT_LIMIT


@router.get("/collections/{collection_id}/items", include_in_schema=False)
async def items(collection_id: str, request: Request, engine: EngineDep) -> Response:
    """Return features of a collection (limit, offset, bbox, bbox-crs, crs, datetime, filters).

    Read and written in a worker thread. A large page (more than :data:`LARGE_PAGE`
    features asked for) waits for the one before it: ten scripts paging through the roads
    share one thread of the worker, and the event loop and the other requests keep the rest
    of the CPU (and of the GIL). A client's large page first waits for that client's
    previous one (``web.large_pages``): one client cannot queue hundreds ahead of others.
    """
    found = get_collection(collection_id)
    large = min(_requested(request.query_params.get("limit")), found.max_limit) > LARGE_PAGE

    def page() -> Response:
        written = query_features(engine, found, request)
        if wants_html(request):
            return html_page(request, engine, "items", {**orjson.loads(written), "id": found.id,
                                                        "title": found.title})
        return _geojson(written, request)

    if not large:
        return await to_thread.run_sync(page)
    gate = _large_pages(request.app.state)
    async with gate.client_turn(client_key(request.scope)):
        return await to_thread.run_sync(page, limiter=gate.limiter)


@router.get("/collections/{collection_id}/items/{feature_id}", include_in_schema=False)
def item(collection_id: str, feature_id: str, request: Request, engine: EngineDep) -> Response:
    """Return one feature; 404 when unknown."""
    found = get_collection(collection_id)
    written = get_feature(engine, found, feature_id, request)
    if wants_html(request):
        return html_page(request, engine, "item", {**orjson.loads(written), "title": found.title})
    return _geojson(written, request)
