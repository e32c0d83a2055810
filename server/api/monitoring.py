"""Operational figures: population, occupancy, containers waiting to decay."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"])


class PopulationStats(BaseModel):
    total_players: int
    player_characters: int
    npcs: int
    alive: int
    dead: int
    players_per_room: dict[str, int]
    players_per_zone: dict[str, int]
    empty_rooms: list[str]
    decayed_containers: int
    generated_at: datetime


class RoomOccupancy(BaseModel):
    room_id: str
    name: str
    zone: str
    players: int
    npcs: int


@router.get("/stats", response_model=PopulationStats)
async def get_stats(request: Request) -> PopulationStats:
    persistence = request.app.state.persistence
    players = persistence.list_players()
    rooms = persistence.list_rooms()
    zone_of = {room.room_id: room.zone for room in rooms}
    per_room = Counter(player.current_room_id for player in players)
    per_zone = Counter(zone_of.get(player.current_room_id, "unknown") for player in players)
    npcs = sum(1 for player in players if player.is_npc)
    alive = sum(1 for player in players if player.is_alive)
    now = datetime.now(UTC)
    decayed = persistence.get_decayed_containers(now)
    return PopulationStats(
        total_players=len(players),
        player_characters=len(players) - npcs,
        npcs=npcs,
        alive=alive,
        dead=len(players) - alive,
        players_per_room=dict(sorted(per_room.items())),
        players_per_zone=dict(sorted(per_zone.items())),
        empty_rooms=sorted(room_id for room_id in zone_of if per_room[room_id] == 0),
        decayed_containers=len(decayed),
        generated_at=now,
    )


@router.get("/rooms", response_model=list[RoomOccupancy])
def get_room_occupancy(request: Request) -> list[RoomOccupancy]:
    persistence = request.app.state.persistence
    occupancy: list[RoomOccupancy] = []
    for room in sorted(persistence.list_rooms(), key=lambda room: room.room_id):
        present = persistence.get_players_in_room(room.room_id)
        npcs = sum(1 for player in present if player.is_npc)
        occupancy.append(
            RoomOccupancy(
                room_id=room.room_id,
                name=room.name,
                zone=room.zone,
                players=len(present) - npcs,
                npcs=npcs,
            )
        )
    return occupancy


@router.get("/containers/decayed")
async def get_decayed_containers(request: Request) -> list[dict[str, Any]]:
    persistence = request.app.state.persistence
    decayed = persistence.get_decayed_containers(datetime.now(UTC))
    return sorted(decayed, key=lambda container: str(container["container_id"]))
