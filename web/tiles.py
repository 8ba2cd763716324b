"""OGC API - Tiles: Mapbox vector tiles from PostGIS (``ST_AsMVT``), in two tile matrix sets.

The sets are WebMercatorQuad and WorldCRS84Quad (:mod:`gis_service.tile_matrix_sets`).
Paths follow the standard's order ``{tileMatrix}/{tileRow}/{tileCol}`` (z/y/x). The base map
(``/ogc/tiles/...``) carries three layers: ``roads``, ``wards`` and ``schools``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import Scope, Send

from gis_service.feature_schema import property_types
from gis_service.features import Box, extent
from gis_service.tile_matrix_sets import MAX_ZOOM, TILE_MATRIX_SETS, WEB_MERCATOR_QUAD, TileMatrixSet
from gis_service.vector_tiles import render_tile
from web.collections import COLLECTIONS
from web.deps import EngineDep, data_versions, database, request_engine
from web.errors import NotFoundHTTPError
from web.ogc_features import base_url, get_collection

MVT = "application/vnd.mapbox-vector-tile"
BASEMAP_LAYERS = ("roads", "wards", "schools")
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

router = APIRouter(prefix="/ogc", tags=["OGC API - Tiles"])
LOG = logging.getLogger(__name__)

#: A cached tile: its layers (collection ids), tile matrix set id, z, x, y.
TileKey = tuple[tuple[str, ...], str, int, int, int]
#: Tiles up to this zoom are shared on disk (HCMC holds ~35,000 tiles at z16; deeper ones,
#: many and each rarely asked for, are rendered per process).
MAX_SHARED_ZOOM = 16


class TileCache:
    """Rendered tiles, each with the data versions it came from: in memory, and on disk.

    The versions are those of :mod:`gis_service.changes`: a tile is only served while the
    versions of its tables are the same, so a change is visible within seconds and an
    unchanged tile is never rendered twice.

    In memory, a small thread-safe LRU per process. On disk (``folder``, the app's
    ``<cache_dir>/tiles``), tiles up to zoom :data:`MAX_SHARED_ZOOM`, under the database's
    identity (:func:`gis_service.changes.database_identity`): the worker processes and the app
    nodes that share the data folder share them, so a node started later, or again, serves the
    tiles its peers rendered without rendering them (issue 14). Each file holds the versions
    it was rendered from on its first line, and is replaced whole (written aside, then
    renamed), so a reader never sees half a tile.
    """

    def __init__(self, size: int = 4096, folder: Path | None = None) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[tuple[int, ...], bytes]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.folder = folder

    def __contains__(self, key: object) -> bool:
        """Tell whether a tile is kept in memory for ``key`` (current or not)."""
        with self._lock:
            return key in self._items

    def get(self, key: tuple[Any, ...], stamp: tuple[int, ...]) -> bytes | None:
        """Return the tile kept in memory, or ``None`` when absent or rendered from other versions."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != stamp:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[Any, ...], stamp: tuple[int, ...], tile: bytes) -> None:
        """Keep a tile rendered from the data versions ``stamp`` in memory.

        The least recently used one is evicted when full.
        """
        with self._lock:
            self._items[key] = (stamp, tile)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def _file(self, identity: str | None, key: TileKey) -> Path | None:
        layers, tms, z, x, y = key
        if self.folder is None or identity is None or z > MAX_SHARED_ZOOM:
            return None
        return self.folder / identity / tms / "+".join(layers) / str(z) / str(x) / f"{y}.mvt"

    def fetch(self, identity: str | None, key: TileKey, stamp: tuple[int, ...],
              render: Callable[[], bytes]) -> bytes:
        """Return the tile from disk when current there, else ``render()`` it and share it.

        Kept in memory either way. Blocking (file access, rendering): call it off the event loop.
        """
        path = self._file(identity, key)
        header = (",".join(map(str, stamp)) + "\n").encode()
        tile = None
        if path is not None:
            try:
                stored = path.read_bytes()
            except OSError:
                stored = b""
            if stored.startswith(header):
                tile = stored[len(header):]
        if tile is None:
            tile = render()
            # an empty tile (no data there) is only kept in memory: the disk holds at most the
            # tiles that cover the city, whichever tiles strangers ask for
            if path is not None and tile:
                _write_whole(path, header + tile)
        self.put(key, stamp, tile)
        return tile


def _write_whole(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` aside, then rename it in place (a reader sees all or nothing).

    A cache that cannot be written (disk full, read-only) is only logged.
    """
    part: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".part",
                                         delete=False) as file:
            part = Path(file.name)
            file.write(content)
        os.replace(part, path)
    except OSError as error:
        LOG.warning("tile not shared on disk (%s): %s", path, error)
        if part is not None:
            part.unlink(missing_ok=True)


def layer_tables(layers: tuple[str, ...]) -> tuple[str, ...]:
    """Return the tables the collections ``layers`` read, each once."""
    return tuple(dict.fromkeys(t for name in layers for t in COLLECTIONS[name].tables))


def tile_matrix_set(tms: str) -> TileMatrixSet:
    """Return the offered tile matrix set ``tms``; 404 for any other."""
    found = TILE_MATRIX_SETS.get(tms)
    if found is None:
        raise NotFoundHTTPError(f"unknown tile matrix set {tms!r}; offered: "
                                f"{', '.join(TILE_MATRIX_SETS)}")
    return found


def check_tile(tms: str, z: int, y: int, x: int) -> TileMatrixSet:
    """Return the tile's matrix set, refusing with 404 unless the tile exists in it."""
    found = tile_matrix_set(tms)
    if not 0 <= z <= MAX_ZOOM:
        raise NotFoundHTTPError(f"tile matrix {z} is outside 0..{MAX_ZOOM}")
    if not found.contains(z, y, x):
        raise NotFoundHTTPError(f"tile row {y} / column {x} is outside tile matrix {z}")
    return found


def _cache(state: State) -> TileCache:
    """Return the app's tile cache (made by its lifespan, :func:`web.app.create_app`)."""
    cache: TileCache = state.tile_cache
    return cache


#: Browsers may keep a tile a minute; the server's cache follows the data itself.
TILE_CACHE_CONTROL = "public, max-age=60"
TILE_HEADERS = [(b"content-type", MVT.encode()), (b"cache-control", TILE_CACHE_CONTROL.encode())]


async def _tile_response(request: Request, layers: tuple[str, ...], tms: TileMatrixSet, z: int,
                         x: int, y: int) -> Response:
    """Answer a tile from the cache when its data is unchanged, else render it.

    It is rendered by PostGIS in a worker thread, and cached with the versions read before
    rendering: a change committed while it renders makes it stale at once, never a stale
    tile look current.
    """
    cache = _cache(request.app.state)
    engine = await request_engine(request)
    versions = data_versions(request.app.state)
    # the first call of a process reads the versions: in a worker thread, not on the loop
    stamp = await run_in_threadpool(versions.stamp, engine, layer_tables(layers))
    key = (layers, tms.id, z, x, y)
    tile = cache.get(key, stamp)
    if tile is None:
        tile = await run_in_threadpool(cache.fetch, versions.identity, key, stamp,
                                       lambda: render_tile(engine, layers, z, x, y, tms))
    return Response(tile, media_type=MVT, headers={"Cache-Control": TILE_CACHE_CONTROL})


def _cached_tile_key(path: str) -> TileKey | None:
    """Return the cache key of a tile path (base map or one collection), ``None`` for other paths."""
    parts = path.split("/")
    # "", "ogc", "tiles", tms, z, y, x  or  "", "ogc", "collections", id, "tiles", tms, z, y, x
    if len(parts) == 7 and parts[2] == "tiles":
        layers: tuple[str, ...] = BASEMAP_LAYERS
    elif len(parts) == 9 and parts[2] == "collections" and parts[4] == "tiles" \
            and parts[3] in COLLECTIONS:
        layers = (parts[3],)
    else:
        return None
    tms, z, y, x = parts[-4:]
    if tms not in TILE_MATRIX_SETS or not all(len(p) <= 10 and p.isascii() and p.isdigit()
                                              for p in (z, y, x)):
        return None
    return layers, tms, int(z), int(x), int(y)


async def tile_fast(scope: Scope, send: Send) -> bool:
    """Answer ``GET`` of a tile that is in the cache and current, as pure ASGI (no routing).

    Only a tile the route rendered and checked before is cached, so a hit is a valid tile
    (same bytes and headers as :func:`_tile_response`). Returns ``False``, having sent
    nothing, on a miss: the route then checks, renders and caches it.
    """
    state = scope["app"].state
    cache = _cache(state)
    engine = database(state).current
    key = _cached_tile_key(scope["path"])
    # a tile in the cache was rendered by the route, which read the versions first (in a
    # worker thread): they are never read for the first time here, on the event loop
    if engine is None or key is None or key not in cache:
        return False
    tile = cache.get(key, data_versions(state).stamp(engine, layer_tables(key[0])))
    if tile is None:
        return False
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(tile)).encode()), *TILE_HEADERS]})
    await send({"type": "http.response.body", "body": tile})
    return True


def mercator(lon: float, lat: float) -> list[float]:
    """Return the WebMercatorQuad coordinates (EPSG:3857 metres) of ``lon``, ``lat``."""
    return list(WEB_MERCATOR_QUAD.project(lon, lat))


def data_bounds(engine: Engine, layers: tuple[str, ...]) -> Box | None:
    """Return the lon/lat box of the features of ``layers``; ``None`` when they have none."""
    boxes = [b for b in (extent(engine, COLLECTIONS[name]) for name in layers) if b is not None]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _tileset_links(base: str, path: str, tms: TileMatrixSet) -> list[dict[str, Any]]:
    return [
        {"href": f"{base}{path}/{tms.id}", "rel": "self", "type": "application/json",
         "title": f"this tileset in {tms.id}"},
        {"href": f"{base}/tileMatrixSets/{tms.id}",
         "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
         "title": tms.id},
        {"href": f"{base}{path}/{tms.id}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", "rel": "item",
         "type": MVT, "templated": True, "title": "vector tiles"},
    ]


def _tileset(engine: Engine, base: str, path: str, title: str, layers: tuple[str, ...],
             tms: TileMatrixSet) -> dict[str, Any]:
    """Describe a tileset: limits and bounding box of its data, typed layer properties.

    The tile matrix limits cover only the tiles that hold data, so a client (GDAL's OGCAPI
    driver, QGIS) finds the tiles without being given a bbox; with no data they cover the
    world.
    """
    attribution = "edugis" + (f"; {OSM_ATTRIBUTION}" if "roads" in layers else "")
    bounds = data_bounds(engine, layers) or tms.world
    return {
        "title": title, "dataType": "vector", "crs": tms.crs,
        "tileMatrixSetURI": tms.uri, "attribution": attribution,
        "boundingBox": {"lowerLeft": list(tms.project(bounds[0], bounds[1])),
                        "upperRight": list(tms.project(bounds[2], bounds[3])), "crs": tms.crs},
        "tileMatrixSetLimits": [tms.tile_range(bounds, z) for z in range(MAX_ZOOM + 1)],
        "layers": [{"id": name, "dataType": "vector", "geometryType": {
            "schools": "points", "roads": "lines"}.get(name, "polygons"),
            "propertiesSchema": {"type": "object", "properties": {
                p: {"title": p, **kind} for p, kind in
                property_types(engine, COLLECTIONS[name])[0].items()}}} for name in layers],
        "links": _tileset_links(base, path, tms),
    }


def _tileset_list(base: str, path: str, title: str) -> dict[str, Any]:
    return {"tilesets": [{"title": title, "dataType": "vector", "crs": tms.crs,
                          "tileMatrixSetURI": tms.uri, "links": _tileset_links(base, path, tms)[:2]}
                         for tms in TILE_MATRIX_SETS.values()],
            "links": [{"href": f"{base}{path}", "rel": "self", "type": "application/json"}]}


@router.get("/tileMatrixSets", include_in_schema=False)
def tile_matrix_sets(request: Request) -> JSONResponse:
    """List the tile matrix sets offered."""
    base = base_url(request)
    return JSONResponse({"tileMatrixSets": [{
        "id": tms.id, "title": tms.title, "uri": tms.uri,
        "links": [{"href": f"{base}/tileMatrixSets/{tms.id}", "rel": "self",
                   "type": "application/json"}]} for tms in TILE_MATRIX_SETS.values()]})


@router.get("/tileMatrixSets/{tms}", include_in_schema=False)
def tile_matrix_set_definition(tms: str) -> JSONResponse:
    """Return the definition of one offered tile matrix set; 404 for any other."""
    return JSONResponse(tile_matrix_set(tms).definition())


@router.get("/tiles", include_in_schema=False)
def basemap_tilesets(request: Request) -> JSONResponse:
    """List the tilesets of the base map (roads, wards, schools in one tile)."""
    return JSONResponse(_tileset_list(base_url(request), "/tiles", "edugis base map"))


@router.get("/tiles/{tms}", include_in_schema=False)
def basemap_tileset(tms: str, request: Request, engine: EngineDep) -> JSONResponse:
    """Metadata of the base map tileset."""
    return JSONResponse(_tileset(engine, base_url(request), "/tiles", "edugis base map",
                                 BASEMAP_LAYERS, tile_matrix_set(tms)))


@router.get("/tiles/{tms}/{z}/{y}/{x}", include_in_schema=False)
async def basemap_tile(tms: str, z: int, y: int, x: int, request: Request) -> Response:
    """Return a base map vector tile with layers roads, wards and schools."""
    return await _tile_response(request, BASEMAP_LAYERS, check_tile(tms, z, y, x), z, x, y)


@router.get("/collections/{collection_id}/tiles", include_in_schema=False)
def collection_tilesets(collection_id: str, request: Request) -> JSONResponse:
    """List the tilesets of one collection."""
    found = get_collection(collection_id)
    return JSONResponse(_tileset_list(base_url(request), f"/collections/{found.id}/tiles",
                                      found.title))


@router.get("/collections/{collection_id}/tiles/{tms}", include_in_schema=False)
def collection_tileset(collection_id: str, tms: str, request: Request,
                       engine: EngineDep) -> JSONResponse:
    """Tileset metadata of one collection."""
    found = get_collection(collection_id)
    return JSONResponse(_tileset(engine, base_url(request), f"/collections/{found.id}/tiles",
                                 found.title, (found.id,), tile_matrix_set(tms)))


@router.get("/collections/{collection_id}/tiles/{tms}/{z}/{y}/{x}", include_in_schema=False)
async def collection_tile(collection_id: str, tms: str, z: int, y: int, x: int,
                          request: Request) -> Response:
    """Return a vector tile of one collection (one layer named after it)."""
    found = get_collection(collection_id)
    return await _tile_response(request, (found.id,), check_tile(tms, z, y, x), z, x, y)
