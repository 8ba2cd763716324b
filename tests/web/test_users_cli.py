"""`edugis users create` stores only a hash and refuses a duplicate name."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.conftest import database_env
from web.cli import app


def test_users_create_stores_a_hash_and_refuses_duplicates(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    password = "mat-khau-rat-dai-2026"
    with database_env(engine, monkeypatch):
        result = CliRunner().invoke(app, ["users", "create", "can_bo_1", "--role", "officer",
                                          "--password", password])
        assert result.exit_code == 0, result.output
        again = CliRunner().invoke(app, ["users", "create", "can_bo_1", "--role", "officer",
                                         "--password", password])
        assert again.exit_code != 0 and "already exists" in str(again.exception)
    with engine.connect() as conn:
        role, stored = conn.execute(sa.text(
            "SELECT role, password_hash FROM users WHERE username = 'can_bo_1'")).one()
    assert role == "officer" and password not in stored and stored.startswith("scrypt")
