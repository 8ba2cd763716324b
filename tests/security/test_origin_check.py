"""Issue 12.4 (forms): a state-changing request whose Origin, or lacking one Referer, names
another host is refused with 403 before anything else runs; a request with neither (scripts,
test clients) still needs the CSRF token. Sign-in hands out a new CSRF token. A CSRF token
that is not ASCII is a 403, not a 500."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.signin import PASSWORD, form_token, login, staff_app
from web import auth, sessions
from web.proxy import ProxyPeerMiddleware, trusted_proxy

EVIL = "https://evil.example"


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with staff_app(engine, monkeypatch) as test_client:
        yield test_client


@pytest.mark.parametrize("headers", [
    {"origin": EVIL},
    {"origin": "null"},                                       # sandboxed frame, data: URL
    {"origin": "http://testserver:8080"},                     # same name, another port
    {"origin": "http://testserver.evil.example"},
    {"referer": f"{EVIL}/phish.html"},                        # no Origin: the Referer decides
    {"origin": EVIL, "referer": "http://testserver/login"},   # Origin wins over Referer
    {"referer": "http://[broken/"},
], ids=["other-host", "null", "other-port", "suffix", "referer", "origin-first", "unparsable"])
def test_a_sign_in_posted_from_another_site_is_refused(client: TestClient,
                                                       headers: dict[str, str]) -> None:
    response = login(client, "officer1", headers=headers)
    assert response.status_code == 403
    assert "Origin" in response.text or "Referer" in response.text  # names the header
    assert sessions.SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize("headers", [
    {"origin": "http://testserver"},
    {"origin": "http://TESTSERVER:80"},
    {"referer": "http://testserver/login?next=/officer"},
    {"origin": "https://testserver"},      # TLS ended at a proxy: the app sees plain http
    {},                                    # a script: no browser headers, still needs the token
], ids=["origin", "default-port", "referer", "https-behind-proxy", "neither"])
def test_a_sign_in_from_this_site_or_a_script_goes_through(client: TestClient,
                                                           headers: dict[str, str]) -> None:
    assert login(client, "officer1", headers={**headers, "origin": EVIL}).status_code == 403
    assert login(client, "officer1", headers=headers).status_code == 303


def test_a_cross_site_sign_out_leaves_the_session(client: TestClient) -> None:
    assert login(client, "officer1").status_code == 303
    token = client.cookies.get(auth.CSRF_COOKIE)
    refused = client.post("/logout", data={"csrf_token": token}, headers={"origin": EVIL},
                          follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/officer", headers={"origin": EVIL}).status_code == 200  # reads pass


def _post_paths(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
    """Paths of the POST routes, included routers walked (FastAPI wraps them)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _post_paths(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute) and "POST" in (route.methods or set()):
            yield prefix + route.path


def test_every_form_post_refuses_another_site_before_anything_else(client: TestClient) -> None:
    posts = list(_post_paths(client.app.routes))  # type: ignore[attr-defined]
    assert len(posts) >= 13 and "/login" in posts and "/planner/what-if" in posts
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = client.post(url, headers={"origin": EVIL}, data={})
        assert response.status_code == 403, path  # not 401 (role) nor 400 (form): origin first
        assert "Origin" in response.json()["description"], path


def test_sign_in_hands_out_a_new_csrf_token(client: TestClient) -> None:
    before = form_token(client)
    response = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                           "csrf_token": before}, follow_redirects=False)
    assert response.status_code == 303
    after = response.cookies.get(auth.CSRF_COOKIE)
    assert after and after != before
    client.cookies.delete(auth.CSRF_COOKIE)
    client.cookies.set(auth.CSRF_COOKIE, after)
    # a token known before sign-in (planted or read) is worthless afterwards
    assert client.post("/logout", data={"csrf_token": before}, follow_redirects=False).status_code == 403
    assert client.post("/logout", data={"csrf_token": after}, follow_redirects=False).status_code == 303


def test_a_non_ascii_csrf_token_is_refused_not_a_crash(client: TestClient) -> None:
    form_token(client)
    response = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                           "csrf_token": "mã-chống-giả-mạo"}, follow_redirects=False)
    assert response.status_code == 403
    assert "csrf_token" in response.text


# ---- behind a reverse proxy that rewrites Host (Apache ProxyPreserveHost Off, nginx) ----------

PUBLIC = "https://edugis.hcm.edu.vn"
#: What Apache and nginx send by default: the backend's address as Host.
BACKEND_HOST = {"host": "127.0.0.1:8000"}
FORWARDED = {**BACKEND_HOST, "origin": PUBLIC, "x-forwarded-host": "edugis.hcm.edu.vn",
             "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}


@pytest.fixture
def behind_proxy(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client whose connections come from 127.0.0.1, the default trusted proxy."""
    with staff_app(engine, monkeypatch, client_address="127.0.0.1") as test_client:
        yield test_client


def test_an_origin_of_edugis_public_origins_is_accepted_whatever_the_host(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with staff_app(engine, monkeypatch, client_address="192.0.2.40",
                   public_origins=f"https://gis.example.vn, {PUBLIC}") as client:
        for origin in (PUBLIC, "https://gis.example.vn"):
            client.cookies.clear()
            assert login(client, "officer1", headers={**BACKEND_HOST, "origin": origin}
                         ).status_code == 303, origin
        assert login(client, "officer1", headers={**BACKEND_HOST, "referer": f"{PUBLIC}/login"}
                     ).status_code == 303
        refused = login(client, "officer1", headers={**BACKEND_HOST, "origin": EVIL})
        assert refused.status_code == 403
        # the public name on another port is another origin
        assert login(client, "officer1", headers={**BACKEND_HOST,
                                                  "origin": "https://edugis.hcm.edu.vn:8443"}
                     ).status_code == 403


def test_without_public_origins_a_rewritten_host_refuses_the_public_origin(
        client: TestClient) -> None:
    assert login(client, "officer1", headers={**BACKEND_HOST, "origin": PUBLIC}).status_code == 403


def test_x_forwarded_host_of_a_trusted_proxy_is_the_site(behind_proxy: TestClient) -> None:
    assert login(behind_proxy, "officer1", headers=FORWARDED).status_code == 303
    assert login(behind_proxy, "officer1", headers={**FORWARDED, "origin": EVIL}).status_code == 403
    # the forwarded scheme decides the default port: https://name:443 is https://name
    assert login(behind_proxy, "officer1", headers={
        **FORWARDED, "x-forwarded-host": "edugis.hcm.edu.vn:443"}).status_code == 303


def test_x_forwarded_host_from_anyone_else_is_ignored(behind_proxy: TestClient) -> None:
    direct = TestClient(behind_proxy.app, client=("192.0.2.41", 50000))
    refused = login(direct, "officer1", headers=FORWARDED)
    assert refused.status_code == 403


def test_served_behind_uvicorn_proxy_headers_the_peer_still_decides(
        behind_proxy: TestClient) -> None:
    """As ``edugis serve`` runs it (web.cli.proxied_app): X-Forwarded-For has replaced the
    client by the time the origin is checked, and the trusted peer is still known."""
    wrapped = ProxyPeerMiddleware(behind_proxy.app, "127.0.0.1")
    via_proxy = TestClient(wrapped, client=("127.0.0.1", 50000))  # type: ignore[arg-type]
    assert login(via_proxy, "officer1", headers=FORWARDED).status_code == 303
    elsewhere = TestClient(wrapped, client=("192.0.2.42", 50000))  # type: ignore[arg-type]
    assert login(elsewhere, "officer1", headers=FORWARDED).status_code == 403


@pytest.mark.parametrize(("peer", "allowed", "trusted"), [
    ("127.0.0.1", "127.0.0.1", True), ("10.1.2.3", "10.0.0.0/8, 127.0.0.1", True),
    ("10.1.2.3", "127.0.0.1", False), ("2001:db8::5", "2001:db8::/64", True),
    ("192.0.2.1", "*", True), (None, "*", False), ("unix:/run/edugis.sock", "127.0.0.1", False),
])
def test_trusted_proxies_are_read_like_forwarded_allow_ips(peer: str | None, allowed: str,
                                                           trusted: bool) -> None:
    assert trusted_proxy(peer, allowed) is trusted
