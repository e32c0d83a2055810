"""What replaces the vault: async repositories (the bench map stays sync, it lives in memory)."""

from __future__ import annotations

from forge.specs import ItemSpec
from forge.vault import RECORDS, Blueprint, Item


class BlueprintRepo:
    async def get(self, kind: str) -> Blueprint | None:
        return RECORDS.blueprints.get(kind)


class ItemRepo:
    async def create(self, kind: str, spec: ItemSpec) -> Item:
        item = Item(len(RECORDS.items) + 1, kind, spec.owner, spec.size)
        RECORDS.items[item.item_id] = item
        return item

    async def relocate(self, bench: str, item_id: int, *, audit: bool) -> None:
        RECORDS.items[item_id].bench = bench
        if audit:
            RECORDS.moves.append((item_id, bench))

    def label(self, item_id: int) -> str:
        """Computed from the cached record: no reason to wait for anything."""
        item = RECORDS.items[item_id]
        return f"{item.kind}#{item.item_id}"

    async def owned_by(self, owner: str, *, kinds: tuple[str, ...] = ()) -> list[Item]:
        return [i for i in RECORDS.items.values() if i.owner == owner and (not kinds or i.kind in kinds)]


class BenchMap:
    def bench_for(self, item_id: int) -> str:
        return RECORDS.items[item_id].bench


def get_blueprint_repo() -> BlueprintRepo:
    return BlueprintRepo()


def get_item_repo() -> ItemRepo:
    return ItemRepo()


def get_bench_map() -> BenchMap:
    return BenchMap()
