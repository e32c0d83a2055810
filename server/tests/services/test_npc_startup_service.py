"""NPCStartupService: the start-up population, skipping what is already there."""

from __future__ import annotations

from unittest.mock import MagicMock, patch

import pytest
from sqlalchemy import select

from server.models import Player
from server.npc.definitions import get_definition, startup_definitions
from server.npc.spawning_service import NPCSpawningService, SpawnError
from server.services.npc_startup_service import NPCStartupService


def _npcs(session) -> list[Player]:
    session.expire_all()
    return list(session.scalars(select(Player).where(Player.is_npc.is_(True))))


def test_spawns_every_startup_npc(sync_session):
    report = NPCStartupService().spawn_initial_npcs()

    expected = {d.name for d in startup_definitions()}
    assert set(report.spawned) == expected
    assert report.already_present == [] and report.deferred == {}
    assert {npc.name for npc in _npcs(sync_session)} == expected
    assert "Shoggoth Remnant" not in expected


def test_second_startup_spawns_nothing(sync_session):
    service = NPCStartupService()
    service.spawn_initial_npcs()

    report = service.spawn_initial_npcs()

    assert report.spawned == []
    assert report.total == len(startup_definitions())
    assert len(_npcs(sync_session)) == len(startup_definitions())


def test_hands_each_definition_to_the_spawning_service():
    spawning = MagicMock(spec=NPCSpawningService)
    spawning.spawn_npc.side_effect = lambda key: Player(name=get_definition(key).name,
                                                        is_npc=True)
    definitions = [get_definition("farmer_bishop"), get_definition("shoggoth_remnant")]

    report = NPCStartupService(spawning_service=spawning).spawn_initial_npcs(definitions)

    assert [call.args for call in spawning.spawn_npc.call_args_list] == [
        ("farmer_bishop",), ("shoggoth_remnant",)
    ]
    assert report.spawned == ["Farmer Bishop", "Shoggoth Remnant"]


def test_aggressive_npcs_wait_while_players_stand_in_their_room(make_player, sync_session):
    make_player("Fisherman", room_id="innsmouth_harbor")
    make_player("Drowned Sailor", room_id="innsmouth_marsh", health=0)  # the dead do not count

    report = NPCStartupService().spawn_initial_npcs()

    assert report.deferred == {"Deep One Lurker": "players present"}
    assert "Esoteric Order Acolyte" in report.spawned
    assert "Deep One Lurker" not in {npc.name for npc in _npcs(sync_session)}


def test_refused_spawns_are_reported_not_raised(sync_session):
    with patch.object(NPCSpawningService, "spawn_npc",
                      side_effect=SpawnError("room is sealed")) as spawn:
        report = NPCStartupService().spawn_initial_npcs([get_definition("restless_student")])

    spawn.assert_called_once_with("restless_student")
    assert report.deferred == {"Restless Student": "room is sealed"}
    assert _npcs(sync_session) == []


def test_population_in_roster_order(make_player):
    service = NPCStartupService()
    service.spawn_initial_npcs()
    make_player("Dead Thing", room_id="arkham_docks", is_npc=True, health=0)
    make_player("Not An NPC", room_id="arkham_docks")

    everyone = service.population()
    docks = service.population("arkham_docks")

    rooms = [npc.current_room_id for npc in everyone]
    assert rooms == sorted(rooms)
    assert [npc.name for npc in docks] == ["Wandering Dockhand"]
    assert service.population("arkham_square") == []


@pytest.mark.parametrize("key", ["librarian_armitage", "wandering_dockhand"])
def test_population_counts_with_patched_spawner(key):
    npc = Player(name=get_definition(key).name, is_npc=True)
    with patch.object(NPCSpawningService, "spawn_npc", return_value=npc):
        report = NPCStartupService().spawn_initial_npcs([get_definition(key)])
    assert report.spawned == [npc.name]
