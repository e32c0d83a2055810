"""Healing, regeneration and the record of damage taken."""

from __future__ import annotations

from collections import Counter

from server.events import EventBus, PlayerDamaged, get_event_bus
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence

REGENERATION_PER_TICK = 5


class HealthError(ValueError):
    """A health change the rules do not allow."""


class HealthService:
    """Tracks damage as it happens and restores health between fights."""

    def __init__(
        self, event_bus: EventBus | None = None, persistence: PersistenceLayer | None = None
    ) -> None:
        self._event_bus = event_bus if event_bus is not None else get_event_bus()
        self._persistence = (
            persistence if persistence is not None else get_persistence(self._event_bus)
        )
        self._damage_taken: Counter[str] = Counter()
        self._event_bus.subscribe(
            PlayerDamaged, lambda event: self.record_damage(event.player_id, event.amount)
        )

    def record_damage(self, player_id: str, amount: int) -> int | None:
        """Note a hit against ``player_id``; returns the character's current health if it exists."""
        self._damage_taken[player_id] += amount
        self._persistence.update_player_last_active(player_id)
        player = self._persistence.get_player(player_id)
        if player is None:
            return None
        return int(player.get_stats().get("health", 0))

    def damage_taken(self, player_id: str) -> int:
        return self._damage_taken[player_id]

    def heal(self, player_id: str, amount: int) -> Player:
        if amount <= 0:
            raise HealthError("healing must be positive")
        player = self._persistence.get_player(player_id)
        if player is None:
            raise HealthError(f"player not found: {player_id}")
        if not player.is_alive:
            raise HealthError(f"{player.name} is beyond healing")
        self._persistence.heal_player(player, amount)
        return player

    def adjust_health(self, player_id: str, delta: int, reason: str = "") -> None:
        """A raw, clamped change (potions, traps, scripted events)."""
        if delta == 0:
            raise HealthError("a health adjustment needs a non-zero delta")
        self._persistence.update_player_health(player_id, delta, reason)

    def regenerate(self, player_ids: list[str], amount: int = REGENERATION_PER_TICK) -> list[str]:
        """Heal every living, wounded character among ``player_ids``; returns who was healed."""
        healed: list[str] = []
        for player in self._persistence.get_players_batch(player_ids):
            stats = player.get_stats()
            if not player.is_alive or stats.get("health", 0) >= stats.get("max_health", 0):
                continue
            self._persistence.heal_player(player, amount)
            healed.append(player.player_id)
        return sorted(healed)
