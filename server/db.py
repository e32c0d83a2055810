"""Engines and session factories for both halves of the server.

The sync side (the persistence facade) and the async side (the repositories) share one database,
named by ``DATABASE_URL`` (see ``server.config``). Engines are cached per URL, so a test run that
points DATABASE_URL somewhere else gets fresh engines instead of stale ones.

The async engine uses ``NullPool`` by default: FastAPI's TestClient, pytest-asyncio and ``asyncio.run``
each bring their own event loop, and a pooled asyncpg/aiosqlite connection must never be reused on a
loop other than the one that opened it. A server under uvicorn runs one event loop, so it may pool its
async connections as the sync side does: ``SERVER_ASYNC_POOL_SIZE=N`` gives the async engine a pool of N
connections (and the sync side's overflow of 10); without it every repository call opens a connection.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from server.config import SQLITE_BUSY_TIMEOUT_SECONDS, ConfigurationError, backend_of, get_database_settings
from server.models import Base

_lock = threading.Lock()
_sync_engines: dict[str, Engine] = {}
_async_engines: dict[str, AsyncEngine] = {}
_sync_factories: dict[str, sessionmaker[Session]] = {}
_async_factories: dict[str, async_sessionmaker[AsyncSession]] = {}


def _apply_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    # WAL lets readers run while one writer commits; the busy timeout makes a second writer wait
    # for the first instead of failing at once with "database is locked". synchronous=NORMAL is
    # the setting SQLite recommends with WAL: no corruption risk, far fewer fsyncs per commit.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _build_sync_engine(url: str) -> Engine:
    if backend_of(url) == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _apply_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


ASYNC_POOL_SIZE_ENV = "SERVER_ASYNC_POOL_SIZE"


def async_pool_arguments() -> dict[str, Any]:
    """The async engine's pool: ``NullPool`` unless ``SERVER_ASYNC_POOL_SIZE`` names a size (one event loop)."""
    raw = os.environ.get(ASYNC_POOL_SIZE_ENV, "").strip()
    if not raw:
        return {"poolclass": NullPool}
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise ConfigurationError(f"{ASYNC_POOL_SIZE_ENV} must be a positive whole number, not {raw!r}")
    return {"pool_size": size, "max_overflow": 10, "pool_pre_ping": True}


def _build_async_engine(url: str) -> AsyncEngine:
    pool = async_pool_arguments()
    if backend_of(url) == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **pool)
        event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
        return engine
    return create_async_engine(url, connect_args={"timeout": 5}, **pool)


def get_sync_engine() -> Engine:
    url = get_database_settings().sync_url
    with _lock:
        engine = _sync_engines.get(url)
        if engine is None:
            engine = _sync_engines[url] = _build_sync_engine(url)
        return engine


def get_async_engine() -> AsyncEngine:
    url = get_database_settings().async_url
    with _lock:
        engine = _async_engines.get(url)
        if engine is None:
            engine = _async_engines[url] = _build_async_engine(url)
        return engine


def get_sync_sessionmaker() -> sessionmaker[Session]:
    engine = get_sync_engine()
    key = str(engine.url)
    with _lock:
        factory = _sync_factories.get(key)
        if factory is None:
            factory = _sync_factories[key] = sessionmaker(engine, expire_on_commit=False)
        return factory


def get_async_sessionmaker() -> async_sessionmaker[AsyncSession]:
    engine = get_async_engine()
    key = str(engine.url)
    with _lock:
        factory = _async_factories.get(key)
        if factory is None:
            factory = _async_factories[key] = async_sessionmaker(engine, expire_on_commit=False)
        return factory


def sync_session() -> Session:
    """A new sync session (``expire_on_commit=False``) on the configured database."""
    return get_sync_sessionmaker()()


def async_session() -> AsyncSession:
    """A new async session (``expire_on_commit=False``) on the configured database."""
    return get_async_sessionmaker()()


def dialect_name() -> str:
    """``"sqlite"`` or ``"postgresql"``: the atomic stat updates are written per dialect."""
    return get_sync_engine().dialect.name


def create_schema() -> None:
    """Create every table that does not exist yet."""
    Base.metadata.create_all(get_sync_engine())


def drop_schema() -> None:
    Base.metadata.drop_all(get_sync_engine())


def clear_data() -> None:
    """Delete every row of every table (children before parents), in one transaction."""
    with sync_session() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def dispose_engines() -> None:
    """Close pooled connections and forget every cached engine (tests, shutdown)."""
    with _lock:
        sync_engines = list(_sync_engines.values())
        _sync_engines.clear()
        _async_engines.clear()
        _sync_factories.clear()
        _async_factories.clear()
    for engine in sync_engines:
        engine.dispose()
