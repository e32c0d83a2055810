"""NPCCommunicationIntegration: spawn greetings and NPC speech reach the players in the room."""

from __future__ import annotations

import pytest

from server.events import NPCSpawned
from server.npc.communication_integration import (
    MAX_SPEECH_LENGTH,
    NPCCommunicationIntegration,
    RoomMessage,
)
from server.npc.spawning_service import NPCSpawningService


@pytest.fixture
def chatter(event_bus) -> NPCCommunicationIntegration:
    return NPCCommunicationIntegration(event_bus)


def test_spawning_greets_the_players_present(chatter, make_player, event_bus):
    alice = make_player("Alice", room_id="dunwich_crossroads")
    bob = make_player("Bob", room_id="dunwich_crossroads")
    make_player("Elsewhere", room_id="dunwich_hill")

    farmer = NPCSpawningService(event_bus).spawn_npc("farmer_bishop")

    assert chatter.drain() == [
        RoomMessage(
            speaker_id=farmer.player_id,
            speaker_name="Farmer Bishop",
            room_id="dunwich_crossroads",
            text="Old Bishop spits. 'Whippoorwills been loud tonight.'",
            recipients=tuple(sorted([alice.player_id, bob.player_id])),
        )
    ]
    assert chatter.drain() == []


def test_nobody_to_greet(chatter, event_bus):
    NPCSpawningService(event_bus).spawn_npc("restless_student")

    assert chatter.outbox == []


def test_unknown_npcs_get_a_generic_greeting(chatter, make_player, event_bus):
    stranger = make_player("Hooded Stranger", room_id="arkham_square", is_npc=True)
    make_player("Witness", room_id="arkham_square")

    event_bus.publish(NPCSpawned(stranger.player_id, "arkham_square"))
    event_bus.publish(NPCSpawned("vanished", "arkham_square"))

    assert [m.text for m in chatter.drain()] == ["Hooded Stranger appears."]


def test_close_stops_the_greetings(chatter, make_player, event_bus):
    make_player("Reader", room_id="arkham_library")
    chatter.close()

    NPCSpawningService(event_bus).spawn_npc("librarian_armitage")

    assert chatter.outbox == []


def test_npc_says(chatter, make_player):
    librarian = make_player("Librarian Armitage", room_id="arkham_library", is_npc=True)
    reader = make_player("Reader", room_id="arkham_library")

    message = chatter.npc_says(librarian.player_id, "  The   Necronomicon\nis not for loan. ")

    assert message.text == "The Necronomicon is not for loan."
    assert message.recipients == (reader.player_id,)
    assert chatter.outbox == [message]


def test_long_speech_is_cut(chatter, make_player):
    npc = make_player("Chatterbox", room_id="arkham_square", is_npc=True)
    make_player("Listener", room_id="arkham_square")

    message = chatter.npc_says(npc.player_id, "ia " * 200)

    assert len(message.text) == MAX_SPEECH_LENGTH
    assert message.text.endswith("…")


def test_speech_rules(chatter, make_player):
    dead = make_player("Dead NPC", room_id="arkham_square", is_npc=True, health=0)
    person = make_player("Person", room_id="arkham_square")

    assert chatter.npc_says(dead.player_id, "boo") is None
    with pytest.raises(ValueError, match="no NPC"):
        chatter.npc_says(person.player_id, "hello")
    with pytest.raises(ValueError, match="cannot say nothing"):
        chatter.npc_says(dead.player_id, "   ")


async def test_greeting_on_async_publish(chatter, make_player, event_bus):
    npc = make_player("Restless Student", room_id="miskatonic_quad", is_npc=True)
    make_player("Freshman", room_id="miskatonic_quad")

    await event_bus.publish_async(NPCSpawned(npc.player_id, "miskatonic_quad"))

    [message] = chatter.drain()
    assert message.speaker_name == "Restless Student"
