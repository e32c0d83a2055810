"""The async repository that replaces the facade."""

from __future__ import annotations

from ledger.books import Entry, open_books


class EntryRepo:
    async def entries(self, account: str) -> list[Entry]:
        return open_books().entries_for(account)

    async def add(self, entry: Entry) -> None:
        open_books().record(entry)

    async def rate(self, currency: str) -> int:
        return open_books().rate_of(currency)


_REPO = EntryRepo()


def get_entry_repo() -> EntryRepo:
    return _REPO
