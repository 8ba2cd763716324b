"""Shared machinery of the browser tests: the app on a loopback port, Debian's Chromium, and a
page that records console errors and any request leaving 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from tests.support.web import settle
from web.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """uvicorn serving the app in a background thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread


def serve(engine: Engine) -> Iterator[LiveServer]:
    """Run the app against ``engine`` on a free loopback port until the generator closes."""
    app = create_app(engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    server.should_exit = True
    thread.join(timeout=10)
    settle(app)


@dataclass
class Watch:
    """What a page did that a test must not allow."""

    console_errors: list[str] = field(default_factory=list)
    offsite_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.offsite_requests, f"requests left 127.0.0.1: {self.offsite_requests}"
        assert not self.failed_requests, f"requests failed: {self.failed_requests}"


def require_chromium() -> None:
    if not shutil.which("chromium") and not shutil.which("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
