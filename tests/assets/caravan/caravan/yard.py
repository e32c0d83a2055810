"""The loading yard: async handlers that hop to a worker thread around every blocking store call."""

from __future__ import annotations

import asyncio
import functools

from caravan.models import Wagon
from caravan.store import open_store


class WagonMissing(LookupError):
    pass


async def load(wagon_id: int, goods: str, weight: int) -> Wagon:
    store = open_store()
    if await store.get_wagon_async(wagon_id) is None:
        raise WagonMissing(wagon_id)
    return await asyncio.to_thread(store.load_wagon, wagon_id, goods, weight=weight)


async def send_out(wagon_id: int, route_id: str) -> Wagon | None:
    loop = asyncio.get_running_loop()
    store = open_store()
    await loop.run_in_executor(None, functools.partial(store.assign_wagon, wagon_id, route_id))
    return await asyncio.to_thread(store.get_wagon, wagon_id)


def roll_call(wagon_ids: list[int]) -> list[Wagon]:
    store = open_store()
    fetch = store.get_wagon
    present = []
    for wagon_id in wagon_ids:
        wagon = fetch(wagon_id)
        if wagon is not None:
            present.append(wagon)
    return present
