from app import storage


class Counter:
    def bump(self, key: str) -> int:
        value = storage.read(key) + 1
        storage.write(key, value)
        return value


class Service:
    def __init__(self) -> None:
        self.counter = Counter()

    def total(self, keys: list[str]) -> int:
        return sum([self.counter.bump(key) for key in keys])

    def title(self, key: str) -> str:
        return storage.label(key)
