"""Players: create, read, list, rename, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from server.game.stats_generator import ProfessionUnavailableError, StatsGenerator
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.services.user_manager import (
    CharacterNotFoundError,
    NameTakenError,
    UserManager,
    UserManagerError,
    validate_character_name,
)

router = APIRouter(prefix="/api/players", tags=["players"])

MAX_BATCH = 100


class PlayerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    profession_id: int | None = None
    user_id: str | None = None


class PlayerRename(BaseModel):
    name: str = Field(min_length=1, max_length=64)


class PlayerBatchRequest(BaseModel):
    player_ids: list[str] = Field(max_length=MAX_BATCH)


class PlayerOut(BaseModel):
    player_id: str
    name: str
    user_id: str | None
    profession_id: int | None
    current_room_id: str
    stats: dict[str, Any]
    inventory: list[Any]
    is_npc: bool
    is_alive: bool
    created_at: datetime | None
    last_active: datetime | None

    @classmethod
    def from_player(cls, player: Player) -> PlayerOut:
        return cls(
            player_id=player.player_id,
            name=player.name,
            user_id=player.user_id,
            profession_id=player.profession_id,
            current_room_id=player.current_room_id,
            stats=player.get_stats(),
            inventory=list(player.inventory or []),
            is_npc=player.is_npc,
            is_alive=player.is_alive,
            created_at=player.created_at,
            last_active=player.last_active,
        )


def _not_found(player_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"player not found: {player_id}")


@router.post("", response_model=PlayerOut, status_code=status.HTTP_201_CREATED)
async def create_player(
    body: PlayerCreate, persistence: PersistenceLayer = Depends(get_persistence)
) -> PlayerOut:
    try:
        name = validate_character_name(body.name)
    except UserManagerError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    if persistence.get_player_by_name(name) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the name {name!r} is taken")
    if body.user_id is not None and persistence.get_player_by_user_id(body.user_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="this account already has a character")
    try:
        player = StatsGenerator(persistence).build_player(
            name, user_id=body.user_id, profession_id=body.profession_id
        )
    except ProfessionUnavailableError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    persistence.save_player(player)
    return PlayerOut.from_player(player)


@router.get("", response_model=list[PlayerOut])
async def list_players(
    room_id: str | None = Query(default=None),
    include_npcs: bool = Query(default=True),
    persistence: PersistenceLayer = Depends(get_persistence),
) -> list[PlayerOut]:
    if room_id is not None:
        players = persistence.get_players_in_room(room_id)
    else:
        players = persistence.list_players()
    if not include_npcs:
        players = [player for player in players if not player.is_npc]
    players = sorted(players, key=lambda player: (player.name.casefold(), player.player_id))
    return [PlayerOut.from_player(player) for player in players]


@router.post("/batch", response_model=list[PlayerOut])
async def get_players_batch(
    body: PlayerBatchRequest, persistence: PersistenceLayer = Depends(get_persistence)
) -> list[PlayerOut]:
    wanted = list(dict.fromkeys(body.player_ids))
    found = {player.player_id: player for player in persistence.get_players_batch(wanted)}
    return [PlayerOut.from_player(found[player_id]) for player_id in wanted if player_id in found]


@router.get("/by-name/{name}", response_model=PlayerOut)
async def get_player_by_name(
    name: str, persistence: PersistenceLayer = Depends(get_persistence)
) -> PlayerOut:
    player = persistence.get_player_by_name(name)
    if player is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no player named {name!r}")
    return PlayerOut.from_player(player)


@router.get("/{player_id}", response_model=PlayerOut)
async def get_player(
    player_id: str, persistence: PersistenceLayer = Depends(get_persistence)
) -> PlayerOut:
    player = persistence.get_player(player_id)
    if player is None:
        raise _not_found(player_id)
    return PlayerOut.from_player(player)


@router.patch("/{player_id}/name", response_model=PlayerOut)
async def rename_player(
    player_id: str, body: PlayerRename, persistence: PersistenceLayer = Depends(get_persistence)
) -> PlayerOut:
    manager = UserManager(persistence)
    try:
        player = manager.rename_character(player_id, body.name)
    except CharacterNotFoundError as exc:
        raise _not_found(player_id) from exc
    except NameTakenError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except UserManagerError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    return PlayerOut.from_player(player)


@router.delete("/{player_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_player(player_id: str, persistence: PersistenceLayer = Depends(get_persistence)) -> None:
    if not persistence.delete_player(player_id):
        raise _not_found(player_id)
