"""Code that receives its persistence facade uses the one it was given.

Services take the facade in their constructor, endpoints read ``request.app.state.persistence`` or
take ``Depends(get_persistence)``. Whatever reads it — the sync facade methods today, the async
repositories it hands out (``persistence.players``) once a module is migrated — must go through the
injected object, never around it to a process-wide one: that is what lets a test (or another
deployment) hand the code a different facade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.services.player_position_service import PlayerPositionService

MakePlayer = Callable[..., Player]

# what reading players reaches on the facade: a sync method, or the repository property
PLAYER_READS = {"get_player", "list_players", "players"}


class RecordingPersistence(PersistenceLayer):
    """The real facade over the test database, recording every public name read from it."""

    def __init__(self) -> None:
        super().__init__()
        self.reached: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name != "reached":
            object.__getattribute__(self, "reached").append(name)
        return super().__getattribute__(name)


@pytest.fixture
def recording() -> RecordingPersistence:
    return RecordingPersistence()


def test_the_async_side_is_reached_from_the_same_facade() -> None:
    facade = PersistenceLayer()
    # the process-wide plumbing: the same repositories the providers hand out
    from server.persistence import repositories

    assert facade.players is repositories.get_player_repository()
    assert facade.health is repositories.get_health_repository()
    # a facade with plumbing of its own gets repositories built with it, once
    bus = object()
    own = PersistenceLayer(event_bus=bus)  # type: ignore[arg-type]
    assert own.health is own.health
    assert own.health.event_bus is bus
    assert own.players is not repositories.get_player_repository()


def test_a_service_uses_the_facade_given_to_its_constructor(
    recording: RecordingPersistence, make_player: MakePlayer
) -> None:
    player = make_player(room_id="arkham_library")
    positions = PlayerPositionService(recording)
    assert positions.get_position(player.player_id) == "arkham_library"
    assert PLAYER_READS & set(recording.reached), recording.reached


@pytest.fixture
def client_with(recording: RecordingPersistence, client: TestClient) -> Iterator[TestClient]:
    """The app, its lifespan run, with ``recording`` injected both ways the endpoints receive a facade."""
    app: Any = client.app
    before = app.state.persistence
    app.state.persistence = recording
    app.dependency_overrides[get_persistence] = lambda: recording
    try:
        yield client
    finally:
        app.state.persistence = before
        app.dependency_overrides.pop(get_persistence, None)


def test_an_endpoint_uses_the_facade_in_app_state(
    client_with: TestClient, recording: RecordingPersistence, make_player: MakePlayer
) -> None:
    make_player("Armitage", room_id="arkham_library")
    stats = client_with.get("/api/monitoring/stats").json()
    assert stats["total_players"] == 1
    assert PLAYER_READS & set(recording.reached), recording.reached


def test_an_endpoint_uses_the_facade_it_depends_on(
    client_with: TestClient, recording: RecordingPersistence, make_player: MakePlayer
) -> None:
    player = make_player("Armitage", room_id="arkham_library")
    response = client_with.get(f"/api/players/{player.player_id}")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Armitage"
    assert PLAYER_READS & set(recording.reached), recording.reached
