"""What happens when a character dies: respawn at the square, whole again but shaken."""

from __future__ import annotations

from collections import Counter

from server.events import EventBus, PlayerDied, get_event_bus
from server.models import Player
from server.persistence import get_persistence

RESPAWN_ROOM_ID = "arkham_square"
DEATH_LUCIDITY_PENALTY = 10


class PlayerDeathService:
    """Listens for ``PlayerDied`` and brings player characters back; NPCs stay dead."""

    def __init__(self, event_bus: EventBus | None = None) -> None:
        self.event_bus = event_bus if event_bus is not None else get_event_bus()
        self.persistence = get_persistence(self.event_bus)
        self.deaths: Counter[str] = Counter()
        self.event_bus.subscribe(PlayerDied, self._on_player_died)

    def _on_player_died(self, event: PlayerDied) -> None:
        self.deaths[event.player_id] += 1
        player = self.persistence.get_player(event.player_id)
        if player is None or player.is_npc:
            return
        self.respawn(event.player_id)

    def respawn(self, player_id: str) -> Player:
        """Move the character to the respawn room at full health, minus some lucidity."""
        player = self.persistence.get_player(player_id)
        if player is None:
            raise LookupError(f"player not found: {player_id}")
        if player.current_room_id != RESPAWN_ROOM_ID:
            player.current_room_id = RESPAWN_ROOM_ID
            self.persistence.save_player(player)
        stats = player.get_stats()
        missing = int(stats.get("max_health", 100)) - int(stats.get("health", 0))
        if missing > 0:
            self.persistence.heal_player(player, missing)
        lucidity = int(stats.get("lucidity", 100))
        penalty = min(DEATH_LUCIDITY_PENALTY, lucidity)
        if penalty > 0:
            self.persistence.update_player_stat_field(
                player_id, "lucidity", -penalty, reason="returned from death"
            )
        self.persistence.update_player_last_active(player_id)
        refreshed = self.persistence.get_player(player_id)
        return refreshed if refreshed is not None else player

    def death_count(self, player_id: str) -> int:
        return self.deaths[player_id]
