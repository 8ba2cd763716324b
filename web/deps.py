"""Shared FastAPI dependencies (``Annotated`` aliases); errors are mapped to HTTP answers in
:mod:`web.errors`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.datastructures import State

from gis_service.changes import DataVersions
from gis_service.db import Database

if TYPE_CHECKING:  # the moved name below, typed for web.app, which still imports it here
    from web.errors import install_error_handlers as install_error_handlers


def database(state: State) -> Database:
    """The app's database (made by the lifespan of :func:`web.app.create_app`)."""
    found: Database = state.database
    return found


def app_engine(request: Request) -> Engine:
    """The database engine; the first call brings the database up and migrates it
    (:meth:`gis_service.db.Database.engine`), and raises, for a 503, while it is down."""
    return database(request.app.state).engine()


EngineDep = Annotated[Engine, Depends(app_engine)]


def data_versions(state: State) -> DataVersions:
    """The app's view of the data versions (``request.app.state``)."""
    versions: DataVersions = state.data_versions
    return versions


#: Names that moved to :mod:`web.errors`, still importable from here for :mod:`web.app` until
#: it imports them from there (this block goes then); imported on first use, as
#: :mod:`web.errors` imports this module.
_MOVED_TO_ERRORS = frozenset({"install_error_handlers"})


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_ERRORS:
        import web.errors

        return getattr(web.errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
