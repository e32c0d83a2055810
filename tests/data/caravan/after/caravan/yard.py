"""The loading yard: async handlers that hop to a worker thread around every blocking store call."""

from __future__ import annotations

from caravan.models import Wagon
from caravan.cargo import Cargo
from caravan.repos import wagon_repo


class WagonMissing(LookupError):
    pass


async def load(wagon_id: int, goods: str, weight: int) -> Wagon:
    wagons = wagon_repo()
    if await wagons.get(wagon_id) is None:
        raise WagonMissing(wagon_id)
    return await wagons.load(wagon_id, Cargo(goods=goods, weight=weight))


async def send_out(wagon_id: int, route_id: str) -> Wagon | None:
    wagons = wagon_repo()
    await wagons.assign(route_id, wagon_id, checked=True)
    return await wagons.get(wagon_id)


async def roll_call(wagon_ids: list[int]) -> list[Wagon]:
    wagons = wagon_repo()
    present = []
    for wagon_id in wagon_ids:
        wagon = await wagons.get(wagon_id)
        if wagon is not None:
            present.append(wagon)
    return present
