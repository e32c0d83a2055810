"""EnvironmentalContainerLoader: room fixtures become containers once, with their items."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import Container, ItemInstance, Room
from server.persistence.repositories import get_container_repository, get_item_repository
from server.services.environmental_container_loader import (
    ROOM_FIXTURES,
    ContainerFixture,
    EnvironmentalContainerLoader,
    item_instance_id,
)
from server.world import get_room_cache


def _containers(session, room_id: str) -> list[Container]:
    session.expire_all()
    return list(session.scalars(select(Container).where(Container.room_id == room_id)))


@pytest.fixture
def loader() -> EnvironmentalContainerLoader:
    return EnvironmentalContainerLoader()


def test_load_room_creates_its_fixtures_with_items(loader, sync_session):
    created = loader.load_room("arkham_library")

    assert sorted(c["metadata"]["fixture_key"] for c in created) == [
        "reference_shelf",
        "restricted_case",
    ]
    rows = {c.metadata_json["fixture_key"]: c for c in _containers(sync_session, "arkham_library")}
    assert rows["restricted_case"].lock_state == "locked"
    assert rows["reference_shelf"].source_type == "environment"
    assert rows["reference_shelf"].capacity_slots == 6
    candle_id = item_instance_id("arkham_library", "reference_shelf", "candle")
    assert {"item_instance_id": candle_id, "prototype_id": "candle", "quantity": 3} in (
        rows["reference_shelf"].items
    )
    candle = sync_session.get(ItemInstance, candle_id)
    assert candle is not None
    assert (candle.owner_type, candle.owner_id, candle.quantity) == ("room", "arkham_library", 3)


def test_loading_twice_creates_nothing_new(loader, sync_session):
    loader.load_room("arkham_general_store")

    assert loader.load_room("arkham_general_store") == []
    assert len(_containers(sync_session, "arkham_general_store")) == 1
    sync_session.expire_all()
    assert len(sync_session.scalars(select(ItemInstance)).all()) == 3


def test_room_without_fixtures(loader, sync_session):
    assert loader.load_room("dunwich_hill") == []
    assert _containers(sync_session, "dunwich_hill") == []


def test_unknown_room(loader):
    with pytest.raises(ValueError, match="unknown room"):
        loader.load_room("rlyeh")


def test_room_attributes_declare_extra_fixtures(loader, sync_session):
    room = sync_session.get(Room, "dunwich_hill")
    room.attributes = {
        **room.attributes,
        "containers": [
            {"key": "standing_stone", "name": "hollow standing stone", "capacity_slots": 2,
             "items": [{"prototype_id": "elder_sign", "quantity": 1}]},
        ],
    }
    sync_session.commit()
    get_room_cache().invalidate()

    [created] = loader.load_room("dunwich_hill")

    assert created["metadata"] == {"fixture_key": "standing_stone",
                                   "name": "hollow standing stone"}
    assert created["items"][0]["prototype_id"] == "elder_sign"
    assert loader.load_all()["dunwich_hill"] == 0


def test_load_all_covers_every_room_with_fixtures(loader, sync_session):
    counts = loader.load_all()

    assert counts == {room_id: len(fixtures) for room_id, fixtures in ROOM_FIXTURES.items()}
    sync_session.expire_all()
    assert len(sync_session.scalars(select(Container)).all()) == sum(counts.values())
    assert set(loader.load_all().values()) == {0}


def test_custom_fixture_table(sync_session):
    loader = EnvironmentalContainerLoader(
        fixtures={"innsmouth_road": (ContainerFixture("milestone", "milestone niche", 1),)}
    )

    [created] = loader.load_room("innsmouth_road")

    assert created["items"] == []
    assert loader.load_room("arkham_library") == []


def test_missing_items_reports_vanished_instances(loader, sync_session):
    [shelf, _case] = sorted(loader.load_room("arkham_library"),
                            key=lambda c: c["metadata"]["fixture_key"])
    almanac_id = item_instance_id("arkham_library", "reference_shelf", "occult_almanac")
    assert loader.missing_items(shelf["container_id"]) == []

    sync_session.delete(sync_session.get(ItemInstance, almanac_id))
    sync_session.commit()

    assert loader.missing_items(shelf["container_id"]) == [almanac_id]
    with pytest.raises(ValueError, match="unknown container"):
        loader.missing_items("nope")


def test_long_ids_stay_within_the_column():
    long_id = item_instance_id("a_room_with_a_very_long_identifier", "a_long_fixture_key",
                               "an_item_prototype_with_a_long_name")

    assert len(long_id) <= 64
    assert long_id == item_instance_id("a_room_with_a_very_long_identifier",
                                       "a_long_fixture_key", "an_item_prototype_with_a_long_name")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity_slots": 0}, "at least one slot"),
        ({"capacity_slots": 1, "items": (("a", 1), ("b", 1))}, "more items"),
        ({"capacity_slots": 1, "lock_state": "welded"}, "unknown lock state"),
        ({"capacity_slots": 1, "items": (("a", 0),)}, "non-positive"),
    ],
)
def test_fixture_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ContainerFixture("bad", "bad fixture", **kwargs)


async def test_loaded_containers_are_visible_through_the_repositories(loader):
    loader.load_room("arkham_docks")

    containers = await get_container_repository().get_containers_by_room_id("arkham_docks")
    assert [c["metadata"]["fixture_key"] for c in containers] == ["cargo_crate"]
    rope_id = containers[0]["items"][0]["item_instance_id"]
    assert await get_item_repository().item_instance_exists(rope_id)
