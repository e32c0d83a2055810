"""Superseded by the package ledger/fmt/: Python imports the package, never this module."""


def describe(account: str) -> str:
    return account.upper()
