"""Find every call that reaches the facade, fast.

The pipeline, cheapest step first:
1. walk the tree; a file whose stat signature matches the cache's record is known by its recorded
   content digest without being read, any other is read once and hashed;
2. skip files whose bytes contain none of the facade's hint tokens (a file that reaches the facade
   must name its factory, its class, or a receiver name);
3. look each remaining file up in the content-hash cache under ``.asyncmigrate/``;
4. on a process pool, parse what is left with ``ast`` once: that tree gives the reach summary and,
   through ``ast_collector.py`` (LibCST's scope model ported to ``ast``), the facade call sites;
   LibCST runs only over a file the ast collector refuses (over its slice, ``slicing.py``, when
   one can be made safely);
5. estimate each file's async reach from a name-level call graph (``reach.py``), from every file's
   summary (cached, or made on the same pool), unless no file changed since the last estimate.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import os
import posixpath
import re
import time
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from asyncmigrate import __version__
from asyncmigrate.analysis.discovery import SKIP_DIRS as SKIP_DIRS
from asyncmigrate.analysis.discovery import discover as discover
from asyncmigrate.analysis.discovery import discover_tree
from asyncmigrate.analysis.discovery import matches_any as matches_any
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.parsing import nested_too_deeply, parse_python_or_error, too_deep_message
from asyncmigrate.analysis.pool import ProgressCallback, run_on_cores
from asyncmigrate.analysis.reach import FileSummary, estimate_reach, summarize_tree
from asyncmigrate.config.plan import Plan, keep_plan
from asyncmigrate.types import CallSite, FileReport, ScanResult, ScanStats
from asyncmigrate.workspace.cache import (
    CacheFile,
    Signature,
    file_digest,
    file_signature,
    format_version,
    paused_collection,
    settled,
)

if TYPE_CHECKING:
    from asyncmigrate.analysis.callgraph import ModuleSummary, SharedSummaries
    from asyncmigrate.config.modules import ModuleLayout


@dataclass(frozen=True)
class ParsedFile:
    """What the cache keeps per file content: the call sites and the call-graph summary."""

    calls: tuple[CallSite, ...]
    error: str | None
    summary: FileSummary | None
    libcst: bool = False  # the ast collector refused the file: LibCST found its call sites


# --- per-file work (runs in worker processes) ----------------------------------------------------


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


def check_encoding(data: bytes) -> str | None:
    """None when the bytes decode as the file declares (UTF-8 unless a coding cookie says otherwise)."""
    encoding = "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except SyntaxError as exc:
        head = b"\n".join(data.splitlines()[:2])
        if _COOKIE.search(head):
            return f"unusable coding cookie: {exc.msg}"
        return "not UTF-8 and no coding cookie"
    except LookupError as exc:
        return f"unknown encoding: {exc}"
    except UnicodeDecodeError as exc:
        if encoding in ("utf-8", "utf-8-sig"):
            return f"not UTF-8 and no coding cookie (invalid byte at offset {exc.start})"
        return f"does not decode as its declared {encoding} (offset {exc.start})"
    return None


def parse_file(
    path: str,
    data: bytes,
    spec: FacadeSpec,
    *,
    use_slice: bool = True,
    parsed: ast.Module | Exception | None = None,
) -> ParsedFile:
    """Find the facade call sites of one file; never raises for a problem in the user's code.

    CPython's ``ast`` parses once; the tree gives the reach summary and the call sites
    (``ast_collector.py``). A file the ast collector refuses goes to LibCST: over the slice of the
    file the LibCST collector can see (``slicing.py``), or whole when ``ast`` cannot parse it (newer
    syntax than this interpreter), when the slice cannot be made safely, or when the slice's nodes
    disagree with the anchors. ``parsed``: what ``parse_python_or_error(data)`` gave, when the caller
    parsed already.
    """
    problem = check_encoding(data)
    if problem is not None:
        return ParsedFile((), problem, None)
    # Loaded here, in the per-file work: a warm scan, which parses nothing, does not import it.
    from asyncmigrate.analysis.ast_collector import collect_with_summary

    if parsed is None:
        parsed = parse_python_or_error(data)
    if isinstance(parsed, Exception) and nested_too_deeply(parsed):
        return ParsedFile((), too_deep_message(parsed), None)  # not for LibCST, which would crash on it
    tree = None if isinstance(parsed, Exception) else parsed
    summary: FileSummary | None = None
    if tree is not None:
        found, summary = collect_with_summary(path, data, tree, spec, _declared_encoding(data))
        if found is not None:
            return ParsedFile(found, None, summary)
    if tree is not None and use_slice:
        calls = scan_sliced(path, data, tree, spec)
        if calls is not None:
            return ParsedFile(calls, None, summary, libcst=True)
    return _scan_whole(path, data, spec, summary)


def scan_sliced(path: str, data: bytes, tree: ast.Module, spec: FacadeSpec) -> tuple[CallSite, ...] | None:
    """The call sites found by LibCST on the slice of ``data`` (``tree`` is its ``ast``), or None
    when the slice cannot be used and the whole file must go to LibCST."""
    from asyncmigrate.analysis.slicing import slice_module

    sliced = slice_module(data, tree, spec, _declared_encoding(data))
    if sliced is None:
        return None
    if not sliced.anchors:
        return ()
    import libcst as cst

    from asyncmigrate.analysis.collector import collect_calls

    try:
        module = cst.parse_module(sliced.source)
    except (cst.ParserSyntaxError, RecursionError, MemoryError):
        return None
    calls = collect_calls(module, spec, path, sliced.anchors)
    return None if calls is None else tuple(calls)


def _scan_whole(path: str, data: bytes, spec: FacadeSpec, summary: FileSummary | None) -> ParsedFile:
    import libcst as cst

    from asyncmigrate.analysis.collector import collect_calls

    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        return ParsedFile((), _syntax_error(data, exc), None)
    except (RecursionError, MemoryError) as exc:  # pathological nesting; report, do not crash
        return ParsedFile((), f"cannot parse: {type(exc).__name__}", None)
    return ParsedFile(tuple(collect_calls(module, spec, path) or ()), None, summary, libcst=True)


def _declared_encoding(data: bytes) -> str:
    if data.isascii() or not _COOKIE.search(b"\n".join(data.splitlines()[:2])):
        return "utf-8"
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def _syntax_error(data: bytes, exc: Exception) -> str:
    """CPython's parser pins the line more exactly than LibCST's; prefer it when it agrees."""
    import ast

    try:
        ast.parse(data)
    except SyntaxError as py_error:
        return f"syntax error at line {py_error.lineno}: {py_error.msg}"
    except ValueError:
        pass
    message = getattr(exc, "message", str(exc))
    return f"syntax error at line {libcst_error_line(data, exc)}: {message}"


def libcst_error_line(data: bytes, exc: Exception) -> int | str:
    """The line of a LibCST parse error. Its tokenizer's own errors (tab/space indentation that
    CPython accepts but LibCST does not) all claim line 1, so the line is found as the shortest
    prefix of the file that fails with the same message: O(log n) parses, on the error path only."""
    import libcst as cst

    line = getattr(exc, "raw_line", None)
    message = getattr(exc, "message", None)
    if not isinstance(message, str) or not message.startswith("tokenizer error"):
        return line if isinstance(line, int) else "?"
    lines = data.splitlines(keepends=True)

    def fails_alike(count: int) -> bool:
        try:
            cst.parse_module(b"".join(lines[:count]))
        except cst.ParserSyntaxError as prefix_error:
            return prefix_error.message == message
        except (RecursionError, MemoryError):
            return False
        return False

    low, high = 1, len(lines)  # the whole file fails alike; find the first prefix that does
    while low < high:
        middle = (low + high) // 2
        if fails_alike(middle):
            high = middle
        else:
            low = middle + 1
    return low


def run_task(
    path: str, data: bytes, spec: FacadeSpec, find_calls: bool, module_layout: ModuleLayout | None = None
) -> TaskResult:
    """One file's work, from one ``ast`` parse: its call sites and summary, or (``find_calls`` false) the
    summary alone; and, given ``module_layout``, the call graph's summary of the module (or why it has
    none), for a command that builds the graph next (``SharedSummaries``)."""
    # A module's tree is hundreds of thousands of container objects made at once, none in a cycle:
    # the cyclic collector's passes over them while they are made (and over everything else the
    # process holds, as the results pile up) find nothing. It runs once the file is done, over what
    # the work made: the ast collector's scopes and bindings refer to each other. The tree is gone by
    # then (``_one_parse`` returned), so the collection walks the results, not the tree.
    with paused_collection(collect_after=True):
        return _one_parse(path, data, spec, find_calls, module_layout)


def _one_parse(
    path: str, data: bytes, spec: FacadeSpec, find_calls: bool, module_layout: ModuleLayout | None
) -> TaskResult:
    tree = parse_python_or_error(data)
    if find_calls:
        parsed = parse_file(path, data, spec, parsed=tree)
    else:
        parsed = ParsedFile((), None, None if isinstance(tree, Exception) else summarize_tree(path, tree, spec))
    module: ModuleSummary | str | None = None
    if module_layout is not None:
        from asyncmigrate.analysis.callgraph import summary_or_reason

        module = summary_or_reason(path, data, module_layout, tree)
    return parsed, module


Task = tuple[str, bytes, bool, bool]  # (path, content, find_calls, summarize the module for the call graph)
TaskResult = tuple[ParsedFile, "ModuleSummary | str | None"]  # what ``run_task`` gives


def _run_one(task: Task, spec: FacadeSpec, module_layout: ModuleLayout | None) -> TaskResult:
    path, data, find_calls, summarize_module = task
    return run_task(path, data, spec, find_calls, module_layout if summarize_module else None)


def _weight(task: Task) -> int:
    # Per byte, finding calls (the ast collector's walk) costs about twice a summary (ast only), and the
    # call graph's module summary about as much as a summary.
    return len(task[1]) * ((2 if task[2] else 1) + (1 if task[3] else 0))


def run_tasks(
    tasks: list[Task],
    spec: FacadeSpec,
    progress: ProgressCallback | None = None,
    jobs: int | None = None,
    module_layout: ModuleLayout | None = None,
) -> dict[str, TaskResult]:
    """Run the per-file work on every core; small batches run inline (``asyncmigrate.analysis.pool``)."""
    work = functools.partial(_run_one, spec=spec, module_layout=module_layout)
    results = run_on_cores(tasks, work, _weight, progress=progress, jobs=jobs)
    return {task[0]: result for task, result in zip(tasks, results, strict=True)}


# --- cache ------------------------------------------------------------------------------------------


class ScanCache:
    """Per-file results keyed by (path, content hash, facade fingerprint, tool version).

    Two files: the call sites and the last reach estimate, which every scan reads, and the reach
    summaries, which only a scan that must redo the estimate (some file changed) reads.
    """

    def __init__(self, root: Path, spec: FacadeSpec) -> None:
        self.store = CacheFile(root, f"scan-{spec.fingerprint()}", _SCAN_FORMAT)
        self.summary_store = CacheFile(root, f"summaries-{spec.fingerprint()}", _SUMMARIES_FORMAT)
        self.path = self.store.path
        self.summary_path = self.summary_store.path
        self.salt = f"{__version__}:{spec.fingerprint()}".encode()
        self.entries: dict[str, ParsedFile] = {}
        self.reach: tuple[str, dict[str, int]] | None = None  # (tree key, reach per file)
        self.files: dict[str, tuple[Signature, bytes, bool]] = {}  # path -> (stat, digest, hinted)
        self.files_seen: set[str] = set()
        self.used: set[str] = set()
        self.dirty = False
        self._summaries: dict[str, FileSummary | None] | None = None  # loaded on first use
        self.summaries_used: set[str] = set()
        self.summaries_dirty = False
        loaded = self.store.load()
        if isinstance(loaded, dict) and {"entries", "reach", "files"} <= loaded.keys():
            self.entries = loaded["entries"]
            self.reach = loaded["reach"]
            self.files = loaded["files"]
        # else a missing or stale cache costs a re-parse

    def key(self, path: str, content_digest: bytes) -> str:
        """The entry for this path with this content, under this facade and tool version."""
        return hashlib.blake2b(path.encode() + b"\0" + content_digest, digest_size=16, key=self.salt[:64]).hexdigest()

    def known_file(self, path: str, signature: Signature) -> tuple[bytes, bool] | None:
        """(digest, hinted) recorded for this path when its stat signature was the same."""
        self.files_seen.add(path)
        record = self.files.get(path)
        if record is None or record[0] != signature:
            return None
        return record[1], record[2]

    def remember_file(self, path: str, signature: Signature, digest: bytes, hinted: bool, read_at: int) -> None:
        self.files_seen.add(path)
        # A file changed within the file system's timestamp granularity of this read could change
        # again without its signature changing: remember only files that had settled.
        if settled(signature, read_at):
            self.files[path] = (signature, digest, hinted)
            self.dirty = True
        elif self.files.pop(path, None) is not None:
            self.dirty = True

    def get(self, key: str) -> ParsedFile | None:
        self.used.add(key)
        return self.entries.get(key)

    def put(self, key: str, parsed: ParsedFile) -> None:
        self.used.add(key)
        self.entries[key] = ParsedFile(parsed.calls, parsed.error, None, parsed.libcst)
        self.dirty = True

    def summaries(self) -> dict[str, FileSummary | None]:
        if self._summaries is None:
            loaded = self.summary_store.load()
            self._summaries = loaded if isinstance(loaded, dict) else {}
        assert self._summaries is not None
        return self._summaries

    def summary(self, key: str) -> tuple[bool, FileSummary | None]:
        """(found, summary); a summary of None means the file does not parse with ``ast``."""
        summaries = self.summaries()
        if key not in summaries:
            return False, None
        self.summaries_used.add(key)
        return True, summaries[key]

    def put_summary(self, key: str, summary: FileSummary | None) -> None:
        self.summaries()[key] = summary
        self.summaries_used.add(key)
        self.summaries_dirty = True

    def reach_for(self, tree_key: str) -> dict[str, int] | None:
        if self.reach is not None and self.reach[0] == tree_key:
            return dict(self.reach[1])
        return None

    def store_reach(self, tree_key: str, reach: dict[str, int]) -> None:
        self.reach = (tree_key, dict(reach))
        self.dirty = True

    def prune(self) -> None:
        """Forget entries this run did not use (deleted files, old contents)."""
        stale = set(self.entries) - self.used
        for key in stale:
            del self.entries[key]
        gone = set(self.files) - self.files_seen
        for path in gone:
            del self.files[path]
        self.dirty = self.dirty or bool(stale) or bool(gone)
        if self._summaries is not None:
            stale = set(self._summaries) - self.summaries_used
            for key in stale:
                del self._summaries[key]
            self.summaries_dirty = self.summaries_dirty or bool(stale)

    def save(self) -> None:
        if not (self.dirty or self.summaries_dirty):
            return
        # A cache that cannot be written (a full disk, a read-only tree) is simply not written.
        if self.dirty:
            self.store.store({"entries": self.entries, "reach": self.reach, "files": self.files})
        if self.summaries_dirty and self._summaries is not None:
            self.summary_store.store(self._summaries)


# --- the scan --------------------------------------------------------------------------------------


def default_paths(plan: Plan | None) -> list[str]:
    if plan is None:
        return ["."]
    return list(dict.fromkeys([*plan.source, *plan.tests]))


def scan(
    root: Path,
    spec: FacadeSpec,
    *,
    paths: Sequence[str] | None = None,
    plan: Plan | None = None,
    exclude: Sequence[str] = (),
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
    jobs: int | None = None,
    shared: SharedSummaries | None = None,
) -> ScanResult:
    """Scan ``paths`` (default: the plan's source and tests), leaving out the plan's ``exclude``
    patterns, or ``exclude`` when there is no plan. ``shared``: the command builds the call graph next;
    each file parsed here whose module summary the graph still wants gets it from the same parse."""
    # What a scan builds (digests, call sites, summaries, the reach's sets) is acyclic and kept to the
    # end: the cyclic collector's passes over it, a full one during the reach estimate above all, find
    # nothing to free.
    with paused_collection():
        return _scan(root, spec, paths, plan, exclude, use_cache, progress, jobs, shared)


def _scan(
    root: Path,
    spec: FacadeSpec,
    paths: Sequence[str] | None,
    plan: Plan | None,
    exclude: Sequence[str],
    use_cache: bool,
    progress: ProgressCallback | None,
    jobs: int | None,
    shared: SharedSummaries | None,
) -> ScanResult:
    started = time.perf_counter()
    scope = list(paths or default_paths(plan))
    discovery = discover_tree(root, scope, plan.exclude if plan else exclude)
    files = discovery.files
    cache = ScanCache(root, spec) if use_cache else None
    tree = _Tree(root, spec.hint_tokens(), cache)
    for relative in files:
        tree.classify(relative, discovery.stats.get(relative))

    parsed: dict[str, ParsedFile] = dict(tree.unreadable)
    to_parse: list[str] = []
    for relative in tree.hinted:
        hit = cache.get(tree.keys[relative]) if cache is not None else None
        if hit is not None:
            parsed[relative] = hit
        else:
            to_parse.append(relative)
    cache_hits = len(parsed) - len(tree.unreadable)

    # Callers can live in any file, so the reach depends on the whole tree: reuse the last result
    # when no file changed (a warm re-scan then touches no call graph at all). Otherwise every
    # file needs its summary: from the cache, from its parse, or computed on the pool.
    tree_key = _tree_key(tree.digests)
    reach = cache.reach_for(tree_key) if cache is not None else None
    tasks: list[Task] = []

    def graph_wants(relative: str, data: bytes) -> bool:
        return shared is not None and shared.wanted(relative, tree.digests.get(relative) or file_digest(data))

    for relative in to_parse:
        data = tree.read(relative)
        if data is not None:
            tasks.append((relative, data, True, graph_wants(relative, data)))
    summaries: dict[str, FileSummary] = {}
    if reach is None:
        parsing = set(to_parse)
        for relative in tree.readable():
            if relative in parsing:
                continue
            if cache is not None:
                known, summary = cache.summary(tree.keys[relative])
                if known:
                    if summary is not None:
                        summaries[relative] = summary
                    continue
            data = tree.read(relative)
            if data is not None:
                tasks.append((relative, data, False, graph_wants(relative, data)))

    results = run_tasks(tasks, spec, progress, jobs, shared.layout if shared is not None else None)
    fresh = {relative: parsed for relative, (parsed, _) in results.items()}
    if shared is not None:
        for relative, _, _, wanted in tasks:
            module = results[relative][1]
            if wanted and module is not None:
                shared.add(relative, module)
    if reach is None:
        for relative, result in fresh.items():
            if result.summary is not None:
                summaries[relative] = result.summary
            if cache is not None:
                cache.put_summary(tree.keys[relative], result.summary)
    parsed.update(tree.unreadable)  # files that vanished between the two looks at them
    for relative in to_parse:
        if relative in fresh:
            parsed[relative] = fresh[relative]
            if cache is not None:
                cache.put(tree.keys[relative], fresh[relative])

    if reach is None:
        reach = estimate_reach({path: p.calls for path, p in parsed.items() if p.calls}, summaries, spec)
        if cache is not None:
            cache.store_reach(tree_key, reach)
    if cache is not None:
        cache.prune()
        cache.save()
        if plan is not None:
            keep_plan(plan)  # the tree has its cache directory now

    # `scan server/api` is about server/api: planned files elsewhere are not part of the answer
    planned = {e.path: e for e in plan.entries() if _within(e.path, scope)} if plan else {}
    reports: list[FileReport] = []
    errors: list[FileReport] = []
    for path in sorted(set(parsed) | set(planned)):
        found = parsed.get(path)
        entry = planned.get(path)
        report = FileReport(
            path=path,
            calls=found.calls if found else (),
            error=found.error if found else None,
            phase=entry.phase if entry else None,
            status=entry.status if entry else None,
            async_reach=reach.get(path, 0),
        )
        if report.error:
            errors.append(report)
        elif report.calls or entry is not None:
            reports.append(report)
    stats = ScanStats(
        files_seen=len(files),
        files_prefiltered_out=tree.prefiltered_out,
        files_parsed=len(to_parse),
        files_libcst=sum(1 for relative in to_parse if relative in fresh and fresh[relative].libcst),
        cache_hits=cache_hits,
        seconds=time.perf_counter() - started,
    )
    return ScanResult(
        root=str(root), files=tuple(reports), errors=tuple(errors), stats=stats, skipped=tuple(discovery.skipped)
    )


def _within(path: str, scope: Sequence[str]) -> bool:
    """Is the root-relative ``path`` one of ``scope`` (root-relative paths) or below one of them?"""
    for given in scope:
        prefix = posixpath.normpath(given)
        if prefix == "." or path == prefix or path.startswith(prefix + "/"):
            return True
    return False


class _Tree:
    """Each file's content digest and hint-token verdict, read from disk only when needed.

    A file whose size, times and inode match what the cache recorded, and which had not been
    touched for a while when it was recorded, is known by its recorded digest without being read
    (git's index does the same); its bytes are read only if some work needs them.
    """

    def __init__(self, root: Path, tokens: tuple[bytes, ...], cache: ScanCache | None) -> None:
        self.root = root
        self.root_text = str(root)  # os.path.join on strings: a pathlib join per file is most of a warm scan
        self.tokens = tokens
        self.cache = cache
        self.digests: dict[str, bytes] = {}  # each file is hashed once, for its entry and the tree key
        self.keys: dict[str, str] = {}
        self.classified: list[str] = []
        self.hinted: list[str] = []
        self.prefiltered_out = 0
        self.unreadable: dict[str, ParsedFile] = {}
        self._contents: dict[str, bytes] = {}

    def classify(self, relative: str, status: os.stat_result | None = None) -> None:
        """``status``: the file's stat, when the walk that found it took one moments ago."""
        cache = self.cache
        if cache is None:
            data = self.read(relative)
            if data is not None:
                self._record(relative, b"", any(token in data for token in self.tokens))
            return
        try:
            signature = file_signature(status or os.stat(os.path.join(self.root_text, relative)))
        except OSError as exc:
            self.unreadable[relative] = ParsedFile((), f"cannot read: {exc.strerror}", None)
            return
        known = cache.known_file(relative, signature)
        if known is not None:
            self._record(relative, *known)
            return
        read_at = time.time_ns()
        data = self.read(relative)
        if data is None:
            return
        digest = file_digest(data)
        hinted = any(token in data for token in self.tokens)
        self._record(relative, digest, hinted)
        cache.remember_file(relative, signature, digest, hinted, read_at)

    def _record(self, relative: str, digest: bytes, hinted: bool) -> None:
        self.classified.append(relative)
        if self.cache is not None:
            self.digests[relative] = digest
            self.keys[relative] = self.cache.key(relative, digest)
        if hinted:
            self.hinted.append(relative)
        else:
            self.prefiltered_out += 1

    def read(self, relative: str) -> bytes | None:
        data = self._contents.get(relative)
        if data is None and relative not in self.unreadable:
            try:
                with open(os.path.join(self.root_text, relative), "rb") as handle:
                    data = self._contents[relative] = handle.read()
            except OSError as exc:
                self.unreadable[relative] = ParsedFile((), f"cannot read: {exc.strerror}", None)
        return data

    def readable(self) -> list[str]:
        return [path for path in self.classified if path not in self.unreadable]


# Derived from the cached types: changing ``ParsedFile``, ``CallSite`` or ``FileSummary`` (or what
# they hold) names a new cache file, so entries pickled from the old shapes are never read.
_SCAN_FORMAT = format_version(ParsedFile)
_SUMMARIES_FORMAT = format_version(FileSummary)


def _tree_key(digests: dict[str, bytes]) -> str:
    tree = hashlib.blake2b(digest_size=16)
    for path in sorted(digests):
        tree.update(path.encode() + b"\0" + digests[path])
    return tree.hexdigest()
