"""Per-file work on every core: the scan's parsing and the call graph's summaries of a cold tree.

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

import gc
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

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
