"""Issue 12.1: no built-in signing key. A fresh install makes a random key, kept private in
its data folder; a cookie signed with the key that used to be built in gets nothing; production
refuses to start without a key of its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from gis_service import settings
from gis_service.errors import ConfigurationError
from gis_service.secret_key import load_or_create_secret
from gis_service.settings import Settings
from tests.conftest import database_env
from tests.support.signin import ROUND, add_staff, login, session_cookie
from tests.support.web import settle
from web import sessions
from web.app import create_app

#: The key edugis used to sign with when EDUGIS_SECRET_KEY was unset (public in git history).
FORMER_BUILT_IN_KEY = "edugis-development-only-secret"


def _forged(body: dict[str, object]) -> str:
    """A session cookie of ``body`` signed as the old code signed with its built-in key."""
    key = hashlib.sha256(f"session:{FORMER_BUILT_IN_KEY}".encode()).digest()
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    signature = base64.urlsafe_b64encode(
        hmac.new(key, payload.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    return f"{payload}.{signature}"


@pytest.fixture
def default_install(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                    tmp_path: Path) -> Iterator[TestClient]:
    """The app as ``edugis serve`` runs it out of the box: development mode, no secret key set."""
    add_staff(engine)
    with database_env(engine, monkeypatch):
        monkeypatch.delenv("EDUGIS_SECRET_KEY")
        monkeypatch.setenv("EDUGIS_ENVIRONMENT", "development")
        monkeypatch.setenv("EDUGIS_DATA_DIR", str(tmp_path / "var"))
        settings.get_settings.cache_clear()
        with TestClient(create_app()) as client:
            yield client
            settle(client.app)


def test_a_cookie_signed_with_the_former_built_in_key_gets_no_access(
        default_install: TestClient) -> None:
    for body in ({"u": "ghost", "r": "admin", "exp": 9_999_999_999},  # the old cookie format
                 {"u": "admin1", "v": 1, "iat": 9_999_999_999, "seen": 9_999_999_999}):  # today's
        default_install.cookies.set(sessions.SESSION_COOKIE, _forged(body))
        export = default_install.get(f"/officer/rounds/{ROUND}/applicants.csv")
        assert export.status_code == 401, body
        assert "PRIVATE-" not in export.text


def test_a_default_install_signs_with_a_key_made_on_first_start(
        default_install: TestClient, tmp_path: Path) -> None:
    assert login(default_install, "officer1").status_code == 303
    key_file = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    cookie = session_cookie(default_install)
    # a restart (new settings, new app) reads the same key: the session still holds
    settings.get_settings.cache_clear()
    with TestClient(create_app()) as restarted:
        restarted.cookies.set(sessions.SESSION_COOKIE, cookie)
        assert restarted.get(f"/officer/rounds/{ROUND}/applicants.csv").status_code == 200
        settle(restarted.app)


def test_the_generated_key_is_random_per_install_and_kept(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDUGIS_SECRET_KEY", raising=False)
    first = Settings(environment="development", data_dir=tmp_path / "a").session_secret()
    again = Settings(environment="development", data_dir=tmp_path / "a").session_secret()
    other = Settings(environment="test", data_dir=tmp_path / "b").session_secret()
    assert first == again != other
    assert first != FORMER_BUILT_IN_KEY and len(first) == 64


def test_a_configured_key_wins_and_writes_no_file(tmp_path: Path) -> None:
    configured = Settings(environment="development", data_dir=tmp_path, secret_key="k" * 40)
    assert configured.session_secret() == "k" * 40
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("key", [None, "", "short-production-key"])
def test_production_refuses_to_start_without_a_strong_key(key: str | None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDUGIS_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="EDUGIS_SECRET_KEY"):
        Settings(environment="production", data_dir=tmp_path, secret_key=key)
    assert not (tmp_path / "secret_key").exists()


def test_production_starts_with_a_key_of_32_characters(tmp_path: Path) -> None:
    key = "0123456789abcdef" * 2
    assert Settings(environment="production", data_dir=tmp_path, secret_key=key).session_secret() == key


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("f" * 64)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_secret(path)


def test_a_truncated_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("abc\n")
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="3 characters"):
        load_or_create_secret(path)


def test_workers_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: load_or_create_secret(path), range(32)))
    assert len(keys) == 1
    assert os.listdir(path.parent) == ["secret_key"]  # no temporary file left behind
