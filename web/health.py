"""``/healthz`` (the database can be read and written) and ``/readyz`` (ready to serve reads).

A load balancer sends page views to every instance whose ``/readyz`` answers 200, which stays
true while the database is read-only for maintenance; ``/healthz`` answers 503 then, as the
instance cannot do its whole job (sign-in, uploads, runs). Both answer 503 with
``Retry-After`` through :func:`web.errors.database_fault_response` when the database fails.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gis_service.health import SharedCheck, check_writable, code_revisions, schema_revisions
from web.deps import EngineDep
from web.errors import RETRY_AFTER_S, error_response

router = APIRouter(include_in_schema=False)
#: One write per second and engine, however many probes (a public endpoint; see SharedCheck).
writable = SharedCheck(check_writable)


@router.get("/healthz")
def healthz(engine: EngineDep) -> Response:
    """Answer 200 when a write to the database succeeds.

    The write is rolled back; one write a second is shared by every probe.
    """
    writable(engine)
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request, engine: EngineDep) -> Response:
    """Answer 200 when the database answers and its schema is the one this code migrates to."""
    database, code = schema_revisions(engine), code_revisions()
    if database != code:
        return error_response(
            request, 503, "SchemaNotCurrent",
            f"lược đồ cơ sở dữ liệu ở phiên bản {', '.join(sorted(database)) or 'trống'}, mã cần "
            f"{', '.join(sorted(code))} / the database schema is at "
            f"{', '.join(sorted(database)) or 'none'}, the code needs {', '.join(sorted(code))}",
            headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse({"status": "ready", "schema": sorted(code)})
