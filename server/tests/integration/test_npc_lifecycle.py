"""An NPC's life across modules: CLI spawn -> combat -> death -> corpse -> cleanup -> respawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.cli import main
from server.events import ExperienceGained, NPCSpawned, PlayerDied
from server.npc.combat_integration import NPCCombatIntegration
from server.npc.communication_integration import NPCCommunicationIntegration
from server.persistence import PersistenceLayer, get_persistence
from server.services.corpse_lifecycle_service import DEFAULT_NPC_DECAY, CorpseLifecycleService
from server.services.npc_startup_service import NPCStartupService
from server.services.player_death_service import PlayerDeathService


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


def _npc_names(persistence: PersistenceLayer) -> set[str]:
    return {p.name for p in persistence.list_players() if p.is_npc}


def test_cli_spawn_is_idempotent(persistence, capsys):
    assert main(["spawn-npcs"]) == 0
    assert _npc_names(persistence) == {
        "Deep One Lurker",
        "Esoteric Order Acolyte",
        "Librarian Armitage",
        "Farmer Bishop",
        "Wandering Dockhand",
        "Restless Student",
    }
    assert "6 spawned, 0 already present, 0 deferred" in capsys.readouterr().out

    assert main(["spawn-npcs"]) == 0
    assert "0 spawned, 6 already present" in capsys.readouterr().out
    assert len([p for p in persistence.list_players() if p.is_npc]) == 6


def test_aggressive_spawn_waits_until_players_leave(persistence, make_player, capsys):
    sailor = make_player("Sailor", room_id="innsmouth_harbor")

    main(["spawn-npcs", "--only", "deep_one_lurker"])
    assert persistence.get_player_by_name("Deep One Lurker") is None
    assert "deferred Deep One Lurker: players present" in capsys.readouterr().out

    sailor.current_room_id = "innsmouth_road"
    persistence.save_player(sailor)
    main(["spawn-npcs", "--only", "deep_one_lurker"])
    assert persistence.get_player_by_name("Deep One Lurker").current_room_id == "innsmouth_harbor"


def test_npc_dies_leaves_a_corpse_that_decays_and_it_respawns(persistence, make_player, event_bus):
    gained: list[ExperienceGained] = []
    died: list[PlayerDied] = []
    event_bus.subscribe(ExperienceGained, gained.append)
    event_bus.subscribe(PlayerDied, died.append)
    assert main(["spawn-npcs", "--only", "deep_one_lurker"]) == 0
    lurker = persistence.get_player_by_name("Deep One Lurker")
    hero = make_player("Hero", room_id="innsmouth_harbor", strength=30)
    combat = NPCCombatIntegration()

    # The lurker strikes first: 14 // 2 + 3 - 10 // 5 = 8 damage.
    report = combat.run_aggression(lurker.player_id, roll=3)
    assert [a.damage for a in report.attacks] == [8]
    assert persistence.get_player(hero.player_id).get_stats()["health"] == 92

    # The hero hits back until the lurker falls: 30 // 2 + 6 - 12 // 5 = 19 per blow.
    outcome, despawned = combat.player_attacks_npc(hero.player_id, lurker.player_id, roll=6)
    while not outcome.killed:
        assert despawned is None
        outcome, despawned = combat.player_attacks_npc(hero.player_id, lurker.player_id, roll=6)
    assert outcome.experience_awarded == 60
    assert died == [PlayerDied(lurker.player_id, "innsmouth_harbor")]
    assert gained[-1].player_id == hero.player_id
    assert persistence.get_player(hero.player_id).get_stats()["experience"] == 60

    # The body is gone; a corpse with the lurker's loot lies in the harbor.
    assert persistence.get_player(lurker.player_id) is None
    assert despawned is not None
    corpses = [
        c for c in persistence.get_containers_by_room_id("innsmouth_harbor")
        if c["source_type"] == "corpse"
    ]
    assert [c["container_id"] for c in corpses] == [despawned.corpse["container_id"]]
    assert {i["prototype_id"] for i in corpses[0]["items"]} == {"tarnished_tiara", "fish_scale"}
    decays_at = corpses[0]["decays_at"]

    # Cleanup before the decay time keeps the corpse, after it removes it.
    assert main(["cleanup-corpses", "--at", (decays_at - timedelta(seconds=1)).isoformat()]) == 0
    assert persistence.get_container(corpses[0]["container_id"]) is not None
    assert main(["cleanup-corpses", "--at", (decays_at + timedelta(seconds=1)).isoformat()]) == 0
    assert persistence.get_container(corpses[0]["container_id"]) is None

    # The hero has left; the next start-up brings a fresh lurker back.
    hero = persistence.get_player(hero.player_id)
    hero.current_room_id = "innsmouth_road"
    persistence.save_player(hero)
    assert main(["spawn-npcs", "--only", "deep_one_lurker"]) == 0
    reborn = persistence.get_player_by_name("Deep One Lurker")
    assert reborn is not None and reborn.player_id != lurker.player_id
    assert reborn.get_stats()["health"] == 60


def test_npc_kills_a_player_and_the_player_corpse_waits_for_its_owner(persistence, make_player):
    NPCStartupService().spawn_initial_npcs()
    acolyte = persistence.get_player_by_name("Esoteric Order Acolyte")
    victim = make_player("Doomed", room_id="innsmouth_marsh", health=3)

    outcome = NPCCombatIntegration().npc_attacks_player(
        acolyte.player_id, victim.player_id, roll=1
    )

    assert outcome.killed
    victim = persistence.get_player(victim.player_id)
    assert not victim.is_alive
    assert persistence.get_player(acolyte.player_id).get_stats()["experience"] == 10
    corpses = CorpseLifecycleService()
    now = datetime.now(UTC)
    corpse = corpses.create_corpse(victim, now=now)
    assert persistence.get_container(corpse["container_id"])["owner_id"] == victim.player_id
    # Long after an NPC corpse would be gone, the player's is still there.
    assert corpses.cleanup_decayed(now + DEFAULT_NPC_DECAY + timedelta(minutes=1)).deleted == []
    assert persistence.get_container(corpse["container_id"]) is not None


def test_spawn_greets_players_in_the_room(persistence, make_player, event_bus):
    reader = make_player("Reader", room_id="arkham_library")
    chatter = NPCCommunicationIntegration(event_bus)
    spawned: list[NPCSpawned] = []
    event_bus.subscribe(NPCSpawned, spawned.append)

    assert main(["spawn-npcs", "--only", "librarian_armitage"]) == 0

    librarian = persistence.get_player_by_name("Librarian Armitage")
    assert spawned == [NPCSpawned(librarian.player_id, "arkham_library")]
    [greeting] = chatter.drain()
    assert greeting.speaker_id == librarian.player_id
    assert greeting.recipients == (reader.player_id,)
    assert "Quietly" in greeting.text


def test_with_the_death_service_listening(persistence, make_player, event_bus):
    """Players killed by NPCs respawn at the square; NPCs killed by players become corpses."""
    PlayerDeathService(event_bus)
    NPCStartupService(event_bus).spawn_initial_npcs()
    acolyte = persistence.get_player_by_name("Esoteric Order Acolyte")
    combat = NPCCombatIntegration(event_bus)
    victim = make_player("Unlucky", room_id="innsmouth_marsh", health=1)

    assert combat.npc_attacks_player(acolyte.player_id, victim.player_id, roll=1).killed
    victim = persistence.get_player(victim.player_id)
    assert victim.current_room_id == "arkham_square"
    assert victim.is_alive

    avenger = make_player("Avenger", room_id="innsmouth_marsh", strength=200)
    outcome, despawned = combat.player_attacks_npc(avenger.player_id, acolyte.player_id, roll=1)
    assert outcome.killed and despawned is not None
    assert persistence.get_player(acolyte.player_id) is None
    assert persistence.get_container(despawned.corpse["container_id"])["room_id"] == (
        "innsmouth_marsh"
    )
