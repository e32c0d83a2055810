"""Dependency providers, Depends(get_persistence), configuration and the application shell."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from server import db
from server.config import ConfigurationError, async_url_for, backend_of, sync_url_for
from server.events import EventBus, get_event_bus
from server.models import Player, User, utcnow
from server.persistence import PersistenceLayer, get_persistence, reset_persistence
from server.persistence.repositories import (
    PlayerRepository,
    get_container_repository,
    get_experience_repository,
    get_health_repository,
    get_item_repository,
    get_player_repository,
    get_profession_repository,
    get_room_repository,
    reset_repositories,
)


def test_get_persistence_is_process_wide() -> None:
    first = get_persistence()

    assert get_persistence() is first
    reset_persistence()
    assert get_persistence() is not first


def test_get_persistence_uses_the_given_bus_or_the_process_bus() -> None:
    assert get_persistence().event_bus is get_event_bus()
    reset_persistence()
    own_bus = EventBus()
    assert get_persistence(own_bus).event_bus is own_bus


def test_get_persistence_works_as_a_fastapi_dependency(make_player) -> None:
    make_player("Armitage", room_id="arkham_library")
    app = FastAPI()

    @app.get("/rooms/{room_id}/occupants")
    def occupants(
        room_id: str,
        persistence: PersistenceLayer = Depends(get_persistence),  # noqa: B008
    ) -> list[str]:
        return [player.name for player in persistence.get_players_in_room(room_id)]

    with TestClient(app) as client:
        response = client.get("/rooms/arkham_library/occupants", params={"event_bus": "x"})

    assert response.status_code == 200
    assert response.json() == ["Armitage"]
    parameters = app.openapi()["paths"]["/rooms/{room_id}/occupants"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["room_id"]


def test_repository_providers_are_shared_until_reset() -> None:
    providers = [
        get_player_repository,
        get_room_repository,
        get_profession_repository,
        get_health_repository,
        get_experience_repository,
        get_container_repository,
        get_item_repository,
    ]
    first = [provider() for provider in providers]

    assert [provider() for provider in providers] == first
    reset_repositories()
    assert all(provider() is not old for provider, old in zip(providers, first, strict=True))


async def test_repository_provider_as_a_dependency(make_player) -> None:
    import httpx

    make_player("Wilmarth")
    app = FastAPI()

    @app.get("/players/{name}")
    async def by_name(
        name: str,
        players: PlayerRepository = Depends(get_player_repository),  # noqa: B008
    ) -> dict[str, str]:
        player = await players.get_player_by_name(name)
        return {"room": player.current_room_id}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/players/Wilmarth")

    assert response.json() == {"room": "arkham_square"}


@pytest.mark.parametrize(
    ("url", "sync_url", "async_url"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql+psycopg://postgres@127.0.0.1:5432/test",
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        ),
        (
            "postgresql+asyncpg://u:secret@db/game",
            "postgresql+psycopg://u:secret@db/game",
            "postgresql+asyncpg://u:secret@db/game",
        ),
        ("sqlite:////tmp/game.db", "sqlite:////tmp/game.db", "sqlite+aiosqlite:////tmp/game.db"),
    ],
)
def test_database_url_translation(url: str, sync_url: str, async_url: str) -> None:
    assert sync_url_for(url) == sync_url
    assert async_url_for(url) == async_url


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="mysql"):
        backend_of("mysql://root@localhost/game")


def test_engines_are_cached_and_sqlite_runs_in_wal_mode() -> None:
    assert db.get_sync_engine() is db.get_sync_engine()
    assert db.get_async_engine() is db.get_async_engine()
    if db.dialect_name() == "sqlite":
        with db.get_sync_engine().connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_new_players_get_the_default_stats() -> None:
    player = Player(name="Fresh", stats={"strength": 14})

    assert len(player.player_id) == 32
    assert player.current_room_id == "arkham_square"
    assert player.get_stats() == {
        "health": 100,
        "max_health": 100,
        "experience": 0,
        "level": 1,
        "lucidity": 100,
        "strength": 14,
        "dexterity": 10,
        "constitution": 10,
        "intelligence": 10,
        "wisdom": 10,
        "charisma": 10,
    }
    copy = player.get_stats()
    copy["health"] = 0
    assert player.is_alive


def test_user_passwords_are_hashed() -> None:
    user = User(username="dexter", password="tillinghast")

    assert "tillinghast" not in user.password_hash
    assert user.check_password("tillinghast")
    assert not user.check_password("wrong")
    assert user.created_at <= utcnow()


def test_clear_data_empties_every_table(make_player, sync_session) -> None:
    make_player()

    db.clear_data()

    assert get_persistence().list_players() == []
    assert get_persistence().get_all_professions() == []


def test_ping_answers_without_the_database(client, monkeypatch) -> None:
    def no_database() -> None:
        raise RuntimeError("the database was reached")

    # Every session, sync or async, is built from these two engines.
    monkeypatch.setattr(db, "get_sync_engine", no_database)
    monkeypatch.setattr(db, "get_async_engine", no_database)

    response = client.get("/api/ping")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # the same patch does cut the database off: /health, which queries it, sees it gone
    assert client.get("/health").json()["database_ok"] is False


def test_application_health_route(client) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database_ok"] is True
    assert body["rooms"] == 12
    assert client.app.state.persistence is get_persistence()
    assert client.app.state.event_bus is get_event_bus()


def test_the_async_engine_opens_a_connection_per_call_unless_a_pool_size_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from sqlalchemy.pool import NullPool, QueuePool

    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    monkeypatch.delenv(db.ASYNC_POOL_SIZE_ENV, raising=False)
    assert isinstance(db._build_async_engine(url).pool, NullPool)

    monkeypatch.setenv(db.ASYNC_POOL_SIZE_ENV, "3")
    pooled = db._build_async_engine(url)
    assert isinstance(pooled.pool, QueuePool) and pooled.pool.size() == 3


async def test_a_pooled_async_engine_reuses_its_connection_on_one_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from sqlalchemy import text

    monkeypatch.setenv(db.ASYNC_POOL_SIZE_ENV, "2")
    engine = db._build_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        for _ in range(3):
            async with engine.connect() as connection:
                assert (await connection.execute(text("select 1"))).scalar() == 1
        assert engine.pool.checkedin() == 1  # one connection, opened once and handed back each time
    finally:
        await engine.dispose()


@pytest.mark.parametrize("size", ["0", "-1", "five"])
def test_a_bad_pool_size_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, size: str) -> None:
    monkeypatch.setenv(db.ASYNC_POOL_SIZE_ENV, size)
    with pytest.raises(ConfigurationError, match=db.ASYNC_POOL_SIZE_ENV):
        db._build_async_engine("sqlite+aiosqlite:///unused.db")
