from collections.abc import Generator, Iterator
from contextlib import contextmanager

from app.db import get_db


def values(keys: list[str]) -> Iterator[int]:
    for key in keys:
        yield get_db().fetch(key)


@contextmanager
def reserved(key: str) -> Generator[int, None, None]:
    db = get_db()
    yield db.fetch(key)
    db.store(key, 0)
