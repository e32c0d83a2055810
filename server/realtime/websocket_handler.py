"""Commands arriving over a player's websocket: look, go, say, attack."""

from __future__ import annotations

from typing import Any

from server.commands.combat import CommandError, handle_attack_command
from server.events import EventBus
from server.game.movement_service import MovementError, MovementService
from server.persistence import get_persistence
from server.realtime.integration.game_state_provider import occupant_view, room_view
from server.services.combat_service import CombatService

MAX_SAY_LENGTH = 500
DIRECTION_COMMANDS = frozenset(
    {"north", "south", "east", "west", "up", "down", "n", "s", "e", "w", "u", "d"}
)

Response = dict[str, Any]


def error(message: str) -> Response:
    return {"type": "error", "message": message}


def parse_command(message: str | dict[str, Any]) -> tuple[str, str]:
    """Split ``"go north"`` or ``{"command": "go", "args": "north"}`` into (verb, arguments)."""
    if isinstance(message, dict):
        verb = str(message.get("command", ""))
        arguments = message.get("args", "")
        if isinstance(arguments, list):
            arguments = " ".join(str(part) for part in arguments)
        text = f"{verb} {arguments}"
    else:
        text = message
    verb, _, rest = text.strip().partition(" ")
    return verb.lower(), rest.strip()


class WebSocketHandler:
    """Turns one player's commands into game actions and answers with JSON-able dicts."""

    def __init__(
        self,
        event_bus: EventBus | None = None,
        movement: MovementService | None = None,
        combat_service: CombatService | None = None,
    ) -> None:
        self.persistence = get_persistence(event_bus)
        self.movement = movement if movement is not None else MovementService(event_bus)
        self.combat_service = combat_service

    async def handle_message(self, player_id: str, message: str | dict[str, Any]) -> Response:
        verb, arguments = parse_command(message)
        if not verb:
            return error("Say something.")
        if verb in DIRECTION_COMMANDS:
            return await self.handle_go(player_id, verb)
        if verb in ("look", "l"):
            return await self.handle_look(player_id)
        if verb in ("go", "move", "walk"):
            return await self.handle_go(player_id, arguments)
        if verb == "say":
            return await self.handle_say(player_id, arguments)
        if verb in ("attack", "kill", "hit"):
            return await self.handle_attack(player_id, arguments)
        return error(f"Unknown command: {verb}")

    async def handle_look(self, player_id: str) -> Response:
        player = self.persistence.get_player(player_id)
        if player is None:
            return error("You are not in the game.")
        room = self.persistence.get_room(player.current_room_id)
        if room is None:
            return error("You are nowhere at all.")
        others = [
            occupant_view(other)
            for other in self.persistence.get_players_in_room(room.room_id)
            if other.player_id != player_id
        ]
        others.sort(key=lambda view: (view["name"].casefold(), view["player_id"]))
        return {"type": "room", "room": room_view(room), "occupants": others}

    async def handle_go(self, player_id: str, direction: str) -> Response:
        if not direction:
            return error("Go where?")
        try:
            result = self.movement.move_player(player_id, direction)
        except MovementError as exc:
            return error(str(exc))
        return {
            "type": "moved",
            "direction": result.direction,
            "from_room": result.from_room_id,
            "room": room_view(result.to_room),
        }

    async def handle_say(self, player_id: str, text: str) -> Response:
        text = text.strip()
        if not text:
            return error("Say what?")
        if len(text) > MAX_SAY_LENGTH:
            return error(f"That is too long to say in one breath ({MAX_SAY_LENGTH} characters).")
        speaker = self.persistence.get_player(player_id)
        if speaker is None:
            return error("You are not in the game.")
        listeners = sorted(
            other.player_id
            for other in self.persistence.get_players_in_room(speaker.current_room_id)
            if other.player_id != player_id and not other.is_npc
        )
        self.persistence.update_player_last_active(player_id)
        return {
            "type": "say",
            "from": speaker.name,
            "player_id": player_id,
            "room_id": speaker.current_room_id,
            "message": text,
            "recipients": listeners,
        }

    async def handle_attack(self, player_id: str, arguments: str) -> Response:
        try:
            text = handle_attack_command(player_id, arguments, self.combat_service)
        except CommandError as exc:
            return error(str(exc))
        return {"type": "combat", "message": text}
