"""Populating the world with its NPCs when the server (or the CLI) starts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.events import EventBus
from server.models import Player
from server.npc.definitions import AGGRESSIVE, NPCDefinition, startup_definitions
from server.npc.lifecycle_manager import roster_key
from server.npc.spawning_service import NPCSpawningService, SpawnError
from server.persistence import get_persistence

logger = logging.getLogger(__name__)


@dataclass
class StartupReport:
    spawned: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    deferred: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.spawned) + len(self.already_present)


class NPCStartupService:
    def __init__(
        self,
        event_bus: EventBus | None = None,
        spawning_service: NPCSpawningService | None = None,
    ) -> None:
        self.persistence = get_persistence(event_bus)
        self._spawning: NPCSpawningService = spawning_service or NPCSpawningService(event_bus)

    def spawn_initial_npcs(
        self, definitions: Iterable[NPCDefinition] | None = None
    ) -> StartupReport:
        """Spawn every start-up NPC that is not already alive in the world.

        An aggressive NPC is deferred while players stand in its spawn room, so nobody logs in
        straight into an ambush; the next start-up (or a manual spawn) places it.
        """
        report = StartupReport()
        alive = {p.name for p in self.persistence.list_players() if p.is_npc and p.is_alive}
        for definition in startup_definitions() if definitions is None else definitions:
            if definition.name in alive:
                report.already_present.append(definition.name)
                continue
            if definition.behavior == AGGRESSIVE and self._players_present(definition):
                report.deferred[definition.name] = "players present"
                continue
            try:
                npc = self._spawning.spawn_npc(definition.key)
            except SpawnError as exc:
                report.deferred[definition.name] = str(exc)
                continue
            report.spawned.append(npc.name)
        logger.info("NPC start-up: %d spawned, %d present, %d deferred",
                    len(report.spawned), len(report.already_present), len(report.deferred))
        return report

    def population(self, room_id: str | None = None) -> list[Player]:
        """Living NPCs (optionally of one room), in roster order."""
        if room_id is None:
            candidates = self.persistence.list_players()
        else:
            candidates = self.persistence.get_players_in_room(room_id)
        return sorted((p for p in candidates if p.is_npc and p.is_alive), key=roster_key)

    def _players_present(self, definition: NPCDefinition) -> bool:
        occupants = self.persistence.get_players_in_room(definition.spawn_room_id)
        return any(not p.is_npc and p.is_alive for p in occupants)
