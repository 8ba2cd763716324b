"""The two tile matrix sets the vector tiles are offered in (OGC 2D Tile Matrix Set 2.0).

- ``WebMercatorQuad`` (EPSG:3857): what web maps (Leaflet, MapLibre, QGIS's XYZ) use.
- ``WorldCRS84Quad`` (lon/lat degrees, 2 x 1 tiles at level 0): what GDAL's OGCAPI driver
  prefers. GDAL works out which vector tiles to read from the collection's CRS84 extent
  without reprojecting it to the matrix set's CRS, so only this set lets it find the tiles
  without being given a bbox in metres.

Here is only arithmetic: tile bounds, the tiles covering a lon/lat box, and each set's
definition document. :mod:`gis_service.vector_tiles` renders the tiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: ``(west, south, east, north)`` in degrees.
Box = tuple[float, float, float, float]

MAX_ZOOM = 22
TILE_PIXELS = 256
#: The size of a pixel in metres assumed by scale denominators (OGC: 0.28 mm).
PIXEL_M = 0.00028
EARTH_RADIUS_M = 6378137.0
EARTH_HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M
#: The latitude where WebMercatorQuad ends (its square's north and south edges).
MAX_LATITUDE = 85.0511287798066
METRES_PER_DEGREE = 2 * EARTH_HALF_CIRCUMFERENCE_M / 360


@dataclass(frozen=True)
class TileMatrixSet:
    """One tile matrix set: its names, CRS and the size of its matrices."""

    id: str
    title: str
    crs: str
    #: EPSG code of the CRS the tile bounds are given in (4326 in lon/lat order for CRS84).
    srid: int
    #: Level 0's extent in the CRS: west, south, east, north.
    extent: Box
    #: Tiles across and down at level 0.
    width0: int
    height0: int
    axes: tuple[str, str]
    #: The world of the data: latitudes outside are clamped.
    world: Box

    @property
    def uri(self) -> str:
        """Return the set's registered URI."""
        return f"http://www.opengis.net/def/tilematrixset/OGC/1.0/{self.id}"

    def size(self, z: int) -> tuple[int, int]:
        """Return (columns, rows) of matrix ``z``."""
        return self.width0 << z, self.height0 << z

    def contains(self, z: int, row: int, col: int) -> bool:
        """Tell whether tile ``z/row/col`` exists."""
        cols, rows = self.size(z)
        return 0 <= z <= MAX_ZOOM and 0 <= col < cols and 0 <= row < rows

    def tile_span(self, z: int) -> float:
        """Return a tile's side in CRS units at level ``z``."""
        return (self.extent[2] - self.extent[0]) / self.size(z)[0]

    def bounds(self, z: int, row: int, col: int) -> Box:
        """Return tile ``z/row/col``'s west, south, east, north in the set's CRS."""
        span = self.tile_span(z)
        west, north = self.extent[0] + col * span, self.extent[3] - row * span
        return west, north - span, west + span, north

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """Return lon/lat in the set's CRS (latitude clamped to the set's world)."""
        lat = max(self.world[1], min(self.world[3], lat))
        if self.srid == 4326:
            return lon, lat
        radius = EARTH_RADIUS_M
        return radius * math.radians(lon), radius * math.asinh(math.tan(math.radians(lat)))

    def tile_range(self, box: Box, z: int) -> dict[str, Any]:
        """Return the ``tileMatrixSetLimits`` entry of level ``z`` covering lon/lat ``box``."""
        cols, rows = self.size(z)
        span = self.tile_span(z)
        west, south = self.project(box[0], box[1])
        east, north = self.project(box[2], box[3])

        def col(x: float) -> int:
            return min(cols - 1, max(0, math.floor((x - self.extent[0]) / span)))

        def row(y: float) -> int:
            return min(rows - 1, max(0, math.floor((self.extent[3] - y) / span)))

        return {"tileMatrix": str(z), "minTileRow": row(north), "maxTileRow": row(south),
                "minTileCol": col(west), "maxTileCol": col(east)}

    def web_zoom(self, z: int) -> int:
        """Return the WebMercatorQuad level whose tiles are about as wide at the equator."""
        metres = self.tile_span(z) * (METRES_PER_DEGREE if self.srid == 4326 else 1.0)
        return max(0, round(math.log2(2 * EARTH_HALF_CIRCUMFERENCE_M / metres)))

    def definition(self) -> dict[str, Any]:
        """Return the set's definition document (OGC 2D Tile Matrix Set 2.0 JSON)."""
        metres_per_unit = METRES_PER_DEGREE if self.srid == 4326 else 1.0
        matrices = []
        for z in range(MAX_ZOOM + 1):
            cell = self.tile_span(z) / TILE_PIXELS
            cols, rows = self.size(z)
            matrices.append({
                "id": str(z), "scaleDenominator": cell * metres_per_unit / PIXEL_M,
                "cellSize": cell, "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [self.extent[0], self.extent[3]],
                "tileWidth": TILE_PIXELS, "tileHeight": TILE_PIXELS,
                "matrixWidth": cols, "matrixHeight": rows,
            })
        return {"id": self.id, "title": self.title, "uri": self.uri, "crs": self.crs,
                "orderedAxes": list(self.axes), "tileMatrices": matrices}


WEB_MERCATOR_QUAD = TileMatrixSet(
    id="WebMercatorQuad", title="Google Maps Compatible for the World",
    crs="http://www.opengis.net/def/crs/EPSG/0/3857", srid=3857,
    extent=(-EARTH_HALF_CIRCUMFERENCE_M, -EARTH_HALF_CIRCUMFERENCE_M,
            EARTH_HALF_CIRCUMFERENCE_M, EARTH_HALF_CIRCUMFERENCE_M),
    width0=1, height0=1, axes=("E", "N"), world=(-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE))
WORLD_CRS84_QUAD = TileMatrixSet(
    id="WorldCRS84Quad", title="CRS84 for the World",
    crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84", srid=4326,
    extent=(-180.0, -90.0, 180.0, 90.0), width0=2, height0=1, axes=("Lon", "Lat"),
    world=(-180.0, -90.0, 180.0, 90.0))

#: The sets offered, by id; WebMercatorQuad first (the web maps').
TILE_MATRIX_SETS: dict[str, TileMatrixSet] = {
    tms.id: tms for tms in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)}
