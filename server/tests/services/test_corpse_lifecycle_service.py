"""CorpseLifecycleService: corpses appear where the dead fell and vanish once decayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.persistence import PersistenceLayer, get_persistence
from server.services.corpse_lifecycle_service import (
    DEFAULT_NPC_DECAY,
    DEFAULT_PLAYER_DECAY,
    CorpseError,
    CorpseLifecycleService,
)

NOW = datetime(2025, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def service() -> CorpseLifecycleService:
    return CorpseLifecycleService()


@pytest.fixture
def dead_ghoul(make_player, persistence):
    ghoul = make_player("Ghoul", room_id="dunwich_hill", is_npc=True, health=0)
    ghoul.inventory = [{"prototype_id": "bone_charm", "quantity": 1}]
    persistence.save_player(ghoul)
    return persistence.get_player(ghoul.player_id)


def test_npc_corpse_holds_its_inventory_and_decays_quickly(service, persistence, dead_ghoul):
    corpse = service.create_corpse(dead_ghoul, now=NOW)

    stored = persistence.get_container(corpse["container_id"])
    assert stored is not None
    assert stored["source_type"] == "corpse"
    assert stored["room_id"] == "dunwich_hill"
    assert stored["entity_id"] == dead_ghoul.player_id
    assert stored["owner_id"] is None
    assert stored["items"] == [{"prototype_id": "bone_charm", "quantity": 1}]
    assert stored["capacity_slots"] >= 1
    assert stored["metadata"] == {"name": "corpse of Ghoul", "is_npc": True}
    assert stored["decays_at"] == NOW + DEFAULT_NPC_DECAY


def test_player_corpse_is_owned_and_lasts_longer(service, persistence, make_player):
    body = make_player("Fallen Investigator", room_id="innsmouth_marsh")
    persistence.damage_player(body, 500)

    corpse = service.create_corpse(body, now=NOW)

    stored = persistence.get_container(corpse["container_id"])
    assert stored["owner_id"] == body.player_id
    assert stored["decays_at"] == NOW + DEFAULT_PLAYER_DECAY


def test_living_body_leaves_no_corpse(service, persistence, make_player):
    alive = make_player("Survivor", room_id="arkham_docks")

    with pytest.raises(CorpseError, match="still alive"):
        service.create_corpse(alive)
    assert persistence.get_containers_by_room_id("arkham_docks") == []


def test_corpses_in_room_ignores_other_containers(service, persistence, dead_ghoul):
    persistence.create_container("environment", room_id="dunwich_hill", metadata={"name": "altar"})
    corpse = service.create_corpse(dead_ghoul)

    assert [c["container_id"] for c in service.corpses_in_room("dunwich_hill")] == [
        corpse["container_id"]
    ]
    assert service.corpses_in_room("arkham_square") == []


def test_cleanup_deletes_only_decayed_corpses(service, persistence, dead_ghoul, make_player):
    old = service.create_corpse(dead_ghoul, now=NOW - timedelta(hours=1))
    hero = make_player("Hero", room_id="dunwich_hill", health=0)
    fresh = service.create_corpse(hero, now=NOW)
    # A decaying container that is not a corpse (say, a melting ice chest) is not ours to delete.
    ice_chest = persistence.create_container(
        "environment", room_id="dunwich_hill", decays_at=NOW - timedelta(minutes=1)
    )

    result = service.cleanup_decayed(NOW)

    assert result.deleted == [old["container_id"]]
    assert result.skipped == [ice_chest["container_id"]]
    assert result.count == 1
    assert persistence.get_container(old["container_id"]) is None
    assert persistence.get_container(fresh["container_id"]) is not None
    assert persistence.get_container(ice_chest["container_id"]) is not None


def test_cleanup_with_nothing_decayed(service, persistence, dead_ghoul):
    corpse = service.create_corpse(dead_ghoul, now=NOW)

    assert service.cleanup_decayed(NOW).deleted == []
    assert persistence.get_container(corpse["container_id"]) is not None


def test_owner_loots_their_corpse(service, persistence, make_player):
    body = make_player("Looted", room_id="arkham_docks", health=0)
    body.inventory = [
        {"prototype_id": "revolver", "quantity": 1},
        {"prototype_id": "lantern", "quantity": 1},
    ]
    persistence.save_player(body)
    corpse = service.create_corpse(persistence.get_player(body.player_id))

    with pytest.raises(CorpseError, match="only the owner"):
        service.take_item(corpse["container_id"], "revolver", looter_id="someone-else")
    taken = service.take_item(corpse["container_id"], "revolver", looter_id=body.player_id)

    assert taken == {"prototype_id": "revolver", "quantity": 1}
    stored = persistence.get_container(corpse["container_id"])
    assert stored["items"] == [{"prototype_id": "lantern", "quantity": 1}]
    with pytest.raises(CorpseError, match="holds no"):
        service.take_item(corpse["container_id"], "revolver", looter_id=body.player_id)


def test_take_item_needs_a_corpse(service, persistence):
    chest = persistence.create_container("environment", room_id="arkham_library")

    with pytest.raises(CorpseError, match="no corpse"):
        service.take_item(chest["container_id"], "candle", looter_id="anyone")
    with pytest.raises(CorpseError, match="no corpse"):
        service.take_item("missing", "candle", looter_id="anyone")


def test_decay_periods_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        CorpseLifecycleService(npc_decay=timedelta(0))
