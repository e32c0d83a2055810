"""The tally's synchronous facade (the thing being retired)."""

from __future__ import annotations


class Books:
    def __init__(self) -> None:
        self.accounts: dict[int, dict[str, int]] = {}

    def read_account(self, acct: int) -> dict[str, int] | None:
        return self.accounts.get(acct)

    def write_account(self, account: dict[str, int]) -> None:
        self.accounts[account["number"]] = account


_BOOKS = Books()


def open_books() -> Books:
    return _BOOKS
