"""Benchmark: the mixed profile through HAProxy on 1 app node vs 2, and the failover time.

The cluster of ``edugis cluster`` (``web.cluster``: app nodes of ``--workers`` uvicorn workers
behind HAProxy, a pg_auto_failover primary with ``--standbys`` synchronous standbys) holds the
demo city (``bench/web_load.py``'s, loaded once per run into a cluster under /tmp, ports
5660-5740, or the next free block of 100 up). The load is ``bench/web_load.py``'s mixed
profile (60 % ``/api/nearest``, 25 % tiles z13-z16, 15 % small OGC pages) from
``--clients`` keep-alive clients, each from its own loopback address, through HAProxy:

1. one node: the second app node put in maintenance in HAProxy (its stats socket);
2. two nodes: both in service; the same requests. Printed: requests per second, p50/p95/p99,
   errors, and the ratios two nodes / one node (baseline: one node, same run). 30,000
   requests by default (about 10-20 s each): with 3,000 (under 2 s) the second node was
   still warming and the ratio read 0.83x on a quiet machine where 30,000 read 1.87x.
3. failover: under a light mixed load with an officer creating rounds (``tests/support/
   cluster.py``), ``kill -9`` of the primary's keeper and PostgreSQL; the seconds until a
   write succeeds again, and until the old primary is back as a standby.

On a 2-core machine the load generator, HAProxy, PostgreSQL and the nodes share the cores, so
two nodes of one worker each can at best use both cores where one node used one.

Run: ``.venv/bin/python bench/cluster_load.py [--clients 50] [--requests 30000] [--workers 1]
[--standbys 1]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web_load import hammer, mixed_workload, run, workload  # noqa: E402

from tests.support.cluster import Load, build_cluster, free_base_port, stored_rounds  # noqa: E402
from web.balancer import server_states, set_server_enabled  # noqa: E402
from web.cluster import LocalCluster  # noqa: E402

BASE_PORT = 5660


def group_cpu_seconds(pgid: int | None) -> float:
    """User + system CPU seconds of the live processes of process group ``pgid``."""
    if pgid is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(pgid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu_use(cluster: LocalCluster) -> dict[str, float]:
    """CPU seconds so far of each app node, HAProxy, PostgreSQL (all nodes) and this process."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        **{name: group_cpu_seconds(cluster.daemon(name).pid()) for name in cluster.app_names},
        "haproxy": group_cpu_seconds(cluster.daemon("haproxy").pid()),
        "postgres": sum(group_cpu_seconds(cluster.formation.daemon(name).pid())
                        for name in ["monitor", *cluster.formation.node_names]),
        "load generator": own.ru_utime + own.ru_stime,
    }


def measure(cluster: LocalCluster, label: str, urls: list[str], clients: int) -> tuple[float, float]:
    """The mixed profile through HAProxy, printed with the cores each part used; (requests
    per second, p95 ms)."""
    errors: list[str] = []
    before = cpu_use(cluster)
    started = time.perf_counter()
    ms = run(hammer(cluster.site_url, urls, clients, errors))
    seconds = time.perf_counter() - started
    cores = {k: (v - before[k]) / seconds for k, v in cpu_use(cluster).items()}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    rate = len(ms) / seconds
    print(f"{label:12s} {clients} clients: {rate:6.0f} req/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
          f"  p99 {p99:6.1f} ms  errors {len(errors)}{' (' + errors[0] + ')' if errors else ''}"
          f"\n             cores used: " + ", ".join(f"{k} {v:.2f}" for k, v in cores.items())
          + f" (total {sum(cores.values()):.2f} of {os.cpu_count()})", flush=True)
    return rate, float(p95)


def wait_states(cluster: LocalCluster, wanted: dict[str, str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while {s.name: s.status for s in server_states(cluster.stats_socket)} != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"HAProxy states: {server_states(cluster.stats_socket)}")
        time.sleep(0.2)


def failover(cluster: LocalCluster, urls: list[str]) -> None:
    """Kill the primary under a light load; print the seconds until writes and the rejoin."""
    formation = cluster.formation
    old = formation.primary()
    assert old is not None
    load = Load(cluster.site_url, urls, readers=4, prefix="bench-failover").start()
    try:
        time.sleep(3)
        acknowledged_before = load.acknowledged_writes()
        killed_at = time.monotonic()
        formation.daemon(old).kill()
        deadline = killed_at + 90
        while not any(o.kind == "write" and o.ok and o.started > killed_at for o in list(load.outcomes)):
            if time.monotonic() > deadline:
                raise RuntimeError("no write succeeded within 90 s of the kill")
            time.sleep(0.1)
        writes_back = min(o.ended for o in list(load.outcomes)
                          if o.kind == "write" and o.ok and o.started > killed_at) - killed_at
        time.sleep(3)
    finally:
        load.stop()
    # reads answered from the nodes' memory go on until HAProxy's /readyz checks fail; the
    # service is back once nothing fails any more
    failures = [o.ended for o in load.outcomes if not o.ok and o.started > killed_at]
    last_failure = max(failures) - killed_at if failures else 0.0
    stored = stored_rounds(cluster.database_url, "bench-failover")
    lost = load.acknowledged_writes() - stored
    print(f"failover: primary {old} killed (kill -9), {formation.primary()} promoted; first write "
          f"acknowledged {writes_back:.1f} s after the kill, last failed request "
          f"{last_failure:.1f} s after it ({len(failures)} failed); "
          f"{len(acknowledged_before)} writes acknowledged before the kill, "
          f"{len(load.acknowledged_writes())} in all, {len(lost)} lost", flush=True)
    started = time.monotonic()
    formation.start_node(old)
    states = {node.name: node.reported for node in formation.wait_settled(timeout_s=120)}
    print(f"failover: {old} back as {states[old]} {time.monotonic() - started:.1f} s after its "
          f"keeper was started again", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per app node")
    parser.add_argument("--standbys", type=int, default=1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="edugis-cluster-load-", dir="/tmp"))
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("EDUGIS_SECRET_KEY", "cluster-load-bench-secret-key-0123456789")
    cluster = LocalCluster(root, nodes=2, standbys=args.standbys, base_port=free_base_port(BASE_PORT),
                           workers=args.workers, data_dir=root / "data")
    try:
        started = time.monotonic()
        build_cluster(cluster, city_nodes=60_000, echo=print)
        print(f"cluster up with the demo city in {time.monotonic() - started:.0f} s; cpus "
              f"{os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)
        homes, tiles = workload(2026, args.requests)
        mixed = mixed_workload(2027, homes, tiles, args.requests)
        # warm-up of both nodes: searches, tiles and OGC pages in every worker's caches
        run(hammer(cluster.site_url, homes[-300:], args.clients, []))
        for _ in range(2):
            run(hammer(cluster.site_url, tiles, args.clients, []))
        run(hammer(cluster.site_url, mixed[:500], args.clients, []))
        set_server_enabled(cluster.stats_socket, "app2", False)
        wait_states(cluster, {"app1": "UP", "app2": "MAINT"})
        one_rate, one_p95 = measure(cluster, "1 app node", mixed, args.clients)
        set_server_enabled(cluster.stats_socket, "app2", True)
        wait_states(cluster, {"app1": "UP", "app2": "UP"})
        two_rate, two_p95 = measure(cluster, "2 app nodes", mixed, args.clients)
        print(f"ratio 2 nodes / 1 node: throughput {two_rate / one_rate:.2f}x, p95 "
              f"{two_p95 / one_p95:.2f}x (baseline: 1 node, same run)", flush=True)
        from tests.support.cluster import mixed_urls

        failover(cluster, mixed_urls(cluster.database_url, 2000))
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
