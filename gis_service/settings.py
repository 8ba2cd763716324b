"""One settings object, read from the environment (``EDUGIS_`` prefix) once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis_service.secret_key import MIN_SECRET_CHARS, SECRET_FILE, load_or_create_secret


class Settings(BaseSettings):
    """Runtime settings.

    ``database_url`` is read from ``EDUGIS_DATABASE_URL`` or plain ``DATABASE_URL``; when
    neither is set edugis runs its own private PostgreSQL+PostGIS cluster in ``pg_dir``.

    Paths: ``data_dir`` (default ``var`` under the working directory) holds the embedded
    cluster (``pg_dir``, default ``<data_dir>/pg``), the caches (``cache_dir``, default
    ``<data_dir>/cache``) and the generated secret key. The compiled road graphs live in one
    folder, :attr:`graph_cache_path` (``routing_cache``, default ``<cache_dir>/graphs``), for
    the web finder and the services alike. ``pg_bin`` names the folder of ``initdb`` and
    ``pg_ctl`` (default: the newest ``/usr/lib/postgresql/N/bin``).

    ``secret_key`` signs session cookies and CSRF tokens. Production refuses to start without
    one (of at least 32 characters); elsewhere an unset key is made once at random and kept in
    ``<data_dir>/secret_key`` (mode 0600), see :meth:`session_secret`.

    Sessions end after ``session_idle_s`` without a request (the cookie slides while in use)
    and ``session_max_s`` after sign-in whatever happens. Sign-in is throttled (see
    ``gis_service.login_throttle``): after ``login_failures_per_pair`` failures of one account
    from one address, or attempts at ``login_usernames_per_address`` distinct accounts from
    one address, that pair (address) is locked for ``login_backoff_s``, doubled at each
    further failure up to ``login_backoff_max_s``; after ``login_failures_per_account``
    failures of an account from all addresses together it is slowed down, locked for
    ``login_account_backoff_s`` at each further failure. Counts are forgotten after
    ``login_forget_s`` without attempts.

    ``public_origins`` lists the addresses the site is reached at (comma-separated, e.g.
    ``https://edugis.hcm.edu.vn``): a form post whose ``Origin`` names one of them is
    same-origin even when a reverse proxy passes another ``Host`` (see ``web.auth``).
    """

    model_config = SettingsConfigDict(env_prefix="EDUGIS_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("EDUGIS_DATABASE_URL", "DATABASE_URL")
    )
    data_dir: Path = Path("var")
    pg_dir: Path | None = None
    db_name: str = "edugis"
    pg_bin: Path | None = None
    cache_dir: Path | None = None
    routing_cache: Path | None = None
    secret_key: str | None = None
    #: Rate limit of the public API per client address and worker (``web.rate_limit``):
    #: tokens added per second (0 turns the limit off) and tokens a bucket holds at most.
    rate_limit_per_s: float = Field(default=100.0, ge=0)
    rate_limit_burst: float = Field(default=400.0, ge=1)
    #: The reverse proxies whose ``X-Forwarded-For`` names the client (comma-separated
    #: addresses, ``*`` for any), passed to uvicorn by ``edugis serve``: the rate limit and
    #: the sign-in throttle then count that client. Nobody else's header is believed.
    forwarded_allow_ips: str = "127.0.0.1"
    #: The site's public origins (``scheme://host[:port]``, comma-separated), for the
    #: same-origin rule of form posts behind a proxy that rewrites ``Host`` (``web.auth``).
    public_origins: str = ""

    session_idle_s: int = Field(default=30 * 60, gt=0)
    session_max_s: int = Field(default=8 * 3600, gt=0)
    login_failures_per_pair: int = Field(default=5, gt=0)
    login_usernames_per_address: int = Field(default=20, gt=0)
    login_failures_per_account: int = Field(default=50, gt=0)
    login_account_backoff_s: float = Field(default=30.0, gt=0)
    login_backoff_s: float = Field(default=30.0, gt=0)
    login_backoff_max_s: float = Field(default=15 * 60.0, gt=0)
    login_forget_s: float = Field(default=3600.0, gt=0)
    _secret: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production":
            if not self.secret_key:
                raise ValueError("EDUGIS_SECRET_KEY: phải đặt khi chạy production / must be set"
                                 " in production (e.g. the output of: openssl rand -hex 32)")
            if len(self.secret_key) < MIN_SECRET_CHARS:
                raise ValueError(f"EDUGIS_SECRET_KEY: cần ít nhất {MIN_SECRET_CHARS} ký tự / has"
                                 f" {len(self.secret_key)} characters, production needs at least"
                                 f" {MIN_SECRET_CHARS}")
        return self

    def session_secret(self) -> str:
        """Return the key that signs sessions.

        It is ``secret_key`` when set, else the key kept in ``<data_dir>/secret_key``, made at
        random on first use (read once per settings).
        """
        if self.secret_key:
            return self.secret_key
        if self._secret is None:
            self._secret = load_or_create_secret(self.secret_path)
        return self._secret

    @property
    def secret_path(self) -> Path:
        """Where the generated key is kept (``<data_dir>/secret_key``), absolute."""
        return (self.data_dir / SECRET_FILE).resolve()

    @property
    def pg_path(self) -> Path:
        """Folder of the embedded cluster (default ``<data_dir>/pg``), absolute."""
        return (self.pg_dir or self.data_dir / "pg").resolve()

    @property
    def cache_path(self) -> Path:
        """Folder for compiled graphs and other caches (default ``<data_dir>/cache``)."""
        return (self.cache_dir or self.data_dir / "cache").resolve()

    @property
    def graph_cache_path(self) -> Path:
        """The one folder of compiled road graphs (``routing.build_graph``), absolute.

        It is ``routing_cache``, default ``<cache_dir>/graphs``.
        """
        return (self.routing_cache or self.cache_path / "graphs").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, created on first use."""
    return Settings()
