"""The snapshot a client receives when its websocket connects."""

from __future__ import annotations

from typing import Any

from server.models import Player, Room
from server.persistence import PersistenceLayer, get_persistence


class GameStateError(LookupError):
    """The state cannot be built (unknown character, a world without the character's room)."""


def player_view(player: Player) -> dict[str, Any]:
    return {
        "player_id": player.player_id,
        "name": player.name,
        "room_id": player.current_room_id,
        "profession_id": player.profession_id,
        "is_npc": player.is_npc,
        "stats": player.get_stats(),
        "inventory": list(player.inventory or []),
    }


def occupant_view(player: Player) -> dict[str, Any]:
    stats = player.get_stats()
    return {
        "player_id": player.player_id,
        "name": player.name,
        "is_npc": player.is_npc,
        "alive": player.is_alive,
        "level": stats.get("level", 1),
    }


def room_view(room: Room, exit_names: dict[str, str] | None = None) -> dict[str, Any]:
    exits = dict(room.exits or {})
    return {
        "room_id": room.room_id,
        "name": room.name,
        "description": room.description,
        "zone": room.zone,
        "exits": exits,
        "exit_names": dict(exit_names or {}),
    }


class GameStateProvider:
    """The initial game state: the character, its room, who else is there, what lies around."""

    def __init__(self, persistence: PersistenceLayer | None = None) -> None:
        self._persistence = persistence if persistence is not None else get_persistence()

    def _exit_names(self, room: Room) -> dict[str, str]:
        names: dict[str, str] = {}
        for direction, target_id in sorted((room.exits or {}).items()):
            target = self._persistence.get_room(target_id)
            names[direction] = target.name if target is not None else target_id
        return names

    async def get_initial_state(self, player_id: str) -> dict[str, Any]:
        player = self._persistence.get_player(player_id)
        if player is None:
            raise GameStateError(f"player not found: {player_id}")
        room = self._persistence.get_room(player.current_room_id)
        if room is None:
            self._persistence.validate_and_fix_player_room(player)
            room = self._persistence.get_room(player.current_room_id)
            if room is None:
                raise GameStateError(f"no valid room for {player.name}")
        occupants = [
            occupant_view(other)
            for other in self._persistence.get_players_in_room(room.room_id)
            if other.player_id != player.player_id
        ]
        occupants.sort(key=lambda view: (view["name"].casefold(), view["player_id"]))
        containers = sorted(
            self._persistence.get_containers_by_room_id(room.room_id),
            key=lambda container: str(container["container_id"]),
        )
        return {
            "type": "game_state",
            "player": player_view(player),
            "room": room_view(room, self._exit_names(room)),
            "occupants": occupants,
            "containers": containers,
        }
