"""Road distances and times from :mod:`routing`, as an admissions distance source.

Grades 1 and 6 take the schools nearest by road *time* for the travel mode (motorbike by
default) as the default preference list, and rank applicants by road *distance* along the same
paths. A home too far from every road (rural Củ Chi, Cần Giờ or Bình Chánh on the 2018
network) gets straight-line distances at the mode's off-road speed and is flagged, not
refused (:class:`RoadNetwork`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import routing
from admissions.distance import StraightLine
from basemaps.roads import read_roads
from gis_service.errors import InvalidValueError
from routing.graph import ModeGraph
from routing.matrix import ODMatrix, od_matrix_snapped
from routing.nearest import Targets, k_nearest_arrays
from routing.snap import Snap, snap_points, snap_within
from routing.speeds import DEFAULT_MAX_OFFROAD_M


class RoadNetwork:
    """Distances along the road graph of one travel mode (``kind == "road"``).

    A home farther than ``max_offroad_m`` from every road of the mode is not refused: its
    distances to the schools are straight-line (great-circle), covered at the mode's
    off-road speed (``graph.profile.offroad_speed_kmh``, e.g. 8 km/h by motorbike), and
    :meth:`offroad` flags it so that its reason and the run's figures say so. A school that
    far from the roads is refused, named by its code.

    Parameters
    ----------
    graph
        Mode graph from :func:`routing.build_graph`.
    school_lon, school_lat
        Positions of the schools admitting the grade, in problem order.
    school_codes
        Their codes, named in errors (default: their positions).
    max_offroad_m
        Homes farther than this from every road get the straight-line fallback.
    """

    kind = "road"

    def __init__(
        self, graph: ModeGraph, school_lon: NDArray[np.float64], school_lat: NDArray[np.float64],
        school_codes: Sequence[str] | None = None, *,
        max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    ) -> None:
        if not max_offroad_m >= 0:
            raise InvalidValueError(f"max_offroad_m must be a non-negative number of metres,"
                                    f" not {max_offroad_m}")
        self.graph = graph
        self.max_offroad_m = float(max_offroad_m)
        self.schools_lonlat = np.column_stack(
            [np.asarray(school_lon, np.float64), np.asarray(school_lat, np.float64)]
        )
        m = self.schools_lonlat.shape[0]
        self.school_codes = [str(c) for c in school_codes] if school_codes is not None else [
            str(i) for i in range(m)]
        self._straight = StraightLine(self.schools_lonlat[:, 0], self.schools_lonlat[:, 1])
        self._offroad_mps = graph.profile.offroad_speed_kmh / 3.6
        self._school_snap: Snap | None = None

    def schools_snap(self) -> Snap:
        """Return the schools snapped to the graph (once); a school too far is refused."""
        if self._school_snap is None:
            self._school_snap = snap_points(
                self.graph, self.schools_lonlat[:, 0], self.schools_lonlat[:, 1],
                max_offroad_m=self.max_offroad_m, source="schools", labels=self.school_codes)
        return self._school_snap

    def offroad(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Flag the homes farther than ``max_offroad_m`` from every road of the mode."""
        _, near = snap_within(self.graph, lon, lat, max_offroad_m=self.max_offroad_m)
        return np.asarray(~near & np.isfinite(lon) & np.isfinite(lat), dtype=np.bool_)

    def nearest(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
        """Return the ``k`` schools nearest by road time, with distance and time along that path.

        Homes beyond reach of the roads get the ``k`` nearest in a straight line instead.
        """
        n = lon.shape[0]
        school = np.full((n, k), -1, dtype=np.int32)
        distance = np.full((n, k), np.nan)
        time_s = np.full((n, k), np.nan)
        if n == 0 or k == 0:
            return school, distance, time_s
        snap, near = snap_within(self.graph, lon, lat, max_offroad_m=self.max_offroad_m)
        if near.any():
            targets = Targets.from_snap(self.graph, self.schools_snap(), "time")
            found, cost_s, cost_m = k_nearest_arrays(self.graph, snap, targets, k)
            school[near] = found
            time_s[near] = np.where(found >= 0, cost_s, np.nan)
            distance[near] = np.where(found >= 0, cost_m, np.nan)
        far = ~near & np.isfinite(lon) & np.isfinite(lat)
        if far.any():
            school[far], distance[far], _ = self._straight.nearest(lon[far], lat[far], k)
            time_s[far] = distance[far] / self._offroad_mps
        return school, distance, time_s

    def pairs(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], school: NDArray[np.int32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Road distance and time from each home to given schools (fastest path by time).

        Homes beyond reach of the roads get straight-line distances at the off-road speed.
        """
        distance = np.full(school.shape, np.nan)
        time_s = np.full(school.shape, np.nan)
        if school.size == 0 or not np.any(school >= 0):
            return distance, time_s
        snap, near = snap_within(self.graph, lon, lat, max_offroad_m=self.max_offroad_m)
        if np.any(school[near] >= 0):
            matrix = od_matrix_snapped(self.graph, snap, self.schools_snap(), np.inf, "time")
            distance[near], time_s[near] = _lookup(matrix, school[near])
        far = ~near & np.isfinite(lon) & np.isfinite(lat)
        if far.any():
            distance[far], _ = self._straight.pairs(lon[far], lat[far], school[far])
            time_s[far] = distance[far] / self._offroad_mps
        return distance, time_s


def _lookup(matrix: ODMatrix, school: NDArray[np.int32]) -> tuple[NDArray[np.float64],
                                                                   NDArray[np.float64]]:
    """Return distance and time of each ``(row, school[row, j])`` in ``matrix`` (NaN: none)."""
    distance = np.full(school.shape, np.nan)
    time_s = np.full(school.shape, np.nan)
    m = matrix.shape[1]
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
    if keys.size == 0:
        return distance, time_s
    where = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = keys[where] == wanted
    time_s[rows[hit], cols[hit]] = stored_time.data[where[hit]]
    distance[rows[hit], cols[hit]] = stored_distance.data[where[hit]]
    return distance, time_s


def road_distances(roads: str | Path, schools: pd.DataFrame, mode: str = "motorbike",
                   max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> RoadNetwork:
    """Read a road file, build (or load from cache) the mode graph, wrap it for admissions.

    Parameters
    ----------
    roads
        OSM PBF/XML or GraphML file.
    schools
        The schools admitting the grade (``lon``, ``lat`` columns), in problem order.
    mode
        ``walk``, ``bicycle``, ``motorbike`` or ``car``.
    max_offroad_m
        Homes farther than this from every road get straight-line distances (see
        :class:`RoadNetwork`).
    """
    layer, _ = read_roads(roads)
    graph = routing.build_graph(layer, mode)
    codes = [str(c) for c in schools["code"]] if "code" in schools else None
    return RoadNetwork(
        graph, schools["lon"].to_numpy(dtype=np.float64), schools["lat"].to_numpy(dtype=np.float64),
        codes, max_offroad_m=max_offroad_m,
    )
