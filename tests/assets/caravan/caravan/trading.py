"""Trading: helpers handed the store as an argument, and a consignment holding the store it was given."""

from __future__ import annotations

from dataclasses import dataclass

from caravan.audit import audited
from caravan.store import Store


class UnknownTrader(LookupError):
    pass


@audited
def settle(store: Store, trader: str, amount: int) -> int:
    """Pay a trader on arrival; the purse afterwards."""
    if store.find_trader(trader) is None:
        raise UnknownTrader(trader)
    return store.pay_trader(trader, amount=amount)


def purse_of(store, trader: str) -> int:  # untyped: known by its name
    found = store.find_trader(trader)
    return found.purse if found else 0


@dataclass
class Consignment:
    store: Store
    wagon_id: int

    def add(self, goods: str, weight: int) -> int:
        """Note goods on the wagon's manifest; how many entries it holds now."""
        self.store.record_manifest(self.wagon_id, goods, weight)
        return self.store.manifest_size(self.wagon_id)

    def weight(self) -> int:
        return self.store.cargo_weight(self.wagon_id)
