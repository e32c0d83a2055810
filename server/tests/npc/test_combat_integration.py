"""NPCCombatIntegration: NPC attacks, players fighting back, and aggression rounds."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from sqlalchemy import select

from server.models import Container, Player
from server.npc.combat_integration import NPCCombatIntegration
from server.services.npc_combat_integration_service import (
    AttackOutcome,
    CombatError,
    NPCCombatIntegrationService,
)


@pytest.fixture
def combat(event_bus) -> NPCCombatIntegration:
    return NPCCombatIntegration(event_bus)


def _health(session, player: Player) -> int:
    return session.get(Player, player.player_id, populate_existing=True).get_stats()["health"]


def test_npc_attacks_player(combat, make_player, sync_session):
    lurker = make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True, strength=14)
    sailor = make_player("Sailor", room_id="innsmouth_harbor")

    outcome = combat.npc_attacks_player(lurker.player_id, sailor.player_id, roll=4)

    assert outcome.damage == 9
    assert _health(sync_session, sailor) == 91


def test_npc_attacks_need_an_npc_and_a_player(combat, make_player):
    lurker = make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True)
    other_npc = make_player("Order Acolyte", room_id="innsmouth_harbor", is_npc=True)
    sailor = make_player("Sailor", room_id="innsmouth_harbor")

    with pytest.raises(CombatError, match="no NPC"):
        combat.npc_attacks_player(sailor.player_id, lurker.player_id)
    with pytest.raises(CombatError, match="no player"):
        combat.npc_attacks_player(lurker.player_id, other_npc.player_id)


def test_player_kills_npc_and_it_becomes_a_corpse(combat, make_player, sync_session):
    student = make_player("Restless Student", room_id="miskatonic_quad", is_npc=True, health=3)
    bully = make_player("Bully", room_id="miskatonic_quad", strength=20)

    outcome, despawned = combat.player_attacks_npc(bully.player_id, student.player_id, roll=2)

    assert outcome.killed and outcome.experience_awarded == 10
    assert despawned is not None and despawned.npc_id == student.player_id
    assert sync_session.get(Player, student.player_id, populate_existing=True) is None
    corpses = sync_session.scalars(
        select(Container).where(Container.source_type == "corpse")
    ).all()
    assert [c.room_id for c in corpses] == ["miskatonic_quad"]


def test_player_wounds_npc_without_despawning(combat, make_player, sync_session):
    farmer = make_player("Farmer Bishop", room_id="dunwich_crossroads", is_npc=True)
    visitor = make_player("Visitor", room_id="dunwich_crossroads")

    outcome, despawned = combat.player_attacks_npc(visitor.player_id, farmer.player_id, roll=1)

    assert not outcome.killed and despawned is None
    assert _health(sync_session, farmer) == 100 - outcome.damage
    with pytest.raises(CombatError, match="no NPC"):
        combat.player_attacks_npc(farmer.player_id, visitor.player_id)


def test_aggression_hits_every_living_player_in_the_room(combat, make_player, sync_session):
    acolyte = make_player("Esoteric Order Acolyte", room_id="innsmouth_marsh", is_npc=True)
    first = make_player("First", room_id="innsmouth_marsh")
    second = make_player("Second", room_id="innsmouth_marsh", health=2)
    make_player("Gone", room_id="innsmouth_marsh", health=0)
    make_player("Away", room_id="innsmouth_harbor")

    report = combat.run_aggression(acolyte.player_id, roll=3)

    assert sorted(a.defender_id for a in report.attacks) == sorted(
        [first.player_id, second.player_id]
    )
    assert report.kills == [second.player_id]
    assert _health(sync_session, first) == 100 - 6


def test_aggression_of_a_missing_or_dead_npc_does_nothing(combat, make_player):
    dead = make_player("Dead NPC", room_id="innsmouth_marsh", is_npc=True, health=0)
    make_player("Bystander", room_id="innsmouth_marsh")

    assert combat.run_aggression(dead.player_id).attacks == []
    assert combat.run_aggression("missing").attacks == []


def test_attacks_go_through_the_combat_service(make_player):
    lurker = make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True)
    sailor = make_player("Sailor", room_id="innsmouth_harbor")
    service = MagicMock(spec=NPCCombatIntegrationService)
    service.apply_attack.return_value = AttackOutcome(
        lurker.player_id, sailor.player_id, damage=7, defender_health=93, killed=False,
        experience_awarded=0,
    )

    outcome = NPCCombatIntegration(combat_service=service).npc_attacks_player(
        lurker.player_id, sailor.player_id, roll=5
    )

    service.apply_attack.assert_called_once_with(lurker.player_id, sailor.player_id, roll=5)
    assert outcome.damage == 7
