"""Validated NPC spawning: the room must exist, suit the NPC and have room for it."""

from __future__ import annotations

from collections.abc import Iterable

from server.events import EventBus
from server.models import Player
from server.npc.definitions import AGGRESSIVE, NPCDefinition, get_definition
from server.npc.lifecycle_manager import NPCLifecycleManager
from server.persistence import get_persistence

MAX_NPCS_PER_ROOM = 3


class SpawnError(ValueError):
    """The NPC cannot be spawned where asked."""


class NPCSpawningService:
    def __init__(
        self,
        event_bus: EventBus | None = None,
        lifecycle_manager: NPCLifecycleManager | None = None,
        max_per_room: int = MAX_NPCS_PER_ROOM,
    ) -> None:
        self.persistence = get_persistence(event_bus)
        self._lifecycle: NPCLifecycleManager = lifecycle_manager or NPCLifecycleManager(event_bus)
        self.max_per_room = max_per_room

    def check_room(self, definition: NPCDefinition, room_id: str) -> None:
        """Raise ``SpawnError`` unless ``definition`` may appear in ``room_id`` now."""
        room = self.persistence.get_room(room_id)
        if room is None:
            raise SpawnError(f"unknown room {room_id!r}")
        if definition.behavior == AGGRESSIVE and (room.attributes or {}).get("safe"):
            raise SpawnError(f"{definition.name} cannot spawn in the safe room {room_id!r}")
        npcs_here = [
            p for p in self.persistence.get_players_in_room(room_id)
            if p.is_npc and p.is_alive and p.name != definition.name
        ]
        if len(npcs_here) >= self.max_per_room:
            raise SpawnError(f"{room_id!r} already holds {len(npcs_here)} NPCs")

    def spawn_npc(self, key: str, room_id: str | None = None) -> Player:
        """Spawn (or return the already living) NPC ``key`` in ``room_id`` or its home room."""
        try:
            definition = get_definition(key)
        except KeyError as exc:
            raise SpawnError(str(exc.args[0])) from None
        target_room = room_id or definition.spawn_room_id
        self.check_room(definition, target_room)
        return self._lifecycle.register_spawn(definition, target_room)

    def spawn_many(self, keys: Iterable[str]) -> list[Player]:
        return [self.spawn_npc(key) for key in keys]
