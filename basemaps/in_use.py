"""Which imported road network the city routes on: pinned in the database, changed only on purpose.

Importing a basemap never changes the one in use (a small test file must not replace the
city's routing); only the first basemap imported into an empty database is put in use, so
that a fresh install works. ``edugis basemap use NAME`` changes it, audited. The choice lives
in ``app_settings`` (key ``basemap``), so every worker and every node follows it, and its
version in ``data_changes`` tells the finder and the tiles to reload.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis_service.audit import audit
from gis_service.errors import NotFoundError

SETTING = "basemap"


def basemap_in_use(conn: Connection) -> str | None:
    """Return the name of the basemap in use, or ``None`` before any road network is imported."""
    name: str | None = conn.execute(sa.text(
        "SELECT value FROM app_settings WHERE key = :k"), {"k": SETTING}).scalar()
    return name


def use_basemap(engine: Engine, name: str, actor: str = "system") -> str | None:
    """Put basemap ``name`` in use; return the one it replaces.

    Raises
    ------
    NotFoundError
        When no basemap of that name is imported (the list names those that are).
    """
    with engine.begin() as conn:
        names = conn.execute(sa.text("SELECT name FROM basemaps ORDER BY name")).scalars().all()
        if name not in names:
            raise NotFoundError(f"basemap {name!r} is not imported; imported: "
                                f"{', '.join(names) or 'none'} (bản đồ nền chưa được nhập)")
        previous = conn.execute(sa.text(
            "SELECT value FROM app_settings WHERE key = :k FOR UPDATE"), {"k": SETTING}).scalar()
        if previous != name:
            set_in_use(conn, name, actor)
            audit(conn, actor, "basemap.use", name, {"previous": previous})
    return previous


def set_in_use(conn: Connection, name: str, actor: str) -> None:
    """Record ``name`` as the basemap in use, inside the caller's transaction."""
    conn.execute(sa.text(
        "INSERT INTO app_settings (key, value, updated_by) VALUES (:k, :v, :a)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now(),"
        " updated_by = excluded.updated_by"), {"k": SETTING, "v": name, "a": actor})


def claim_if_none(conn: Connection, name: str, actor: str) -> bool:
    """Put ``name`` in use when no basemap is (the first import); True when it did."""
    claimed = conn.execute(sa.text(
        "INSERT INTO app_settings (key, value, updated_by) VALUES (:k, :v, :a)"
        " ON CONFLICT (key) DO NOTHING RETURNING key"), {"k": SETTING, "v": name, "a": actor}).first()
    if claimed is not None:
        audit(conn, actor, "basemap.use", name, {"previous": None, "reason": "first import"})
    return claimed is not None
