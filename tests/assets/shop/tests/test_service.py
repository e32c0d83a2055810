from shop.db import User, get_db
from shop.service import AccountService


def test_rename() -> None:
    db = get_db()
    db.store_user(User(1, "ada"))
    assert AccountService().rename(1, "grace") is not None
    assert db.fetch_user(1).name == "grace"
