from ledger.rates import rate


def convert(amount: int, currency: str) -> int:
    return amount * rate(currency)
