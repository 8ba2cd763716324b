"""The road layer: the one shape in which every road source reaches the rest of edugis.

Readers (OSM PBF/XML, osmnx GraphML, the database) all return a :class:`RoadLayer`;
routing compiles it to per-mode graphs; the importer stores it in ``road_nodes`` /
``road_edges``.

Contract
--------
``nodes``: ``pandas.DataFrame`` indexed by nothing, columns

- ``node_id`` (int64, unique): the OSM node id (or a generated id),
- ``lon``, ``lat`` (float64, EPSG:4326).

``edges``: ``pandas.DataFrame``, one row per OSM way segment between two graph nodes
*as drawn*, i.e. not duplicated for the reverse direction; columns

- ``u``, ``v`` (int64): node ids, in drawing order (``oneway=True`` means only u->v),
- ``osm_id`` (int64): the way id (0 when unknown),
- ``highway`` (str): the OSM highway class (first value when a list),
- ``oneway`` (bool): travel only from ``u`` to ``v`` for vehicles
  (``oneway=-1`` is resolved by the reader by swapping ``u`` and ``v``),
- ``maxspeed_kmh`` (float64, NaN when absent),
- ``access`` (str, "" when absent): the most restrictive of access/motor_vehicle/...,
- ``name`` (str, "" when absent),
- ``length_m`` (float64): geodesic length along the geometry,
- ``geometry`` (shapely LineString, EPSG:4326) from ``u`` to ``v``.

``version``: a short hex digest that changes whenever nodes or edges change; routing
caches are keyed by it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NODE_COLUMNS = ["node_id", "lon", "lat"]
EDGE_COLUMNS = [
    "u", "v", "osm_id", "highway", "oneway", "maxspeed_kmh", "access", "name", "length_m",
    "geometry",
]


@dataclass
class RoadLayer:
    """Road nodes and edges in the contract above, with a content version."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    source: str = ""
    version: str = field(default="")
    #: OSM house numbers read with the roads (``housenumber``, ``street``, ``lon``, ``lat``),
    #: stored in ``address_points``; ``None`` when the source has none (not in ``version``).
    addresses: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Refuse missing columns; compute the content version unless one is given."""
        missing_n = set(NODE_COLUMNS) - set(self.nodes.columns)
        missing_e = set(EDGE_COLUMNS) - set(self.edges.columns)
        if missing_n or missing_e:
            raise ValueError(f"road layer lacks columns: {sorted(missing_n | missing_e)}")
        if not self.version:
            self.version = content_version(self.nodes, self.edges)

    @property
    def node_count(self) -> int:
        """Number of road nodes."""
        return len(self.nodes)

    @property
    def edge_count(self) -> int:
        """Number of road edges."""
        return len(self.edges)


def content_version(nodes: pd.DataFrame, edges: pd.DataFrame) -> str:
    """Digest of the routable content (ids, coordinates, classes, one-way, speeds)."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(np.ascontiguousarray(nodes["node_id"].to_numpy(np.int64)).tobytes())
    digest.update(np.round(nodes[["lon", "lat"]].to_numpy(np.float64), 7).tobytes())
    digest.update(np.ascontiguousarray(edges[["u", "v"]].to_numpy(np.int64)).tobytes())
    digest.update(edges["oneway"].to_numpy(bool).tobytes())
    digest.update(np.nan_to_num(edges["maxspeed_kmh"].to_numpy(np.float64), nan=-1).tobytes())
    digest.update(np.round(edges["length_m"].to_numpy(np.float64), 3).tobytes())
    digest.update("\x1f".join(edges["highway"].astype(str)).encode())
    digest.update("\x1f".join(edges["access"].astype(str)).encode())
    return digest.hexdigest()
