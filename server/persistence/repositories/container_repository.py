"""Async container access: the sync container functions, run in a worker thread.

Container rules live once, in ``server.persistence.container_persistence``. Each call here opens
its own sync session *inside* the worker thread (a Session must never cross threads) and commits
there, so the event loop is never blocked on the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from server.db import sync_session
from server.persistence import container_persistence

T = TypeVar("T")


class ContainerRepository:
    """Environment, equipment and corpse containers, for async callers."""

    def __init__(self, session_factory: Callable[[], Session] = sync_session) -> None:
        self._session_factory = session_factory

    def _in_transaction(self, work: Callable[[Session], T]) -> T:
        with self._session_factory() as session, session.begin():
            return work(session)

    async def _call(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._in_transaction, work)

    async def create_container(
        self,
        source_type: str,
        *,
        owner_id: str | None = None,
        room_id: str | None = None,
        entity_id: str | None = None,
        capacity_slots: int = 10,
        items: list[Any] | None = None,
        lock_state: str = "unlocked",
        decays_at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            lambda s: container_persistence.create_container(
                s,
                source_type,
                owner_id=owner_id,
                room_id=room_id,
                entity_id=entity_id,
                capacity_slots=capacity_slots,
                items=items,
                lock_state=lock_state,
                decays_at=decays_at,
                metadata=metadata,
            )
        )

    async def get_container(self, container_id: str) -> dict[str, Any] | None:
        return await self._call(lambda s: container_persistence.get_container(s, container_id))

    async def get_containers_by_room_id(self, room_id: str) -> list[dict[str, Any]]:
        return await self._call(
            lambda s: container_persistence.get_containers_by_room_id(s, room_id)
        )

    async def get_containers_by_entity_id(self, entity_id: str) -> list[dict[str, Any]]:
        return await self._call(
            lambda s: container_persistence.get_containers_by_entity_id(s, entity_id)
        )

    async def update_container(
        self,
        container_id: str,
        *,
        items: list[Any] | None = None,
        lock_state: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        return await self._call(
            lambda s: container_persistence.update_container(
                s, container_id, items=items, lock_state=lock_state, metadata=metadata
            )
        )

    async def get_decayed_containers(
        self, current_time: datetime | None = None
    ) -> list[dict[str, Any]]:
        return await self._call(
            lambda s: container_persistence.get_decayed_containers(s, current_time)
        )

    async def delete_container(self, container_id: str) -> bool:
        return await self._call(lambda s: container_persistence.delete_container(s, container_id))
