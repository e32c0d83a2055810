from ledger.books import Entry, open_books


class Poster:
    def post(self, account: str, amount: int) -> None:
        books = open_books()
        books.record(Entry(account, amount))
