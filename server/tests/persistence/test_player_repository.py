"""PlayerRepository, RoomRepository and ProfessionRepository: same answers as the facade."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from server.models import Player
from server.persistence.repositories import (
    PlayerRepository,
    ProfessionRepository,
    RoomRepository,
    get_player_repository,
)
from server.persistence.utils import RetryPolicy


@pytest.fixture
def players() -> PlayerRepository:
    return get_player_repository()


async def test_get_player_by_id(players: PlayerRepository, make_player) -> None:
    created = make_player("Armitage", health=77)

    loaded = await players.get_player_by_id(created.player_id)

    assert loaded.name == "Armitage"
    assert loaded.get_stats()["health"] == 77
    assert await players.get_player_by_id("missing") is None


async def test_get_player_by_name_and_user_id(
    players: PlayerRepository, make_user, make_player
) -> None:
    user = make_user("keziah")
    created = make_player("Keziah Mason", user_id=user.id)

    assert (await players.get_player_by_name("Keziah Mason")).player_id == created.player_id
    assert (await players.get_player_by_user_id(user.id)).player_id == created.player_id
    assert await players.get_player_by_name("Brown Jenkin") is None
    assert await players.get_player_by_user_id("nobody") is None


async def test_save_player_inserts_and_updates(players: PlayerRepository, sync_session) -> None:
    player = Player(name="Gilman", current_room_id="miskatonic_quad")
    await players.save_player(player)

    player.stats["lucidity"] = 60
    player.current_room_id = "miskatonic_archives"
    await players.save_player(player)

    stored = sync_session.get(Player, player.player_id)
    assert stored.current_room_id == "miskatonic_archives"
    assert stored.get_stats()["lucidity"] == 60


async def test_save_player_validates(players: PlayerRepository) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        await players.save_player(Player(name=""))
    with pytest.raises(ValueError, match="inventory"):
        await players.save_player(Player(name="Bad", inventory={"not": "a list"}))


async def test_save_players_all_or_nothing(players: PlayerRepository) -> None:
    await players.save_players([Player(name="Upton"), Player(name="Derby")])
    assert [p.name for p in await players.list_players()] == ["Derby", "Upton"]

    with pytest.raises(IntegrityError):
        await players.save_players([Player(name="Ephraim"), Player(name="Upton")])
    assert [p.name for p in await players.list_players()] == ["Derby", "Upton"]


async def test_delete_player(players: PlayerRepository, make_player) -> None:
    player = make_player()

    assert await players.delete_player(player.player_id) is True
    assert await players.delete_player(player.player_id) is False


async def test_get_players_in_room_and_batch(players: PlayerRepository, make_player) -> None:
    a = make_player("A", room_id="arkham_docks")
    b = make_player("B", room_id="arkham_docks")
    c = make_player("C", room_id="innsmouth_road")

    in_docks = await players.get_players_in_room("arkham_docks")
    batch = await players.get_players_batch([c.player_id, "missing", a.player_id])

    assert [p.player_id for p in in_docks] == [a.player_id, b.player_id]
    assert [p.player_id for p in batch] == [c.player_id, a.player_id]
    assert await players.get_players_batch([]) == []


async def test_update_player_last_active(players: PlayerRepository, make_player) -> None:
    player = make_player()
    when = datetime(2025, 12, 5, 9, 15, tzinfo=UTC)

    await players.update_player_last_active(player.player_id, when)

    assert (await players.get_player_by_id(player.player_id)).last_active == when


async def test_validate_and_fix_player_room(players: PlayerRepository, make_player) -> None:
    lost = make_player(room_id="yuggoth")
    fine = make_player(room_id="dunwich_crossroads")

    assert await players.validate_and_fix_player_room(lost) is True
    assert await players.validate_and_fix_player_room(fine) is False
    assert (await players.get_player_by_id(lost.player_id)).current_room_id == "arkham_square"
    assert (await players.get_player_by_id(fine.player_id)).current_room_id == (
        "dunwich_crossroads"
    )


def test_room_repository_reads_the_shared_cache() -> None:
    rooms = RoomRepository()

    assert rooms.get_room_by_id("miskatonic_archives").attributes["restricted"] is True
    assert rooms.get_room_by_id("nowhere") is None
    assert len(rooms.list_rooms()) == 12
    assert rooms.list_rooms()[0].room_id == "arkham_docks"


async def test_profession_repository() -> None:
    professions = ProfessionRepository()

    every = await professions.get_all_professions()
    occultist = await professions.get_profession_by_id(4)

    assert [p.name for p in every] == ["Investigator", "Scholar", "Sailor", "Occultist"]
    assert occultist.is_available is False
    assert await professions.get_profession_by_id(42) is None


class FlakySessions:
    """A session factory whose first ``failures`` sessions fail like a locked SQLite file."""

    def __init__(self, real_factory, failures: int) -> None:
        self.real_factory = real_factory
        self.failures = failures
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise OperationalError("BEGIN", {}, Exception("database is locked"))
        return self.real_factory()


def repository_with_flaky_sessions(
    monkeypatch: pytest.MonkeyPatch, failures: int
) -> tuple[PlayerRepository, FlakySessions, list[float]]:
    repository = PlayerRepository(retry_policy=RetryPolicy(attempts=3, base_delay=0.01))
    flaky = FlakySessions(repository._session_factory, failures)
    monkeypatch.setattr(repository, "_session_factory", flaky)
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(repository, "sleep", record_sleep)
    return repository, flaky, delays


async def test_player_repository_retries_transient_errors(
    monkeypatch: pytest.MonkeyPatch, make_player
) -> None:
    player = make_player("Peaslee")
    repository, flaky, delays = repository_with_flaky_sessions(monkeypatch, failures=2)

    loaded = await repository.get_player_by_id(player.player_id)

    assert loaded.name == "Peaslee"
    assert flaky.calls == 3
    assert delays == [0.01, 0.02]


async def test_player_repository_gives_up_after_the_limit(
    monkeypatch: pytest.MonkeyPatch, make_player
) -> None:
    player = make_player()
    repository, flaky, delays = repository_with_flaky_sessions(monkeypatch, failures=10)

    with pytest.raises(OperationalError, match="database is locked"):
        await repository.get_player_by_id(player.player_id)

    assert flaky.calls == 3
    assert len(delays) == 2


async def test_player_repository_does_not_retry_real_errors(monkeypatch, make_player) -> None:
    make_player("Twin")
    repository, _flaky, delays = repository_with_flaky_sessions(monkeypatch, failures=0)

    with pytest.raises(IntegrityError):
        await repository.save_player(Player(name="Twin"))

    assert delays == []
