"""Road distances and times from :mod:`routing`, as an admissions distance source.

Grades 1 and 6 take the schools nearest by road *time* for the travel mode (motorbike by
default) as the default preference list, and rank applicants by road *distance* along the same
paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import routing
from basemaps.roads import read_roads
from routing.graph import ModeGraph


class RoadNetwork:
    """Distances along the road graph of one travel mode (``kind == "road"``).

    Parameters
    ----------
    graph
        Mode graph from :func:`routing.build_graph`.
    school_lon, school_lat
        Positions of the schools admitting the grade, in problem order.
    """

    kind = "road"

    def __init__(
        self, graph: ModeGraph, school_lon: NDArray[np.float64], school_lat: NDArray[np.float64]
    ) -> None:
        self.graph = graph
        self.schools_lonlat = np.column_stack(
            [np.asarray(school_lon, np.float64), np.asarray(school_lat, np.float64)]
        )

    def nearest(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
        """Return the ``k`` schools nearest by road time, with distance and time along that path."""
        n = lon.shape[0]
        school = np.full((n, k), -1, dtype=np.int32)
        distance = np.full((n, k), np.nan)
        time_s = np.full((n, k), np.nan)
        if n == 0 or k == 0:
            return school, distance, time_s
        table = routing.nearest_schools(
            self.graph,
            np.column_stack([lon, lat]),
            self.schools_lonlat,
            list(range(self.schools_lonlat.shape[0])),
            k=k,
            weight="time",
            origin_ids=list(range(n)),
        )
        row = table["origin_id"].to_numpy(dtype=np.int64)
        rank = table["rank"].to_numpy(dtype=np.int64) - 1
        school[row, rank] = table["school_code"].to_numpy(dtype=np.int32)
        distance[row, rank] = table["distance_m"].to_numpy(dtype=np.float64)
        time_s[row, rank] = table["time_s"].to_numpy(dtype=np.float64)
        return school, distance, time_s

    def pairs(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], school: NDArray[np.int32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Road distance and time from each home to given schools (fastest path by time)."""
        distance = np.full(school.shape, np.nan)
        time_s = np.full(school.shape, np.nan)
        if school.size == 0 or not np.any(school >= 0):
            return distance, time_s
        matrix = routing.od_matrix(
            self.graph, np.column_stack([lon, lat]), self.schools_lonlat, np.inf, "time"
        )
        m = self.schools_lonlat.shape[0]
        stored_time = matrix.time_s.tocsr()
        stored_time.sort_indices()
        stored_distance = matrix.distance_m.tocsr()
        stored_distance.sort_indices()
        counts = np.diff(stored_time.indptr)
        keys = np.repeat(np.arange(stored_time.shape[0], dtype=np.int64), counts) * m + (
            stored_time.indices.astype(np.int64)
        )
        rows, cols = np.nonzero(school >= 0)
        wanted = rows.astype(np.int64) * m + school[rows, cols].astype(np.int64)
        where = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
        found = keys.size > 0 and True
        hit = (keys[where] == wanted) if found else np.zeros(wanted.size, dtype=bool)
        time_s[rows[hit], cols[hit]] = stored_time.data[where[hit]]
        distance[rows[hit], cols[hit]] = stored_distance.data[where[hit]]
        return distance, time_s


def road_distances(roads: str | Path, schools: pd.DataFrame, mode: str = "motorbike") -> RoadNetwork:
    """Read a road file, build (or load from cache) the mode graph, wrap it for admissions.

    Parameters
    ----------
    roads
        OSM PBF/XML or GraphML file.
    schools
        The schools admitting the grade (``lon``, ``lat`` columns), in problem order.
    mode
        ``walk``, ``bicycle``, ``motorbike`` or ``car``.
    """
    layer, _ = read_roads(roads)
    graph = routing.build_graph(layer, mode)
    return RoadNetwork(
        graph, schools["lon"].to_numpy(dtype=np.float64), schools["lat"].to_numpy(dtype=np.float64)
    )
