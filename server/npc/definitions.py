"""The NPC data table: who exists in the world, where they appear and how they behave.

A definition is keyed by a short ``key``; the spawned ``Player`` row carries the definition's
``name`` (player names are unique), which is how a live NPC is traced back to its definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from server.models import DEFAULT_STATS, Player

AGGRESSIVE = "aggressive"
PASSIVE = "passive"
WANDERER = "wanderer"
BEHAVIORS = frozenset({AGGRESSIVE, PASSIVE, WANDERER})


@dataclass(frozen=True)
class NPCDefinition:
    key: str
    name: str
    behavior: str
    spawn_room_id: str
    stats: Mapping[str, int] = field(default_factory=dict)
    experience_reward: int = 10
    greeting: str = ""
    wander_chance: float = 0.0
    spawn_at_startup: bool = True
    loot: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.behavior not in BEHAVIORS:
            raise ValueError(f"unknown NPC behaviour {self.behavior!r} for {self.key!r}")
        if not 0.0 <= self.wander_chance <= 1.0:
            raise ValueError(f"wander_chance must be within [0, 1] for {self.key!r}")
        unknown = set(self.stats) - set(DEFAULT_STATS)
        if unknown:
            raise ValueError(f"unknown stat keys {sorted(unknown)} for {self.key!r}")

    def base_stats(self) -> dict[str, int]:
        """A fresh stat block: defaults, the definition's overrides, health starting full."""
        stats = dict(DEFAULT_STATS)
        stats.update(self.stats)
        stats["health"] = stats["max_health"]
        return stats

    def starting_inventory(self) -> list[dict[str, object]]:
        return [{"prototype_id": prototype_id, "quantity": 1} for prototype_id in self.loot]


NPC_DEFINITIONS: tuple[NPCDefinition, ...] = (
    NPCDefinition(
        key="deep_one_lurker",
        name="Deep One Lurker",
        behavior=AGGRESSIVE,
        spawn_room_id="innsmouth_harbor",
        stats={"max_health": 60, "level": 3, "strength": 14, "constitution": 12, "lucidity": 0},
        experience_reward=60,
        greeting="A wet croak rises from the pilings.",
        loot=("tarnished_tiara", "fish_scale"),
    ),
    NPCDefinition(
        key="order_acolyte",
        name="Esoteric Order Acolyte",
        behavior=AGGRESSIVE,
        spawn_room_id="innsmouth_marsh",
        stats={"max_health": 45, "level": 2, "strength": 11, "wisdom": 13},
        experience_reward=35,
        greeting="The acolyte murmurs a hymn to Father Dagon.",
        loot=("ritual_dagger",),
    ),
    NPCDefinition(
        key="librarian_armitage",
        name="Librarian Armitage",
        behavior=PASSIVE,
        spawn_room_id="arkham_library",
        stats={"max_health": 80, "level": 5, "intelligence": 17, "wisdom": 15},
        experience_reward=5,
        greeting="Dr. Armitage looks up from a crumbling folio. 'Quietly, please.'",
    ),
    NPCDefinition(
        key="farmer_bishop",
        name="Farmer Bishop",
        behavior=PASSIVE,
        spawn_room_id="dunwich_crossroads",
        stats={"max_health": 70, "strength": 12},
        experience_reward=5,
        greeting="Old Bishop spits. 'Whippoorwills been loud tonight.'",
        loot=("lantern",),
    ),
    NPCDefinition(
        key="wandering_dockhand",
        name="Wandering Dockhand",
        behavior=WANDERER,
        spawn_room_id="arkham_docks",
        stats={"max_health": 90, "strength": 13, "dexterity": 11},
        experience_reward=15,
        greeting="A dockhand shoulders past, smelling of brine.",
        wander_chance=0.5,
        loot=("coil_of_rope",),
    ),
    NPCDefinition(
        key="restless_student",
        name="Restless Student",
        behavior=WANDERER,
        spawn_room_id="miskatonic_quad",
        stats={"max_health": 75, "intelligence": 14},
        experience_reward=10,
        greeting="A pale student hurries by, clutching an annotated Necronomicon excerpt.",
        wander_chance=0.35,
    ),
    NPCDefinition(
        key="shoggoth_remnant",
        name="Shoggoth Remnant",
        behavior=AGGRESSIVE,
        spawn_room_id="miskatonic_archives",
        stats={"max_health": 150, "level": 8, "strength": 18, "constitution": 16},
        experience_reward=250,
        greeting="Tekeli-li! Tekeli-li!",
        spawn_at_startup=False,
    ),
)

_BY_KEY: Mapping[str, NPCDefinition] = MappingProxyType({d.key: d for d in NPC_DEFINITIONS})
_BY_NAME: Mapping[str, NPCDefinition] = MappingProxyType({d.name: d for d in NPC_DEFINITIONS})


def get_definition(key: str) -> NPCDefinition:
    """The definition for ``key``; raises ``KeyError`` naming the known keys otherwise."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown NPC definition {key!r}; known: {sorted(_BY_KEY)}") from None


def find_definition_by_name(name: str) -> NPCDefinition | None:
    return _BY_NAME.get(name)


def definition_for_npc(npc: Player) -> NPCDefinition | None:
    """The definition a spawned NPC came from (``None`` for players and unknown NPCs)."""
    if not npc.is_npc:
        return None
    return _BY_NAME.get(npc.name)


def startup_definitions() -> tuple[NPCDefinition, ...]:
    return tuple(d for d in NPC_DEFINITIONS if d.spawn_at_startup)
