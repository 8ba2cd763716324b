"""Benchmark: OGC API Features ``/items`` pages through the ASGI app, in one process.

The pages of ``bench/web_load.py``'s mixed profile (schools and roads in a small bbox, wards
by offset; issue 12) plus unfiltered roads and filtered schools pages, each asked ``--n``
times one after the other through the app (lifespan, middlewares, routing, threadpool
handoff included; no sockets), against the demo city in database ``edugis_bench`` (loaded
on first run, as ``bench/web_load.py`` does). Prints the median and p95 milliseconds per
request of each kind (the median: the machine is shared, and others' work shows in the tail).

Baseline in the same run: ``--against REV`` (default ``HEAD``) runs the same requests on the
code of git revision ``REV`` (exported to a temporary folder with ``git archive``, run in a
subprocess), alternating rounds with the working tree's code, and prints the ratios
baseline / current of each kind (above 1: the current code is faster). ``--against ''``
measures the working tree only.

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
#: Run the app of this folder instead of the working tree's (set for the baseline's runs).
CODE = Path(os.environ.get("EDUGIS_BENCH_CODE", ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(CODE))

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


async def measure(url: str, n: int) -> dict[str, list[float]]:
    """Ask every page of :func:`pages` through the app; milliseconds per request by kind."""
    import httpx

    from gis_service.settings import Settings
    from web.app import create_app

    app = create_app(Settings(database_url=url, rate_limit_per_s=0))
    timings: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # as the clients of bench/web_load.py and browsers do
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     headers={"Accept-Encoding": "gzip"}) as client:
            for kind, paths in pages(n).items():
                for path in paths[:5]:  # warm up: connections, plans, caches
                    (await client.get(path)).raise_for_status()
                spent = []
                for path in paths:
                    start = time.perf_counter()
                    answer = await client.get(path)
                    spent.append((time.perf_counter() - start) * 1000)
                    answer.raise_for_status()
                timings[kind] = spent
    return timings


def baseline(rev: str, url: str, n: int, folder: Path) -> dict[str, list[float]]:
    """Run :func:`measure` on the code of ``rev`` (exported into ``folder``) in a subprocess."""
    if not (folder / "web").exists():
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    out = subprocess.run([sys.executable, __file__, "--n", str(n), "--json", "--url", url],
                         env={**os.environ, "EDUGIS_BENCH_CODE": str(folder)}, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, list[float]] = json.loads(out.splitlines()[-1])
    return result


def p95(values: list[float]) -> float:
    """Return the 95th percentile of ``values``."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


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
    if args.json:
        print(json.dumps(asyncio.run(measure(url, args.n))))
        return
    current: dict[str, list[float]] = {}
    old: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):  # alternate, so both meet the same load on a shared box
            if args.against:
                for kind, spent in baseline(args.against, url, args.n, Path(folder)).items():
                    old.setdefault(kind, []).extend(spent)
            for kind, spent in asyncio.run(measure(url, args.n)).items():
                current.setdefault(kind, []).extend(spent)
    head = f"{'page':28} {'median ms':>9} {'p95 ms':>8}"
    if old:
        head += f" {'base median':>11} {'base p95':>9} {'ratio median':>12} {'ratio p95':>9}"
    print(head)
    for kind, spent in current.items():
        median = statistics.median(spent)
        line = f"{kind:28} {median:9.2f} {p95(spent):8.2f}"
        if kind in old:
            base = old[kind]
            line += (f" {statistics.median(base):11.2f} {p95(base):9.2f}"
                     f" {statistics.median(base) / median:12.2f} {p95(base) / p95(spent):9.2f}")
        print(line)


if __name__ == "__main__":
    main()
