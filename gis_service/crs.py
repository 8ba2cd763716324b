"""Coordinate reference systems: the one place that decides how coordinates are transformed.

Storage is EPSG:4326 (lon, lat). The city basemap arrives in VN-2000, mostly the
TM-3 105°45' zone (EPSG:9210). Vietnam's official VN-2000 -> WGS 84 transformation
(Decision 05/2007/QĐ-BTNMT) is EPSG:6960; PROJ and PostGIS both pick EPSG:5194 by
default, which lands about 0.8 m away. So:

- in Python, every VN-2000 CRS is transformed by an explicit PROJ pipeline that
  composes the CRS's own projection with the EPSG:6960 Helmert step, read from the
  EPSG database (never PROJ's automatic choice);
- in PostGIS, each VN-2000 CRS is registered as a custom SRID without authority,
  ``vn2000_srid(epsg)``, whose proj4text carries the same parameters as
  ``+towgs84``, so ``ST_Transform`` agrees with Python to the millimetre.

A layer without a declared CRS is an error, never a guess.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.crs import CoordinateOperation  # type: ignore[attr-defined]
from pyproj.database import query_crs_info

from gis_service.errors import CRSError

STORAGE_EPSG = 4326
STORAGE_CRS = CRS.from_epsg(STORAGE_EPSG)
#: The official VN-2000 -> WGS 84 operation (Decision 05/2007/QĐ-BTNMT).
VN2000_TO_WGS84_EPSG = 6960
VN2000_GEOGRAPHIC_EPSG = 4756
#: Custom SRIDs for VN-2000 CRSs in PostGIS: this offset + the EPSG code (909210 for 9210).
CUSTOM_SRID_OFFSET = 900_000


def parse_crs(value: str | int | CRS | None, *, what: str = "layer") -> CRS:
    """Return a CRS for ``value`` ("EPSG:9210", 9210, a WKT or proj string), refusing ``None``."""
    if value is None or value == "":
        raise CRSError(
            f"{what} has no declared CRS; declare it (e.g. --crs EPSG:9210 for the city basemap "
            "in VN-2000, or --crs EPSG:4326 for lon/lat)"
        )
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises its own CRSError subclasses of Exception
        raise CRSError(f"{what}: unknown CRS {value!r}: {exc}") from exc


def is_vn2000(crs: CRS) -> bool:
    """Tell whether ``crs`` is VN-2000 geographic or projected on the VN-2000 datum."""
    geodetic = crs.geodetic_crs
    if geodetic is None:
        return False
    if geodetic.to_epsg() == VN2000_GEOGRAPHIC_EPSG:
        return True
    return "vietnam 2000" in (geodetic.datum.name if geodetic.datum else "").lower()


@lru_cache(maxsize=1)
def _helmert_steps_6960() -> str:
    """Return the Cartesian Helmert steps of EPSG:6960 as PROJ pipeline steps (radians in/out)."""
    pipeline = CoordinateOperation.from_epsg(VN2000_TO_WGS84_EPSG).to_proj4()
    match = re.search(r"\+step \+proj=push.*\+step \+proj=pop \+v_3", pipeline)
    if match is None:  # the EPSG database changed shape: fail loudly, never fall back
        raise CRSError(f"unexpected PROJ definition of EPSG:{VN2000_TO_WGS84_EPSG}: {pipeline}")
    return match.group(0)


def helmert_towgs84_6960() -> tuple[float, ...]:
    """Return EPSG:6960 as the seven ``+towgs84`` numbers (position-vector convention)."""
    steps = _helmert_steps_6960()
    values = {k: float(v) for k, v in re.findall(r"\+(x|y|z|rx|ry|rz|s)=(-?[\d.]+)", steps)}
    if "convention=coordinate_frame" in steps:  # flip rotations to position vector
        for key in ("rx", "ry", "rz"):
            values[key] = -values[key]
    return tuple(values[k] for k in ("x", "y", "z", "rx", "ry", "rz", "s"))


def _projection_proj4(crs: CRS) -> str:
    """Return the bare projection of a projected CRS as a PROJ string (no datum, no +type)."""
    conversion = crs.coordinate_operation
    if conversion is None:
        raise CRSError(f"{crs.name}: projected CRS without a conversion")
    # "+proj=pipeline +step axisswap +step unitconvert +step +proj=tmerc ...": keep the last step
    return conversion.to_proj4().split("+step ")[-1].strip()


@lru_cache(maxsize=64)
def _vn2000_pipeline(crs_wkt: str) -> str:
    """Return the pipeline VN-2000 (projected or geographic, x=lon/easting) -> WGS 84 lon/lat."""
    crs = CRS.from_wkt(crs_wkt)
    if crs.is_projected:
        first = f"+step +inv {_projection_proj4(crs)}"
    else:
        first = "+step +proj=unitconvert +xy_in=deg +xy_out=rad"
    return (
        f"+proj=pipeline {first} {_helmert_steps_6960()} "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )


@lru_cache(maxsize=64)
def _transformer_to_storage(crs_wkt: str) -> Transformer:
    crs = CRS.from_wkt(crs_wkt)
    if is_vn2000(crs):
        return Transformer.from_pipeline(_vn2000_pipeline(crs_wkt))
    return Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)


def to_storage(
    x: np.ndarray | float, y: np.ndarray | float, source: str | int | CRS | None
) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates from ``source`` to storage lon/lat (EPSG:4326).

    VN-2000 sources always go through EPSG:6960.
    """
    crs = parse_crs(source)
    if crs == STORAGE_CRS:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = _transformer_to_storage(crs.to_wkt()).transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def from_storage(
    lon: np.ndarray | float, lat: np.ndarray | float, target: str | int | CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Transform storage lon/lat to ``target`` (x=lon/easting first); VN-2000 via EPSG:6960."""
    crs = parse_crs(target)
    if crs == STORAGE_CRS:
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    transformer = _transformer_to_storage(crs.to_wkt())
    if is_vn2000(crs):
        x, y = transformer.transform(lon, lat, direction="INVERSE")
    else:
        x, y = Transformer.from_crs(STORAGE_CRS, crs, always_xy=True).transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def vn2000_epsg_codes() -> list[int]:
    """Return the EPSG codes of every VN-2000 CRS (geographic, UTM and TM-3 zones) PROJ knows."""
    codes = {VN2000_GEOGRAPHIC_EPSG}
    for info in query_crs_info(auth_name="EPSG"):
        if info.name.startswith("VN-2000 /") and not info.deprecated:
            codes.add(int(info.code))
    return sorted(codes)


def vn2000_srid(epsg: int) -> int:
    """Return the custom PostGIS SRID that carries EPSG:6960 for VN-2000 CRS ``epsg``."""
    return CUSTOM_SRID_OFFSET + epsg


def postgis_srid(crs: CRS) -> int:
    """Return the SRID to use in ``ST_Transform`` for ``crs``: the custom one for VN-2000."""
    epsg = crs.to_epsg()
    if epsg is None:
        raise CRSError(f"CRS {crs.name!r} has no EPSG code; PostGIS cannot transform to it")
    return vn2000_srid(epsg) if is_vn2000(crs) else epsg


def vn2000_spatial_ref_rows() -> list[dict[str, object]]:
    """Return rows for ``spatial_ref_sys``: one custom SRID per VN-2000 CRS, pinned to EPSG:6960."""
    towgs84 = ",".join(repr(v) for v in helmert_towgs84_6960())
    rows: list[dict[str, object]] = []
    for epsg in vn2000_epsg_codes():
        crs = CRS.from_epsg(epsg)
        base = _projection_proj4(crs) if crs.is_projected else "+proj=longlat +ellps=WGS84"
        if "+ellps=" not in base:
            base += " +ellps=WGS84"
        proj4 = f"{base} +towgs84={towgs84} +no_defs"
        rows.append({"srid": vn2000_srid(epsg), "proj4text": proj4})
    return rows

