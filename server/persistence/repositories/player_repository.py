"""Async access to players: the counterpart of the facade's player methods.

Every method takes the same arguments and returns the same thing as its facade twin
(``get_player`` -> ``get_player_by_id`` and so on), so migrating a call site changes only the
receiver, the name and the ``await``. Each call runs in its own session and transaction, and is
retried with exponential backoff when it fails for a transient reason (a dropped connection, SQLite
still locked after its busy timeout).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import async_session
from server.events import EventBus, get_event_bus
from server.models import DEFAULT_ROOM_ID, Player, utcnow
from server.persistence.utils import DEFAULT_RETRY_POLICY, RetryPolicy, retry_async
from server.world import RoomCache, get_room_cache

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _check_saveable(player: Player) -> None:
    if not player.name:
        raise ValueError("a player needs a name")
    if player.inventory is not None and not isinstance(player.inventory, list):
        raise ValueError("a player's inventory must be a list")


class PlayerRepository:
    """Player CRUD over an async session factory."""

    def __init__(
        self,
        room_cache: RoomCache | None = None,
        event_bus: EventBus | None = None,
        *,
        session_factory: Callable[[], AsyncSession] = async_session,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    ) -> None:
        self._room_cache = room_cache
        self._event_bus = event_bus
        self._session_factory = session_factory
        self.retry_policy = retry_policy
        # Injected so tests can observe the backoff without waiting for it.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @property
    def room_cache(self) -> RoomCache:
        return self._room_cache if self._room_cache is not None else get_room_cache()

    @property
    def event_bus(self) -> EventBus:
        return self._event_bus if self._event_bus is not None else get_event_bus()

    async def _run(self, name: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in a fresh committed transaction, retrying transient failures."""

        async def attempt() -> T:
            async with self._session_factory() as session, session.begin():
                return await work(session)

        return await retry_async(attempt, policy=self.retry_policy, name=name, sleep=self.sleep)

    async def get_player_by_id(self, player_id: str) -> Player | None:
        return await self._run("get_player_by_id", lambda s: s.get(Player, player_id))

    async def get_player_by_name(self, name: str) -> Player | None:
        return await self._run(
            "get_player_by_name", lambda s: s.scalar(select(Player).where(Player.name == name))
        )

    async def get_player_by_user_id(self, user_id: str) -> Player | None:
        """The (first-created) character of an account."""

        async def work(session: AsyncSession) -> Player | None:
            result = await session.scalars(
                select(Player)
                .where(Player.user_id == user_id)
                .order_by(Player.created_at, Player.player_id)
                .limit(1)
            )
            return result.first()

        return await self._run("get_player_by_user_id", work)

    async def save_player(self, player: Player) -> None:
        """Insert or update a player (merge: the object may come from any session or side)."""
        _check_saveable(player)
        await self._run("save_player", lambda s: s.merge(player))

    async def save_players(self, players: list[Player]) -> None:
        """Save several players in one transaction: all or none."""
        for player in players:
            _check_saveable(player)

        async def work(session: AsyncSession) -> None:
            for player in players:
                await session.merge(player)

        await self._run("save_players", work)

    async def delete_player(self, player_id: str) -> bool:
        async def work(session: AsyncSession) -> bool:
            result = await session.execute(delete(Player).where(Player.player_id == player_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run("delete_player", work)

    async def list_players(self) -> list[Player]:
        """Every player and NPC, ordered by name."""

        async def work(session: AsyncSession) -> list[Player]:
            return list(await session.scalars(select(Player).order_by(Player.name)))

        return await self._run("list_players", work)

    async def get_players_in_room(self, room_id: str) -> list[Player]:
        """Everyone standing in a room, ordered by name."""

        async def work(session: AsyncSession) -> list[Player]:
            result = await session.scalars(
                select(Player).where(Player.current_room_id == room_id).order_by(Player.name)
            )
            return list(result)

        return await self._run("get_players_in_room", work)

    async def get_players_batch(self, player_ids: list[str]) -> list[Player]:
        """The players among ``player_ids`` that exist, in the order asked for."""
        wanted = list(dict.fromkeys(player_ids))
        if not wanted:
            return []

        async def work(session: AsyncSession) -> dict[str, Player]:
            result = await session.scalars(select(Player).where(Player.player_id.in_(wanted)))
            return {player.player_id: player for player in result}

        found = await self._run("get_players_batch", work)
        return [found[player_id] for player_id in wanted if player_id in found]

    async def update_player_last_active(
        self, player_id: str, last_active: datetime | None = None
    ) -> None:
        when = last_active or utcnow()

        async def work(session: AsyncSession) -> None:
            await session.execute(
                update(Player).where(Player.player_id == player_id).values(last_active=when)
            )

        await self._run("update_player_last_active", work)

    async def validate_and_fix_player_room(self, player: Player) -> bool:
        """Move a player standing in an unknown room to the start room; True if it was moved."""
        if player.current_room_id in self.room_cache:
            return False
        logger.warning(
            "player %s was in unknown room %r, moving to %s",
            player.player_id,
            player.current_room_id,
            DEFAULT_ROOM_ID,
        )
        player.current_room_id = DEFAULT_ROOM_ID
        await self.save_player(player)
        return True
