from __future__ import annotations

from collections.abc import Callable

import pytest

from server.models import Player, User
from server.persistence import PersistenceLayer, get_persistence
from server.services.user_manager import (
    CharacterNotFoundError,
    NameTakenError,
    UserManager,
    UserManagerError,
    validate_character_name,
)

MakeUser = Callable[..., User]


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def manager(persistence: PersistenceLayer) -> UserManager:
    return UserManager(persistence)


@pytest.mark.parametrize("name", ["ab", "1abc", "with space", "x" * 21, "Admin"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(UserManagerError):
        validate_character_name(name)


def test_valid_name_is_stripped() -> None:
    assert validate_character_name("  Dr_Armitage-2 ") == "Dr_Armitage-2"


def test_create_character_for_a_user(
    manager: UserManager, persistence: PersistenceLayer, make_user: MakeUser
) -> None:
    user = make_user("henry")
    player = manager.create_character(user.id, "Armitage", profession_id=2)
    stored = persistence.get_player_by_user_id(user.id)
    assert stored is not None
    assert stored.player_id == player.player_id
    assert stored.name == "Armitage"
    assert stored.current_room_id == "arkham_square"
    assert stored.get_stats()["intelligence"] == 13
    assert manager.get_character(user.id) is not None


def test_one_character_per_account(manager: UserManager, make_user: MakeUser) -> None:
    user = make_user()
    manager.create_character(user.id, "First")
    with pytest.raises(UserManagerError, match="already has a character"):
        manager.create_character(user.id, "Second")


def test_names_are_unique(manager: UserManager, persistence: PersistenceLayer) -> None:
    persistence.save_player(Player(name="Taken"))
    with pytest.raises(NameTakenError):
        manager.create_character(None, "Taken")


def test_rename_character(manager: UserManager, persistence: PersistenceLayer) -> None:
    player = Player(name="Oldname")
    persistence.save_player(player)
    renamed = manager.rename_character(player.player_id, "Newname")
    assert renamed.name == "Newname"
    assert persistence.get_player_by_name("Oldname") is None
    stored = persistence.get_player_by_name("Newname")
    assert stored is not None and stored.player_id == player.player_id


def test_rename_to_the_same_name_is_a_no_op(
    manager: UserManager, persistence: PersistenceLayer
) -> None:
    player = Player(name="Same")
    persistence.save_player(player)
    assert manager.rename_character(player.player_id, "Same").name == "Same"


def test_rename_conflicts_and_missing_players(
    manager: UserManager, persistence: PersistenceLayer
) -> None:
    first = Player(name="First")
    persistence.save_players([first, Player(name="Second")])
    with pytest.raises(NameTakenError):
        manager.rename_character(first.player_id, "Second")
    with pytest.raises(CharacterNotFoundError):
        manager.rename_character("0" * 32, "Whoever")


def test_delete_character(
    manager: UserManager, persistence: PersistenceLayer, make_user: MakeUser
) -> None:
    user = make_user()
    player = manager.create_character(user.id, "Doomed")
    assert manager.delete_character(user.id) is True
    assert persistence.get_player(player.player_id) is None
    assert manager.delete_character(user.id) is False
