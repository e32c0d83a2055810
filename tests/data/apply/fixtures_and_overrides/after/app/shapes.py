from app.repos import get_item_repo


class Shape:
    async def area(self, key: str) -> int:
        return 0

    async def describe(self, key: str) -> str:
        return f"{key}: {await self.area(key)}"


class Square(Shape):
    async def area(self, key: str) -> int:
        return await get_item_repo().get(key) ** 2


class Tile(Square):
    async def area(self, key: str) -> int:
        return 1
