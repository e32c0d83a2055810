"""Containers a character wears (backpack, belt pouch, coat pockets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.events import EventBus
from server.persistence import get_persistence

EQUIPMENT = "equipment"

# Slots a character can wear a container in, and how many item stacks each one holds.
WEARABLE_SLOTS: Mapping[str, int] = {
    "backpack": 8,
    "belt_pouch": 3,
    "coat_pockets": 4,
}
MAX_STACK = 20


class WearableContainerError(ValueError):
    """The request cannot be satisfied (unknown slot, player or item; container locked)."""


class ContainerFullError(WearableContainerError):
    """The container has no free slot for another item stack."""


def _slot_of(container: Mapping[str, Any]) -> str | None:
    return (container.get("metadata") or {}).get("slot")


class WearableContainerService:
    def __init__(self, event_bus: EventBus | None = None) -> None:
        self.persistence = get_persistence(event_bus)

    def equipment_for(self, player_id: str) -> dict[str, dict[str, Any]]:
        """The player's worn containers by slot."""
        containers = self.persistence.get_containers_by_entity_id(player_id)
        return {
            slot: c
            for c in containers
            if c["source_type"] == EQUIPMENT and (slot := _slot_of(c)) is not None
        }

    def equip(self, player_id: str, slot: str) -> dict[str, Any]:
        """Give the player a container in ``slot`` (returns the existing one if already worn)."""
        if slot not in WEARABLE_SLOTS:
            raise WearableContainerError(f"unknown slot {slot!r}")
        if self.persistence.get_player(player_id) is None:
            raise WearableContainerError(f"unknown player {player_id!r}")
        worn = self.equipment_for(player_id)
        if slot in worn:
            return worn[slot]
        return self.persistence.create_container(
            EQUIPMENT,
            owner_id=player_id,
            entity_id=player_id,
            capacity_slots=WEARABLE_SLOTS[slot],
            items=[],
            metadata={"slot": slot},
        )

    def add_item(
        self, player_id: str, slot: str, prototype_id: str, quantity: int = 1
    ) -> dict[str, Any]:
        """Put items in a worn container, stacking onto an existing stack up to ``MAX_STACK``."""
        if quantity < 1:
            raise WearableContainerError("quantity must be positive")
        container = self._worn(player_id, slot)
        items = [dict(item) for item in container["items"]]
        remaining = quantity
        for item in items:
            if item["prototype_id"] == prototype_id and item["quantity"] < MAX_STACK:
                moved = min(MAX_STACK - item["quantity"], remaining)
                item["quantity"] += moved
                remaining -= moved
        while remaining:
            if len(items) >= container["capacity_slots"]:
                raise ContainerFullError(f"the {slot} is full")
            moved = min(MAX_STACK, remaining)
            items.append({"prototype_id": prototype_id, "quantity": moved})
            remaining -= moved
        return self._store(container, items)

    def remove_item(
        self, player_id: str, slot: str, prototype_id: str, quantity: int = 1
    ) -> dict[str, Any]:
        """Take items out of a worn container; empty stacks disappear."""
        if quantity < 1:
            raise WearableContainerError("quantity must be positive")
        container = self._worn(player_id, slot)
        items = [dict(item) for item in container["items"]]
        held = sum(i["quantity"] for i in items if i["prototype_id"] == prototype_id)
        if held < quantity:
            raise WearableContainerError(f"the {slot} holds only {held} {prototype_id}")
        remaining = quantity
        for item in reversed(items):
            if remaining and item["prototype_id"] == prototype_id:
                taken = min(item["quantity"], remaining)
                item["quantity"] -= taken
                remaining -= taken
        return self._store(container, [i for i in items if i["quantity"] > 0])

    def free_slots(self, player_id: str, slot: str) -> int:
        container = self._worn(player_id, slot)
        return int(container["capacity_slots"]) - len(container["items"])

    def _worn(self, player_id: str, slot: str) -> dict[str, Any]:
        container = self.equipment_for(player_id).get(slot)
        if container is None:
            raise WearableContainerError(f"no container worn in {slot!r}")
        if container["lock_state"] != "unlocked":
            raise WearableContainerError(f"the {slot} is {container['lock_state']}")
        return container

    def _store(self, container: Mapping[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
        updated = self.persistence.update_container(container["container_id"], items=items)
        if updated is None:
            raise WearableContainerError(f"container {container['container_id']!r} vanished")
        return updated
