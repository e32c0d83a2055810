from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.events import EventBus, PlayerDamaged
from server.game.mechanics import GameMechanicsService
from server.models import Player
from server.persistence.repositories import get_health_repository, get_player_repository
from server.services.health_service import REGENERATION_PER_TICK, HealthError, HealthService

MakePlayer = Callable[..., Player]
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def reload(session: Session, player_id: str) -> Player:
    player = session.get(Player, player_id, populate_existing=True)
    assert player is not None
    return player


def age_player(session: Session, player_id: str) -> None:
    session.execute(
        update(Player).where(Player.player_id == player_id).values(last_active=LONG_AGO)
    )
    session.commit()


@pytest.fixture
def health(event_bus: EventBus) -> HealthService:
    return HealthService(event_bus)


def test_damage_events_are_recorded_through_the_lambda_subscription(
    health: HealthService, make_player: MakePlayer, sync_session: Session, event_bus: EventBus
) -> None:
    player = make_player("Armitage")
    age_player(sync_session, player.player_id)
    mechanics = GameMechanicsService()
    mechanics.apply_damage(player.player_id, 12)
    mechanics.apply_damage(player.player_id, 8)
    assert health.damage_taken(player.player_id) == 20
    assert reload(sync_session, player.player_id).last_active > LONG_AGO + timedelta(days=1)
    assert not event_bus.failures


def test_record_damage_returns_current_health(
    health: HealthService, make_player: MakePlayer
) -> None:
    player = make_player(health=55)
    assert health.record_damage(player.player_id, 3) == 55
    assert health.record_damage("0" * 32, 3) is None
    assert health.damage_taken("0" * 32) == 3


def test_published_event_reaches_the_handler(health: HealthService, event_bus: EventBus) -> None:
    event_bus.publish(PlayerDamaged("nobody", 9, "cold", 91))
    assert health.damage_taken("nobody") == 9


async def test_damage_through_the_async_repository_is_recorded(
    health: HealthService, make_player: MakePlayer
) -> None:
    player = make_player()
    stored = await get_player_repository().get_player_by_id(player.player_id)
    assert stored is not None
    await get_health_repository().damage_player(stored, 15, "psychic")
    assert health.damage_taken(player.player_id) == 15
    assert stored.get_stats()["health"] == 85


def test_heal(health: HealthService, make_player: MakePlayer, sync_session: Session) -> None:
    player = make_player(health=40)
    healed = health.heal(player.player_id, 25)
    assert healed.get_stats()["health"] == 65
    assert reload(sync_session, player.player_id).get_stats()["health"] == 65


def test_heal_refuses_bad_requests(health: HealthService, make_player: MakePlayer) -> None:
    corpse = make_player("Corpse", health=0)
    with pytest.raises(HealthError, match="beyond healing"):
        health.heal(corpse.player_id, 10)
    with pytest.raises(HealthError, match="positive"):
        health.heal(corpse.player_id, 0)
    with pytest.raises(HealthError, match="not found"):
        health.heal("0" * 32, 5)


def test_adjust_health_clamps(
    health: HealthService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(health=90)
    health.adjust_health(player.player_id, 50, reason="elixir")
    assert reload(sync_session, player.player_id).get_stats()["health"] == 100
    health.adjust_health(player.player_id, -130, reason="trap")
    assert reload(sync_session, player.player_id).get_stats()["health"] == 0
    with pytest.raises(HealthError):
        health.adjust_health(player.player_id, 0)


def test_regenerate_heals_only_the_living_wounded(
    health: HealthService, make_player: MakePlayer, sync_session: Session
) -> None:
    wounded = make_player("Wounded", health=50)
    whole = make_player("Whole")
    dead = make_player("Dead", health=0)
    healed = health.regenerate([wounded.player_id, whole.player_id, dead.player_id, "0" * 32])
    assert healed == [wounded.player_id]
    assert reload(sync_session, wounded.player_id).get_stats()["health"] == (
        50 + REGENERATION_PER_TICK
    )
    assert reload(sync_session, dead.player_id).get_stats()["health"] == 0
