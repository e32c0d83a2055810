from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.endpoints import TOKEN_TTL_SECONDS, issue_token, read_token
from server.models import Player, User

MakeUser = Callable[..., User]
MakePlayer = Callable[..., Player]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_round_trip_and_expire() -> None:
    token = issue_token("user-1", now=1_000)
    assert read_token(token, now=1_000) == "user-1"
    assert read_token(token, now=1_000 + TOKEN_TTL_SECONDS + 1) is None
    assert read_token(token.replace("user-1", "user-2"), now=1_000) is None
    assert read_token("garbage", now=1_000) is None


def test_register_with_a_character(client: TestClient, sync_session: Session) -> None:
    response = client.post(
        "/api/auth/register",
        json={
            "username": "randolph",
            "password": "silver-key",
            "email": "carter@example.com",
            "character_name": "Carter",
            "profession_id": 1,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    user = sync_session.get(User, body["user_id"])
    assert user is not None and user.check_password("silver-key")
    player = sync_session.get(Player, body["player_id"])
    assert player is not None
    assert player.user_id == user.id
    assert player.name == "Carter"
    assert player.get_stats()["intelligence"] == 12


def test_register_rejects_duplicates_and_bad_characters(
    client: TestClient, make_user: MakeUser, make_player: MakePlayer, sync_session: Session
) -> None:
    make_user("taken")
    assert (
        client.post(
            "/api/auth/register", json={"username": "TAKEN", "password": "secret1"}
        ).status_code
        == 409
    )
    make_player("Existing")
    response = client.post(
        "/api/auth/register",
        json={"username": "newbie", "password": "secret1", "character_name": "Existing"},
    )
    assert response.status_code == 409
    bad_profession = client.post(
        "/api/auth/register",
        json={
            "username": "another",
            "password": "secret1",
            "character_name": "Occult",
            "profession_id": 4,
        },
    )
    assert bad_profession.status_code == 422
    names = sync_session.scalars(select(Player.name)).all()
    assert sorted(names) == ["Existing"]
    usernames = sync_session.scalars(select(User.username)).all()
    assert sorted(usernames) == ["taken"]


def test_login_and_me(client: TestClient, make_user: MakeUser, make_player: MakePlayer) -> None:
    user = make_user("henry", password="necronomicon")
    player = make_player("Armitage", user_id=user.id, room_id="miskatonic_archives")
    login = client.post("/api/auth/login", json={"username": "henry", "password": "necronomicon"})
    assert login.status_code == 200
    assert login.json()["player_id"] == player.player_id
    me = client.get("/api/auth/me", headers=bearer(login.json()["access_token"])).json()
    assert me["username"] == "henry"
    assert me["character"]["name"] == "Armitage"
    assert me["character"]["room_id"] == "miskatonic_archives"


def test_login_failures(client: TestClient, make_user: MakeUser) -> None:
    make_user("henry", password="necronomicon")
    wrong = client.post("/api/auth/login", json={"username": "henry", "password": "nope"})
    assert wrong.status_code == 401
    missing = client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
    assert missing.status_code == 401


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer forged.1.x"}]
)
def test_me_requires_a_valid_token(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_create_my_character_once(
    client: TestClient, make_user: MakeUser, sync_session: Session
) -> None:
    user = make_user("asenath")
    headers = bearer(issue_token(user.id))
    assert client.get("/api/auth/me", headers=headers).json()["character"] is None
    created = client.post("/api/auth/me/character", json={"name": "Asenath"}, headers=headers)
    assert created.status_code == 201
    assert created.json()["room_id"] == "arkham_square"
    stored = sync_session.scalar(select(Player).where(Player.user_id == user.id))
    assert stored is not None and stored.name == "Asenath"
    again = client.post("/api/auth/me/character", json={"name": "Ephraim"}, headers=headers)
    assert again.status_code == 409


def test_token_for_a_deleted_account(client: TestClient) -> None:
    headers = bearer(issue_token("f" * 32))
    assert client.get("/api/auth/me", headers=headers).status_code == 401
