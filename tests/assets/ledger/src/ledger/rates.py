from ledger.books import open_books


def rate(currency: str) -> int:
    books = open_books()
    return books.rate_of(currency)
