"""Road-network routing for edugis: per-mode graphs, snapping, k-nearest, matrices, isochrones.

Typical use::

    from basemaps.roads import read_roads
    import routing

    layer, _ = read_roads("hcmc.osm.pbf")
    graph = routing.build_graph(layer, "motorbike")        # cached on disk by layer.version
    table = routing.nearest_schools(graph, homes_lonlat, schools_lonlat, school_codes, k=10)

Every result is an exact shortest path on the mode graph (tests compare with networkx).

The public names below are imported on first use (PEP 562), so that importing one
submodule, or starting the ``edugis`` command, does not load numba, shapely and scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis_service.lazy import lazy_names

if TYPE_CHECKING:
    from routing.cache import build_graph, default_cache_dir
    from routing.graph import ModeGraph, compile_graph
    from routing.isochrone import isochrones
    from routing.matrix import ODMatrix, od_matrix
    from routing.nearest import NearestIndex, nearest_schools
    from routing.path import Route, route, trips
    from routing.snap import Snap, snap_one, snap_points
    from routing.snap import snap_one as snap
    from routing.speeds import DEFAULT_MAX_OFFROAD_M, DEFAULT_PROFILES, MODES, ModeProfile, profile_for

__all__ = [
    "DEFAULT_MAX_OFFROAD_M",
    "DEFAULT_PROFILES",
    "MODES",
    "ModeGraph",
    "ModeProfile",
    "NearestIndex",
    "ODMatrix",
    "Route",
    "Snap",
    "build_graph",
    "compile_graph",
    "default_cache_dir",
    "isochrones",
    "nearest_schools",
    "od_matrix",
    "profile_for",
    "route",
    "snap",
    "snap_one",
    "snap_points",
    "trips",
]

#: The submodule defining each public name (``snap`` is ``snap_one``).
_SOURCES: dict[str, str] = {
    **dict.fromkeys(("build_graph", "default_cache_dir"), "routing.cache"),
    **dict.fromkeys(("ModeGraph", "compile_graph"), "routing.graph"),
    "isochrones": "routing.isochrone",
    **dict.fromkeys(("ODMatrix", "od_matrix"), "routing.matrix"),
    **dict.fromkeys(("NearestIndex", "nearest_schools"), "routing.nearest"),
    **dict.fromkeys(("Route", "route", "trips"), "routing.path"),
    **dict.fromkeys(("Snap", "snap_one", "snap_points"), "routing.snap"),
    "snap": "routing.snap:snap_one",
    **dict.fromkeys(("DEFAULT_MAX_OFFROAD_M", "DEFAULT_PROFILES", "MODES", "ModeProfile",
                     "profile_for"), "routing.speeds"),
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_names(__name__, _SOURCES)
