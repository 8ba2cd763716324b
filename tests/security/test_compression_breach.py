"""BREACH: the sign-in and staff pages (which carry the CSRF token) are never gzipped, the
public pages still are."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from web.compression import GzipMiddleware

PAGE = "<p>csrf_token=" + "x" * 5000 + "</p>"


async def _page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


@pytest.fixture
def client() -> TestClient:
    paths = ("/login", "/officer/rounds", "/planner", "/admin", "/schools", "/loginish")
    app = Starlette(routes=[Route(path, _page, methods=["GET", "POST"]) for path in paths])
    return TestClient(GzipMiddleware(app))


@pytest.mark.parametrize("path", ["/login", "/officer/rounds", "/planner", "/admin"])
def test_pages_with_the_csrf_token_are_not_compressed(client: TestClient, path: str) -> None:
    answer = client.get(path, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in answer.headers
    assert answer.text == PAGE


@pytest.mark.parametrize("path", ["/schools", "/loginish"])
def test_public_pages_are_still_compressed(client: TestClient, path: str) -> None:
    answer = client.get(path, headers={"accept-encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.text == PAGE
