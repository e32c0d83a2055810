from __future__ import annotations

from collections.abc import Callable
from unittest.mock import MagicMock

import pytest

from server.commands.combat import (
    CommandError,
    describe_attack,
    find_target,
    handle_attack_command,
    parse_target,
)
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.services.combat_service import AttackResult, CombatError, CombatService

SpawnPlayer = Callable[..., Player]


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def spawn(persistence: PersistenceLayer) -> SpawnPlayer:
    def factory(name: str, room_id: str = "arkham_square", **stats: int) -> Player:
        player = Player(name=name, current_room_id=room_id, stats=stats)
        persistence.save_player(player)
        return player

    return factory


def test_parse_target_collapses_whitespace() -> None:
    assert parse_target("  deep   one ") == "deep one"
    with pytest.raises(CommandError, match="Attack whom"):
        parse_target("   ")


def test_find_target_prefers_exact_then_unique_prefix() -> None:
    me = Player(name="Me")
    wil = Player(name="Wilbur")
    wila = Player(name="Wilamena")
    lav = Player(name="Lavinia")
    assert find_target([me, wil, wila, lav], "wilbur", me.player_id) is wil
    assert find_target([me, wil, wila, lav], "lav", me.player_id) is lav
    assert find_target([me, wil, wila, lav], "wil", me.player_id) is None
    assert find_target([me], "me", me.player_id) is None


def test_attack_by_name_hits_the_target(spawn: SpawnPlayer, persistence: PersistenceLayer) -> None:
    attacker = spawn("Armitage")
    target = spawn("Wilbur")
    text = handle_attack_command(attacker.player_id, "wilbur")
    assert text.startswith("You hit Wilbur for 10 damage.")
    stored = persistence.get_player(target.player_id)
    assert stored is not None and stored.get_stats()["health"] == 90


def test_attack_kills_and_reports_experience(
    spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    attacker = spawn("Armitage")
    spawn("Shoggoth", health=3)
    text = handle_attack_command(attacker.player_id, "Shog")
    assert "falls and does not rise" in text
    assert "You gain 25 experience." in text
    stored = persistence.get_player(attacker.player_id)
    assert stored is not None and stored.get_stats()["experience"] == 25


def test_target_in_another_room(spawn: SpawnPlayer) -> None:
    attacker = spawn("Armitage")
    spawn("Lavinia", room_id="dunwich_hill")
    with pytest.raises(CommandError, match="Lavinia is not here"):
        handle_attack_command(attacker.player_id, "Lavinia")


def test_no_such_target(spawn: SpawnPlayer) -> None:
    attacker = spawn("Armitage")
    with pytest.raises(CommandError, match="You see no 'nyarlathotep' here"):
        handle_attack_command(attacker.player_id, "nyarlathotep")


def test_unknown_attacker() -> None:
    with pytest.raises(CommandError, match="not in the game"):
        handle_attack_command("0" * 32, "anyone")


def test_command_hands_the_attack_to_the_combat_service(spawn: SpawnPlayer) -> None:
    attacker = spawn("Armitage")
    target = spawn("Wilbur")
    service = MagicMock(spec=CombatService)
    service.attack.return_value = AttackResult(
        attacker_id=attacker.player_id,
        target_id=target.player_id,
        target_name="Wilbur",
        damage=7,
        target_health=93,
        killed=False,
    )
    text = handle_attack_command(attacker.player_id, "Wilbur", combat_service=service)
    service.attack.assert_called_once_with(attacker.player_id, target.player_id)
    assert text == "You hit Wilbur for 7 damage. Wilbur has 93 health left."


def test_combat_errors_become_command_errors(spawn: SpawnPlayer) -> None:
    attacker = spawn("Armitage")
    spawn("Wilbur")
    service = MagicMock(spec=CombatService)
    service.attack.side_effect = CombatError("Armitage is dead and cannot fight")
    with pytest.raises(CommandError, match="cannot fight"):
        handle_attack_command(attacker.player_id, "Wilbur", combat_service=service)


def test_describe_attack_kill_without_experience() -> None:
    result = AttackResult("a", "b", "Rat", damage=3, target_health=0, killed=True)
    assert describe_attack(result) == "You hit Rat for 3 damage. Rat falls and does not rise."
