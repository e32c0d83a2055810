"""A hand-written ledger double, configured per test through its constructor.

It serves both sides of the migration from the same object, as the real ledger does: the sync
methods unmigrated code calls, and the async books and the roster method migrated code reaches
through it. It records what was reached, so a test can tell the code used the ledger it was given.
"""

from __future__ import annotations

from guild.ledger import Member, Quest, Records
from guild.repos import MemberBook, QuestBoard


class FakeLedger:
    def __init__(self, *members: Member, quests: tuple[Quest, ...] = ()) -> None:
        self.records = Records({m.member_id: m for m in members}, list(quests))
        self.reached: list[str] = []

    def fetch_member(self, member_id: str) -> Member | None:
        self.reached.append("fetch_member")
        return self.records.members.get(member_id)

    def save_member(self, member: Member) -> None:
        self.reached.append("save_member")
        self.records.members[member.member_id] = member

    def open_quests(self, rank: int) -> list[Quest]:
        self.reached.append("open_quests")
        return [q for q in self.records.quests if q.min_rank <= rank]

    def hall_of(self, member_id: str) -> str | None:
        self.reached.append("hall_of")
        member = self.records.members.get(member_id)
        return member.hall if member else None

    def roster_hall(self, member_id: str) -> str | None:
        self.reached.append("roster_hall")
        member = self.records.members.get(member_id)
        return member.hall if member else None

    @property
    def members(self) -> MemberBook:
        self.reached.append("members")
        return MemberBook(self.records)

    @property
    def quests(self) -> QuestBoard:
        self.reached.append("quests")
        return QuestBoard(self.records)
