"""Moving NPCs between rooms along the room exits."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from server.events import EventBus, PlayerMoved, get_event_bus
from server.models import Room
from server.persistence import PersistenceLayer, get_persistence

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NPCMove:
    npc_id: str
    from_room: str
    to_room: str
    direction: str


def resolve_exit(persistence: PersistenceLayer, room: Room, direction: str) -> str | None:
    """The room an exit of ``room`` leads to, or ``None`` if NPCs cannot go that way.

    NPCs never enter rooms marked ``no_npc`` (shops that keep monsters out, a player's home),
    and an exit into a room the world does not know is treated as walled up.
    """
    target_id = room.exit_to(direction)
    if target_id is None:
        return None
    target = persistence.get_room(target_id)
    if target is None or (target.attributes or {}).get("no_npc"):
        return None
    return target_id


class NPCMovementIntegration:
    def __init__(self, event_bus: EventBus | None = None) -> None:
        self._event_bus = event_bus or get_event_bus()
        self.persistence = get_persistence(self._event_bus)

    def exits_for(self, npc_id: str) -> dict[str, str]:
        """Directions the NPC can take from where it stands."""
        npc = self.persistence.get_player(npc_id)
        if npc is None:
            return {}
        room = self.persistence.get_room(npc.current_room_id)
        if room is None:
            return {}
        return {
            direction: target
            for direction in sorted(room.exits or {})
            if (target := resolve_exit(self.persistence, room, direction)) is not None
        }

    def move_npc(self, npc_id: str, direction: str) -> NPCMove | None:
        """Move a living NPC through ``direction``; ``None`` when it cannot go that way."""
        npc = self.persistence.get_player(npc_id)
        if npc is None or not npc.is_npc:
            raise ValueError(f"no NPC {npc_id!r}")
        if not npc.is_alive:
            return None
        from_room = npc.current_room_id
        room = self.persistence.get_room(from_room)
        to_room = resolve_exit(self.persistence, room, direction) if room is not None else None
        if to_room is None:
            return None
        npc.current_room_id = to_room
        self.persistence.save_player(npc)
        self._event_bus.publish(PlayerMoved(player_id=npc_id, from_room=from_room, to_room=to_room))
        logger.debug("%s moved %s from %s to %s", npc.name, direction, from_room, to_room)
        return NPCMove(npc_id=npc_id, from_room=from_room, to_room=to_room,
                       direction=direction.lower())

    def return_home(self, npc_id: str, home_room_id: str) -> NPCMove | None:
        """Step back to ``home_room_id`` if an exit of the current room leads straight there."""
        for direction, target in self.exits_for(npc_id).items():
            if target == home_room_id:
                return self.move_npc(npc_id, direction)
        return None
