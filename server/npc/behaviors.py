"""What an NPC wants to do next: attack someone, wander off, or stay put."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from server.events import EventBus
from server.models import Player
from server.npc.definitions import AGGRESSIVE, PASSIVE, WANDERER, definition_for_npc
from server.persistence import get_persistence

ATTACK = "attack"
MOVE = "move"
IDLE = "idle"
FLEE = "flee"

# Passive NPCs run for it once they are this hurt (fraction of max health).
FLEE_THRESHOLD = 0.3


@dataclass(frozen=True)
class Decision:
    action: str
    target_id: str | None = None


def health_fraction(character: Player) -> float:
    stats = character.get_stats()
    return float(stats["health"]) / max(1, int(stats["max_health"]))


class NPCBehavior:
    """Base behaviour: notices living players in its room but never acts on it."""

    kind = PASSIVE

    def __init__(self, event_bus: EventBus | None = None, rng: random.Random | None = None):
        self.persistence = get_persistence(event_bus)
        self._rng = rng or random.Random()

    def iter_targets(self, npc: Player) -> Iterator[Player]:
        """Living player characters sharing the NPC's room (never other NPCs)."""
        for occupant in self.persistence.get_players_in_room(npc.current_room_id):
            if occupant.is_npc or not occupant.is_alive:
                continue
            yield occupant

    def decide(self, npc_id: str) -> Decision:
        npc = self.persistence.get_player(npc_id)
        if npc is None or not npc.is_npc or not npc.is_alive:
            return Decision(IDLE)
        return self.decide_for(npc)

    def decide_for(self, npc: Player) -> Decision:
        return Decision(IDLE)


class PassiveBehavior(NPCBehavior):
    """Stays put; flees when badly hurt while players are around."""

    kind = PASSIVE

    def decide_for(self, npc: Player) -> Decision:
        if health_fraction(npc) < FLEE_THRESHOLD:
            for _ in self.iter_targets(npc):
                return Decision(FLEE)
        return Decision(IDLE)


class AggressiveBehavior(NPCBehavior):
    """Attacks the weakest living player in its room."""

    kind = AGGRESSIVE

    def choose_target(self, npc: Player) -> Player | None:
        weakest: Player | None = None
        for target in self.iter_targets(npc):
            # Ties broken by name so the choice does not depend on query order.
            if weakest is None or (health_fraction(target), target.name) < (
                health_fraction(weakest), weakest.name
            ):
                weakest = target
        return weakest

    def decide_for(self, npc: Player) -> Decision:
        target = self.choose_target(npc)
        if target is None:
            return Decision(IDLE)
        return Decision(ATTACK, target.player_id)


class WandererBehavior(NPCBehavior):
    """Drifts between rooms now and then; shy of crowds."""

    kind = WANDERER

    def decide_for(self, npc: Player) -> Decision:
        definition = definition_for_npc(npc)
        chance = definition.wander_chance if definition is not None else 0.25
        watchers = 0
        for _ in self.iter_targets(npc):
            watchers += 1
        # Every onlooker makes the wanderer a little more likely to move on.
        if self._rng.random() < min(1.0, chance * (1 + watchers)):
            return Decision(MOVE)
        return Decision(IDLE)


_BEHAVIORS: dict[str, type[NPCBehavior]] = {
    AGGRESSIVE: AggressiveBehavior,
    PASSIVE: PassiveBehavior,
    WANDERER: WandererBehavior,
}


def behavior_for(
    npc: Player, event_bus: EventBus | None = None, rng: random.Random | None = None
) -> NPCBehavior:
    """The behaviour object for ``npc`` (passive when its definition is unknown)."""
    definition = definition_for_npc(npc)
    kind = definition.behavior if definition is not None else PASSIVE
    return _BEHAVIORS[kind](event_bus, rng)
