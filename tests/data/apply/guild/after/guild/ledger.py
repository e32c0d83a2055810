"""The synchronous ledger every module used to call: what the migration retires.

The application builds one ``Ledger`` and hands it to whatever needs it (constructors, the web app's
state, FastAPI dependencies). While modules move to the async books one by one, the same object
hands out the async side too: ``ledger.members`` and ``ledger.quests``, and the hall roster's new
method on the ledger itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guild.repos import MemberBook, QuestBoard


@dataclass
class Member:
    member_id: str
    name: str
    rank: int = 1
    hall: str = "north"


@dataclass
class Quest:
    title: str
    min_rank: int


@dataclass
class Records:
    members: dict[str, Member] = field(default_factory=dict)
    quests: list[Quest] = field(default_factory=list)


class Ledger:
    """Reads and writes block (the real one sat on a database)."""

    def __init__(self, records: Records | None = None) -> None:
        self.records = records if records is not None else Records()

    def fetch_member(self, member_id: str) -> Member | None:
        return self.records.members.get(member_id)

    def save_member(self, member: Member) -> None:
        self.records.members[member.member_id] = member

    def open_quests(self, rank: int) -> list[Quest]:
        return [q for q in self.records.quests if q.min_rank <= rank]

    def hall_of(self, member_id: str) -> str | None:
        member = self.records.members.get(member_id)
        return member.hall if member else None

    def audit(self) -> int:
        return len(self.records.members)

    # --- the async side, from the same object -------------------------------------------------------
    def roster_hall(self, member_id: str) -> str | None:
        """The hall roster's own method, on the ledger itself (it stays synchronous)."""
        member = self.records.members.get(member_id)
        return member.hall if member else None

    @property
    def members(self) -> MemberBook:
        from guild.repos import MemberBook

        return MemberBook(self.records)

    @property
    def quests(self) -> QuestBoard:
        from guild.repos import QuestBoard

        return QuestBoard(self.records)


_LEDGER: Ledger | None = None


def open_ledger() -> Ledger:
    """The process-wide ledger (also used as a FastAPI dependency)."""
    global _LEDGER
    if _LEDGER is None:
        _LEDGER = Ledger()
    return _LEDGER
