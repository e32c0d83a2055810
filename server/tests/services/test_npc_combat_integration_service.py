"""NPCCombatIntegrationService: damage, deaths and kill rewards between NPCs and players."""

from __future__ import annotations

import random

import pytest

from server.events import ExperienceGained, PlayerDamaged, PlayerDied
from server.models import Player
from server.persistence.repositories import get_player_repository
from server.services.npc_combat_integration_service import (
    MAX_ROLL,
    CombatError,
    NPCCombatIntegrationService,
    compute_damage,
    kill_reward,
)


def _reload(session, player: Player) -> Player:
    return session.get(Player, player.player_id, populate_existing=True)


@pytest.fixture
def service() -> NPCCombatIntegrationService:
    return NPCCombatIntegrationService(rng=random.Random(1234))


def test_compute_damage_uses_strength_roll_and_constitution():
    brute = Player(name="Brute", stats={"strength": 16})
    tank = Player(name="Tank", stats={"constitution": 20})
    weakling = Player(name="Weakling", stats={"strength": 2})

    assert compute_damage(brute, tank, roll=4) == 16 // 2 + 4 - 20 // 5
    assert compute_damage(weakling, tank, roll=1) == 1  # never less than one


def test_kill_reward_for_npcs_and_players():
    assert kill_reward(Player(name="Deep One Lurker", is_npc=True)) == 60
    assert kill_reward(Player(name="Unlisted Horror", is_npc=True)) == 10
    assert kill_reward(Player(name="Veteran", stats={"level": 4})) == 40


def test_rolls_stay_on_the_die(service):
    rolls = {service.roll() for _ in range(200)}
    assert rolls <= set(range(1, MAX_ROLL + 1))
    assert len(rolls) > 1


def test_attack_damages_the_defender(service, make_player, sync_session, event_bus):
    damaged: list[PlayerDamaged] = []
    event_bus.subscribe(PlayerDamaged, damaged.append)
    npc = make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True, strength=14)
    sailor = make_player("Sailor", room_id="innsmouth_harbor")

    outcome = service.apply_attack(npc.player_id, sailor.player_id, roll=2)

    assert outcome.damage == 14 // 2 + 2 - 10 // 5
    assert outcome.defender_health == 100 - outcome.damage
    assert not outcome.killed and outcome.experience_awarded == 0
    assert _reload(sync_session, sailor).get_stats()["health"] == 100 - outcome.damage
    assert damaged == [PlayerDamaged(sailor.player_id, outcome.damage, "physical",
                                     100 - outcome.damage)]


def test_killing_blow_rewards_the_killer(service, make_player, sync_session, event_bus):
    died: list[PlayerDied] = []
    gained: list[ExperienceGained] = []
    event_bus.subscribe(PlayerDied, died.append)
    event_bus.subscribe(ExperienceGained, gained.append)
    hunter = make_player("Hunter", room_id="innsmouth_marsh")
    acolyte = make_player("Esoteric Order Acolyte", room_id="innsmouth_marsh", is_npc=True,
                          health=2, max_health=45)

    outcome = service.apply_attack(hunter.player_id, acolyte.player_id, damage_type="fire", roll=3)

    assert outcome.killed
    assert outcome.defender_health == 0
    assert outcome.experience_awarded == 35
    assert _reload(sync_session, hunter).get_stats()["experience"] == 35
    assert died == [PlayerDied(acolyte.player_id, "innsmouth_marsh")]
    assert gained == [ExperienceGained(hunter.player_id, 35, "kill:Esoteric Order Acolyte", 35)]


@pytest.mark.parametrize("case", ["unknown", "dead_attacker", "dead_defender", "apart"])
def test_impossible_attacks(service, make_player, sync_session, case):
    attacker = make_player("Attacker", room_id="arkham_docks", health=0 if case ==
                           "dead_attacker" else 100)
    defender = make_player("Defender", room_id="arkham_square" if case == "apart" else
                           "arkham_docks", health=0 if case == "dead_defender" else 100)
    defender_id = "nobody" if case == "unknown" else defender.player_id

    with pytest.raises(CombatError):
        service.apply_attack(attacker.player_id, defender_id, roll=3)
    assert _reload(sync_session, defender).get_stats()["health"] == (
        0 if case == "dead_defender" else 100
    )


async def test_attack_result_is_what_the_async_side_reads(service, make_player):
    npc = make_player("Farmer Bishop", room_id="dunwich_crossroads", is_npc=True, strength=12)
    tourist = make_player("Tourist", room_id="dunwich_crossroads", constitution=5)

    outcome = service.apply_attack(npc.player_id, tourist.player_id, roll=MAX_ROLL)

    stored = await get_player_repository().get_player_by_id(tourist.player_id)
    assert stored.get_stats()["health"] == 100 - (12 // 2 + MAX_ROLL - 5 // 5)
    assert outcome.defender_health == stored.get_stats()["health"]
