"""Project decorators."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

CALLS: list[str] = []
LOG: list[str] = []


def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        CALLS.append(f"{fn.__name__} {time.perf_counter() - start >= 0}")
        return result

    return wrapper


def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        LOG.append(fn.__name__)
        return fn(*args, **kwargs)

    return wrapper
