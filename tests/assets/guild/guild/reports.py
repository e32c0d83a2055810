"""Reports: module functions that open the process-wide ledger themselves."""

from __future__ import annotations

from guild.ledger import open_ledger


def roll_call(member_ids: list[str]) -> list[str]:
    if not member_ids:
        return []
    try:
        ledger = open_ledger()
        names = []
        for member_id in member_ids:
            member = ledger.fetch_member(member_id)
            names.append(member.name if member else "?")
        return names
    except KeyError:
        return []


def northerners(member_ids: list[str]) -> int:
    return sum(1 for member_id in member_ids if open_ledger().hall_of(member_id) == "north")


def size() -> int:
    return open_ledger().audit()  # no async counterpart: stays on the ledger, reported as unmapped
