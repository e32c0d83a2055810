"""Workshop operations. The async ones hop to a thread around every vault call; the rest block."""

from __future__ import annotations

import asyncio
import functools

from forge.vault import Item, open_vault


class UnknownKind(LookupError):
    pass


async def craft(kind: str, owner: str) -> Item:
    vault = open_vault()
    blueprint = await asyncio.to_thread(vault.fetch_blueprint, kind)
    if blueprint is None:
        raise UnknownKind(kind)
    return await asyncio.to_thread(vault.forge_item, kind, owner=owner, size=blueprint.size)


async def shelve(item_id: int, bench: str) -> str:
    loop = asyncio.get_running_loop()
    vault = open_vault()
    await loop.run_in_executor(None, functools.partial(vault.move_item, item_id, bench))
    return vault.bench_of(item_id)


async def size_of(kind: str) -> int:
    blueprint = await open_vault().fetch_blueprint_async(kind)
    return blueprint.size if blueprint else 0


async def tag(item_id: int) -> str:
    return await open_vault().label_async(item_id)


def holdings(owner: str) -> int:
    vault = open_vault()
    count = vault.items_owned
    return count(owner)


def spare(kind: str) -> Item:
    return open_vault().forge_item(kind)


def report(owner: str) -> str:
    return f"{owner} holds {holdings(owner)}"
