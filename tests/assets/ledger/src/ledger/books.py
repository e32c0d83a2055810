"""The ledger's synchronous bookkeeping facade (the thing being retired)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Entry:
    account: str
    amount: int


class Books:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.rates = {"EUR": 1, "USD": 2}

    def entries_for(self, account: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.account == account]

    def record(self, entry: Entry) -> None:
        self.entries.append(entry)

    def rate_of(self, currency: str) -> int:
        return self.rates[currency]


_BOOKS: Books | None = None


def open_books() -> Books:
    global _BOOKS
    if _BOOKS is None:
        _BOOKS = Books()
    return _BOOKS


def reset_books() -> None:
    global _BOOKS
    _BOOKS = None


def seed(*entries: Entry) -> None:
    """Test set-up: entries already in the books."""
    open_books().entries.extend(entries)


def recorded() -> list[int]:
    """Test check: the amounts in the books, in order."""
    return [entry.amount for entry in open_books().entries]
