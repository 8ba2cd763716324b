"""The OGC vocabulary of the published collections: CRS URIs, the licence, output CRSs.

The collections themselves (their SQL sources and public columns) are defined in
:mod:`gis_service.collections` and read by :mod:`gis_service.features` (feature pages) and
:mod:`gis_service.vector_tiles` (tiles); here is what turns the OGC request's URIs into them.
"""

from __future__ import annotations

from pyproj import CRS

from gis_service.collections import COLLECTIONS, Collection, OutputCrs
from gis_service.crs import postgis_srid

__all__ = ["COLLECTIONS", "CRS84", "EPSG_URI", "LICENCE_TITLE", "LICENCE_URL", "SUPPORTED_CRS",
           "Collection", "OutputCrs", "output_crs"]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
#: Output / bbox CRSs every collection supports (Part 2); CRS84 first, the default.
SUPPORTED_CRS = (CRS84, EPSG_URI.format(code=4326), EPSG_URI.format(code=3405),
                 EPSG_URI.format(code=9210))
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
LICENCE_TITLE = "Open Data Commons Open Database License (ODbL) 1.0"


def output_crs(uri: str) -> OutputCrs:
    """Return the :class:`OutputCrs` of a supported CRS URI; ``KeyError`` when unsupported."""
    if uri not in SUPPORTED_CRS:
        raise KeyError(uri)
    if uri == CRS84:
        return OutputCrs(uri, 4326, False, 8)
    code = int(uri.rsplit("/", 1)[1])
    crs = CRS.from_epsg(code)
    lat_first = crs.axis_info[0].direction == "north" and crs.is_geographic
    return OutputCrs(uri, postgis_srid(crs), lat_first, 8 if crs.is_geographic else 3)
