"""Rooms: the world map and who stands where."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel

from server.models import Room
from server.persistence import PersistenceLayer, get_persistence

router = APIRouter(prefix="/api/rooms", tags=["rooms"])


class ExitOut(BaseModel):
    direction: str
    room_id: str
    room_name: str | None


class RoomOut(BaseModel):
    room_id: str
    name: str
    description: str
    zone: str
    exits: dict[str, str]
    attributes: dict[str, Any]

    @classmethod
    def from_room(cls, room: Room) -> RoomOut:
        return cls(
            room_id=room.room_id,
            name=room.name,
            description=room.description or "",
            zone=room.zone,
            exits=dict(room.exits or {}),
            attributes=dict(room.attributes or {}),
        )


class OccupantOut(BaseModel):
    player_id: str
    name: str
    is_npc: bool
    is_alive: bool
    level: int


class RoomPlayersOut(BaseModel):
    room_id: str
    count: int
    players: list[OccupantOut]


def _require_room(persistence: PersistenceLayer, room_id: str) -> Room:
    room = persistence.get_room(room_id)
    if room is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"room not found: {room_id}")
    return room


@router.get("", response_model=list[RoomOut])
async def list_rooms(
    zone: str | None = Query(default=None),
    persistence: PersistenceLayer = Depends(get_persistence),
) -> list[RoomOut]:
    rooms = persistence.list_rooms()
    if zone is not None:
        rooms = [room for room in rooms if room.zone == zone]
    return [RoomOut.from_room(room) for room in sorted(rooms, key=lambda room: room.room_id)]


@router.get("/zones", response_model=dict[str, list[str]])
def list_zones(persistence: PersistenceLayer = Depends(get_persistence)) -> dict[str, list[str]]:
    zones: dict[str, list[str]] = {}
    for room in persistence.list_rooms():
        zones.setdefault(room.zone, []).append(room.room_id)
    return {zone: sorted(room_ids) for zone, room_ids in sorted(zones.items())}


@router.get("/{room_id}", response_model=RoomOut)
async def get_room(
    room_id: str, persistence: PersistenceLayer = Depends(get_persistence)
) -> RoomOut:
    return RoomOut.from_room(_require_room(persistence, room_id))


@router.get("/{room_id}/exits", response_model=list[ExitOut])
async def get_room_exits(
    room_id: str, persistence: PersistenceLayer = Depends(get_persistence)
) -> list[ExitOut]:
    room = _require_room(persistence, room_id)
    exits: list[ExitOut] = []
    for direction, target_id in sorted((room.exits or {}).items()):
        target = persistence.get_room(target_id)
        exits.append(
            ExitOut(
                direction=direction,
                room_id=target_id,
                room_name=target.name if target is not None else None,
            )
        )
    return exits


@router.get("/{room_id}/players", response_model=RoomPlayersOut)
async def get_room_players(
    room_id: str,
    include_npcs: bool = Query(default=True),
    persistence: PersistenceLayer = Depends(get_persistence),
) -> RoomPlayersOut:
    room = _require_room(persistence, room_id)
    players = persistence.get_players_in_room(room.room_id)
    if not include_npcs:
        players = [player for player in players if not player.is_npc]
    occupants = [
        OccupantOut(
            player_id=player.player_id,
            name=player.name,
            is_npc=player.is_npc,
            is_alive=player.is_alive,
            level=int(player.get_stats().get("level", 1)),
        )
        for player in sorted(players, key=lambda player: (player.name.casefold(), player.player_id))
    ]
    return RoomPlayersOut(room_id=room.room_id, count=len(occupants), players=occupants)
