"""Fixtures for the whole server test suite.

The suite runs on SQLite by default (a throwaway file in a fresh temporary directory, never
``./server-data.db``) and on PostgreSQL when ``DATABASE_URL`` names one. The schema is built once
per session; before every test the autouse ``_clean_database`` fixture deletes all rows, re-seeds
the 12 rooms and 4 professions and resets the process-wide singletons (facade, repositories, room
cache, event bus), so tests never see each other's data or subscribers.
"""

from __future__ import annotations

import atexit
import gc
import inspect
import os
import shutil
import tempfile
import threading
from pathlib import Path

# Must happen before any server module reads the configuration. Under pytest-xdist the controller loads
# this file too and its workers inherit its environment: a worker that inherited the controller's own
# temporary database (not one the user named) makes its own, or two workers would share one SQLite file.
_OWN_DATABASE_MARK = "SERVER_TESTS_OWN_DATABASE"
if not os.environ.get("DATABASE_URL", "").strip() or (
    os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get(_OWN_DATABASE_MARK)
):
    _TEMP_DIR = tempfile.mkdtemp(prefix="server-tests-")
    atexit.register(shutil.rmtree, _TEMP_DIR, ignore_errors=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(_TEMP_DIR) / 'server-tests.db'}"
    os.environ[_OWN_DATABASE_MARK] = "1"

from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from server import db  # noqa: E402
from server.config import get_database_settings  # noqa: E402
from server.events import EventBus, get_event_bus, reset_event_bus  # noqa: E402
from server.models import DEFAULT_ROOM_ID, DEFAULT_STATS, Player, User  # noqa: E402
from server.persistence import reset_persistence  # noqa: E402
from server.persistence.repositories import reset_repositories  # noqa: E402
from server.world import reset_room_cache, seed_world  # noqa: E402

_SERVER_TESTS_DIR = Path(__file__).parent


def _database_problem() -> str | None:
    """Why the configured database cannot be used, or None when it can."""
    settings = get_database_settings()
    if not settings.is_postgresql:
        return None
    try:
        with db.get_sync_engine().connect():
            return None
    except Exception as error:
        db.dispose_engines()
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"PostgreSQL at {settings.url} is not reachable ({first_line})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    server_items = [item for item in items if _SERVER_TESTS_DIR in Path(item.path).parents]
    if not server_items:
        return
    problem = _database_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.exit(f"server tests need their database: {problem}", returncode=1)
    marker = pytest.mark.skip(reason=problem)
    for item in server_items:
        item.add_marker(marker)


@pytest.fixture(scope="session")
def _database_schema() -> Iterator[None]:
    # Drop first: a schema left by an older checkout (on PostgreSQL, or a reused SQLite file)
    # must never break a run.
    db.drop_schema()
    db.create_schema()
    yield
    db.dispose_engines()


def _leaked_connections(threads: list[threading.Thread]) -> list[Any]:
    import aiosqlite

    return [
        obj
        for obj in gc.get_objects()
        # before 0.22 the connection is itself the thread
        if isinstance(obj, aiosqlite.Connection) and (obj in threads or getattr(obj, "_thread", None) in threads)
    ]


def _suspended_coroutines() -> list[str]:
    return sorted(
        {
            obj.cr_code.co_qualname
            for obj in gc.get_objects()
            if inspect.iscoroutine(obj) and obj.cr_frame is not None
        }
    )


@pytest.fixture(autouse=True)
def _no_thread_left_running() -> Iterator[None]:
    """Fail the test that leaves a worker thread running, instead of hanging the interpreter's exit.

    A non-daemon thread left running keeps the process alive after the last test forever: an aiosqlite
    (>= 0.22) connection owns one until it is closed, and so does a worker blocked for good.
    """
    before = set(threading.enumerate())
    yield
    started = [t for t in threading.enumerate() if t not in before and not t.daemon and t.is_alive()]
    if not started:
        return
    gc.collect()  # an unreachable connection closes itself when collected
    for thread in started:
        thread.join(timeout=2)
    left = [t for t in started if t.is_alive()]
    if not left:
        return
    connections = _leaked_connections(left)
    coroutines = _suspended_coroutines()
    for connection in connections:
        # let the process exit; the test still fails (``stop`` is aiosqlite >= 0.22's name for it)
        stop = getattr(connection, "stop", None) or connection._stop_running
        stop()
    pytest.fail(
        f"the test left {len(left)} thread(s) running ({', '.join(t.name for t in left)}); "
        f"{len(connections)} of them belong to unclosed aiosqlite connections; "
        f"suspended coroutines: {coroutines or 'none'}",
        pytrace=False,
    )


@pytest.fixture(autouse=True)
def _clean_database(_database_schema: None) -> Iterator[None]:
    reset_event_bus()
    reset_persistence()
    reset_repositories()
    reset_room_cache()
    db.clear_data()
    seed_world()
    yield


@pytest.fixture
def event_bus() -> EventBus:
    """The process-wide event bus (fresh for every test)."""
    return get_event_bus()


@pytest.fixture
def make_user() -> Callable[..., User]:
    """Insert a user through a plain ORM session: ``make_user("alice", password="secret")``."""
    counter = iter(range(1, 1_000_000))

    def factory(
        username: str | None = None, email: str | None = None, password: str = "secret"
    ) -> User:
        username = username or f"user{next(counter)}"
        user = User(username=username, email=email or f"{username}@example.com", password=password)
        with db.sync_session() as session, session.begin():
            session.add(user)
        return user

    return factory


@pytest.fixture
def make_player() -> Callable[..., Player]:
    """Insert a player through a plain ORM session (not the facade) and return it.

    ``make_player("Armitage", room_id="arkham_library", health=40)``: keyword stats override the
    defaults; the name defaults to a unique one.
    """
    counter = iter(range(1, 1_000_000))

    def factory(
        name: str | None = None,
        room_id: str = DEFAULT_ROOM_ID,
        user_id: str | None = None,
        profession_id: int | None = None,
        is_npc: bool = False,
        **stats: Any,
    ) -> Player:
        unknown = sorted(set(stats) - set(DEFAULT_STATS))
        if unknown:
            raise TypeError(f"make_player got unknown stats: {unknown}")
        player = Player(
            name=name or f"investigator{next(counter)}",
            current_room_id=room_id,
            user_id=user_id,
            profession_id=profession_id,
            is_npc=is_npc,
            stats=stats,
        )
        with db.sync_session() as session, session.begin():
            session.add(player)
        return player

    return factory


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A TestClient on ``server.main.app``, entered so the lifespan runs."""
    from server.main import app

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def sync_session() -> Iterator[Session]:
    """A plain sync session for direct checks, closed after the test."""
    session = db.sync_session()
    try:
        yield session
    finally:
        session.close()
