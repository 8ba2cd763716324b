"""Parents compare up to four schools side by side, on facts only (no composite rating).

``/compare?schools=A,B[,C,D]`` (or ``pick=A&pick=B``) lists for each school its level,
ownership, address, entry places, programmes, catchment wards and grade-10 NV1 cut-offs
with next year's forecast; given the home (``lon``, ``lat``) and ``mode``, also the road
distance and time from it, and given a grade-10 ``score``, the chance band. The finder and
the list page link here with the schools ticked.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

import routing
from gis_service.directory import school_catchment, school_detail, school_names
from gis_service.errors import InputError
from web.deps import EngineDep
from web.errors import BadRequestError
from web.finder import FINDER_MODES, check_point
from web.i18n import lang_of, translate
from web.i18n_public import programme_name
from web.parent_api import school_outlooks
from web.public_api import finder_state
from web.templating import render

router = APIRouter(include_in_schema=False)
MAX_COMPARED = 4


#: Most codes a too-long choice lists back to untick (the rest are not shown).
MAX_LISTED = 40


def picked_codes(schools: str) -> list[str]:
    """Return the distinct codes of a comma-separated list, in order."""
    return list(dict.fromkeys(c.strip() for c in schools.split(",") if c.strip()))


def compared_codes(schools: str) -> list[str]:
    """Return the distinct codes of a comma-separated list, in order; 1 to :data:`MAX_COMPARED`."""
    codes = picked_codes(schools)
    if not 1 <= len(codes) <= MAX_COMPARED:
        raise BadRequestError(f"compare 1 to {MAX_COMPARED} schools (schools=A,B,...), "
                              f"not {len(codes)}")
    return codes


def _back_link(request: Request) -> str:
    """Return the page the choice came from on this site (the list with its filters), else the list."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path in ("/", "/schools", "/finder"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/schools"


def wrong_count_page(request: Request, engine: Engine, codes: list[str]) -> HTMLResponse:
    """Answer a choice of no school or more than :data:`MAX_COMPARED` with a page (400).

    The page says in the user's language what to do; for too many it lists the ticked
    schools again, all ticked, to untick some and compare.
    """
    lang = lang_of(request)
    if codes:
        message = translate("compare_too_many", lang).format(count=len(codes), limit=MAX_COMPARED)
    else:
        message = translate("compare_none", lang)
    names = school_names(engine, codes[:MAX_LISTED])
    picked = [{"code": c, "name": names[c]} for c in codes[:MAX_LISTED] if c in names]
    return render(request, engine, "compare.html", {
        "problem": message, "picked": picked, "back": _back_link(request),
        "limit": MAX_COMPARED}, status_code=400)


def trips_from_home(request: Request, engine: Engine, schools: list[dict[str, Any]],
                    home: tuple[float, float], mode: str) -> list[dict[str, float] | None] | None:
    """Return road distance and time from ``home`` to each school, from one search.

    ``None`` where a school cannot be reached; ``None`` when no road network is loaded.

    Raises
    ------
    gis_service.errors.InputError
        When ``home`` is farther than the snapping limit from every road of ``mode``.
    """
    found = finder_state(request).graph(engine, mode)
    if found is None:
        return None
    _, graph = found
    found_trips = routing.trips(graph, home, [(float(s["lon"]), float(s["lat"])) for s in schools])
    return [None if trip is None else {"distance_km": trip[0] / 1000, "minutes": trip[1] / 60}
            for trip in found_trips]


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, engine: EngineDep,
                 schools: Annotated[str, Query(max_length=200)] = "",
                 pick: Annotated[list[str] | None, Query(max_length=40)] = None,
                 lon: float | None = None, lat: float | None = None, mode: str = "motorbike",
                 score: Annotated[float | None, Query(ge=0, le=40)] = None) -> HTMLResponse:
    """Up to four schools side by side; the road trip from home when the home is given.

    The schools come as ``schools=A,B`` (the finder's link) or as repeated ``pick=A``
    (the ticked rows of the list page's form), or both. None or more than four: a page
    saying so in the user's language (:func:`wrong_count_page`, 400).
    """
    picked = picked_codes(",".join([schools, *(pick or [])]))
    if not 1 <= len(picked) <= MAX_COMPARED:
        return wrong_count_page(request, engine, picked)
    codes = compared_codes(",".join(picked))
    if mode not in FINDER_MODES:
        raise BadRequestError(f"mode must be one of {', '.join(FINDER_MODES)}")
    if (lon is None) != (lat is None):
        raise BadRequestError("give the home as both lon and lat, or neither")
    facts = [school_detail(engine, code) for code in codes]  # an unknown code is a 404
    trips = None
    if lon is not None and lat is not None:
        check_point(lon, lat)
        try:
            trips = trips_from_home(request, engine, facts, (lon, lat), mode)
        except InputError as exc:
            raise BadRequestError(f"the home is too far from the {mode} roads: {exc}") from exc
    return render(request, engine, "compare.html", {
        "schools": facts, "catchments": [school_catchment(engine, c) for c in codes],
        "programmes": [[programme_name(p, lang_of(request)) for p in s["programmes"] or []]
                       for s in facts],
        "outlooks": school_outlooks(engine, codes, score), "trips": trips, "mode": mode,
        "home_given": lon is not None and lat is not None, "score": score})
