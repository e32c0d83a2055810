class Journal:
    """An in-memory journal: what run_batch is given in practice."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, int]] = []

    def post(self, account: str, amount: int) -> None:
        self.lines.append((account, amount))


def run_batch(poster, rows: list[tuple[str, int]]) -> int:
    for account, amount in rows:
        poster.post(account, amount)
    return len(rows)
