"""Issue 12.5: nothing acknowledged is lost when the database is killed (kill -9).

A private embedded cluster per test module is killed with SIGKILL (postmaster and every
backend at once, as a power cut or the OOM killer would) while officers' writes are being
acknowledged and while a round is being run; after a restart every acknowledged write is
there and the interrupted run left no half-stored result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service import db
from gis_service.embedded import Cluster


def cluster_pids(cluster: Cluster) -> list[int]:
    """The postmaster's pid and its children's."""
    postmaster = int((cluster.pgdata / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def kill_cluster(cluster: Cluster) -> None:
    """SIGKILL every process of the cluster at once, then wait until they are gone."""
    pids = cluster_pids(cluster)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids):  # gone, and reaped
        assert time.monotonic() < deadline, "the cluster did not die"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A cluster of this module's own (under var/: the postgres user must reach it)."""
    folder = Path("var/test-clusters").resolve() / uuid.uuid4().hex[:8]
    made = Cluster(folder / "pg")
    made.up()
    yield made
    made.down()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def url(cluster: Cluster) -> str:
    address = cluster.url("edugis_crash")
    db.prepare(address)
    return address


def restart(cluster: Cluster, url: str) -> Engine:
    """Start the killed cluster again (crash recovery) and connect."""
    db.reset_engines()
    assert cluster.up() is True
    return db.create_engine(url)


def test_the_embedded_cluster_commits_durably(cluster: Cluster, url: str) -> None:
    engine = db.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "on"
        assert conn.execute(sa.text("SHOW fsync")).scalar_one() == "on"
    engine.dispose()


def test_acknowledged_rounds_survive_kill_9(cluster: Cluster, url: str) -> None:
    from admissions.service import create_round

    engine = db.create_engine(url, pool_size=4)
    acknowledged: list[str] = []
    failed: list[BaseException] = []
    stop = threading.Event()

    def officer(name: str) -> None:
        n = 0
        while not stop.is_set():
            round_id = f"crash-{name}-{n}"
            try:
                create_round(engine, round_id, grade=1, year=2026, actor=f"officer-{name}")
            except Exception as exc:  # the database went away: not acknowledged
                failed.append(exc)
                return
            acknowledged.append(round_id)  # the officer saw "created"
            n += 1

    workers = [threading.Thread(target=officer, args=(str(i),)) for i in range(3)]
    for worker in workers:
        worker.start()
    while len(acknowledged) < 60:
        time.sleep(0.01)
    kill_cluster(cluster)  # mid-request: the officers are still writing
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    engine.dispose()
    assert failed, "the kill happened after the writes ended; nothing was tested"
    engine = restart(cluster, url)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT id FROM admission_rounds")).scalars())
        audited = set(conn.execute(sa.text(
            "SELECT target FROM audit_log WHERE action = 'round.create'")).scalars())
    engine.dispose()
    lost = [r for r in acknowledged if r not in stored]
    assert lost == [], f"{len(lost)} of {len(acknowledged)} acknowledged rounds lost"
    assert stored == audited  # each round landed with its audit row, or neither did


def test_a_run_killed_midway_stores_nothing_half(cluster: Cluster, url: str) -> None:
    from admissions.service import get_round, run_round
    from basemaps.demo_city import generate_demo_city
    from web.demo_data import load_demo_city

    engine = db.create_engine(url)
    load_demo_city(engine, generate_demo_city(target_nodes=4000))
    round_id = "demo-2026-g10"
    with engine.connect() as conn:
        applicants = conn.execute(sa.text("SELECT count(*) FROM applicants WHERE round_id = :r"),
                                  {"r": round_id}).scalar_one()
    assert applicants > 10_000
    outcome: list[BaseException | dict[str, object]] = []

    def run() -> None:
        try:
            outcome.append(run_round(engine, round_id, actor="officer-run"))
        except Exception as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    # kill while the run holds its transaction open or is still computing: wait until its
    # connection is busy, then a little more (the store itself takes a moment)
    watcher = db.create_engine(url, isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + 120
    with watcher.connect() as conn:
        while runner.is_alive() and time.monotonic() < deadline:
            writing = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND xact_start IS NOT NULL AND query ILIKE '%allocations%'"
                " AND pid <> pg_backend_pid()")).scalar_one()
            if writing:
                break
            time.sleep(0.005)
    watcher.dispose()
    kill_cluster(cluster)
    runner.join(timeout=120)
    engine.dispose()
    assert outcome and isinstance(outcome[0], Exception), "the run ended before the kill"
    engine = restart(cluster, url)
    info = get_round(engine, round_id)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM allocations WHERE round_id = :r"),
                              {"r": round_id}).scalar_one()
        runs = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'round.run'"
                                    " AND target = :r"), {"r": round_id}).scalar_one()
    assert (info.status, stored, runs) == ("draft", 0, 0)  # nothing half-stored, nothing logged
    summary = run_round(engine, round_id, actor="officer-run")  # and the round runs again
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM allocations WHERE round_id = :r"),
                              {"r": round_id}).scalar_one()
    engine.dispose()
    assert stored == applicants and summary["placed"] > 0
