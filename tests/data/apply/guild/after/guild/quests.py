"""Quest postings: a dataclass holding the ledger it was given, and a helper taking it as an argument."""

from __future__ import annotations

from dataclasses import dataclass

from guild.ledger import Ledger


@dataclass
class QuestPosting:
    ledger: Ledger
    member_id: str

    async def eligible(self) -> list[str]:
        member = await self.ledger.members.get(self.member_id)
        if member is None:
            return []
        return [quest.title for quest in await self.ledger.quests.open_for(member.rank)]


async def member_title(ledger, member_id: str) -> str:  # untyped: known by its name
    member = await ledger.members.get(member_id)
    if member is None:
        return "nobody"
    return f"{member.name} of the {ledger.roster_hall(member_id)} hall"
