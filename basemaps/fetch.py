"""Read stored layers back from PostGIS for routing, admissions and forecasting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.in_use import basemap_in_use
from basemaps.road_layer import RoadLayer
from gis_service.errors import NotFoundError
from gis_service.levels import school_level


def basemap_names(engine: Engine) -> list[str]:
    """Return the names of the imported basemaps, newest first."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT name FROM basemaps ORDER BY imported_at DESC, name")).scalars())


def current_basemap(engine: Engine) -> str | None:
    """Return the basemap in use (:mod:`basemaps.in_use`); ``None`` when no road network is imported."""
    with engine.connect() as conn:
        return basemap_in_use(conn)


def load_road_layer(engine: Engine, basemap: str | None = None) -> RoadLayer:
    """Load the stored road layer ``basemap`` (default: the basemap in use).

    The layer's ``version`` is the digest of what is stored now: the one recorded at import
    when the rows are as imported (so routing caches built from the file and from the
    database share their key), another when the rows were edited since (so no cache of the
    old roads is used).
    """
    names = basemap_names(engine)
    name = basemap or current_basemap(engine)
    if name is None:
        raise NotFoundError("chưa nhập mạng đường: chạy `edugis import roads FILE` (OSM .pbf,"
                            " GraphML hoặc tệp đường GIS) / no road network imported yet: run"
                            " `edugis import roads FILE` (OSM .pbf, GraphML or a GIS lines file)")
    if name not in names:
        raise NotFoundError(f"unknown basemap {name!r}; imported: {', '.join(names)}")
    with engine.connect() as conn:
        source = conn.execute(sa.text(
            "SELECT source FROM basemaps WHERE name = :n"), {"n": name}).scalar_one()
        nodes = pd.DataFrame(conn.execute(sa.text(
            "SELECT node_id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM road_nodes"
            " WHERE basemap = :n ORDER BY node_id"), {"n": name}).all(),
            columns=["node_id", "lon", "lat"])
        rows = conn.execute(sa.text(
            "SELECT u, v, osm_id, highway, oneway, maxspeed_kmh, access, name, length_m,"
            " ST_AsBinary(geom) FROM road_edges WHERE basemap = :n ORDER BY edge_id"),
            {"n": name}).all()
    edges = pd.DataFrame(rows, columns=["u", "v", "osm_id", "highway", "oneway", "maxspeed_kmh",
                                        "access", "name", "length_m", "wkb"])
    edges["geometry"] = shapely.from_wkb(edges.pop("wkb").to_numpy())
    edges["maxspeed_kmh"] = edges["maxspeed_kmh"].astype(np.float64)
    nodes["node_id"] = nodes["node_id"].astype(np.int64)
    return RoadLayer(nodes=nodes, edges=edges, source=f"postgis:{name} ({source})")


def load_schools(engine: Engine, level: str | None = None) -> pd.DataFrame:
    """Schools as the school CSV contract (``code,name,level,ownership,lon,lat,...``)."""
    if level is not None:
        school_level(level)  # an unknown level is refused, naming the known ones
    with engine.connect() as conn:
        result = conn.execute(sa.text(
            "SELECT code, name, level, ownership, ST_X(geom) AS lon, ST_Y(geom) AS lat,"
            " district_code, ward_code, address, capacity_grade1, capacity_grade6,"
            " capacity_grade10 FROM schools WHERE (CAST(:level AS text) IS NULL OR level = :level)"
            " ORDER BY code"), {"level": level})
        return pd.DataFrame(result.all(), columns=list(result.keys()))
