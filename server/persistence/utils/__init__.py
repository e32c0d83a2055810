"""Retrying database work that failed for a transient reason.

A dropped PostgreSQL connection, a failover, or SQLite answering "database is locked" after its busy
timeout are worth another try; a constraint violation or a bad query is not and is re-raised at
once. Backoff is exponential (``base_delay * 2**attempt``, capped at ``max_delay``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TRANSIENT_MESSAGES = (
    "database is locked",
    "database table is locked",
    "connection refused",
    "server closed the connection",
    "connection reset",
    "could not serialize access",
    "deadlock detected",
    "terminating connection",
)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try (in total) and how long to wait between tries."""

    attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


DEFAULT_RETRY_POLICY = RetryPolicy()


def is_transient_error(error: BaseException) -> bool:
    """True for failures another attempt may not meet: lost connections, lock timeouts."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError):
        return True
    message = str(error).lower()
    return isinstance(error, DBAPIError) and any(text in message for text in _TRANSIENT_MESSAGES)


def _log_retry(operation: str, attempt: int, policy: RetryPolicy, error: BaseException) -> None:
    logger.warning(
        "%s failed (attempt %d of %d), retrying in %.3fs: %s",
        operation,
        attempt + 1,
        policy.attempts,
        policy.delay(attempt),
        error,
    )


def retry_sync(
    operation: Callable[[], T],
    *,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    name: str = "database operation",
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``, retrying transient errors; the last error propagates."""
    for attempt in range(policy.attempts):
        try:
            return operation()
        except Exception as error:
            if not is_transient_error(error) or attempt + 1 >= policy.attempts:
                raise
            _log_retry(name, attempt, policy, error)
            sleep(policy.delay(attempt))
    raise AssertionError("unreachable: the loop returns or raises")


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    name: str = "database operation",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Await ``operation()``, retrying transient errors; the last error propagates.

    ``operation`` is a factory: each attempt needs a fresh coroutine (and a fresh session).
    """
    for attempt in range(policy.attempts):
        try:
            return await operation()
        except Exception as error:
            if not is_transient_error(error) or attempt + 1 >= policy.attempts:
                raise
            _log_retry(name, attempt, policy, error)
            await sleep(policy.delay(attempt))
    raise AssertionError("unreachable: the loop returns or raises")


__all__ = [
    "DEFAULT_RETRY_POLICY",
    "RetryPolicy",
    "is_transient_error",
    "retry_async",
    "retry_sync",
]
