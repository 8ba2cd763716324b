"""Security: password hashes, signed sessions, roles on every staff route, CSRF, audit log,
upload limits, and no personal data on public endpoints."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.accounts import User, authenticate, create_user, hash_password, verify_password
from web import auth, sessions

PASSWORD = "correct horse battery"
ROUND = "t-2026-g1"


@pytest.fixture
def staff(engine: Engine) -> Engine:
    """Users of every staff role, two schools, one round with three applicants."""
    for name, role in (("officer1", "officer"), ("planner1", "planner"), ("admin1", "admin")):
        create_user(engine, name, PASSWORD, role)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, capacity_grade1, geom) VALUES"
            " ('T-TH-1', 'Trường Tiểu học Thử 1', 'primary', 'public', 50,"
            "  ST_SetSRID(ST_Point(106.70, 10.77), 4326)),"
            " ('T-TH-2', 'Trường Tiểu học Thử 2', 'primary', 'public', 40,"
            "  ST_SetSRID(ST_Point(106.71, 10.78), 4326))"))
        conn.execute(sa.text("INSERT INTO admission_rounds (id, grade, year) VALUES (:r, 1, 2026)"),
                     {"r": ROUND})
        conn.execute(sa.text("INSERT INTO round_officers (round_id, username) VALUES (:r, 'officer1')"),
                     {"r": ROUND})
        conn.execute(sa.text(
            "INSERT INTO applicants (round_id, applicant_id, ward_code, residence_type, tier, geom)"
            " SELECT :r, 'SECRET-' || i, 'W1', 'thuong_tru', 1,"
            " ST_SetSRID(ST_Point(106.70 + i * 0.001, 10.77), 4326) FROM generate_series(1, 3) i"),
            {"r": ROUND})
    return engine


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token.group(1), "next": "/officer"},
                           follow_redirects=False)
    return response.status_code


def _csrf(client: TestClient) -> str:
    token = client.cookies.get(auth.CSRF_COOKIE)
    assert token
    return token


def _audit(engine: Engine, action: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT actor, target FROM audit_log WHERE action = :a ORDER BY id"), {"a": action})]


# ---- passwords and users -------------------------------------------------------------------


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second and PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, first[:-2] + "AA")
    assert not verify_password(PASSWORD, "plain-text")


def test_create_user_refuses_bad_input_and_duplicates(engine: Engine) -> None:
    ana_id = create_user(engine, "ana", PASSWORD, "officer")
    with pytest.raises(ValueError, match="already exists"):
        create_user(engine, "ana", PASSWORD, "planner")
    with pytest.raises(ValueError, match="role"):
        create_user(engine, "bao", PASSWORD, "king")
    with pytest.raises(ValueError, match="at least"):
        create_user(engine, "bao", "short", "officer")
    with pytest.raises(ValueError, match="spaces"):
        create_user(engine, "b ao", PASSWORD, "officer")
    assert authenticate(engine, "ana", PASSWORD) == User(ana_id, "ana", "officer")
    assert authenticate(engine, "ana", "wrong password!") is None
    assert authenticate(engine, "nobody", PASSWORD) is None


# ---- sessions ------------------------------------------------------------------------------


def test_session_cookie_is_signed_and_expires(empty_client: TestClient) -> None:
    app_settings = empty_client.app.state.settings  # type: ignore[attr-defined]
    claims = sessions.new_session(7, "ana", 1)
    value = sessions.session_value(app_settings, claims)
    assert sessions.read_session(app_settings, value) == claims
    payload, signature = value.rsplit(".", 1)
    forged_payload = sessions.b64(b'{"id":7,"u":"ana","v":1,"iat":9999999999,"seen":9999999999}')
    assert sessions.read_session(app_settings, f"{forged_payload}.{signature}") is None
    other = "B" if signature.endswith("A") else "A"
    assert sessions.read_session(app_settings, f"{payload}.{signature[:-1]}{other}") is None
    idle_s = app_settings.session_idle_s
    assert sessions.read_session(app_settings, value, now=time.time() + idle_s + 1) is None


def test_forged_cookie_gets_401(staff: Engine, empty_client: TestClient) -> None:
    forged = sessions.b64(b'{"u":"x","v":1,"iat":9999999999,"seen":9999999999}') + ".bad"
    empty_client.cookies.set(sessions.SESSION_COOKIE, forged)
    assert empty_client.get("/officer").status_code == 401


# ---- roles ---------------------------------------------------------------------------------

STAFF_URLS = ["/officer", f"/officer/rounds/{ROUND}", f"/officer/rounds/{ROUND}/applicants.csv",
              "/planner"]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_anonymous_requests_to_staff_routes_get_401(staff: Engine, empty_client: TestClient,
                                                    url: str) -> None:
    response = empty_client.get(url)
    assert response.status_code == 401
    assert "SECRET-" not in response.text


def test_roles_are_checked_per_workspace(staff: Engine, empty_client: TestClient) -> None:
    assert _login(empty_client, "planner1") == 303
    assert empty_client.get("/planner").status_code == 200
    assert empty_client.get("/officer").status_code == 403
    assert empty_client.get(f"/officer/rounds/{ROUND}/applicants.csv").status_code == 403
    empty_client.cookies.clear()
    assert _login(empty_client, "officer1") == 303
    assert empty_client.get("/officer").status_code == 200
    assert empty_client.get("/planner").status_code == 403
    empty_client.cookies.clear()
    assert _login(empty_client, "admin1") == 303
    assert empty_client.get("/officer").status_code == 200
    assert empty_client.get("/planner").status_code == 200


def test_login_needs_csrf_and_right_password_and_is_audited(staff: Engine,
                                                            empty_client: TestClient) -> None:
    no_token = empty_client.post("/login", data={"username": "officer1", "password": PASSWORD},
                                 follow_redirects=False)
    assert no_token.status_code == 403
    assert _login(empty_client, "officer1", "wrong password") == 401
    assert sessions.SESSION_COOKIE not in empty_client.cookies
    assert _login(empty_client, "officer1") == 303
    assert _audit(staff, "login_failed") == [("officer1", "")]
    assert _audit(staff, "login") == [("officer1", "")]


def test_login_redirect_stays_on_this_site(staff: Engine, empty_client: TestClient) -> None:
    empty_client.get("/login")
    response = empty_client.post("/login", data={
        "username": "officer1", "password": PASSWORD, "csrf_token": _csrf(empty_client),
        "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_logout_needs_csrf(staff: Engine, empty_client: TestClient) -> None:
    _login(empty_client, "officer1")
    assert empty_client.post("/logout", data={}).status_code == 403
    response = empty_client.post("/logout", data={"csrf_token": _csrf(empty_client)},
                                 follow_redirects=False)
    assert response.status_code == 303
    assert empty_client.get("/officer").status_code == 401


# ---- officer actions -----------------------------------------------------------------------


def test_officer_views_and_exports_applicants_with_audit(staff: Engine, empty_client: TestClient) -> None:
    _login(empty_client, "officer1")
    page = empty_client.get(f"/officer/rounds/{ROUND}")
    assert page.status_code == 200 and page.text.count("SECRET-") == 3
    export = empty_client.get(f"/officer/rounds/{ROUND}/applicants.csv")
    assert export.headers["cache-control"] == "no-store"
    lines = export.text.strip().splitlines()
    assert lines[0].startswith("applicant_id,") and len(lines) == 4
    assert _audit(staff, "view_applicants") == [("officer1", ROUND)]
    assert _audit(staff, "export_applicants") == [("officer1", ROUND)]
    assert empty_client.get("/officer/rounds/nope").status_code == 404


def test_officer_import_refuses_bad_files_whole_and_stores_good_ones(staff: Engine,
                                                                      empty_client: TestClient) -> None:
    _login(empty_client, "officer1")
    url = f"/officer/rounds/{ROUND}/applicants"
    bad = "applicant_id,lon,lat,tier\nA1,abc,10.77,1\nA1,106.71,10.78,2\n"
    response = empty_client.post(url, data={"csrf_token": _csrf(empty_client)},
                                 files={"file": ("a.csv", bad.encode(), "text/csv")})
    assert response.status_code == 422
    assert re.search(r"<td>2</td><td>A1</td><td>lon</td><td>không phải là số", response.text)
    duplicate = r"<td>3</td><td>A1</td><td>applicant_id</td><td>mã hồ sơ &#39;A1&#39; bị trùng"
    assert re.search(duplicate, response.text)
    assert response.text.count("SECRET-") == 3  # nothing replaced
    good = "applicant_id,lon,lat,tier\nA1,106.70,10.77,1\nA2,106.71,10.78,2\n"
    no_csrf = empty_client.post(url, files={"file": ("a.csv", good.encode(), "text/csv")})
    assert no_csrf.status_code == 403
    big = empty_client.post(url, data={"csrf_token": _csrf(empty_client)},
                            files={"file": ("a.csv", b"x" * (11 * 1024 * 1024), "text/csv")})
    assert big.status_code == 413
    response = empty_client.post(url, data={"csrf_token": _csrf(empty_client)},
                                 files={"file": ("a.csv", good.encode(), "text/csv")})
    assert response.status_code == 200 and "Đã nhập: 2" in response.text
    with staff.connect() as conn:
        ids = conn.execute(sa.text("SELECT applicant_id FROM applicants WHERE round_id = :r"
                                   " ORDER BY 1"), {"r": ROUND}).scalars().all()
    assert ids == ["A1", "A2"]
    assert _audit(staff, "round.import_refused") == [("officer1", ROUND)]
    assert _audit(staff, "round.import_applicants") == [("officer1", ROUND)]


def test_planner_page_opens_on_an_empty_database_and_checks_the_level(staff: Engine,
                                                                     empty_client: TestClient) -> None:
    _login(empty_client, "planner1")
    assert empty_client.get("/planner?level=primary").status_code == 200
    assert empty_client.get("/planner?level=grade10").status_code == 400


# ---- public endpoints never show personal data ----------------------------------------------


def test_public_endpoints_show_no_applicant_data(staff: Engine, empty_client: TestClient) -> None:
    urls = ["/", "/schools", "/finder", "/data", "/api/schools", "/api/schools/summary",
            "/api/schools/T-TH-1", "/download/schools.csv", "/download/schools.geojson",
            "/ogc/collections", "/ogc/api"]
    urls += [f"/ogc/collections/{c}/items?limit=1000"
             for c in ("schools", "wards", "districts", "catchments", "capacity-gaps", "roads")]
    for url in urls:
        response = empty_client.get(url)
        assert response.status_code == 200, url
        assert "SECRET-" not in response.text and "thuong_tru" not in response.text, url
