"""CORS on the open data routes (issue 13.12): any origin may read them, no other route.

Checked at the HTTP level, then in Debian's Chromium: a web map of another site (a blank page
served by a second HTTP server on another port, so another origin) reads the OGC API and the
tiles of the app, and is refused a page that is not open data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, require_chromium

ELSEWHERE = "https://maps.example.org"


def test_open_data_answers_grant_every_origin_without_credentials(client: TestClient) -> None:
    for path in ("/ogc/collections/schools/items?limit=1", "/api/schools", "/download/schools.csv",
                 "/ogc/tiles/WebMercatorQuad/14/7779/13048"):
        answer = client.get(path, headers={"Origin": ELSEWHERE})
        assert answer.status_code in (200, 204), path
        assert answer.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in answer.headers
        assert "Content-Crs" in answer.headers["access-control-expose-headers"]
    missing = client.get("/ogc/collections/nowhere", headers={"Origin": ELSEWHERE})
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"


def test_other_routes_grant_nothing(client: TestClient) -> None:
    for path in ("/", "/api/nearest?lon=106.70&lat=10.77", "/login", "/officer"):
        answer = client.get(path, headers={"Origin": ELSEWHERE}, follow_redirects=False)
        assert "access-control-allow-origin" not in answer.headers, path
    preflight = client.options("/officer/rounds", headers={
        "Origin": ELSEWHERE, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_preflight_grants_reads_and_the_headers_map_clients_send(client: TestClient) -> None:
    answer = client.options("/ogc/collections/roads/items", headers={
        "Origin": ELSEWHERE, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match, X-Secret"})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert answer.headers["access-control-allow-headers"] == "if-none-match"
    assert int(answer.headers["access-control-max-age"]) > 0
    write = client.options("/ogc/collections/roads/items", headers={
        "Origin": ELSEWHERE, "Access-Control-Request-Method": "DELETE"})
    assert write.status_code == 204 and "access-control-allow-origin" not in write.headers


class _BlankPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def other_site() -> Iterator[str]:
    """A page of another origin (another port), with no content security policy of ours."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BlankPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_page_of_another_origin_reads_features_and_tiles_in_chromium(
        live: LiveServer, other_site: str) -> None:
    require_chromium()
    script = """async (base) => {
        const read = async (path, init) => {
            try { const r = await fetch(base + path, init); return r.status; }
            catch (e) { return 'refused'; } };
        return {
            items: await read('/ogc/collections/schools/items?limit=2'),
            revalidated: await read('/ogc/collections/schools/items?limit=2',
                                    {headers: {'If-None-Match': '"x"'}}),
            tile: await read('/ogc/tiles/WebMercatorQuad/14/13048/7779'),
            page: await read('/'),
        };
    }"""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = chromium.new_page()
            tab.goto(other_site)
            seen = tab.evaluate(script, live.url)
        finally:
            chromium.close()
    assert seen["items"] == 200 and seen["revalidated"] == 200  # the second one after a preflight
    assert seen["tile"] in (200, 204)
    assert seen["page"] == "refused"  # not open data: the browser keeps it from the other site
