"""The one walk over the user's tree: which Python files a command looks at, and what it skipped.

Every command that needs the project's files (scan, init, check, apply's call graph, test selection)
goes through ``discover_tree``. Only regular files are ever opened: a FIFO named ``x.py`` would block
the first ``read`` forever, and a device or socket is never source code. Symbolic links to directories
are not followed (a loop through them could not end); a linked file is named by its target's path,
and a link that loops or leads nowhere is skipped. Each skipped entry is reported once.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.types import Skipped
from asyncmigrate.workspace.cache import STATE_DIR

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
    STATE_DIR,  # the tool's own files
    "build",
    "dist",
}


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)  # sorted root-relative POSIX paths
    skipped: list[Skipped] = field(default_factory=list)  # sorted by path, each path once
    # the stat of each file found by the walk, taken as it was found: a caller that needs the stat
    # signature (the scan's cache) need not ask the file system twice
    stats: dict[str, os.stat_result] = field(default_factory=dict, compare=False, repr=False)


def matches_any(relative: str, patterns: Sequence[str]) -> bool:
    """fnmatch patterns over root-relative POSIX paths; a directory pattern also matches below it."""
    return any(
        fnmatch.fnmatchcase(relative, pattern) or relative.startswith(pattern.rstrip("/") + "/") for pattern in patterns
    )


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _link_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "a broken symlink"
    return f"unreadable ({exc.strerror})"


def _relative(base: Path, path: Path) -> str:
    """``path`` relative to the resolved ``base``, or absolute when it lies outside (``path`` must not loop)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def _lexical(base: Path, path: Path) -> str:
    """A name for an entry that cannot be resolved (a loop): its own path, relative when it can be."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


# A walk's findings: the regular files found, the entries skipped (path -> why), the files' stats.
_Walk = tuple[set[str], dict[str, str], dict[str, os.stat_result]]
# The walks made inside ``shared_walks``, by root and paths; None outside it.
_shared: ContextVar[dict[tuple[str, tuple[str, ...]], _Walk] | None] = ContextVar("shared_walks", default=None)


@contextmanager
def shared_walks() -> Iterator[None]:
    """Within the block, a walk of the same paths under the same root is made once, whatever each caller
    excludes: for a command that reads the tree more than once and writes nothing to it (``check``'s scan,
    then its call graph, walk the same directories)."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def discover_tree(root: Path, paths: Iterable[str], exclude: Sequence[str] = ()) -> Discovery:
    """Python files under ``paths`` (relative to ``root``) and the entries skipped on the way.

    A path that does not exist is a user's mistake (AsyncMigrateError); one that exists but is not
    a regular file or directory is skipped like any entry found in the walk.
    """
    given = tuple(paths)
    walks = _shared.get()
    key = (os.fspath(root), given)
    walk = walks.get(key) if walks is not None else None
    if walk is None:
        walk = _walk(root, given)
        if walks is not None:
            walks[key] = walk
    found, skipped, stats = walk
    kept = sorted(p for p in found if not matches_any(p, exclude))
    gone = sorted((p, r) for p, r in skipped.items() if not matches_any(p, exclude))
    return Discovery(kept, [Skipped(p, r) for p, r in gone], {p: stats[p] for p in kept if p in stats})


def _walk(root: Path, paths: Iterable[str]) -> _Walk:
    base = root.resolve()
    found: set[str] = set()
    skipped: dict[str, str] = {}
    stats: dict[str, os.stat_result] = {}
    for given in paths:
        start = Path(given) if Path(given).is_absolute() else root / given
        try:
            mode = os.stat(start).st_mode
        except OSError as exc:
            if not os.path.islink(start):  # a path that cannot be looked at is the user's to fix
                problem = "no such file or directory" if exc.errno in (errno.ENOENT, errno.ENOTDIR) else exc.strerror
                raise AsyncMigrateError(f"{given}: {problem}") from None
            skipped[_lexical(base, start)] = _link_problem(exc)
            continue
        if stat.S_ISREG(mode):
            found.add(_relative(base, start))
            continue
        if not stat.S_ISDIR(mode):
            skipped[_relative(base, start)] = _kind(mode)
            continue
        start = start.resolve()
        prefix = _relative(base, start)
        pending = [(str(start), "" if prefix == "." else prefix + "/")]
        while pending:
            directory, relative = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue  # as os.walk does: an unreadable directory is skipped
            for entry in entries:
                _visit(entry, relative, base, found, skipped, pending, stats)
    return found, skipped, stats


def _visit(
    entry: os.DirEntry[str],
    relative: str,
    base: Path,
    found: set[str],
    skipped: dict[str, str],
    pending: list[tuple[str, str]],
    stats: dict[str, os.stat_result],
) -> None:
    name = entry.name
    try:
        link = entry.is_symlink()
        # A directory that is no link is known from the directory entry's type, without a stat.
        if not link and entry.is_dir(follow_symlinks=False):
            if name not in SKIP_DIRS and not name.startswith("."):
                pending.append((entry.path, relative + name + "/"))
            return
        if not name.endswith(".py") and not link:
            return
        status = os.stat(entry.path) if link else entry.stat(follow_symlinks=False)
    except OSError as exc:
        # a link that loops is listed whatever its name: it is a mistake in the tree, not a file
        if exc.errno == errno.ELOOP or name.endswith(".py"):
            skipped[relative + name] = _link_problem(exc)
        return
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        return  # a link to a directory is not followed (a loop through it could not end)
    if not name.endswith(".py"):
        return
    if stat.S_ISREG(mode):
        path = _relative(base, Path(entry.path)) if link else relative + name
        found.add(path)
        stats[path] = status
    else:
        skipped[relative + name] = _kind(mode)


def discover(root: Path, paths: Iterable[str], exclude: Sequence[str] = ()) -> list[str]:
    """The Python files of ``discover_tree``, for callers that have nowhere to show what was skipped."""
    return discover_tree(root, paths, exclude).files
