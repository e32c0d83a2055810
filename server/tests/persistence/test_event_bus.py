"""EventBus semantics: plain, coroutine and awaitable-returning handlers; publish and drain."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from server.events import (
    Event,
    EventBus,
    NPCSpawned,
    PlayerMoved,
    get_event_bus,
    reset_event_bus,
)

MOVED = PlayerMoved("p1", "arkham_square", "arkham_library")


def test_plain_handler_runs_inline() -> None:
    bus = EventBus()
    seen: list[Any] = []
    bus.subscribe(PlayerMoved, seen.append)

    bus.publish(MOVED)
    bus.publish(NPCSpawned("npc1", "arkham_docks"))

    assert seen == [MOVED]


def test_coroutine_handler_outside_a_loop_runs_to_completion() -> None:
    bus = EventBus()
    seen: list[Any] = []

    async def handler(event: PlayerMoved) -> None:
        await asyncio.sleep(0)
        seen.append(event.to_room)

    bus.subscribe(PlayerMoved, handler)
    bus.publish(MOVED)

    assert seen == ["arkham_library"]


def test_lambda_returning_a_coroutine_is_awaited() -> None:
    bus = EventBus()
    seen: list[Any] = []

    async def notify(event: PlayerMoved, channel: str) -> None:
        seen.append((channel, event.player_id))

    bus.subscribe(PlayerMoved, lambda event: notify(event, "room"))
    bus.publish(MOVED)

    assert seen == [("room", "p1")]


async def test_coroutine_handler_inside_a_loop_is_tracked_until_drained() -> None:
    bus = EventBus()
    seen: list[Any] = []
    release = asyncio.Event()

    async def handler(event: PlayerMoved) -> None:
        await release.wait()
        seen.append(event)

    bus.subscribe(PlayerMoved, handler)
    bus.publish(MOVED)

    assert seen == [] and bus.pending_tasks == 1
    release.set()
    await bus.drain()
    assert seen == [MOVED] and bus.pending_tasks == 0


async def test_drain_waits_for_tasks_spawned_by_tasks() -> None:
    bus = EventBus()
    seen: list[Any] = []

    async def on_moved(event: PlayerMoved) -> None:
        bus.publish(NPCSpawned("watcher", event.to_room))

    async def on_spawned(event: NPCSpawned) -> None:
        seen.append(event)

    bus.subscribe(PlayerMoved, on_moved)
    bus.subscribe(NPCSpawned, on_spawned)
    bus.publish(MOVED)
    await bus.drain()

    assert seen == [NPCSpawned("watcher", "arkham_library")]


async def test_publish_async_awaits_every_kind_of_handler() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def coroutine_handler(event: Any) -> None:
        await asyncio.sleep(0)
        seen.append("coroutine")

    async def notify(kind: str) -> None:
        seen.append(kind)

    bus.subscribe(PlayerMoved, lambda event: seen.append("plain"))
    bus.subscribe(PlayerMoved, coroutine_handler)
    bus.subscribe(PlayerMoved, lambda event: notify("lambda"))

    await bus.publish_async(MOVED)

    assert seen == ["plain", "coroutine", "lambda"]
    assert bus.pending_tasks == 0


async def test_failing_handlers_are_logged_and_do_not_stop_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[Any] = []

    def broken(event: Any) -> None:
        raise RuntimeError("plain failure")

    async def broken_async(event: Any) -> None:
        raise RuntimeError("async failure")

    bus.subscribe(PlayerMoved, broken)
    bus.subscribe(PlayerMoved, broken_async)
    bus.subscribe(PlayerMoved, seen.append)

    with caplog.at_level(logging.ERROR, logger="server.events"):
        await bus.publish_async(MOVED)
        bus.publish(MOVED)
        await bus.drain()

    assert seen == [MOVED, MOVED]
    errors = sorted(str(failure.error) for failure in bus.failures)
    assert errors == ["async failure", "async failure", "plain failure", "plain failure"]
    assert sum("failed on PlayerMoved" in r.getMessage() for r in caplog.records) == 4


def test_failing_coroutine_outside_a_loop_is_recorded() -> None:
    bus = EventBus()

    async def broken(event: Any) -> None:
        raise ValueError("no loop failure")

    bus.subscribe(PlayerMoved, broken)
    bus.publish(MOVED)

    assert [str(f.error) for f in bus.failures] == ["no loop failure"]


def test_subscribe_to_the_base_class_and_unsubscribe() -> None:
    bus = EventBus()
    seen: list[Any] = []
    bus.subscribe(Event, seen.append)
    bus.subscribe(Event, seen.append)

    bus.publish(MOVED)
    assert bus.unsubscribe(Event, seen.append) is True
    assert bus.unsubscribe(Event, seen.append) is False
    bus.publish(MOVED)

    assert seen == [MOVED]


def test_reset_event_bus_replaces_the_process_wide_bus() -> None:
    before = get_event_bus()

    after = reset_event_bus()

    assert after is not before
    assert get_event_bus() is after
