"""Item instances: individual copies of an item prototype, wherever they are.

Sync functions taking a ``Session`` (the caller owns the transaction), called directly by the facade
and through ``asyncio.to_thread`` by ``ItemRepository``. ``ensure_item_instance`` is an
``INSERT … ON CONFLICT DO NOTHING`` so two loaders racing to register the same instance (a room
reset and a player drop) cannot both fail or both insert.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.models import ItemInstance, utcnow

OWNER_TYPES = ("room", "player", "container", "npc")


class ItemInstanceError(ValueError):
    """An item instance request is invalid (bad quantity, unknown owner type, id clash)."""


def _validated_values(
    item_instance_id: str,
    prototype_id: str,
    owner_type: str,
    owner_id: str | None,
    location_context: str | None,
    quantity: int,
    metadata: dict[str, Any] | None,
) -> dict[str, Any]:
    if not item_instance_id:
        raise ItemInstanceError("item_instance_id must not be empty")
    if not prototype_id:
        raise ItemInstanceError("prototype_id must not be empty")
    if owner_type not in OWNER_TYPES:
        raise ItemInstanceError(f"invalid owner type: {owner_type!r}")
    if quantity < 1:
        raise ItemInstanceError(f"quantity must be at least 1, got {quantity}")
    return {
        "item_instance_id": item_instance_id,
        "prototype_id": prototype_id,
        "owner_type": owner_type,
        "owner_id": owner_id,
        "location_context": location_context,
        "quantity": quantity,
        "metadata_json": copy.deepcopy(metadata or {}),
        "created_at": utcnow(),
    }


def create_item_instance(
    session: Session,
    item_instance_id: str,
    prototype_id: str,
    *,
    owner_type: str = "room",
    owner_id: str | None = None,
    location_context: str | None = None,
    quantity: int = 1,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Insert a new instance; ItemInstanceError if the id is taken."""
    values = _validated_values(
        item_instance_id, prototype_id, owner_type, owner_id, location_context, quantity, metadata
    )
    if session.get(ItemInstance, item_instance_id) is not None:
        raise ItemInstanceError(f"item instance already exists: {item_instance_id!r}")
    session.add(ItemInstance(**values))
    session.flush()


def _insert_ignoring_conflict(session: Session, values: dict[str, Any]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the id: a row comes back only if inserted."""
    statement: Insert
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(ItemInstance).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(ItemInstance).values(**values).on_conflict_do_nothing()
    return statement.returning(ItemInstance.item_instance_id)


def ensure_item_instance(
    session: Session,
    item_instance_id: str,
    prototype_id: str,
    *,
    owner_type: str = "room",
    owner_id: str | None = None,
    location_context: str | None = None,
    quantity: int = 1,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Make sure the instance exists; an existing one is left as it is.

    An existing instance of a *different* prototype is an id clash and raises ItemInstanceError.
    """
    values = _validated_values(
        item_instance_id, prototype_id, owner_type, owner_id, location_context, quantity, metadata
    )
    if session.scalar(_insert_ignoring_conflict(session, values)) is not None:
        return
    existing = session.scalar(
        select(ItemInstance.prototype_id).where(ItemInstance.item_instance_id == item_instance_id)
    )
    if existing is not None and existing != prototype_id:
        raise ItemInstanceError(
            f"item instance {item_instance_id!r} exists with prototype {existing!r}, "
            f"not {prototype_id!r}"
        )


def item_instance_exists(session: Session, item_instance_id: str) -> bool:
    found = session.scalar(
        select(ItemInstance.item_instance_id).where(
            ItemInstance.item_instance_id == item_instance_id
        )
    )
    return found is not None


def get_item_instance(session: Session, item_instance_id: str) -> dict[str, Any] | None:
    """One instance as a dict (keys as the model, ``metadata`` for ``metadata_json``)."""
    instance = session.get(ItemInstance, item_instance_id)
    if instance is None:
        return None
    return {
        "item_instance_id": instance.item_instance_id,
        "prototype_id": instance.prototype_id,
        "owner_type": instance.owner_type,
        "owner_id": instance.owner_id,
        "location_context": instance.location_context,
        "quantity": instance.quantity,
        "metadata": copy.deepcopy(instance.metadata_json or {}),
        "created_at": instance.created_at,
    }
