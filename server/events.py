"""Domain events and the in-process event bus.

Handlers come in three shapes and the bus accepts all of them: a plain function, a coroutine
function, and a plain callable that returns an awaitable (``lambda e: notify(e)`` where ``notify``
is ``async def``). The bus looks at what a handler *returns*, not at what it is, so the third shape
is never silently dropped.

``publish`` is for sync callers: awaitables are run to completion with ``asyncio.run`` when no loop
is running, or scheduled as tracked tasks on the running loop (``drain()`` awaits them).
``publish_async`` awaits every awaitable before returning. A failing handler never stops the others;
its exception is logged and recorded in ``EventBus.failures``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class Event:
    """Base class of every domain event; subscribe to it to receive all events."""


@dataclass(frozen=True)
class PlayerDamaged(Event):
    player_id: str
    amount: int
    damage_type: str
    health: int


@dataclass(frozen=True)
class PlayerHealed(Event):
    player_id: str
    amount: int
    health: int


@dataclass(frozen=True)
class PlayerDied(Event):
    player_id: str
    room_id: str


@dataclass(frozen=True)
class ExperienceGained(Event):
    player_id: str
    amount: int
    source: str
    experience: int


@dataclass(frozen=True)
class PlayerStatChanged(Event):
    player_id: str
    field: str
    delta: int | float
    value: int | float


@dataclass(frozen=True)
class PlayerMoved(Event):
    player_id: str
    from_room: str
    to_room: str


@dataclass(frozen=True)
class NPCSpawned(Event):
    npc_id: str
    room_id: str


@dataclass(frozen=True)
class HandlerFailure:
    """A handler that raised: kept so a failure is visible after the fact, not only in the log."""

    event: Any
    handler: Handler
    error: BaseException


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _handler_name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


class EventBus:
    """Synchronous and asynchronous publish/subscribe keyed by event class."""

    def __init__(self, *, max_recorded_failures: int = 100) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()
        self.failures: deque[HandlerFailure] = deque(maxlen=max_recorded_failures)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        with self._lock:
            if handler not in self._handlers[event_type]:
                self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type, handler: Handler) -> bool:
        """Remove a handler; False if it was not subscribed."""
        with self._lock:
            handlers = self._handlers.get(event_type, [])
            if handler in handlers:
                handlers.remove(handler)
                return True
            return False

    def handlers_for(self, event: Any) -> list[Handler]:
        """Handlers subscribed to the event's class or any of its bases, most specific first."""
        with self._lock:
            found: list[Handler] = []
            for cls in type(event).__mro__:
                for handler in self._handlers.get(cls, []):
                    if handler not in found:
                        found.append(handler)
            return found

    @property
    def pending_tasks(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    def publish(self, event: Any) -> None:
        """Deliver an event from sync code."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for handler in self.handlers_for(event):
            result = self._call(handler, event)
            if not inspect.isawaitable(result):
                continue
            if loop is None:
                try:
                    asyncio.run(_await(result))
                except Exception as exc:
                    self._record_failure(event, handler, exc)
            else:
                self._track(loop.create_task(_await(result)), event, handler)

    async def publish_async(self, event: Any) -> None:
        """Deliver an event from async code; every handler has finished when this returns."""
        for handler in self.handlers_for(event):
            result = self._call(handler, event)
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception as exc:
                    self._record_failure(event, handler, exc)

    async def drain(self) -> None:
        """Wait for every task ``publish`` scheduled on this loop, including tasks they spawn."""
        loop = asyncio.get_running_loop()
        while True:
            # Tasks left behind by a loop that has since closed can never finish; forget them.
            self._tasks = {t for t in self._tasks if not t.done() and t.get_loop() is loop}
            if not self._tasks:
                return
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def clear(self) -> None:
        with self._lock:
            self._handlers.clear()

    def _call(self, handler: Handler, event: Any) -> Any:
        try:
            return handler(event)
        except Exception as exc:
            self._record_failure(event, handler, exc)
            return None

    def _track(self, task: asyncio.Task[Any], event: Any, handler: Handler) -> None:
        self._tasks.add(task)

        def _done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if finished.cancelled():
                return
            error = finished.exception()
            if error is not None:
                self._record_failure(event, handler, error)

        task.add_done_callback(_done)

    def _record_failure(self, event: Any, handler: Handler, error: BaseException) -> None:
        logger.error(
            "event handler %s failed on %s",
            _handler_name(handler),
            type(event).__name__,
            exc_info=(type(error), error, error.__traceback__),
        )
        self.failures.append(HandlerFailure(event=event, handler=handler, error=error))


_bus_lock = threading.Lock()
_event_bus: EventBus | None = None


def get_event_bus() -> EventBus:
    """The process-wide bus, created on first use."""
    global _event_bus
    with _bus_lock:
        if _event_bus is None:
            _event_bus = EventBus()
        return _event_bus


def reset_event_bus() -> EventBus:
    """Replace the process-wide bus with a fresh one (tests) and return it."""
    global _event_bus
    with _bus_lock:
        _event_bus = EventBus()
        return _event_bus
