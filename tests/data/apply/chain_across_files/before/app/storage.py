"""Reads and writes that open the database themselves."""

from app.db import get_db


def read(key: str) -> int:
    """The stored value."""
    db = get_db()
    return db.fetch(key)


def write(key: str, value: int, keep: bool = False) -> None:
    get_db().store(key, value, overwrite=not keep)  # keep what is there when asked


def label(key: str) -> str:
    return get_db().lookup(key)


def doubled(key: str) -> int: return get_db().fetch(key).real * 2
