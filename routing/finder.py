"""The finder's domain state: the road network in use, its mode graphs, prepared searches.

:class:`FinderState` loads the basemap in use (:mod:`basemaps.fetch`) and the schools from
PostGIS once, compiles a mode graph on first use (``routing.build_graph`` caches the arrays
on disk), prepares a :class:`PreparedSearch` per (mode, level) and follows the data versions
of :data:`FINDER_TABLES`, reloading in the background when they move (ARCHITECTURE.md §3).
The HTTP side (parameter checks, answers, the address search) is ``web/finder.py``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

import routing
from basemaps.fetch import current_basemap, load_road_layer
from basemaps.road_layer import RoadLayer
from gis_service.changes import DataVersions
from gis_service.directory import place_names, school_points
from gis_service.errors import InputError, StateError

LOG = logging.getLogger(__name__)
#: The most schools one nearest search answers (prepared searches label this many).
MAX_K = 20
#: Nearest schools of one home, by time: (code, time_s, distance_m).
Ranked = list[tuple[str, float, float]]
Waiter = asyncio.Future[Ranked]


class OffNetworkError(StateError):
    """The loaded road network does not reach the point (or the school) asked about.

    A state error, not bad input: the request is well formed, and the same one is answered
    once a road network covering the point is loaded. The web answers 409 ``OffRoadNetwork``
    (``web/errors.py``), as it answers 409 ``NoRoadNetwork`` with no road network at all.
    """


@dataclass
class RoadNetwork:
    """One basemap's graphs per mode plus the school arrays they are queried with."""

    basemap: str
    layer: RoadLayer
    graphs: dict[str, routing.ModeGraph]
    schools: pd.DataFrame
    by_code: dict[str, dict[str, Any]]
    #: prepared searches by (mode, level, ownership), built on first use
    prepared: dict[tuple[str, str | None, str | None], PreparedSearch] = field(default_factory=dict)


@dataclass
class PreparedSearch:
    """One level's schools on one mode graph, as a :class:`routing.NearestIndex`.

    The index labels every node with its ``MAX_K`` nearest schools once, so a request only
    snaps the home and combines one edge: the exact answer of
    :func:`routing.nearest_schools` in well under a millisecond. Most of that is fixed cost
    per call (array set-up, kernel dispatch), so :meth:`nearest_soon` answers the homes asked
    within one event-loop turn in one call.
    """

    index: routing.NearestIndex
    _pending: dict[asyncio.AbstractEventLoop, list[tuple[float, float, int, Waiter]]] = field(
        default_factory=dict, repr=False)

    @classmethod
    def build(cls, graph: routing.ModeGraph, schools: pd.DataFrame) -> PreparedSearch:
        """Snap ``schools`` and label every node with its ``MAX_K`` nearest by time.

        A school farther than 500 m from every road of the mode cannot be reached on it: it
        is left out of this mode's ranking (and logged) instead of failing every request.
        """
        xy = schools[["lon", "lat"]].to_numpy(dtype=np.float64)
        codes = schools["code"].tolist()
        try:
            return cls(routing.NearestIndex.build(graph, xy, codes, k=MAX_K))
        except InputError as exc:
            far = {p.row - 1 for p in exc.problems if p.row is not None}
            LOG.warning("%d school(s) too far from the %s roads, left out of its ranking: %s",
                        len(far), graph.mode, ", ".join(str(codes[i]) for i in sorted(far)))
            keep = [i for i in range(len(codes)) if i not in far]
            return cls(routing.NearestIndex.build(graph, xy[keep], [codes[i] for i in keep],
                                                  k=MAX_K))

    def nearest(self, lon: float, lat: float, k: int) -> Ranked:
        """Return the ``k`` nearest schools as (code, time_s, distance_m), by time."""
        return self.nearest_many([(lon, lat)], k)[0]

    def nearest_many(self, points: list[tuple[float, float]], k: int) -> list[Ranked]:
        """Answer :meth:`nearest` for several homes in one query (the same answers)."""
        try:
            lab, time_s, distance_m = self.index.query(points, k)
        except InputError as exc:
            raise OffNetworkError(f"the point is too far from the road network: {exc}") from exc
        codes = self.index.school_ids
        return [[(str(codes[lab[i, r]]), float(time_s[i, r]), float(distance_m[i, r]))
                 for r in range(lab.shape[1]) if lab[i, r] >= 0] for i in range(len(points))]

    async def nearest_soon(self, lon: float, lat: float, k: int) -> Ranked:
        """Answer :meth:`nearest` together with the other homes asked in this loop turn.

        Under load many requests are parsed in one turn of the event loop; they share one
        vectorised query (answers are per home and identical to :meth:`nearest`'s). Alone,
        a request waits for nothing but the end of the turn.
        """
        loop = asyncio.get_running_loop()
        waiter: Waiter = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._answer_pending, loop)
        pending.append((lon, lat, k, waiter))
        return await waiter

    def _answer_pending(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop)
        try:
            answers = self.nearest_many([(lon, lat) for lon, lat, _, _ in batch],
                                        max(k for _, _, k, _ in batch))
        except OffNetworkError:  # a home far from the roads: answer each on its own
            for lon, lat, k, waiter in batch:
                try:
                    answer = self.nearest(lon, lat, k)
                except Exception as exc:  # every waiter must hear of it
                    _settle(waiter, exc)
                else:
                    _settle(waiter, answer)
            return
        except Exception as exc:  # every waiter must hear of it
            for *_, waiter in batch:
                _settle(waiter, exc)
            return
        for (_, _, k, waiter), answer in zip(batch, answers, strict=True):
            _settle(waiter, answer[:k])


def _settle(waiter: Waiter, outcome: Ranked | Exception) -> None:
    if waiter.done():  # the request was cancelled (client gone)
        return
    if isinstance(outcome, Exception):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)


#: The tables the finder's road graphs, schools and place names are loaded from.
FINDER_TABLES = ("app_settings", "basemaps", "road_edges", "road_nodes", "schools", "admin_units")
#: After a failed reload, the finder tries again this many seconds later.
RELOAD_RETRY_S = 30


class FinderState:
    """Lazily loaded, thread-safe cache of the road network and the street-name index.

    It follows the data: :meth:`follow` compares the versions of :data:`FINDER_TABLES`
    with those it was loaded from and, when they moved (a school or road import), loads
    everything again in a background thread, the searches it had prepared included, while
    requests go on being answered from the old data; then swaps.
    """

    def __init__(self, versions: DataVersions | None = None) -> None:
        self._lock = threading.Lock()
        self._versions = versions if versions is not None else DataVersions()
        self._stamp: tuple[Any, ...] | None = None
        #: guards ``_reloading`` only, never held for long (the event loop takes it)
        self._reload_lock = threading.Lock()
        self._reloading = False
        self._retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._network: RoadNetwork | None = None
        self._loaded = False
        self._places: list[dict[str, Any]] | None = None

    def network(self, engine: Engine) -> RoadNetwork | None:
        """Return the basemap in use as a road network, or ``None`` when no roads are loaded."""
        with self._lock:
            if not self._loaded:
                self._stamp = self._versions.stamp(engine, FINDER_TABLES, fresh=True)
                self._network = load_network(engine)
                self._loaded = True
            return self._network

    def graph(self, engine: Engine, mode: str) -> tuple[RoadNetwork, routing.ModeGraph] | None:
        """Return the mode graph (compiled on first use)."""
        network = self.network(engine)
        if network is None:
            return None
        with self._lock:
            return network, _mode_graph(network, mode)

    def prepared(self, engine: Engine, mode: str, level: str | None, ownership: str | None = None
                 ) -> tuple[RoadNetwork, PreparedSearch] | None:
        """Return the prepared search of ``level``'s schools on ``mode`` (built on first use).

        ``ownership`` (public or private) keeps only those schools, so that the ``MAX_K``
        nearest of that kind are found, not those among the ``MAX_K`` nearest of all. It
        comes with the network it belongs to (its schools name the search's answers).
        """
        found = self.graph(engine, mode)
        if found is None:
            return None
        network, graph = found
        with self._lock:
            key = (mode, level, ownership)
            if key not in network.prepared:
                network.prepared[key] = _prepare(network, graph, level, ownership)
            return network, network.prepared[key]

    def warm(self, mode: str, level: str | None, ownership: str | None = None
             ) -> tuple[RoadNetwork, PreparedSearch] | None:
        """Return the prepared search when it is built already, else ``None``.

        Never waits for the lock, so the event loop can answer warm requests while another
        thread builds a search.
        """
        network = self._network  # one read: the search and its schools belong together
        search = network.prepared.get((mode, level, ownership)) if network is not None else None
        return (network, search) if search is not None and network is not None else None

    def places(self, engine: Engine) -> list[dict[str, Any]]:
        """Named streets and wards with a representative point, for address search."""
        with self._lock:
            if self._places is None:
                self._places = place_names(engine)
            return self._places

    def follow(self, engine: Engine) -> threading.Thread | None:
        """Start reloading in the background when the finder's tables changed; return the thread.

        Changes are those since the tables were loaded (seen within
        :attr:`DataVersions.max_age_s`); the thread is ``None`` when nothing is reloaded.
        Never blocks: safe on the event loop.
        """
        if not self._loaded or self._reloading or time.monotonic() < self._retry_at:
            return None
        if self._versions.stamp(engine, FINDER_TABLES) == self._stamp:
            return None
        with self._reload_lock:
            if self._reloading:
                return None
            self._reloading = True
        thread = threading.Thread(target=self._reload, args=(engine,), name="finder-reload",
                                  daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def join(self, timeout_s: float = 60.0) -> None:
        """Wait for a reload under way (before the engine is disposed)."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._versions.join()

    def _reload(self, engine: Engine) -> None:
        """Load the network again with what was prepared before, then swap it in.

        After a failure, keep the old data and try again in :data:`RELOAD_RETRY_S` seconds.
        """
        try:
            stamp = self._versions.stamp(engine, FINDER_TABLES, fresh=True)
            network = load_network(engine)
            old = self._network
            if network is not None and old is not None:
                for mode in list(old.graphs):
                    _mode_graph(network, mode)
                for mode, level, ownership in list(old.prepared):
                    network.prepared[mode, level, ownership] = _prepare(
                        network, _mode_graph(network, mode), level, ownership)
            places = place_names(engine) if self._places is not None else None
        except Exception:  # keep answering from the old data
            LOG.exception("could not reload the finder's data; the previous data stays in use "
                          "and the reload is tried again in %d s", RELOAD_RETRY_S)
            with self._reload_lock:
                self._retry_at = time.monotonic() + RELOAD_RETRY_S
                self._reloading = False
            return
        with self._lock:
            self._network, self._places, self._stamp = network, places, stamp
        with self._reload_lock:
            self._reloading = False
        LOG.info("finder reloaded: basemap %s, %d schools",
                 network.basemap if network else "none", len(network.by_code) if network else 0)


def _mode_graph(network: RoadNetwork, mode: str) -> routing.ModeGraph:
    """Return the network's graph of ``mode``, compiled (or read from the disk cache) on first use."""
    if mode not in network.graphs:
        network.graphs[mode] = routing.build_graph(network.layer, mode)
    return network.graphs[mode]


def _prepare(network: RoadNetwork, graph: routing.ModeGraph, level: str | None,
             ownership: str | None = None) -> PreparedSearch:
    """Return the prepared search of ``level``'s schools (every school for ``None``) on ``graph``.

    ``ownership`` keeps only the public or the private ones (``None``: both).
    """
    schools = network.schools
    if level is not None:
        schools = schools[schools["level"] == level]
    if ownership is not None:
        schools = schools[schools["ownership"] == ownership]
    return PreparedSearch.build(graph, schools.reset_index(drop=True))


def load_network(engine: Engine) -> RoadNetwork | None:
    """Load the basemap in use (:mod:`basemaps.in_use`) and the schools."""
    basemap = current_basemap(engine)
    if basemap is None:
        return None
    layer = load_road_layer(engine, basemap)
    if layer.edges.empty:
        return None
    schools = school_points(engine)
    by_code = {row["code"]: row for row in schools.to_dict("records")}
    return RoadNetwork(basemap=basemap, layer=layer, graphs={}, schools=schools, by_code=by_code)
