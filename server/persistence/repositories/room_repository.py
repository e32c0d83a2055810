"""Rooms for async code: a thin, synchronous view of the shared room cache.

Rooms are loaded once per process and only change through ``PersistenceLayer.save_room``, which
writes through the same cache, so reading them needs no database round trip and no ``await``.
"""

from __future__ import annotations

from server.models import Room
from server.world import RoomCache, get_room_cache


class RoomRepository:
    """Room lookups over the process-wide ``RoomCache``."""

    def __init__(self, room_cache: RoomCache | None = None) -> None:
        self._room_cache = room_cache

    @property
    def room_cache(self) -> RoomCache:
        return self._room_cache if self._room_cache is not None else get_room_cache()

    def get_room_by_id(self, room_id: str) -> Room | None:
        return self.room_cache.get(room_id)

    def list_rooms(self) -> list[Room]:
        """Every room, ordered by room id."""
        return self.room_cache.all()
