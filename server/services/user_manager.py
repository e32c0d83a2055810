"""Characters owned by user accounts: creation, naming, removal."""

from __future__ import annotations

import re

from server.game.stats_generator import StatsGenerator
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{2,19}$")
RESERVED_NAMES = frozenset({"admin", "system", "server", "nobody"})


class UserManagerError(ValueError):
    """A request about a user's character that cannot be honoured."""


class NameTakenError(UserManagerError):
    pass


class CharacterNotFoundError(UserManagerError, LookupError):
    pass


def validate_character_name(name: str) -> str:
    """Names: 3-20 characters, a letter first, then letters, digits, '_' or '-'."""
    cleaned = name.strip()
    if not NAME_PATTERN.match(cleaned):
        raise UserManagerError(
            "a name has 3-20 characters: a letter, then letters, digits, '_' or '-'"
        )
    if cleaned.casefold() in RESERVED_NAMES:
        raise UserManagerError(f"the name {cleaned!r} is reserved")
    return cleaned


class UserManager:
    """Manages the one character each user account may own."""

    def __init__(self, persistence: PersistenceLayer | None = None) -> None:
        self.persistence = persistence if persistence is not None else get_persistence()

    def _ensure_name_free(self, name: str, owner_id: str | None = None) -> None:
        existing = self.persistence.get_player_by_name(name)
        if existing is not None and existing.player_id != owner_id:
            raise NameTakenError(f"the name {name!r} is taken")

    def create_character(
        self, user_id: str | None, name: str, profession_id: int | None = None
    ) -> Player:
        name = validate_character_name(name)
        self._ensure_name_free(name)
        if user_id is not None and self.persistence.get_player_by_user_id(user_id) is not None:
            raise UserManagerError("this account already has a character")
        player = StatsGenerator(self.persistence).build_player(
            name, user_id=user_id, profession_id=profession_id
        )
        self.persistence.save_player(player)
        return player

    def get_character(self, user_id: str) -> Player | None:
        return self.persistence.get_player_by_user_id(user_id)

    def rename_character(self, player_id: str, new_name: str) -> Player:
        new_name = validate_character_name(new_name)
        player = self.persistence.get_player(player_id)
        if player is None:
            raise CharacterNotFoundError(f"player not found: {player_id}")
        if player.name == new_name:
            return player
        self._ensure_name_free(new_name, owner_id=player_id)
        player.name = new_name
        self.persistence.save_player(player)
        self.persistence.update_player_last_active(player_id)
        return player

    def delete_character(self, user_id: str) -> bool:
        """Remove the user's character; False when the user has none."""
        player = self.persistence.get_player_by_user_id(user_id)
        if player is None:
            return False
        return self.persistence.delete_player(player.player_id)
