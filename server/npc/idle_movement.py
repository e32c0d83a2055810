"""The idle tick: wandering NPCs drift around their home zone when nothing else happens."""

from __future__ import annotations

import random

from server.events import EventBus
from server.npc.behaviors import MOVE, WandererBehavior
from server.npc.definitions import WANDERER, definition_for_npc
from server.npc.movement_integration import NPCMove, NPCMovementIntegration
from server.persistence import get_persistence


class IdleMovementController:
    """Runs one idle step for every wandering NPC.

    Wanderers stay on a leash: they only take exits into rooms of their home zone, so the dock
    hand never ends up in Dunwich.
    """

    def __init__(
        self,
        event_bus: EventBus | None = None,
        movement: NPCMovementIntegration | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._rng = rng or random.Random()
        self._movement: NPCMovementIntegration = movement or NPCMovementIntegration(event_bus)
        self._behavior: WandererBehavior = WandererBehavior(event_bus, self._rng)

    def tick(self) -> list[NPCMove]:
        persistence = get_persistence()
        moves: list[NPCMove] = []
        wanderers = [
            (npc, definition)
            for npc in persistence.list_players()
            if npc.is_npc and npc.is_alive
            and (definition := definition_for_npc(npc)) is not None
            and definition.behavior == WANDERER
        ]
        for npc, definition in sorted(wanderers, key=lambda pair: pair[0].name):
            if self._behavior.decide_for(npc).action != MOVE:
                continue
            home = persistence.get_room(definition.spawn_room_id)
            exits = self._movement.exits_for(npc.player_id)
            allowed = sorted(
                direction for direction, target in exits.items()
                if home is None or self._zone_of(target) == home.zone
            )
            if not allowed:
                continue
            move = self._movement.move_npc(npc.player_id, self._rng.choice(allowed))
            if move is not None:
                moves.append(move)
        return moves

    def _zone_of(self, room_id: str) -> str | None:
        persistence = get_persistence()
        room = persistence.get_room(room_id)
        return room.zone if room is not None else None
