"""Where applicant-to-school distances come from: a function argument, never a hidden default.

A :class:`DistanceSource` answers two questions for many applicants at once: the ``k`` nearest
schools (the default preference list of grades 1 and 6) and the distance to given schools
(stated choices). :class:`StraightLine` uses great-circle distances and says so
(``kind == "straight_line"``); a road source from :mod:`routing` reports ``"road"``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8


class DistanceSource(Protocol):
    """Distances from applicants' homes to schools."""

    kind: str

    def nearest(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
        """School index, distance_m and time_s of the ``k`` nearest schools, nearest first.

        Rows with fewer reachable schools are padded with ``-1`` / NaN.
        """
        ...

    def pairs(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], school: NDArray[np.int32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """distance_m and time_s from each home to the schools in ``school`` (``-1`` -> NaN)."""
        ...

    def offroad(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which homes are too far from the roads: their distances are straight-line.

        A road source gives such a home (one farther than its ``max_offroad_m`` from every
        road of the mode) straight-line distances covered at the mode's off-road speed
        instead of refusing it; a straight-line source flags no home.
        """
        ...


def haversine_m(
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
    lon2: NDArray[np.float64],
    lat2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle distance in metres between points in degrees (broadcasting)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2) - np.radians(lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))))


def _unit_vectors(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


class StraightLine:
    """Great-circle ("as the crow flies") distances; no travel time (NaN).

    Only for file mode without a road network; results must be labelled straight-line.
    """

    kind = "straight_line"

    def __init__(self, school_lon: NDArray[np.float64], school_lat: NDArray[np.float64]) -> None:
        self.school_lon = np.asarray(school_lon, dtype=np.float64)
        self.school_lat = np.asarray(school_lat, dtype=np.float64)
        # Chord length on the unit sphere is monotone in great-circle distance, so a k-d tree
        # on unit vectors finds the nearest schools exactly.
        self._tree = cKDTree(_unit_vectors(self.school_lon, self.school_lat))

    def nearest(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
        """Return the ``k`` nearest schools by great-circle distance."""
        n, m = lon.shape[0], self.school_lon.shape[0]
        kk = min(k, m)
        school = np.full((n, k), -1, dtype=np.int32)
        distance = np.full((n, k), np.nan)
        if kk and n:
            _, found = self._tree.query(_unit_vectors(lon, lat), k=kk)
            found = np.asarray(found, dtype=np.int64).reshape(n, kk)
            school[:, :kk] = found
            distance[:, :kk] = haversine_m(
                lon[:, None], lat[:, None], self.school_lon[found], self.school_lat[found]
            )
            # re-sort by the exact distance, nearest first, ties by school index
            order = np.lexsort((school[:, :kk], distance[:, :kk]), axis=1)
            school[:, :kk] = np.take_along_axis(school[:, :kk], order, axis=1)
            distance[:, :kk] = np.take_along_axis(distance[:, :kk], order, axis=1)
        return school, distance, np.full((n, k), np.nan)

    def pairs(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], school: NDArray[np.int32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Great-circle distance to the given schools."""
        safe = np.where(school >= 0, school, 0)
        distance = haversine_m(
            lon[:, None], lat[:, None], self.school_lon[safe], self.school_lat[safe]
        )
        distance = np.where(school >= 0, distance, np.nan)
        return distance, np.full(school.shape, np.nan)

    def offroad(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Flag no home: every distance of this source is straight-line already."""
        return np.zeros(np.shape(lon), dtype=np.bool_)
