"""Shared FastAPI dependencies (``Annotated`` aliases).

Errors are mapped to HTTP answers in :mod:`web.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from gis_service.changes import DataVersions
from gis_service.db import Database
from gis_service.settings import Settings


def database(state: State) -> Database:
    """Return the app's database (made by the lifespan of :func:`web.app.create_app`)."""
    found: Database = state.database
    return found


def app_settings(request: Request) -> Settings:
    """Return the settings the app was made with (:func:`web.app.create_app`).

    The only settings a running app reads: never the environment's.
    """
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def app_engine(request: Request) -> Engine:
    """Return the database engine.

    The first call brings the database up and migrates it
    (:meth:`gis_service.db.Database.engine`), and raises, for a 503, while it is down.
    """
    return database(request.app.state).engine()


async def request_engine(request: Request) -> Engine:
    """Return the database engine, as :func:`app_engine`, for a route's dependency.

    Once the engine is made this is a read on the event loop: no thread for it (a sync
    dependency would take one of the threadpool's per request); the first call, which
    connects and migrates, runs in a worker thread.
    """
    current = database(request.app.state).current
    if current is not None:
        return current
    return await run_in_threadpool(app_engine, request)


EngineDep = Annotated[Engine, Depends(request_engine)]


def data_versions(state: State) -> DataVersions:
    """Return the app's view of the data versions (``request.app.state``)."""
    versions: DataVersions = state.data_versions
    return versions
