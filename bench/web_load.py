"""Benchmark: nearest-schools API and vector tiles under 50 concurrent clients on loopback.

Target: p95 under 50 ms for ``/api/nearest`` and for a base-map tile at 50 concurrent
clients. Baseline, measured in the same run: the same questions answered the naive way in
one process without concurrency (``routing.nearest_schools`` per request, i.e. a whole-graph
search each time; ``ST_AsMVT`` per tile with no cache).

Every client comes from its own loopback address (127.0.0.x; Linux routes all of 127/8 to
lo), as distinct users do to the per-address rate limit (web.rate_limit). Two more profiles
(issue 12.12):

- ``mixed``: 60 % ``/api/nearest``, 25 % tiles, 15 % small OGC feature pages (schools and
  roads in a small bbox, wards); target p95 < 100 ms at 50 clients with 0 errors (any
  answer but 200 is one, a 429 included). Printed beside its p95 at 1 client.
- ``abusive``: the same normal users while 10 more clients (127.0.200.x) page through the
  whole roads collection with ``limit=10000`` back to back, as a script would, honouring
  ``Retry-After`` on a 429 (urllib3's default); target: the normal users' p95 < 200 ms.
  Baseline in the same run: the same load on a server started with the rate limit off
  (``EDUGIS_RATE_LIMIT_PER_S=0``); ratio baseline / limited p95 (``--no-unlimited`` skips
  it).

All clients send ``Accept-Encoding: gzip``, as browsers and HTTP libraries do.

The app runs as ``edugis serve`` runs it by default (one uvicorn worker per core, each
preparing the finder's searches before it accepts, no access log; ``--workers`` and
``--access-log`` override) against a database holding the demo city (database
``edugis_bench`` on the configured server, loaded on first run). Every /api/nearest request
is a distinct random home; tiles are a random spread of z13-z16 over the city, answered
from the workers' tile caches after a warm-up (a tile only changes with the data: the cache
keeps it while the versions of its tables stay the same, read every 2 s). The load
generator shares the cores with the server, so it is kept lean: bare asyncio protocols on
keep-alive HTTP/1.1 connections (uvloop when installed). Each run prints the CPU per
request of the server and of the load generator: on a shared machine latency depends on
whatever else runs, CPU per request much less.

Run: ``.venv/bin/python bench/web_load.py [--clients 50] [--requests 2000] [--workers N]
[--access-log] [--abusers 10] [--no-unlimited]``
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis_service import db  # noqa: E402
from web.cli import default_workers  # noqa: E402

T = TypeVar("T")


def bench_database() -> str:
    """URL of ``edugis_bench`` with the demo city, created and loaded when needed."""
    url = make_url(db.server_url()).set(database="edugis_bench").render_as_string(hide_password=False)
    db.prepare(url)
    engine = db.create_engine(url)
    with engine.connect() as conn:
        schools = conn.execute(sa.text("SELECT count(*) FROM schools WHERE code LIKE 'DM-%'")).scalar()
    if not schools:
        from basemaps.demo_city import generate_demo_city
        from web.demo_data import load_demo_city

        print("loading the demo city into edugis_bench ...", flush=True)
        load_demo_city(engine, generate_demo_city())
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def ogc_pages(seed: int, count: int) -> list[str]:
    """Small OGC feature pages a map or a GIS client asks for: schools and roads in a box of a
    few hundred metres, wards by district."""
    rng = random.Random(seed)
    pages = []
    for _ in range(count):
        lon, lat = rng.uniform(106.60, 106.78), rng.uniform(10.70, 10.84)
        kind = rng.random()
        if kind < 0.4:
            pages.append(f"/ogc/collections/schools/items?bbox={lon - 0.01:.4f},{lat - 0.01:.4f},"
                         f"{lon + 0.01:.4f},{lat + 0.01:.4f}&limit=20")
        elif kind < 0.8:
            pages.append(f"/ogc/collections/roads/items?bbox={lon - 0.002:.4f},{lat - 0.002:.4f},"
                         f"{lon + 0.002:.4f},{lat + 0.002:.4f}&limit=50")
        else:
            pages.append(f"/ogc/collections/wards/items?limit=5&offset={rng.randint(0, 40)}")
    return pages


def mixed_workload(seed: int, homes: list[str], tiles: list[str], count: int) -> list[str]:
    """``count`` requests: 60 % nearest, 25 % tiles, 15 % OGC feature pages, shuffled."""
    rng = random.Random(seed)
    pages = ogc_pages(seed + 1, count)
    return [rng.choice(homes) if r < 0.60 else rng.choice(tiles) if r < 0.85 else pages[i]
            for i, r in enumerate(rng.random() for _ in range(count))]


def workload(seed: int, count: int) -> tuple[list[str], list[str]]:
    """Random homes in the demo city for /api/nearest, and tiles z13-z16 over it."""
    rng = random.Random(seed)
    homes, tiles = [], []
    for _ in range(count):
        lon, lat = rng.uniform(106.59, 106.79), rng.uniform(10.69, 10.85)
        level = rng.choice(["primary", "lower_secondary"])
        homes.append(f"/api/nearest?lon={lon:.5f}&lat={lat:.5f}&level={level}&k=5")
    for _ in range(count):
        z = rng.randint(13, 16)
        x, y = tile_of(rng.uniform(106.59, 106.79), rng.uniform(10.69, 10.85), z)
        tiles.append(f"/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}")
    return homes, tiles


class _Head:
    """The status line and framing of an HTTP/1.1 answer being read."""

    __slots__ = ("body_at", "chunked", "head", "length", "status")

    def __init__(self, buffer: bytearray) -> None:
        end = buffer.find(b"\r\n\r\n")
        self.body_at = end + 4 if end >= 0 else -1
        self.head = bytes(buffer[:end]).lower() if end >= 0 else b""
        self.status = int(self.head[9:12]) if end >= 0 else 0
        self.chunked = b"transfer-encoding: chunked" in self.head
        self.length = int(self.header(b"content-length") or 0)

    def header(self, name: bytes) -> bytes | None:
        """Return the value of header ``name`` (lower case), ``None`` when absent."""
        at = self.head.find(name + b":")
        return self.head[at + len(name) + 1:].split(b"\r\n", 1)[0].strip() if at >= 0 else None

    def complete(self, buffer: bytearray) -> bool:
        """Tell whether ``buffer`` holds the whole answer."""
        if self.chunked:
            return buffer.endswith(b"0\r\n\r\n")
        return len(buffer) >= self.body_at + self.length


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending GETs one at a time from its list.

    A bare protocol, no streams, tasks or futures per request: the next request is written
    from ``data_received`` as soon as the previous answer is complete. On a small machine
    the load generator shares the cores with the server, so its CPU per request must stay
    well below the app's (httpx costs more than the app does).
    """

    def __init__(self, requests: list[tuple[str, bytes]], latencies: list[float],
                 done: asyncio.Future[None], errors: list[str] | None = None) -> None:
        self.requests, self.latencies, self.done = requests, latencies, done
        self.errors = errors  # when given, a non-200 answer is counted there, not fatal
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.url = ""
        self.started = 0.0
        self.answer: _Head | None = None  # once the head is read
        self.waiting = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        # no Nagle: a request is one small write, and Nagle plus delayed ACKs adds 40 ms
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if not self.requests:
            self.transport.close()
            return
        self.url, request = self.requests.pop()
        self.buffer.clear()
        self.answer = None
        self.waiting = True
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.answer is None:
            answer = _Head(buffer)
            if answer.body_at < 0:
                return
            if answer.status != 200 and self.errors is None:
                self._fail(f"{self.url}: HTTP {answer.status} {bytes(buffer[:500])!r}")
                return
            self.answer = answer
        if not self.answer.complete(buffer):
            return
        self.latencies.append((time.perf_counter() - self.started) * 1000)
        if self.answer.status != 200 and self.errors is not None:
            self.errors.append(f"{self.url}: HTTP {self.answer.status}")
        self.waiting = False
        self._next()

    def _fail(self, message: str) -> None:
        if not self.done.done():
            self.done.set_exception(RuntimeError(message))
        assert self.transport is not None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is not None:
            self.done.set_exception(exc)
        elif self.waiting:
            self.done.set_exception(RuntimeError(f"connection closed during {self.url}"))
        else:
            self.done.set_result(None)


def encode(host: str, port: str, url: str) -> bytes:
    """One GET as a browser sends it (gzip accepted)."""
    return (f"GET {url} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n"
            f"Accept-Encoding: gzip, deflate\r\n\r\n").encode()


ABUSERS_BLOCK = 200  # abusers are 127.0.200.x; normal clients count up from 127.0.0.2
_next_client = itertools.count()


def client_address(index: int, block: int = 0) -> str:
    """The loopback address of client ``index`` of ``block`` (never 127.0.0.1, the proxy the
    server trusts for X-Forwarded-For)."""
    return f"127.0.{block + index // 250}.{index % 250 + 2}"


async def hammer(base: str, urls: list[str], clients: int,
                 errors: list[str] | None = None) -> np.ndarray:
    """Send ``urls`` over ``clients`` concurrent keep-alive connections, each from its own
    loopback address, new at each call (:func:`client_address`: one user each, as the rate
    limit sees them) with its own share of ``urls``; latencies in ms. With ``errors`` a
    non-200 answer is listed there, else it stops the run.
    """
    host, port = base.removeprefix("http://").split(":")
    # requests encoded before the clock starts; popped from the end, so reversed
    requests = [(url, encode(host, port, url)) for url in reversed(urls)]
    latencies: list[float] = []
    loop = asyncio.get_running_loop()

    async def connection(share: list[tuple[str, bytes]]) -> None:
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(lambda: _Connection(share, latencies, done, errors), host,
                                     int(port), local_addr=(client_address(next(_next_client)), 0))
        await done

    # each client its own share, as each user has their own questions: from a shared list a
    # connection alone on a worker would take hundreds of the requests, at a rate no person
    # sends (and the rate limit would rightly refuse some)
    await asyncio.gather(*(connection(requests[i::clients]) for i in range(clients)))
    if len(latencies) != len(urls):
        raise RuntimeError(f"{len(urls) - len(latencies)} requests got no answer")
    return np.array(latencies)


class _Abuser(asyncio.Protocol):
    """A script paging through the whole roads collection with ``limit=10000``, one page
    after the other on one keep-alive connection; on a 429 it waits ``Retry-After`` seconds
    (as urllib3's retries do), then asks again."""

    PAGE = 1000  # what the server serves of limit=10000 (the roads' max_limit)

    def __init__(self, host: str, port: str, stop: asyncio.Event, stats: dict[str, int]) -> None:
        self.host, self.port, self.stop, self.stats = host, port, stop, stats
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.offset = 0
        self.answer: _Head | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ask()

    def _ask(self) -> None:
        assert self.transport is not None
        if self.stop.is_set():
            self.transport.close()
            return
        self.buffer.clear()
        self.answer = None
        url = f"/ogc/collections/roads/items?limit=10000&offset={self.offset}"
        self.transport.write(encode(self.host, self.port, url))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.answer is None:
            answer = _Head(buffer)
            if answer.body_at < 0:
                return
            self.answer = answer
        answer = self.answer
        if not answer.complete(buffer):
            return
        self.stats["bytes"] += len(buffer) - answer.body_at
        if answer.status == 200:
            self.stats["pages"] += 1
            self.offset = (self.offset + self.PAGE) % 60_000  # round the city's roads
            self._ask()
        elif answer.status == 429:
            self.stats["refused"] += 1
            asyncio.get_running_loop().call_later(float(answer.header(b"retry-after") or 1.0),
                                                  self._ask)
        else:
            self.stats["errors"] += 1
            self._ask()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats["closed"] += 1


async def hammer_with_abusers(base: str, urls: list[str], clients: int, abusers: int
                              ) -> tuple[np.ndarray, list[str], dict[str, int], float]:
    """:func:`hammer` of ``urls`` by normal clients (distinct addresses) while ``abusers``
    clients (addresses 127.0.200.x) page through the roads; the normal users' latencies, their
    errors, the abusers' tally and the seconds the normal load took."""
    host, port = base.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stats = {"pages": 0, "refused": 0, "errors": 0, "bytes": 0, "closed": 0}
    for i in range(abusers):
        await loop.create_connection(lambda: _Abuser(host, port, stop, stats), host, int(port),
                                     local_addr=(client_address(i, ABUSERS_BLOCK), 0))
    await asyncio.sleep(2.0)  # let them take their burst and settle to their rate
    before = dict(stats)
    errors: list[str] = []
    started = time.perf_counter()
    latencies = await hammer(base, urls, clients, errors)
    seconds = time.perf_counter() - started
    stop.set()
    tally = {k: stats[k] - before[k] for k in ("pages", "refused", "errors", "bytes")}
    return latencies, errors, tally, seconds


def naive_baseline(url: str, homes: list[str], tiles: list[str], samples: int) -> tuple[float, float]:
    """p95 ms of the naive answers, one at a time: full routing search, uncached ST_AsMVT."""
    import routing
    from gis_service.vector_tiles import render_tile
    from routing.finder import load_network
    from web.tiles import BASEMAP_LAYERS

    engine = db.create_engine(url)
    network = load_network(engine)
    assert network is not None
    graph = routing.build_graph(network.layer, "motorbike")
    schools = network.schools
    xy = schools[["lon", "lat"]].to_numpy()
    codes, levels = schools["code"].tolist(), schools["level"].tolist()
    routing.nearest_schools(graph, np.array([[106.7, 10.77]]), xy, codes, k=5)  # JIT warm-up
    route_ms = []
    for home in homes[:samples]:
        query = dict(part.split("=") for part in home.split("?", 1)[1].split("&"))
        started = time.perf_counter()
        routing.nearest_schools(graph, np.array([[float(query["lon"]), float(query["lat"])]]), xy,
                                codes, k=5, school_levels=levels, level=query["level"])
        route_ms.append((time.perf_counter() - started) * 1000)
    tile_ms = []
    for tile in tiles[:samples]:
        z, y, x = (int(v) for v in tile.rsplit("/", 3)[1:])
        started = time.perf_counter()
        render_tile(engine, BASEMAP_LAYERS, z, x, y)
        tile_ms.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return float(np.percentile(route_ms, 95)), float(np.percentile(tile_ms, 95))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when it is installed (less client CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def start_server(url: str, port: int, workers: int, log: Path, access_log: bool | None,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``edugis serve`` with ``workers`` workers, logging to ``log``; returns once every
    worker has started, i.e. has prepared its searches (``web.cli.served_app``)."""
    env = {**os.environ, "DATABASE_URL": url, "EDUGIS_ENVIRONMENT": "development", **(extra_env or {})}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", "from web.cli import main; main()", "serve", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(workers),
             *([] if access_log is None else ["--access-log" if access_log else "--no-access-log"])],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    # uvicorn logs "Application startup complete" once per worker
    while log.read_text(errors="replace").count("Application startup complete") < workers:
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the app did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return server


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its children (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def measure(base: str, server_pid: int, name: str, urls: list[str], clients: int) -> np.ndarray:
    """One run of ``urls`` over ``clients`` connections, printed with the CPU per request of
    the server (all workers) and of the load generator: on a shared machine the latency
    depends on what else runs, the CPU per request much less."""
    client_cpu, server_cpu = resource.getrusage(resource.RUSAGE_SELF), tree_cpu_seconds(server_pid)
    started = time.perf_counter()
    ms = run(hammer(base, urls, clients))
    seconds = time.perf_counter() - started
    server_us = (tree_cpu_seconds(server_pid) - server_cpu) / len(ms) * 1e6
    after = resource.getrusage(resource.RUSAGE_SELF)
    client_us = ((after.ru_utime - client_cpu.ru_utime) + (after.ru_stime - client_cpu.ru_stime)
                 ) / len(ms) * 1e6
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    verdict = f"{'OK' if p95 < 50 else 'OVER'} (target p95 < 50 ms)" if clients > 1 else ""
    print(f"{name:8s} {clients:3d} clients  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms"
          f"  max {ms.max():6.1f} ms  {len(ms) / seconds:5.0f} req/s  CPU/request: server "
          f"{server_us:4.0f} us, load generator {client_us:4.0f} us  {verdict}", flush=True)
    return ms


def summary(ms: np.ndarray, seconds: float) -> str:
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return (f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  max {ms.max():6.1f} ms"
            f"  {len(ms) / seconds:5.0f} req/s")


def measure_mixed(base: str, urls: list[str], clients: int) -> float:
    """The mixed profile over ``clients`` distinct addresses, printed; its p95 in ms."""
    errors: list[str] = []
    started = time.perf_counter()
    ms = run(hammer(base, urls, clients, errors))
    p95 = float(np.percentile(ms, 95))
    verdict = (f"{'OK' if p95 < 100 and not errors else 'OVER'} (target p95 < 100 ms, 0 errors)"
               if clients > 1 else "")
    print(f"mixed    {clients:3d} clients  {summary(ms, time.perf_counter() - started)}  errors "
          f"{len(errors)}{' (' + errors[0] + ')' if errors else ''}  {verdict}", flush=True)
    return p95


def measure_abusive(base: str, urls: list[str], clients: int, abusers: int, label: str) -> float:
    """The abusive profile, printed; the normal users' p95 in ms."""
    ms, errors, tally, seconds = run(hammer_with_abusers(base, urls, clients, abusers))
    p95 = float(np.percentile(ms, 95))
    print(f"abusive  {clients:3d} clients + {abusers} abusers{label}: normal users {summary(ms, seconds)}"
          f"  errors {len(errors)}{' (' + errors[0] + ')' if errors else ''}  "
          f"{'OK' if p95 < 200 and not errors else 'OVER'} (target normal p95 < 200 ms, 0 errors); "
          f"abusers meanwhile: {tally['pages']} roads pages ({tally['bytes'] / 1e6:.1f} MB sent), "
          f"{tally['refused']} refused with 429, {tally['errors']} other errors", flush=True)
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="uvicorn workers (default: what edugis serve uses, one per core)")
    parser.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                        help="edugis serve's --access-log/--no-access-log (default: its default)")
    parser.add_argument("--abusers", type=int, default=10,
                        help="clients paging through the roads in the abusive profile")
    parser.add_argument("--unlimited", action=argparse.BooleanOptionalAction, default=True,
                        help="run the abusive profile again with the rate limit off (the baseline)")
    args = parser.parse_args()
    url = bench_database()
    homes, tiles = workload(2026, args.requests)
    mixed = mixed_workload(2027, homes, tiles, args.requests)
    # the abusive profile runs twice as long: the abusers' pages take seconds each
    mixed_long = mixed_workload(2028, homes, tiles, 2 * args.requests)
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"edugis-web-load-{port}.log"
    server = start_server(url, port, args.workers, log, args.access_log)
    base = f"http://127.0.0.1:{port}"
    try:
        # warm-up: a few answers per worker, then fill the tile cache of every worker (a
        # connection sticks to one worker, so the tiles go round three times on new ones)
        run(hammer(base, homes[-200:], args.clients))
        for _ in range(3):
            run(hammer(base, tiles, args.clients))
        access = "off (default)" if args.access_log is None else ("on" if args.access_log else "off")
        print(f"edugis serve (access log {access}, {args.workers} uvicorn worker(s)"
              f"{', its default' if args.workers == default_workers() else ''}); {args.clients} clients, "
              f"{args.requests} requests per endpoint ({len(set(homes))} distinct homes, "
              f"{len(set(tiles))} distinct tiles z13-z16); cpus {os.cpu_count()}, "
              f"load average {os.getloadavg()[0]:.1f} before the run")
        results: dict[tuple[str, int], float] = {}
        for name, urls in (("nearest", homes), ("tile", tiles)):
            for clients in (1, args.clients):
                ms = measure(base, server.pid, name, urls if clients > 1 else urls[:300], clients)
                results[(name, clients)] = float(np.percentile(ms, 95))
        run(hammer(base, mixed[:200], args.clients, []))  # warm the OGC pages
        mixed_1 = measure_mixed(base, mixed[:300], 1)
        mixed_n = measure_mixed(base, mixed, args.clients)
        print(f"mixed: ratio p95 at {args.clients} clients / p95 at 1 client {mixed_n / mixed_1:.1f}x")
        limited = measure_abusive(base, mixed_long, args.clients, args.abusers, "")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.unlink(missing_ok=True)
    if args.unlimited:
        server = start_server(url, port, args.workers, log, args.access_log,
                              {"EDUGIS_RATE_LIMIT_PER_S": "0"})
        try:
            run(hammer(base, homes[-200:], args.clients))
            for _ in range(3):
                run(hammer(base, tiles, args.clients))
            unlimited = measure_abusive(base, mixed_long, args.clients, args.abusers,
                                        " (baseline: rate limit off)")
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.unlink(missing_ok=True)
        print(f"baseline abusive: the same load with the rate limit off: normal users' p95 "
              f"{unlimited:.1f} ms; ratio baseline / limited p95 {unlimited / limited:.1f}x")
    route_p95, tile_p95 = naive_baseline(url, homes, tiles, 100)
    print(f"baseline nearest: routing.nearest_schools per request (in process, 1 client): p95 "
          f"{route_p95:.1f} ms; ratio baseline / API p95 at 1 client "
          f"{route_p95 / results[('nearest', 1)]:.1f}x")
    print(f"baseline tile: uncached ST_AsMVT (in process, 1 client): p95 {tile_p95:.1f} ms; "
          f"ratio baseline / API p95 at 1 client {tile_p95 / results[('tile', 1)]:.1f}x")


if __name__ == "__main__":
    main()
