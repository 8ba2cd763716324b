"""Staff accounts live in :mod:`gis_service.accounts` (hashes, the password policy, creation,
authentication, revocation of sessions, the audit log); the web keeps cookies and sessions
(:mod:`web.sessions`, :mod:`web.auth`). The names below stay importable from here for the
modules that have not switched yet (:mod:`web.cli`, :mod:`web.officer`, :mod:`web.planner`
and their tests)."""

from __future__ import annotations

from gis_service.accounts import User, audit, create_user, set_disabled, set_password

__all__ = ["User", "audit", "create_user", "set_disabled", "set_password"]
