"""Mapbox vector tiles of the published collections, rendered by PostGIS (``ST_AsMVT``).

The query behind OGC API - Tiles (``web/tiles.py``, which caches the tiles): one tile of a
tile matrix set (:mod:`gis_service.tile_matrix_sets`) holds one layer per collection of
:mod:`gis_service.collections`.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from gis_service.collections import COLLECTIONS, Collection
from gis_service.features import read_one
from gis_service.tile_matrix_sets import WEB_MERCATOR_QUAD, TileMatrixSet

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


def _layer_sql(collection: Collection, index: int, zoom: int, srid: int) -> str:
    columns = ", ".join(collection.properties)
    where = road_classes_filter(zoom) if collection.id == "roads" else "true"
    geom = "geom" if srid == 4326 else f"ST_Transform(geom, {srid})"
    return (
        f"(SELECT ST_AsMVT(t{index}, '{collection.id}', {EXTENT}, 'mvtgeom') FROM ("
        f"SELECT ST_AsMVTGeom({geom}, b.env, {EXTENT}, {BUFFER}, true) AS mvtgeom,"
        f" fid, {columns} FROM {collection.source}, b"
        f" WHERE geom && b.env4326 AND {where}) t{index} WHERE mvtgeom IS NOT NULL)"
    )


def render_tile(engine: Engine, layers: tuple[str, ...], z: int, x: int, y: int,
                tms: TileMatrixSet = WEB_MERCATOR_QUAD) -> bytes:
    """Render one MVT holding ``layers`` (collection ids) for tile z/x/y of ``tms`` in PostGIS.

    Roads are thinned as on a WebMercatorQuad tile of the same size.
    """
    zoom = tms.web_zoom(z)
    parts = " || ".join(_layer_sql(COLLECTIONS[name], i, zoom, tms.srid)
                        for i, name in enumerate(layers))
    if tms is WEB_MERCATOR_QUAD:
        envelopes = ("ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,"
                     " ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326)"
                     " AS env4326")
        params: dict[str, float] = {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT}
    else:  # lon/lat tiles: the envelope is the tile's own box, the margin in degrees
        west, south, east, north = tms.bounds(z, y, x)
        envelopes = ("ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326) AS env,"
                     " ST_MakeEnvelope(%(w)s - %(m)s, %(s)s - %(m)s, %(e)s + %(m)s, %(n)s + %(m)s,"
                     " 4326) AS env4326")
        params = {"w": west, "s": south, "e": east, "n": north,
                  "m": tms.tile_span(z) * BUFFER / EXTENT}
    row = read_one(engine, f"WITH b AS (SELECT {envelopes}) SELECT {parts}", params)
    return bytes(row[0] or b"") if row is not None else b""
