from app.jobs import reserved, values
import asyncio


class Runner:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    async def total(self, keys: list[str]) -> int:
        async with self.lock:
            return sum([value async for value in values(keys)])

    async def first(self, key: str) -> int:
        async with self.lock, reserved(key) as value:
            return value

    async def drain(self, keys: list[str]) -> list[int]:
        seen = []
        async for value in values(keys):
            seen.append(value)
        return seen


async def run(keys: list[str]) -> int:
    return await Runner().total(keys)


if __name__ == "__main__":
    print(asyncio.run(run(["a"])))
