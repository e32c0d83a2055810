"""Reports: module functions that open the process-wide ledger themselves."""

from __future__ import annotations

from guild.ledger import open_ledger
from guild.repos import hall_roster, member_book


async def roll_call(member_ids: list[str]) -> list[str]:
    if not member_ids:
        return []
    try:
        member_book_2 = member_book()
        names = []
        for member_id in member_ids:
            member = await member_book_2.get(member_id)
            names.append(member.name if member else "?")
        return names
    except KeyError:
        return []


def northerners(member_ids: list[str]) -> int:
    return sum(1 for member_id in member_ids if hall_roster().roster_hall(member_id) == "north")


def size() -> int:
    return open_ledger().audit()  # no async counterpart: stays on the ledger, reported as unmapped
