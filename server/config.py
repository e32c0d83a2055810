"""Database configuration: which database the server talks to, and through which drivers.

The server reads one setting, ``DATABASE_URL``. Unset, it uses a SQLite file in the working
directory so a fresh checkout runs with nothing to set up. A PostgreSQL URL may name any of the
usual drivers; the sync side always uses psycopg 3 and the async side asyncpg, so the two halves of
the codebase (the sync facade and the async repositories) always reach the same database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

DEFAULT_SQLITE_FILE = "server-data.db"
DATABASE_URL_ENV = "DATABASE_URL"

# Time a SQLite connection waits for a competing writer before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30

_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class ConfigurationError(ValueError):
    """DATABASE_URL names a database the server does not support."""


@dataclass(frozen=True)
class DatabaseSettings:
    """The configured database, resolved into one URL per side."""

    url: str
    backend: str
    sync_url: str
    async_url: str

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.backend == "postgresql"


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


def configured_database_url() -> str:
    """The raw URL from the environment, or the default SQLite file."""
    return os.environ.get(DATABASE_URL_ENV, "").strip() or default_database_url()


def backend_of(url: str | URL) -> str:
    parsed = make_url(url) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return "postgresql"
    if backend == "sqlite":
        return "sqlite"
    raise ConfigurationError(f"unsupported database in DATABASE_URL: {backend!r}")


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    return parsed.set(drivername=drivers[backend_of(parsed)]).render_as_string(hide_password=False)


def sync_url_for(url: str) -> str:
    """``postgresql://…`` -> ``postgresql+psycopg://…``; SQLite stays on pysqlite."""
    return _with_driver(url, _SYNC_DRIVERS)


def async_url_for(url: str) -> str:
    """``postgresql://…`` -> ``postgresql+asyncpg://…``; SQLite goes through aiosqlite."""
    return _with_driver(url, _ASYNC_DRIVERS)


def get_database_settings() -> DatabaseSettings:
    """Read the environment now (tests change DATABASE_URL before the first engine is built)."""
    url = configured_database_url()
    return DatabaseSettings(
        url=url,
        backend=backend_of(url),
        sync_url=sync_url_for(url),
        async_url=async_url_for(url),
    )
