"""Core game rules: damage, healing, experience and levels.

Every change to a character's numbers goes through the persistence layer's atomic operations so two
concurrent hits never lose an update.
"""

from __future__ import annotations

from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.persistence.stat_updates import level_for_experience

MAX_SINGLE_HIT = 1_000
LEVEL_UP_LUCIDITY = 10
LUCIDITY_FLOOR = 0
LUCIDITY_CEILING = 100


class GameRuleError(ValueError):
    """An action that the rules of the game do not allow."""


class PlayerNotFoundError(LookupError):
    def __init__(self, player_id: str) -> None:
        super().__init__(f"player not found: {player_id}")
        self.player_id = player_id


def attribute_modifier(score: int) -> int:
    """The classic (score - 10) // 2 modifier."""
    return (score - 10) // 2


def sync_player_level(persistence: PersistenceLayer, player_id: str) -> int:
    """Raise a stored level that lags behind the character's experience; return the level.

    Rows written before levels were derived from experience can carry a level that is too low;
    levels never drop, so a level above what the experience earns is left alone.
    """
    player = persistence.get_player(player_id)
    if player is None:
        raise PlayerNotFoundError(player_id)
    stats = player.get_stats()
    earned = level_for_experience(int(stats.get("experience", 0)))
    current = int(stats.get("level", 1))
    if earned > current:
        persistence.update_player_stat_field(
            player_id, "level", earned - current, reason="level recalculated from experience"
        )
        return earned
    return current


class GameMechanicsService:
    """Applies the game's rules to characters through the persistence layer."""

    def __init__(self, persistence: PersistenceLayer | None = None) -> None:
        self.persistence = persistence if persistence is not None else get_persistence()

    def _require_player(self, player_id: str) -> Player:
        player = self.persistence.get_player(player_id)
        if player is None:
            raise PlayerNotFoundError(player_id)
        return player

    def apply_damage(self, player_id: str, amount: int, damage_type: str = "physical") -> Player:
        """Damage a living character; returns the character with its updated health."""
        if amount <= 0:
            raise GameRuleError("damage must be positive")
        player = self._require_player(player_id)
        if not player.is_alive:
            raise GameRuleError(f"{player.name} is already dead")
        self.persistence.damage_player(player, min(amount, MAX_SINGLE_HIT), damage_type)
        return player

    def heal(self, player_id: str, amount: int) -> Player:
        if amount <= 0:
            raise GameRuleError("healing must be positive")
        player = self._require_player(player_id)
        if not player.is_alive:
            raise GameRuleError(f"{player.name} is dead and cannot be healed")
        self.persistence.heal_player(player, amount)
        return player

    def award_experience(self, player_id: str, amount: int, source: str = "unknown") -> Player:
        """Grant experience; reaching a new level also steadies the mind a little."""
        if amount <= 0:
            raise GameRuleError("experience awards must be positive")
        player = self._require_player(player_id)
        level_before = int(player.get_stats().get("level", 1))
        self.persistence.gain_experience(player, amount, source)
        levels_gained = int(player.get_stats().get("level", 1)) - level_before
        if levels_gained > 0:
            self.persistence.update_player_stat_field(
                player_id,
                "lucidity",
                LEVEL_UP_LUCIDITY * levels_gained,
                reason=f"level up from {source}",
            )
        return player

    def adjust_lucidity(self, player_id: str, delta: int, reason: str = "") -> int:
        """Shift lucidity within its bounds; returns the new value."""
        player = self._require_player(player_id)
        current = int(player.get_stats().get("lucidity", LUCIDITY_CEILING))
        new_value = max(LUCIDITY_FLOOR, min(LUCIDITY_CEILING, current + delta))
        if new_value != current:
            self.persistence.update_player_stat_field(
                player_id, "lucidity", new_value - current, reason=reason
            )
        return new_value
