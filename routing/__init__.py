"""Road-network routing for edugis: per-mode graphs, snapping, k-nearest, matrices, isochrones.

Typical use::

    from basemaps.roads import read_roads
    import routing

    layer, _ = read_roads("hcmc.osm.pbf")
    graph = routing.build_graph(layer, "motorbike")        # cached on disk by layer.version
    table = routing.nearest_schools(graph, homes_lonlat, schools_lonlat, school_codes, k=10)

Every result is an exact shortest path on the mode graph (tests compare with networkx).
"""

from routing.cache import build_graph, default_cache_dir
from routing.graph import ModeGraph, compile_graph
from routing.isochrone import isochrones
from routing.matrix import ODMatrix, od_matrix
from routing.nearest import NearestIndex, nearest_schools
from routing.path import Route, route
from routing.snap import DEFAULT_MAX_OFFROAD_M, Snap, snap_one, snap_points
from routing.speeds import DEFAULT_PROFILES, MODES, ModeProfile, profile_for

snap = snap_one

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
]
