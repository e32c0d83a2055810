"""Letters: a local named like the ledger that is not one (the plan's receiver name must not win)."""

from __future__ import annotations


class Courier:
    def fetch_member(self, member_id: str) -> str:
        return f"a letter for {member_id}"


def deliver(member_id: str) -> str:
    ledger = Courier()
    return ledger.fetch_member(member_id)
