from ledger.rates import rate


def test_rate() -> None:
    assert rate("USD") == 2
