"""The audit log: one row per action that changes what people see or get."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


def audit(db: Connection | Engine, actor: str, action: str, target: str = "",
          details: dict[str, Any] | None = None) -> None:
    r"""Append one row to ``audit_log``.

    Inside the caller's transaction (it lands with it) when given a connection, in a
    transaction of its own when given the engine. Details are kept as written (Vietnamese
    stays readable in the JSON, not as ``\u`` escapes).
    """
    if isinstance(db, Engine):
        with db.begin() as conn:
            audit(conn, actor, action, target, details)
        return
    db.execute(sa.text(
        "INSERT INTO audit_log (actor, action, target, details) VALUES (:a, :b, :t, CAST(:d AS jsonb))"),
        {"a": actor, "b": action, "t": target, "d": json.dumps(details or {}, ensure_ascii=False)})
