"""Atomic updates of the JSON ``Player.stats`` column, written once per dialect.

Damage, healing and experience arrive concurrently (combat ticks, NPC attacks, quest rewards), so
they never read a player, change a number in Python and write the player back: a lost update would
resurrect a dead character or swallow a hit. Each change is one ``UPDATE … RETURNING`` that computes
the new value from the stored one inside the database — ``json_set``/``json_extract`` on SQLite,
``jsonb_set`` on PostgreSQL's JSONB — and returns what it wrote.

The sync facade and the async Health/Experience repositories both build their statements here,
so the two sides cannot drift apart. Field names travel as bound parameters, never as SQL text,
and only whitelisted names get that far.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import TextClause, text

from server.models import DEFAULT_STATS

# The stat fields callers may change through update_player_stat_field. max_health is deliberately
# absent: it is derived from constitution and level by the game rules, not adjusted directly.
ALLOWED_STAT_FIELDS: frozenset[str] = frozenset(
    {
        "health",
        "lucidity",
        "experience",
        "level",
        "strength",
        "dexterity",
        "constitution",
        "intelligence",
        "wisdom",
        "charisma",
    }
)

XP_PER_LEVEL = 100
MAX_LUCIDITY = 100

# (lower, upper) bounds for fields without a dedicated statement; None means unbounded.
_FIELD_BOUNDS: dict[str, tuple[int, int | None]] = {
    "lucidity": (0, MAX_LUCIDITY),
    "level": (1, None),
    "strength": (1, None),
    "dexterity": (1, None),
    "constitution": (1, None),
    "intelligence": (1, None),
    "wisdom": (1, None),
    "charisma": (1, None),
}


@dataclass(frozen=True)
class StatStatement:
    """A ready-to-execute statement: ``session.execute(stmt.sql, stmt.params)``."""

    sql: TextClause
    params: dict[str, Any]


def validate_stat_field(field_name: str) -> str:
    """Return ``field_name`` if it may be updated; ValueError otherwise."""
    if field_name not in ALLOWED_STAT_FIELDS:
        raise ValueError(f"invalid stat field: {field_name!r}")
    return field_name


def level_for_experience(experience: int) -> int:
    """The level a character has earned with ``experience`` points (same rule as the SQL)."""
    return 1 + max(0, experience) // XP_PER_LEVEL


def as_number(value: Any) -> int | float:
    """Normalise a value read back from the database (PostgreSQL numerics come as Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool) or value is None:
        return int(bool(value))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # type: ignore[no-any-return]


def _check_dialect(dialect: str) -> str:
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"no atomic stat statements for dialect {dialect!r}")
    return dialect


# --- health --------------------------------------------------------------------------------------

_SQLITE_HEALTH = """
UPDATE players
SET stats = json_set(
    stats,
    '$.health',
    max(0, min(coalesce(json_extract(stats, '$.max_health'), :default_max_health),
               coalesce(json_extract(stats, '$.health'), 0) + :delta))
)
WHERE player_id = :player_id {alive_guard}
RETURNING json_extract(stats, '$.health') AS health,
          json_extract(stats, '$.max_health') AS max_health,
          current_room_id
"""

_POSTGRES_HEALTH = """
UPDATE players
SET stats = jsonb_set(
    stats,
    '{{health}}',
    to_jsonb(GREATEST(0, LEAST(
        COALESCE((stats ->> 'max_health')::numeric, CAST(:default_max_health AS NUMERIC)),
        COALESCE((stats ->> 'health')::numeric, 0) + CAST(:delta AS NUMERIC))))
)
WHERE player_id = :player_id {alive_guard}
RETURNING (stats ->> 'health')::numeric AS health,
          (stats ->> 'max_health')::numeric AS max_health,
          current_room_id
"""

_ALIVE_GUARD = {
    "sqlite": "AND coalesce(json_extract(stats, '$.health'), 0) > 0",
    "postgresql": "AND COALESCE((stats ->> 'health')::numeric, 0) > 0",
}


def health_delta(
    dialect: str, player_id: str, delta: int, *, only_if_alive: bool = False
) -> StatStatement:
    """Add ``delta`` to health, clamped to ``[0, max_health]``.

    Returns columns ``health``, ``max_health``, ``current_room_id``. With ``only_if_alive`` the row
    is only touched while health is above 0, so exactly one concurrent hit can be the killing one.
    """
    template = _SQLITE_HEALTH if _check_dialect(dialect) == "sqlite" else _POSTGRES_HEALTH
    guard = _ALIVE_GUARD[dialect] if only_if_alive else ""
    return StatStatement(
        sql=text(template.format(alive_guard=guard)),
        params={
            "player_id": player_id,
            "delta": int(delta),
            "default_max_health": DEFAULT_STATS["max_health"],
        },
    )


# --- experience ----------------------------------------------------------------------------------

_SQLITE_EXPERIENCE = """
UPDATE players
SET stats = json_set(
    stats,
    '$.experience',
    max(0, coalesce(json_extract(stats, '$.experience'), 0) + :delta),
    '$.level',
    max(coalesce(json_extract(stats, '$.level'), 1),
        1 + CAST(max(0, coalesce(json_extract(stats, '$.experience'), 0) + :delta) AS INTEGER)
            / :xp_per_level)
)
WHERE player_id = :player_id
RETURNING json_extract(stats, '$.experience') AS experience,
          json_extract(stats, '$.level') AS level
"""

_POSTGRES_EXPERIENCE = """
UPDATE players
SET stats = jsonb_set(
    jsonb_set(
        stats,
        '{experience}',
        to_jsonb(GREATEST(0, COALESCE((stats ->> 'experience')::bigint, 0)
                             + CAST(:delta AS BIGINT)))
    ),
    '{level}',
    to_jsonb(GREATEST(
        COALESCE((stats ->> 'level')::bigint, 1),
        1 + GREATEST(0, COALESCE((stats ->> 'experience')::bigint, 0) + CAST(:delta AS BIGINT))
            / CAST(:xp_per_level AS BIGINT)))
)
WHERE player_id = :player_id
RETURNING (stats ->> 'experience')::bigint AS experience,
          (stats ->> 'level')::bigint AS level
"""


def experience_delta(dialect: str, player_id: str, delta: int) -> StatStatement:
    """Add ``delta`` experience (never below 0) and raise the level it earns (levels never drop).

    Returns columns ``experience`` and ``level``.
    """
    template = _SQLITE_EXPERIENCE if _check_dialect(dialect) == "sqlite" else _POSTGRES_EXPERIENCE
    return StatStatement(
        sql=text(template),
        params={"player_id": player_id, "delta": int(delta), "xp_per_level": XP_PER_LEVEL},
    )


# --- any other whitelisted field -----------------------------------------------------------------

_SQLITE_FIELD = """
UPDATE players
SET stats = json_set(stats, :path, {clamped})
WHERE player_id = :player_id
RETURNING json_extract(stats, :path) AS value
"""

_POSTGRES_FIELD = """
UPDATE players
SET stats = jsonb_set(stats, ARRAY[CAST(:field AS TEXT)], to_jsonb({clamped}))
WHERE player_id = :player_id
RETURNING (stats ->> CAST(:field AS TEXT))::numeric AS value
"""

_NEW_VALUE = {
    "sqlite": "coalesce(json_extract(stats, :path), :default) + :delta",
    "postgresql": (
        "COALESCE((stats ->> CAST(:field AS TEXT))::numeric, CAST(:default AS NUMERIC))"
        " + CAST(:delta AS NUMERIC)"
    ),
}
_LOWER = {
    "sqlite": "max(:lower, {value})",
    "postgresql": "GREATEST(CAST(:lower AS NUMERIC), {value})",
}
_UPPER = {
    "sqlite": "min(:upper, {value})",
    "postgresql": "LEAST(CAST(:upper AS NUMERIC), {value})",
}


def stat_field_delta(
    dialect: str, player_id: str, field_name: str, delta: int | float
) -> StatStatement:
    """Add ``delta`` to a whitelisted field other than health/experience, within its bounds.

    Returns the column ``value``. Health and experience have their own statements (health is
    clamped by max_health, experience moves the level) and are routed there by the callers.
    """
    validate_stat_field(field_name)
    if field_name in ("health", "experience"):
        raise ValueError(f"{field_name!r} has a dedicated statement")
    _check_dialect(dialect)
    lower, upper = _FIELD_BOUNDS[field_name]
    clamped = _LOWER[dialect].format(value=_NEW_VALUE[dialect])
    params: dict[str, Any] = {
        "player_id": player_id,
        "delta": delta,
        "default": DEFAULT_STATS[field_name],
        "lower": lower,
    }
    if upper is not None:
        clamped = _UPPER[dialect].format(value=clamped)
        params["upper"] = upper
    if dialect == "sqlite":
        params["path"] = f"$.{field_name}"
        template = _SQLITE_FIELD
    else:
        params["field"] = field_name
        template = _POSTGRES_FIELD
    return StatStatement(sql=text(template.format(clamped=clamped)), params=params)
