"""Bringing NPCs into the world and taking the dead ones out again."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from server.events import EventBus, NPCSpawned, get_event_bus
from server.models import Player
from server.npc.definitions import NPCDefinition, find_definition_by_name
from server.persistence import get_persistence
from server.services.corpse_lifecycle_service import CorpseLifecycleService

logger = logging.getLogger(__name__)


class NPCLifecycleError(ValueError):
    """The lifecycle step does not apply (not an NPC, still alive, unknown)."""


@dataclass(frozen=True)
class Despawned:
    npc_id: str
    name: str
    corpse: dict[str, Any] | None


def roster_key(npc: Player) -> tuple[str, int, str]:
    """Roster order: by room, strongest first, then by name (pure: reads the loaded row only)."""
    return (npc.current_room_id, -int(npc.get_stats().get("level", 1)), npc.name)


class NPCLifecycleManager:
    def __init__(
        self,
        event_bus: EventBus | None = None,
        corpse_service: CorpseLifecycleService | None = None,
    ) -> None:
        self._event_bus = event_bus or get_event_bus()
        self._persistence = get_persistence(self._event_bus)
        self._corpses: CorpseLifecycleService = (
            corpse_service or CorpseLifecycleService(self._event_bus)
        )

    def register_spawn(self, definition: NPCDefinition, room_id: str | None = None) -> Player:
        """Put the NPC for ``definition`` into the world, reviving it if its row survived.

        NPC names are unique, so a living NPC of this definition is returned untouched and no
        ``NPCSpawned`` is published for it.
        """
        target_room = room_id or definition.spawn_room_id
        npc = self._persistence.get_player_by_name(definition.name)
        if npc is not None and not npc.is_npc:
            raise NPCLifecycleError(f"a player already uses the name {definition.name!r}")
        if npc is not None and npc.is_alive:
            return npc
        if npc is None:
            npc = Player(
                player_id=uuid.uuid4().hex,
                user_id=None,
                name=definition.name,
                profession_id=None,
                current_room_id=target_room,
                stats=definition.base_stats(),
                inventory=definition.starting_inventory(),
                is_npc=True,
            )
        else:
            npc.stats = definition.base_stats()
            npc.inventory = definition.starting_inventory()
            npc.current_room_id = target_room
        self._persistence.save_player(npc)
        logger.info("spawned %s in %s", npc.name, target_room)
        self._event_bus.publish(NPCSpawned(npc_id=npc.player_id, room_id=target_room))
        return npc

    def list_active_npcs(self) -> list[Player]:
        """Living NPCs in roster order."""
        npcs = [p for p in self._persistence.list_players() if p.is_npc and p.is_alive]
        return sorted(npcs, key=roster_key)

    def list_dead_npcs(self) -> list[Player]:
        return [p for p in self._persistence.list_players() if p.is_npc and not p.is_alive]

    def despawn_dead_npc(self, npc_id: str) -> Despawned:
        """Replace a dead NPC by its corpse and remove its row (it respawns from its definition)."""
        npc = self._persistence.get_player(npc_id)
        if npc is None or not npc.is_npc:
            raise NPCLifecycleError(f"no NPC {npc_id!r}")
        if npc.is_alive:
            raise NPCLifecycleError(f"{npc.name} is still alive")
        corpse = self._corpses.create_corpse(npc)
        self._persistence.delete_player(npc_id)
        return Despawned(npc_id=npc_id, name=npc.name, corpse=corpse)

    def reap_dead(self) -> list[Despawned]:
        """Despawn every dead NPC; returns what was removed, in roster order."""
        return [self.despawn_dead_npc(npc.player_id)
                for npc in sorted(self.list_dead_npcs(), key=roster_key)]

    def respawn(self, npc_name: str) -> Player:
        """Respawn a known NPC by name (from its definition, in its home room)."""
        definition = find_definition_by_name(npc_name)
        if definition is None:
            raise NPCLifecycleError(f"no NPC definition named {npc_name!r}")
        return self.register_spawn(definition)
