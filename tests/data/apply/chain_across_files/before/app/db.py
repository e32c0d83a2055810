"""The synchronous facade being retired."""


class Database:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def fetch(self, key: str) -> int:
        return self.rows.get(key, 0)

    def store(self, key: str, value: int, overwrite: bool = True) -> None:
        if overwrite or key not in self.rows:
            self.rows[key] = value

    def lookup(self, key: str) -> str:
        return key.upper()

    def vacuum(self) -> int:
        return len(self.rows)


_DB = Database()


def get_db() -> Database:
    return _DB
