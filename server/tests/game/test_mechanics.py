from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.events import EventBus, ExperienceGained, PlayerDamaged, PlayerDied
from server.game.mechanics import (
    LEVEL_UP_LUCIDITY,
    GameMechanicsService,
    GameRuleError,
    PlayerNotFoundError,
    attribute_modifier,
    sync_player_level,
)
from server.models import Player
from server.persistence import get_persistence

MakePlayer = Callable[..., Player]


def stored_stats(session: Session, player_id: str) -> dict[str, Any]:
    player = session.get(Player, player_id, populate_existing=True)
    assert player is not None
    return player.get_stats()


@pytest.fixture
def mechanics() -> GameMechanicsService:
    return GameMechanicsService()


def test_attribute_modifier() -> None:
    assert attribute_modifier(10) == 0
    assert attribute_modifier(14) == 2
    assert attribute_modifier(7) == -2


def test_apply_damage_lowers_health_and_publishes(
    mechanics: GameMechanicsService,
    make_player: MakePlayer,
    sync_session: Session,
    event_bus: EventBus,
) -> None:
    seen: list[PlayerDamaged] = []
    event_bus.subscribe(PlayerDamaged, seen.append)
    player = make_player("Armitage")
    damaged = mechanics.apply_damage(player.player_id, 30, "fire")
    assert damaged.get_stats()["health"] == 70
    assert stored_stats(sync_session, player.player_id)["health"] == 70
    assert [(e.player_id, e.amount, e.damage_type) for e in seen] == [
        (player.player_id, 30, "fire")
    ]


def test_killing_blow_publishes_player_died(
    mechanics: GameMechanicsService, make_player: MakePlayer, event_bus: EventBus
) -> None:
    deaths: list[PlayerDied] = []
    event_bus.subscribe(PlayerDied, deaths.append)
    victim = make_player("Whateley", room_id="dunwich_hill", health=5)
    result = mechanics.apply_damage(victim.player_id, 50)
    assert not result.is_alive
    assert deaths == [PlayerDied(victim.player_id, "dunwich_hill")]


def test_the_dead_cannot_be_damaged_or_healed(
    mechanics: GameMechanicsService, make_player: MakePlayer
) -> None:
    corpse = make_player("Corpse", health=0)
    with pytest.raises(GameRuleError, match="already dead"):
        mechanics.apply_damage(corpse.player_id, 1)
    with pytest.raises(GameRuleError, match="cannot be healed"):
        mechanics.heal(corpse.player_id, 10)


def test_amounts_must_be_positive_and_players_known(
    mechanics: GameMechanicsService, make_player: MakePlayer
) -> None:
    player = make_player()
    with pytest.raises(GameRuleError):
        mechanics.apply_damage(player.player_id, 0)
    with pytest.raises(GameRuleError):
        mechanics.award_experience(player.player_id, -5)
    with pytest.raises(PlayerNotFoundError):
        mechanics.apply_damage("0" * 32, 5)


def test_heal_is_capped_at_max_health(
    mechanics: GameMechanicsService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(health=60)
    mechanics.heal(player.player_id, 500)
    assert stored_stats(sync_session, player.player_id)["health"] == 100


def test_award_experience_levels_up_and_restores_lucidity(
    mechanics: GameMechanicsService,
    make_player: MakePlayer,
    sync_session: Session,
    event_bus: EventBus,
) -> None:
    gained: list[ExperienceGained] = []
    event_bus.subscribe(ExperienceGained, gained.append)
    player = make_player(experience=90, lucidity=50)
    result = mechanics.award_experience(player.player_id, 25, source="quest")
    stats = stored_stats(sync_session, player.player_id)
    assert stats["experience"] == 115
    assert stats["level"] == 2
    assert stats["lucidity"] == 50 + LEVEL_UP_LUCIDITY
    assert result.get_stats()["level"] == 2
    assert gained[0].source == "quest"


def test_award_experience_without_level_up_leaves_lucidity(
    mechanics: GameMechanicsService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(lucidity=50)
    mechanics.award_experience(player.player_id, 10)
    assert stored_stats(sync_session, player.player_id)["lucidity"] == 50


def test_adjust_lucidity_is_clamped(
    mechanics: GameMechanicsService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(lucidity=95)
    assert mechanics.adjust_lucidity(player.player_id, 20) == 100
    assert mechanics.adjust_lucidity(player.player_id, -150, reason="saw the thing") == 0
    assert stored_stats(sync_session, player.player_id)["lucidity"] == 0


def test_sync_player_level_raises_a_lagging_level(
    make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(experience=250, level=1)
    assert sync_player_level(get_persistence(), player.player_id) == 3
    assert stored_stats(sync_session, player.player_id)["level"] == 3


def test_sync_player_level_never_lowers_a_level(
    make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(experience=0, level=4)
    assert sync_player_level(get_persistence(), player.player_id) == 4
    assert stored_stats(sync_session, player.player_id)["level"] == 4


def test_sync_player_level_unknown_player() -> None:
    with pytest.raises(PlayerNotFoundError):
        sync_player_level(get_persistence(), "f" * 32)


def test_apply_damage_caps_a_single_hit(
    mechanics: GameMechanicsService, make_player: MakePlayer, sync_session: Session
) -> None:
    player = make_player(max_health=5000, health=5000)
    mechanics.apply_damage(player.player_id, 10_000)
    assert stored_stats(sync_session, player.player_id)["health"] == 4000
