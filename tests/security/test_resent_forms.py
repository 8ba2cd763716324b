"""A staff form sent twice writes once (issue 14: HAProxy resends a POST whose node died).

The forms that write (create, publish and grant a round) carry a one-time ``request_key``
that the write claims in its own transaction (``gis_service.request_keys``). These tests send
the same form twice, and race a resend against a first attempt that has not yet committed or
rolled back (the node killed mid-request), with real transactions in PostGIS; which session
waits is read from ``pg_stat_activity``.
"""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from admissions import service
from admissions.rounds import RoundStateError
from gis_service import request_keys
from gis_service.errors import InvalidValueError
from tests.support.officer_session import officer_session
from tests.support.pg_activity import IDLE_IN_TRANSACTION, WAITS_FOR_LOCK, wait_for_session
from tests.support.web import FIRST, SECOND, csrf


def _count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def _audited(engine: Engine, action: str, target: str) -> int:
    return _count(engine, "SELECT count(*) FROM audit_log WHERE action = :a AND target = :t",
                  a=action, t=target)


def test_the_create_form_sent_twice_creates_one_round(engine: Engine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with officer_session(engine, monkeypatch) as (client, _):
        form_page = client.get("/officer").text
        key = re.search(r'name="request_key" value="([0-9a-f]{32})"', form_page)
        assert key is not None
        assert key.group(1) not in client.get("/officer").text  # a fresh key per form shown
        round_id = f"resend-{uuid.uuid4().hex[:8]}"
        form = {"round_id": round_id, "grade": "1", "year": "2026", "csrf_token": csrf(client),
                "request_key": key.group(1)}
        first = client.post("/officer/rounds", data=form, follow_redirects=False)
        again = client.post("/officer/rounds", data=form, follow_redirects=False)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"] == f"/officer/rounds/{round_id}"
        assert _audited(engine, "round.create", round_id) == 1
        # without a key the same form is a second request, refused by name
        refused = client.post("/officer/rounds", data={**form, "request_key": ""})
        assert refused.status_code == 400 and f"&#39;{round_id}&#39; đã có" in refused.text
        # the key of a create does not publish
        other = client.post(f"/officer/rounds/{round_id}/publish", data={
            "csrf_token": csrf(client), "confirm": "true", "request_key": key.group(1)})
        assert other.status_code == 400 and "tải lại trang" in other.text
        # nor creates another round (an old form edited and sent again)
        edited = client.post("/officer/rounds", data={**form, "round_id": f"{round_id}-b"})
        assert edited.status_code == 400 and "tải lại trang" in edited.text
        bad = client.post("/officer/rounds", data={**form, "request_key": "not-a-key"})
        assert bad.status_code in (400, 422) and "request_key" in bad.text
    assert _count(engine, "SELECT count(*) FROM admission_rounds") == 1


@pytest.mark.parametrize("first_attempt", ["commits", "rolls back"])
def test_a_resend_waits_for_the_first_attempt_and_writes_once(engine: Engine,
                                                              first_attempt: str) -> None:
    """The node died mid-request: its transaction is still open when the resend comes."""
    round_id, key = f"race-{uuid.uuid4().hex[:8]}", request_keys.new_key()
    go_on = threading.Event()

    def first() -> None:  # what the killed node had begun: the claim and the insert
        with engine.connect() as conn, conn.begin() as transaction:
            assert request_keys.claim(conn, key, "system", "round.create", round_id) is None
            conn.execute(sa.text("INSERT INTO admission_rounds (id, grade, year, mechanism, seed,"
                                 " status) VALUES (:r, 1, 2026, 'da', 0, 'draft')"), {"r": round_id})
            go_on.wait(60)
            if first_attempt == "rolls back":
                transaction.rollback()

    with ThreadPoolExecutor(max_workers=2) as pool:
        began = pool.submit(first)
        wait_for_session(engine, IDLE_IN_TRANSACTION, "the first attempt to claim its key")
        resent = pool.submit(service.create_round, engine, round_id, 1, 2026, request_key=key)
        wait_for_session(engine, WAITS_FOR_LOCK, "the resend to wait on the key's row")
        go_on.set()
        began.result(timeout=60)
        info = resent.result(timeout=60)
    assert info.id == round_id
    assert _count(engine, "SELECT count(*) FROM admission_rounds WHERE id = :r", r=round_id) == 1
    # the resend did the write only when the first attempt did not
    assert _audited(engine, "round.create", round_id) == (0 if first_attempt == "commits" else 1)


def test_publish_sent_twice_publishes_once(demo_engine: Engine, tmp_path: Path) -> None:
    round_id = f"resend-{uuid.uuid4().hex[:8]}"
    service.create_round(demo_engine, round_id, 10, 2026, "da")
    applicants = tmp_path / "applicants.csv"
    applicants.write_text("applicant_id,score,choice1,choice2,choice3\n" + "\n".join(
        f"R{i:03d},{24 - 0.5 * i:.1f},{FIRST},{SECOND}," for i in range(4)) + "\n", encoding="utf-8")
    service.import_applicants(demo_engine, round_id, applicants)
    service.run_round(demo_engine, round_id)
    key = request_keys.new_key()
    service.publish_round(demo_engine, round_id, request_key=key)
    service.publish_round(demo_engine, round_id, request_key=key)  # the resend: nothing to do
    assert _audited(demo_engine, "round.publish", round_id) == 1
    with pytest.raises(RoundStateError, match="is published"):  # a new request is refused
        service.publish_round(demo_engine, round_id, request_key=request_keys.new_key())
    with pytest.raises(InvalidValueError, match="another action"):
        service.grant_round(demo_engine, round_id, "nobody", request_key=key)


def test_a_grant_key_grants_its_officer_only(engine: Engine) -> None:
    from gis_service.accounts import create_user

    round_id = f"grant-{uuid.uuid4().hex[:8]}"
    service.create_round(engine, round_id, 1, 2026)
    for name in ("lan", "minh"):
        create_user(engine, name, "a long enough password 1", "officer")
    key = request_keys.new_key()
    service.grant_round(engine, round_id, "lan", request_key=key)
    service.grant_round(engine, round_id, "lan", request_key=key)  # the resend
    assert _audited(engine, "round.grant", round_id) == 1
    with pytest.raises(InvalidValueError, match="reload the page"):  # the form edited, sent again
        service.grant_round(engine, round_id, "minh", request_key=key)
    assert service.round_officers(engine, round_id) == ["lan"]
