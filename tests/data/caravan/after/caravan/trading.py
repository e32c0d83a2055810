"""Trading: helpers handed the store as an argument, and a consignment holding the store it was given."""

from __future__ import annotations

from dataclasses import dataclass

from caravan.audit import audited
from caravan.store import Store
from caravan.adapters import total_weight


class UnknownTrader(LookupError):
    pass


@audited
async def settle(store: Store, trader: str, amount: int) -> int:
    """Pay a trader on arrival; the purse afterwards."""
    if await store.trader_named(trader) is None:
        raise UnknownTrader(trader)
    return await store.credit(trader, coins=amount)


async def purse_of(store, trader: str) -> int:  # untyped: known by its name
    found = await store.trader_named(trader)
    return found.purse if found else 0


@dataclass
class Consignment:
    store: Store
    wagon_id: int

    async def add(self, goods: str, weight: int) -> int:
        """Note goods on the wagon's manifest; how many entries it holds now."""
        await self.store.manifests.record(self.wagon_id, goods, weight)
        return self.store.manifests.count(self.wagon_id)

    async def weight(self) -> int:
        return await total_weight(self.store.manifests, self.wagon_id)
