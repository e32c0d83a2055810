from ledger.accounts import balance


def describe(account: str) -> str:
    amount = balance(account)
    return f"{account}: {amount}"
