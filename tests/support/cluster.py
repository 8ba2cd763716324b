"""The highly available cluster of the chaos test and the cluster benchmark: a small demo city
on a pg_auto_failover formation behind HAProxy, and a bounded mixed load on it (public reads of
the mixed profile, an officer creating rounds) that records every answer."""

from __future__ import annotations

import http.client
import math
import random
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import sqlalchemy as sa

from gis_service import db
from web.cluster import (
    APP_PORT_OFFSET,
    MAX_NODES,
    MAX_STANDBYS,
    READ_PORT_OFFSET,
    SITE_PORT_OFFSET,
    LocalCluster,
)

OFFICER, PASSWORD = "chaos_officer", "Chaos officer password 2026"


def free_base_port(first: int, step: int = 100, tries: int = 10) -> int:
    """A base port for a cluster whose every port is free on 127.0.0.1, from ``first`` up by
    ``step`` (another run of the same test, a CI job, may hold the first block)."""
    offsets = [*range(0, 1 + 1 + MAX_STANDBYS), *range(APP_PORT_OFFSET, APP_PORT_OFFSET + MAX_NODES),
               *range(READ_PORT_OFFSET, READ_PORT_OFFSET + MAX_NODES), SITE_PORT_OFFSET]
    for base in range(first, first + step * tries, step):
        if all(_port_free(base + offset) for offset in offsets):
            return base
    raise RuntimeError(f"no free block of ports from {first} (step {step})")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    # a PostgreSQL of another cluster may listen on its Unix socket only
    return not Path(f"/var/run/postgresql/.s.PGSQL.{port}").exists()


def build_cluster(cluster: LocalCluster, city_nodes: int,
                  echo: Callable[[str], None] = lambda _: None) -> None:
    """Start the database of ``cluster``, load a demo city of ~``city_nodes`` road nodes and
    an officer into it (once), then start the app nodes and HAProxy."""
    from basemaps.demo_city import generate_demo_city
    from gis_service.accounts import create_user
    from web.demo_data import load_demo_city

    cluster.start_database(echo)
    engine = db.create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            loaded = conn.scalar(sa.text("SELECT count(*) FROM schools"))
        if not loaded:
            load_demo_city(engine, generate_demo_city(target_nodes=city_nodes))
            create_user(engine, OFFICER, PASSWORD, "officer")
    finally:
        engine.dispose()
    cluster.start_apps(echo)
    cluster.start_balancer(echo)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi)
                                           / 2 * n)


def mixed_urls(database_url: str, count: int, seed: int = 2026) -> list[str]:
    """``count`` GETs of the mixed profile of ``bench/web_load.py`` (60 % /api/nearest, 25 %
    tiles z13-z16, 15 % small OGC pages), at random places inside the loaded city."""
    engine = db.create_engine(database_url)
    try:
        with engine.connect() as conn:
            west, south, east, north = conn.execute(sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                " FROM (SELECT ST_Extent(geom) AS e FROM schools) s")).one()
    finally:
        engine.dispose()
    rng = random.Random(seed)
    urls = []
    for _ in range(count):
        lon, lat, kind = rng.uniform(west, east), rng.uniform(south, north), rng.random()
        if kind < 0.60:
            level = rng.choice(["primary", "lower_secondary"])
            urls.append(f"/api/nearest?lon={lon:.5f}&lat={lat:.5f}&level={level}&k=5")
        elif kind < 0.85:
            z = rng.randint(13, 16)
            x, y = tile_of(lon, lat, z)
            urls.append(f"/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}")
        elif kind < 0.91:
            urls.append(f"/ogc/collections/schools/items?bbox={lon - 0.01:.4f},{lat - 0.01:.4f},"
                        f"{lon + 0.01:.4f},{lat + 0.01:.4f}&limit=20")
        elif kind < 0.97:
            urls.append(f"/ogc/collections/roads/items?bbox={lon - 0.002:.4f},{lat - 0.002:.4f},"
                        f"{lon + 0.002:.4f},{lat + 0.002:.4f}&limit=50")
        else:
            urls.append(f"/ogc/collections/wards/items?limit=5&offset={rng.randint(0, 40)}")
    return urls


@dataclass(frozen=True)
class Outcome:
    """One request: what, when (monotonic seconds), and the status (0: no HTTP answer)."""

    kind: str  # "read" or "write"
    key: str  # the URL, or the round a write creates
    started: float
    ended: float
    status: int

    @property
    def ok(self) -> bool:
        return (self.kind == "read" and self.status == 200) or (
            self.kind == "write" and self.status == 303)


@dataclass
class Load:
    """A bounded mixed load on the site: ``readers`` clients sending ``urls`` (one at a time,
    a pause between requests, each from its own loopback address) and one officer creating
    rounds ``<prefix>-N`` one after the other. Every answer is kept in ``outcomes``."""

    site_url: str
    urls: list[str]
    readers: int = 4
    read_pause_s: float = 0.02
    write_pause_s: float = 0.05
    prefix: str = "chaos"
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.site_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80

    def start(self) -> Load:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._read, args=(i,), daemon=True)
                         for i in range(self.readers)]
        self._threads.append(threading.Thread(target=self._write, daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    # ---- the clients -------------------------------------------------------------------

    def _connection(self, client: int) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60,
                                          source_address=(f"127.0.9.{client + 2}", 0))

    def _read(self, client: int) -> None:
        conn = self._connection(client)
        urls = self.urls[client::self.readers]
        turn = 0
        while not self._stop.is_set():
            url = urls[turn % len(urls)]
            turn += 1
            started = time.monotonic()
            status = 0
            # a keep-alive connection the proxy closed meanwhile is opened again and the GET
            # sent again, once, as browsers and HTTP libraries do
            for _ in range(2):
                try:
                    conn.request("GET", url, headers={"Accept-Encoding": "gzip"})
                    answer = conn.getresponse()
                    answer.read()
                    status = answer.status
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = self._connection(client)
            self.outcomes.append(Outcome("read", url, started, time.monotonic(), status))
            time.sleep(self.read_pause_s)
        conn.close()

    def _write(self) -> None:
        officer = Officer(self._connection(self.readers))
        officer.sign_in()
        number = 0
        while not self._stop.is_set():
            number += 1
            round_id = f"{self.prefix}-{number:05d}"
            started = time.monotonic()
            status = officer.create_round(round_id)
            self.outcomes.append(Outcome("write", round_id, started, time.monotonic(), status))
            time.sleep(self.write_pause_s)
        officer.conn.close()

    # ---- what happened -----------------------------------------------------------------

    def failed(self, kind: str, since: float = 0.0, until: float = math.inf) -> list[Outcome]:
        return [o for o in list(self.outcomes)
                if o.kind == kind and not o.ok and since <= o.started <= until]

    def count(self, kind: str) -> int:
        return sum(1 for o in list(self.outcomes) if o.kind == kind)

    def acknowledged_writes(self) -> set[str]:
        return {o.key for o in list(self.outcomes) if o.kind == "write" and o.ok}


class Officer:
    """An officer's browser on one keep-alive connection: cookies kept, the CSRF token sent."""

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self.conn = conn
        self.cookies: dict[str, str] = {}

    def _send(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            answer = self.conn.getresponse()
            text = answer.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()  # http.client reconnects on the next request
            return 0, ""
        for line in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return answer.status, text

    def sign_in(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            status, page = self._send("GET", "/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            if status == 200 and token:
                status, _ = self._send("POST", "/login", {
                    "username": OFFICER, "password": PASSWORD, "csrf_token": token.group(1),
                    "next": "/officer"})
                if status == 303:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the officer cannot sign in (HTTP {status})")
            time.sleep(0.5)

    def get(self, path: str) -> int:
        """GET ``path``; the status."""
        return self._send("GET", path)[0]

    def sign_out(self) -> int:
        """Sign out (everywhere); the status (303)."""
        return self._send("POST", "/logout", {"csrf_token": self.cookies.get("edugis_csrf", "")})[0]

    def create_round(self, round_id: str) -> int:
        """Create a draft round from the form, as a browser does; the status (303 when created).

        The form's one-time ``request_key`` lets HAProxy resend the POST if its node dies.
        """
        status, page = self._send("GET", "/officer")
        key = re.search(r'name="request_key" value="([0-9a-f]{32})"', page)
        if status != 200 or key is None:
            return status
        status, _ = self._send("POST", "/officer/rounds", {
            "round_id": round_id, "grade": "1", "year": "2026", "mechanism": "da", "seed": "0",
            "csrf_token": self.cookies.get("edugis_csrf", ""), "request_key": key.group(1)})
        return status


def stored_rounds(database_url: str, prefix: str) -> set[str]:
    """The rounds ``<prefix>-*`` the database holds (asked of the primary)."""
    engine = db.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT id FROM admission_rounds WHERE id LIKE :p"),
                                    {"p": f"{prefix}-%"}).scalars())
    finally:
        engine.dispose()
