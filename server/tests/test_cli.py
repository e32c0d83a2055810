"""The sync entry point: ``python -m server.cli`` commands, run through ``main(argv)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.cli import build_parser, main
from server.models import Container, Player
from server.npc.definitions import startup_definitions
from server.persistence.repositories import get_player_repository


def _npc_names(session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(Player.name).where(Player.is_npc.is_(True))))


def test_spawn_npcs(sync_session, capsys):
    assert main(["spawn-npcs"]) == 0

    assert _npc_names(sync_session) == {d.name for d in startup_definitions()}
    out = capsys.readouterr().out
    assert "spawned  Librarian Armitage" in out
    assert out.strip().endswith(f"{len(startup_definitions())} spawned, 0 already present, "
                                "0 deferred")


def test_spawn_only_some(sync_session, capsys):
    assert main(["spawn-npcs", "--only", "shoggoth_remnant", "--only", "farmer_bishop"]) == 0

    assert _npc_names(sync_session) == {"Shoggoth Remnant", "Farmer Bishop"}


def test_list_npcs(capsys):
    main(["spawn-npcs"])
    capsys.readouterr()

    assert main(["list-npcs", "--room", "arkham_library"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Librarian Armitage")
    assert "hp 80/80" in lines[0] and "level 5" in lines[0]
    assert lines[-1] == "1 NPC(s)"

    main(["list-npcs"])
    assert capsys.readouterr().out.splitlines()[-1] == f"{len(startup_definitions())} NPC(s)"


def test_cleanup_corpses(sync_session, capsys):
    past = datetime.now(UTC) - timedelta(hours=1)
    sync_session.add_all([
        Container(source_type="corpse", room_id="dunwich_hill", decays_at=past),
        Container(source_type="corpse", room_id="dunwich_hill",
                  decays_at=datetime.now(UTC) + timedelta(days=1)),
    ])
    sync_session.commit()

    assert main(["cleanup-corpses"]) == 0

    assert capsys.readouterr().out.strip() == "1 decayed corpse(s) removed"
    sync_session.expire_all()
    assert len(sync_session.scalars(select(Container)).all()) == 1
    assert main(["cleanup-corpses", "--at", "2999-01-01T00:00:00"]) == 0
    assert capsys.readouterr().out.strip() == "1 decayed corpse(s) removed"


def test_refused_spawn_is_an_error(make_player, capsys):
    make_player("Farmer Bishop", room_id="dunwich_crossroads")  # a player took the name

    assert main(["spawn-npcs", "--only", "farmer_bishop"]) == 1
    assert "already uses the name" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [[], ["dance"], ["spawn-npcs", "--only", "azathoth"], ["cleanup-corpses", "--at", "noon"]],
)
def test_bad_arguments_exit_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_parser_knows_its_commands():
    help_text = build_parser().format_help()
    for command in ("spawn-npcs", "cleanup-corpses", "list-npcs"):
        assert command in help_text


async def test_spawned_npcs_are_visible_to_the_async_side():
    assert main(["spawn-npcs", "--only", "restless_student"]) == 0

    student = await get_player_repository().get_player_by_name("Restless Student")
    assert student is not None and student.is_npc
    assert student.current_room_id == "miskatonic_quad"
