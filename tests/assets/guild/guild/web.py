"""HTTP endpoints: the ledger comes from a dependency or from the application's state."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from guild.dues import DuesCollector
from guild.ledger import Ledger, open_ledger
from guild.quests import QuestPosting

router = APIRouter()


@router.get("/members/{member_id}")
async def read_member(member_id: str, ledger: Ledger = Depends(open_ledger)) -> dict[str, object]:
    member = ledger.fetch_member(member_id)
    if member is None:
        raise HTTPException(status_code=404)
    return {"name": member.name, "rank": member.rank}


@router.get("/members/{member_id}/hall")
async def read_hall(member_id: str, request: Request) -> dict[str, str | None]:
    return {"hall": request.app.state.ledger.hall_of(member_id)}


@router.get("/quests/{member_id}")
async def quests_for(member_id: str, request: Request) -> list[str]:
    ledger = request.app.state.ledger
    if ledger.fetch_member(member_id) is None:
        raise HTTPException(status_code=404)
    posting = QuestPosting(ledger, member_id)
    return posting.eligible()


@router.post("/members/{member_id}/promote")
async def promote(member_id: str, request: Request) -> dict[str, int]:
    collector = DuesCollector(request.app.state.ledger)
    member = collector.promote(member_id)
    return {"rank": member.rank, "dues": collector.dues_for(member_id)}
