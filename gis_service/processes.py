"""Long-running helper processes of a local deployment: started detached, found by pid file.

``edugis cluster up`` starts PostgreSQL keepers, app nodes and a load balancer that must
outlive the command, and ``down`` must find them again from another process. Each one is a
:class:`Daemon`: a named process started in its own session (so one signal reaches it and
every child it forks, PostgreSQL's backends included), its pid kept in ``<run_dir>/NAME.pid``
and its output in ``<log_dir>/NAME.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gis_service.errors import StateError


@dataclass(frozen=True)
class Daemon:
    """One detached process, known by ``name`` under ``run_dir`` (pid) and ``log_dir`` (log)."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        """Where the pid of the process (the leader of its process group) is kept."""
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        """Where the process writes its standard output and error."""
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """Return the pid of the process if it is running, else ``None``.

        The pid file also holds the process's start time: a pid reused by another process
        (after a reboot) is not taken for ours, so nothing else is ever signalled.
        """
        try:
            pid_text, started = self.pid_file.read_text().split()
            pid = int(pid_text)
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and _start_time(pid) == started else None

    def start(self, argv: Sequence[str], env: Mapping[str, str], user: str | None = None,
              cwd: Path | None = None) -> int:
        """Start ``argv`` detached (a new session), as ``user`` when given; return its pid.

        A process of this name already running is left as it is (its pid is returned).
        """
        running = self.pid()
        if running is not None:
            return running
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                list(argv), env=dict(env), cwd=cwd or "/", stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, user=user,
                group=user, extra_groups=[] if user else None)
        self.pid_file.write_text(f"{process.pid} {_start_time(process.pid)}\n")
        _CHILDREN[process.pid] = process
        return process.pid

    def send(self, signum: int) -> bool:
        """Send ``signum`` to the process and every process of its group; False if not running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> bool:
        """``kill -9`` the process and its group (what a crash or a pulled plug does)."""
        return self.send(signal.SIGKILL)

    def stop(self, signum: int = signal.SIGTERM, timeout_s: float = 30.0) -> bool:
        """Ask the process to stop (``signum``), kill its group after ``timeout_s``.

        Return True if it was running. The pid file is removed once it has ended.
        """
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        self.send(signum)
        deadline = time.monotonic() + timeout_s
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _group_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        if _group_alive(pid):
            raise StateError(f"process group {pid} ({self.name}) does not end")
        self.pid_file.unlink(missing_ok=True)
        return True


#: The processes this process started, so that it reaps them once they end (no zombies, no
#: warning from ``Popen`` that a child it forgets still runs: it is meant to).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _reap() -> None:
    for pid, process in list(_CHILDREN.items()):
        if process.poll() is not None:
            del _CHILDREN[pid]


def _start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks after boot, ``/proc/PID/stat``), or ''."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int) -> bool:
    """Tell whether process ``pid`` exists and is not a zombie."""
    _reap()
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _group_alive(pgid: int) -> bool:
    """Tell whether any live (not zombie) process is left in process group ``pgid``."""
    _reap()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if fields[2] == str(pgid) and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False
