"""The websocket a game client plays through, and what the server knows about connections."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, status
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from server.persistence import get_persistence
from server.realtime.integration.game_state_provider import GameStateProvider
from server.realtime.websocket_handler import WebSocketHandler

logger = logging.getLogger(__name__)

router = APIRouter(tags=["real-time"])

# Close codes in the 4000-4999 range are the application's own.
CLOSE_UNKNOWN_PLAYER = 4404
CLOSE_DEAD_PLAYER = 4403
MAX_MESSAGE_LENGTH = 2_000


class ConnectionRegistry:
    """The websockets open in this process, one per player."""

    def __init__(self) -> None:
        self._sockets: dict[str, WebSocket] = {}

    def add(self, player_id: str, websocket: WebSocket) -> WebSocket | None:
        """Register a socket; returns the one it replaces when the player was connected already."""
        previous = self._sockets.get(player_id)
        self._sockets[player_id] = websocket
        return previous

    def remove(self, player_id: str, websocket: WebSocket) -> None:
        if self._sockets.get(player_id) is websocket:
            del self._sockets[player_id]

    def get(self, player_id: str) -> WebSocket | None:
        return self._sockets.get(player_id)

    def connected_ids(self) -> list[str]:
        return sorted(self._sockets)

    def __contains__(self, player_id: object) -> bool:
        return player_id in self._sockets


connections = ConnectionRegistry()


class ConnectionStatus(BaseModel):
    player_id: str
    name: str
    room_id: str
    connected: bool


async def _deliver_say(response: dict[str, Any]) -> None:
    """Pass a spoken line on to the other connected players in the room."""
    for recipient_id in response.get("recipients", []):
        socket = connections.get(recipient_id)
        if socket is None:
            continue
        try:
            await socket.send_json(jsonable_encoder(response))
        except (RuntimeError, WebSocketDisconnect):
            logger.info("dropping say for %s: socket already closed", recipient_id)


@router.websocket("/ws/{player_id}")
async def game_socket(websocket: WebSocket, player_id: str) -> None:
    persistence = get_persistence()
    player = persistence.get_player(player_id)
    if player is None:
        await websocket.close(code=CLOSE_UNKNOWN_PLAYER, reason="unknown player")
        return
    if not player.is_alive:
        await websocket.close(code=CLOSE_DEAD_PLAYER, reason="the dead cannot play")
        return
    await websocket.accept()
    replaced = connections.add(player_id, websocket)
    if replaced is not None:
        await replaced.close(code=status.WS_1000_NORMAL_CLOSURE, reason="connected elsewhere")
    persistence.update_player_last_active(player_id)
    handler = WebSocketHandler()
    try:
        state = await GameStateProvider(persistence).get_initial_state(player_id)
        await websocket.send_json(jsonable_encoder(state))
        while True:
            message = await websocket.receive_text()
            if len(message) > MAX_MESSAGE_LENGTH:
                await websocket.send_json({"type": "error", "message": "message too long"})
                continue
            response = await handler.handle_message(player_id, message)
            await websocket.send_json(jsonable_encoder(response))
            if response.get("type") == "say":
                await _deliver_say(response)
    except WebSocketDisconnect:
        logger.info("player %s disconnected", player_id)
    finally:
        connections.remove(player_id, websocket)
        persistence.update_player_last_active(player_id)


@router.get("/api/realtime/status/{player_id}", response_model=ConnectionStatus)
async def connection_status(player_id: str) -> ConnectionStatus:
    persistence = get_persistence()
    player = persistence.get_player(player_id)
    if player is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"player not found: {player_id}")
    return ConnectionStatus(
        player_id=player.player_id,
        name=player.name,
        room_id=player.current_room_id,
        connected=player_id in connections,
    )


@router.get("/api/realtime/connections", response_model=list[ConnectionStatus])
async def list_connections() -> list[ConnectionStatus]:
    persistence = get_persistence()
    players = persistence.get_players_batch(connections.connected_ids())
    return [
        ConnectionStatus(
            player_id=player.player_id,
            name=player.name,
            room_id=player.current_room_id,
            connected=True,
        )
        for player in sorted(players, key=lambda player: (player.name.casefold(), player.player_id))
    ]
