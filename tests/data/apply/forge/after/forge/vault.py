"""The workshop's synchronous storage facade, with a few async twins added late: what the migration retires."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Blueprint:
    kind: str
    size: int


@dataclass
class Item:
    item_id: int
    kind: str
    owner: str | None
    size: int
    bench: str = "intake"


@dataclass
class Records:
    """Everything in memory; the real vault talked to a database and blocked while it did."""

    blueprints: dict[str, Blueprint] = field(default_factory=dict)
    items: dict[int, Item] = field(default_factory=dict)
    moves: list[tuple[int, str]] = field(default_factory=list)


RECORDS = Records()


class Vault:
    def fetch_blueprint(self, kind: str) -> Blueprint | None:
        return RECORDS.blueprints.get(kind)

    async def fetch_blueprint_async(self, kind: str) -> Blueprint | None:
        return RECORDS.blueprints.get(kind)

    def forge_item(self, kind: str, owner: str | None = None, size: int = 1) -> Item:
        item = Item(len(RECORDS.items) + 1, kind, owner, size)
        RECORDS.items[item.item_id] = item
        return item

    def move_item(self, item_id: int, bench: str) -> None:
        RECORDS.items[item_id].bench = bench

    def items_owned(self, owner: str) -> int:
        return sum(1 for item in RECORDS.items.values() if item.owner == owner)

    def bench_of(self, item_id: int) -> str:
        return RECORDS.items[item_id].bench

    async def label_async(self, item_id: int) -> str:
        item = RECORDS.items[item_id]
        return f"{item.kind}#{item.item_id}"


def open_vault() -> Vault:
    return Vault()
