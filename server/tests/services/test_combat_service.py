from __future__ import annotations

from collections.abc import Callable
from unittest.mock import patch

import pytest

from server.events import EventBus, PlayerDied
from server.game.mechanics import GameMechanicsService
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.services.combat_service import (
    BASE_DAMAGE,
    LUCIDITY_COST_PER_ATTACK,
    LUCIDITY_COST_PLAYER_KILL,
    XP_PER_KILL_LEVEL,
    CombatError,
    CombatService,
    compute_damage,
)

SpawnPlayer = Callable[..., Player]


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def spawn(persistence: PersistenceLayer) -> SpawnPlayer:
    def factory(
        name: str, room_id: str = "arkham_square", is_npc: bool = False, **stats: int
    ) -> Player:
        player = Player(name=name, current_room_id=room_id, is_npc=is_npc, stats=stats)
        persistence.save_player(player)
        return player

    return factory


@pytest.fixture
def combat(event_bus: EventBus) -> CombatService:
    return CombatService(event_bus)


def stats_of(persistence: PersistenceLayer, player_id: str) -> dict[str, int]:
    player = persistence.get_player(player_id)
    assert player is not None
    return player.get_stats()


def test_compute_damage_uses_strength_and_constitution() -> None:
    brute = Player(name="Brute", stats={"strength": 16})
    tank = Player(name="Tank", stats={"constitution": 14})
    weakling = Player(name="Weakling", stats={"strength": 3})
    assert compute_damage(brute, tank) == BASE_DAMAGE + 3 - 2
    assert compute_damage(weakling, Player(name="Wall", stats={"constitution": 40})) == 1


def test_attack_damages_the_target(
    combat: CombatService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    attacker = spawn("Armitage", strength=14)
    target = spawn("Wilbur")
    result = combat.attack(attacker.player_id, target.player_id)
    assert result.damage == BASE_DAMAGE + 2
    assert result.target_health == 100 - result.damage
    assert not result.killed
    assert stats_of(persistence, target.player_id)["health"] == result.target_health
    assert stats_of(persistence, attacker.player_id)["lucidity"] == 100 - LUCIDITY_COST_PER_ATTACK


def test_killing_blow_awards_experience(
    combat: CombatService, spawn: SpawnPlayer, persistence: PersistenceLayer, event_bus: EventBus
) -> None:
    deaths: list[PlayerDied] = []
    event_bus.subscribe(PlayerDied, deaths.append)
    attacker = spawn("Rice")
    target = spawn("Horror", is_npc=True, health=4, level=3)
    result = combat.attack(attacker.player_id, target.player_id)
    assert result.killed
    assert result.experience_awarded == XP_PER_KILL_LEVEL * 3
    attacker_stats = stats_of(persistence, attacker.player_id)
    assert attacker_stats["experience"] == XP_PER_KILL_LEVEL * 3
    assert attacker_stats["lucidity"] == 100 - LUCIDITY_COST_PER_ATTACK
    assert [death.player_id for death in deaths] == [target.player_id]


def test_killing_a_person_costs_lucidity(
    combat: CombatService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    attacker = spawn("Morgan")
    target = spawn("Victim", health=1)
    combat.attack(attacker.player_id, target.player_id)
    expected = 100 - LUCIDITY_COST_PER_ATTACK - LUCIDITY_COST_PLAYER_KILL
    assert stats_of(persistence, attacker.player_id)["lucidity"] == expected


def test_attack_goes_through_the_game_mechanics(combat: CombatService, spawn: SpawnPlayer) -> None:
    attacker = spawn("Armitage")
    target = spawn("Wilbur")
    wounded = Player(name="Wilbur", stats={"health": 42})
    with patch.object(GameMechanicsService, "apply_damage", return_value=wounded) as apply_damage:
        result = combat.attack(attacker.player_id, target.player_id)
    apply_damage.assert_called_once_with(target.player_id, BASE_DAMAGE, "physical")
    assert result.target_health == 42


@pytest.mark.parametrize(
    ("target_room", "target_health", "message"),
    [("arkham_library", 100, "is not here"), ("arkham_square", 0, "already dead")],
)
def test_invalid_targets_are_refused(
    combat: CombatService,
    spawn: SpawnPlayer,
    persistence: PersistenceLayer,
    target_room: str,
    target_health: int,
    message: str,
) -> None:
    attacker = spawn("Armitage")
    target = spawn("Elsewhere", room_id=target_room, health=target_health)
    with pytest.raises(CombatError, match=message):
        combat.attack(attacker.player_id, target.player_id)
    assert stats_of(persistence, target.player_id)["health"] == target_health


def test_self_attack_and_missing_combatants(combat: CombatService, spawn: SpawnPlayer) -> None:
    attacker = spawn("Armitage")
    with pytest.raises(CombatError, match="yourself"):
        combat.attack(attacker.player_id, attacker.player_id)
    with pytest.raises(CombatError, match="target not found"):
        combat.attack(attacker.player_id, "0" * 32)
    with pytest.raises(CombatError, match="player not found"):
        combat.attack("0" * 32, attacker.player_id)


def test_the_dead_do_not_fight(combat: CombatService, spawn: SpawnPlayer) -> None:
    corpse = spawn("Corpse", health=0)
    target = spawn("Target")
    with pytest.raises(CombatError, match="cannot fight"):
        combat.attack(corpse.player_id, target.player_id)


def test_combat_round_saves_changes_on_exit(
    combat: CombatService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    fighter = spawn("Fighter")
    with combat.combat_round(fighter.player_id) as loaded:
        loaded.inventory = ["revolver"]
    stored = persistence.get_player(fighter.player_id)
    assert stored is not None and stored.inventory == ["revolver"]


def test_combat_round_does_not_save_after_an_error(
    combat: CombatService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    fighter = spawn("Fighter")
    with pytest.raises(RuntimeError), combat.combat_round(fighter.player_id) as loaded:
        loaded.inventory = ["lost"]
        raise RuntimeError("interrupted")
    stored = persistence.get_player(fighter.player_id)
    assert stored is not None and stored.inventory == []


def test_regain_composure(
    combat: CombatService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    fighter = spawn("Fighter", lucidity=40)
    assert combat.regain_composure(fighter.player_id, 15) == 55
    assert combat.regain_composure(fighter.player_id, 500) == 100
    assert stats_of(persistence, fighter.player_id)["lucidity"] == 100
    with pytest.raises(CombatError):
        combat.regain_composure(fighter.player_id, 0)
