from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from server.models import Player
from server.persistence import get_persistence
from server.persistence.repositories import get_player_repository
from server.services.player_position_service import PlayerPositionService, PositionError

MakePlayer = Callable[..., Player]


@pytest.fixture
def positions() -> PlayerPositionService:
    return PlayerPositionService(get_persistence())


def stored_room(session: Session, player_id: str) -> str:
    player = session.get(Player, player_id, populate_existing=True)
    assert player is not None
    return player.current_room_id


def test_update_position_moves_and_saves(
    positions: PlayerPositionService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player()
    change = positions.update_position(player.player_id, "miskatonic_quad")
    assert change.moved
    assert (change.from_room_id, change.to_room_id) == ("arkham_square", "miskatonic_quad")
    assert change.player.current_room_id == "miskatonic_quad"
    assert stored_room(sync_session, player.player_id) == "miskatonic_quad"
    assert positions.get_position(player.player_id) == "miskatonic_quad"


def test_staying_put_is_not_a_move(
    positions: PlayerPositionService, make_player: MakePlayer
) -> None:
    player = make_player(room_id="arkham_docks")
    change = positions.update_position(player.player_id, "arkham_docks")
    assert not change.moved


def test_unknown_room_or_player(
    positions: PlayerPositionService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player()
    with pytest.raises(PositionError, match="room not found"):
        positions.update_position(player.player_id, "yuggoth")
    assert stored_room(sync_session, player.player_id) == "arkham_square"
    with pytest.raises(PositionError, match="player not found"):
        positions.update_position("0" * 32, "arkham_docks")
    assert positions.get_position("0" * 32) is None


def test_ensure_valid_position_rescues_a_lost_player(
    positions: PlayerPositionService, make_player: MakePlayer, sync_session: Session
) -> None:
    lost = make_player(room_id="the_dreamlands")
    assert positions.ensure_valid_position(lost.player_id) is True
    assert stored_room(sync_session, lost.player_id) == "arkham_square"
    assert positions.ensure_valid_position(lost.player_id) is False


async def test_position_is_visible_to_the_async_repository(
    positions: PlayerPositionService, make_player: MakePlayer
) -> None:
    player = make_player()
    positions.update_position(player.player_id, "innsmouth_harbor")
    stored = await get_player_repository().get_player_by_id(player.player_id)
    assert stored is not None and stored.current_room_id == "innsmouth_harbor"
