from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from server.models import Player, Room
from server.persistence.repositories import get_room_repository
from server.services.exploration_service import (
    DISCOVERY_XP,
    EXPLORED_BY_KEY,
    ExplorationError,
    ExplorationService,
)

MakePlayer = Callable[..., Player]


@pytest.fixture
def exploration() -> ExplorationService:
    return ExplorationService()


def stored_room(session: Session, room_id: str) -> Room:
    room = session.get(Room, room_id, populate_existing=True)
    assert room is not None
    return room


def stored_experience(session: Session, player_id: str) -> int:
    player = session.get(Player, player_id, populate_existing=True)
    assert player is not None
    return int(player.get_stats()["experience"])


def test_init_loads_the_known_world(exploration: ExplorationService) -> None:
    assert len(exploration.known_rooms) == 12
    assert exploration.is_known_room("dunwich_hill")
    assert not exploration.is_known_room("kadath")


def test_first_visit_marks_the_room_and_rewards(
    exploration: ExplorationService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player()
    assert exploration.mark_explored(player.player_id, "miskatonic_archives") is True
    room = stored_room(sync_session, "miskatonic_archives")
    assert room.attributes[EXPLORED_BY_KEY] == [player.player_id]
    assert stored_experience(sync_session, player.player_id) == DISCOVERY_XP


def test_second_visit_changes_nothing(
    exploration: ExplorationService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player()
    exploration.mark_explored(player.player_id, "innsmouth_marsh")
    assert exploration.mark_explored(player.player_id, "innsmouth_marsh") is False
    assert stored_experience(sync_session, player.player_id) == DISCOVERY_XP


def test_explorers_accumulate_and_room_attributes_survive(
    exploration: ExplorationService, make_player: MakePlayer, sync_session: Session
) -> None:
    original = dict(stored_room(sync_session, "arkham_library").attributes)
    first, second = make_player("First"), make_player("Second")
    exploration.mark_explored(first.player_id, "arkham_library")
    exploration.mark_explored(second.player_id, "arkham_library")
    attributes = stored_room(sync_session, "arkham_library").attributes
    assert attributes[EXPLORED_BY_KEY] == [first.player_id, second.player_id]
    assert {key: attributes[key] for key in original} == original


def test_the_room_cache_sees_the_change(
    exploration: ExplorationService, make_player: MakePlayer
) -> None:
    player = make_player()
    exploration.mark_explored(player.player_id, "dunwich_crossroads")
    cached = get_room_repository().get_room_by_id("dunwich_crossroads")
    assert cached is not None
    assert player.player_id in cached.attributes[EXPLORED_BY_KEY]


def test_explored_rooms_and_progress(
    exploration: ExplorationService, make_player: MakePlayer
) -> None:
    player = make_player()
    for room_id in ("dunwich_hill", "arkham_docks", "innsmouth_road"):
        exploration.mark_explored(player.player_id, room_id)
    assert exploration.explored_rooms(player.player_id) == [
        "arkham_docks",
        "dunwich_hill",
        "innsmouth_road",
    ]
    assert exploration.exploration_progress(player.player_id) == pytest.approx(3 / 12)


def test_unknown_rooms_are_refused(
    exploration: ExplorationService, make_player: MakePlayer
) -> None:
    player = make_player()
    with pytest.raises(ExplorationError, match="unknown room"):
        exploration.mark_explored(player.player_id, "kadath")
