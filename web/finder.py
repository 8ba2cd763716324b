"""Parents' finder over HTTP: address search, nearest schools and isochrones by road.

The domain state (road network in use, mode graphs, prepared searches) is
:class:`routing.finder.FinderState`; here the parameters are checked and the answers built.
When no road network is loaded, nearest falls back to straight-line distance and says so
(``method: "crow"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

import routing
from gis_service.errors import InputError
from gis_service.geocoder import search as search_places
from gis_service.levels import SCHOOL_LEVELS
from gis_service.models import OWNERSHIPS
from gis_service.spatial import nearest_schools_crow
from routing.finder import MAX_K, FinderState, OffNetworkError, PreparedSearch, Ranked
from web.errors import ApiError, BadRequestError

__all__ = ["FINDER_MODES", "MAX_K", "OWNERSHIPS", "FinderState", "OffNetworkError", "check_point", "geocode",
           "isochrone", "nearest", "road_answer", "road_body"]

FINDER_MODES = ("motorbike", "walk", "bicycle")


def geocode(state: FinderState, engine: Engine, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Find streets (by section), wards and districts matching ``query`` (diacritics optional).

    ``"street, ward"`` finds the street's section in that ward; see
    :func:`gis_service.geocoder.search`.
    """
    query = query.strip()
    if not 2 <= len(query) <= 100:
        raise BadRequestError("address search needs 2 to 100 characters")
    return search_places(state.places(engine), query, limit)


def check_point(lon: float, lat: float) -> None:
    """Refuse with 400 unless lon/lat are finite WGS84 coordinates."""
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequestError(f"lon/lat out of range: {lon}, {lat}")


def nearest(state: FinderState, engine: Engine, lon: float, lat: float, level: str | None,
            mode: str, k: int, ownership: str | None = None) -> dict[str, Any]:
    """Find the ``k`` nearest schools of ``level`` from a home, by road time for ``mode``.

    ``ownership`` (public or private) ranks only those schools: the ``k`` nearest private
    schools, not the private ones among the ``k`` nearest.

    Returns
    -------
    dict
        ``method`` (``"road"`` or ``"crow"``), ``mode`` and ``schools`` (rank, code, name,
        level, ownership, lon, lat, ``distance_m``, ``time_s`` — ``None`` for crow-flies).
    """
    check_point(lon, lat)
    if level is not None and level not in SCHOOL_LEVELS:
        raise BadRequestError(f"unknown level {level!r}; one of {', '.join(SCHOOL_LEVELS)}")
    if mode not in FINDER_MODES:
        raise BadRequestError(f"unknown mode {mode!r}; one of {', '.join(FINDER_MODES)}")
    if not 1 <= k <= MAX_K:
        raise BadRequestError(f"k must be within 1..{MAX_K}")
    if ownership is not None and ownership not in OWNERSHIPS:
        raise BadRequestError(f"unknown ownership {ownership!r}; one of {', '.join(OWNERSHIPS)}")
    found = state.prepared(engine, mode, level, ownership)
    if found is None:
        # crow-flies: the nearest of every kind, then those of the asked ownership (the
        # fallback is rare and the scan cheap, so ask for every school of the level)
        rows = nearest_schools_crow(engine, lon, lat, k if ownership is None else 100_000, level)
        rows = [r for r in rows if ownership is None or r["ownership"] == ownership][:k]
        return {"method": "crow", "mode": None, "schools": [
            {"rank": i + 1, **{c: r[c] for c in ("code", "name", "level", "ownership", "lon", "lat")},
             "distance_m": round(float(r["distance_m"]), 1), "time_s": None}
            for i, r in enumerate(rows)]}
    network, search = found
    return road_answer(network.basemap, search, network.by_code, lon, lat, mode, k)


def road_answer(basemap: str, search: PreparedSearch, by_code: dict[str, dict[str, Any]],
                lon: float, lat: float, mode: str, k: int) -> dict[str, Any]:
    """Return the JSON answer of :func:`nearest` from a prepared search (no database access)."""
    return road_body(basemap, by_code, mode, search.nearest(lon, lat, k))


def road_body(basemap: str, by_code: dict[str, dict[str, Any]], mode: str,
              ranked: Ranked) -> dict[str, Any]:
    """Return the JSON answer of :func:`nearest` from the ranked schools of a prepared search."""
    result = []
    for rank, (code, time_s, distance_m) in enumerate(ranked, start=1):
        school = by_code[code]
        result.append({"rank": rank, "code": code, "name": school["name"], "level": school["level"],
                       "ownership": school["ownership"], "lon": float(school["lon"]),
                       "lat": float(school["lat"]), "distance_m": round(distance_m, 1),
                       "time_s": round(time_s, 1)})
    return {"method": "road", "mode": mode, "basemap": basemap, "schools": result}


def isochrone(state: FinderState, engine: Engine, lon: float, lat: float, mode: str,
              minutes: tuple[float, ...]) -> dict[str, Any]:
    """Return the areas reachable from a home within each of ``minutes`` by road, as GeoJSON.

    Raises
    ------
    ApiError
        409 when no road network is loaded (isochrones need roads; there is no fallback),
        or when it does not reach the home (:class:`OffNetworkError`).
    """
    check_point(lon, lat)
    if mode not in FINDER_MODES:
        raise BadRequestError(f"unknown mode {mode!r}; one of {', '.join(FINDER_MODES)}")
    if not minutes or len(minutes) > 4 or not all(0 < m <= 60 for m in minutes):
        raise BadRequestError("minutes must be 1 to 4 values within (0, 60]")
    found = state.graph(engine, mode)
    if found is None:
        raise ApiError(409, "NoRoadNetwork", "no road network is loaded; isochrones need one")
    try:
        return routing.isochrones(found[1], lon, lat, minutes)
    except InputError as exc:
        raise OffNetworkError(f"the point is too far from the road network: {exc}") from exc
