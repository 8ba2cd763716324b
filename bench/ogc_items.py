"""Benchmark: OGC API Features ``/items`` pages through the ASGI app, in one process.

The pages of ``bench/web_load.py``'s mixed profile (schools and roads in a small bbox, wards
by offset; issue 12) plus unfiltered roads and filtered schools pages, each asked ``--n``
times one after the other through the app (lifespan, middlewares, routing, threadpool
handoff included; no sockets), against the demo city in database ``edugis_bench`` (loaded
on first run, as ``bench/web_load.py`` does). Prints, per kind, the median and p95
milliseconds per request, and the CPU milliseconds per request of the app and of the
database's server processes (from ``/proc``): on a shared machine others' work shows in the
wall times, much less in the CPU.

Baseline in the same run: ``--against REV`` (default ``HEAD``) runs the same requests on the
code of git revision ``REV`` (exported to a temporary folder with ``git archive``, run in a
subprocess), alternating rounds with the working tree's code, and prints the ratios
baseline / current of each kind, of the median wall time and of the CPU (above 1: the
current code is faster). ``--against ''`` measures the working tree only.

Run: ``.venv/bin/python bench/ogc_items.py [--n 200] [--rounds 2] [--against REV]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Run the app of this folder instead of the working tree's (set for the baseline's runs);
#: its bench/web_load.py (the pages, the database) puts the folder first on the path.
CODE = Path(os.environ.get("EDUGIS_BENCH_CODE", ROOT))
sys.path.insert(0, str(CODE / "bench"))

from web_load import bench_database, ogc_pages  # noqa: E402


def pages(n: int) -> dict[str, list[str]]:
    """Return ``n`` paths of each kind of page, the same ones on every run."""
    rng = random.Random(7)
    mixed = ogc_pages(11, 8 * n)
    kinds: dict[str, list[str]] = {
        "schools bbox (mixed)": [p for p in mixed if "/schools/" in p][:n],
        "roads bbox (mixed)": [p for p in mixed if "/roads/" in p][:n],
        "wards offset (mixed)": [p for p in mixed if "/wards/" in p][:n],
        "roads unfiltered limit=50": [f"/ogc/collections/roads/items?limit=50&offset="
                                      f"{rng.randint(0, 20_000)}" for _ in range(n)],
        "schools level limit=10": [f"/ogc/collections/schools/items?level=primary&limit=10"
                                   f"&offset={rng.randint(0, 200)}" for _ in range(n)],
        "roads limit=1000": [f"/ogc/collections/roads/items?limit=1000&offset="
                             f"{rng.randint(0, 20) * 1000}" for _ in range(max(1, n // 10))],
    }
    return kinds


#: Per kind: wall milliseconds of each request, and CPU milliseconds per request of the app
#: (this process, every thread) and of the database (its server processes serving us).
Timings = dict[str, dict[str, list[float]]]


def backend_cpu_s(url: str) -> float:
    """Return the CPU seconds spent so far by the database's server processes of ``url``.

    Read from ``/proc`` (the server runs on this machine); the process asking is left out.
    """
    import sqlalchemy as sa

    from gis_service import db

    engine = db.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname ="
                                    " current_database() AND pid <> pg_backend_pid()")).scalars()
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    engine.dispose()
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(url: str, n: int) -> Timings:
    """Ask every page of :func:`pages` through the app; wall and CPU time by kind."""
    import httpx

    from gis_service.settings import Settings
    from web.app import create_app

    app = create_app(Settings(database_url=url, rate_limit_per_s=0))
    timings: Timings = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # as the clients of bench/web_load.py and browsers do
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     headers={"Accept-Encoding": "gzip"}) as client:
            for kind, paths in pages(n).items():
                for path in paths[:5]:  # warm up: connections, plans, caches
                    (await client.get(path)).raise_for_status()
                spent = []
                app_cpu, db_cpu = time.process_time(), backend_cpu_s(url)
                for path in paths:
                    start = time.perf_counter()
                    answer = await client.get(path)
                    spent.append((time.perf_counter() - start) * 1000)
                    answer.raise_for_status()
                app_cpu, db_cpu = time.process_time() - app_cpu, backend_cpu_s(url) - db_cpu
                timings[kind] = {"wall": spent, "cpu": [1000 * app_cpu / len(paths),
                                                        1000 * db_cpu / len(paths)]}
    return timings


def baseline(rev: str, url: str, n: int, folder: Path) -> Timings:
    """Run :func:`measure` on the code of ``rev`` (exported into ``folder``) in a subprocess."""
    if not (folder / "web").exists():
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    out = subprocess.run([sys.executable, __file__, "--n", str(n), "--json", "--url", url],
                         env={**os.environ, "EDUGIS_BENCH_CODE": str(folder)}, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    result: Timings = json.loads(out.splitlines()[-1])
    return result


def check_code() -> None:
    """Refuse to measure when the app would not come from :data:`CODE` (a wrong baseline)."""
    import web

    if Path(web.__file__).resolve().parents[1] != CODE.resolve():
        raise SystemExit(f"web comes from {web.__file__}, not from {CODE}")


def add(total: Timings, run: Timings) -> None:
    """Add the timings of one round to ``total`` (wall times appended, CPU per round)."""
    for kind, measured in run.items():
        into = total.setdefault(kind, {"wall": [], "cpu": []})
        into["wall"] += measured["wall"]
        into["cpu"] += measured["cpu"]


def p95(values: list[float]) -> float:
    """Return the 95th percentile of ``values``."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def cpu_ms(measured: dict[str, list[float]]) -> float:
    """Return the median over rounds of the app's plus the database's CPU ms per request."""
    rounds = measured["cpu"]
    return statistics.median(rounds[i] + rounds[i + 1] for i in range(0, len(rounds), 2))


def main() -> None:
    """Measure, print per kind, and compare with the baseline revision when asked."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="requests of each kind per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--against", default="HEAD", help="baseline git revision ('' for none)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.url or bench_database()
    check_code()
    if args.json:
        print(json.dumps(asyncio.run(measure(url, args.n))))
        return
    current: Timings = {}
    old: Timings = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):  # alternate, so both meet the same load on a shared box
            if args.against:
                add(old, baseline(args.against, url, args.n, Path(folder)))
            add(current, asyncio.run(measure(url, args.n)))
    print("wall: median and p95 ms per request; cpu: ms per request, app + database"
          + (f"; base: {args.against}, ratio: base / now" if old else ""))
    head = f"{'page':26} {'median':>7} {'p95':>7} {'cpu':>6}"
    if old:
        head += f" {'base med':>8} {'base p95':>8} {'base cpu':>8} {'ratio med':>9} {'ratio cpu':>9}"
    print(head)
    for kind, measured in current.items():
        wall, cpu = measured["wall"], cpu_ms(measured)
        line = f"{kind:26} {statistics.median(wall):7.2f} {p95(wall):7.2f} {cpu:6.2f}"
        if kind in old:
            base_wall, base_cpu = old[kind]["wall"], cpu_ms(old[kind])
            line += (f" {statistics.median(base_wall):8.2f} {p95(base_wall):8.2f} {base_cpu:8.2f}"
                     f" {statistics.median(base_wall) / statistics.median(wall):9.2f}"
                     f" {base_cpu / cpu:9.2f}")
        print(line)


if __name__ == "__main__":
    main()
