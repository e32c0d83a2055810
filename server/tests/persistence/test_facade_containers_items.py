"""The facade's containers and item instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.persistence import PersistenceLayer, get_persistence
from server.persistence.container_persistence import ContainerError
from server.persistence.item_instance_persistence import ItemInstanceError, get_item_instance


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


def test_create_and_get_container(persistence: PersistenceLayer) -> None:
    created = persistence.create_container(
        "environment",
        room_id="arkham_general_store",
        capacity_slots=4,
        items=[{"item_id": "lamp_oil", "quantity": 2}],
        lock_state="locked",
        metadata={"label": "Shop counter"},
    )

    loaded = persistence.get_container(created["container_id"])

    assert loaded == created
    assert loaded["source_type"] == "environment"
    assert loaded["items"] == [{"item_id": "lamp_oil", "quantity": 2}]
    assert loaded["metadata"] == {"label": "Shop counter"}
    assert loaded["created_at"].tzinfo is not None
    assert persistence.get_container("missing") is None


@pytest.mark.parametrize(
    ("source_type", "kwargs", "message"),
    [
        ("crate", {"room_id": "arkham_docks"}, "invalid container source type"),
        ("environment", {}, "needs a room_id"),
        ("equipment", {"owner_id": "x"}, "needs an entity_id"),
        ("corpse", {"room_id": "arkham_docks", "capacity_slots": 0}, "capacity_slots"),
        ("environment", {"room_id": "arkham_docks", "lock_state": "ajar"}, "invalid lock state"),
        ("environment", {"room_id": "arkham_docks", "capacity_slots": 1, "items": [1, 2]}, "fit"),
    ],
)
def test_create_container_validates(
    persistence: PersistenceLayer, source_type: str, kwargs: dict, message: str
) -> None:
    with pytest.raises(ContainerError, match=message):
        persistence.create_container(source_type, **kwargs)


def test_containers_by_room_and_entity(persistence: PersistenceLayer) -> None:
    chest = persistence.create_container("environment", room_id="arkham_docks")
    corpse = persistence.create_container("corpse", room_id="arkham_docks", owner_id="p1")
    backpack = persistence.create_container("equipment", entity_id="p1", owner_id="p1")

    in_docks = persistence.get_containers_by_room_id("arkham_docks")
    carried = persistence.get_containers_by_entity_id("p1")

    assert {c["container_id"] for c in in_docks} == {chest["container_id"], corpse["container_id"]}
    assert [c["container_id"] for c in carried] == [backpack["container_id"]]
    assert persistence.get_containers_by_room_id("dunwich_hill") == []


def test_update_container(persistence: PersistenceLayer) -> None:
    chest = persistence.create_container("environment", room_id="arkham_docks", capacity_slots=2)

    updated = persistence.update_container(
        chest["container_id"], items=[{"item_id": "rope"}], lock_state="locked"
    )

    assert updated["items"] == [{"item_id": "rope"}]
    assert updated["lock_state"] == "locked"
    assert updated["metadata"] == {}
    assert updated["updated_at"] >= chest["updated_at"]
    assert persistence.get_container(chest["container_id"])["lock_state"] == "locked"
    assert persistence.update_container("missing", lock_state="locked") is None
    with pytest.raises(ContainerError):
        persistence.update_container(chest["container_id"], items=[1, 2, 3])


def test_get_decayed_containers(persistence: PersistenceLayer) -> None:
    now = datetime(2025, 12, 5, 12, 0, tzinfo=UTC)
    old = persistence.create_container(
        "corpse", room_id="arkham_docks", decays_at=now - timedelta(minutes=5)
    )
    persistence.create_container(
        "corpse", room_id="arkham_docks", decays_at=now + timedelta(minutes=5)
    )
    persistence.create_container("environment", room_id="arkham_docks")

    decayed = persistence.get_decayed_containers(now)

    assert [c["container_id"] for c in decayed] == [old["container_id"]]
    assert decayed[0]["decays_at"] == now - timedelta(minutes=5)
    assert len(persistence.get_decayed_containers(now + timedelta(hours=1))) == 2
    assert len(persistence.get_decayed_containers()) == 2


def test_decay_time_accepts_naive_utc(persistence: PersistenceLayer) -> None:
    naive = datetime(2025, 1, 1, 8, 0)
    persistence.create_container("corpse", room_id="arkham_docks", decays_at=naive)

    [decayed] = persistence.get_decayed_containers(datetime(2025, 1, 1, 9, 0, tzinfo=UTC))

    assert decayed["decays_at"] == naive.replace(tzinfo=UTC)


def test_delete_container(persistence: PersistenceLayer) -> None:
    chest = persistence.create_container("environment", room_id="arkham_docks")

    assert persistence.delete_container(chest["container_id"]) is True
    assert persistence.delete_container(chest["container_id"]) is False
    assert persistence.get_container(chest["container_id"]) is None


def test_create_item_instance(persistence: PersistenceLayer, sync_session) -> None:
    persistence.create_item_instance(
        "inst-1",
        "elder_sign",
        owner_type="player",
        owner_id="p1",
        location_context="inventory",
        quantity=2,
        metadata={"charges": 3},
    )

    assert persistence.item_instance_exists("inst-1") is True
    stored = get_item_instance(sync_session, "inst-1")
    assert stored["prototype_id"] == "elder_sign"
    assert (stored["owner_type"], stored["owner_id"], stored["quantity"]) == ("player", "p1", 2)
    assert stored["metadata"] == {"charges": 3}


def test_create_item_instance_refuses_duplicates_and_bad_values(
    persistence: PersistenceLayer,
) -> None:
    persistence.create_item_instance("inst-1", "lantern")

    with pytest.raises(ItemInstanceError, match="already exists"):
        persistence.create_item_instance("inst-1", "lantern")
    with pytest.raises(ItemInstanceError, match="quantity"):
        persistence.create_item_instance("inst-2", "lantern", quantity=0)
    with pytest.raises(ItemInstanceError, match="owner type"):
        persistence.create_item_instance("inst-3", "lantern", owner_type="moon")
    assert persistence.item_instance_exists("inst-2") is False


def test_ensure_item_instance_is_idempotent(persistence: PersistenceLayer, sync_session) -> None:
    persistence.ensure_item_instance("inst-9", "revolver", quantity=1)
    persistence.ensure_item_instance("inst-9", "revolver", quantity=5)

    assert persistence.item_instance_exists("inst-9")
    assert get_item_instance(sync_session, "inst-9")["quantity"] == 1
    with pytest.raises(ItemInstanceError, match="exists with prototype"):
        persistence.ensure_item_instance("inst-9", "shotgun")


def test_item_instance_exists_for_unknown_id(persistence: PersistenceLayer) -> None:
    assert persistence.item_instance_exists("nope") is False
