from ledger.fees import fee


def explain(account: str) -> str:
    return "the fee is " + str(fee(account)  # an unfinished draft: this file does not parse
