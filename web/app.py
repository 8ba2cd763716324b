"""The FastAPI app: for now the public school directory of the loaded city.

The full map application (parents, officers, planners, OGC APIs) is issue 6; this app
already serves real data from PostGIS so ``edugis demo`` shows something true.
"""

from __future__ import annotations

from html import escape
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from gis_service.db import get_engine
from gis_service.spatial import school_counts

LEVEL_NAMES = {"preschool": "Mầm non / Preschool", "primary": "Tiểu học / Primary",
               "lower_secondary": "THCS / Lower secondary",
               "upper_secondary": "THPT / Upper secondary"}


def create_app() -> FastAPI:
    """Build the app; the database is reached on first request, not at import."""
    app = FastAPI(title="edugis", version="0.1.0")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        with get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/api/schools/summary")
    def summary() -> list[dict[str, Any]]:
        return school_counts(get_engine())

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        rows = school_counts(get_engine())
        body = "".join(
            f"<tr><td>{escape(r['district'] or '')}</td><td>{escape(LEVEL_NAMES[r['level']])}</td>"
            f"<td>{r['ownership']}</td><td>{r['schools']}</td><td>{r['capacity']}</td></tr>"
            for r in rows
        )
        return (
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>edugis — Bản đồ trường học TP.HCM</title></head><body>"
            "<h1>edugis — Hệ thống GIS giáo dục TP.HCM</h1>"
            "<p>Education GIS of Ho Chi Minh City. Số trường theo quận và cấp học "
            "(schools by district and level):</p>"
            "<table border='1'><thead><tr><th>Quận / District</th><th>Cấp / Level</th>"
            "<th>Loại hình / Ownership</th><th>Số trường / Schools</th>"
            "<th>Chỉ tiêu lớp đầu cấp / Entry capacity</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
            "<p><small>Road data © OpenStreetMap contributors (ODbL) where imported; "
            "the demo city is synthetic.</small></p></body></html>"
        )

    return app
