"""NPCs in combat: NPC-initiated attacks, players fighting back, and what happens to the dead."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.events import EventBus
from server.npc.behaviors import AggressiveBehavior
from server.npc.lifecycle_manager import Despawned, NPCLifecycleManager
from server.persistence import get_persistence
from server.services.npc_combat_integration_service import (
    AttackOutcome,
    CombatError,
    NPCCombatIntegrationService,
)


@dataclass
class AggressionReport:
    npc_id: str
    attacks: list[AttackOutcome] = field(default_factory=list)

    @property
    def kills(self) -> list[str]:
        return [a.defender_id for a in self.attacks if a.killed]


class NPCCombatIntegration:
    def __init__(
        self,
        event_bus: EventBus | None = None,
        combat_service: NPCCombatIntegrationService | None = None,
        lifecycle_manager: NPCLifecycleManager | None = None,
    ) -> None:
        self.persistence = get_persistence(event_bus)
        self._combat: NPCCombatIntegrationService = (
            combat_service or NPCCombatIntegrationService()
        )
        self._lifecycle: NPCLifecycleManager = lifecycle_manager or NPCLifecycleManager(event_bus)
        self._behavior: AggressiveBehavior = AggressiveBehavior(event_bus)

    def npc_attacks_player(
        self, npc_id: str, player_id: str, *, roll: int | None = None
    ) -> AttackOutcome:
        npc = self.persistence.get_player(npc_id)
        if npc is None or not npc.is_npc:
            raise CombatError(f"no NPC {npc_id!r}")
        player = self.persistence.get_player(player_id)
        if player is None or player.is_npc:
            raise CombatError(f"no player {player_id!r}")
        return self._combat.apply_attack(npc_id, player_id, roll=roll)

    def player_attacks_npc(
        self, player_id: str, npc_id: str, *, roll: int | None = None
    ) -> tuple[AttackOutcome, Despawned | None]:
        """A player strikes an NPC; a slain NPC is despawned and leaves a corpse."""
        npc = self.persistence.get_player(npc_id)
        if npc is None or not npc.is_npc:
            raise CombatError(f"no NPC {npc_id!r}")
        outcome = self._combat.apply_attack(player_id, npc_id, roll=roll)
        despawned = self._lifecycle.despawn_dead_npc(npc_id) if outcome.killed else None
        return outcome, despawned

    def run_aggression(self, npc_id: str, *, roll: int | None = None) -> AggressionReport:
        """An aggressive NPC lashes out once at every living player in its room."""
        report = AggressionReport(npc_id=npc_id)
        npc = self.persistence.get_player(npc_id)
        if npc is None or not npc.is_npc or not npc.is_alive:
            return report
        for target in self._behavior.iter_targets(npc):
            report.attacks.append(self.npc_attacks_player(npc_id, target.player_id, roll=roll))
        return report
