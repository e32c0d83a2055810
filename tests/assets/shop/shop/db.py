"""The shop's synchronous data-access facade (the thing being retired)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shop.repos import UserRepo


@dataclass
class User:
    user_id: int
    name: str
    orders: list[int] = field(default_factory=list)


class Database:
    def __init__(self) -> None:
        self._users: dict[int, User] = {}

    def fetch_user(self, user_id: int) -> User | None:
        return self._users.get(user_id)

    def store_user(self, user: User) -> None:
        self._users[user.user_id] = user

    def all_users(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: u.user_id)

    def vacuum(self) -> int:
        return len(self._users)

    @property
    def users(self) -> UserRepo:
        """The async side of the same data, for code that receives the facade and is migrated."""
        from shop.repos import UserRepo

        return UserRepo()


_DB: Database | None = None


def get_db() -> Database:
    global _DB
    if _DB is None:
        _DB = Database()
    return _DB
