"""The async repositories that replace the facade."""

from __future__ import annotations

from shop.db import User, get_db


class UserRepo:
    async def find(self, user_id: int) -> User | None:
        return get_db()._users.get(user_id)

    async def put(self, user: User) -> None:
        get_db()._users[user.user_id] = user

    async def everyone(self) -> list[User]:
        return sorted(get_db()._users.values(), key=lambda u: u.user_id)


_REPO = UserRepo()


def get_user_repo() -> UserRepo:
    return _REPO
