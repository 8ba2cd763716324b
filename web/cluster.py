"""``edugis cluster``: a highly available edugis on one machine, from existing engines.

The whole deployment under one folder (default ``<data_dir>/cluster``), every service on
127.0.0.1 and its own port, counted from a base port (default 5600):

=================  =======================  =============================================
port               service                  engine
=================  =======================  =============================================
base               pg_auto_failover monitor  ``pg_autoctl`` (``gis_service.formation``)
base + 1 ... + M+1  PostgreSQL primary and M   ``pg_autoctl`` keepers, synchronous
                   standbys                 replication (``number_sync_standbys`` 1)
base + 11 ... + N  N app nodes              ``edugis serve`` (uvicorn)
base + 80          the site                 HAProxy (``web.balancer``), ``/readyz`` checks
=================  =======================  =============================================

The app nodes reach the database with a libpq multi-host URL that connects to the primary
only (``target_session_attrs=read-write``): after a failover their pooled connections fail
the pre-ping and the next connection finds the new primary, so every write and every
officer read go to the primary (read-your-writes). The nodes share ``EDUGIS_DATA_DIR`` (the
session key, so a session signed by one node is good on every other one, and the compiled
road graphs, so a node started later finds them on disk) and nothing else: sessions are
checked against the database on every request, so signing out ends them on every node.

:class:`LocalCluster` is the Python side (``up``, ``down``, ``status``, and killing or
restarting one service for the chaos test, ``tests/cluster``); the layout is kept in
``<root>/cluster.json`` so ``status`` and ``down`` need no options.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gis_service.errors import InvalidValueError, StateError
from gis_service.formation import HOST, Formation
from gis_service.processes import Daemon
from web.balancer import haproxy_config, server_states

LAYOUT_FILE = "cluster.json"
#: Offsets from the base port: the first app node, the site (HAProxy).
APP_PORT_OFFSET, READ_PORT_OFFSET, SITE_PORT_OFFSET = 11, 21, 80
MAX_NODES, MAX_STANDBYS = 9, 8


@dataclass(frozen=True)
class LocalCluster:
    """N app nodes behind HAProxy on a pg_auto_failover formation of 1 + M nodes.

    Parameters
    ----------
    root
        The folder of everything (databases, configuration, pid files, logs).
    nodes, standbys
        App nodes (``edugis serve``) and PostgreSQL standbys.
    read_nodes
        App nodes on the standbys (``target_session_attrs=prefer-standby``): HAProxy sends
        them the public GETs (``web.balancer.PUBLIC_PATHS``).
    base_port
        The monitor's port; the others follow it (module docstring).
    workers
        uvicorn workers per app node.
    data_dir
        ``EDUGIS_DATA_DIR`` of the app nodes (their shared session key and graph cache).
    """

    root: Path
    nodes: int = 2
    standbys: int = 2
    base_port: int = 5600
    workers: int = 1
    data_dir: Path = field(default_factory=lambda: Path("var").resolve())
    read_nodes: int = 0

    def __post_init__(self) -> None:
        """Refuse a layout whose ports would overlap."""
        if not 1 <= self.nodes <= MAX_NODES:
            raise InvalidValueError(f"--nodes: 1 to {MAX_NODES} app nodes, not {self.nodes}")
        if not 0 <= self.read_nodes <= MAX_NODES:
            raise InvalidValueError(f"--read-nodes: 0 to {MAX_NODES}, not {self.read_nodes}")
        if not 1 <= self.standbys <= MAX_STANDBYS:
            raise InvalidValueError(f"--standbys: 1 to {MAX_STANDBYS}, not {self.standbys}")
        if not 1024 <= self.base_port <= 65535 - SITE_PORT_OFFSET:
            raise InvalidValueError(f"--base-port: 1024 to {65535 - SITE_PORT_OFFSET}")
        if self.workers < 1:
            raise InvalidValueError("--workers: at least 1")

    # ---- layout ----------------------------------------------------------------------

    @classmethod
    def load(cls, root: Path) -> LocalCluster:
        """Return the cluster whose layout ``up`` saved in ``root``."""
        try:
            saved = json.loads((root / LAYOUT_FILE).read_text())
        except FileNotFoundError as exc:
            raise StateError(f"no cluster in {root} (edugis cluster up makes one)") from exc
        return cls(root=root, nodes=saved["nodes"], standbys=saved["standbys"],
                   base_port=saved["base_port"], workers=saved["workers"],
                   data_dir=Path(saved["data_dir"]), read_nodes=saved.get("read_nodes", 0))

    def save(self) -> None:
        """Keep the layout in ``<root>/cluster.json``."""
        self.root.mkdir(parents=True, exist_ok=True)
        layout = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        (self.root / LAYOUT_FILE).write_text(json.dumps(layout, indent=1) + "\n")

    @property
    def formation(self) -> Formation:
        """The database: monitor, primary and standbys."""
        return Formation(self.root, self.base_port, self.standbys)

    @property
    def app_names(self) -> list[str]:
        """The app nodes' names on the primary, ``app1`` first."""
        return [f"app{i + 1}" for i in range(self.nodes)]

    @property
    def read_names(self) -> list[str]:
        """The read nodes' names, ``read1`` first."""
        return [f"read{i + 1}" for i in range(self.read_nodes)]

    def app_port(self, name: str) -> int:
        """Return the port of app node ``name`` (of the primary, or a read node)."""
        if name in self.read_names:
            return self.base_port + READ_PORT_OFFSET + self.read_names.index(name)
        return self.base_port + APP_PORT_OFFSET + self.app_names.index(name)

    @property
    def site_port(self) -> int:
        """HAProxy's port: the site."""
        return self.base_port + SITE_PORT_OFFSET

    @property
    def site_url(self) -> str:
        """The site's address (HAProxy)."""
        return f"http://{HOST}:{self.site_port}"

    @property
    def database_url(self) -> str:
        """The ``DATABASE_URL`` of the app nodes (the primary, wherever it is)."""
        return self.formation.url()

    @property
    def stats_socket(self) -> Path:
        """HAProxy's admin socket."""
        return self.root / "run" / "haproxy.sock"

    def daemon(self, name: str) -> Daemon:
        """Return the process of app node ``name`` or of ``haproxy``."""
        return Daemon(name, self.root / "run", self.root / "log")

    # ---- lifecycle -------------------------------------------------------------------

    def up(self, echo: Callable[[str], None] = lambda _: None) -> None:
        """Start (creating what is missing) the database, the app nodes and HAProxy.

        Returns once the site answers through HAProxy with every app node in service.
        Idempotent: what runs is left running, what is stopped is started.
        """
        self.start_database(echo)
        self.start_apps(echo)
        self.start_balancer(echo)

    def start_database(self, echo: Callable[[str], None] = lambda _: None) -> None:
        """Bring the formation up, then create and migrate edugis's database on it."""
        from gis_service.db import prepare

        self.save()
        self.formation.up(echo=echo)
        prepare(self.database_url)

    def start_apps(self, echo: Callable[[str], None] = lambda _: None,
                   timeout_s: float = 300.0) -> None:
        """Start every app node that is not running; return once each answers ``/readyz``."""
        for name in [*self.app_names, *self.read_names]:
            self.start_app(name, echo)
        for name in [*self.app_names, *self.read_names]:
            self.wait_ready(name, timeout_s)

    def start_app(self, name: str, echo: Callable[[str], None] = lambda _: None) -> None:
        """Start app node ``name`` (``edugis serve``) unless it runs; do not wait for it."""
        daemon = self.daemon(name)
        if daemon.pid() is not None:
            return
        reads = name in self.read_names
        echo(f"starting {'read' if reads else 'app'} node {name} on {HOST}:{self.app_port(name)}")
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "EDUGIS_DATABASE_URL")}
        env.update({"DATABASE_URL": self.formation.url(read_write=not reads),
                    "EDUGIS_DATA_DIR": str(self.data_dir),
                    "NUMBA_NUM_THREADS": "1"})
        daemon.start([sys.executable, "-c", "from web.cli import main; main()", "serve",
                      "--host", HOST, "--port", str(self.app_port(name)),
                      "--workers", str(self.workers)], env, cwd=Path.cwd())

    def wait_ready(self, name: str, timeout_s: float = 300.0) -> None:
        """Wait until app node ``name`` answers 200 on ``/readyz``."""
        url = f"http://{HOST}:{self.app_port(name)}/readyz"
        deadline = time.monotonic() + timeout_s
        while not _answers_200(url):
            if self.daemon(name).pid() is None or time.monotonic() > deadline:
                log = self.daemon(name).log_file
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise StateError(f"app node {name} did not get ready (log {log}):\n{tail}")
            time.sleep(0.3)

    def start_balancer(self, echo: Callable[[str], None] = lambda _: None,
                       timeout_s: float = 30.0) -> None:
        """Write HAProxy's configuration and start it; return once every app node is UP."""
        config = self.root / "haproxy.cfg"
        config.write_text(haproxy_config(
            self.site_port, {name: self.app_port(name) for name in self.app_names},
            self.stats_socket, {name: self.app_port(name) for name in self.read_names}))
        daemon = self.daemon("haproxy")
        if daemon.pid() is None:
            echo(f"starting HAProxy on {self.site_url}")
            # -db: stay in the foreground (the Daemon detaches it), logging to its log file
            daemon.start([_haproxy(), "-db", "-f", str(config)], dict(os.environ))
        deadline = time.monotonic() + timeout_s
        while True:
            states = server_states(self.stats_socket)
            if len(states) == self.nodes + self.read_nodes and all(
                    s.status == "UP" for s in states):
                return
            if daemon.pid() is None or time.monotonic() > deadline:
                log = daemon.log_file.read_text(errors="replace")[-3000:]
                raise StateError(f"HAProxy did not put every app node in service "
                                 f"({states}):\n{log}")
            time.sleep(0.2)

    def down(self) -> list[str]:
        """Stop HAProxy, the app nodes, then the database; return what was stopped."""
        stopped = []
        if self.daemon("haproxy").stop(signal.SIGTERM, timeout_s=10):
            stopped.append("haproxy")
        for name in [*self.read_names, *self.app_names]:
            # SIGTERM: uvicorn finishes the requests under way
            if self.daemon(name).stop(signal.SIGTERM, timeout_s=30):
                stopped.append(name)
        return stopped + self.formation.down()

    def status(self) -> dict[str, Any]:
        """Every service, where it listens and in which state; ``running`` if all serve."""
        database = self.formation.state()
        balancer = {s.name: s.status for s in server_states(self.stats_socket)}
        apps = [{"name": name, "url": f"http://{HOST}:{self.app_port(name)}",
                 "running": self.daemon(name).pid() is not None,
                 "haproxy": balancer.get(name, "-"), "reads_only": name in self.read_names}
                for name in [*self.app_names, *self.read_names]]
        running = (len(database) == 1 + self.standbys and all(n.settled for n in database)
                   and all(app["running"] and app["haproxy"] == "UP" for app in apps)
                   and self.daemon("haproxy").pid() is not None)
        return {
            "running": running, "root": str(self.root), "site": self.site_url,
            "haproxy": self.daemon("haproxy").pid() is not None,
            "monitor": f"{HOST}:{self.base_port}",
            "monitor_running": self.formation.daemon("monitor").pid() is not None,
            "database": [{"name": n.name, "address": f"{HOST}:{n.port}", "state": n.reported,
                          "assigned": n.assigned, "healthy": n.healthy} for n in database],
            "apps": apps, "database_url": self.database_url, "logs": str(self.root / "log"),
        }


def _haproxy() -> str:
    found = shutil.which("haproxy", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise StateError("haproxy not found: install Debian's haproxy (bin/setup does)")
    return found


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError):
        return False
