"""NPC speech: greetings when an NPC appears and lines NPCs say to the players around them.

Messages are queued in an outbox addressed to the listening players; the realtime layer drains
it and delivers them over the players' connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.events import EventBus, NPCSpawned, get_event_bus
from server.npc.definitions import definition_for_npc
from server.persistence import get_persistence as get_persistence_layer

MAX_SPEECH_LENGTH = 280


@dataclass(frozen=True)
class RoomMessage:
    speaker_id: str
    speaker_name: str
    room_id: str
    text: str
    recipients: tuple[str, ...]


class NPCCommunicationIntegration:
    def __init__(self, event_bus: EventBus | None = None) -> None:
        self._event_bus = event_bus or get_event_bus()
        self.persistence = get_persistence_layer(self._event_bus)
        self.outbox: list[RoomMessage] = []
        self._event_bus.subscribe(NPCSpawned, self._greet_room)

    def close(self) -> None:
        self._event_bus.unsubscribe(NPCSpawned, self._greet_room)

    def npc_says(self, npc_id: str, text: str) -> RoomMessage | None:
        """Have an NPC say ``text`` to the players in its room (``None`` if nobody hears it)."""
        cleaned = " ".join(text.split())
        if not cleaned:
            raise ValueError("an NPC cannot say nothing")
        if len(cleaned) > MAX_SPEECH_LENGTH:
            cleaned = cleaned[: MAX_SPEECH_LENGTH - 1] + "…"
        npc = self.persistence.get_player(npc_id)
        if npc is None or not npc.is_npc:
            raise ValueError(f"no NPC {npc_id!r}")
        if not npc.is_alive:
            return None
        return self._deliver(npc.player_id, npc.name, npc.current_room_id, cleaned)

    def drain(self) -> list[RoomMessage]:
        messages, self.outbox = self.outbox, []
        return messages

    def _greet_room(self, event: NPCSpawned) -> None:
        npc = self.persistence.get_player(event.npc_id)
        if npc is None:
            return
        definition = definition_for_npc(npc)
        greeting = definition.greeting if definition and definition.greeting else (
            f"{npc.name} appears."
        )
        self._deliver(npc.player_id, npc.name, event.room_id, greeting)

    def _deliver(
        self, speaker_id: str, speaker_name: str, room_id: str, text: str
    ) -> RoomMessage | None:
        listeners = sorted(
            p.player_id
            for p in self.persistence.get_players_in_room(room_id)
            if not p.is_npc and p.is_alive
        )
        if not listeners:
            return None
        message = RoomMessage(speaker_id, speaker_name, room_id, text, tuple(listeners))
        self.outbox.append(message)
        return message
