"""Per-client rate limits on the public API (issue 12.12): a token bucket per client address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tests.conftest import database_env
from tests.support.web import settle
from web.app import create_app
from web.rate_limit import BYTES_PER_TOKEN, FREE_BYTES, TokenBuckets, client_network
from web.security import HEADERS

BURST = 5
TILE = "/ogc/tiles/WebMercatorQuad/14/7700/13050"
#: Requests a test sends at most to run a bucket dry (the burst is 5, refilled at 1 token/s).
MAX_TRIES = 50


def _exhaust(client: TestClient, path: str = TILE) -> None:
    """Send ``path`` until it answers 429; fail after :data:`MAX_TRIES` requests."""
    for _ in range(MAX_TRIES):
        if client.get(path).status_code == 429:
            return
    pytest.fail(f"no 429 after {MAX_TRIES} requests to {path}")


@pytest.fixture
def app(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The app with a small burst (5) and a slow refill (1 token/s), so a test sees it run out."""
    monkeypatch.setenv("EDUGIS_RATE_LIMIT_PER_S", "1")
    monkeypatch.setenv("EDUGIS_RATE_LIMIT_BURST", str(BURST))
    with database_env(demo_engine, monkeypatch):
        app = create_app()
        yield app
        settle(app)


def test_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=2.0, burst=3.0, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token comes in 0.5 s
    assert buckets.take("b") == 0.0  # another key has its own bucket
    now[0] = 0.5
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    now[0] = 100.0  # a long pause refills to the burst, never beyond
    assert [buckets.take("a") for _ in range(4)][-1] > 0
    buckets.charge("a", 10.0)  # work already done may put a bucket in debt
    assert buckets.take("a") == pytest.approx(11 / 2.0)


def test_buckets_of_many_addresses_are_forgotten_in_bounded_memory(monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    monkeypatch.setattr("web.rate_limit.MAX_CLIENTS", 100)
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=1.0, burst=2.0, clock=lambda: now[0])
    for i in range(1000):
        buckets.take(f"10.0.{i // 250}.{i % 250}")
        assert len(buckets._buckets) <= 100
    now[0] = 10.0  # refilled: new addresses still find room, in bounded memory
    for i in range(300):
        buckets.take(f"10.9.{i // 250}.{i % 250}")
        assert len(buckets._buckets) <= 100


def test_a_flood_of_new_addresses_never_forgets_a_debt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.rate_limit.MAX_CLIENTS", 100)
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=1.0, burst=2.0, clock=lambda: now[0])
    buckets.take("debtor")
    buckets.charge("debtor", 50.0)  # a large page: 49 tokens owed
    for i in range(1000):  # the debtor (or anyone) floods with fresh addresses
        buckets.take(f"10.0.{i // 250}.{i % 250}")
    assert "debtor" in buckets._buckets
    assert buckets.take("debtor") == pytest.approx(50.0)  # still owes what it owed
    assert len(buckets._buckets) <= 100


def test_buckets_in_debt_are_kept_beyond_the_cap_without_a_scan_per_request(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.rate_limit.MAX_CLIENTS", 100)
    buckets = TokenBuckets(rate_per_s=1.0, burst=2.0, clock=lambda: 0.0)
    for i in range(150):
        buckets.take(f"debtor-{i}")
        buckets.charge(f"debtor-{i}", 10.0)
    assert len(buckets._buckets) == 150  # every debt kept
    scans: list[float] = []
    real_forget = buckets._forget_fullest

    def counted_forget(now: float) -> None:
        scans.append(now)
        real_forget(now)

    monkeypatch.setattr(buckets, "_forget_fullest", counted_forget)
    for i in range(40):
        buckets.take(f"fresh-{i}")
    assert len(scans) <= 1


def test_ipv6_clients_are_keyed_by_their_64() -> None:
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9") \
        == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_network("192.0.2.1") == "192.0.2.1"
    assert client_network("192.0.2.2") != client_network("192.0.2.1")


def test_429_after_the_burst_with_retry_after_and_security_headers(app: FastAPI) -> None:
    with TestClient(app, client=("192.0.2.10", 50000)) as client:
        answers = [client.get("/api/schools/summary") for _ in range(BURST)]
        assert [a.status_code for a in answers] == [200] * BURST
        refused = client.get("/api/schools/summary")
        assert refused.status_code == 429
        assert refused.json()["code"] == "TooManyRequests"
        assert int(refused.headers["retry-after"]) >= 1
        for name, value in HEADERS:
            assert refused.headers[name.decode()] == value.decode()
        # the fast lanes (cached tiles, warm nearest) are behind the limit too
        assert client.get(TILE).status_code == 429


def test_another_client_address_is_unaffected(app: FastAPI) -> None:
    with TestClient(app, client=("192.0.2.10", 50000)) as greedy, \
            TestClient(app, client=("192.0.2.11", 50000)) as other:
        _exhaust(greedy)
        assert [other.get(TILE).status_code for _ in range(BURST)] == [200] * BURST


def test_pages_staff_routes_and_static_assets_are_not_limited(app: FastAPI) -> None:
    with TestClient(app, client=("192.0.2.12", 50000)) as client:
        _exhaust(client)
        for path in ("/", "/login", "/officer", "/planner", "/static/js/map.js"):
            assert client.get(path, follow_redirects=False).status_code != 429, path


def test_a_large_answer_costs_by_its_size(app: FastAPI) -> None:
    """A page of 1,000 roads (~0.6 MB) is paid for after it is sent: the bucket is in debt
    and Retry-After says how long it takes to refill (1 token/s here)."""
    with TestClient(app, client=("192.0.2.13", 50000)) as client:
        page = client.get("/ogc/collections/roads/items", params={"limit": 1000},
                          headers={"accept-encoding": "gzip"})
        assert page.status_code == 200
        owed = (len(page.content) - FREE_BYTES) / BYTES_PER_TOKEN
        refused = client.get("/ogc/collections/roads/items")
        assert refused.status_code == 429
        # counted before compression; 4 tokens were left after the page's own one
        assert int(refused.headers["retry-after"]) == pytest.approx(owed - (BURST - 2), abs=1.01)


def test_addresses_of_one_ipv6_64_share_a_bucket(app: FastAPI) -> None:
    with TestClient(app):  # started once; the clients below share its app
        clients = [TestClient(app, client=(f"2001:db8:5:6::{i + 1:x}", 50000))
                   for i in range(BURST + 1)]
        assert [client.get(TILE).status_code for client in clients] == [200] * BURST + [429]
        neighbour = TestClient(app, client=("2001:db8:5:7::1", 50000))  # the next /64
        assert neighbour.get(TILE).status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_limit(app: FastAPI) -> None:
    """As ``edugis serve`` runs it (uvicorn trusts X-Forwarded-For from the configured proxies
    only), a client that sends a new X-Forwarded-For each time is still one client."""
    behind_uvicorn = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    with TestClient(behind_uvicorn, client=("192.0.2.14", 50000)) as client:
        statuses = [client.get(TILE, headers={"x-forwarded-for": f"198.51.100.{i}"}).status_code
                    for i in range(BURST + 1)]
    assert statuses == [200] * BURST + [429]
    with TestClient(behind_uvicorn, client=("127.0.0.1", 50000)) as proxy:
        # through the trusted proxy, each forwarded client has its own bucket
        assert {proxy.get(TILE, headers={"x-forwarded-for": f"198.51.100.{i}"}).status_code
                for i in range(3 * BURST)} == {200}


def test_both_documents_declare_the_429_and_its_retry_after(app: FastAPI) -> None:
    with TestClient(app) as client:
        public = client.get("/internal/openapi.json").json()
        ogc = client.get("/ogc/api").json()
    for path in ("/api/nearest", "/api/schools", "/download/schools.csv"):
        answer = public["paths"][path]["get"]["responses"]["429"]
        assert "Retry-After" in answer["headers"], path
    assert not [path for path, ops in public["paths"].items()
                if not path.startswith(("/api/", "/download/")) and "429" in ops.get("get", {}).get(
                    "responses", {})]
    too_many = ogc["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in too_many["headers"]
    for path, operations in ogc["paths"].items():
        assert operations["get"]["responses"]["429"] == {
            "$ref": "#/components/responses/TooManyRequests"}, path
