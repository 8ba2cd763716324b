"""A replicated PostgreSQL on one machine: a pg_auto_failover monitor, a primary and standbys.

``edugis cluster`` (``web.cluster``) runs its database as a pg_auto_failover formation
(Debian's ``postgresql-15-auto-failover``): a monitor that watches the nodes and decides
failovers, and data nodes each kept by a ``pg_autoctl`` keeper that starts, stops, promotes,
demotes and rewinds its PostgreSQL. Replication is synchronous (``number_sync_standbys`` 1:
a commit returns once its WAL is flushed on the primary and on at least one standby), so a
write acknowledged before the primary dies is on the standby the monitor promotes (it picks
the most advanced one). The app reaches the primary with a libpq multi-host URL and
``target_session_attrs=read-write`` (:meth:`Formation.url`): after a failover its next
connection finds the new primary by itself.

Everything listens on 127.0.0.1 only, with ``trust`` for local TCP connections: a machine for
tests and demos, not a shared host (README: the layout for real hosts, with passwords and
TLS). As root the monitor and the nodes run as the ``postgres`` system user, as the embedded
cluster does. ``pg_autoctl`` keeps its configuration and state under the formation's folder
(``XDG_CONFIG_HOME``, ``XDG_DATA_HOME``), so formations in other folders do not meet.

The monitor's timings are shortened for one machine (:data:`FAST_FAILOVER`): a dead primary
is replaced in ~10 s instead of ~50 s with the defaults, which allow for a busy network. They
apply once every node serves, and are reset before the monitor stops: on a restart the
nodes' last reports are old, and the short timings would fail the primary over before its
keeper is back.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gis_service.embedded import SUPERUSER, postgres_bindir
from gis_service.errors import DatabaseError
from gis_service.processes import Daemon

HOST = "127.0.0.1"
FORMATION = "default"
#: The monitor's settings for one machine (defaults in brackets): a node is checked every
#: second [5 s] with a 1 s timeout [5 s], one retry [2] after 0.5 s [2 s], and is unhealthy
#: 3 s after its last report [20 s]; a standby is promoted once the unreachable primary had
#: 6 s [30 s] to notice it lost the monitor and its standbys and stop taking writes (the
#: keepers' ``network_partition_timeout``, :data:`PARTITION_TIMEOUT_S`, is shorter).
FAST_FAILOVER = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "3000",
    "pgautofailover.primary_demote_timeout": "6000",
}
#: Seconds a keeper's primary waits, cut off from the monitor and every standby, before it
#: demotes itself [20 s]: shorter than the monitor's ``primary_demote_timeout``.
PARTITION_TIMEOUT_S = 4
#: States of a node that serves (``current_state``'s reported and assigned states agree).
SERVING = {"single", "primary", "wait_primary", "secondary"}


@dataclass(frozen=True)
class NodeState:
    """One node as the monitor reports it."""

    name: str
    port: int
    reported: str
    assigned: str
    healthy: bool

    @property
    def settled(self) -> bool:
        """Whether the node reached the state the monitor assigned it, a serving one."""
        return self.reported == self.assigned and self.reported in SERVING

    @property
    def is_primary(self) -> bool:
        """Whether the node takes writes."""
        return self.reported in {"single", "primary", "wait_primary"} and self.settled


@dataclass(frozen=True)
class Formation:
    """A pg_auto_failover monitor on ``monitor_port`` and ``1 + standbys`` data nodes.

    Data node ``i`` is named ``node{i + 1}`` and listens on ``monitor_port + 1 + i``; every
    folder lives under ``root``. The first node created is the first primary.
    """

    root: Path
    monitor_port: int
    standbys: int = 1
    database: str = "edugis"
    bin_dir: Path | None = None

    # ---- layout ----------------------------------------------------------------------

    @property
    def node_names(self) -> list[str]:
        """The data nodes' names, ``node1`` first."""
        return [f"node{i + 1}" for i in range(1 + self.standbys)]

    def port(self, name: str) -> int:
        """Return the port of data node ``name``."""
        return self.monitor_port + self.node_names.index(name) + 1

    def pgdata(self, name: str) -> Path:
        """Return the data folder of ``name`` (a data node, or ``monitor``)."""
        return self.root / "pg" / name

    def daemon(self, name: str) -> Daemon:
        """Return the ``pg_autoctl`` keeper of ``name`` (a data node, or ``monitor``)."""
        return Daemon(f"pg-{name}", self.root / "run", self.root / "log")

    def url(self, read_write: bool = True) -> str:
        """Return the SQLAlchemy URL of the database: every data node in a multi-host list.

        ``read_write``: connect only to the primary (``target_session_attrs=read-write``),
        else to any node that answers, standbys first (``prefer-standby``).
        """
        hosts = "&".join(f"host={HOST}:{self.port(name)}" for name in self.node_names)
        attrs = "read-write" if read_write else "prefer-standby"
        return (f"postgresql+psycopg://{SUPERUSER}@/{self.database}?{hosts}"
                f"&target_session_attrs={attrs}")

    @property
    def monitor_dsn(self) -> str:
        """The libpq connection string of the monitor (as the nodes' user)."""
        return f"host={HOST} port={self.monitor_port} dbname=pg_auto_failover user=autoctl_node"

    def node_dsn(self, name: str, database: str | None = None) -> str:
        """Return the libpq connection string of one data node, as the superuser."""
        return (f"host={HOST} port={self.port(name)} dbname={database or self.database} "
                f"user={SUPERUSER}")

    # ---- lifecycle -------------------------------------------------------------------

    def up(self, timeout_s: float = 180.0, echo: Callable[[str], None] = lambda _: None) -> None:
        """Create (first time) and start the monitor and every node; return once all serve.

        Idempotent: what runs already is left running, a stopped node is started again (it
        rejoins as a standby when another node took over meanwhile).
        """
        self._prepare_folders()
        deadline = time.monotonic() + timeout_s
        if not self._created("monitor"):
            echo(f"creating the pg_auto_failover monitor on {HOST}:{self.monitor_port}")
            self._autoctl(["create", "monitor", "--pgdata", str(self.pgdata("monitor")),
                           "--pgport", str(self.monitor_port), "--hostname", HOST, "--listen",
                           HOST, "--auth", "trust", "--no-ssl"])
        self._start("monitor")
        self._wait(lambda: self._monitor_answers(), deadline, "the monitor to answer")
        # the default timings until every node serves: on a restart the nodes' last reports
        # are old, and the short ones would fail the primary over before it is back
        self._tune_monitor(fast=False)
        # the nodes made before start together: one started alone would look to the
        # monitor like the only survivor of a failure
        made = [name for name in self.node_names if self._created(name)]
        for name in made:
            self._start(name)
        if not made:
            first = self.node_names[0]
            echo(f"creating the primary {first} on {HOST}:{self.port(first)}")
            self._start(first)
            self._wait(lambda: any(node.name == first and node.settled for node in self.state())
                       and self._serves(first), deadline, f"{first} to serve")
            made = [first]
        for name in self.node_names:
            if name not in made:
                echo(f"creating the standby {name} on {HOST}:{self.port(name)}")
                self._start(name)
        self._wait(self._all_settled_checkpointing, deadline, "every node to serve")
        self._tune_monitor(fast=True)
        for name in self.node_names:
            self._autoctl(["config", "set", "--pgdata", str(self.pgdata(name)),
                           "timeout.network_partition_timeout", str(PARTITION_TIMEOUT_S)])

    def down(self) -> list[str]:
        """Stop the monitor, then every node together (a fast stop); return those stopped."""
        # the monitor first, so that no failover is decided while the nodes stop; then the
        # nodes at once, so that none sees the others go for a partition. SIGINT is
        # pg_autoctl's fast stop (its PostgreSQL too); SIGTERM would wait for every client
        if self._monitor_answers():
            self._tune_monitor(fast=False, reload=False)  # the next start begins with defaults
        stopped = ["monitor"] if self.daemon("monitor").stop(signal.SIGINT, timeout_s=60) else []
        running = [name for name in self.node_names if self.daemon(name).send(signal.SIGINT)]
        for name in running:
            self.daemon(name).stop(signal.SIGINT, timeout_s=60)
        return stopped + running

    def start_node(self, name: str) -> None:
        """Start the keeper of ``name`` again (after a crash): it rejoins the formation."""
        self._start(name)

    def state(self) -> list[NodeState]:
        """Return the data nodes as the monitor sees them (none when it does not answer)."""
        try:
            with psycopg.connect(self.monitor_dsn, connect_timeout=3) as conn:
                rows = conn.execute(
                    "SELECT nodename, nodeport, current_group_state::text,"
                    " assigned_group_state::text, health FROM pgautofailover.current_state(%s)"
                    " ORDER BY nodename", (FORMATION,)).fetchall()
        except psycopg.Error:
            return []
        return [NodeState(str(name), int(port), str(reported), str(assigned), health == 1)
                for name, port, reported, assigned, health in rows]

    def primary(self) -> str | None:
        """Return the name of the node taking writes, if one does."""
        return next((node.name for node in self.state() if node.is_primary), None)

    def wait_settled(self, timeout_s: float = 60.0) -> list[NodeState]:
        """Wait until every data node serves in its assigned state; return the states.

        A node that rejoins by copying the primary (when ``pg_rewind`` cannot be used) waits
        for a checkpoint, which the primary is asked for meanwhile.
        """
        self._wait(self._all_settled_checkpointing, time.monotonic() + timeout_s,
                   "every node to serve")
        return self.state()

    # ---- machinery -----------------------------------------------------------------

    def _owner(self) -> str | None:
        """Return the system user PostgreSQL runs as when we are root, else None."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise DatabaseError("running as root needs the 'postgres' system user "
                                "(install postgresql)") from exc
        return SUPERUSER

    def _env(self) -> dict[str, str]:
        bin_dir = postgres_bindir(self.bin_dir)
        home = self.root / "autoctl"
        return {"PATH": f"{bin_dir}:/usr/bin:/bin", "PG_CONFIG": str(bin_dir / "pg_config"),
                "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_DATA_HOME": str(home / "share"), "XDG_RUNTIME_DIR": str(home / "run"),
                "LANG": "C.UTF-8"}

    def _binary(self) -> str:
        found = shutil.which("pg_autoctl") or shutil.which(
            "pg_autoctl", path=str(postgres_bindir(self.bin_dir)))
        if found is None:
            raise DatabaseError("pg_autoctl not found: install postgresql-15-auto-failover "
                                "(bin/setup does)")
        return found

    def _autoctl(self, args: list[str]) -> str:
        done = subprocess.run([self._binary(), *args], env=self._env(), cwd="/",
                              user=self._owner(), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DatabaseError(f"pg_autoctl {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def _created(self, name: str) -> bool:
        """Whether ``pg_autoctl create`` finished for ``name`` (its configuration exists)."""
        config = Path(self._env()["XDG_CONFIG_HOME"]) / "pg_autoctl" / str(
            self.pgdata(name)).lstrip("/") / "pg_autoctl.cfg"
        return config.exists() and (self.pgdata(name) / "PG_VERSION").exists()

    def _start(self, name: str) -> None:
        """Run the keeper of ``name`` (``create ... --run`` the first time, ``run`` later)."""
        pgdata = str(self.pgdata(name))
        if self._created(name):
            args = ["run", "--pgdata", pgdata]
        else:
            args = ["create", "postgres", "--pgdata", pgdata, "--pgport", str(self.port(name)),
                    "--hostname", HOST, "--listen", HOST, "--auth", "trust", "--no-ssl",
                    "--monitor", f"postgres://autoctl_node@{HOST}:{self.monitor_port}/"
                    "pg_auto_failover?sslmode=disable", "--dbname", self.database,
                    "--name", name, "--run"]
        self.daemon(name).start([self._binary(), *args], self._env(), user=self._owner())

    def _prepare_folders(self) -> None:
        owner = self._owner()
        home = Path(self._env()["HOME"])
        for folder in (self.root / "pg", home / "config", home / "share", home / "run"):
            folder.mkdir(parents=True, exist_ok=True)
        if owner is None:
            return
        entry = pwd.getpwnam(owner)
        for parent in reversed(self.root.resolve().parents):  # let postgres reach the folder
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
        for folder in (self.root, self.root / "pg", home, home / "config", home / "share",
                       home / "run"):
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            os.chmod(folder, 0o700 if folder != self.root else 0o711)
        # PostgreSQL's default socket folder (Debian's postgresql-common makes it at boot)
        sockets = Path("/var/run/postgresql")
        if not sockets.exists():
            sockets.mkdir(parents=True)
            os.chown(sockets, entry.pw_uid, entry.pw_gid)
            os.chmod(sockets, 0o2775)

    def _monitor_answers(self) -> bool:
        try:
            with psycopg.connect(self.monitor_dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _tune_monitor(self, fast: bool, reload: bool = True) -> None:
        """Apply :data:`FAST_FAILOVER` to the monitor, or go back to the defaults."""
        dsn = f"host={HOST} port={self.monitor_port} dbname=pg_auto_failover user={SUPERUSER}"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            for name, value in FAST_FAILOVER.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'" if fast
                             else f"ALTER SYSTEM RESET {name}")
            if reload:
                conn.execute("SELECT pg_reload_conf()")

    def _serves(self, name: str) -> bool:
        """Tell whether ``name``'s PostgreSQL answers (the monitor's view may be stale)."""
        try:
            with psycopg.connect(self.node_dsn(name), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _all_settled(self) -> bool:
        nodes = self.state()
        return (len(nodes) == len(self.node_names) and all(node.settled for node in nodes)
                and all(self._serves(name) for name in self.node_names))

    def _all_settled_checkpointing(self) -> bool:
        """:meth:`_all_settled`, asking the primary for a checkpoint meanwhile.

        A new standby's ``pg_basebackup`` waits for the primary's next checkpoint, which
        ``pg_autoctl`` does not request (minutes with the default ``checkpoint_timeout``).
        """
        if self._all_settled():
            return True
        primary = self.primary()
        if primary is not None:
            try:
                with psycopg.connect(self.node_dsn(primary), autocommit=True,
                                     connect_timeout=2) as conn:
                    conn.execute("CHECKPOINT")
            except psycopg.Error:
                pass  # restarting; asked again on the next turn
        return False

    def _wait(self, condition: Callable[[], bool], deadline: float, what: str) -> None:
        while not condition():
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {name}\n" + _tail(self.daemon(name).log_file)
                                 for name in ["monitor", *self.node_names])
                raise DatabaseError(f"timed out waiting for {what}; logs under "
                                    f"{self.root / 'log'}:\n{logs}")
            time.sleep(0.5)


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
