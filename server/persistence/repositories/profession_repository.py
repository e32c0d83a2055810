"""Async profession queries (character creation, profession listings)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import async_session
from server.models import Profession


class ProfessionRepository:
    """Read access to the professions table."""

    def __init__(self, session_factory: Callable[[], AsyncSession] = async_session) -> None:
        self._session_factory = session_factory

    async def get_all_professions(self) -> list[Profession]:
        """Every profession (available or not), ordered by id."""
        async with self._session_factory() as session:
            return list(await session.scalars(select(Profession).order_by(Profession.id)))

    async def get_profession_by_id(self, profession_id: int) -> Profession | None:
        async with self._session_factory() as session:
            return await session.get(Profession, profession_id)
