"""The static world: room and profession data, the seeding of both, and the room cache.

Rooms ship as JSON files in ``server/data/rooms/`` (one file per zone) and professions in
``server/data/professions.json``. ``seed_world()`` inserts whichever of them the database lacks, so
it is safe to call at every start-up and never overwrites a room a builder has since edited.

Rooms change rarely and are read on every move, so each process keeps them in one ``RoomCache``
(``get_room_cache()``), shared by the sync facade and the async ``RoomRepository``. It loads itself
from the database on first use; ``PersistenceLayer.save_room`` writes through it.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import sync_session
from server.models import Profession, Room

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
ROOMS_DIR = DATA_DIR / "rooms"
PROFESSIONS_FILE = DATA_DIR / "professions.json"

_ROOM_FIELDS = ("room_id", "name", "description", "zone", "exits", "attributes")


class WorldDataError(ValueError):
    """A shipped data file is malformed (missing field, exit to an unknown room, duplicate id)."""


@lru_cache(maxsize=1)
def _read_room_files() -> tuple[dict[str, Any], ...]:
    rooms: dict[str, dict[str, Any]] = {}
    for path in sorted(ROOMS_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        zone = document["zone"]
        for entry in document["rooms"]:
            room = {"zone": zone, "exits": {}, "attributes": {}, **entry}
            missing = [field for field in _ROOM_FIELDS if field not in room]
            if missing:
                raise WorldDataError(f"{path.name}: room lacks {', '.join(missing)}")
            if room["room_id"] in rooms:
                raise WorldDataError(f"{path.name}: duplicate room id {room['room_id']!r}")
            rooms[room["room_id"]] = room
    for room in rooms.values():
        for direction, target in room["exits"].items():
            if target not in rooms:
                raise WorldDataError(
                    f"room {room['room_id']!r}: exit {direction!r} leads to unknown {target!r}"
                )
    return tuple(rooms.values())


@lru_cache(maxsize=1)
def _read_profession_file() -> tuple[dict[str, Any], ...]:
    entries = json.loads(PROFESSIONS_FILE.read_text(encoding="utf-8"))
    return tuple(sorted(entries, key=lambda entry: entry["id"]))


def load_room_definitions() -> list[dict[str, Any]]:
    """The shipped rooms as plain dicts (fresh copies: callers may mutate them)."""
    return copy.deepcopy(list(_read_room_files()))


def load_profession_definitions() -> list[dict[str, Any]]:
    """The shipped professions as plain dicts, ordered by id."""
    return copy.deepcopy(list(_read_profession_file()))


def _seed(session: Session) -> tuple[int, int]:
    existing_rooms = set(session.scalars(select(Room.room_id)))
    new_rooms = [
        Room(**{field: definition[field] for field in _ROOM_FIELDS})
        for definition in load_room_definitions()
        if definition["room_id"] not in existing_rooms
    ]
    existing_professions = set(session.scalars(select(Profession.id)))
    new_professions = [
        Profession(
            id=definition["id"],
            name=definition["name"],
            description=definition.get("description", ""),
            stat_modifiers=definition.get("stat_modifiers", {}),
            is_available=definition.get("is_available", True),
        )
        for definition in load_profession_definitions()
        if definition["id"] not in existing_professions
    ]
    session.add_all([*new_rooms, *new_professions])
    return len(new_rooms), len(new_professions)


def seed_world(session: Session | None = None) -> tuple[int, int]:
    """Insert the shipped rooms and professions the database lacks; returns (rooms, professions).

    With a session, the rows are added to it and the caller commits; without, one is opened.
    """
    if session is not None:
        return _seed(session)
    with sync_session() as own_session, own_session.begin():
        added = _seed(own_session)
    if any(added):
        logger.info("seeded %d rooms and %d professions", *added)
    return added


class RoomCache:
    """All rooms of the world, in memory, keyed by room id. Thread-safe; loads lazily."""

    def __init__(self, rooms: Iterable[Room] | None = None) -> None:
        self._lock = threading.RLock()
        self._rooms: dict[str, Room] = {}
        self._loaded = False
        if rooms is not None:
            self.load(rooms)

    @property
    def is_loaded(self) -> bool:
        return self._loaded

    def load(self, rooms: Iterable[Room] | None = None) -> int:
        """Replace the contents with ``rooms`` or, by default, every room in the database."""
        if rooms is None:
            with sync_session() as session:
                rooms = list(session.scalars(select(Room)))
        with self._lock:
            self._rooms = {room.room_id: room for room in rooms}
            self._loaded = True
            return len(self._rooms)

    def ensure_loaded(self) -> None:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self.load()

    def get(self, room_id: str) -> Room | None:
        self.ensure_loaded()
        with self._lock:
            return self._rooms.get(room_id)

    def __contains__(self, room_id: object) -> bool:
        self.ensure_loaded()
        with self._lock:
            return room_id in self._rooms

    def __len__(self) -> int:
        self.ensure_loaded()
        with self._lock:
            return len(self._rooms)

    def all(self) -> list[Room]:
        """Every room, ordered by room id."""
        self.ensure_loaded()
        with self._lock:
            return [self._rooms[room_id] for room_id in sorted(self._rooms)]

    def room_ids(self) -> list[str]:
        return [room.room_id for room in self.all()]

    def put(self, room: Room) -> None:
        """Add or replace one room (after it has been written to the database)."""
        self.ensure_loaded()
        with self._lock:
            self._rooms[room.room_id] = room

    def invalidate(self) -> None:
        """Forget everything; the next read reloads from the database."""
        with self._lock:
            self._rooms = {}
            self._loaded = False

    def neighbours(self, room_id: str) -> dict[str, Room]:
        """The rooms reachable in one step from ``room_id``, keyed by direction."""
        room = self.get(room_id)
        if room is None:
            return {}
        found: dict[str, Room] = {}
        for direction, target_id in (room.exits or {}).items():
            target = self.get(target_id)
            if target is not None:
                found[direction] = target
        return found


_cache_lock = threading.Lock()
_room_cache: RoomCache | None = None


def get_room_cache() -> RoomCache:
    """The process-wide room cache, shared by the facade and the RoomRepository."""
    global _room_cache
    with _cache_lock:
        if _room_cache is None:
            _room_cache = RoomCache()
        return _room_cache


def reset_room_cache() -> None:
    """Drop the process-wide room cache; the next ``get_room_cache()`` builds a fresh one."""
    global _room_cache
    with _cache_lock:
        _room_cache = None
