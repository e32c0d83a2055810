"""Accounts: register, log in, and the current user with their character.

Users live in their own table and are read through a plain ORM session; the character a user plays
is a Player, reached through the persistence layer like every other character.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from datetime import datetime

from fastapi import APIRouter, Depends, Header, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.db import sync_session
from server.game.stats_generator import ProfessionUnavailableError, StatsGenerator
from server.models import Player, User
from server.persistence import get_persistence as get_persistence_layer
from server.services.user_manager import UserManagerError, validate_character_name

router = APIRouter(prefix="/api/auth", tags=["auth"])

TOKEN_TTL_SECONDS = 12 * 60 * 60
SECRET_ENV = "SERVER_SECRET_KEY"
_DEV_SECRET = "arkham-development-secret-change-me"


class RegisterRequest(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=6, max_length=128)
    email: str = Field(default="", max_length=255)
    character_name: str | None = None
    profession_id: int | None = None


class LoginRequest(BaseModel):
    username: str
    password: str


class CharacterRequest(BaseModel):
    name: str
    profession_id: int | None = None


class CharacterOut(BaseModel):
    player_id: str
    name: str
    room_id: str
    profession_id: int | None
    level: int

    @classmethod
    def from_player(cls, player: Player) -> CharacterOut:
        return cls(
            player_id=player.player_id,
            name=player.name,
            room_id=player.current_room_id,
            profession_id=player.profession_id,
            level=int(player.get_stats().get("level", 1)),
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    user_id: str
    player_id: str | None = None


class MeOut(BaseModel):
    user_id: str
    username: str
    email: str
    created_at: datetime
    character: CharacterOut | None


def _secret() -> bytes:
    return os.environ.get(SECRET_ENV, _DEV_SECRET).encode()


def _signature(payload: str) -> str:
    digest = hmac.new(_secret(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_token(user_id: str, now: float | None = None) -> str:
    """``<user_id>.<expiry>.<signature>``: stateless, checked with the server's secret."""
    expires = int((now if now is not None else time.time()) + TOKEN_TTL_SECONDS)
    payload = f"{user_id}.{expires}"
    return f"{payload}.{_signature(payload)}"


def read_token(token: str, now: float | None = None) -> str | None:
    """The user id a valid, unexpired token names; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    user_id, expires, signature = parts
    if not hmac.compare_digest(signature, _signature(f"{user_id}.{expires}")):
        return None
    if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
        return None
    return user_id


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _find_user(username: str) -> User | None:
    with sync_session() as session:
        return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def current_user(authorization: str | None = Header(default=None)) -> User:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise _unauthorized("missing bearer token")
    user_id = read_token(authorization[7:].strip())
    if user_id is None:
        raise _unauthorized("invalid or expired token")
    with sync_session() as session:
        user = session.get(User, user_id)
    if user is None:
        raise _unauthorized("the account no longer exists")
    return user


def _prepare_character(user_id: str, name: str, profession_id: int | None) -> Player:
    """Check and build (not save) the character an account is about to own."""
    persistence = get_persistence_layer()
    if persistence.get_player_by_user_id(user_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="this account already has a character")
    try:
        name = validate_character_name(name)
        player = StatsGenerator(persistence).build_player(
            name, user_id=user_id, profession_id=profession_id
        )
    except (UserManagerError, ProfessionUnavailableError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    if persistence.get_player_by_name(name) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the name {name!r} is taken")
    return player


@router.post("/register", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest) -> TokenOut:
    if _find_user(body.username) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the username is taken")
    user = User(username=body.username, email=body.email, password=body.password)
    # The character is checked before the account exists: a refused name leaves nothing behind.
    player = None
    if body.character_name is not None:
        player = _prepare_character(user.id, body.character_name, body.profession_id)
    try:
        with sync_session() as session, session.begin():
            session.add(user)
    except IntegrityError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the username is taken") from exc
    if player is not None:
        persistence = get_persistence_layer()
        persistence.save_player(player)
    return TokenOut(
        access_token=issue_token(user.id),
        user_id=user.id,
        player_id=player.player_id if player is not None else None,
    )


@router.post("/login", response_model=TokenOut)
async def login(body: LoginRequest) -> TokenOut:
    user = _find_user(body.username)
    if user is None or not user.check_password(body.password):
        raise _unauthorized("wrong username or password")
    persistence = get_persistence_layer()
    player = persistence.get_player_by_user_id(user.id)
    if player is not None:
        persistence.update_player_last_active(player.player_id)
    return TokenOut(
        access_token=issue_token(user.id),
        user_id=user.id,
        player_id=player.player_id if player is not None else None,
    )


@router.get("/me", response_model=MeOut)
async def me(user: User = Depends(current_user)) -> MeOut:
    persistence = get_persistence_layer()
    player = persistence.get_player_by_user_id(user.id)
    return MeOut(
        user_id=user.id,
        username=user.username,
        email=user.email,
        created_at=user.created_at,
        character=CharacterOut.from_player(player) if player is not None else None,
    )


@router.post("/me/character", response_model=CharacterOut, status_code=status.HTTP_201_CREATED)
def create_my_character(body: CharacterRequest, user: User = Depends(current_user)) -> CharacterOut:
    player = _prepare_character(user.id, body.name, body.profession_id)
    persistence = get_persistence_layer()
    persistence.save_player(player)
    return CharacterOut.from_player(player)
