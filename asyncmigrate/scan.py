"""Find every call that reaches the facade, fast.

The pipeline, cheapest step first:
1. walk the tree and read each file's bytes once;
2. skip files whose bytes contain none of the facade's hint tokens (a file that reaches the facade
   must name its factory, its class, or a receiver name);
3. look each remaining file up in the content-hash cache under ``.asyncmigrate/``;
4. parse what is left with LibCST in a process pool, one chunk of files per task;
5. estimate each file's async reach from a name-level call graph (``reach.py``).
"""

from __future__ import annotations

import concurrent.futures
import fnmatch
import hashlib
import io
import multiprocessing
import os
import pickle
import re
import time
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from asyncmigrate import __version__
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.facade import FacadeSpec
from asyncmigrate.plan import Plan, atomic_write_bytes
from asyncmigrate.reach import FileSummary, estimate_reach, summarize
from asyncmigrate.types import CallSite, FileReport, ScanResult, ScanStats

CACHE_DIR = ".asyncmigrate"
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "__pycache__",
    "node_modules",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    CACHE_DIR,
    "build",
    "dist",
}
_INLINE_BYTES = 256 * 1024  # below this, a process pool costs more than it saves
_CHUNK_BYTES = 192 * 1024

ProgressCallback = Callable[[int, int], None]  # (files done, files total)


@dataclass(frozen=True)
class ParsedFile:
    """What the cache keeps per file content: the call sites and the call-graph summary."""

    calls: tuple[CallSite, ...]
    error: str | None
    summary: FileSummary | None


# --- discovery -----------------------------------------------------------------------------------


def matches_any(relative: str, patterns: Sequence[str]) -> bool:
    """fnmatch patterns over root-relative POSIX paths; a directory pattern also matches below it."""
    return any(
        fnmatch.fnmatchcase(relative, pattern) or relative.startswith(pattern.rstrip("/") + "/") for pattern in patterns
    )


def discover(root: Path, paths: Iterable[str], exclude: Sequence[str]) -> list[str]:
    """Python files under ``paths`` (relative to ``root``), as sorted POSIX paths relative to root."""
    found: set[str] = set()
    for given in paths:
        start = (root / given).resolve() if not Path(given).is_absolute() else Path(given).resolve()
        if not start.exists():
            raise AsyncMigrateError(f"{given}: no such file or directory")
        if start.is_file():
            found.add(_relative(root, start))
            continue
        for directory, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for filename in filenames:
                if filename.endswith(".py"):
                    found.add(_relative(root, Path(directory, filename)))
    return sorted(p for p in found if not matches_any(p, exclude))


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


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


def parse_file(path: str, data: bytes, spec: FacadeSpec) -> ParsedFile:
    """Find the facade call sites of one file; never raises for a problem in the user's code."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    from asyncmigrate.collector import FacadeCallCollector

    problem = check_encoding(data)
    if problem is not None:
        return ParsedFile((), problem, None)
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        return ParsedFile((), _syntax_error(data, exc), None)
    except (RecursionError, MemoryError) as exc:  # pathological nesting; report, do not crash
        return ParsedFile((), f"cannot parse: {type(exc).__name__}", None)
    collector = FacadeCallCollector(spec, path)
    MetadataWrapper(module, unsafe_skip_copy=True).visit(collector)
    return ParsedFile(tuple(collector.calls), None, summarize(path, data, spec))


def _syntax_error(data: bytes, exc: Exception) -> str:
    """CPython's parser pins the line more exactly than LibCST's; prefer it when it agrees."""
    import ast

    try:
        ast.parse(data)
    except SyntaxError as py_error:
        return f"syntax error at line {py_error.lineno}: {py_error.msg}"
    except ValueError:
        pass
    line = getattr(exc, "raw_line", "?")
    message = getattr(exc, "message", str(exc))
    return f"syntax error at line {line}: {message}"


def _parse_chunk(chunk: list[tuple[str, bytes]], spec: FacadeSpec) -> list[tuple[str, ParsedFile]]:
    return [(path, parse_file(path, data, spec)) for path, data in chunk]


def _chunks(items: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    chunks: list[list[tuple[str, bytes]]] = []
    current: list[tuple[str, bytes]] = []
    size = 0
    for item in items:
        current.append(item)
        size += len(item[1])
        if size >= _CHUNK_BYTES:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def parse_many(
    items: list[tuple[str, bytes]],
    spec: FacadeSpec,
    progress: ProgressCallback | None = None,
    jobs: int | None = None,
) -> dict[str, ParsedFile]:
    """Parse files on every core; small batches run inline."""
    results: dict[str, ParsedFile] = {}
    total = len(items)
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or sum(len(d) for _, d in items) < _INLINE_BYTES:
        for index, (path, data) in enumerate(items, 1):
            results[path] = parse_file(path, data, spec)
            if progress:
                progress(index, total)
        return results
    # Largest first so one big file does not finish last on an otherwise idle pool.
    ordered = sorted(items, key=lambda item: len(item[1]), reverse=True)
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_parse_chunk, chunk, spec) for chunk in _chunks(ordered)]
        for future in concurrent.futures.as_completed(futures):
            for path, parsed in future.result():
                results[path] = parsed
            if progress:
                progress(len(results), total)
    return results


# --- cache ------------------------------------------------------------------------------------------


class ScanCache:
    """Per-file results keyed by (path, content hash, facade fingerprint, tool version)."""

    def __init__(self, root: Path, spec: FacadeSpec) -> None:
        self.path = root / CACHE_DIR / "cache" / f"scan-{spec.fingerprint()}.pickle"
        self.salt = f"{__version__}:{spec.fingerprint()}".encode()
        self.entries: dict[str, ParsedFile] = {}
        self.reach: tuple[str, dict[str, int]] | None = None  # (tree key, reach per file)
        self.used: set[str] = set()
        self.dirty = False
        try:
            with self.path.open("rb") as handle:
                loaded = pickle.load(handle)
            self.entries = loaded["files"]
            self.reach = loaded["reach"]
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, KeyError):
            self.entries, self.reach = {}, None  # a missing or stale cache only costs a re-parse

    def key(self, path: str, content_digest: bytes) -> str:
        """The entry for this path with this content, under this facade and tool version."""
        return hashlib.blake2b(path.encode() + b"\0" + content_digest, digest_size=16, key=self.salt[:64]).hexdigest()

    def get(self, key: str) -> ParsedFile | None:
        self.used.add(key)
        return self.entries.get(key)

    def put(self, key: str, parsed: ParsedFile) -> None:
        self.used.add(key)
        self.entries[key] = parsed
        self.dirty = True

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
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gitignore = self.path.parent.parent / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")  # caches and backups never belong in version control
        payload = {"files": self.entries, "reach": self.reach}
        atomic_write_bytes(self.path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


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
) -> ScanResult:
    started = time.perf_counter()
    """Scan ``paths`` (default: the plan's source and tests), leaving out the plan's ``exclude``
    patterns, or ``exclude`` when there is no plan."""
    files = discover(root, paths or default_paths(plan), plan.exclude if plan else exclude)
    tokens = spec.hint_tokens()
    cache = ScanCache(root, spec) if use_cache else None

    contents: dict[str, bytes] = {}
    parsed: dict[str, ParsedFile] = {}
    to_parse: list[tuple[str, bytes]] = []
    keys: dict[str, str] = {}
    digests: dict[str, bytes] = {}  # each file is hashed once, for its cache entry and the tree key
    prefiltered_out = 0
    for relative in files:
        try:
            data = (root / relative).read_bytes()
        except OSError as exc:
            parsed[relative] = ParsedFile((), f"cannot read: {exc.strerror}", None)
            continue
        contents[relative] = data
        if cache is not None:
            digests[relative] = hashlib.blake2b(data, digest_size=16).digest()
        if not any(token in data for token in tokens):
            prefiltered_out += 1
            continue
        if cache is not None:
            key = keys[relative] = cache.key(relative, digests[relative])
            hit = cache.get(key)
            if hit is not None:
                parsed[relative] = hit
                continue
        to_parse.append((relative, data))

    cache_hits = len(parsed)
    fresh = parse_many(to_parse, spec, progress, jobs)
    parsed.update(fresh)
    if cache is not None:
        for relative, result in fresh.items():
            cache.put(keys[relative], result)

    # Callers can live in any file, so the reach depends on the whole tree: reuse the last result
    # when no file changed (a warm re-scan then touches no call graph at all).
    tree_key = _tree_key(digests)
    reach = cache.reach_for(tree_key) if cache is not None else None
    if reach is None:
        summaries = {path: p.summary for path, p in parsed.items() if p.summary is not None}
        reach = estimate_reach(
            {path: p.calls for path, p in parsed.items() if p.calls},
            summaries,
            contents,
            spec,
            summarize_missing=lambda path: _cached_summary(cache, path, contents[path], digests.get(path), spec),
        )
        if cache is not None:
            cache.store_reach(tree_key, reach)
    if cache is not None:
        cache.prune()
        cache.save()

    planned = {e.path: e for e in plan.entries()} if plan else {}
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
        files_prefiltered_out=prefiltered_out,
        files_parsed=len(fresh),
        cache_hits=cache_hits,
        seconds=time.perf_counter() - started,
    )
    return ScanResult(root=str(root), files=tuple(reports), errors=tuple(errors), stats=stats)


def _tree_key(digests: dict[str, bytes]) -> str:
    tree = hashlib.blake2b(digest_size=16)
    for path in sorted(digests):
        tree.update(path.encode() + b"\0" + digests[path])
    return tree.hexdigest()


def _cached_summary(
    cache: ScanCache | None, path: str, data: bytes, digest: bytes | None, spec: FacadeSpec
) -> FileSummary | None:
    if cache is None or digest is None:
        return summarize(path, data, spec)
    key = "summary:" + cache.key(path, digest)
    hit = cache.get(key)
    if hit is not None:
        return hit.summary
    summary = summarize(path, data, spec)
    cache.put(key, ParsedFile((), None, summary))
    return summary
