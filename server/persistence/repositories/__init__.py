"""Async repositories: the Phase 1 split of the persistence facade, not yet used by the game.

Each provider takes no required argument (so it works as a FastAPI dependency) and returns a
process-wide instance; ``reset_repositories()`` drops them all (tests).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from server.persistence.repositories.container_repository import ContainerRepository
from server.persistence.repositories.experience_repository import ExperienceRepository
from server.persistence.repositories.health_repository import HealthRepository
from server.persistence.repositories.item_repository import ItemRepository
from server.persistence.repositories.player_repository import PlayerRepository
from server.persistence.repositories.profession_repository import ProfessionRepository
from server.persistence.repositories.room_repository import RoomRepository

R = TypeVar("R")

_lock = threading.Lock()
_instances: dict[type, Any] = {}


def _shared(cls: type[R], build: Callable[[], R]) -> R:
    with _lock:
        instance = _instances.get(cls)
        if instance is None:
            instance = _instances[cls] = build()
        return instance


def get_player_repository() -> PlayerRepository:
    return _shared(PlayerRepository, PlayerRepository)


def get_room_repository() -> RoomRepository:
    return _shared(RoomRepository, RoomRepository)


def get_profession_repository() -> ProfessionRepository:
    return _shared(ProfessionRepository, ProfessionRepository)


def get_health_repository() -> HealthRepository:
    return _shared(HealthRepository, HealthRepository)


def get_experience_repository() -> ExperienceRepository:
    return _shared(ExperienceRepository, ExperienceRepository)


def get_container_repository() -> ContainerRepository:
    return _shared(ContainerRepository, ContainerRepository)


def get_item_repository() -> ItemRepository:
    return _shared(ItemRepository, ItemRepository)


def reset_repositories() -> None:
    """Forget every shared repository; the providers build fresh ones on next use."""
    with _lock:
        _instances.clear()


__all__ = [
    "ContainerRepository",
    "ExperienceRepository",
    "HealthRepository",
    "ItemRepository",
    "PlayerRepository",
    "ProfessionRepository",
    "RoomRepository",
    "get_container_repository",
    "get_experience_repository",
    "get_health_repository",
    "get_item_repository",
    "get_player_repository",
    "get_profession_repository",
    "get_room_repository",
    "reset_repositories",
]
