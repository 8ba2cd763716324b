"""Issue 12.4 (passwords): the most used passwords, passwords of repeated characters and the
username are refused when an account is made and when a password is set, naming the field."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from gis_service.accounts import authenticate, create_user, password_problem, set_password
from tests.conftest import database_env
from web.cli import app as cli

REFUSED = {
    "1234567890": "most used",
    "Password2026!": "most used",   # a listed word with digits and punctuation around it
    "ADMIN12345": "most used",
    "qwertyuiop": "most used",
    "aaaaaaaaaaaa": "repeats",
    "abababababab": "repeats",
    "1231231231": "repeats",
    "can_bo_quan_1": "username",
    "2026can_bo_quan_1!": "username",
    "short": "at least",
}


@pytest.mark.parametrize("password", REFUSED)
def test_weak_passwords_are_refused_at_creation(engine: Engine, password: str) -> None:
    with pytest.raises(ValueError, match=f"^password: .*{REFUSED[password]}"):
        create_user(engine, "can_bo_quan_1", password, "officer")
    assert authenticate(engine, "can_bo_quan_1", password) is None


@pytest.mark.parametrize("password", ["Ngân hàng đề 2026", "correct horse battery", "7x!Qm2#vLp"])
def test_ordinary_strong_passwords_pass(password: str) -> None:
    assert password_problem(password, "can_bo_quan_1") is None


def test_weak_passwords_are_refused_when_set(engine: Engine) -> None:
    create_user(engine, "can_bo_quan_1", "Ngân hàng đề 2026", "officer")
    with pytest.raises(ValueError, match=r"^password: mật khẩu quá phổ biến"):
        set_password(engine, "can_bo_quan_1", "Password2026!")
    assert authenticate(engine, "can_bo_quan_1", "Ngân hàng đề 2026") is not None


def test_the_command_refuses_a_weak_password_in_both_languages(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with database_env(engine, monkeypatch):
        made = CliRunner().invoke(cli, ["users", "create", "can_bo_1", "--role", "officer",
                                        "--password", "1234567890"])
        assert made.exit_code != 0
        assert "mật khẩu quá phổ biến" in str(made.exception)
        assert "most used passwords" in str(made.exception)
        assert CliRunner().invoke(cli, ["users", "create", "can_bo_1", "--role", "officer",
                                        "--password", "Ngân hàng đề 2026"]).exit_code == 0
        again = CliRunner().invoke(cli, ["users", "set-password", "can_bo_1",
                                         "--password", "zzzzzzzzzzzz"])
        assert again.exit_code != 0 and "password: " in str(again.exception)
