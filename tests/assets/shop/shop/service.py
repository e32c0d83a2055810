from shop.db import Database, User, get_db


class AccountService:
    def __init__(self) -> None:
        self.db = get_db()

    def rename(self, user_id: int, name: str) -> User | None:
        user = self.db.fetch_user(user_id)
        if user is None:
            return None
        user.name = name
        self.db.store_user(user)
        return user


def count_users(db: Database) -> int:
    return len(db.all_users())
