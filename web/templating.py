"""The Jinja environment of the pages and :func:`render`, which every page draws through.

The error pages draw through it too; it is its own module so that the error handlers need
not import the pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from basemaps.hcmc_store import has_synthetic_data
from gis_service.directory import data_date
from gis_service.request_keys import new_key
from web.auth import csrf_token, ensure_csrf_cookie, optional_user
from web.i18n import LANG_COOKIE, lang_of, translate

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
#: ``{{ request_key() }}``: a fresh one-time key for a staff form that writes.
TEMPLATES.env.globals["request_key"] = new_key


def language_context(request: Request) -> dict[str, Any]:
    """Return the language part of every page's context.

    That is ``lang``, the other language and the query that switches to it, and ``t`` (the
    translation of a text key).
    """
    lang = lang_of(request)
    other = "en" if lang == "vi" else "vi"
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    return {"lang": lang, "other_lang": other,
            "other_lang_query": urlencode({**query, "lang": other}),
            "t": lambda key: translate(key, lang)}


def render(request: Request, engine: Engine, name: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    """Render a template with the shared context (language, user, CSRF token, data date).

    ``synthetic_data`` tells whether a demo's synthetic data are loaded (the page's banner).
    """
    base: dict[str, Any] = {
        **language_context(request), "user": optional_user(request),
        "csrf": csrf_token(request), "data_date": data_date(engine),
        "synthetic_data": has_synthetic_data(engine),
    }
    response = TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    ensure_csrf_cookie(request, response)
    if request.query_params.get("lang") == lang_of(request):
        response.set_cookie(LANG_COOKIE, lang_of(request), max_age=365 * 86400, samesite="lax")
    return response
