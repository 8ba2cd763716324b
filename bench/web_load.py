"""Benchmark: nearest-schools API and vector tiles under 50 concurrent clients on loopback.

Target: p95 under 50 ms for ``/api/nearest`` and for a base-map tile at 50 concurrent
clients. Baseline, measured in the same run: the same questions answered the naive way in
one process without concurrency (``routing.nearest_schools`` per request, i.e. a whole-graph
search each time; ``ST_AsMVT`` per tile with no cache).

The app runs in uvicorn subprocess(es) against a database holding the demo city (database
``edugis_bench`` on the configured server, loaded on first run).

Run: ``.venv/bin/python bench/web_load.py [--clients 50] [--requests 2000] [--workers 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis_service import db  # noqa: E402


def bench_database() -> str:
    """URL of ``edugis_bench`` with the demo city, created and loaded when needed."""
    url = make_url(db.server_url()).set(database="edugis_bench").render_as_string(hide_password=False)
    db.prepare(url)
    engine = db.create_engine(url)
    with engine.connect() as conn:
        schools = conn.execute(sa.text("SELECT count(*) FROM schools WHERE code LIKE 'DM-%'")).scalar()
    if not schools:
        from basemaps.demo_city import generate_demo_city
        from basemaps.demo_load import load_demo_city

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


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
               url: str) -> tuple[int, bytes]:
    """One keep-alive HTTP/1.1 GET on an open connection: (status, body)."""
    writer.write(f"GET {url} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, body
    return status, await reader.readexactly(int(headers.get("content-length", "0")))


async def hammer(base: str, urls: list[str], clients: int) -> np.ndarray:
    """Send ``urls`` over ``clients`` concurrent keep-alive connections; latencies in ms.

    A minimal asyncio HTTP/1.1 client: httpx costs more CPU per request than the app does,
    and on a small machine the load generator shares the cores with the server.
    """
    host, port = base.removeprefix("http://").split(":")
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    latencies: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        # no Nagle: a request is one small write, and Nagle plus delayed ACKs adds 40 ms
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while not queue.empty():
                url = queue.get_nowait()
                started = time.perf_counter()
                status, body = await _get(reader, writer, f"{host}:{port}", url)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{url}: HTTP {status} {body[:200]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return np.array(latencies)


def naive_baseline(url: str, homes: list[str], tiles: list[str], samples: int) -> tuple[float, float]:
    """p95 ms of the naive answers, one at a time: full routing search, uncached ST_AsMVT."""
    import routing
    from web.finder import _load_network
    from web.tiles import BASEMAP_LAYERS, render_tile

    engine = db.create_engine(url)
    network = _load_network(engine)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    # one worker by default: with several, uvicorn's shared socket showed a steady 40 ms per
    # request at 1 client here (not investigated further)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    url = bench_database()
    homes, tiles = workload(2026, args.requests)
    port = free_port()
    # one numba thread per request: parallel kernels for a single point only add thread
    # hand-offs when 50 requests already keep every core busy
    env = {**os.environ, "DATABASE_URL": url, "EDUGIS_ENVIRONMENT": "development",
           "NUMBA_NUM_THREADS": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
         "--no-access-log"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.2)
        # warm-up: every worker loads the road graph and prepares both levels; tiles fill the
        # caches of every worker (a connection sticks to one worker, so send them twice)
        asyncio.run(hammer(base, homes[: 20 * args.workers], args.workers * 4))
        for _ in range(2):
            asyncio.run(hammer(base, tiles, args.clients))
        print(f"clients {args.clients}, requests {args.requests} per endpoint, "
              f"uvicorn workers {args.workers}, cpus {os.cpu_count()}, "
              f"load average {os.getloadavg()[0]:.1f} before the run")
        results: dict[tuple[str, int], float] = {}
        for name, urls in (("nearest", homes), ("tile", tiles)):
            for clients in (1, args.clients):
                batch = urls if clients > 1 else urls[:300]
                started = time.perf_counter()
                ms = asyncio.run(hammer(base, batch, clients))
                seconds = time.perf_counter() - started
                results[(name, clients)] = p95 = float(np.percentile(ms, 95))
                verdict = f"{'OK' if p95 < 50 else 'OVER'} (target p95 < 50 ms)" if clients > 1 else ""
                print(f"{name:8s} {clients:3d} clients  p50 {np.percentile(ms, 50):7.1f} ms  "
                      f"p95 {p95:7.1f} ms  max {ms.max():7.1f} ms  {len(ms) / seconds:6.0f} req/s "
                      f"{verdict}")
    finally:
        server.terminate()
        server.wait(timeout=20)
    route_p95, tile_p95 = naive_baseline(url, homes, tiles, 100)
    print(f"baseline nearest: routing.nearest_schools per request (in process, 1 client): p95 "
          f"{route_p95:.1f} ms; ratio baseline / API p95 at 1 client "
          f"{route_p95 / results[('nearest', 1)]:.1f}x")
    print(f"baseline tile: uncached ST_AsMVT (in process, 1 client): p95 {tile_p95:.1f} ms; "
          f"ratio baseline / API p95 at 1 client {tile_p95 / results[('tile', 1)]:.1f}x")


if __name__ == "__main__":
    main()
