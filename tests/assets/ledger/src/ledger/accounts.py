from ledger.books import open_books


def balance(account: str) -> int:
    books = open_books()
    entries = books.entries_for(account)
    return sum(entry.amount for entry in entries)
