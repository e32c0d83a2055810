from ledger.accounts import balance


def account_view(account: str) -> dict[str, object]:
    return {"account": account, "balance": balance(account)}
