"""Async experience and stat changes, atomic in SQL and limited to whitelisted fields.

Field names reach the database only after ``stat_updates.validate_stat_field`` accepted them, and
even then as bound parameters; an unknown name raises ``ValueError("invalid stat field: 'x'")``
before any session is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db import async_session
from server.events import EventBus, ExperienceGained, PlayerStatChanged, get_event_bus
from server.models import Player
from server.persistence import stat_updates
from server.persistence.repositories.health_repository import HealthRepository

logger = logging.getLogger(__name__)


class ExperienceRepository:
    """Experience, levels and the other numeric stats."""

    def __init__(
        self,
        event_bus: EventBus | None = None,
        *,
        session_factory: Callable[[], AsyncSession] = async_session,
    ) -> None:
        self._event_bus = event_bus
        self._session_factory = session_factory
        # Health has its own clamping and death rules; stat-field changes to it go there.
        self._health = HealthRepository(event_bus, session_factory=session_factory)

    @property
    def event_bus(self) -> EventBus:
        return self._event_bus if self._event_bus is not None else get_event_bus()

    async def _execute(self, build: Callable[[str], stat_updates.StatStatement]) -> Any:
        async with self._session_factory() as session, session.begin():
            statement = build(session.get_bind().dialect.name)
            return (await session.execute(statement.sql, statement.params)).first()

    async def gain_experience(self, player: Player, amount: int, source: str = "unknown") -> None:
        """Award experience, raising the level when a threshold is crossed."""
        if amount < 0:
            raise ValueError(f"experience amount must not be negative, got {amount}")
        row = await self._execute(
            lambda dialect: stat_updates.experience_delta(dialect, player.player_id, amount)
        )
        if row is None:
            logger.warning("gain_experience: no player %s", player.player_id)
            return
        experience = int(stat_updates.as_number(row.experience))
        level = int(stat_updates.as_number(row.level))
        player.stats = {**(player.stats or {}), "experience": experience, "level": level}
        await self.event_bus.publish_async(
            ExperienceGained(player.player_id, amount, source, experience)
        )

    async def update_player_xp(self, player_id: str, delta: int, reason: str = "") -> None:
        """Change experience by ``delta`` (either sign, never below 0)."""
        row = await self._execute(
            lambda dialect: stat_updates.experience_delta(dialect, player_id, delta)
        )
        if row is None:
            logger.warning("update_player_xp: no player %s (%s)", player_id, reason)
            return
        experience = int(stat_updates.as_number(row.experience))
        await self.event_bus.publish_async(
            PlayerStatChanged(player_id, "experience", delta, experience)
        )

    async def update_player_stat_field(
        self, player_id: str, field_name: str, delta: int | float, reason: str = ""
    ) -> None:
        """Change one whitelisted stat by ``delta``; ValueError for any other field name."""
        stat_updates.validate_stat_field(field_name)
        if field_name == "health":
            await self._health.update_player_health(player_id, int(delta), reason)
            return
        if field_name == "experience":
            await self.update_player_xp(player_id, int(delta), reason)
            return
        row = await self._execute(
            lambda dialect: stat_updates.stat_field_delta(dialect, player_id, field_name, delta)
        )
        if row is None:
            logger.warning("update_player_stat_field: no player %s (%s)", player_id, reason)
            return
        value = stat_updates.as_number(row.value)
        await self.event_bus.publish_async(PlayerStatChanged(player_id, field_name, delta, value))
