"""Async item-instance access: the sync item functions, run in a worker thread.

As with containers, the rules live in ``server.persistence.item_instance_persistence``; each call
opens and commits its own sync session inside the worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from server.db import sync_session
from server.persistence import item_instance_persistence

T = TypeVar("T")


class ItemRepository:
    """Item instances, for async callers."""

    def __init__(self, session_factory: Callable[[], Session] = sync_session) -> None:
        self._session_factory = session_factory

    def _in_transaction(self, work: Callable[[Session], T]) -> T:
        with self._session_factory() as session, session.begin():
            return work(session)

    async def _call(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._in_transaction, work)

    async def create_item_instance(
        self,
        item_instance_id: str,
        prototype_id: str,
        *,
        owner_type: str = "room",
        owner_id: str | None = None,
        location_context: str | None = None,
        quantity: int = 1,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        await self._call(
            lambda s: item_instance_persistence.create_item_instance(
                s,
                item_instance_id,
                prototype_id,
                owner_type=owner_type,
                owner_id=owner_id,
                location_context=location_context,
                quantity=quantity,
                metadata=metadata,
            )
        )

    async def ensure_item_instance(
        self,
        item_instance_id: str,
        prototype_id: str,
        *,
        owner_type: str = "room",
        owner_id: str | None = None,
        location_context: str | None = None,
        quantity: int = 1,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        await self._call(
            lambda s: item_instance_persistence.ensure_item_instance(
                s,
                item_instance_id,
                prototype_id,
                owner_type=owner_type,
                owner_id=owner_id,
                location_context=location_context,
                quantity=quantity,
                metadata=metadata,
            )
        )

    async def item_instance_exists(self, item_instance_id: str) -> bool:
        return await self._call(
            lambda s: item_instance_persistence.item_instance_exists(s, item_instance_id)
        )
