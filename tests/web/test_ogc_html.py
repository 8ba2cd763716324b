"""HTML representations of the OGC API (issue 13.15): landing page, collections, a collection,
its features and one feature, for f=html and for a browser's Accept header; JSON for every
other client. In Chromium the features page draws its features on the map."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, require_chromium

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/ogc", "/ogc/collections", "/ogc/collections/schools",
                                  "/ogc/collections/schools/items?limit=3",
                                  "/ogc/collections/schools/items/DM-THPT-001"])
def test_browsers_and_f_html_get_pages_other_clients_json(client: TestClient, path: str) -> None:
    page = client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text and 'type="application/json">JSON</a>' in page.text
    sep = "&" if "?" in path else "?"
    assert client.get(f"{path}{sep}f=html").headers["content-type"].startswith("text/html")
    for accept in ("*/*", "application/json", "application/geo+json"):
        answer = client.get(path, headers={"Accept": accept})
        assert "json" in answer.headers["content-type"], (path, accept)
    assert "json" in client.get(f"{path}{sep}f=json",
                                headers={"Accept": BROWSER_ACCEPT}).headers["content-type"]


def test_pages_link_json_and_html_both_ways(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert rels["alternate"]["type"] == "text/html" and rels["service-doc"]["href"].endswith("/data")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html" in \
        client.get("/ogc/conformance").json()["conformsTo"]
    items = client.get("/ogc/collections/schools/items?f=html&limit=2").text
    assert re.search(r'href="[^"]*/items/[^"?]+\?f=html"', items)  # each feature's page
    assert re.search(r'rel="next"', items) and "offset=2" in items
    assert client.get("/ogc/collections/schools/items?f=xml").status_code == 400


def test_features_page_draws_its_features_in_chromium(live: LiveServer) -> None:
    require_chromium()
    errors: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = chromium.new_page()
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.goto(f"{live.url}/ogc/collections/wards/items?limit=5")  # the browser's Accept
            tab.wait_for_selector("#ogc-map path.leaflet-interactive")
            drawn = tab.locator("#ogc-map path.leaflet-interactive").count()
            rows = tab.locator("table.list tbody tr").count()
        finally:
            chromium.close()
    assert drawn >= 5 and rows == 5
    assert not errors, errors
