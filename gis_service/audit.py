"""The audit log: one row per action that changes what people see or get."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def audit(conn: Connection, actor: str, action: str, target: str = "",
          details: dict[str, Any] | None = None) -> None:
    """Append one row to ``audit_log`` inside the caller's transaction (it lands with it)."""
    conn.execute(sa.text(
        "INSERT INTO audit_log (actor, action, target, details) VALUES (:a, :b, :t, CAST(:d AS jsonb))"),
        {"a": actor, "b": action, "t": target, "d": json.dumps(details or {}, ensure_ascii=False)})
