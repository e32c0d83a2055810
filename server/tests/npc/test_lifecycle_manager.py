"""NPCLifecycleManager: spawns, the roster, and despawning the dead into corpses."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from sqlalchemy import select

from server.events import NPCSpawned
from server.models import Container, Player
from server.npc.definitions import get_definition
from server.npc.lifecycle_manager import NPCLifecycleError, NPCLifecycleManager, roster_key
from server.services.corpse_lifecycle_service import CorpseLifecycleService


@pytest.fixture
def manager(event_bus) -> NPCLifecycleManager:
    return NPCLifecycleManager(event_bus)


def _player(session, player_id: str) -> Player | None:
    return session.get(Player, player_id, populate_existing=True)


def test_register_spawn_inserts_and_announces(manager, event_bus, sync_session):
    seen: list[NPCSpawned] = []
    event_bus.subscribe(NPCSpawned, seen.append)

    npc = manager.register_spawn(get_definition("restless_student"))

    stored = _player(sync_session, npc.player_id)
    assert stored.name == "Restless Student" and stored.is_npc
    assert stored.current_room_id == "miskatonic_quad"
    assert stored.get_stats()["intelligence"] == 14
    assert seen == [NPCSpawned(npc.player_id, "miskatonic_quad")]


def test_register_spawn_of_a_living_npc_is_a_no_op(manager, event_bus):
    first = manager.register_spawn(get_definition("farmer_bishop"))
    seen: list[NPCSpawned] = []
    event_bus.subscribe(NPCSpawned, seen.append)

    assert manager.register_spawn(get_definition("farmer_bishop")).player_id == first.player_id
    assert seen == []


def test_register_spawn_refuses_a_players_name(manager, make_player):
    make_player("Farmer Bishop", room_id="dunwich_crossroads")

    with pytest.raises(NPCLifecycleError, match="already uses the name"):
        manager.register_spawn(get_definition("farmer_bishop"))


def test_roster_is_sorted_without_touching_the_database():
    npcs = [
        Player(name="B", current_room_id="arkham_docks", stats={"level": 1}),
        Player(name="A", current_room_id="arkham_docks", stats={"level": 1}),
        Player(name="C", current_room_id="arkham_docks", stats={"level": 5}),
        Player(name="D", current_room_id="arkham_alley", stats={"level": 1}),
    ]
    assert [n.name for n in sorted(npcs, key=roster_key)] == ["D", "C", "A", "B"]


def test_list_active_npcs(manager, make_player):
    make_player("Zombie", room_id="dunwich_hill", is_npc=True, level=2)
    make_player("Ghast", room_id="dunwich_hill", is_npc=True, level=4)
    make_player("Byakhee", room_id="arkham_docks", is_npc=True)
    make_player("Dead One", room_id="arkham_docks", is_npc=True, health=0)
    make_player("Human", room_id="arkham_docks")

    assert [n.name for n in manager.list_active_npcs()] == ["Byakhee", "Ghast", "Zombie"]
    assert [n.name for n in manager.list_dead_npcs()] == ["Dead One"]


def test_despawn_dead_npc_leaves_a_corpse(manager, make_player, sync_session):
    ghoul = make_player("Ghoul", room_id="dunwich_hill", is_npc=True, health=0)

    despawned = manager.despawn_dead_npc(ghoul.player_id)

    assert despawned.name == "Ghoul"
    assert _player(sync_session, ghoul.player_id) is None
    corpse = sync_session.get(Container, despawned.corpse["container_id"])
    assert corpse.source_type == "corpse"
    assert corpse.room_id == "dunwich_hill"
    assert corpse.entity_id == ghoul.player_id


def test_despawn_refuses_the_living_and_players(manager, make_player, sync_session):
    living = make_player("Living NPC", room_id="dunwich_hill", is_npc=True)
    human = make_player("Dead Human", room_id="dunwich_hill", health=0)

    with pytest.raises(NPCLifecycleError, match="still alive"):
        manager.despawn_dead_npc(living.player_id)
    with pytest.raises(NPCLifecycleError, match="no NPC"):
        manager.despawn_dead_npc(human.player_id)
    with pytest.raises(NPCLifecycleError, match="no NPC"):
        manager.despawn_dead_npc("missing")
    assert _player(sync_session, human.player_id) is not None


def test_reap_dead_uses_the_corpse_service(manager, make_player, sync_session):
    make_player("Fallen A", room_id="arkham_docks", is_npc=True, health=0)
    make_player("Fallen B", room_id="arkham_docks", is_npc=True, health=0)
    make_player("Standing", room_id="arkham_docks", is_npc=True)
    fake_corpse = {"container_id": "corpse-1"}

    with patch.object(CorpseLifecycleService, "create_corpse",
                      return_value=fake_corpse) as create_corpse:
        reaped = manager.reap_dead()

    assert [d.name for d in reaped] == ["Fallen A", "Fallen B"]
    assert all(d.corpse == fake_corpse for d in reaped)
    assert create_corpse.call_count == 2
    sync_session.expire_all()
    remaining = sync_session.scalars(select(Player.name).where(Player.is_npc.is_(True))).all()
    assert remaining == ["Standing"]


def test_respawn_by_name(manager, sync_session):
    npc = manager.respawn("Librarian Armitage")

    assert _player(sync_session, npc.player_id).current_room_id == "arkham_library"
    with pytest.raises(NPCLifecycleError, match="no NPC definition"):
        manager.respawn("Nyarlathotep")
