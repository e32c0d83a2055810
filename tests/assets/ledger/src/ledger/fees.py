from ledger.books import open_books


def fee(account: str) -> int:
    books = open_books()
    return len(books.entries_for(account))
