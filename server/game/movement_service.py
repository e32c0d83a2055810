"""Walking between rooms along their exits."""

from __future__ import annotations

from dataclasses import dataclass

from server.events import EventBus, PlayerMoved, get_event_bus
from server.models import Room
from server.persistence import get_persistence
from server.services.player_position_service import PlayerPositionService

DIRECTION_ALIASES: dict[str, str] = {
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "u": "up",
    "d": "down",
    "ne": "northeast",
    "nw": "northwest",
    "se": "southeast",
    "sw": "southwest",
}


class MovementError(ValueError):
    """A move the world does not allow (no such exit, unknown character, the dead walking)."""


@dataclass(frozen=True)
class MoveResult:
    player_id: str
    direction: str
    from_room_id: str
    to_room: Room


def normalize_direction(direction: str) -> str:
    cleaned = direction.strip().lower()
    if not cleaned:
        raise MovementError("which way?")
    return DIRECTION_ALIASES.get(cleaned, cleaned)


class MovementService:
    """Moves characters through exits and announces the move on the event bus."""

    def __init__(self, event_bus: EventBus | None = None) -> None:
        self.event_bus = event_bus if event_bus is not None else get_event_bus()
        self.persistence = get_persistence(self.event_bus)
        self.positions = PlayerPositionService(self.persistence)

    def available_exits(self, player_id: str) -> dict[str, str]:
        player = self.persistence.get_player(player_id)
        if player is None:
            raise MovementError(f"player not found: {player_id}")
        room = self.persistence.get_room(player.current_room_id)
        return dict(room.exits) if room is not None else {}

    def move_player(self, player_id: str, direction: str) -> MoveResult:
        """Follow the exit ``direction`` from the character's room."""
        way = normalize_direction(direction)
        player = self.persistence.get_player(player_id)
        if player is None:
            raise MovementError(f"player not found: {player_id}")
        if not player.is_alive:
            raise MovementError(f"{player.name} is dead and cannot move")
        room = self.persistence.get_room(player.current_room_id)
        if room is None:
            raise MovementError(f"{player.name} is nowhere; no room {player.current_room_id!r}")
        destination = room.exits.get(way)
        if destination is None:
            raise MovementError(f"there is no exit {way} from {room.name}")
        change = self.positions.update_position(player_id, destination)
        to_room = self.persistence.get_room(change.to_room_id)
        if to_room is None:
            raise MovementError(f"room not found: {change.to_room_id}")
        self.event_bus.publish(
            PlayerMoved(player_id=player_id, from_room=change.from_room_id, to_room=to_room.room_id)
        )
        return MoveResult(
            player_id=player_id, direction=way, from_room_id=change.from_room_id, to_room=to_room
        )
