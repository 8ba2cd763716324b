"""Issue 12.3 and 12.9 (cookies): every session is checked against the users table, so
sign-out, a new password, disabling or deleting the user ends it on every node; sessions end
after 30 idle minutes (the cookie slides while in use) and 8 h after sign-in; a malformed
cookie is no session, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from gis_service.accounts import create_user
from gis_service.settings import get_settings
from tests.support.signin import (
    PASSWORD,
    ROUND,
    login,
    session_cookie,
    signed_body,
    staff_app,
)
from web import auth, sessions
from web.cli import app as cli

EXPORT = f"/officer/rounds/{ROUND}/applicants.csv"


@pytest.fixture
def staff_client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of an app whose database holds the staff of ``add_staff``."""
    with staff_app(engine, monkeypatch) as client:
        yield client


def _signed_in(client: TestClient, username: str = "officer1") -> str:
    assert login(client, username).status_code == 303
    assert client.get("/officer").status_code == 200
    return session_cookie(client)


def _use_cookie(client: TestClient, value: str) -> None:
    """Make ``value`` the client's only session cookie."""
    client.cookies.delete(sessions.SESSION_COOKIE)
    client.cookies.set(sessions.SESSION_COOKIE, value)


def _with_cookie(client: TestClient, value: str, url: str = "/officer") -> int:
    if not value.isascii():  # the cookie jar refuses it; a raw header (latin-1) carries it
        client.cookies.clear()
        raw = f"{sessions.SESSION_COOKIE}={value}".encode("latin-1")
        return client.get(url, headers=[(b"cookie", raw)]).status_code
    _use_cookie(client, value)
    return client.get(url).status_code


def _cookie_of(cookie: str, issued_at: float, last_seen: float) -> str:
    """The session ``cookie`` signed in at ``issued_at`` and last renewed at ``last_seen``."""
    claims = sessions.read_session(get_settings(), cookie)
    assert claims is not None
    return sessions.session_value(get_settings(), replace(claims, issued_at=int(issued_at),
                                          last_seen=int(last_seen)))


# ---- revocation --------------------------------------------------------------------------------


def test_a_copied_cookie_stops_working_at_sign_out(staff_client: TestClient) -> None:
    copied = _signed_in(staff_client)
    staff_client.post("/logout", data={"csrf_token": staff_client.cookies.get(auth.CSRF_COOKIE)})
    assert _with_cookie(staff_client, copied, EXPORT) == 401


def test_sign_out_ends_the_sessions_of_the_user_on_other_devices(staff_client: TestClient,
                                                                 engine: Engine) -> None:
    laptop = _signed_in(staff_client)
    staff_client.cookies.clear()
    _signed_in(staff_client)  # the phone
    staff_client.post("/logout", data={"csrf_token": staff_client.cookies.get(auth.CSRF_COOKIE)})
    assert _with_cookie(staff_client, laptop) == 401
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'logout'"
                                    " AND actor = 'officer1'")).scalar_one() == 1


def test_a_deleted_user_gets_no_access(staff_client: TestClient, engine: Engine) -> None:
    cookie = _signed_in(staff_client, "admin1")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE username = 'admin1'"))
    assert _with_cookie(staff_client, cookie, EXPORT) == 401


def test_a_user_deleted_and_created_again_under_the_same_name_gets_no_old_session(
        staff_client: TestClient, engine: Engine) -> None:
    """The new account starts at session_version 1 again, like the old one's cookie: only the
    user id in the cookie tells them apart."""
    cookie = _signed_in(staff_client, "admin1")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE username = 'admin1'"))
    create_user(engine, "admin1", PASSWORD, "admin")
    assert _with_cookie(staff_client, cookie, EXPORT) == 401
    assert _with_cookie(staff_client, cookie, "/planner") == 401
    staff_client.cookies.clear()
    assert login(staff_client, "admin1").status_code == 303  # the new account signs in anew


def test_a_cookie_without_the_user_id_is_no_session(staff_client: TestClient) -> None:
    claims = sessions.read_session(get_settings(), _signed_in(staff_client))
    assert claims is not None
    body = {"u": claims.username, "v": claims.session_version, "iat": claims.issued_at,
            "seen": claims.last_seen}
    assert _with_cookie(staff_client, signed_body(json.dumps(body).encode()), EXPORT) == 401


def test_disabling_a_user_ends_their_sessions_and_sign_ins(staff_client: TestClient,
                                                           engine: Engine) -> None:
    cookie = _signed_in(staff_client)
    result = CliRunner().invoke(cli, ["users", "disable", "officer1"])
    assert result.exit_code == 0, result.output
    assert _with_cookie(staff_client, cookie, EXPORT) == 401
    staff_client.cookies.clear()
    assert login(staff_client, "officer1").status_code == 401  # same answer as a wrong password
    assert CliRunner().invoke(cli, ["users", "enable", "officer1"]).exit_code == 0
    assert _with_cookie(staff_client, cookie) == 401  # enabling does not bring old sessions back
    staff_client.cookies.clear()
    assert login(staff_client, "officer1").status_code == 303


def test_a_new_password_ends_the_sessions_and_the_old_password(staff_client: TestClient) -> None:
    cookie = _signed_in(staff_client)
    new_password = "Mùa tuyển sinh mới 2027"
    result = CliRunner().invoke(cli, ["users", "set-password", "officer1",
                                      "--password", new_password])
    assert result.exit_code == 0, result.output
    assert _with_cookie(staff_client, cookie) == 401
    staff_client.cookies.clear()
    assert login(staff_client, "officer1", PASSWORD).status_code == 401
    assert login(staff_client, "officer1", new_password).status_code == 303


def test_users_commands_name_an_unknown_user(staff_client: TestClient) -> None:
    for command in (["disable", "nobody"], ["enable", "nobody"],
                    ["set-password", "nobody", "--password", "Mùa tuyển sinh mới 2027"]):
        result = CliRunner().invoke(cli, ["users", *command])
        assert result.exit_code != 0 and "'nobody'" in str(result.exception), command


def test_the_role_is_the_one_in_the_users_table(staff_client: TestClient, engine: Engine) -> None:
    cookie = _signed_in(staff_client)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET role = 'planner' WHERE username = 'officer1'"))
    assert _with_cookie(staff_client, cookie, EXPORT) == 403
    assert _with_cookie(staff_client, cookie, "/planner") == 200


def test_only_requests_with_a_session_read_the_users_table(staff_client: TestClient) -> None:
    _signed_in(staff_client)
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM users" in statement:
            reads.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert staff_client.get("/officer").status_code == 200
        assert len(reads) == 1  # one read by username, though the page asks who is signed in twice
        staff_client.cookies.clear()
        assert staff_client.get("/").status_code == 200
        assert staff_client.get("/api/schools").status_code == 200
        assert len(reads) == 1  # anonymous requests do not touch it
    finally:
        event.remove(Engine, "before_cursor_execute", count)


# ---- idle and absolute limits ------------------------------------------------------------------


def test_an_idle_session_ends_after_30_minutes(staff_client: TestClient) -> None:
    signed = _signed_in(staff_client)
    idle_s = get_settings().session_idle_s
    assert idle_s == 30 * 60
    now = time.time()
    idle = _cookie_of(signed, now - 3600, now - idle_s - 1)
    active = _cookie_of(signed, now - 3600, now - idle_s + 60)
    assert _with_cookie(staff_client, idle) == 401
    assert _with_cookie(staff_client, active) == 200


def test_a_session_in_use_slides_but_ends_8_hours_after_sign_in(staff_client: TestClient) -> None:
    signed = _signed_in(staff_client)
    now = time.time()
    max_s = get_settings().session_max_s
    assert max_s == 8 * 3600
    _use_cookie(staff_client, _cookie_of(signed, now - 3600, now - 600))
    response = staff_client.get("/officer")
    assert response.status_code == 200
    renewed = sessions.read_session(get_settings(), response.cookies.get(sessions.SESSION_COOKIE))
    assert renewed is not None
    assert renewed.issued_at == int(now - 3600) and renewed.last_seen >= int(now)
    assert "Max-Age=1800" in response.headers["set-cookie"]
    # renewed at most once a minute, not on every answer
    assert "set-cookie" not in staff_client.get("/officer").headers
    busy_all_day = _cookie_of(signed, now - max_s - 1, now - 5)
    assert _with_cookie(staff_client, busy_all_day) == 401


def test_sign_out_is_not_undone_by_the_renewal(staff_client: TestClient) -> None:
    now = time.time()
    signed = _signed_in(staff_client)
    _use_cookie(staff_client, _cookie_of(signed, now - 600, now - 300))
    response = staff_client.post("/logout", data={
        "csrf_token": staff_client.cookies.get(auth.CSRF_COOKIE)}, follow_redirects=False)
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    session_cookies = [c for c in cookies if c.startswith(f"{sessions.SESSION_COOKIE}=")]
    assert len(session_cookies) == 1 and "Max-Age=0" in session_cookies[0]


# ---- malformed cookies (issue 12.9) -------------------------------------------------------------

#: Cookie bodies signed with the app's real key (signed in the test, once the key is set):
#: only their shape is wrong. The old reader took most of them for an admin or crashed.
OLD = '"r":"admin","exp":9999999999'
SIGNED_ODDITIES = {
    "string exp": '{"u":"officer1","r":"admin","exp":"9999999999"}',
    "string version": f'{{"u":"officer1","v":"1","iat":9999999999,"seen":9999999999,{OLD}}}',
    "boolean version": f'{{"u":"officer1","v":true,"iat":9999999999,"seen":9999999999,{OLD}}}',
    "string times": f'{{"u":"officer1","v":1,"iat":"x","seen":"y",{OLD}}}',
    "infinite time": f'{{"u":"officer1","v":1,"iat":9999999999,"seen":1e400,{OLD}}}',
    "null user": f'{{"u":null,"v":1,"iat":9999999999,"seen":9999999999,{OLD}}}',
    "list body": "[1, 2, 3]",
    "string body": '"officer1"',
}


@pytest.mark.parametrize("body", SIGNED_ODDITIES.values(), ids=SIGNED_ODDITIES.keys())
def test_a_signed_cookie_of_the_wrong_shape_is_no_session(staff_client: TestClient,
                                                          body: str) -> None:
    value = signed_body(body.encode())
    assert _with_cookie(staff_client, value, EXPORT) == 401
    assert _with_cookie(staff_client, value, "/") == 200  # public pages show the signed-out header
    assert sessions.read_session(get_settings(), value) is None


def test_a_cookie_with_a_non_ascii_signature_is_no_session(staff_client: TestClient) -> None:
    value = "eyJ1IjoieCJ9.ch\xe9"  # the old reader's compare_digest raised on it: a 500
    assert _with_cookie(staff_client, value, EXPORT) == 401
    assert _with_cookie(staff_client, value, "/") == 200
