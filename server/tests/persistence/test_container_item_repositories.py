"""ContainerRepository and ItemRepository: the sync rules, run in worker threads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from server.persistence.container_persistence import ContainerError
from server.persistence.item_instance_persistence import ItemInstanceError
from server.persistence.repositories import get_container_repository, get_item_repository


async def test_container_lifecycle() -> None:
    containers = get_container_repository()
    now = datetime(2025, 12, 5, 18, 0, tzinfo=UTC)

    corpse = await containers.create_container(
        "corpse",
        room_id="innsmouth_harbor",
        owner_id="p1",
        entity_id="p1",
        items=[{"item_id": "pocket_watch"}],
        decays_at=now + timedelta(minutes=30),
        metadata={"name": "corpse of Olmstead"},
    )
    cid = corpse["container_id"]

    assert (await containers.get_container(cid))["metadata"] == {"name": "corpse of Olmstead"}
    assert [
        c["container_id"] for c in await containers.get_containers_by_room_id("innsmouth_harbor")
    ] == [cid]
    assert [c["container_id"] for c in await containers.get_containers_by_entity_id("p1")] == [cid]

    updated = await containers.update_container(cid, items=[], lock_state="sealed")
    assert (updated["items"], updated["lock_state"]) == ([], "sealed")

    assert await containers.get_decayed_containers(now) == []
    assert len(await containers.get_decayed_containers(now + timedelta(hours=1))) == 1

    assert await containers.delete_container(cid) is True
    assert await containers.get_container(cid) is None
    assert await containers.update_container(cid, lock_state="locked") is None


async def test_container_rules_apply_on_the_async_side() -> None:
    with pytest.raises(ContainerError, match="needs a room_id"):
        await get_container_repository().create_container("environment")


async def test_concurrent_container_creation() -> None:
    containers = get_container_repository()

    created = await asyncio.gather(
        *(containers.create_container("environment", room_id="arkham_docks") for _ in range(10))
    )

    assert len({c["container_id"] for c in created}) == 10
    assert len(await containers.get_containers_by_room_id("arkham_docks")) == 10


async def test_item_repository() -> None:
    items = get_item_repository()

    await items.create_item_instance("inst-1", "necronomicon", owner_type="container")
    await items.ensure_item_instance("inst-1", "necronomicon")
    await items.ensure_item_instance("inst-2", "candle", quantity=3)

    assert await items.item_instance_exists("inst-1") is True
    assert await items.item_instance_exists("inst-2") is True
    assert await items.item_instance_exists("inst-3") is False
    with pytest.raises(ItemInstanceError):
        await items.create_item_instance("inst-1", "necronomicon")


async def test_concurrent_ensure_item_instance_inserts_once(sync_session) -> None:
    items = get_item_repository()

    await asyncio.gather(*(items.ensure_item_instance("shared", "lantern") for _ in range(8)))

    assert await items.item_instance_exists("shared")
