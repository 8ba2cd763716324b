"""The OpenAPI 3.0 document of the OGC API, built by hand and self-contained.

FastAPI generates OpenAPI 3.1 (``anyOf`` with ``null``), which OGC's test suite (KaiZen,
OAS 3.0 only) rejects; so the OGC part is described here, with the ``limit`` and ``bbox``
parameter shapes the ETS checks (``style: form``, ``explode: false``) and no remote ``$ref``.
"""

from __future__ import annotations

from typing import Any

from web.collections import COLLECTIONS, CRS84, SUPPORTED_CRS

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
MVT = "application/vnd.mapbox-vector-tile"
#: Features on a page when ``limit`` is not given.
DEFAULT_LIMIT = 10
#: PostgreSQL's OFFSET is a bigint; a larger ``offset`` is a 400, not a database error.
MAX_OFFSET = 2**63 - 1
#: Years 0001-9999, and the leap ones among them (Gregorian: every 4th, not every 100th
#: unless every 400th), so that the pattern admits exactly the days of the calendar.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
        "|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_DATE = f"(?:{_YEAR}-{_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]+)?"
_INSTANT = f"{_DATE}(?:T{_TIME}(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]))?"
#: The grammar of ``datetime`` (RFC 3339 full-date or date-time, or an interval of them with
#: ``..`` or nothing for an open end); the server enforces the same pattern, and every string
#: it admits is a real instant (no 30 February, no hour 24; leap seconds are not admitted).
DATETIME_PATTERN = f"^(?:{_INSTANT}|(?:{_INSTANT}|[.][.])?/(?:{_INSTANT}|[.][.])?)$"
#: Any text without NUL, which no PostgreSQL text can hold (the server refuses it with a 400).
TEXT_PATTERN = "^[^\\x00]*$"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json_response(description: str, schema: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": _ref("schemas", schema)}}}


_ERRORS = {"400": _ref("responses", "InvalidParameter"), "429": _ref("responses", "TooManyRequests"),
           "500": _ref("responses", "ServerError")}


def _or_html(response: dict[str, Any]) -> dict[str, Any]:
    """Return a 200 response that may also be the HTML page (``f=html``)."""
    return {**response, "content": {**response["content"],
                                    "text/html": {"schema": {"type": "string"}}}}


def limit_parameter(maximum: int) -> dict[str, Any]:
    """Return the ``limit`` parameter of a collection whose pages hold at most ``maximum`` features."""
    return {
        "name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
        "description": f"Maximum number of features returned, at most {maximum} (a larger value "
                       f"is served as {maximum}, with a `next` link to the rest).",
        "schema": {"type": "integer", "minimum": 1, "maximum": maximum,
                   "default": min(DEFAULT_LIMIT, maximum)},
    }


def _parameters() -> dict[str, Any]:
    crs_schema = {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS)}
    return {
        "offset": {
            "name": "offset", "in": "query", "required": False, "style": "form", "explode": False,
            "description": "Number of features skipped (used by the `next` links).",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        },
        "bbox": {
            "name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
            "description": "Bounding box: 4 numbers (minx,miny,maxx,maxy) or 6 (minx,miny,minz,"
                           "maxx,maxy,maxz; heights ignored), in CRS84 unless bbox-crs is given. In "
                           "CRS84 and EPSG:4326 a west edge east of the east edge crosses the "
                           "antimeridian; coordinates beyond the poles or ±180° are taken at them. "
                           "In a projected CRS coordinates beyond its area of use (widened by 1°) "
                           "are taken at its edge. A box whose lower corner lies above its upper "
                           "one (south of north; in a projected CRS on either axis) holds nothing: "
                           "the page is empty.",
            # minItems/maxItems as OGC's test suite reads them; the "not" rules out 5 numbers
            "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"},
                       "not": {"minItems": 5, "maxItems": 5}},
        },
        "bbox-crs": {
            "name": "bbox-crs", "in": "query", "required": False, "style": "form",
            "explode": False, "description": "CRS of the bbox coordinates (without bbox it has "
                                             "nothing to apply to).",
            "schema": {**crs_schema, "default": CRS84},
        },
        "crs": {
            "name": "crs", "in": "query", "required": False, "style": "form", "explode": False,
            "description": "CRS of the returned coordinates (EPSG:9210 is VN-2000 / TM-3 105°45′ "
                           "through the official EPSG:6960 transformation).",
            "schema": {**crs_schema, "default": CRS84},
        },
        "datetime": {
            "name": "datetime", "in": "query", "required": False, "style": "form",
            "explode": False, "description": "Instant or interval (RFC 3339 date or date-time with Z "
                                             "or an offset; '..' or nothing for an open end); filters "
                                             "by validity where a collection has one (an interval "
                                             "that ends before it starts matches nothing).",
            "schema": {"type": "string", "pattern": DATETIME_PATTERN},
        },
        "f": {
            "name": "f", "in": "query", "required": False, "style": "form", "explode": False,
            "description": "Output format: JSON (GeoJSON for features), or the HTML page for "
                           "people (also given to a browser's Accept: text/html).",
            "schema": {"type": "string", "enum": ["json", "geojson", "html"]},
        },
        "featureId": {
            "name": "featureId", "in": "path", "required": True, "description": "Feature id.",
            "schema": {"type": "string"},
        },
        "tileMatrixSetId": {
            "name": "tileMatrixSetId", "in": "path", "required": True,
            "schema": {"type": "string", "enum": ["WebMercatorQuad", "WorldCRS84Quad"]},
        },
        "tileMatrix": {"name": "tileMatrix", "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": "^[0-9]+$"},
                       "description": "Zoom level 0..22 (a deeper level is 404)."},
        "tileRow": {"name": "tileRow", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 0}},
        "tileCol": {"name": "tileCol", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 0}},
    }


def _schemas() -> dict[str, Any]:
    link = {"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}, "hreflang": {"type": "string"}}}
    links = {"type": "array", "items": _ref("schemas", "link")}
    geometry = {"type": "object", "nullable": True, "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString",
                                            "Polygon", "MultiPolygon", "GeometryCollection"]},
        "coordinates": {"type": "array", "items": {}}}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": _ref("schemas", "geometryGeoJSON"),
        "properties": {"type": "object", "nullable": True}, "links": links}}
    collection = {"type": "object", "required": ["id", "links"], "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "links": links, "itemType": {"type": "string"},
        "crs": {"type": "array", "items": {"type": "string"}}, "storageCrs": {"type": "string"},
        "extent": {"type": "object", "properties": {"spatial": {"type": "object", "properties": {
            "bbox": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "crs": {"type": "string"}}}}}}}
    return {
        "link": link,
        "exception": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string"}, "description": {"type": "string"}}},
        "landingPage": {"type": "object", "required": ["links"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"}, "links": links}},
        "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string"}}}},
        "collection": collection,
        "collections": {"type": "object", "required": ["links", "collections"], "properties": {
            "links": links, "collections": {"type": "array", "items": _ref("schemas", "collection")},
            "crs": {"type": "array", "items": {"type": "string"}}}},
        "geometryGeoJSON": geometry,
        "featureGeoJSON": feature,
        "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", "featureGeoJSON")},
            "links": links, "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0}}},
        "tileSet": {"type": "object", "required": ["dataType", "tileMatrixSetURI", "links"],
                    "properties": {"title": {"type": "string"}, "dataType": {"type": "string"},
                                   "crs": {"type": "string"}, "tileMatrixSetURI": {"type": "string"},
                                   "links": links}},
        "tileSets": {"type": "object", "required": ["tilesets"], "properties": {
            "tilesets": {"type": "array", "items": _ref("schemas", "tileSet")}, "links": links}},
        "tileMatrixSet": {"type": "object", "required": ["id", "crs", "tileMatrices"], "properties": {
            "id": {"type": "string"}, "crs": {"type": "string"},
            "tileMatrices": {"type": "array", "items": {"type": "object"}}}},
    }


def _op(summary: str, op_id: str, responses: dict[str, Any], params: list[dict[str, Any]] | None = None,
        tags: tuple[str, ...] = ("Capabilities",)) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "operationId": op_id, "tags": list(tags),
                          "responses": {**responses, **_ERRORS}}
    if params:
        op["parameters"] = params
    return op


def _collection_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for cid, coll in COLLECTIONS.items():
        filters = [{"name": name, "in": "query", "required": False, "style": "form", "explode": False,
                    "description": f"Only features whose `{name}` equals this value.",
                    "schema": {"type": "string", "pattern": TEXT_PATTERN}} for name in coll.filters]
        paths[f"/collections/{cid}"] = {"get": _op(
            f"Describe {cid}", f"describe_{cid}",
            {"200": _or_html(_json_response(f"Metadata of {cid}", "collection")),
             "404": _ref("responses", "NotFound")}, [_ref("parameters", "f")], (cid,))}
        paths[f"/collections/{cid}/items"] = {"get": _op(
            f"Features of {cid}", f"get_{cid}_features",
            {"200": _or_html(_json_response(f"Features of {cid}", "featureCollectionGeoJSON",
                                            "application/geo+json")),
             "404": _ref("responses", "NotFound")},
            [limit_parameter(coll.max_limit)]
            + [_ref("parameters", p) for p in ("offset", "bbox", "bbox-crs", "crs", "datetime", "f")]
            + filters, (cid,))}
        paths[f"/collections/{cid}/items/{{featureId}}"] = {"get": _op(
            f"One feature of {cid}", f"get_{cid}_feature",
            {"200": _or_html(_json_response("The feature", "featureGeoJSON",
                                            "application/geo+json")),
             "404": _ref("responses", "NotFound")},
            [_ref("parameters", "featureId"), _ref("parameters", "crs"), _ref("parameters", "f")],
            (cid,))}
        for part, what in (("queryables", "the properties features can be filtered by"),
                           ("schema", "the schema of the features"),
                           ("feature-schema", "a feature as GeoJSON")):
            paths[f"/collections/{cid}/{part}"] = {"get": _op(
                f"{what.capitalize()} of {cid}", f"get_{cid}_{part.replace('-', '_')}",
                {"200": {"description": f"JSON Schema of {what}",
                         "content": {"application/schema+json": {"schema": {"type": "object"}}}},
                 "404": _ref("responses", "NotFound")}, [_ref("parameters", "f")], (cid,))}
        paths[f"/collections/{cid}/tiles"] = {"get": _op(
            f"Vector tilesets of {cid}", f"get_{cid}_tilesets",
            {"200": _json_response("Tileset list", "tileSets")}, None, (cid,))}
        paths[f"/collections/{cid}/tiles/{{tileMatrixSetId}}"] = {"get": _op(
            f"Tileset metadata of {cid}", f"get_{cid}_tileset",
            {"200": _json_response("Tileset metadata", "tileSet"),
             "404": _ref("responses", "NotFound")}, [_ref("parameters", "tileMatrixSetId")], (cid,))}
        paths[f"/collections/{cid}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"] = {
            "get": _op(f"A vector tile of {cid}", f"get_{cid}_tile",
                       {"200": {"description": "Mapbox vector tile",
                                "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
                        "404": _ref("responses", "NotFound")},
                       [_ref("parameters", p) for p in ("tileMatrixSetId", "tileMatrix", "tileRow",
                                                         "tileCol")], (cid,))}
    return paths


def openapi_document(base: str) -> dict[str, Any]:
    """Return the OpenAPI 3.0.3 document of the OGC API served under ``base`` (``.../ogc``)."""
    tile_params = [_ref("parameters", p) for p in ("tileMatrixSetId", "tileMatrix", "tileRow", "tileCol")]
    paths: dict[str, Any] = {
        "/": {"get": _op("Landing page", "getLandingPage",
                         {"200": _or_html(_json_response("Links to the API", "landingPage"))},
                         [_ref("parameters", "f")])},
        "/api": {"get": _op("This API definition", "getApi", {"200": {
            "description": "OpenAPI 3.0 document",
            "content": {OPENAPI_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
            [_ref("parameters", "f")])},
        "/conformance": {"get": _op("Conformance classes", "getConformance",
                                    {"200": _json_response("Conformance classes", "confClasses")},
                                    [_ref("parameters", "f")])},
        "/collections": {"get": _op("Collections", "getCollections",
                                    {"200": _or_html(_json_response("Collections", "collections"))},
                                    [_ref("parameters", "f")])},
        "/tileMatrixSets": {"get": _op("Tile matrix sets", "getTileMatrixSets", {"200": {
            "description": "Tile matrix sets", "content": {"application/json": {"schema": {
                "type": "object"}}}}}, None, ("Tiles",))},
        "/tileMatrixSets/{tileMatrixSetId}": {"get": _op(
            "A tile matrix set", "getTileMatrixSet",
            {"200": _json_response("Definition", "tileMatrixSet"), "404": _ref("responses", "NotFound")},
            [_ref("parameters", "tileMatrixSetId")], ("Tiles",))},
        "/tiles": {"get": _op("Base map tilesets", "getDatasetTilesets",
                              {"200": _json_response("Tileset list", "tileSets")}, None, ("Tiles",))},
        "/tiles/{tileMatrixSetId}": {"get": _op(
            "Base map tileset metadata", "getDatasetTileset",
            {"200": _json_response("Tileset metadata", "tileSet"), "404": _ref("responses", "NotFound")},
            [_ref("parameters", "tileMatrixSetId")], ("Tiles",))},
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {"get": _op(
            "A base map vector tile (roads, wards, schools)", "getDatasetTile",
            {"200": {"description": "Mapbox vector tile",
                     "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
             "404": _ref("responses", "NotFound")}, tile_params, ("Tiles",))},
    }
    paths.update(_collection_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "edugis OGC API", "version": "1.0.0",
            "description": "OGC API - Features (Part 1 and Part 2) and Tiles of the education GIS "
                           "of Ho Chi Minh City.",
            "license": {"name": "ODbL 1.0", "url": "https://opendatacommons.org/licenses/odbl/1-0/"},
            "contact": {"name": "edugis"},
        },
        "servers": [{"url": base, "description": "this server"}],
        "tags": [{"name": "Capabilities"}, {"name": "Tiles"}]
        + [{"name": cid, "description": c.description} for cid, c in COLLECTIONS.items()],
        "paths": paths,
        "components": {
            "parameters": _parameters(),
            "schemas": _schemas(),
            "responses": {
                name: {"description": text,
                       "content": {"application/json": {"schema": _ref("schemas", "exception")}}}
                for name, text in (("InvalidParameter", "Unknown or invalid query parameter"),
                                   ("NotFound", "No such resource"), ("ServerError", "Server error"),
                                   ("TooManyRequests", "Too many requests from this client address "
                                                       "(web.rate_limit): retry after the delay given"))
            } | {"TooManyRequests": {
                "description": "Too many requests from this client address: retry after the delay given",
                "headers": {"Retry-After": {"description": "Seconds to wait before retrying",
                                            "schema": {"type": "integer", "minimum": 1}}},
                "content": {"application/json": {"schema": _ref("schemas", "exception")}}}},
        },
    }
