"""What replaces the facade: accounts are read and written asynchronously."""

from __future__ import annotations

from tally.books import open_books


class AccountStore:
    async def by_number(self, number: int) -> dict[str, int] | None:
        return open_books().accounts.get(number)

    async def put(self, account: dict[str, int]) -> None:
        open_books().accounts[account["number"]] = account


def account_store() -> AccountStore:
    return AccountStore()
