"""Billing endpoints: async already, each call to the sync facade blocks the event loop."""

from __future__ import annotations

from tally.books import open_books


async def balance(number: int) -> int:
    books = open_books()
    account = books.read_account(acct=number)
    return 0 if account is None else account["balance"]


async def deposit(number: int, amount: int) -> int:
    books = open_books()
    account = books.read_account(acct=number) or {"number": number, "balance": 0}
    account = {**account, "balance": account["balance"] + amount}
    books.write_account(account)
    return account["balance"]
