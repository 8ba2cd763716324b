"""One settings object, read from the environment (``EDUGIS_`` prefix) once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "edugis-development-only-secret"


class Settings(BaseSettings):
    """Runtime settings.

    ``database_url`` is read from ``EDUGIS_DATABASE_URL`` or plain ``DATABASE_URL``; when
    neither is set edugis runs its own private PostgreSQL+PostGIS cluster in ``pg_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="EDUGIS_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("EDUGIS_DATABASE_URL", "DATABASE_URL")
    )
    data_dir: Path = Path("var")
    pg_dir: Path | None = None
    db_name: str = "edugis"
    cache_dir: Path | None = None
    secret_key: str = DEV_SECRET
    hcmc_data: Path | None = None
    #: Rate limit of the public API per client address and worker (``web.rate_limit``):
    #: tokens added per second (0 turns the limit off) and tokens a bucket holds at most.
    rate_limit_per_s: float = Field(default=100.0, ge=0)
    rate_limit_burst: float = Field(default=400.0, ge=1)
    #: The reverse proxies whose ``X-Forwarded-For`` names the client (comma-separated
    #: addresses, ``*`` for any), passed to uvicorn by ``edugis serve``: the rate limit and
    #: the sign-in throttle then count that client. Nobody else's header is believed.
    forwarded_allow_ips: str = "127.0.0.1"
    #: The basemap routing, the finder and planning use; the most recently imported when unset.
    basemap: str | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("EDUGIS_SECRET_KEY must be set in production")
        return self

    @property
    def pg_path(self) -> Path:
        """Folder of the embedded cluster (default ``<data_dir>/pg``), absolute."""
        return (self.pg_dir or self.data_dir / "pg").resolve()

    @property
    def cache_path(self) -> Path:
        """Folder for compiled graphs and other caches (default ``<data_dir>/cache``)."""
        return (self.cache_dir or self.data_dir / "cache").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, created on first use."""
    return Settings()
