"""JSON Schema types of the published collections' properties, read from PostgreSQL.

GIS clients (GDAL's OAPIF driver, QGIS) guess a field's type from the first page of
features unless the collection publishes its schema: a capacity that is null on the first
page became a text field. The types here come from the database itself (the column types
of each collection's source, :mod:`gis_service.collections`), so the published schema
cannot drift from the features.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Engine

from gis_service.collections import Collection

#: JSON Schema of each PostgreSQL type a published property has.
JSON_TYPES: dict[str, dict[str, Any]] = {
    **{name: {"type": "integer"} for name in ("int2", "int4", "int8")},
    **{name: {"type": "number"} for name in ("float4", "float8", "numeric")},
    **{name: {"type": "string"} for name in ("text", "varchar", "bpchar", "name")},
    **{name: {"type": "array", "items": {"type": "string"}} for name in ("_text", "_varchar")},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamptz": {"type": "string", "format": "date-time"},
    "timestamp": {"type": "string", "format": "date-time"},
}
#: The Part 5 format of each PostGIS geometry type.
GEOMETRY_FORMATS = {"POINT": "geometry-point", "MULTIPOINT": "geometry-multipoint",
                    "LINESTRING": "geometry-linestring",
                    "MULTILINESTRING": "geometry-multilinestring",
                    "POLYGON": "geometry-polygon", "MULTIPOLYGON": "geometry-multipolygon"}

_KNOWN: dict[tuple[str, str], tuple[dict[str, dict[str, Any]], str]] = {}
_LOCK = threading.Lock()


def property_types(engine: Engine, collection: Collection) -> tuple[dict[str, dict[str, Any]], str]:
    """Return the JSON Schema of each property of ``collection`` and its geometry format.

    Read once per database and collection (types change only with a migration): the
    column types of the source's result, and the geometry type of one of its rows
    (``geometry-any`` while it has none).

    Raises
    ------
    KeyError
        A property has a type :data:`JSON_TYPES` does not know (a new column type must be
        added there, not published untyped).
    """
    key = (engine.url.render_as_string(hide_password=True), collection.id)
    with _LOCK:
        known = _KNOWN.get(key)
    if known is not None:
        return known
    columns = ", ".join(collection.properties)
    pooled = engine.raw_connection()
    try:
        cursor = pooled.cursor()
        cursor.execute(f"SELECT {columns} FROM {collection.source} LIMIT 0")
        oids = [column[1] for column in cursor.description]
        cursor.execute("SELECT oid::int, typname::text FROM pg_type WHERE oid = ANY(%s)", (oids,))
        names = dict(cursor.fetchall())
        cursor.execute(f"SELECT upper(GeometryType(geom)) FROM {collection.source} LIMIT 1")
        row = cursor.fetchone()
        pooled.rollback()
    finally:
        pooled.close()
    types = {prop: JSON_TYPES[names[oid]] for prop, oid in zip(collection.properties, oids,
                                                                 strict=True)}
    geometry = GEOMETRY_FORMATS.get(row[0], "geometry-any") if row else "geometry-any"
    with _LOCK:
        _KNOWN[key] = (types, geometry)
    return types, geometry


def feature_schema(engine: Engine, collection: Collection, schema_id: str,
                   only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Return the JSON Schema (2020-12, OGC API - Features Part 5 roles) of a collection.

    Parameters
    ----------
    engine, collection
        Where the types are read (:func:`property_types`).
    schema_id
        The schema's own URL (``$id``).
    only
        The properties to list (the queryables); all of them when ``None``.
    """
    types, geometry = property_types(engine, collection)
    start, end = collection.temporal or (None, None)
    roles = {start: "primary-interval-start", end: "primary-interval-end"}
    properties: dict[str, Any] = {"geometry": {"format": geometry, "x-ogc-role": "primary-geometry"}}
    for name in (only if only is not None else collection.properties):
        entry = {"title": name, **types[name]}
        if name in roles:
            entry["x-ogc-role"] = roles[name]
        properties[name] = entry
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id,
            "type": "object", "title": collection.title, "properties": properties,
            "additionalProperties": False}


def geojson_feature_schema(engine: Engine, collection: Collection, schema_id: str) -> dict[str, Any]:
    """Return the JSON Schema of one GeoJSON feature of a collection (its encoding).

    What a collection's ``describedby`` link points to: GDAL's OAPIF driver reads the types
    of ``properties`` from it (it does not read the logical schema of Part 5). A property
    whose value is unknown is ``null``.
    """
    types, _ = property_types(engine, collection)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id,
        "title": f"{collection.title} (GeoJSON feature)", "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object"},
            "properties": {"type": "object", "properties": {
                name: {"title": name, **types[name]} for name in collection.properties}},
            "links": {"type": "array", "items": {"type": "object"}},
        },
    }
