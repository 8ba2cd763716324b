"""The audit log has one writer, used by the web and the services alike."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import gis_service.accounts
import gis_service.audit
from tests.conftest import REPO


def test_the_web_and_the_services_write_the_audit_log_with_one_function() -> None:
    assert gis_service.accounts.audit is gis_service.audit.audit
    writers = [path.relative_to(REPO).as_posix()
               for package in ("gis_service", "basemaps", "routing", "admissions", "forecasting", "web")
               for path in (REPO / package).rglob("*.py")
               if "INSERT INTO audit_log" in path.read_text() and "migrations" not in path.parts]
    assert writers == ["gis_service/audit.py"]


def test_an_audit_row_from_the_engine_lands_with_its_vietnamese_details(engine: Engine) -> None:
    gis_service.audit.audit(engine, "cli", "user.unlock", "nguyễn", {"ghi_chú": "mở khóa tài khoản"})
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT actor, action, target, details FROM audit_log")).one()
    assert tuple(row) == ("cli", "user.unlock", "nguyễn", {"ghi_chú": "mở khóa tài khoản"})
