"""Dues: a service given its ledger by whoever builds it, and keeping it on ``self``."""

from __future__ import annotations

from guild.ledger import Ledger, Member


class DuesCollector:
    def __init__(self, ledger: Ledger, rate: int = 5) -> None:
        self._ledger = ledger
        self.rate = rate

    def dues_for(self, member_id: str) -> int:
        member = self._ledger.fetch_member(member_id)
        if member is None:
            raise KeyError(member_id)
        return member.rank * self.rate

    def promote(self, member_id: str) -> Member:
        member = self._ledger.fetch_member(member_id)
        if member is None:
            raise KeyError(member_id)
        member.rank += 1
        self._ledger.save_member(member)
        return member

    def hall(self, member_id: str) -> str:
        return self._ledger.hall_of(member_id) or "no hall"
