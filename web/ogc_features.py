"""OGC API - Features Part 1 (core, GeoJSON, OAS 3.0) and Part 2 (CRS by reference) at ``/ogc``."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

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
from web.deps import BadRequestError, EngineDep, NotFoundHTTPError
from web.ogc_openapi import DATETIME_PATTERN, MAX_OFFSET, OPENAPI_MEDIA_TYPE, openapi_document

GEOJSON = "application/geo+json"
JSON = "application/json"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
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
    """The absolute URL of ``/ogc`` for this request (no trailing slash)."""
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, media_type=media_type, headers=headers)


def get_collection(collection_id: str) -> Collection:
    """The collection called ``collection_id``; 404 when unknown."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFoundHTTPError(f"no collection {collection_id!r}; see /ogc/collections") from None


def check_params(request: Request, allowed: set[str]) -> None:
    """400 on any query parameter the endpoint does not know (/req/core/query-param-unknown)."""
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
    if fmt is not None and fmt not in ("json", "geojson"):
        raise BadRequestError(f"f={fmt!r} is not offered; use f=json")


def parse_limit(raw: str | None) -> int:
    """``limit`` as an int in 1..MAX_LIMIT (larger values are served as MAX_LIMIT)."""
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"limit must be an integer, got {raw!r}") from None
    if value < 1:
        raise BadRequestError(f"limit must be at least 1, got {value}")
    return min(value, MAX_LIMIT)


def parse_offset(raw: str | None) -> int:
    """``offset`` (paging by the ``next`` link) as a non-negative int."""
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
    """A supported CRS URI (``crs`` / ``bbox-crs``), CRS84 when absent; 400 for any other value,
    the empty one included (the document lists the URIs as an ``enum``)."""
    try:
        return output_crs(CRS84 if raw is None else raw)
    except KeyError:
        raise BadRequestError(f"{name}={raw!r} is not supported; use one of {', '.join(SUPPORTED_CRS)}") \
            from None


def parse_bbox(raw: str | None, crs: OutputCrs) -> tuple[float, float, float, float] | None:
    """``bbox`` as (minx, miny, maxx, maxy) in the axis order x=lon/easting."""
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
        if not (-90 <= b <= 90 and -90 <= d <= 90):
            raise BadRequestError(f"bbox latitudes must lie within -90..90, got {raw!r}")
        if b > d:
            raise BadRequestError(f"bbox lower corner is north of the upper corner: {raw!r}")
    elif a > c or b > d:
        raise BadRequestError(f"bbox lower corner exceeds the upper corner: {raw!r}")
    return a, b, c, d


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
    """``datetime`` as an instant or an interval (open ends as ``None``), in the RFC 3339 grammar
    of :data:`web.ogc_openapi.DATETIME_PATTERN`."""
    if raw is None:
        return None
    if not DATETIME_RE.fullmatch(raw):
        raise BadRequestError(f"datetime must be an RFC 3339 date, date-time (with Z or an offset) or "
                              f"an interval of them with '..' for an open end, got {raw!r}")
    if "/" in raw:
        start_text, _, end_text = raw.partition("/")
        start, end = _parse_instant(start_text), _parse_instant(end_text)
        if start and end and start > end:
            raise BadRequestError(f"datetime interval ends before it starts: {raw!r}")
        return start, end
    instant = _parse_instant(raw)
    if instant is None:
        raise BadRequestError("datetime needs an instant or an interval")
    return instant, instant


def _geometry_sql(crs: OutputCrs) -> str:
    geom = "geom" if crs.srid == 4326 else f"ST_Transform(geom, {crs.srid})"
    if crs.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {crs.decimals}, 0)"


def _where(collection: Collection, request: Request, bbox: tuple[float, float, float, float] | None,
           bbox_crs: OutputCrs, when: tuple[datetime | None, datetime | None] | None,
           params: dict[str, Any]) -> str:
    clauses = ["true"]
    if bbox is not None:
        params.update(minx=bbox[0], miny=bbox[1], maxx=bbox[2], maxy=bbox[3])
        envelope = f"ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {bbox_crs.srid})"
        if bbox_crs.srid != 4326:
            envelope = f"ST_Transform(ST_Segmentize({envelope}, 100), 4326)"
        clauses.append(f"ST_Intersects(geom, {envelope})")
    if when is not None and collection.temporal is not None:
        start_col, end_col = collection.temporal
        if when[1] is not None:
            clauses.append(f"({start_col} IS NULL OR {start_col} <= CAST(:t_end AS date))")
            params["t_end"] = when[1].date()
        if when[0] is not None:
            clauses.append(f"({end_col} IS NULL OR {end_col} > CAST(:t_start AS date))")
            params["t_start"] = when[0].date()
    for i, name in enumerate(collection.filters):
        value = request.query_params.get(name)
        if value is not None:
            clauses.append(f"CAST({name} AS text) = :f{i}")
            params[f"f{i}"] = value
    return " AND ".join(clauses)


def _properties(collection: Collection, row: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in collection.properties:
        value = row[name]
        props[name] = value.isoformat() if isinstance(value, date) else value
    return props


def _feature(collection: Collection, row: dict[str, Any], base: str) -> dict[str, Any]:
    href = f"{base}/collections/{collection.id}/items/{row['fid']}"
    return {
        "type": "Feature", "id": row["fid"],
        "geometry": json.loads(row["geometry"]) if row["geometry"] else None,
        "properties": _properties(collection, row),
        "links": [{"href": href, "rel": "self", "type": GEOJSON, "title": "this feature"},
                  {"href": f"{base}/collections/{collection.id}", "rel": "collection",
                   "type": JSON, "title": "the collection"}],
    }


def query_features(engine: Engine, collection: Collection, request: Request) -> dict[str, Any]:
    """Answer ``/items``: a GeoJSON FeatureCollection with paging links and counts."""
    check_params(request, ITEMS_PARAMS | set(collection.filters))
    qp = request.query_params
    limit, offset = parse_limit(qp.get("limit")), parse_offset(qp.get("offset"))
    crs = parse_crs(qp.get("crs"), "crs")
    bbox_crs = parse_crs(qp.get("bbox-crs"), "bbox-crs")
    if "bbox-crs" in qp and "bbox" not in qp:
        raise BadRequestError("bbox-crs given without bbox")
    bbox = parse_bbox(qp.get("bbox"), bbox_crs)
    when = parse_datetime(qp.get("datetime"))
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    where = _where(collection, request, bbox, bbox_crs, when, params)
    columns = ", ".join(collection.properties)
    with engine.connect() as conn:
        matched = conn.execute(sa.text(f"SELECT count(*) FROM {collection.source} WHERE {where}"),
                               params).scalar_one()
        rows = [dict(r._mapping) for r in conn.execute(sa.text(
            f"SELECT fid, {columns}, {_geometry_sql(crs)} AS geometry FROM {collection.source}"
            f" WHERE {where} ORDER BY fid LIMIT :limit OFFSET :offset"), params)]
    base = base_url(request)
    items_url = f"{base}/collections/{collection.id}/items"
    query = {k: v for k, v in qp.items() if k != "offset"}
    links = [
        {"href": f"{items_url}?{urlencode({**query, 'offset': offset})}", "rel": "self",
         "type": GEOJSON, "title": "this page"},
        {"href": f"{base}/collections/{collection.id}", "rel": "collection", "type": JSON,
         "title": "the collection"},
    ]
    if offset + len(rows) < matched:
        links.append({"href": f"{items_url}?{urlencode({**query, 'offset': offset + len(rows)})}",
                      "rel": "next", "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": f"{items_url}?{urlencode({**query, 'offset': max(0, offset - limit)})}",
                      "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return {
        "type": "FeatureCollection",
        "features": [_feature(collection, row, base) for row in rows],
        "numberMatched": matched, "numberReturned": len(rows),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }


def get_feature(engine: Engine, collection: Collection, feature_id: str,
                request: Request) -> dict[str, Any]:
    """Answer ``/items/{featureId}``; 404 when no such feature."""
    check_params(request, ITEM_PARAMS)
    crs = parse_crs(request.query_params.get("crs"), "crs")
    columns = ", ".join(collection.properties)
    row = None
    if "\x00" not in feature_id:  # PostgreSQL text cannot hold NUL, so no feature has such an id
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                f"SELECT fid, {columns}, {_geometry_sql(crs)} AS geometry FROM {collection.source}"
                " WHERE fid = :fid"), {"fid": feature_id}).first()
    if row is None:
        raise NotFoundHTTPError(f"no feature {feature_id!r} in collection {collection.id!r}")
    return _feature(collection, dict(row._mapping), base_url(request))


def collection_metadata(engine: Engine, collection: Collection, base: str) -> dict[str, Any]:
    """Collection description with its CRS84 extent, CRS list and links."""
    with engine.connect() as conn:
        extent = conn.execute(sa.text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            f" (SELECT ST_Extent(geom) AS e FROM {collection.source}) x")).one()
    bbox = [list(extent)] if extent[0] is not None else [[-180.0, -90.0, 180.0, 90.0]]
    url = f"{base}/collections/{collection.id}"
    return {
        "id": collection.id, "title": collection.title, "description": collection.description,
        "keywords": list(collection.keywords), "itemType": "feature",
        "attribution": collection.attribution,
        "extent": {"spatial": {"bbox": bbox, "crs": CRS84}},
        "crs": list(SUPPORTED_CRS), "storageCrs": CRS84,
        "links": [
            {"href": url, "rel": "self", "type": JSON, "title": "this collection"},
            {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": "the features"},
            {"href": f"{url}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": JSON, "title": "vector tilesets"},
            {"href": LICENCE_URL, "rel": "license", "type": "text/html", "title": LICENCE_TITLE},
        ],
    }


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def landing_page(request: Request) -> JSONResponse:
    """Landing page: links to the API definition, conformance and the collections."""
    check_params(request, {"f"})
    base = base_url(request)
    return _json({
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
        ],
    })


@router.get("/api", include_in_schema=False)
def api_definition(request: Request) -> JSONResponse:
    """The hand-built OpenAPI 3.0 document of the OGC API."""
    check_params(request, {"f"})
    return _json(openapi_document(base_url(request)), media_type=OPENAPI_MEDIA_TYPE)


@router.get("/conformance", include_in_schema=False)
def conformance(request: Request) -> JSONResponse:
    """The conformance classes implemented."""
    check_params(request, {"f"})
    return _json({"conformsTo": CONFORMANCE})


@router.get("/collections", include_in_schema=False)
def collections(request: Request, engine: EngineDep) -> JSONResponse:
    """Every collection with its metadata."""
    check_params(request, {"f"})
    base = base_url(request)
    return _json({
        "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON,
                   "title": "this document"}],
        "collections": [collection_metadata(engine, c, base) for c in COLLECTIONS.values()],
        "crs": list(SUPPORTED_CRS),
    })


@router.get("/collections/{collection_id}", include_in_schema=False)
def collection(collection_id: str, request: Request, engine: EngineDep) -> JSONResponse:
    """One collection's metadata."""
    found = get_collection(collection_id)
    check_params(request, {"f"})
    return _json(collection_metadata(engine, found, base_url(request)))


def _crs_header(request: Request) -> dict[str, str]:
    return {"Content-Crs": f"<{parse_crs(request.query_params.get('crs'), 'crs').uri}>"}


@router.get("/collections/{collection_id}/items", include_in_schema=False)
def items(collection_id: str, request: Request, engine: EngineDep) -> JSONResponse:
    """Features of a collection (limit, offset, bbox, bbox-crs, crs, datetime, filters)."""
    found = get_collection(collection_id)
    body = query_features(engine, found, request)
    return _json(body, GEOJSON, _crs_header(request))


@router.get("/collections/{collection_id}/items/{feature_id}", include_in_schema=False)
def item(collection_id: str, feature_id: str, request: Request, engine: EngineDep) -> JSONResponse:
    """One feature; 404 when unknown."""
    found = get_collection(collection_id)
    body = get_feature(engine, found, feature_id, request)
    return _json(body, GEOJSON, _crs_header(request))
