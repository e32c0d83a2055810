from ledger.books import Entry, open_books


class Transfers:
    def move(self, source: str, target: str, amount: int) -> None:
        books = open_books()
        books.record(Entry(source, -amount))
        books.record(Entry(target, amount))
