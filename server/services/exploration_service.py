"""Exploration: who has been where, and the reward for seeing a room first."""

from __future__ import annotations

from server.models import Room
from server.persistence import PersistenceLayer, get_persistence

DISCOVERY_XP = 10
EXPLORED_BY_KEY = "explored_by"


class ExplorationError(LookupError):
    """The room is not part of the known world."""


class ExplorationService:
    """Marks rooms as explored by characters and rewards first visits."""

    def __init__(self, persistence: PersistenceLayer | None = None) -> None:
        self.persistence = persistence if persistence is not None else get_persistence()
        self._known_rooms = {room.room_id for room in self.persistence.list_rooms()}

    @property
    def known_rooms(self) -> frozenset[str]:
        return frozenset(self._known_rooms)

    def is_known_room(self, room_id: str) -> bool:
        return room_id in self._known_rooms

    def mark_explored(self, player_id: str, room_id: str) -> bool:
        """Record that ``player_id`` explored ``room_id``; True (and XP) on the first visit."""
        if room_id not in self._known_rooms:
            raise ExplorationError(f"unknown room: {room_id}")
        room = self.persistence.get_room(room_id)
        if room is None:
            self._known_rooms.discard(room_id)
            raise ExplorationError(f"room has vanished: {room_id}")
        attributes = dict(room.attributes or {})
        explorers = list(attributes.get(EXPLORED_BY_KEY, []))
        if player_id in explorers:
            return False
        explorers.append(player_id)
        attributes[EXPLORED_BY_KEY] = explorers
        # A fresh Room, not the cached one: the cache must only change once the write succeeded.
        explored = Room(
            room_id=room.room_id,
            name=room.name,
            description=room.description,
            zone=room.zone,
            exits=dict(room.exits or {}),
            attributes=attributes,
        )
        self.persistence.save_room(explored)
        self.persistence.update_player_xp(player_id, DISCOVERY_XP, reason=f"explored {room_id}")
        return True

    def explored_rooms(self, player_id: str) -> list[str]:
        rooms = self.persistence.list_rooms()
        return sorted(
            room.room_id
            for room in rooms
            if player_id in (room.attributes or {}).get(EXPLORED_BY_KEY, [])
        )

    def exploration_progress(self, player_id: str) -> float:
        """Fraction of the known world the character has explored."""
        if not self._known_rooms:
            return 0.0
        return len(self.explored_rooms(player_id)) / len(self._known_rooms)
