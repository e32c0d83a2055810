"""Keeps each character's stored room consistent.

Position updates are serialized per process with a lock: a character moved by two commands at once
(a websocket "go" racing an NPC shove) must end in one room, not in a mix of both writes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from server.models import Player
from server.persistence import PersistenceLayer


class PositionError(LookupError):
    """The character or the destination room does not exist."""


@dataclass(frozen=True)
class PositionChange:
    player: Player
    from_room_id: str
    to_room_id: str

    @property
    def moved(self) -> bool:
        return self.from_room_id != self.to_room_id


class PlayerPositionService:
    """Reads and writes the room a character stands in."""

    def __init__(self, persistence: PersistenceLayer) -> None:
        self._persistence = persistence
        self._lock = threading.Lock()

    def update_position(self, player_id: str, room_id: str) -> PositionChange:
        """Move a character into ``room_id`` (which must exist) and save it."""
        with self._lock:
            player = self._persistence.get_player(player_id)
            if player is None:
                raise PositionError(f"player not found: {player_id}")
            room = self._persistence.get_room(room_id)
            if room is None:
                raise PositionError(f"room not found: {room_id}")
            from_room_id = player.current_room_id
            if from_room_id != room.room_id:
                player.current_room_id = room.room_id
                self._persistence.save_player(player)
            return PositionChange(player=player, from_room_id=from_room_id, to_room_id=room.room_id)

    def get_position(self, player_id: str) -> str | None:
        player = self._persistence.get_player(player_id)
        return player.current_room_id if player is not None else None

    def ensure_valid_position(self, player_id: str) -> bool:
        """Put a character whose room no longer exists back in a valid room; True if it moved."""
        with self._lock:
            player = self._persistence.get_player(player_id)
            if player is None:
                raise PositionError(f"player not found: {player_id}")
            return self._persistence.validate_and_fix_player_room(player)
