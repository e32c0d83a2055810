"""Command-line maintenance for the game world.

    python -m server.cli spawn-npcs [--only KEY ...]
    python -m server.cli cleanup-corpses [--at ISO-8601]
    python -m server.cli list-npcs [--room ROOM_ID]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from server.db import create_schema
from server.npc.definitions import NPC_DEFINITIONS, get_definition, startup_definitions
from server.services.corpse_lifecycle_service import CorpseLifecycleService
from server.services.npc_startup_service import NPCStartupService
from server.world import seed_world


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _say(line: str, *, error: bool = False) -> None:
    # Resolved per call so redirected streams (tests, wrappers) receive the output.
    (sys.stderr if error else sys.stdout).write(line + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m server.cli", description="Maintenance commands for the game world."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    spawn = commands.add_parser("spawn-npcs", help="spawn the start-up NPC population")
    spawn.add_argument(
        "--only", action="append", metavar="KEY", choices=[d.key for d in NPC_DEFINITIONS],
        help="spawn only this NPC definition (repeatable)",
    )

    cleanup = commands.add_parser("cleanup-corpses", help="delete corpses that have decayed")
    cleanup.add_argument("--at", type=_timestamp, default=None,
                         help="treat this moment as now (ISO-8601; default: the current time)")

    listing = commands.add_parser("list-npcs", help="list living NPCs")
    listing.add_argument("--room", default=None, help="only NPCs in this room")
    return parser


def _spawn_npcs(args: argparse.Namespace) -> int:
    definitions = (
        [get_definition(key) for key in args.only] if args.only else list(startup_definitions())
    )
    report = NPCStartupService().spawn_initial_npcs(definitions)
    for name in report.spawned:
        _say(f"spawned  {name}")
    for name in report.already_present:
        _say(f"present  {name}")
    for name, reason in sorted(report.deferred.items()):
        _say(f"deferred {name}: {reason}")
    _say(f"{len(report.spawned)} spawned, {len(report.already_present)} already present, "
         f"{len(report.deferred)} deferred")
    return 0


def _cleanup_corpses(args: argparse.Namespace) -> int:
    result = CorpseLifecycleService().cleanup_decayed(args.at)
    _say(f"{result.count} decayed corpse(s) removed")
    return 0


def _list_npcs(args: argparse.Namespace) -> int:
    npcs = NPCStartupService().population(args.room)
    for npc in npcs:
        stats = npc.get_stats()
        _say(f"{npc.name:<24} {npc.current_room_id:<22} "
             f"hp {stats['health']}/{stats['max_health']}  level {stats['level']}")
    _say(f"{len(npcs)} NPC(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The CLI may run against a fresh database; both steps are idempotent.
    create_schema()
    seed_world()
    try:
        if args.command == "spawn-npcs":
            return _spawn_npcs(args)
        if args.command == "cleanup-corpses":
            return _cleanup_corpses(args)
        return _list_npcs(args)
    except ValueError as exc:
        _say(f"error: {exc}", error=True)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
