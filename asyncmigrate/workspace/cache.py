"""The analysis cache: one directory, one way to name, read and write an entry.

Every analysis that keeps results between runs (the scan's call sites and stat records, the reach
summaries, the call graph's module summaries) stores them here, under ``.asyncmigrate/cache/``:

- an entry's file name carries a *format version derived from the cached types*: a hash of the
  fields (names and annotated types) of every dataclass and the members of every enum that can be
  pickled into it, so changing a cached type makes old entries unreachable without anyone having to
  remember to bump a number; the tool's version is part of it too;
- entries within a file are keyed by content (a hash of the file's bytes and of whatever else the
  result depends on, such as the facade's fingerprint): see ``content_key``;
- the directory holds a ``CACHEDIR.TAG`` (https://bford.info/cachedir/), so backup and archiving
  tools skip it, and ``.asyncmigrate/.gitignore`` keeps it out of version control;
- writes are atomic (a reader never sees half an entry), and a write that fails (a full disk, a
  read-only tree) is dropped silently: a cache that cannot be written costs the next run time, never
  the result;
- an entry that cannot be read back (missing, truncated, corrupted, pickled by another version of a
  type) is a miss.

Most entries are one pickle, read whole (``CacheFile``). Where a run usually needs few of many large
values, a ``PackFile`` keeps them as blobs behind a table, each read (and checked) on its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import gc
import hashlib
import mmap
import os
import pickle
import typing
import zlib
from collections.abc import Hashable, Iterable, Iterator, Mapping
from pathlib import Path

from asyncmigrate import __version__
from asyncmigrate.workspace import files as workspace_files

STATE_DIR = ".asyncmigrate"  # everything the tool keeps in a project: caches, backups, the lock, the trace
CACHE_SUBDIR = "cache"
TRACE_FILE = "trace.json"
CACHEDIR_TAG = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file is a cache directory tag created by asyncmigrate.\n"
    b"# For information about cache directory tags, see: https://bford.info/cachedir/\n"
)
# Everything pickle.load can raise on bytes that are not a well-formed entry of today's types.
READ_ERRORS = (
    OSError,
    pickle.PickleError,
    EOFError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
    MemoryError,
)


# (size, mtime ns, ctime ns, inode): a file whose signature matches the one recorded with its digest
# is known by that digest without being read, as git's index knows files.
Signature = tuple[int, int, int, int]
# A file changed within the file system's timestamp granularity of the moment it was read could
# change again without its signature changing: only files this much older than the read are recorded.
SETTLED_NS = 2_000_000_000


def file_signature(status: os.stat_result) -> Signature:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def settled(signature: Signature, read_at_ns: int) -> bool:
    """Had the file stopped changing when it was read (at ``read_at_ns``, ``time.time_ns()``)?"""
    return max(signature[1], signature[2]) < read_at_ns - SETTLED_NS


def cache_dir(root: Path) -> Path:
    return root / STATE_DIR / CACHE_SUBDIR


def trace_path(root: Path) -> Path:
    """Where ``asyncmigrate trace`` keeps its evidence; known here so that a command can see there is
    none without loading the trace's module."""
    return root / STATE_DIR / TRACE_FILE


def file_digest(data: bytes) -> bytes:
    """The digest a file's content is known by: the call graph, the scan and every cache key use it, and
    ``apply`` compares against the call graph's, so there is one."""
    return hashlib.blake2b(data, digest_size=16).digest()


def content_key(*parts: bytes | str) -> bytes:
    """A 16-byte key over ``parts`` (a file's bytes or digest, a fingerprint, a path...)."""
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))  # length-prefixed: ("ab", "c") != ("a", "bc")
        hasher.update(data)
    return hasher.digest()


def format_version(*types: type) -> str:
    """A short hash of the shape of ``types`` and of every dataclass and enum they refer to."""
    hasher = hashlib.blake2b(digest_size=6)
    hasher.update(__version__.encode())
    seen: set[type] = set()
    pending: list[object] = list(types)
    lines: list[str] = []
    while pending:
        item = pending.pop()
        for referenced in _referenced_types(item):
            if referenced in seen:
                continue
            seen.add(referenced)
            lines.append(_describe(referenced, pending))
    for line in sorted(lines):
        hasher.update(line.encode() + b"\n")
    return hasher.hexdigest()


def _referenced_types(annotation: object) -> Iterable[type]:
    """The classes an annotation names, through ``tuple[...]``, ``X | None``, ``dict[...]``..."""
    if isinstance(annotation, type):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _referenced_types(argument)


def _describe(cls: type, pending: list[object]) -> str:
    name = f"{cls.__module__}.{cls.__qualname__}"
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        fields = []
        for field in dataclasses.fields(cls):
            annotation = hints.get(field.name, field.type)
            pending.append(annotation)
            fields.append(f"{field.name}:{annotation!r}")
        return f"{name}({','.join(fields)})"
    if issubclass(cls, enum.Enum):
        return f"{name}{{{','.join(f'{m.name}={m.value!r}' for m in cls)}}}"
    return name


@contextlib.contextmanager
def paused_collection(*, collect_after: bool = False) -> Iterator[None]:
    """The cyclic garbage collector off for the block: for work that makes many objects and frees few
    (unpickling, building a module's tree), whose collector passes would find nothing to collect.
    ``collect_after``: collect the youngest generation once the block is done, now rather than at
    the next allocation the collector counts."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            if collect_after:
                gc.collect(0)


def one_file_of_trees() -> contextlib.AbstractContextManager[None]:
    """``paused_collection(collect_after=True)``, for the work on one file's syntax trees (a parse, the
    codemod passes over it). LibCST builds a tree of a hundred thousand nodes at a time, none in a cycle:
    collections while it does promote the tree to the oldest generation, whose growth then sets off
    full collections over everything the process holds (15 of them over ``apply --all`` on the bundled
    server, 0.5 s of 9). What a file's passes leave in cycles (``ScopeProvider``'s scopes hold the nodes
    they name) is collected once the file is done, so a step of many files holds one file's garbage at
    a time."""
    return paused_collection(collect_after=True)


class CacheFile:
    """One cache entry on disk: ``<name>-<format version>.pickle`` in the cache directory."""

    def __init__(self, root: Path, name: str, version: str) -> None:
        self.root = root
        self.path = cache_dir(root) / f"{name}-{version}.pickle"

    def load(self) -> object | None:
        """The stored object, or None when there is none that can be read."""
        try:
            with self.path.open("rb") as handle, paused_collection():
                value: object = pickle.load(handle)
                return value
        except READ_ERRORS:
            return None

    def store(self, value: object) -> bool:
        """Write ``value``; False (and nothing raised) when the cache cannot be written."""
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return False
        try:
            prepare(self.root)
            workspace_files.write_atomic(self.path, data)
        except OSError:
            return False
        return True


def prepare(root: Path) -> Path:
    """Create the cache directory with its tag and the state directory's ``.gitignore``; may raise OSError."""
    directory = cache_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    ignore = root / STATE_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # caches and backups never belong in version control
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        with contextlib.suppress(OSError):
            workspace_files.write_atomic(tag, CACHEDIR_TAG)
    return directory


def dumps(value: object) -> bytes:
    """An object pickled on its own, to be stored inside a cache entry and loaded only when needed."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


_Key = typing.TypeVar("_Key", bound=Hashable)


def _checksum(blob: bytes) -> int:
    # against damage, not against an adversary: CRC-32 checks a pack's 80 MB several times faster than a hash
    return zlib.crc32(blob)


class PackFile:
    """Many blobs in one cache entry, each read on its own: ``<name>-<format version>.pack``.

    For values that are many and large, of which a run usually reads few or none (the call graph's
    module summaries): the file is a header, a pickled table (key -> offset, length, checksum) and the
    blobs one after the other. A reader maps the file and copies out only the blobs it is asked for; a
    blob whose bytes do not match its checksum (a damaged or truncated file) is a miss, and so is every
    blob of a file whose table cannot be read. The mapping is of the file as it was when first read,
    so a writer replacing it meanwhile changes nothing a reader sees. Written whole and atomically.
    """

    MAGIC = b"asyncmigrate pack 1\n"  # the layout below, version 1

    def __init__(self, root: Path, name: str, version: str) -> None:
        self.root = root
        self.path = cache_dir(root) / f"{name}-{version}.pack"
        self._table: dict[Hashable, tuple[int, int, int]] | None = None
        self._data: mmap.mmap | None = None
        self._start = 0

    def _read_table(self) -> dict[Hashable, tuple[int, int, int]]:
        if self._table is not None:
            return self._table
        self._table = {}
        try:
            with self.path.open("rb") as handle:
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # missing, unreadable, or empty (an empty file cannot be mapped)
            return self._table
        header = len(self.MAGIC) + 8
        if data[: len(self.MAGIC)] != self.MAGIC:
            return self._table
        size = int.from_bytes(data[len(self.MAGIC) : header], "little")
        try:
            with paused_collection():
                table = pickle.loads(data[header : header + size])
        except READ_ERRORS:
            return self._table
        if isinstance(table, dict):
            self._table, self._data, self._start = table, data, header + size
        return self._table

    def keys(self) -> set[Hashable]:
        """The keys the table lists (their blobs may still be damaged: ``get`` checks each)."""
        return set(self._read_table())

    def get(self, key: Hashable) -> bytes | None:
        """The blob stored under ``key``, or None when there is none whose bytes can be trusted."""
        entry = self._read_table().get(key)
        if entry is None or self._data is None:
            return None
        try:
            offset, length, checksum = entry
            start = self._start + offset
            blob = self._data[start : start + length]
        except (TypeError, ValueError, OverflowError):  # a table entry of another shape
            return None
        if len(blob) != length or _checksum(blob) != checksum:
            return None
        return blob

    def store(self, blobs: Mapping[_Key, bytes]) -> bool:
        """Write ``blobs`` as the whole pack; False (and nothing raised) when the cache cannot be written."""
        table: dict[Hashable, tuple[int, int, int]] = {}
        offset = 0
        for key, blob in blobs.items():
            table[key] = (offset, len(blob), _checksum(blob))
            offset += len(blob)
        try:
            head = pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return False
        data = b"".join([self.MAGIC, len(head).to_bytes(8, "little"), head, *blobs.values()])
        try:
            prepare(self.root)
            workspace_files.write_atomic(self.path, data)
        except OSError:
            return False
        return True


class KeyedResults:
    """Whole results of a computation, each under its ``content_key``, one cache entry per result.

    For results that depend on more than one file (a change spanning files, findings over the call
    graph): the caller's key covers every input, typically the digests of all the files read plus
    the settings used, so a hit is exactly what computing again would give. A lookup reads the one
    entry asked for; storing one keeps the ``limit`` most recently stored of this name.
    """

    def __init__(self, root: Path, name: str, version: str, *, limit: int = 256) -> None:
        self.root = root
        self.prefix = f"{name}-"  # entries of older format versions count too, so they go first
        self.version = version
        self.limit = limit

    def _entry(self, key: bytes) -> CacheFile:
        return CacheFile(self.root, self.prefix + key.hex(), self.version)

    def get(self, key: bytes) -> object | None:
        return self._entry(key).load()

    def put(self, key: bytes, value: object) -> bool:
        """Store ``value`` under ``key`` (dropping the oldest beyond the limit); False when not stored."""
        if not self._entry(key).store(value):
            return False
        with contextlib.suppress(OSError):
            entries = [p for p in cache_dir(self.root).iterdir() if p.name.startswith(self.prefix)]
            if len(entries) > self.limit:
                entries.sort(key=lambda p: p.stat().st_mtime_ns)
                for stale in entries[: len(entries) - self.limit]:
                    stale.unlink(missing_ok=True)
        return True


def files_key(root: Path, paths: Iterable[str]) -> bytes:
    """A key over the bytes of ``paths`` (root-relative; a missing file counts as missing)."""
    parts: list[bytes | str] = []
    for path in sorted(set(paths)):
        try:
            data = (root / path).read_bytes()
        except OSError:
            parts.extend((path, b"\x00missing"))
            continue
        parts.extend((path, file_digest(data)))
    return content_key(*parts)
