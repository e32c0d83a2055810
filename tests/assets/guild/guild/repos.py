"""The async books that replace the ledger, and the hall roster that stays synchronous."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guild.ledger import Member, Quest, Records


class MemberBook:
    def __init__(self, records: Records) -> None:
        self.records = records

    async def get(self, member_id: str) -> Member | None:
        return self.records.members.get(member_id)

    async def put(self, member: Member) -> None:
        self.records.members[member.member_id] = member


class QuestBoard:
    def __init__(self, records: Records) -> None:
        self.records = records

    async def open_for(self, rank: int) -> list[Quest]:
        return [q for q in self.records.quests if q.min_rank <= rank]


class HallRoster:
    def __init__(self, records: Records) -> None:
        self.records = records

    def roster_hall(self, member_id: str) -> str | None:
        member = self.records.members.get(member_id)
        return member.hall if member else None


def member_book() -> MemberBook:
    from guild.ledger import open_ledger

    return MemberBook(open_ledger().records)


def hall_roster() -> HallRoster:
    from guild.ledger import open_ledger

    return HallRoster(open_ledger().records)
