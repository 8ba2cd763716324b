"""An admission round as stored: its row, the error of an action its status forbids, audit.

The small modules that read or change one part of a round (its places, its inputs, the
catchments it uses, its address checks) import this module, not :mod:`admissions.service`,
so that the service can import them in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis_service.audit import audit
from gis_service.errors import NotFoundError, StateError

__all__ = ["EmptyRoundError", "RoundInfo", "RoundStateError", "audit", "get_round"]


class RoundStateError(StateError):
    """An action the round's status forbids (e.g. running a published round)."""


class EmptyRoundError(RoundStateError, NotFoundError):
    """A round without applicants: there is nothing to run or compare until they are imported.

    A state error (the web answers 409), and a ``NotFoundError`` for callers that catch the
    missing applicants as such.
    """


@dataclass(frozen=True)
class RoundInfo:
    """One row of ``admission_rounds``.

    ``mechanism`` is the name of the mechanism of its last run (or the one chosen at
    creation); ``status`` is ``draft``, ``run`` or ``published``; ``parameters`` holds the
    provenance of the stored run (input checksum, code version, mechanism parameters, mode,
    officer overrides).
    """

    id: str
    grade: int
    year: int
    mechanism: str
    seed: int
    status: str
    parameters: dict[str, Any]


def get_round(engine: Engine | Connection, round_id: str) -> RoundInfo:
    """Return the round ``round_id``; :class:`~gis_service.errors.NotFoundError` when unknown."""
    query = sa.text("SELECT id, grade, year, mechanism, seed, status, parameters"
                    " FROM admission_rounds WHERE id = :r")
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            row = conn.execute(query, {"r": round_id}).one_or_none()
    else:
        row = engine.execute(query, {"r": round_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"unknown admission round {round_id!r}")
    return RoundInfo(*row)
