"""A run stores only the result of the inputs it read (issue 12.2).

Two real transactions meet in PostGIS: a run is stopped between loading its inputs and
storing its result (a hook on the mechanism), and another connection imports, holds the
round's lock or deadlocks against a writer meanwhile. Which transaction waits is read from
``pg_stat_activity``, never guessed from timings.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions import service
from admissions.round_capacities import import_capacities
from admissions.round_inputs import InputsChangedError, RunDiscardError, change_round_inputs
from gis_service.errors import ConflictError
from gis_service.transactions import write_transaction
from tests.conftest import database_env
from tests.support.officer_session import officer_session
from tests.support.pg_activity import WAITS_FOR_LOCK, wait_for_session
from tests.support.web import csrf
from web.cli import app

FIRST, SECOND = "DM-THPT-001", "DM-THPT-002"
HEADER = "applicant_id,score,choice1,choice2,choice3\n"


def _round(engine: Engine) -> str:
    round_id = f"sec-{uuid.uuid4().hex[:8]}"
    service.create_round(engine, round_id, 10, 2026, "da", seed=4)
    return round_id


def _applicants(path: Path, prefix: str, n: int) -> Path:
    rows = [f"{prefix}{i:03d},{25 - 0.1 * i:.1f},{FIRST},{SECOND}," for i in range(n)]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _stored(engine: Engine, round_id: str) -> tuple[str, list[str], list[str]]:
    """The round's status, applicant ids and placed applicant ids."""
    with engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM admission_rounds WHERE id = :r"),
                              {"r": round_id}).scalar_one()
        applicants = list(conn.execute(sa.text(
            "SELECT applicant_id FROM applicants WHERE round_id = :r ORDER BY 1"),
            {"r": round_id}).scalars())
        allocated = list(conn.execute(sa.text(
            "SELECT applicant_id FROM allocations WHERE round_id = :r ORDER BY 1"),
            {"r": round_id}).scalars())
    return status, applicants, allocated


def _hook_mechanism(monkeypatch: pytest.MonkeyPatch, between: Callable[[], None]) -> None:
    """Run ``between`` once, after the next run has loaded its inputs and allocated, before
    it stores (the window in which an import used to slip in)."""
    real = service.allocate
    pending = [between]

    def allocate_then_wait(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if pending:
            pending.pop()()
        return result

    monkeypatch.setattr(service, "allocate", allocate_then_wait)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def test_an_import_between_load_and_store_makes_the_run_refuse(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    round_id = _round(demo_engine)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "old.csv", "OLD", 5))
    new = _applicants(tmp_path / "new.csv", "NEW", 3)
    _hook_mechanism(monkeypatch, lambda: service.import_applicants(demo_engine, round_id, new))

    with pytest.raises(InputsChangedError, match="applicants or places") as refused:
        service.run_round(demo_engine, round_id)
    assert "chạy lại" in str(refused.value)  # Vietnamese first, then English
    # nothing of the old applicants was stored over the new ones
    assert _stored(demo_engine, round_id) == ("draft", ["NEW000", "NEW001", "NEW002"], [])

    service.run_round(demo_engine, round_id)  # on the inputs now stored, it goes through
    assert _stored(demo_engine, round_id) == ("run", ["NEW000", "NEW001", "NEW002"],
                                              ["NEW000", "NEW001", "NEW002"])


def test_places_or_schools_changed_during_the_run_make_it_refuse(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    round_id = _round(demo_engine)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "a.csv", "A", 4))
    places = tmp_path / "chitieu.csv"
    places.write_text(f"school_code,capacity\n{FIRST},1\n", encoding="utf-8")
    _hook_mechanism(monkeypatch, lambda: import_capacities(demo_engine, round_id, places))
    with pytest.raises(InputsChangedError):
        service.run_round(demo_engine, round_id)
    assert _stored(demo_engine, round_id)[2] == []

    def touch_schools() -> None:  # a school import: the statement bumps the schools' version
        with demo_engine.begin() as conn:
            conn.execute(sa.text("UPDATE schools SET name = name WHERE code = :c"), {"c": FIRST})

    _hook_mechanism(monkeypatch, touch_schools)
    with pytest.raises(InputsChangedError, match="the schools"):
        service.run_round(demo_engine, round_id)
    assert _stored(demo_engine, round_id)[0] == "draft"
    figures = service.run_round(demo_engine, round_id)
    assert figures["placed"] == 4


def test_a_run_waits_for_an_import_in_progress_then_refuses(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        pool: ThreadPoolExecutor) -> None:
    round_id = _round(demo_engine)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "old.csv", "OLD", 5))
    loaded, go = threading.Event(), threading.Event()

    def pause() -> None:
        loaded.set()
        assert go.wait(60)

    _hook_mechanism(monkeypatch, pause)
    run: Future[dict[str, Any]] = pool.submit(service.run_round, demo_engine, round_id)
    assert loaded.wait(60)
    with demo_engine.connect() as importer:
        # an import in progress: the round's lock, its inputs version bumped, new applicants
        transaction = importer.begin()
        change_round_inputs(importer, round_id, False, "applicants")
        importer.execute(sa.text("DELETE FROM applicants WHERE round_id = :r"), {"r": round_id})
        go.set()
        wait_for_session(demo_engine, WAITS_FOR_LOCK, "the run to wait to store")
        assert not run.done()
        transaction.commit()
    with pytest.raises(InputsChangedError):
        run.result(60)
    assert _stored(demo_engine, round_id) == ("draft", [], [])


def test_an_import_waits_for_a_run_storing_and_then_asks_to_discard_it(
        demo_engine: Engine, tmp_path: Path, pool: ThreadPoolExecutor) -> None:
    round_id = _round(demo_engine)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "old.csv", "OLD", 5))
    new = _applicants(tmp_path / "new.csv", "NEW", 2)
    with demo_engine.connect() as runner:
        # a run storing: it holds the round's lock and writes its allocations
        transaction = runner.begin()
        runner.execute(sa.text("SELECT 1 FROM admission_rounds WHERE id = :r FOR UPDATE"),
                       {"r": round_id})
        runner.execute(sa.text(
            "INSERT INTO allocations (round_id, applicant_id, school_code, choice_rank)"
            " SELECT round_id, applicant_id, :s, 1 FROM applicants WHERE round_id = :r"),
            {"r": round_id, "s": FIRST})
        runner.execute(sa.text("UPDATE admission_rounds SET status = 'run' WHERE id = :r"),
                       {"r": round_id})
        imported: Future[int] = pool.submit(service.import_applicants, demo_engine, round_id, new)
        wait_for_session(demo_engine, WAITS_FOR_LOCK, "a session to wait for the lock")
        transaction.commit()
    # the import saw the run only once it was stored: it refuses to drop it unasked
    with pytest.raises(RunDiscardError, match="5 allocation") as refused:
        imported.result(60)
    assert refused.value.placements == 5 and refused.value.overrides == 0
    assert _stored(demo_engine, round_id) == ("run", [f"OLD{i:03d}" for i in range(5)],
                                              [f"OLD{i:03d}" for i in range(5)])

    assert service.import_applicants(demo_engine, round_id, new, discard_run=True) == 2
    assert _stored(demo_engine, round_id) == ("draft", ["NEW000", "NEW001"], [])
    with demo_engine.connect() as conn:
        details = conn.execute(sa.text(
            "SELECT details FROM audit_log WHERE target = :r AND action = 'round.import_applicants'"
            " ORDER BY id DESC LIMIT 1"), {"r": round_id}).scalar_one()
    assert details["discarded_run"] == {"placements": 5, "overrides": 0}


def test_imports_into_a_run_round_name_what_they_would_discard(
        demo_engine: Engine, tmp_path: Path) -> None:
    round_id = _round(demo_engine)
    old = _applicants(tmp_path / "old.csv", "OLD", 6)
    service.import_applicants(demo_engine, round_id, old)
    service.run_round(demo_engine, round_id)
    service.override_applicant(demo_engine, round_id, "OLD005", SECOND, "hồ sơ đặc biệt", "officer1",
                               force=True)
    before = service.results_frame(demo_engine, round_id)
    places = tmp_path / "chitieu.csv"
    places.write_text(f"school_code,capacity\n{FIRST},3\n", encoding="utf-8")

    for attempt in (lambda: service.import_applicants(demo_engine, round_id, old),
                    lambda: import_capacities(demo_engine, round_id, places)):
        with pytest.raises(RunDiscardError) as refused:
            attempt()
        message = str(refused.value)
        assert "6 allocation(s) and 1 officer override(s)" in message
        assert "6 kết quả xếp trường và 1 quyết định điều chỉnh" in message
    assert service.results_frame(demo_engine, round_id).equals(before)  # nothing changed
    assert service.get_round(demo_engine, round_id).status == "run"

    import_capacities(demo_engine, round_id, places, discard_run=True)
    assert _stored(demo_engine, round_id)[0::2] == ("draft", [])


def test_the_cli_imports_into_a_run_round_only_with_discard_run(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    round_id = _round(demo_engine)
    old = _applicants(tmp_path / "old.csv", "OLD", 4)
    service.import_applicants(demo_engine, round_id, old)
    service.run_round(demo_engine, round_id)
    places = tmp_path / "chitieu.csv"
    places.write_text(f"school_code,capacity\n{FIRST},3\n", encoding="utf-8")
    with database_env(demo_engine, monkeypatch):
        runner = CliRunner()
        for command in (["admissions", "import", str(old), "--round", round_id],
                        ["admissions", "capacities", str(places), "--round", round_id]):
            refused = runner.invoke(app, command)
            assert refused.exit_code == 2
            assert "4 allocation(s) and 0 officer override(s)" in refused.output
            assert "--discard-run" in refused.output
            assert service.get_round(demo_engine, round_id).status == "run"
        done = runner.invoke(app, ["admissions", "import", str(old), "--round", round_id,
                                   "--discard-run"])
    assert done.exit_code == 0, done.output
    assert _stored(demo_engine, round_id) == ("draft", [f"OLD{i:03d}" for i in range(4)], [])


def test_an_override_on_a_run_replaced_meanwhile_is_refused(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    round_id = _round(demo_engine)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "a.csv", "A", 5))
    service.run_round(demo_engine, round_id)
    # another officer runs the round with another mechanism while the override computes
    _hook_mechanism(monkeypatch, lambda: service.run_round(demo_engine, round_id, "hcmc"))
    with pytest.raises(ConflictError, match="changed meanwhile"):
        service.override_applicant(demo_engine, round_id, "A004", SECOND, "lý do đặc biệt 12", "officer1",
                                   force=True)
    info = service.get_round(demo_engine, round_id)
    assert info.mechanism == "hcmc" and info.parameters["overrides"] == []


def test_publishing_waits_for_an_import_and_refuses_the_draft_it_leaves(
        demo_engine: Engine, tmp_path: Path, pool: ThreadPoolExecutor) -> None:
    round_id = _round(demo_engine)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "a.csv", "A", 3))
    service.run_round(demo_engine, round_id)
    with demo_engine.connect() as importer:
        transaction = importer.begin()
        change_round_inputs(importer, round_id, True, "applicants")  # confirmed import
        published = pool.submit(service.publish_round, demo_engine, round_id)
        wait_for_session(demo_engine, WAITS_FOR_LOCK, "a session to wait for the lock")
        transaction.commit()
    # the import discarded the run: there is nothing to publish (was: a published empty round)
    with pytest.raises(service.RoundStateError, match="is draft"):
        published.result(60)
    assert service.get_round(demo_engine, round_id).status == "draft"


def test_a_deadlock_is_run_again_not_an_error(engine: Engine, pool: ThreadPoolExecutor) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE race (id int PRIMARY KEY, n int)"))
        conn.execute(sa.text("INSERT INTO race VALUES (1, 0), (2, 0)"))
    tries: list[int] = []

    def one_then_two(conn: sa.Connection) -> int:
        tries.append(1)
        conn.execute(sa.text("UPDATE race SET n = n + 1 WHERE id = 1"))
        conn.execute(sa.text("UPDATE race SET n = n + 1 WHERE id = 2"))
        return len(tries)

    with engine.connect() as other:
        transaction = other.begin()
        other.execute(sa.text("UPDATE race SET n = n + 10 WHERE id = 2"))
        retried: Future[int] = pool.submit(write_transaction, engine, one_then_two, what="test")
        # the helper holds row 1 and waits for row 2
        wait_for_session(engine, WAITS_FOR_LOCK, "the helper to wait for row 2")
        # now this side waits for row 1: a deadlock. PostgreSQL ends the side that waited
        # first (its deadlock_timeout runs out first): the helper's transaction
        other.execute(sa.text("UPDATE race SET n = n + 10 WHERE id = 1"))
        transaction.commit()
    assert retried.result(60) == 2  # ended once, run again, stored
    with engine.connect() as conn:
        assert dict(conn.execute(sa.text("SELECT id, n FROM race")).all()) == {1: 11, 2: 11}


def test_a_race_lost_every_time_is_a_conflict_not_a_database_error(engine: Engine) -> None:
    class DeadlockDetectedError(Exception):
        sqlstate = "40P01"

    def always_loses(conn: sa.Connection) -> None:
        raise sa.exc.OperationalError("UPDATE ...", {}, DeadlockDetectedError("deadlock detected"))

    with pytest.raises(ConflictError, match="3 times"):
        write_transaction(engine, always_loses, what="test", attempts=3)


@pytest.fixture
def officer(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    with officer_session(demo_engine, monkeypatch) as signed_in:
        yield signed_in


def test_the_round_page_answers_409_when_inputs_change_during_a_run(
        officer: tuple[TestClient, str], demo_engine: Engine, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, name = officer
    round_id = _round(demo_engine)
    service.grant_round(demo_engine, round_id, name)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "old.csv", "OLD", 4))
    new = _applicants(tmp_path / "new.csv", "NEW", 2)
    _hook_mechanism(monkeypatch, lambda: service.import_applicants(demo_engine, round_id, new))
    ran = client.post(f"/officer/rounds/{round_id}/run", data={"csrf_token": csrf(client)})
    assert ran.status_code == 409
    # in the page's language only (Vietnamese here)
    assert "hãy chạy lại" in ran.text and "changed while it was computed" not in ran.text
    assert _stored(demo_engine, round_id) == ("draft", ["NEW000", "NEW001"], [])
    again = client.post(f"/officer/rounds/{round_id}/run", data={"csrf_token": csrf(client)})
    assert again.status_code == 200  # the connection and the app go on as before
    assert _stored(demo_engine, round_id)[2] == ["NEW000", "NEW001"]


def test_the_upload_form_asks_to_confirm_discarding_the_run(
        officer: tuple[TestClient, str], demo_engine: Engine, tmp_path: Path) -> None:
    client, name = officer
    round_id = _round(demo_engine)
    base = f"/officer/rounds/{round_id}"
    service.grant_round(demo_engine, round_id, name)
    service.import_applicants(demo_engine, round_id, _applicants(tmp_path / "old.csv", "OLD", 4))
    service.run_round(demo_engine, round_id)
    page = client.get(base)
    assert page.status_code == 200
    assert ('name="discard_run" value="true" required> Đợt này đã chạy phân bổ: tôi đồng ý xóa'
            " kết quả đã lưu (4 kết quả xếp trường, 0 quyết định điều chỉnh") in page.text
    new = _applicants(tmp_path / "new.csv", "NEW", 2).read_bytes()
    places = f"school_code,capacity\n{FIRST},3\n".encode()
    for action, content in (("applicants", new), ("capacities", places)):
        refused = client.post(f"{base}/{action}?lang=en", data={"csrf_token": csrf(client)},
                              files={"file": ("f.csv", content, "text/csv")})
        assert refused.status_code == 409
        assert "would discard its 4 allocation(s) and 0 officer override(s)" in refused.text
        assert "discard its stored result (4 allocations, 0 officer overrides)" in refused.text
        assert _stored(demo_engine, round_id)[0] == "run"
    client.cookies.delete("lang")
    confirmed = client.post(f"{base}/applicants", data={"csrf_token": csrf(client),
                                                        "discard_run": "true"},
                            files={"file": ("f.csv", new, "text/csv")})
    assert confirmed.status_code == 200 and "Đã nhập: 2" in confirmed.text
    assert 'name="discard_run"' not in confirmed.text  # a draft again: nothing to discard
    assert _stored(demo_engine, round_id) == ("draft", ["NEW000", "NEW001"], [])
