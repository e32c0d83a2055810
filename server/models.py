"""The server's data model.

Every mapped class is flat: no relationships, so nothing can lazy-load behind an ``await`` on the
async side, and an object loaded by the sync facade can be handed to an async repository (and back)
and merged into that side's session. Timestamps are stored as naive UTC on every database and come
back timezone-aware, so SQLite and PostgreSQL compare them the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

DEFAULT_ROOM_ID = "arkham_square"

# Keys of Player.stats, with the values a new character starts with.
DEFAULT_STATS: dict[str, int] = {
    "health": 100,
    "max_health": 100,
    "experience": 0,
    "level": 1,
    "lucidity": 100,
    "strength": 10,
    "dexterity": 10,
    "constitution": 10,
    "intelligence": 10,
    "wisdom": 10,
    "charisma": 10,
}

CONTAINER_SOURCE_TYPES = ("environment", "equipment", "corpse")
CONTAINER_LOCK_STATES = ("unlocked", "locked", "sealed")

# JSON everywhere, JSONB on PostgreSQL so the atomic stat updates can use jsonb_set.
JSONType = JSON().with_variant(JSONB(), "postgresql")

_PASSWORD_ITERATIONS = 20_000


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh primary key: a uuid4 as 32 hex characters."""
    return uuid.uuid4().hex


def default_stats() -> dict[str, int]:
    return dict(DEFAULT_STATS)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC; naive input is taken to be UTC already."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    email: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __init__(self, **kwargs: Any) -> None:
        password = kwargs.pop("password", None)
        kwargs.setdefault("id", new_id())
        kwargs.setdefault("email", "")
        kwargs.setdefault("password_hash", "")
        kwargs.setdefault("created_at", utcnow())
        super().__init__(**kwargs)
        if password is not None:
            self.set_password(password)

    def set_password(self, password: str) -> None:
        if not password:
            raise ValueError("password must not be empty")
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return verify_password(password, self.password_hash)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r})"


class Player(Base):
    __tablename__ = "players"

    player_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(64), unique=True)
    profession_id: Mapped[int | None] = mapped_column(Integer, default=None)
    current_room_id: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_ROOM_ID)
    stats: Mapped[dict[str, Any]] = mapped_column(default=default_stats)
    inventory: Mapped[list[Any]] = mapped_column(default=list)
    is_npc: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active: Mapped[datetime] = mapped_column(default=utcnow)

    def __init__(self, **kwargs: Any) -> None:
        # Fill defaults now rather than at flush: callers read player_id and stats before saving.
        now = utcnow()
        stats = default_stats()
        stats.update(kwargs.pop("stats", None) or {})
        kwargs["stats"] = stats
        kwargs.setdefault("player_id", new_id())
        kwargs.setdefault("current_room_id", DEFAULT_ROOM_ID)
        kwargs.setdefault("inventory", [])
        kwargs.setdefault("is_npc", False)
        kwargs.setdefault("created_at", now)
        kwargs.setdefault("last_active", now)
        super().__init__(**kwargs)

    def get_stats(self) -> dict[str, Any]:
        """A copy of the stats, with defaults for any key an older row lacks."""
        stats = default_stats()
        stats.update(self.stats or {})
        return stats

    @property
    def is_alive(self) -> bool:
        return int(self.get_stats()["health"]) > 0

    def __repr__(self) -> str:
        return (
            f"Player(player_id={self.player_id!r}, name={self.name!r}, "
            f"room={self.current_room_id!r})"
        )


class Room(Base):
    __tablename__ = "rooms"

    room_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    zone: Mapped[str] = mapped_column(String(64), index=True)
    exits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("description", "")
        kwargs.setdefault("exits", {})
        kwargs.setdefault("attributes", {})
        super().__init__(**kwargs)

    def exit_to(self, direction: str) -> str | None:
        """The room id an exit leads to, or None when there is no exit that way."""
        return (self.exits or {}).get(direction.lower())

    def __repr__(self) -> str:
        return f"Room(room_id={self.room_id!r}, zone={self.zone!r})"


class Profession(Base):
    __tablename__ = "professions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    stat_modifiers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"Profession(id={self.id!r}, name={self.name!r})"


class Container(Base):
    __tablename__ = "containers"

    container_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    room_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    capacity_slots: Mapped[int] = mapped_column(Integer, default=10)
    items: Mapped[list[Any]] = mapped_column(default=list)
    lock_state: Mapped[str] = mapped_column(String(16), default="unlocked")
    decays_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemInstance(Base):
    __tablename__ = "item_instances"

    item_instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prototype_id: Mapped[str] = mapped_column(String(64), index=True)
    owner_type: Mapped[str] = mapped_column(String(32), default="room")
    owner_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    location_context: Mapped[str | None] = mapped_column(String(128), default=None)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def hash_password(password: str) -> str:
    """PBKDF2-SHA256 with a random salt, as ``pbkdf2_sha256$iterations$salt$digest``."""
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _PASSWORD_ITERATIONS)
    return f"pbkdf2_sha256${_PASSWORD_ITERATIONS}${salt}${digest.hex()}"


def verify_password(password: str, password_hash: str) -> bool:
    try:
        scheme, iterations, salt, expected = password_hash.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)
