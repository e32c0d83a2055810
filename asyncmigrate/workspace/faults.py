"""Named crash points, so the suite can prove what a ``kill -9`` at each step of a commit leaves behind.

``ASYNCMIGRATE_CRASH_AT=NAME`` (or ``NAME:N``, the N-th time the point is reached) makes the process
kill itself with SIGKILL at that point: no handler, no ``finally``, no buffered write survives, exactly
as when the machine or the OOM killer ends it. Only tests and ``scripts/kill_trials.py`` set it; unset,
a crash point costs one environment lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "ASYNCMIGRATE_CRASH_AT"

_hits: dict[str, int] = {}


def crash_point(name: str) -> None:
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)
