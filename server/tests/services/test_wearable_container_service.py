"""WearableContainerService: worn containers, stacking and capacity."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import Container
from server.services.wearable_container_service import (
    MAX_STACK,
    WEARABLE_SLOTS,
    ContainerFullError,
    WearableContainerError,
    WearableContainerService,
)


@pytest.fixture
def service() -> WearableContainerService:
    return WearableContainerService()


@pytest.fixture
def wearer(make_player):
    return make_player("Packmule", room_id="arkham_general_store")


def _worn_rows(session, player_id: str) -> list[Container]:
    session.expire_all()
    return list(session.scalars(select(Container).where(Container.entity_id == player_id)))


def test_equip_creates_one_container_per_slot(service, wearer, sync_session):
    backpack = service.equip(wearer.player_id, "backpack")
    again = service.equip(wearer.player_id, "backpack")
    service.equip(wearer.player_id, "belt_pouch")

    assert again["container_id"] == backpack["container_id"]
    rows = _worn_rows(sync_session, wearer.player_id)
    assert sorted(r.metadata_json["slot"] for r in rows) == ["backpack", "belt_pouch"]
    assert {r.source_type for r in rows} == {"equipment"}
    assert {r.owner_id for r in rows} == {wearer.player_id}
    assert backpack["capacity_slots"] == WEARABLE_SLOTS["backpack"]
    assert set(service.equipment_for(wearer.player_id)) == {"backpack", "belt_pouch"}


def test_equip_validates_slot_and_player(service, wearer):
    with pytest.raises(WearableContainerError, match="unknown slot"):
        service.equip(wearer.player_id, "hat")
    with pytest.raises(WearableContainerError, match="unknown player"):
        service.equip("ghost", "backpack")


def test_items_stack_and_overflow_into_new_stacks(service, wearer, sync_session):
    service.equip(wearer.player_id, "backpack")

    service.add_item(wearer.player_id, "backpack", "bandage", 5)
    updated = service.add_item(wearer.player_id, "backpack", "bandage", MAX_STACK)

    assert updated["items"] == [
        {"prototype_id": "bandage", "quantity": MAX_STACK},
        {"prototype_id": "bandage", "quantity": 5},
    ]
    [row] = _worn_rows(sync_session, wearer.player_id)
    assert row.items == updated["items"]
    assert service.free_slots(wearer.player_id, "backpack") == WEARABLE_SLOTS["backpack"] - 2


def test_full_container_refuses_another_stack(service, wearer, sync_session):
    service.equip(wearer.player_id, "belt_pouch")
    for prototype in ("coin", "key", "match"):
        service.add_item(wearer.player_id, "belt_pouch", prototype)

    with pytest.raises(ContainerFullError, match="belt_pouch is full"):
        service.add_item(wearer.player_id, "belt_pouch", "chalk")
    # Topping up an existing stack still fits.
    service.add_item(wearer.player_id, "belt_pouch", "coin", 2)
    [row] = _worn_rows(sync_session, wearer.player_id)
    assert [(i["prototype_id"], i["quantity"]) for i in row.items] == [
        ("coin", 3), ("key", 1), ("match", 1)
    ]


def test_remove_item_takes_from_stacks(service, wearer):
    service.equip(wearer.player_id, "coat_pockets")
    service.add_item(wearer.player_id, "coat_pockets", "match", MAX_STACK + 3)

    updated = service.remove_item(wearer.player_id, "coat_pockets", "match", 4)

    assert updated["items"] == [{"prototype_id": "match", "quantity": MAX_STACK - 1}]
    emptied = service.remove_item(wearer.player_id, "coat_pockets", "match", MAX_STACK - 1)
    assert emptied["items"] == []
    with pytest.raises(WearableContainerError, match="holds only 0 match"):
        service.remove_item(wearer.player_id, "coat_pockets", "match")


def test_quantity_must_be_positive(service, wearer):
    service.equip(wearer.player_id, "backpack")

    with pytest.raises(WearableContainerError, match="positive"):
        service.add_item(wearer.player_id, "backpack", "coin", 0)
    with pytest.raises(WearableContainerError, match="positive"):
        service.remove_item(wearer.player_id, "backpack", "coin", -1)


def test_unworn_or_locked_container(service, wearer, sync_session):
    with pytest.raises(WearableContainerError, match="no container worn"):
        service.add_item(wearer.player_id, "backpack", "coin")

    backpack = service.equip(wearer.player_id, "backpack")
    row = sync_session.get(Container, backpack["container_id"])
    row.lock_state = "locked"
    sync_session.commit()

    with pytest.raises(WearableContainerError, match="backpack is locked"):
        service.add_item(wearer.player_id, "backpack", "coin")


def test_corpses_of_the_wearer_are_not_equipment(service, wearer, sync_session):
    sync_session.add(
        Container(source_type="corpse", room_id="arkham_general_store",
                  entity_id=wearer.player_id, items=[], metadata_json={"slot": "backpack"})
    )
    sync_session.commit()

    assert service.equipment_for(wearer.player_id) == {}
