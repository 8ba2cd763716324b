"""Helpers of the web tests: waiting for an app's background work, signing an officer in,
tiles of a point, polling for a change."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from web import auth


def settle(app: Any) -> None:
    """Wait for the app's background reads (data versions, finder reload) to end, so none
    outlives the test's database."""
    finder = getattr(app.state, "finder", None)
    if finder is not None:
        finder.join()
    versions = getattr(app.state, "data_versions", None)
    if versions is not None:
        versions.join()


PASSWORD = "officer password 1"
FIRST, SECOND = "DM-THPT-001", "DM-THPT-002"


def login(client: TestClient, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303


def csrf(client: TestClient) -> str:
    token = client.cookies.get(auth.CSRF_COOKIE)
    assert token
    return token


def grade10_rows(engine: Engine) -> list[str]:
    """Applicants, best score first, all asking for FIRST then SECOND: FIRST overflows by 10."""
    with engine.connect() as conn:
        capacity = conn.execute(sa.text("SELECT capacity_grade10 FROM schools WHERE code = :c"),
                                {"c": FIRST}).scalar_one()
    return [f"W{i:04d},{round(29.9 - 0.05 * i, 2)},{FIRST},{SECOND},"
            for i in range(int(capacity) + 10)]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(x, y) of the WebMercatorQuad tile holding lon/lat."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def wait_for(condition: Callable[[], bool], timeout_s: float = 90.0) -> None:
    """Poll ``condition`` until true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the change was not seen in time"
        time.sleep(0.2)
