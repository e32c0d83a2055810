"""HTTP endpoints: the ledger comes from a dependency or from the application's state."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from guild.dues import DuesCollector
from guild.ledger import Ledger, open_ledger
from guild.quests import QuestPosting

router = APIRouter()


@router.get("/members/{member_id}")
async def read_member(member_id: str, ledger: Ledger = Depends(open_ledger)) -> dict[str, object]:
    member = await ledger.members.get(member_id)
    if member is None:
        raise HTTPException(status_code=404)
    return {"name": member.name, "rank": member.rank}


@router.get("/members/{member_id}/hall")
async def read_hall(member_id: str, request: Request) -> dict[str, str | None]:
    return {"hall": request.app.state.ledger.roster_hall(member_id)}


@router.get("/quests/{member_id}")
async def quests_for(member_id: str, request: Request) -> list[str]:
    ledger = request.app.state.ledger
    if await ledger.members.get(member_id) is None:
        raise HTTPException(status_code=404)
    posting = QuestPosting(ledger, member_id)
    return await posting.eligible()


@router.post("/members/{member_id}/promote")
async def promote(member_id: str, request: Request) -> dict[str, int]:
    collector = DuesCollector(request.app.state.ledger)
    member = await collector.promote(member_id)
    return {"rank": member.rank, "dues": await collector.dues_for(member_id)}
