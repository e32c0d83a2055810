"""The async counterpart of the facade: one object that wires up the seven repositories.

``AsyncPersistenceLayer`` holds the process's room cache and the async session factory and builds
each repository with them, so async code can take one dependency and reach players, rooms,
professions, stats, containers and items::

    layer = AsyncPersistenceLayer(event_bus=event_bus)
    player = await layer.players.get_player_by_id(player_id)
    await layer.health.damage_player(player, 20)
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import async_session, sync_session
from server.events import EventBus
from server.persistence.repositories import (
    ContainerRepository,
    ExperienceRepository,
    HealthRepository,
    ItemRepository,
    PlayerRepository,
    ProfessionRepository,
    RoomRepository,
)
from server.world import RoomCache, get_room_cache


class AsyncPersistenceLayer:
    """Owns the shared room cache and session factory; exposes one instance of each repository."""

    def __init__(
        self,
        event_bus: EventBus | None = None,
        *,
        room_cache: RoomCache | None = None,
        session_factory: Callable[[], AsyncSession] = async_session,
    ) -> None:
        self._event_bus = event_bus
        self._room_cache = room_cache if room_cache is not None else get_room_cache()
        self._session_factory = session_factory
        self.players = PlayerRepository(
            room_cache=self._room_cache, event_bus=event_bus, session_factory=session_factory
        )
        self.rooms = RoomRepository(room_cache=self._room_cache)
        self.professions = ProfessionRepository(session_factory=session_factory)
        self.health = HealthRepository(event_bus=event_bus, session_factory=session_factory)
        self.experience = ExperienceRepository(event_bus=event_bus, session_factory=session_factory)
        # Container and item rules are sync code run in worker threads, on sync sessions.
        self.containers = ContainerRepository(session_factory=sync_session)
        self.items = ItemRepository(session_factory=sync_session)

    @property
    def room_cache(self) -> RoomCache:
        return self._room_cache

    async def ping(self) -> bool:
        """True when the database answers a trivial query (health checks)."""
        try:
            async with self._session_factory() as session:
                answer = (await session.execute(text("SELECT 1"))).scalar_one()
                return bool(answer == 1)
        except Exception:
            return False
