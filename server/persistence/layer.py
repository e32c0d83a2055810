"""The synchronous persistence facade every game module uses today.

One object, ``PersistenceLayer``, fronts players, rooms, professions, stats, containers and items.
Each method opens its own session, commits, and returns detached objects (``expire_on_commit`` is
off), so callers can keep a ``Player`` across calls and hand it back to ``save_player`` — or to the
async ``PlayerRepository.save_player``; both sides merge.

The facade resolves the event bus and room cache when it needs them unless it was given explicit
ones, so a module that grabbed ``get_persistence()`` at import time keeps working after tests reset
those singletons.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.db import sync_session
from server.events import (
    EventBus,
    ExperienceGained,
    PlayerDamaged,
    PlayerDied,
    PlayerHealed,
    PlayerStatChanged,
    get_event_bus,
)
from server.models import DEFAULT_ROOM_ID, Player, Profession, Room, utcnow
from server.persistence import container_persistence, item_instance_persistence, stat_updates
from server.persistence.utils import DEFAULT_RETRY_POLICY, RetryPolicy, retry_sync
from server.world import RoomCache, get_room_cache

if TYPE_CHECKING:  # the repositories import this package: at run time they are imported on first use
    from server.persistence.repositories import (
        ContainerRepository,
        ExperienceRepository,
        HealthRepository,
        ItemRepository,
        PlayerRepository,
        ProfessionRepository,
        RoomRepository,
    )

logger = logging.getLogger(__name__)

T = TypeVar("T")


class PersistenceLayer:
    """Sync access to everything the game stores. One per process: use ``get_persistence()``."""

    def __init__(
        self,
        event_bus: EventBus | None = None,
        *,
        room_cache: RoomCache | None = None,
        session_factory: Callable[[], Session] = sync_session,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    ) -> None:
        self._event_bus = event_bus
        self._room_cache = room_cache
        self._session_factory = session_factory
        self._retry_policy = retry_policy

    # --- plumbing ---------------------------------------------------------------------------------

    @property
    def event_bus(self) -> EventBus:
        return self._event_bus if self._event_bus is not None else get_event_bus()

    @property
    def room_cache(self) -> RoomCache:
        return self._room_cache if self._room_cache is not None else get_room_cache()

    # --- the async side, reached from the same object ------------------------------------------------
    # Code that receives this facade (a constructor argument, ``request.app.state.persistence``,
    # ``Depends(get_persistence)``) keeps receiving it once migrated, and reaches the async repositories
    # through it: ``await persistence.players.get_player_by_id(x)``. Migration is gradual, so the same
    # object serves migrated and unmigrated code. They are properties, so ``MagicMock(spec=PersistenceLayer)``
    # has them too. A facade built with the process-wide plumbing hands out the process-wide repositories
    # (what ``get_player_repository()`` returns); one built with its own bus, cache or sessions gets
    # repositories built with the same.

    def _uses_shared_plumbing(self) -> bool:
        return self._event_bus is None and self._room_cache is None and self._session_factory is sync_session

    def _own_repository(self, name: str, build: Callable[[], T]) -> T:
        repositories: dict[str, Any] = self.__dict__.setdefault("_own_repositories", {})
        if name not in repositories:
            repositories[name] = build()
        return repositories[name]  # type: ignore[no-any-return]

    @property
    def players(self) -> PlayerRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_player_repository()
        return self._own_repository(
            "players",
            lambda: repositories.PlayerRepository(self._room_cache, self._event_bus, retry_policy=self._retry_policy),
        )

    @property
    def rooms(self) -> RoomRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_room_repository()
        return self._own_repository("rooms", lambda: repositories.RoomRepository(self._room_cache))

    @property
    def professions(self) -> ProfessionRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_profession_repository()
        return self._own_repository("professions", repositories.ProfessionRepository)

    @property
    def health(self) -> HealthRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_health_repository()
        return self._own_repository("health", lambda: repositories.HealthRepository(self._event_bus))

    @property
    def experience(self) -> ExperienceRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_experience_repository()
        return self._own_repository("experience", lambda: repositories.ExperienceRepository(self._event_bus))

    @property
    def containers(self) -> ContainerRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_container_repository()
        return self._own_repository(
            "containers", lambda: repositories.ContainerRepository(session_factory=self._session_factory)
        )

    @property
    def items(self) -> ItemRepository:
        from server.persistence import repositories

        if self._uses_shared_plumbing():
            return repositories.get_item_repository()
        return self._own_repository(
            "items", lambda: repositories.ItemRepository(session_factory=self._session_factory)
        )

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._session_factory() as session, session.begin():
            yield session

    def _run(self, name: str, work: Callable[[Session], T]) -> T:
        """Run ``work`` in its own committed transaction, retrying transient failures."""

        def attempt() -> T:
            with self._transaction() as session:
                return work(session)

        return retry_sync(attempt, policy=self._retry_policy, name=name)

    def _dialect(self, session: Session) -> str:
        return session.get_bind().dialect.name

    # --- players ----------------------------------------------------------------------------------

    def get_player(self, player_id: str) -> Player | None:
        return self._run("get_player", lambda s: s.get(Player, player_id))

    def get_player_by_name(self, name: str) -> Player | None:
        return self._run(
            "get_player_by_name", lambda s: s.scalar(select(Player).where(Player.name == name))
        )

    def get_player_by_user_id(self, user_id: str) -> Player | None:
        """The (first-created) character of an account."""
        return self._run(
            "get_player_by_user_id",
            lambda s: s.scalars(
                select(Player)
                .where(Player.user_id == user_id)
                .order_by(Player.created_at, Player.player_id)
                .limit(1)
            ).first(),
        )

    def save_player(self, player: Player) -> None:
        """Insert or update a player (merge: the object may come from any session or side)."""
        if not player.name:
            raise ValueError("a player needs a name")
        self._run("save_player", lambda s: s.merge(player))

    def save_players(self, players: list[Player]) -> None:
        """Save several players in one transaction: all or none."""
        if any(not player.name for player in players):
            raise ValueError("a player needs a name")

        def work(session: Session) -> None:
            for player in players:
                session.merge(player)

        self._run("save_players", work)

    def delete_player(self, player_id: str) -> bool:
        result = self._run(
            "delete_player",
            lambda s: s.execute(delete(Player).where(Player.player_id == player_id)),
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def list_players(self) -> list[Player]:
        """Every player and NPC, ordered by name."""
        return self._run(
            "list_players", lambda s: list(s.scalars(select(Player).order_by(Player.name)))
        )

    def get_players_in_room(self, room_id: str) -> list[Player]:
        """Everyone standing in a room, ordered by name."""
        return self._run(
            "get_players_in_room",
            lambda s: list(
                s.scalars(
                    select(Player).where(Player.current_room_id == room_id).order_by(Player.name)
                )
            ),
        )

    def get_players_batch(self, player_ids: list[str]) -> list[Player]:
        """The players among ``player_ids`` that exist, in the order asked for."""
        wanted = list(dict.fromkeys(player_ids))
        if not wanted:
            return []
        found = self._run(
            "get_players_batch",
            lambda s: {
                p.player_id: p
                for p in s.scalars(select(Player).where(Player.player_id.in_(wanted)))
            },
        )
        return [found[player_id] for player_id in wanted if player_id in found]

    def update_player_last_active(
        self, player_id: str, last_active: datetime | None = None
    ) -> None:
        when = last_active or utcnow()
        self._run(
            "update_player_last_active",
            lambda s: s.execute(
                update(Player).where(Player.player_id == player_id).values(last_active=when)
            ),
        )

    def validate_and_fix_player_room(self, player: Player) -> bool:
        """Move a player standing in an unknown room to the start room; True if it was moved."""
        if player.current_room_id in self.room_cache:
            return False
        logger.warning(
            "player %s was in unknown room %r, moving to %s",
            player.player_id,
            player.current_room_id,
            DEFAULT_ROOM_ID,
        )
        player.current_room_id = DEFAULT_ROOM_ID
        self.save_player(player)
        return True

    # --- rooms ------------------------------------------------------------------------------------

    def get_room(self, room_id: str) -> Room | None:
        return self.room_cache.get(room_id)

    def list_rooms(self) -> list[Room]:
        """Every room, ordered by room id."""
        return self.room_cache.all()

    def save_room(self, room: Room) -> None:
        """Insert or update a room and refresh the room cache with it."""
        if not room.room_id or not room.name:
            raise ValueError("a room needs a room_id and a name")
        unknown = sorted(
            target
            for target in (room.exits or {}).values()
            if target != room.room_id and target not in self.room_cache
        )
        if unknown:
            raise ValueError(f"room {room.room_id!r} has exits to unknown rooms: {unknown}")
        saved = self._run("save_room", lambda s: s.merge(room))
        self.room_cache.put(saved)

    # --- professions ------------------------------------------------------------------------------

    def get_all_professions(self) -> list[Profession]:
        """Every profession (available or not), ordered by id."""
        return self._run(
            "get_all_professions",
            lambda s: list(s.scalars(select(Profession).order_by(Profession.id))),
        )

    def get_profession_by_id(self, profession_id: int) -> Profession | None:
        return self._run("get_profession_by_id", lambda s: s.get(Profession, profession_id))

    # --- health -----------------------------------------------------------------------------------

    def _apply_health_delta(self, player_id: str, delta: int) -> tuple[Any, bool]:
        """Run the atomic health update. Returns (row or None, player exists)."""

        def work(session: Session) -> tuple[Any, bool]:
            statement = stat_updates.health_delta(
                self._dialect(session), player_id, delta, only_if_alive=delta < 0
            )
            row = session.execute(statement.sql, statement.params).first()
            if row is not None:
                return row, True
            return None, session.get(Player, player_id) is not None

        return self._run("update health", work)

    def damage_player(self, player: Player, amount: int, damage_type: str = "physical") -> None:
        """Take ``amount`` health from a living player (atomically); a killing blow publishes
        PlayerDied. Damage to a player already at 0 health changes nothing."""
        if amount < 0:
            raise ValueError(f"damage amount must not be negative, got {amount}")
        row, exists = self._apply_health_delta(player.player_id, -amount)
        if row is None:
            if not exists:
                logger.warning("damage_player: no player %s", player.player_id)
            return
        health = int(stat_updates.as_number(row.health))
        player.stats = {**(player.stats or {}), "health": health}
        self.event_bus.publish(PlayerDamaged(player.player_id, amount, damage_type, health))
        if health == 0:
            self.event_bus.publish(PlayerDied(player.player_id, row.current_room_id))

    def heal_player(self, player: Player, amount: int) -> None:
        """Give back up to ``amount`` health (never above max_health), atomically."""
        if amount < 0:
            raise ValueError(f"heal amount must not be negative, got {amount}")
        row, _exists = self._apply_health_delta(player.player_id, amount)
        if row is None:
            logger.warning("heal_player: no player %s", player.player_id)
            return
        health = int(stat_updates.as_number(row.health))
        player.stats = {**(player.stats or {}), "health": health}
        self.event_bus.publish(PlayerHealed(player.player_id, amount, health))

    def update_player_health(self, player_id: str, delta: int, reason: str = "") -> None:
        """Change a player's health by ``delta`` (either sign), clamped to [0, max_health]."""
        row, exists = self._apply_health_delta(player_id, delta)
        if row is None:
            if not exists:
                logger.warning("update_player_health: no player %s (%s)", player_id, reason)
            return
        health = int(stat_updates.as_number(row.health))
        logger.debug("health of %s changed by %d (%s) to %d", player_id, delta, reason, health)
        self.event_bus.publish(PlayerStatChanged(player_id, "health", delta, health))
        if delta < 0 and health == 0:
            self.event_bus.publish(PlayerDied(player_id, row.current_room_id))

    # --- experience and stats ---------------------------------------------------------------------

    def _apply_experience_delta(self, player_id: str, delta: int) -> Any:
        def work(session: Session) -> Any:
            statement = stat_updates.experience_delta(self._dialect(session), player_id, delta)
            return session.execute(statement.sql, statement.params).first()

        return self._run("update experience", work)

    def gain_experience(self, player: Player, amount: int, source: str = "unknown") -> None:
        """Award experience (atomically), raising the level when a threshold is crossed."""
        if amount < 0:
            raise ValueError(f"experience amount must not be negative, got {amount}")
        row = self._apply_experience_delta(player.player_id, amount)
        if row is None:
            logger.warning("gain_experience: no player %s", player.player_id)
            return
        experience = int(stat_updates.as_number(row.experience))
        level = int(stat_updates.as_number(row.level))
        player.stats = {**(player.stats or {}), "experience": experience, "level": level}
        self.event_bus.publish(ExperienceGained(player.player_id, amount, source, experience))

    def update_player_xp(self, player_id: str, delta: int, reason: str = "") -> None:
        """Change experience by ``delta`` (either sign, never below 0)."""
        row = self._apply_experience_delta(player_id, delta)
        if row is None:
            logger.warning("update_player_xp: no player %s (%s)", player_id, reason)
            return
        experience = int(stat_updates.as_number(row.experience))
        self.event_bus.publish(PlayerStatChanged(player_id, "experience", delta, experience))

    def update_player_stat_field(
        self, player_id: str, field_name: str, delta: int | float, reason: str = ""
    ) -> None:
        """Change one whitelisted stat by ``delta``; ValueError for any other field name."""
        stat_updates.validate_stat_field(field_name)
        if field_name == "health":
            self.update_player_health(player_id, int(delta), reason)
            return
        if field_name == "experience":
            self.update_player_xp(player_id, int(delta), reason)
            return

        def work(session: Session) -> Any:
            statement = stat_updates.stat_field_delta(
                self._dialect(session), player_id, field_name, delta
            )
            return session.execute(statement.sql, statement.params).first()

        row = self._run("update_player_stat_field", work)
        if row is None:
            logger.warning("update_player_stat_field: no player %s (%s)", player_id, reason)
            return
        value = stat_updates.as_number(row.value)
        self.event_bus.publish(PlayerStatChanged(player_id, field_name, delta, value))

    # --- containers -------------------------------------------------------------------------------

    def create_container(
        self,
        source_type: str,
        *,
        owner_id: str | None = None,
        room_id: str | None = None,
        entity_id: str | None = None,
        capacity_slots: int = 10,
        items: list[Any] | None = None,
        lock_state: str = "unlocked",
        decays_at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._run(
            "create_container",
            lambda s: container_persistence.create_container(
                s,
                source_type,
                owner_id=owner_id,
                room_id=room_id,
                entity_id=entity_id,
                capacity_slots=capacity_slots,
                items=items,
                lock_state=lock_state,
                decays_at=decays_at,
                metadata=metadata,
            ),
        )

    def get_container(self, container_id: str) -> dict[str, Any] | None:
        return self._run(
            "get_container", lambda s: container_persistence.get_container(s, container_id)
        )

    def get_containers_by_room_id(self, room_id: str) -> list[dict[str, Any]]:
        return self._run(
            "get_containers_by_room_id",
            lambda s: container_persistence.get_containers_by_room_id(s, room_id),
        )

    def get_containers_by_entity_id(self, entity_id: str) -> list[dict[str, Any]]:
        return self._run(
            "get_containers_by_entity_id",
            lambda s: container_persistence.get_containers_by_entity_id(s, entity_id),
        )

    def update_container(
        self,
        container_id: str,
        *,
        items: list[Any] | None = None,
        lock_state: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        return self._run(
            "update_container",
            lambda s: container_persistence.update_container(
                s, container_id, items=items, lock_state=lock_state, metadata=metadata
            ),
        )

    def get_decayed_containers(self, current_time: datetime | None = None) -> list[dict[str, Any]]:
        return self._run(
            "get_decayed_containers",
            lambda s: container_persistence.get_decayed_containers(s, current_time),
        )

    def delete_container(self, container_id: str) -> bool:
        return self._run(
            "delete_container", lambda s: container_persistence.delete_container(s, container_id)
        )

    # --- item instances ---------------------------------------------------------------------------

    def create_item_instance(
        self,
        item_instance_id: str,
        prototype_id: str,
        *,
        owner_type: str = "room",
        owner_id: str | None = None,
        location_context: str | None = None,
        quantity: int = 1,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._run(
            "create_item_instance",
            lambda s: item_instance_persistence.create_item_instance(
                s,
                item_instance_id,
                prototype_id,
                owner_type=owner_type,
                owner_id=owner_id,
                location_context=location_context,
                quantity=quantity,
                metadata=metadata,
            ),
        )

    def ensure_item_instance(
        self,
        item_instance_id: str,
        prototype_id: str,
        *,
        owner_type: str = "room",
        owner_id: str | None = None,
        location_context: str | None = None,
        quantity: int = 1,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._run(
            "ensure_item_instance",
            lambda s: item_instance_persistence.ensure_item_instance(
                s,
                item_instance_id,
                prototype_id,
                owner_type=owner_type,
                owner_id=owner_id,
                location_context=location_context,
                quantity=quantity,
                metadata=metadata,
            ),
        )

    def item_instance_exists(self, item_instance_id: str) -> bool:
        return self._run(
            "item_instance_exists",
            lambda s: item_instance_persistence.item_instance_exists(s, item_instance_id),
        )


_instance_lock = threading.Lock()
_instance: PersistenceLayer | None = None


def _no_event_bus() -> None:
    """Dependency stand-in: under FastAPI the facade uses the process-wide bus."""
    return None


def get_persistence(
    event_bus: Annotated[EventBus | None, Depends(_no_event_bus)] = None,
) -> PersistenceLayer:
    """The process-wide facade, created on first call (with ``event_bus`` if one is given).

    Usable directly (``get_persistence()``, ``get_persistence(bus)``) and as a FastAPI dependency
    (``Depends(get_persistence)``): the ``event_bus`` parameter is itself a dependency there, so it
    never turns into a query parameter.
    """
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = PersistenceLayer(event_bus=event_bus)
        return _instance


def reset_persistence() -> None:
    """Drop the process-wide facade (tests); the next ``get_persistence()`` builds a new one."""
    global _instance
    with _instance_lock:
        _instance = None
