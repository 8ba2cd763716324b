"""Gzip of large text answers (issue 12.12), as clients asking for it receive them."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import database_env
from tests.support.web import settle
from web import compression
from web.app import create_app
from web.compression import accepts_gzip

ROADS_PAGE = "/ogc/collections/roads/items?limit=1000"


@pytest.fixture
def client(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the demo city without the rate limit: these tests fetch many large pages
    from one address, which the limit rightly slows down (tests/security/test_rate_limit.py)."""
    monkeypatch.setenv("EDUGIS_RATE_LIMIT_PER_S", "0")
    with database_env(demo_engine, monkeypatch), TestClient(create_app()) as test_client:
        yield test_client
        settle(test_client.app)


def _raw(client: TestClient, url: str, accept_encoding: str) -> tuple[Any, bytes]:
    """The answer's headers and its body as sent on the wire (not decoded)."""
    with client.stream("GET", url, headers={"accept-encoding": accept_encoding}) as response:
        assert response.status_code == 200, url
        return response.headers, b"".join(response.iter_raw())


def _without_time(body: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body)
    document.pop("timeStamp", None)
    return document


@pytest.mark.parametrize("url", [ROADS_PAGE, "/api/schools", "/download/schools.geojson",
                                 "/download/schools.csv", "/ogc/api",
                                 "/static/vendor/leaflet/leaflet.js"])  # a streamed answer
def test_large_text_answers_are_gzipped_for_clients_that_accept_it(client: TestClient,
                                                                   url: str) -> None:
    headers, wire = _raw(client, url, "gzip, deflate, br")
    plain_headers, plain = _raw(client, url, "identity")
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert len(wire) < len(plain) / 3
    assert int(headers.get("content-length", len(wire))) == len(wire)
    assert "content-encoding" not in plain_headers
    body = gzip.decompress(wire)
    if url == ROADS_PAGE:  # the page's timeStamp is the second it was written
        assert _without_time(body) == _without_time(plain)
    else:
        assert body == plain


def test_small_answers_tiles_and_refusing_clients_get_plain_bytes(client: TestClient) -> None:
    small, wire = _raw(client, "/ogc/collections/schools/items?limit=1", "gzip")
    assert "content-encoding" not in small and len(wire) < compression.MINIMUM_BYTES
    tile_headers, _ = _raw(client, "/ogc/tiles/WebMercatorQuad/14/7700/13050", "gzip")
    assert "content-encoding" not in tile_headers  # vector tiles pass as they are
    for refusal in ("gzip;q=0", "identity", "br", "*;q=0"):
        headers, _ = _raw(client, ROADS_PAGE, refusal)
        assert "content-encoding" not in headers, refusal
    headers, _ = _raw(client, ROADS_PAGE, "*")
    assert headers["content-encoding"] == "gzip"


def test_a_large_body_is_compressed_off_the_event_loop(client: TestClient,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's event loop keeps answering while a page is compressed (zlib releases the
    GIL in a worker thread); a small body is not worth the thread hand-off."""
    threads: list[str] = []
    real = compression.gzip_bytes

    def recording(body: bytes, level: int = compression.LEVEL) -> bytes:
        threads.append(threading.current_thread().name)
        return real(body, level)

    monkeypatch.setattr(compression, "gzip_bytes", recording)
    client.get(ROADS_PAGE, headers={"accept-encoding": "gzip"})
    client.get("/ogc/collections/schools/items?limit=3", headers={"accept-encoding": "gzip"})
    loop_thread = threads[-1]  # the 3-school page (~3 KB) is compressed on the loop
    assert len(threads) == 2 and threads[0] != loop_thread


@pytest.mark.parametrize(("header", "allowed"), [
    ("gzip", True), ("GZIP", True), ("deflate, gzip;q=0.5", True), ("gzip;q=0", False),
    ("gzip;q=0.0, *", False), ("*", True), ("*;q=0", False), ("br, deflate", False),
    ("identity", False), ("gzip;q=abc", False), ("", False),
])
def test_accept_encoding_is_read_with_its_weights(header: str, allowed: bool) -> None:
    assert accepts_gzip(header) is allowed
