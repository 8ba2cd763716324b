"""The web side of the school directory (:mod:`gis_service.directory`).

Filters are parsed from a request, and refused with a 400.
"""

from __future__ import annotations

from gis_service.directory import SchoolFilters
from web.errors import BadRequestError


def school_filters(q: str = "", level: str = "", ownership: str = "", district: str = "",
                   ward: str = "") -> SchoolFilters:
    """Return the filters of a request (``q`` stripped).

    ``ward`` is a ward or commune of today, ``district`` a former district (history).
    400 when :meth:`SchoolFilters.problem` refuses them.
    """
    filters = SchoolFilters(q=q.strip(), level=level, ownership=ownership, district=district,
                            ward=ward)
    problem = filters.problem()
    if problem is not None:
        raise BadRequestError(problem)
    return filters
