"""Container storage: chests in rooms, worn bags, corpses awaiting decay.

Sync functions taking a ``Session``; the caller owns the transaction. The facade calls them
directly and ``ContainerRepository`` runs them in a worker thread (``asyncio.to_thread``), so this
module is the one definition of container rules. Containers are handed out as plain dicts: callers
(API responses, the corpse lifecycle) serialise them and must not hold live ORM rows.

Dict keys: container_id, source_type, owner_id, room_id, entity_id, capacity_slots, items,
lock_state, decays_at, metadata, created_at, updated_at.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models import CONTAINER_LOCK_STATES, CONTAINER_SOURCE_TYPES, Container, new_id, utcnow

MAX_CAPACITY_SLOTS = 100


class ContainerError(ValueError):
    """A container request breaks a container rule (unknown type, over capacity, …)."""


def container_to_dict(container: Container) -> dict[str, Any]:
    return {
        "container_id": container.container_id,
        "source_type": container.source_type,
        "owner_id": container.owner_id,
        "room_id": container.room_id,
        "entity_id": container.entity_id,
        "capacity_slots": container.capacity_slots,
        "items": copy.deepcopy(container.items or []),
        "lock_state": container.lock_state,
        "decays_at": container.decays_at,
        "metadata": copy.deepcopy(container.metadata_json or {}),
        "created_at": container.created_at,
        "updated_at": container.updated_at,
    }


def _validate_items(items: list[Any], capacity_slots: int) -> list[Any]:
    if not isinstance(items, list):
        raise ContainerError("items must be a list")
    if len(items) > capacity_slots:
        raise ContainerError(f"{len(items)} items do not fit in {capacity_slots} slots")
    return copy.deepcopy(items)


def _validate_lock_state(lock_state: str) -> str:
    if lock_state not in CONTAINER_LOCK_STATES:
        raise ContainerError(f"invalid lock state: {lock_state!r}")
    return lock_state


def create_container(
    session: Session,
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
    """Insert a container and return it as a dict."""
    if source_type not in CONTAINER_SOURCE_TYPES:
        raise ContainerError(f"invalid container source type: {source_type!r}")
    if source_type in ("environment", "corpse") and room_id is None:
        raise ContainerError(f"a {source_type} container needs a room_id")
    if source_type == "equipment" and entity_id is None:
        raise ContainerError("an equipment container needs an entity_id")
    if not 1 <= capacity_slots <= MAX_CAPACITY_SLOTS:
        raise ContainerError(f"capacity_slots must be between 1 and {MAX_CAPACITY_SLOTS}")
    now = utcnow()
    container = Container(
        container_id=new_id(),
        source_type=source_type,
        owner_id=owner_id,
        room_id=room_id,
        entity_id=entity_id,
        capacity_slots=capacity_slots,
        items=_validate_items(items or [], capacity_slots),
        lock_state=_validate_lock_state(lock_state),
        decays_at=decays_at,
        metadata_json=copy.deepcopy(metadata or {}),
        created_at=now,
        updated_at=now,
    )
    session.add(container)
    session.flush()
    return container_to_dict(container)


def get_container(session: Session, container_id: str) -> dict[str, Any] | None:
    container = session.get(Container, container_id)
    return container_to_dict(container) if container is not None else None


def get_containers_by_room_id(session: Session, room_id: str) -> list[dict[str, Any]]:
    """Containers lying in a room, oldest first."""
    rows = session.scalars(
        select(Container)
        .where(Container.room_id == room_id)
        .order_by(Container.created_at, Container.container_id)
    )
    return [container_to_dict(row) for row in rows]


def get_containers_by_entity_id(session: Session, entity_id: str) -> list[dict[str, Any]]:
    """Containers carried or worn by an entity (a player or NPC), oldest first."""
    rows = session.scalars(
        select(Container)
        .where(Container.entity_id == entity_id)
        .order_by(Container.created_at, Container.container_id)
    )
    return [container_to_dict(row) for row in rows]


def update_container(
    session: Session,
    container_id: str,
    *,
    items: list[Any] | None = None,
    lock_state: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Replace the given parts of a container; None if it does not exist."""
    container = session.get(Container, container_id, with_for_update=True)
    if container is None:
        return None
    if items is not None:
        container.items = _validate_items(items, container.capacity_slots)
    if lock_state is not None:
        container.lock_state = _validate_lock_state(lock_state)
    if metadata is not None:
        container.metadata_json = copy.deepcopy(metadata)
    container.updated_at = utcnow()
    session.flush()
    return container_to_dict(container)


def get_decayed_containers(
    session: Session, current_time: datetime | None = None
) -> list[dict[str, Any]]:
    """Containers whose decay time has passed (corpses to clean up), soonest-decayed first."""
    now = current_time or utcnow()
    rows = session.scalars(
        select(Container)
        .where(Container.decays_at.is_not(None), Container.decays_at <= now)
        .order_by(Container.decays_at, Container.container_id)
    )
    return [container_to_dict(row) for row in rows]


def delete_container(session: Session, container_id: str) -> bool:
    result = session.execute(delete(Container).where(Container.container_id == container_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
