"""Non-player characters: definitions, spawning, behaviour, movement, combat and chatter.

NPCs are ordinary ``Player`` rows with ``is_npc=True`` and no user; what makes each one distinct
(behaviour, home room, base stats) lives in :mod:`server.npc.definitions`.
"""

from __future__ import annotations

from server.npc.definitions import (
    BEHAVIORS,
    NPC_DEFINITIONS,
    NPCDefinition,
    definition_for_npc,
    get_definition,
)

__all__ = [
    "BEHAVIORS",
    "NPC_DEFINITIONS",
    "NPCDefinition",
    "definition_for_npc",
    "get_definition",
]
