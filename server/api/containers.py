"""Containers: chests in rooms, worn bags, corpses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from server.persistence import PersistenceLayer, get_persistence
from server.persistence.container_persistence import ContainerError

router = APIRouter(prefix="/api/containers", tags=["containers"])

MAX_CAPACITY = 100


class ContainerCreate(BaseModel):
    source_type: str
    room_id: str | None = None
    owner_id: str | None = None
    entity_id: str | None = None
    capacity_slots: int = Field(default=10, ge=1, le=MAX_CAPACITY)
    items: list[dict[str, Any]] = Field(default_factory=list)
    lock_state: str = "unlocked"
    decays_in_seconds: int | None = Field(default=None, gt=0)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ContainerUpdate(BaseModel):
    items: list[dict[str, Any]] | None = None
    lock_state: str | None = None
    metadata: dict[str, Any] | None = None


class ItemAdd(BaseModel):
    prototype_id: str = Field(min_length=1, max_length=64)
    item_instance_id: str | None = Field(default=None, max_length=64)
    quantity: int = Field(default=1, ge=1)


def _bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _not_found(container_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"container not found: {container_id}")


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_container(
    body: ContainerCreate, persistence: PersistenceLayer = Depends(get_persistence)
) -> dict[str, Any]:
    if body.room_id is not None and persistence.get_room(body.room_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"room not found: {body.room_id}")
    decays_at = None
    if body.decays_in_seconds is not None:
        decays_at = datetime.now(UTC) + timedelta(seconds=body.decays_in_seconds)
    try:
        return persistence.create_container(
            body.source_type,
            owner_id=body.owner_id,
            room_id=body.room_id,
            entity_id=body.entity_id,
            capacity_slots=body.capacity_slots,
            items=body.items,
            lock_state=body.lock_state,
            decays_at=decays_at,
            metadata=body.metadata,
        )
    except ContainerError as exc:
        raise _bad_request(str(exc)) from exc


@router.get("")
async def list_containers(
    room_id: str | None = Query(default=None),
    entity_id: str | None = Query(default=None),
    persistence: PersistenceLayer = Depends(get_persistence),
) -> list[dict[str, Any]]:
    if (room_id is None) == (entity_id is None):
        raise _bad_request("give exactly one of room_id or entity_id")
    if room_id is not None:
        containers = persistence.get_containers_by_room_id(room_id)
    else:
        containers = persistence.get_containers_by_entity_id(entity_id or "")
    return sorted(containers, key=lambda container: str(container["container_id"]))


@router.get("/{container_id}")
async def get_container(
    container_id: str, persistence: PersistenceLayer = Depends(get_persistence)
) -> dict[str, Any]:
    container = persistence.get_container(container_id)
    if container is None:
        raise _not_found(container_id)
    return container


@router.patch("/{container_id}")
async def update_container(
    container_id: str,
    body: ContainerUpdate,
    persistence: PersistenceLayer = Depends(get_persistence),
) -> dict[str, Any]:
    try:
        updated = persistence.update_container(
            container_id, items=body.items, lock_state=body.lock_state, metadata=body.metadata
        )
    except ContainerError as exc:
        raise _bad_request(str(exc)) from exc
    if updated is None:
        raise _not_found(container_id)
    return updated


@router.post("/{container_id}/items", status_code=status.HTTP_201_CREATED)
async def add_item(
    container_id: str, body: ItemAdd, persistence: PersistenceLayer = Depends(get_persistence)
) -> dict[str, Any]:
    """Put a new item instance into a container, respecting its lock and its capacity."""
    container = persistence.get_container(container_id)
    if container is None:
        raise _not_found(container_id)
    if container["lock_state"] != "unlocked":
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the container is locked")
    items = list(container["items"] or [])
    if len(items) >= int(container["capacity_slots"]):
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the container is full")
    item_instance_id = body.item_instance_id or uuid.uuid4().hex
    if any(item.get("item_instance_id") == item_instance_id for item in items):
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the item is already inside")
    persistence.ensure_item_instance(
        item_instance_id,
        body.prototype_id,
        owner_type="container",
        owner_id=container_id,
        quantity=body.quantity,
    )
    items.append(
        {
            "item_instance_id": item_instance_id,
            "prototype_id": body.prototype_id,
            "quantity": body.quantity,
        }
    )
    updated = persistence.update_container(container_id, items=items)
    if updated is None:
        raise _not_found(container_id)
    return updated


@router.delete("/{container_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_container(
    container_id: str, persistence: PersistenceLayer = Depends(get_persistence)
) -> None:
    if not persistence.delete_container(container_id):
        raise _not_found(container_id)
