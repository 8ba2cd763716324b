"""The ``edugis`` command: one entry point, sub-commands per package."""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from admissions.cli import app as admissions_app
from basemaps.cli import app as import_app
from basemaps.cli import basemap_app
from forecasting.cli import add_import_commands, forecast_app, plan_app
from forecasting.scenario_cli import app as scenario_app
from gis_service.cli import app as db_app
from gis_service.errors import EdugisError
from routing.cli import app as route_app
from web.cluster_cli import app as cluster_app

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine
    from starlette.types import ASGIApp

app = typer.Typer(help="edugis — education GIS of Ho Chi Minh City.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")
add_import_commands(import_app)
app.add_typer(import_app, name="import")
app.add_typer(basemap_app, name="basemap")
app.add_typer(route_app, name="route")
app.add_typer(admissions_app, name="admissions")
app.add_typer(forecast_app, name="forecast")
app.add_typer(plan_app, name="plan")
app.add_typer(scenario_app, name="scenario")
app.add_typer(cluster_app, name="cluster")
users_app = typer.Typer(help="Accounts of officers, planners and admins.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option("--role", help="officer, planner or admin")],
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="password (asked when not given)")],
) -> None:
    """Create an account; only the scrypt hash of the password is stored."""
    from gis_service.accounts import create_user
    from gis_service.db import get_engine

    user_id = create_user(get_engine(), username, password, role)
    typer.echo(f"user {username} ({role}) created with id {user_id}")


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="new password (asked when not given)")],
) -> None:
    """Set a new password; every open session of the user ends at once."""
    from gis_service.accounts import audit, set_password
    from gis_service.db import get_engine

    engine = get_engine()
    set_password(engine, username, password)
    audit(engine, "cli", "user.set_password", username)
    typer.echo(f"password of {username} changed; their sessions are ended")


def _set_disabled(username: str, disabled: bool) -> None:
    """Shut or open an account, audited (shutting also ends its sessions)."""
    from gis_service.accounts import audit, set_disabled
    from gis_service.db import get_engine

    engine = get_engine()
    set_disabled(engine, username, disabled)
    audit(engine, "cli", "user.disable" if disabled else "user.enable", username)


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Disable an account: it cannot sign in and its open sessions end at once."""
    _set_disabled(username, True)
    typer.echo(f"user {username} disabled; their sessions are ended")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Enable a disabled account again (it signs in anew)."""
    _set_disabled(username, False)
    typer.echo(f"user {username} enabled")


@users_app.command("unlock")
def users_unlock(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Clear the sign-in throttle of an account (its counts and locks from every address).

    Use it when, e.g., a colleague was locked out by someone else's guesses.
    """
    from gis_service.accounts import audit
    from gis_service.db import get_engine
    from gis_service.login_throttle import unlock

    engine = get_engine()
    removed = unlock(engine, username)
    audit(engine, "cli", "user.unlock", username, {"rows": removed})
    typer.echo(f"sign-in throttle of {username} cleared ({removed} rows)")


@app.command("demo-data")
def demo_data(
    seed: Annotated[int, typer.Option(help="generator seed (same seed, same city)")] = 2026,
    nodes: Annotated[int, typer.Option(help="approximate number of road nodes")] = 60_000,
) -> None:
    """Generate the synthetic demo city and load it (replacing an earlier demo city)."""
    from basemaps.demo_city import generate_demo_city
    from gis_service.db import get_engine
    from web.demo_data import load_demo_city

    started = time.perf_counter()
    typer.echo("generating the demo city (synthetic data) ...")
    city = generate_demo_city(target_nodes=nodes, seed=seed)
    typer.echo(f"  generated in {time.perf_counter() - started:.1f} s; loading ...")
    counts = load_demo_city(get_engine(), city)
    typer.echo("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    typer.echo(f"demo city ready in {time.perf_counter() - started:.1f} s")


#: Modes and levels whose nearest-school search a served worker prepares before it accepts
#: requests (the finder page's default mode, every level); the rest are built on first use.
WARM_MODES = ("motorbike",)


def default_workers() -> int:
    """Return one uvicorn worker per core, at most 4: a worker is one Python process (one GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


def worker_environment(workers: int) -> None:
    """Set what worker processes inherit: one numba thread each (``NUMBA_NUM_THREADS=1``).

    Only when the workers are other processes. A single worker runs in this process, which
    may already have launched numba's threads (``edugis demo`` runs parallel kernels while it
    loads the city): numba then refuses the variable's change at its next compilation, and
    every search the finder prepares would fail. That worker sets its thread count itself
    (:func:`served_app`).
    """
    if workers > 1:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def served_app() -> FastAPI:
    """Build the app as ``edugis serve`` runs it, in each worker process.

    One numba thread per request; the database engine and the finder's prepared searches
    are ready before the worker accepts its first request (so no parent waits seconds for
    a cold graph).
    """
    import numba

    from web.app import create_app

    # parallel kernels for a single point only add thread hand-offs: 36 ms -> 0.5 ms measured
    numba.set_num_threads(1)
    return create_app(on_start=warm_up)


def warm_up(app: FastAPI) -> None:
    """Make the engine and prepare the finder, before the worker accepts (app lifespan).

    The engine is made (the database up and migrated, or the worker fails to start) and the
    finder's searches of :data:`WARM_MODES` are prepared, in a thread while the worker
    already serves when :data:`WARM_IN_BACKGROUND` is set (``edugis demo``).
    """
    from web.deps import database

    engine = database(app.state).engine()
    if WARM_IN_BACKGROUND:  # edugis demo: serve at once, the finder gets ready meanwhile
        threading.Thread(target=prepare_finder, args=(app, engine), name="finder-warm-up",
                         daemon=True).start()
    else:
        prepare_finder(app, engine)


#: Whether :func:`warm_up` prepares the finder in a thread while the worker already serves
#: (``edugis demo``, one worker in its own process); a finder request meanwhile waits for it.
WARM_IN_BACKGROUND = False


def prepare_finder(app: FastAPI, engine: Engine) -> None:
    """Prepare the finder's searches of :data:`WARM_MODES`, every level, then freeze the heap."""
    from gis_service.levels import SCHOOL_LEVELS

    started = time.perf_counter()
    state = app.state.finder
    for mode in WARM_MODES:
        for level in SCHOOL_LEVELS:
            try:
                state.prepared(engine, mode, level)
            except Exception:  # the first request will build it again and report the error
                logging.getLogger(__name__).exception("could not prepare the %s search of %s",
                                                      mode, level)
    # what is loaded now lives as long as the worker: out of the collector's sight, a full
    # collection no longer walks its ~0.7 M objects (a 0.5 s pause of every request measured)
    gc.collect()
    gc.freeze()
    # uvicorn's own logger: its handler prints, so the demo shows when the finder is ready
    logging.getLogger("uvicorn.error").info("finder ready in %.1f s", time.perf_counter() - started)


def proxied_app() -> ASGIApp:
    """Return :func:`served_app` behind ``web.proxy.ProxyPeerMiddleware``.

    The proxy headers of ``EDUGIS_FORWARDED_ALLOW_IPS`` are applied as uvicorn would, and the
    connection's peer is kept for the same-origin rule (uvicorn runs with
    ``proxy_headers=False``).
    """
    from gis_service.settings import get_settings
    from web.proxy import ProxyPeerMiddleware

    return ProxyPeerMiddleware(served_app(), get_settings().forwarded_allow_ips)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int | None, typer.Option(
        help="uvicorn worker processes (default: one per core, at most 4)")] = None,
    access_log: Annotated[bool, typer.Option(
        help="log every request to stderr (off by default, as in gunicorn: it costs as much "
             "CPU as answering a cached tile; log at the reverse proxy)")] = False,
) -> None:
    """Run the web app (each worker prepares the finder's searches before it accepts)."""
    import uvicorn

    from gis_service.db import get_engine
    from gis_service.settings import get_settings

    worker_environment(workers or default_workers())
    # the workers share one listening socket and uvloop accepts every pending connection at
    # once, so a burst of clients could land on one worker (49 of 50 seen); one accept per
    # turn spreads them better (38/12 at worst in the same test), not evenly: SO_REUSEPORT
    # would need a supervisor of our own
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    get_engine()  # bring the database up (and migrate) once, before any worker starts
    # the signing key too: a first start makes <data_dir>/secret_key here, once, and a bad key
    # file stops the command now rather than every worker on its first request
    get_settings().session_secret()
    # the supervisor kills a worker that does not answer its health ping within the timeout;
    # preparing a search (numba, pandas) can starve the ping thread for several seconds on a
    # busy machine, and 5 s (uvicorn's default) killed workers in a loop while they warmed.
    # No "server: uvicorn" header: naming the server and its version only helps an attacker
    uvicorn.run("web.cli:proxied_app", factory=True, host=host, port=port,
                workers=workers or default_workers(), log_level="info", access_log=access_log,
                timeout_worker_healthcheck=60, server_header=False,
                # X-Forwarded-For names the client only from EDUGIS_FORWARDED_ALLOW_IPS (the
                # rate limit and the sign-in throttle count that client; anyone else's is
                # ignored), applied by proxied_app, which keeps the peer for web.auth
                proxy_headers=False)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    synthetic: Annotated[bool, typer.Option(
        help="the synthetic demo city instead of the real HCMC bundle")] = False,
) -> None:
    """Load the real Ho Chi Minh City (data/hcmc, once), then run the web app on it.

    Real OSM roads, wards, schools and cut-offs, with synthetic applicants,
    population and school places (marked synthetic on every page).
    --synthetic serves the generated demo city instead.
    """
    from gis_service.db import get_engine
    from web.real_city import load_real_city, remove_real_city

    if synthetic:
        remove_real_city(get_engine())
        demo_data(seed=2026, nodes=60_000)
        from basemaps.in_use import use_basemap

        use_basemap(get_engine(), "demo", actor="demo")
    else:
        typer.echo("loading the real HCMC bundle (data/hcmc; applicants and population synthetic) ...")
        result = load_real_city(get_engine(), echo=typer.echo)
        if "skipped" in result:
            typer.echo(f"  already loaded (bundle {result['skipped']})")
        else:
            typer.echo(f"real city ready in {result['seconds']['total']:.1f} s")
    typer.echo(f"open http://{host}:{port}/")
    global WARM_IN_BACKGROUND
    WARM_IN_BACKGROUND = True  # one worker, in this process: it sees the switch
    serve(host=host, port=port, workers=1)


def is_user_error(exc: BaseException) -> bool:
    """Tell whether ``exc`` is the user's to fix, not a bug.

    These are edugis's own errors (bad input, an unknown key, a refused state, a database
    that cannot be reached) and settings refused at start (pydantic's ``ValidationError``:
    an ``EDUGIS_`` variable out of range, production without a secret key). A bad option is
    typer's ``BadParameter``, which click reports itself (usage and exit code 2) before it
    gets here.
    """
    if isinstance(exc, EdugisError):
        return True
    pydantic_core = sys.modules.get("pydantic_core")  # loaded when the settings were read
    return pydantic_core is not None and isinstance(exc, pydantic_core.ValidationError)


def main() -> None:
    """Run the console entry point.

    The user's errors print their message and exit with code 2; any other exception, a plain
    ``ValueError`` included, is a bug and shows its traceback.
    """
    try:
        app()
    except Exception as exc:
        if not is_user_error(exc):
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
