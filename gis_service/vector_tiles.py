"""Mapbox vector tiles of the published collections, rendered by PostGIS (``ST_AsMVT``).

The query behind OGC API - Tiles (``web/tiles.py``, which caches the tiles): one tile in
WebMercatorQuad holds one layer per collection of :mod:`gis_service.collections`.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from gis_service.collections import COLLECTIONS, Collection
from gis_service.features import read_one

#: Tile coordinates per side, and the margin drawn around a tile, in those units.
EXTENT = 4096
BUFFER = 64


def road_classes_filter(zoom: int) -> str:
    """Return the road classes a tile at ``zoom`` shows: main roads first, every alley from z14."""
    if zoom < 12:
        return "highway IN ('motorway', 'trunk', 'primary', 'secondary')"
    if zoom < 14:
        return "highway IN ('motorway', 'trunk', 'primary', 'secondary', 'tertiary')"
    return "true"


def _layer_sql(collection: Collection, index: int, zoom: int) -> str:
    columns = ", ".join(collection.properties)
    where = road_classes_filter(zoom) if collection.id == "roads" else "true"
    return (
        f"(SELECT ST_AsMVT(t{index}, '{collection.id}', {EXTENT}, 'mvtgeom') FROM ("
        f"SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), b.env, {EXTENT}, {BUFFER}, true) AS mvtgeom,"
        f" fid, {columns} FROM {collection.source}, b"
        f" WHERE geom && b.env4326 AND {where}) t{index} WHERE mvtgeom IS NOT NULL)"
    )


def render_tile(engine: Engine, layers: tuple[str, ...], z: int, x: int, y: int) -> bytes:
    """Render one MVT holding ``layers`` (collection ids) for tile z/x/y, straight from PostGIS."""
    parts = " || ".join(_layer_sql(COLLECTIONS[name], i, z) for i, name in enumerate(layers))
    sql = (
        "WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,"
        " ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326)"
        " AS env4326)"
        f" SELECT {parts}"
    )
    row = read_one(engine, sql, {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT})
    return bytes(row[0] or b"") if row is not None else b""
