"""The one way asyncmigrate replaces a file: the plan, reports, caches, manifests, migrated code.

:func:`write_atomic` writes a temporary file next to the target (a rename is only atomic within one file
system), fsyncs it, gives it the target's mode (or the mode a new file gets under the umask), renames it
over the target and fsyncs the directory, so at every instant the target holds its old or its new bytes,
never a mix, and the rename survives a power cut. A process killed in between leaves a temporary file
named by :func:`temp_name`'s one scheme; :func:`temp_files` finds those and recovery deletes them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from asyncmigrate.workspace.faults import crash_point

# The marker keeps recovery from ever deleting a user's own ``.something.tmp``.
TEMP_MARKER = ".asyncmigrate-"
TEMP_SUFFIX = ".tmp"


class ChangedMeanwhile(Exception):
    """The file no longer holds the bytes the caller based its new content on (see ``expect``)."""


def resolve(path: Path) -> Path:
    """Where a write to ``path`` lands: through a symlink to the file it names, so the link survives."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def temp_prefix(target: Path) -> str:
    return f".{target.name}{TEMP_MARKER}"


def temp_files(path: Path) -> list[Path]:
    """The temporary files a writer killed mid-write left next to ``path`` (or the file it links to)."""
    target = resolve(path)
    try:
        return sorted(target.parent.glob(f"{temp_prefix(target)}*{TEMP_SUFFIX}"))
    except OSError:
        return []


def remove_temp_files(path: Path) -> None:
    """Delete :func:`temp_files`; call it only where no other process can be writing ``path``."""
    for leftover in temp_files(path):
        with contextlib.suppress(OSError):
            leftover.unlink()


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 less the umask (mkstemp's own 0o600 would
    hide a report or a new plan from the CI user or the team that reads it)."""
    try:
        # Read without setting it: os.umask can only be read by changing it, which races with threads.
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, expect: bytes | None = None) -> None:
    """Replace ``path`` with ``data``: temporary file, fsync, chmod, rename, fsync of the directory.

    ``mode``: the new file's permission bits; by default the existing file's, else :func:`new_file_mode`.
    ``expect``: only replace the file if it still holds exactly these bytes, else :class:`ChangedMeanwhile`
    and nothing is written (the check runs after the temporary file is complete, right before the rename).
    A symlink is written through. An ``OSError`` names ``path`` when the system call did not.
    """
    target = resolve(path)
    try:
        if mode is None:
            try:
                mode = target.stat().st_mode & 0o7777
            except FileNotFoundError:
                mode = new_file_mode()
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        exc.filename = exc.filename or str(path)
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        crash_point(f"temp-written {target.name}")
        if expect is not None and target.read_bytes() != expect:
            raise ChangedMeanwhile(str(path))
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and not exc.filename:
            exc.filename = str(path)
        raise
    fsync_dir(target.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """:func:`write_atomic` of ``text`` in UTF-8."""
    write_atomic(path, text.encode("utf-8"))
