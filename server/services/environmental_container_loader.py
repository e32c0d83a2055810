"""Fixed containers of the world (shelves, crates, chests) created for rooms on demand.

A room gets its environment containers from two places: the static table below and the room's
own ``attributes["containers"]`` list (same shape as a table entry). Loading is idempotent: a
fixture is recognised by ``metadata["fixture_key"]`` and never created twice, and its item
instances use deterministic ids so ``ensure_item_instance`` can be re-run safely.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from server.events import EventBus
from server.persistence import get_persistence

logger = logging.getLogger(__name__)

ENVIRONMENT = "environment"
LOCK_STATES = frozenset({"unlocked", "locked", "sealed"})


@dataclass(frozen=True)
class ContainerFixture:
    key: str
    name: str
    capacity_slots: int
    items: tuple[tuple[str, int], ...] = ()
    lock_state: str = "unlocked"

    def __post_init__(self) -> None:
        if self.capacity_slots < 1:
            raise ValueError(f"fixture {self.key!r} needs at least one slot")
        if len(self.items) > self.capacity_slots:
            raise ValueError(f"fixture {self.key!r} holds more items than it has slots")
        if self.lock_state not in LOCK_STATES:
            raise ValueError(f"fixture {self.key!r} has unknown lock state {self.lock_state!r}")
        if any(quantity < 1 for _, quantity in self.items):
            raise ValueError(f"fixture {self.key!r} has a non-positive item quantity")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ContainerFixture:
        items = tuple((str(i["prototype_id"]), int(i.get("quantity", 1))) for i in
                      data.get("items", ()))
        return cls(
            key=str(data["key"]),
            name=str(data.get("name", data["key"])),
            capacity_slots=int(data.get("capacity_slots", max(1, len(items)))),
            items=items,
            lock_state=str(data.get("lock_state", "unlocked")),
        )


ROOM_FIXTURES: Mapping[str, tuple[ContainerFixture, ...]] = {
    "arkham_library": (
        ContainerFixture("reference_shelf", "reference shelf", 6,
                         (("occult_almanac", 1), ("candle", 3))),
        ContainerFixture("restricted_case", "restricted display case", 2,
                         (("necronomicon_fragment", 1),), lock_state="locked"),
    ),
    "arkham_general_store": (
        ContainerFixture("store_counter", "store counter", 8,
                         (("lantern", 2), ("lamp_oil", 4), ("bandage", 5))),
    ),
    "arkham_docks": (
        ContainerFixture("cargo_crate", "cargo crate", 5, (("coil_of_rope", 1),)),
    ),
    "miskatonic_archives": (
        ContainerFixture("archive_cabinet", "archive cabinet", 10,
                         (("expedition_journal", 1), ("photograph_plate", 2)),
                         lock_state="locked"),
    ),
    "innsmouth_harbor": (
        ContainerFixture("fishing_net", "tangled fishing net", 3, (("fish_scale", 2),)),
    ),
}


MAX_ITEM_ID_LENGTH = 64


def item_instance_id(room_id: str, fixture_key: str, prototype_id: str) -> str:
    """The stable id of a fixture's item, so reloading never duplicates it.

    Readable when it fits the column; otherwise a digest of the same parts.
    """
    readable = f"env:{room_id}:{fixture_key}:{prototype_id}"
    if len(readable) <= MAX_ITEM_ID_LENGTH:
        return readable
    return "env:" + hashlib.sha256(readable.encode()).hexdigest()[:40]


class EnvironmentalContainerLoader:
    def __init__(
        self,
        event_bus: EventBus | None = None,
        fixtures: Mapping[str, Iterable[ContainerFixture]] | None = None,
    ) -> None:
        self.persistence = get_persistence(event_bus)
        self._fixtures = ROOM_FIXTURES if fixtures is None else fixtures

    def fixtures_for_room(self, room_id: str) -> list[ContainerFixture]:
        """Table fixtures plus those declared in the room's attributes (attributes win on key)."""
        room = self.persistence.get_room(room_id)
        if room is None:
            raise ValueError(f"unknown room {room_id!r}")
        by_key = {f.key: f for f in self._fixtures.get(room_id, ())}
        for data in (room.attributes or {}).get("containers", ()):
            fixture = ContainerFixture.from_mapping(data)
            by_key[fixture.key] = fixture
        return list(by_key.values())

    def load_room(self, room_id: str) -> list[dict[str, Any]]:
        """Create the room's missing environment containers; returns the ones created."""
        fixtures = self.fixtures_for_room(room_id)
        existing = {
            (c.get("metadata") or {}).get("fixture_key")
            for c in self.persistence.get_containers_by_room_id(room_id)
            if c["source_type"] == ENVIRONMENT
        }
        created: list[dict[str, Any]] = []
        for fixture in fixtures:
            if fixture.key in existing:
                continue
            created.append(self._create_fixture(room_id, fixture))
        if created:
            logger.info("created %d environment container(s) in %s", len(created), room_id)
        return created

    def load_all(self) -> dict[str, int]:
        """Load every room that has fixtures; returns the number created per room."""
        counts: dict[str, int] = {}
        for room in self.persistence.list_rooms():
            declared = (room.attributes or {}).get("containers")
            if room.room_id in self._fixtures or declared:
                counts[room.room_id] = len(self.load_room(room.room_id))
        return counts

    def missing_items(self, container_id: str) -> list[str]:
        """Item instance ids a container lists but which no longer exist."""
        container = self.persistence.get_container(container_id)
        if container is None:
            raise ValueError(f"unknown container {container_id!r}")
        return [
            item["item_instance_id"]
            for item in container["items"]
            if not self.persistence.item_instance_exists(item["item_instance_id"])
        ]

    def _create_fixture(self, room_id: str, fixture: ContainerFixture) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for prototype_id, quantity in fixture.items:
            instance_id = item_instance_id(room_id, fixture.key, prototype_id)
            self.persistence.ensure_item_instance(
                instance_id,
                prototype_id,
                owner_type="room",
                owner_id=room_id,
                location_context=f"container:{fixture.key}",
                quantity=quantity,
            )
            items.append(
                {"item_instance_id": instance_id, "prototype_id": prototype_id,
                 "quantity": quantity}
            )
        return self.persistence.create_container(
            ENVIRONMENT,
            room_id=room_id,
            capacity_slots=fixture.capacity_slots,
            items=items,
            lock_state=fixture.lock_state,
            metadata={"fixture_key": fixture.key, "name": fixture.name},
        )
