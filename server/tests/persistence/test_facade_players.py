"""The facade's player methods, against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import Player
from server.persistence import PersistenceLayer, get_persistence


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


def test_get_player_returns_a_detached_copy(persistence: PersistenceLayer, make_player) -> None:
    created = make_player("Armitage", health=80)

    loaded = persistence.get_player(created.player_id)

    assert loaded is not None and loaded is not created
    assert loaded.name == "Armitage"
    assert loaded.get_stats()["health"] == 80
    assert loaded.is_alive


def test_get_player_unknown_id_is_none(persistence: PersistenceLayer) -> None:
    assert persistence.get_player("0" * 32) is None


def test_get_player_by_name(persistence: PersistenceLayer, make_player) -> None:
    created = make_player("Wilmarth")

    assert persistence.get_player_by_name("Wilmarth").player_id == created.player_id
    assert persistence.get_player_by_name("wilmarth") is None


def test_get_player_by_user_id(persistence: PersistenceLayer, make_user, make_player) -> None:
    user = make_user("henry")
    created = make_player("Henry Armitage", user_id=user.id)
    make_player("Someone Else")

    assert persistence.get_player_by_user_id(user.id).player_id == created.player_id
    assert persistence.get_player_by_user_id("nobody") is None


def test_save_player_inserts_a_new_player(persistence: PersistenceLayer, sync_session) -> None:
    player = Player(name="Carter", current_room_id="arkham_library", profession_id=2)

    persistence.save_player(player)

    stored = sync_session.get(Player, player.player_id)
    assert stored.name == "Carter"
    assert stored.current_room_id == "arkham_library"
    assert stored.get_stats()["health"] == 100
    assert stored.inventory == []


def test_save_player_updates_mutated_stats_and_room(
    persistence: PersistenceLayer, make_player
) -> None:
    player = persistence.get_player(make_player("Pickman").player_id)
    player.stats["lucidity"] = 42
    player.current_room_id = "arkham_docks"
    player.inventory = [{"item_id": "lantern", "quantity": 1}]

    persistence.save_player(player)

    reloaded = persistence.get_player(player.player_id)
    assert reloaded.get_stats()["lucidity"] == 42
    assert reloaded.current_room_id == "arkham_docks"
    assert reloaded.inventory == [{"item_id": "lantern", "quantity": 1}]


def test_save_player_without_name_is_refused(persistence: PersistenceLayer) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        persistence.save_player(Player(name=""))


def test_save_players_is_one_transaction(persistence: PersistenceLayer, sync_session) -> None:
    first = Player(name="Olmstead")
    clash = Player(name="Olmstead")

    with pytest.raises(IntegrityError):
        persistence.save_players([first, clash])

    assert sync_session.scalars(select(Player)).all() == []


def test_save_players_saves_all(persistence: PersistenceLayer) -> None:
    players = [Player(name="Dyer"), Player(name="Danforth"), Player(name="Lake")]

    persistence.save_players(players)

    assert [p.name for p in persistence.list_players()] == ["Danforth", "Dyer", "Lake"]


def test_delete_player(persistence: PersistenceLayer, make_player) -> None:
    player = make_player()

    assert persistence.delete_player(player.player_id) is True
    assert persistence.get_player(player.player_id) is None
    assert persistence.delete_player(player.player_id) is False


def test_list_players_orders_by_name(persistence: PersistenceLayer, make_player) -> None:
    for name in ("Zadok", "Asenath", "Marsh"):
        make_player(name)

    assert [p.name for p in persistence.list_players()] == ["Asenath", "Marsh", "Zadok"]


def test_get_players_in_room(persistence: PersistenceLayer, make_player) -> None:
    make_player("B", room_id="arkham_library")
    make_player("A", room_id="arkham_library")
    make_player("C", room_id="arkham_docks")

    assert [p.name for p in persistence.get_players_in_room("arkham_library")] == ["A", "B"]
    assert persistence.get_players_in_room("dunwich_hill") == []


def test_get_players_batch_keeps_the_requested_order(
    persistence: PersistenceLayer, make_player
) -> None:
    a, b, c = make_player("A"), make_player("B"), make_player("C")

    batch = persistence.get_players_batch([c.player_id, "missing", a.player_id, c.player_id])

    assert [p.name for p in batch] == ["C", "A"]
    assert persistence.get_players_batch([]) == []
    assert b.player_id not in {p.player_id for p in batch}


def test_update_player_last_active(persistence: PersistenceLayer, make_player) -> None:
    player = make_player()
    when = datetime(2025, 12, 5, 12, 30, tzinfo=UTC)

    persistence.update_player_last_active(player.player_id, when)
    assert persistence.get_player(player.player_id).last_active == when

    before = datetime.now(UTC) - timedelta(seconds=5)
    persistence.update_player_last_active(player.player_id)
    assert persistence.get_player(player.player_id).last_active >= before


def test_validate_and_fix_player_room_moves_a_lost_player(
    persistence: PersistenceLayer, make_player
) -> None:
    lost = make_player(room_id="rlyeh_sunken_city")
    player = persistence.get_player(lost.player_id)

    assert persistence.validate_and_fix_player_room(player) is True
    assert player.current_room_id == "arkham_square"
    assert persistence.get_player(lost.player_id).current_room_id == "arkham_square"


def test_validate_and_fix_player_room_leaves_a_valid_room(
    persistence: PersistenceLayer, make_player
) -> None:
    player = make_player(room_id="innsmouth_marsh")

    assert persistence.validate_and_fix_player_room(player) is False
    assert persistence.get_player(player.player_id).current_room_id == "innsmouth_marsh"


def test_deleting_a_user_keeps_the_character(
    persistence: PersistenceLayer, make_user, make_player, sync_session: Session
) -> None:
    user = make_user("randolph")
    player = make_player(user_id=user.id)

    sync_session.delete(sync_session.get(type(user), user.id))
    sync_session.commit()

    assert persistence.get_player(player.player_id).user_id is None
