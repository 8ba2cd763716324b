"""Benchmark: the officer's round page of a run grade-10 round of 20,000 applicants (issue 13.8).

The page an officer opens after a run: 100 applicants a page with the pager, the round's
figures summed from the stored run, every school's cut-off and the address checks of every
home. Target: under 1 s for 20,000 applicants.

Baseline in the same run: the same pages of a round of 2,000 applicants (10x fewer) on the
same demo city. Paged tables should make the page cost nearly independent of the round's
size: the script prints the median and p95 ms of the first, a middle and the last page of
each round, through the ASGI app in this process (lifespan, middlewares, routing, sign-in
check; no sockets), and the ratio 20,000 / 2,000 of the medians.

The rounds live in database ``edugis_bench`` (the demo city of ``bench/web_load.py``), made
and run on the first run (about a minute for 20,000 applicants) and reused afterwards.

Run: ``.venv/bin/python bench/round_page.py [--n 7]``
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web_load import bench_database  # noqa: E402

from gis_service import db  # noqa: E402

SIZES = (2_000, 20_000)
PASSWORD = "bench officer password 7"


def ensure_round(engine: sa.engine.Engine, size: int) -> str:
    """The id of a run grade-10 round of ``size`` applicants with homes, made when missing."""
    from admissions import service

    round_id = f"bench-page-{size}"
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT r.status, (SELECT count(*) FROM applicants a WHERE a.round_id = r.id)"
            " FROM admission_rounds r WHERE r.id = :r"), {"r": round_id}).first()
    if row is not None and row[0] == "run" and row[1] == size:
        return round_id
    if row is not None:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM admission_rounds WHERE id = :r"), {"r": round_id})
    with engine.connect() as conn:
        codes = list(conn.execute(sa.text(
            "SELECT code FROM schools WHERE level = 'upper_secondary' AND ownership = 'public'"
            " AND capacity_grade10 > 0 ORDER BY code")).scalars())
        west, south, east, north = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM schools) s")).one()
    draw = random.Random(size)
    lines = ["applicant_id,score,choice1,choice2,choice3,lon,lat"]
    for i in range(size):
        first, second, third = draw.sample(codes, 3)
        lines.append(f"P{i:05d},{draw.uniform(10, 30):.2f},{first},{second},{third},"
                     f"{draw.uniform(west, east):.5f},{draw.uniform(south, north):.5f}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "applicants.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        service.create_round(engine, round_id, 10, 2026, "da", seed=1)
        service.import_applicants(engine, round_id, path)
        service.run_round(engine, round_id)
    print(f"round {round_id}: made and run in {time.perf_counter() - started:.1f} s", flush=True)
    return round_id


def sign_in(client: object, username: str) -> None:
    """Sign ``username`` in through the login form (CSRF token included)."""
    page = client.get("/login").text  # type: ignore[attr-defined]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None, "no CSRF token on /login"
    answer = client.post("/login", data={  # type: ignore[attr-defined]
        "username": username, "password": PASSWORD, "csrf_token": token.group(1),
        "next": "/officer"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=7, help="GETs of each page (default 7)")
    args = parser.parse_args()
    url = bench_database()
    engine = db.create_engine(url)
    rounds = {size: ensure_round(engine, size) for size in SIZES}
    username = f"bench_{uuid.uuid4().hex[:6]}"
    from gis_service.accounts import create_user

    create_user(engine, username, PASSWORD, "admin")
    os.environ.update({"DATABASE_URL": url, "EDUGIS_ENVIRONMENT": "test",
                       "EDUGIS_SECRET_KEY": "bench-round-page-secret-key", "EDUGIS_RATE_LIMIT_PER_S": "0"})
    from fastapi.testclient import TestClient

    from gis_service.settings import get_settings

    get_settings.cache_clear()  # read before (bench_database): now on edugis_bench
    db.reset_engines()

    from web.app import create_app

    medians: dict[int, float] = {}
    with TestClient(create_app()) as client:
        sign_in(client, username)
        print(f"{'round':>8} {'page':>6} {'median ms':>10} {'p95 ms':>8}")
        for size, round_id in rounds.items():
            last = -(-size // 100)
            firsts: list[float] = []
            for page in (1, last // 2, last):
                times = []
                for _ in range(args.n):
                    started = time.perf_counter()
                    answer = client.get(f"/officer/rounds/{round_id}?page={page}")
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, answer.text[:300]
                    assert answer.text.count('<td class="applicant_id">') == min(100, size - 100 * (page - 1))
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                print(f"{size:>8,} {page:>6} {statistics.median(times):>10.0f} {p95:>8.0f}", flush=True)
                if page == 1:
                    firsts = times
            medians[size] = statistics.median(firsts)
    small, large = (medians[s] for s in SIZES)
    print(f"first page: 20,000 applicants {large:.0f} ms vs 2,000 {small:.0f} ms (baseline):"
          f" ratio {large / small:.2f}x; target < 1000 ms: {'met' if large < 1000 else 'NOT met'}")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE username = :u"), {"u": username})
    engine.dispose()


if __name__ == "__main__":
    main()
