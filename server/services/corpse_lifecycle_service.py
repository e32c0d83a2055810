"""Corpses: containers left behind where a player or NPC died, which decay after a while."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from server.events import EventBus
from server.persistence import get_persistence

if TYPE_CHECKING:
    from server.models import Player

logger = logging.getLogger(__name__)

CORPSE = "corpse"
DEFAULT_NPC_DECAY = timedelta(minutes=5)
DEFAULT_PLAYER_DECAY = timedelta(minutes=30)
MIN_CORPSE_SLOTS = 4


class CorpseError(ValueError):
    """A corpse operation that cannot be carried out (living body, unknown corpse, ...)."""


@dataclass(frozen=True)
class CleanupResult:
    deleted: list[str]
    skipped: list[str]

    @property
    def count(self) -> int:
        return len(self.deleted)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CorpseLifecycleService:
    """Creates corpse containers for the dead and clears them once they have decayed.

    NPC corpses decay quickly so the world does not fill up with them; a player's corpse stays
    long enough for its owner to come back for their belongings.
    """

    def __init__(
        self,
        event_bus: EventBus | None = None,
        *,
        npc_decay: timedelta = DEFAULT_NPC_DECAY,
        player_decay: timedelta = DEFAULT_PLAYER_DECAY,
    ) -> None:
        if npc_decay <= timedelta(0) or player_decay <= timedelta(0):
            raise ValueError("corpse decay periods must be positive")
        self.persistence = get_persistence(event_bus)
        self.npc_decay = npc_decay
        self.player_decay = player_decay

    def decay_period(self, body: Player) -> timedelta:
        return self.npc_decay if body.is_npc else self.player_decay

    def create_corpse(self, body: Player, *, now: datetime | None = None) -> dict[str, Any]:
        """Lay out ``body``'s corpse in its room, holding what it carried."""
        if body.is_alive:
            raise CorpseError(f"{body.name} is still alive")
        created = now or _utcnow()
        items = [dict(item) for item in (body.inventory or [])]
        corpse = self.persistence.create_container(
            CORPSE,
            # Players own their corpse (only they may loot it first); NPC corpses are free loot.
            owner_id=None if body.is_npc else body.player_id,
            room_id=body.current_room_id,
            entity_id=body.player_id,
            capacity_slots=max(MIN_CORPSE_SLOTS, len(items)),
            items=items,
            decays_at=created + self.decay_period(body),
            metadata={"name": f"corpse of {body.name}", "is_npc": bool(body.is_npc)},
        )
        logger.info("corpse %s created for %s in %s", corpse["container_id"], body.name,
                    body.current_room_id)
        return corpse

    def corpses_in_room(self, room_id: str) -> list[dict[str, Any]]:
        containers = self.persistence.get_containers_by_room_id(room_id)
        return [c for c in containers if c["source_type"] == CORPSE]

    def take_item(self, corpse_id: str, prototype_id: str, *, looter_id: str) -> dict[str, Any]:
        """Remove one item (by prototype) from a corpse and return it."""
        corpse = self.persistence.get_container(corpse_id)
        if corpse is None or corpse["source_type"] != CORPSE:
            raise CorpseError(f"no corpse {corpse_id!r}")
        owner = corpse.get("owner_id")
        if owner is not None and owner != looter_id:
            raise CorpseError("only the owner may loot this corpse")
        items = list(corpse["items"])
        for index, item in enumerate(items):
            if item.get("prototype_id") == prototype_id:
                taken: dict[str, Any] = items.pop(index)
                self.persistence.update_container(corpse_id, items=items)
                return taken
        raise CorpseError(f"the corpse holds no {prototype_id!r}")

    def cleanup_decayed(self, now: datetime | None = None) -> CleanupResult:
        """Delete every corpse whose decay time has passed; other containers are left alone."""
        deleted: list[str] = []
        skipped: list[str] = []
        for container in self.persistence.get_decayed_containers(now or _utcnow()):
            container_id = container["container_id"]
            if container["source_type"] != CORPSE:
                skipped.append(container_id)
                continue
            if self.persistence.delete_container(container_id):
                deleted.append(container_id)
        if deleted:
            logger.info("removed %d decayed corpse(s)", len(deleted))
        return CleanupResult(deleted=deleted, skipped=skipped)
