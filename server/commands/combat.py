"""The ``attack <target>`` command."""

from __future__ import annotations

from server.models import Player
from server.persistence import get_persistence
from server.services.combat_service import AttackResult, CombatError, CombatService


class CommandError(ValueError):
    """The command cannot be carried out; the message is meant for the player."""


def parse_target(arguments: str) -> str:
    target = " ".join(arguments.split())
    if not target:
        raise CommandError("Attack whom?")
    return target


def find_target(candidates: list[Player], target_name: str, attacker_id: str) -> Player | None:
    """Exact name first, then a unique prefix, ignoring case; the attacker never matches."""
    wanted = target_name.casefold()
    others = [p for p in candidates if p.player_id != attacker_id]
    for candidate in others:
        if candidate.name.casefold() == wanted:
            return candidate
    prefixed = [p for p in others if p.name.casefold().startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    return None


def describe_attack(result: AttackResult) -> str:
    text = f"You hit {result.target_name} for {result.damage} damage."
    if result.killed:
        text += f" {result.target_name} falls and does not rise."
        if result.experience_awarded:
            text += f" You gain {result.experience_awarded} experience."
    else:
        text += f" {result.target_name} has {result.target_health} health left."
    return text


def handle_attack_command(
    player_id: str, arguments: str, combat_service: CombatService | None = None
) -> str:
    """Resolve ``attack <target>`` for ``player_id`` and return the text shown to the player."""
    target_name = parse_target(arguments)
    persistence = get_persistence()
    attacker = persistence.get_player(player_id)
    if attacker is None:
        raise CommandError("You are not in the game.")
    occupants = persistence.get_players_in_room(attacker.current_room_id)
    target = find_target(occupants, target_name, attacker.player_id)
    if target is None:
        elsewhere = persistence.get_player_by_name(target_name)
        if elsewhere is not None and elsewhere.player_id != attacker.player_id:
            raise CommandError(f"{elsewhere.name} is not here.")
        raise CommandError(f"You see no {target_name!r} here.")
    service = combat_service if combat_service is not None else CombatService()
    try:
        result = service.attack(attacker.player_id, target.player_id)
    except CombatError as exc:
        raise CommandError(str(exc)) from exc
    return describe_attack(result)
