"""Chaos test of the highly available deployment (issue 14), also run by bench/cluster_chaos.py.

A cluster of 2 app nodes and 2 read nodes (app nodes on the standbys, for the public GETs)
behind HAProxy on a pg_auto_failover formation of a primary and 2 synchronous standbys
(``web.cluster``), all on 127.0.0.1 (ports 5640-5720, or the next free block of 100 up),
serving a small demo city under a bounded mixed load: 4 public clients reading the mixed
profile of ``bench/web_load.py`` (60 % nearest schools, 25 % tiles, 15 % OGC pages) and an
officer creating rounds one after the other.

- ``kill -9`` of an app node and of a read node: no request fails. HAProxy resends a GET the
  dead node did not answer and stops sending it new ones; the officer's form carries a
  one-time ``request_key``, so HAProxy resends that POST too, and the write, which claims the
  key in its own transaction, is done once whether or not the dead node committed it.
- ``kill -9`` of the primary (its keeper and PostgreSQL): a standby is promoted by the
  monitor, the public reads go on meanwhile (on the read nodes), writes succeed again within
  30 s, every write acknowledged is in the database (synchronous replication), and the old
  primary, started again, rejoins as a standby.
- ``edugis cluster status`` names every service; ``edugis cluster down`` ends every process
  the cluster started (their process groups: PostgreSQL's backends included).

Everything the cluster starts is stopped by the fixture's finalizer, whatever happens.
"""

from __future__ import annotations

import http.client
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Load, Officer, build_cluster, free_base_port, mixed_urls, stored_rounds
from web.balancer import server_states
from web.cluster import LocalCluster

#: The first base port tried (``free_base_port``: another run may hold it).
BASE_PORT = 5640
#: Seconds within which the service must take writes again after the primary dies.
FAILOVER_LIMIT_S = 30.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    root = Path(tempfile.mkdtemp(prefix="edugis-chaos-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as env:
        # inherited by the app nodes: the load is bounded by the test, not by the rate limit
        env.setenv("EDUGIS_RATE_LIMIT_PER_S", "0")
        env.setenv("EDUGIS_SECRET_KEY", "chaos-test-secret-key-shared-by-every-node")
        env.setenv("EDUGIS_ENVIRONMENT", "development")
        env.delenv("DATABASE_URL", raising=False)
        cluster = LocalCluster(root, nodes=2, standbys=2, base_port=free_base_port(BASE_PORT),
                               data_dir=root / "data", read_nodes=2)
        try:
            started = time.monotonic()
            build_cluster(cluster, city_nodes=4000)
            print(f"\ncluster up with a demo city in {time.monotonic() - started:.1f} s")
            yield cluster
        finally:
            cluster.down()  # every process it started, kill -9 of the group if need be
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def urls(cluster: LocalCluster) -> list[str]:
    return mixed_urls(cluster.database_url, 2000)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_killing_an_app_node_fails_no_request_and_loses_no_acknowledged_write(
        cluster: LocalCluster, urls: list[str]) -> None:
    load = Load(cluster.site_url, urls, prefix="appkill").start()
    try:
        time.sleep(3)
        killed_at = time.monotonic()
        assert cluster.daemon("app1").kill()  # the officer's writes go to app1 or app2
        assert cluster.daemon("read1").kill()  # the public reads to read1 or read2
        wait_until(lambda: all(s.status.startswith("DOWN") for s in server_states(
            cluster.stats_socket) if s.name in ("app1", "read1")), 10, "HAProxy to take them out")
        out_after_s = time.monotonic() - killed_at

        def served_after_kill(kind: str) -> int:
            return sum(1 for o in list(load.outcomes)
                       if o.kind == kind and o.ok and o.started >= killed_at)

        # the service goes on: reads and writes answered after the kill (time-bounded, as a
        # loaded machine answers slowly)
        wait_until(lambda: served_after_kill("read") > 20 and served_after_kill("write") > 2, 30,
                   "reads and writes to go on after the kill")
    finally:
        load.stop()
    after_kill = [o for o in load.outcomes if o.started >= killed_at]
    failed_writes = [(o.status, round(o.started - killed_at, 3), round(o.ended - killed_at, 3))
                     for o in load.failed("write")]
    print(f"app node killed: {load.count('read')} reads, {load.count('write')} writes, "
          f"{len(after_kill)} after the kill; HAProxy took the node out after {out_after_s:.1f} s;"
          f" failed reads {len(load.failed('read'))}, "
          f"failed writes (status, seconds after the kill) {failed_writes}")
    assert load.failed("read") == [] and failed_writes == []
    # every write answered is stored, once (a round id is a primary key)
    assert load.acknowledged_writes() == stored_rounds(cluster.database_url, "appkill")
    # the node started again is put back in service by the health checks, and finds the
    # road graphs the nodes compiled in the shared folder
    assert list((cluster.data_dir / "cache" / "graphs").iterdir())
    for name in ("app1", "read1"):
        cluster.start_app(name)
    for name in ("app1", "read1"):
        cluster.wait_ready(name, timeout_s=120)
    wait_until(lambda: all(s.status == "UP" for s in server_states(cluster.stats_socket)), 15,
               "HAProxy to put them back")


def test_killing_the_primary_promotes_a_standby_and_loses_no_acknowledged_write(
        cluster: LocalCluster, urls: list[str]) -> None:
    formation = cluster.formation
    old = formation.primary()
    assert old is not None
    load = Load(cluster.site_url, urls, prefix="failover").start()
    try:
        time.sleep(3)
        acknowledged_before = load.acknowledged_writes()
        killed_at = time.monotonic()
        assert formation.daemon(old).kill()  # the keeper and its PostgreSQL, kill -9
        wait_until(lambda: any(o.kind == "write" and o.ok and o.started > killed_at
                               for o in list(load.outcomes)), FAILOVER_LIMIT_S + 15,
                   "a write to succeed after the kill")
        back_s = min(o.ended for o in list(load.outcomes)
                     if o.kind == "write" and o.ok and o.started > killed_at) - killed_at
        time.sleep(2)
    finally:
        load.stop()
    new = formation.primary()
    failures = [o.ended - killed_at for o in load.outcomes if not o.ok and o.started > killed_at]
    reads_back = [o for o in load.outcomes if o.kind == "read" and o.ok and o.started > killed_at]
    during = [o for o in load.outcomes
              if o.kind == "read" and killed_at < o.started < killed_at + back_s]
    print(f"primary {old} killed: {new} promoted, writes back after {back_s:.1f} s, last failed request "
          f"{max(failures, default=0.0):.1f} s after the kill; "
          f"{len(acknowledged_before)} writes acknowledged before the kill, "
          f"{len(load.acknowledged_writes())} in all; reads answered 200 during the failover "
          f"{sum(o.ok for o in during)} of {len(during)}; failed: reads "
          f"{len(load.failed('read'))} {Counter(o.status for o in load.failed('read'))}, "
          f"writes {len(load.failed('write'))}")
    assert new is not None and new != old
    assert back_s < FAILOVER_LIMIT_S
    assert max(failures, default=0.0) < FAILOVER_LIMIT_S  # reads too
    assert reads_back
    # the public reads go to the read nodes, on the standbys: they go on meanwhile
    assert sum(o.ok for o in during) >= 0.9 * len(during)
    stored = stored_rounds(cluster.database_url, "failover")
    assert acknowledged_before, "no write was acknowledged before the kill"
    assert acknowledged_before <= stored
    assert load.acknowledged_writes() <= stored
    # the old primary, started again, follows the new one
    started = time.monotonic()
    formation.start_node(old)
    states = {node.name: node for node in formation.wait_settled(timeout_s=90)}
    print(f"{old} rejoined as {states[old].reported} in {time.monotonic() - started:.1f} s")
    assert states[old].reported == "secondary"
    assert formation.primary() == new


def test_a_session_made_on_one_node_is_good_on_the_other_until_signed_out(
        cluster: LocalCluster) -> None:
    first = Officer(http.client.HTTPConnection("127.0.0.1", cluster.app_port("app1"), timeout=30))
    second = Officer(http.client.HTTPConnection("127.0.0.1", cluster.app_port("app2"), timeout=30))
    try:
        first.sign_in()
        second.cookies = dict(first.cookies)  # the same browser, sent to the other node
        assert second.get("/officer") == 200
        assert first.sign_out() == 303
        assert second.get("/officer") != 200  # ended on every node at once
    finally:
        first.conn.close()
        second.conn.close()


def test_status_names_every_service_in_service(cluster: LocalCluster) -> None:
    from typer.testing import CliRunner

    from web.cli import app

    result = CliRunner().invoke(app, ["cluster", "status", "--dir", str(cluster.root)])
    assert result.exit_code == 0, result.output
    assert f"site: {cluster.site_url}" in result.output
    assert result.output.count("in HAProxy UP") == 4
    assert result.output.count(" primary") == 1 and result.output.count(" secondary") == 2
    assert f"DATABASE_URL={cluster.database_url}" in result.output


def test_down_ends_every_process_and_status_says_so(cluster: LocalCluster) -> None:
    from typer.testing import CliRunner

    from web.cli import app

    pids = [daemon.pid() for daemon in (
        *(cluster.daemon(name) for name in [*cluster.app_names, *cluster.read_names, "haproxy"]),
        *(cluster.formation.daemon(name) for name in ["monitor", *cluster.formation.node_names]))]
    assert all(pids)
    result = CliRunner().invoke(app, ["cluster", "down", "--dir", str(cluster.root)])
    assert result.exit_code == 0, result.output
    left = [stat.parent.name for stat in Path("/proc").glob("[0-9]*/stat")
            if _group_of(stat) in pids]
    assert left == []
    result = CliRunner().invoke(app, ["cluster", "status", "--dir", str(cluster.root)])
    assert result.exit_code == 3
    assert "HAProxy: stopped" in result.output and "(stopped)" in result.output


def _group_of(stat: Path) -> int | None:
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[2]) if fields[0] != "Z" else None
