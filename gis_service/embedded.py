"""The embedded default database: a private PostgreSQL + PostGIS cluster on a Unix socket.

With no ``DATABASE_URL``, edugis keeps its own cluster in ``<data_dir>/pg``: created with
the system's ``initdb``, started with ``pg_ctl``, listening on a Unix socket only (no TCP),
reachable only by its owner. PostgreSQL refuses to run as root, so when edugis runs as
root the cluster belongs to, and runs as, the ``postgres`` system user.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gis_service.errors import DatabaseError
from gis_service.settings import Settings

SUPERUSER = "postgres"
PORT = 5432
#: Given at every start, so they hold whatever an older ``postgresql.conf`` says (clusters made
#: before 2026-12 had ``synchronous_commit = off``, which lost acknowledged officer writes on
#: a crash): a commit returns only once its WAL is on disk.
DURABILITY = "-c synchronous_commit=on -c fsync=on -c full_page_writes=on"
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.5432"


def postgres_bindir(override: Path | None = None) -> Path:
    """Return the folder of the PostgreSQL server binaries.

    It is ``override`` (the setting ``pg_bin``, ``EDUGIS_PG_BIN``) or the newest
    /usr/lib/postgresql/N/bin.
    """
    if override is not None:
        return override
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise DatabaseError(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin); "
            "install postgresql and postgis (bin/setup does), or set DATABASE_URL"
        )
    return candidates[-1].parent


@dataclass(frozen=True)
class Cluster:
    """A private PostgreSQL cluster living in ``data_dir``.

    It runs with the binaries in ``bin_dir`` (default: see :func:`postgres_bindir`).
    """

    data_dir: Path
    bin_dir: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> Cluster:
        """Return the embedded cluster the settings describe (``pg_dir``, ``pg_bin``)."""
        return cls(settings.pg_path, settings.pg_bin)

    @property
    def socket_dir(self) -> Path:
        """Where the socket lives: inside the cluster, or a short /tmp path if that is too long."""
        inside = self.data_dir / "run"
        if len(str(inside)) + 15 <= _SOCKET_PATH_MAX:
            return inside
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"edugis-{digest}"

    @property
    def log_file(self) -> Path:
        """The server's log file."""
        return self.data_dir / "server.log"

    @property
    def pgdata(self) -> Path:
        """The cluster's data directory (``PGDATA``)."""
        return self.data_dir / "data"

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of ``database`` on this cluster (psycopg 3, Unix socket)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={PORT}"

    # ---- lifecycle -------------------------------------------------------------------

    def is_initialised(self) -> bool:
        """Tell whether the cluster's data directory was created (``initdb`` ran)."""
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        """Tell whether the cluster's server is running (``pg_ctl status``)."""
        if not self.is_initialised():
            return False
        result = self._run(["pg_ctl", "status", "-D", str(self.pgdata)], check=False)
        return result.returncode == 0

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the cluster's lock file while starting or stopping it.

        Processes doing so at once (the app and a command, parallel test workers) take turns:
        two ``initdb`` or two ``pg_ctl start`` on one folder would break it.
        """
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with (self.data_dir.parent / f".{self.data_dir.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def up(self) -> bool:
        """Initialise (first time) and start the cluster; return True if it was started now.

        A cluster already running is made durable if an older edugis configured it otherwise.
        """
        with self._turn():
            return self._up()

    def _up(self) -> bool:
        if self.is_running():
            self._make_durable()
            return False
        if not self.is_initialised():
            self._initialise()
        self._prepare_socket_dir()
        result = self._run(
            ["pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata), "-l", str(self.log_file),
             "-o", DURABILITY],
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise DatabaseError(f"could not start the embedded PostgreSQL:\n{result.stderr}\n{tail}")
        return True

    def _make_durable(self) -> None:
        """Drop the asynchronous-commit line of older versions and reload the configuration.

        Older edugis versions wrote that line into ``postgresql.conf``; have the running
        server read its configuration again (the durability settings take effect on reload;
        later starts pass :data:`DURABILITY`).
        """
        conf = self.pgdata / "postgresql.conf"
        lines = conf.read_text().splitlines(keepends=True)
        kept = [line for line in lines if line.strip() != "synchronous_commit = off"]
        if kept != lines:
            conf.write_text("".join(kept))
            self._run(["pg_ctl", "reload", "-D", str(self.pgdata)])

    def down(self) -> bool:
        """Stop the cluster; return True if it was running."""
        with self._turn():
            if not self.is_running():
                return False
            self._run(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata)])
            return True

    # ---- machinery -----------------------------------------------------------------

    def _owner(self) -> pwd.struct_passwd | None:
        """Return the system user the server runs as when we are root, else None (ourselves)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise DatabaseError(
                "running as root needs the 'postgres' system user (install postgresql)"
            ) from exc

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(postgres_bindir(self.bin_dir) / argv[0]), *argv[1:]]
        owner = self._owner()
        if owner is not None:
            argv = ["runuser", "-u", owner.pw_name, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            raise DatabaseError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _chown(self, path: Path) -> None:
        owner = self._owner()
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def _grant_traverse(self) -> None:
        """Let the postgres user reach ``data_dir`` (o+x on ancestors that lack it)."""
        if self._owner() is None:
            return
        for parent in reversed(self.data_dir.parents):
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def _prepare_socket_dir(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.socket_dir, 0o700)
        self._chown(self.socket_dir)

    def _initialise(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._grant_traverse()
        os.chmod(self.data_dir, 0o700)
        self._chown(self.data_dir)
        if self.pgdata.exists():  # a half-made cluster from an interrupted initdb
            shutil.rmtree(self.pgdata)
        self._run([
            "initdb", "-D", str(self.pgdata), "-U", SUPERUSER, "--auth-local=trust",
            "--auth-host=reject", "--encoding=UTF8", "--locale=C.UTF-8",
        ])
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write(
                "\n# edugis embedded cluster: Unix socket only, owner-only socket\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "unix_socket_permissions = 0700\n"
                f"port = {PORT}\n"
                "shared_buffers = 256MB\n"
                "work_mem = 32MB\n"
                "maintenance_work_mem = 256MB\n"
                "max_wal_size = 2GB\n"
            )
