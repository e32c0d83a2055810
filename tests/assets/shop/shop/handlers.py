from shop import db as db_module
from shop.db import get_db as open_database
from shop.service import AccountService


async def show_user(user_id: int) -> dict[str, object]:
    database = open_database()
    user = database.fetch_user(user_id)  # blocks the event loop today
    return {"id": user_id, "name": user.name if user else None}


def rename_user(user_id: int, name: str) -> bool:
    return AccountService().rename(user_id, name) is not None


def maintenance() -> int:
    return db_module.get_db().vacuum()


def unrelated(cache) -> object:
    return cache.fetch_user(1)
