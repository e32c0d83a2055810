from app import storage


class Counter:
    async def bump(self, key: str) -> int:
        value = await storage.read(key) + 1
        await storage.write(key, value)
        return value


class Service:
    def __init__(self) -> None:
        self.counter = Counter()

    async def total(self, keys: list[str]) -> int:
        return sum([await self.counter.bump(key) for key in keys])

    def title(self, key: str) -> str:
        return storage.label(key)
