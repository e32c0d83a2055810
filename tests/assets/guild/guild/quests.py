"""Quest postings: a dataclass holding the ledger it was given, and a helper taking it as an argument."""

from __future__ import annotations

from dataclasses import dataclass

from guild.ledger import Ledger


@dataclass
class QuestPosting:
    ledger: Ledger
    member_id: str

    def eligible(self) -> list[str]:
        member = self.ledger.fetch_member(self.member_id)
        if member is None:
            return []
        return [quest.title for quest in self.ledger.open_quests(member.rank)]


def member_title(ledger, member_id: str) -> str:  # untyped: known by its name
    member = ledger.fetch_member(member_id)
    if member is None:
        return "nobody"
    return f"{member.name} of the {ledger.hall_of(member_id)} hall"
