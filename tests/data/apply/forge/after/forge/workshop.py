"""Workshop operations. The async ones hop to a thread around every vault call; the rest block."""

from __future__ import annotations

from forge.vault import Item
from forge.adapters import count_owned
from forge.repos import get_bench_map, get_blueprint_repo, get_item_repo
from forge.specs import ItemSpec


class UnknownKind(LookupError):
    pass


async def craft(kind: str, owner: str) -> Item:
    blueprints = get_blueprint_repo()
    items = get_item_repo()
    blueprint = await blueprints.get(kind)
    if blueprint is None:
        raise UnknownKind(kind)
    return await items.create(kind, ItemSpec(owner=owner, size=blueprint.size))


async def shelve(item_id: int, bench: str) -> str:
    benches = get_bench_map()
    items = get_item_repo()
    await items.relocate(bench, item_id, audit=True)
    return benches.bench_for(item_id)


async def size_of(kind: str) -> int:
    blueprint = await get_blueprint_repo().get(kind)
    return blueprint.size if blueprint else 0


async def tag(item_id: int) -> str:
    return get_item_repo().label(item_id)


async def holdings(owner: str) -> int:
    items = get_item_repo()
    return await count_owned(items, owner)


async def spare(kind: str) -> Item:
    return await get_item_repo().create(kind, ItemSpec())


async def report(owner: str) -> str:
    return f"{owner} holds {await holdings(owner)}"
