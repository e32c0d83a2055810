"""Month-end summaries. This module is written for Python 3.12."""

from ledger.accounts import balance

type Amount = int


def longest[T: str](names: list[T]) -> T:
    return max(names, key=len)


def headline(account: str, labels: dict[str, str]) -> str:
    amount: Amount = balance(account)
    return f"{labels["total"]}: {amount}"
