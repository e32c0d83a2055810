"""Per-file work on every core: the scan's parsing and the call graph's summaries of a cold tree, and
(``Forked``) one piece of work on the other core while the caller does another (``apply``'s files).

Small batches run inline: below ``INLINE_WEIGHT`` (about a megabyte of source) a process pool costs
more than it saves. Otherwise the items run in chunks of about equal weight, heaviest first, so one
big file does not finish last on an otherwise idle pool. Where ``fork`` exists a worker finds the
items in its copy of the parent's memory and a chunk is sent as a range of indices, not as its
files' bytes; elsewhere (``spawn``) the items and the work (a module-level function, or a
``functools.partial`` of one) are pickled to the workers.

Multiprocessing and ``concurrent.futures`` are imported only when a pool runs: a warm scan, which
parses nothing, does not pay for them at start-up (``tests/test_layers.py``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from asyncmigrate.workspace.cache import paused_collection

INLINE_WEIGHT = 1024 * 1024  # below this (in ``weight`` units, about bytes), a process pool costs more than it saves
_CHUNK_WEIGHT = 768 * 1024  # at most; small batches get smaller chunks, so no worker idles at the end
_CHUNKS_PER_WORKER = 16

Item = TypeVar("Item")
Result = TypeVar("Result")
ProgressCallback = Callable[[int, int], None]  # (done, total)

# The work and the items of the pool being run, in the parent process, for the workers it forks.
_FORKED: list[Any] = []


def run_on_cores(
    items: Sequence[Item],
    work: Callable[[Item], Result],
    weight: Callable[[Item], int],
    *,
    progress: ProgressCallback | None = None,
    jobs: int | None = None,
) -> list[Result]:
    """``work`` of each item, in the order of ``items``; on every core (or ``jobs`` processes) when
    the items weigh ``INLINE_WEIGHT`` or more, inline otherwise. ``progress`` hears (done, total).

    The results are made of acyclic objects (a file's summary, its call sites): the parent collects no
    cycles while they arrive and are unpickled, which would walk them over and over on a core the
    workers need."""
    total = len(items)
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or sum(weight(item) for item in items) < INLINE_WEIGHT:
        inline: list[Result] = []
        for item in items:
            inline.append(work(item))
            if progress:
                progress(len(inline), total)
        return inline
    import concurrent.futures
    import multiprocessing

    order = sorted(range(total), key=lambda index: weight(items[index]), reverse=True)
    ordered = [items[index] for index in order]
    forking = hasattr(os, "fork")
    context = multiprocessing.get_context("fork" if forking else "spawn")
    _FORKED[:] = [work, ordered] if forking else []
    results: list[Any] = [None] * total
    done = 0
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    try:
        with paused_collection(), pool:
            chunks = _chunks([weight(item) for item in ordered], workers)
            # forked workers read the chunk's items from their copy of ``_FORKED``; spawned ones are sent them
            futures = {
                pool.submit(_run_chunk, *((chunk, None) if forking else ([ordered[i] for i in chunk], work))): chunk
                for chunk in chunks
            }
            for future in concurrent.futures.as_completed(futures):
                for index, result in zip(futures[future], future.result(), strict=True):
                    results[order[index]] = result
                    done += 1
                if progress:
                    progress(done, total)
    finally:
        _FORKED.clear()
    return results


def _start_worker() -> None:
    # Forked while the parent had the cyclic collector off (see run_on_cores): a worker collects after
    # each file (its work says when), and never walks what it inherited, which is not its garbage to find.
    gc.freeze()
    gc.enable()


def _run_chunk(chunk: list[Any] | range, work: Callable[[Any], Any] | None) -> list[Any]:
    if isinstance(chunk, range):
        work, items = _FORKED
        return [work(items[index]) for index in chunk]
    assert work is not None
    return [work(item) for item in chunk]


def _chunks(weights: list[int], workers: int) -> list[range]:
    """Consecutive runs of items of about equal weight, as ranges of indices."""
    limit = min(_CHUNK_WEIGHT, sum(weights) // (workers * _CHUNKS_PER_WORKER) + 1)
    chunks: list[range] = []
    start = size = 0
    for index, item_weight in enumerate(weights):
        size += item_weight
        if size >= limit:
            chunks.append(range(start, index + 1))
            start, size = index + 1, 0
    if start < len(weights):
        chunks.append(range(start, len(weights)))
    return chunks


class Forked(Generic[Result]):
    """``work()`` running in a forked child, on another core, while the parent goes on; ``result()`` waits
    for it and returns what it returned, or raises what it raised. The child shares the parent's memory as
    it was at the fork (nothing is sent to it) and sends its result back pickled through a pipe. Where
    ``fork`` does not exist or fails, and in a process running other threads (whose child could wait forever
    on a lock one of them held at the fork), ``work`` runs here when its result is asked for. Used as a
    context manager, a child whose result was never asked for (the parent failed first) is stopped and reaped
    on the way out."""

    def __init__(self, work: Callable[[], Result]) -> None:
        self._work: Callable[[], Result] | None = work
        self._pid = 0
        self._read = -1
        if not hasattr(os, "fork") or not _single_threaded():
            return
        try:
            read, write = os.pipe()
        except OSError:  # out of file descriptors: the work runs here, when asked for
            return
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory for one: the same
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: never returns
            _run_forked_child(work, read, write)
        os.close(write)
        self._work = None
        self._pid, self._read = pid, read

    def result(self) -> Result:
        if self._work is not None:
            return self._work()
        read, self._read = self._read, -1  # the file object owns (and closes) the descriptor from here
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        os.waitpid(self._pid, 0)
        self._pid = 0
        if not data:
            raise RuntimeError("the forked worker ended without a result")
        succeeded, value = pickle.loads(data)
        if succeeded:
            return cast(Result, value)
        raise value

    def __enter__(self) -> Forked[Result]:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            if self._read >= 0:
                with contextlib.suppress(OSError):
                    os.close(self._read)
                self._read = -1
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0


def _single_threaded() -> bool:
    """Does this process run one thread? Counted by the system where it tells (a thread started outside
    ``threading`` counts too), else by ``threading``."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            # the fields after the command name (in parentheses, which may hold spaces): num_threads is the 20th
            return int(stat.read().rpartition(b")")[2].split()[17]) == 1
    except (OSError, ValueError, IndexError):
        return threading.active_count() == 1


def _run_forked_child(work: Callable[[], Any], read: int, write: int) -> None:
    # The child leaves with os._exit: no atexit handler, no buffered output of the parent's flushed twice.
    status = 0
    try:
        os.close(read)
        try:
            payload = pickle.dumps((True, work()))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which raises it
            try:
                payload = pickle.dumps((False, exc))
            except Exception:  # noqa: BLE001 - an exception that does not pickle goes back by its text
                payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # noqa: BLE001 - the pipe is gone (the parent stopped us): nothing to tell
        status = 1
    finally:
        os._exit(status)
