"""Async damage and healing, atomic in SQL.

Fifty goblins hitting one investigator at once must take exactly fifty hits off: each change is a
single ``UPDATE … RETURNING`` built by ``server.persistence.stat_updates`` (the same statements the
facade runs), never a read-modify-write. The new health is written back into the ``Player`` passed
in and announced with ``await event_bus.publish_async(...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db import async_session
from server.events import (
    EventBus,
    PlayerDamaged,
    PlayerDied,
    PlayerHealed,
    PlayerStatChanged,
    get_event_bus,
)
from server.models import Player
from server.persistence import stat_updates

logger = logging.getLogger(__name__)


class HealthRepository:
    """Health changes with clamping to ``[0, max_health]`` and death detection."""

    def __init__(
        self,
        event_bus: EventBus | None = None,
        *,
        session_factory: Callable[[], AsyncSession] = async_session,
    ) -> None:
        self._event_bus = event_bus
        self._session_factory = session_factory

    @property
    def event_bus(self) -> EventBus:
        return self._event_bus if self._event_bus is not None else get_event_bus()

    async def _apply_delta(self, player_id: str, delta: int) -> tuple[Any, bool]:
        """Run the atomic update. Returns (row or None, whether the player exists)."""
        async with self._session_factory() as session, session.begin():
            dialect = session.get_bind().dialect.name
            statement = stat_updates.health_delta(
                dialect, player_id, delta, only_if_alive=delta < 0
            )
            row = (await session.execute(statement.sql, statement.params)).first()
            if row is not None:
                return row, True
            return None, await session.get(Player, player_id) is not None

    async def damage_player(
        self, player: Player, amount: int, damage_type: str = "physical"
    ) -> None:
        """Take ``amount`` health from a living player; a killing blow publishes PlayerDied.
        Damage to a player already at 0 health changes nothing."""
        if amount < 0:
            raise ValueError(f"damage amount must not be negative, got {amount}")
        row, exists = await self._apply_delta(player.player_id, -amount)
        if row is None:
            if not exists:
                logger.warning("damage_player: no player %s", player.player_id)
            return
        health = int(stat_updates.as_number(row.health))
        player.stats = {**(player.stats or {}), "health": health}
        await self.event_bus.publish_async(
            PlayerDamaged(player.player_id, amount, damage_type, health)
        )
        if health == 0:
            await self.event_bus.publish_async(PlayerDied(player.player_id, row.current_room_id))

    async def heal_player(self, player: Player, amount: int) -> None:
        """Give back up to ``amount`` health (never above max_health)."""
        if amount < 0:
            raise ValueError(f"heal amount must not be negative, got {amount}")
        row, _exists = await self._apply_delta(player.player_id, amount)
        if row is None:
            logger.warning("heal_player: no player %s", player.player_id)
            return
        health = int(stat_updates.as_number(row.health))
        player.stats = {**(player.stats or {}), "health": health}
        await self.event_bus.publish_async(PlayerHealed(player.player_id, amount, health))

    async def update_player_health(self, player_id: str, delta: int, reason: str = "") -> None:
        """Change a player's health by ``delta`` (either sign), clamped to [0, max_health]."""
        row, exists = await self._apply_delta(player_id, delta)
        if row is None:
            if not exists:
                logger.warning("update_player_health: no player %s (%s)", player_id, reason)
            return
        health = int(stat_updates.as_number(row.health))
        logger.debug("health of %s changed by %d (%s) to %d", player_id, delta, reason, health)
        await self.event_bus.publish_async(PlayerStatChanged(player_id, "health", delta, health))
        if delta < 0 and health == 0:
            await self.event_bus.publish_async(PlayerDied(player_id, row.current_room_id))
