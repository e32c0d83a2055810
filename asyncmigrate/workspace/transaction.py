"""Writing many files as one transaction, undoing it, and keeping two applies from writing at once.

Every file an ``apply`` touches is written together: the originals are first backed up under
``.asyncmigrate/backups/<id>/`` with a manifest (state ``writing``), then each file is replaced through a
temporary file and a rename, so at every instant a file holds either its old or its new bytes, never a
mix. Only when every file is in place does the manifest say ``written``. A process killed in between
leaves a ``writing`` manifest behind, and :func:`recover` (called at the start of every command that
takes the lock) restores those files from the backups. Undoing is the mirror image: the manifest says
``restoring`` before the first file is put back and ``restored`` after the last, and :func:`recover`
finishes a ``restoring`` transaction.

The manifest is also the commit point for the plan: the state change that makes the files migrated
(``written``) or original again (``restoring``) carries, in the same atomic manifest write, the
*plan step* that goes with it (the entries' new status and history event, an opaque mapping here).
The layer that owns the plan records the step and then calls :func:`mark_step_recorded`; a step a
crash left unrecorded is listed by :func:`unrecorded_steps`, so files and plan never disagree for
longer than until the next command. This module knows nothing of the plan itself.

The layout under the project root::

    .asyncmigrate/
      .gitignore                  "*": backups never end up in version control
      apply.lock                  {"pid", "since", "host"} of the process writing (see ApplyLock)
      apply.lock.flock            the OS file lock itself (empty; released by the kernel when its holder dies)
      backups/<id>/manifest.json  what the transaction wrote (see TransactionRecord)
      backups/<id>/files/<path>   each original, byte for byte
      backups/<id>/displaced/<path>  edits a restore overwrote (a file changed after the apply)

All functions here expect the caller to hold :class:`ApplyLock`; they do not take it themselves so that
an apply can recover, write, test and restore under one lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from filelock import BaseFileLock, FileLock, Timeout

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workspace import files as workspace_files
from asyncmigrate.workspace.cache import STATE_DIR
from asyncmigrate.workspace.faults import crash_point

BACKUPS = "backups"
LOCK_NAME = "apply.lock"
FLOCK_SUFFIX = ".flock"  # the OS-locked file next to it
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

WRITING = "writing"
WRITTEN = "written"
RESTORING = "restoring"
RESTORED = "restored"


@dataclass(frozen=True)
class FileChange:
    path: str  # root-relative POSIX path
    before: bytes | None  # current bytes (None: the file is new)
    after: bytes  # new bytes


@dataclass(frozen=True)
class TransactionRecord:
    id: str  # sortable: "20261121T101500123456Z-<8 hex>" (UTC, microseconds)
    label: str  # e.g. "apply server/api/players.py"
    plan_entries: tuple[str, ...]  # plan paths this transaction migrated (for rollback FILE / --phase)
    files: tuple[str, ...]
    created: str  # ISO time
    state: str  # "writing" | "written" | "restoring" | "restored"
    # Files that, when restored, held bytes the transaction had not written (edited since). They were
    # restored anyway; the bytes they held are kept under backups/<id>/displaced/<path>.
    displaced: tuple[str, ...] = ()
    new_files: tuple[str, ...] = field(default=(), compare=False)  # files the transaction created


# --- small file-system helpers ------------------------------------------------------------------------


def state_dir(root: Path) -> Path:
    """``.asyncmigrate/`` under ``root``, created with the ``*`` .gitignore that keeps it out of git."""
    directory = root / STATE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        workspace_files.write_atomic(gitignore, b"*\n")  # never an empty one left by a full disk
    return directory


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_durable(target: Path, data: bytes) -> None:
    """A backup copy: written once, fsync'd, never replaced."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _check_relative(path: str) -> None:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path or pure.as_posix() != path:
        raise AsyncMigrateError(f"{path!r}: a transaction takes root-relative POSIX paths without '..'")
    if pure.parts[0] == STATE_DIR:
        raise AsyncMigrateError(f"{path}: files under {STATE_DIR}/ belong to asyncmigrate itself")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise AsyncMigrateError(f"{path}: is a directory, not a file") from None


# --- the lock -----------------------------------------------------------------------------------------


class ApplyLock:
    """``.asyncmigrate/apply.lock``: only one apply, rollback or mark writes at a time.

    Mutual exclusion is an OS file lock (:mod:`filelock`) on ``apply.lock.flock``, held for as long as
    the ``ApplyLock`` is: the kernel drops it when its process dies, however it dies, so a lock is never
    left behind by a ``kill -9`` and pid reuse cannot make a dead holder look alive. ``apply.lock`` itself
    carries the holder's pid, host and start time, written once the OS lock is held, so a refusal can name
    who holds it. Found free but with an ``apply.lock`` left by a process of this host, the lock was
    stale: taken over, ``note`` says so and ``on_note`` is called with the same text. A holder on another
    host (a project on a network file system, where OS locks may not reach across machines) is assumed to
    run. Not re-entrant: a second ``ApplyLock`` in the same process is refused like any other. Released
    on exit, even on an exception.
    """

    def __init__(self, root: Path, *, on_note: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.path = root / STATE_DIR / LOCK_NAME
        self.note: str | None = None
        self._on_note = on_note
        self._content: dict[str, Any] | None = None
        self._os_lock: BaseFileLock | None = None

    def __enter__(self) -> ApplyLock:
        if self._content is not None:
            raise AsyncMigrateError(f"{self.path}: already held by this process")
        try:
            state_dir(self.root)
            os_lock = FileLock(self.path.with_name(LOCK_NAME + FLOCK_SUFFIX), timeout=0)
            try:
                os_lock.acquire()
            except Timeout:
                raise AsyncMigrateError(self._held_message(self._read_lock())) from None
            try:
                self._take(os_lock)
            except BaseException:
                os_lock.release()
                raise
        except OSError as exc:
            raise AsyncMigrateError(
                f"could not create the lock {self.path} ({exc.strerror}); nothing was changed"
            ) from None
        if self.note is not None and self._on_note is not None:
            self._on_note(self.note)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def release(self) -> None:
        if self._content is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._content = None
        if self._os_lock is not None:
            self._os_lock.release()
            self._os_lock = None

    def _take(self, os_lock: BaseFileLock) -> None:
        """Holding the OS lock: settle a previous holder's ``apply.lock``, then write ours."""
        workspace_files.remove_temp_files(self.path)  # a killed holder's half-written holder file
        previous = self._read_lock()
        if previous is not None and previous.get("host") not in (None, socket.gethostname()):
            raise AsyncMigrateError(self._held_message(previous))
        content = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now_iso()}
        workspace_files.write_atomic(self.path, json.dumps(content).encode("utf-8"), mode=0o644)
        self._content, self._os_lock = content, os_lock
        if previous is not None:
            self.note = (
                f"took over a stale lock left by pid {previous.get('pid', '?')} "
                f"(since {previous.get('since', '?')}), which is no longer running"
            )

    def _held_message(self, holder: dict[str, Any] | None) -> str:
        holder = holder or {}
        return (
            f"another asyncmigrate apply is running (pid {holder.get('pid', '?')}, since "
            f"{holder.get('since', 'an unknown time')}); wait for it to finish, or delete "
            f"{self.path} if that process is gone"
        )

    def _read_lock(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable, or left half-written by a process killed while writing it
        return data if isinstance(data, dict) else {}


# --- git: which files have uncommitted changes ------------------------------------------------------------


def _git(root: Path, *args: str) -> str | None:
    """Run git in ``root``; None when git is missing, ``root`` is not in a work tree, or git fails."""
    try:
        result = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), *args], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", errors="surrogateescape")


def git_dirty(root: Path, paths: Iterable[str]) -> set[str] | None:
    """Those of ``paths`` with uncommitted changes, or None when git cannot tell (see :func:`dirty_files`)."""
    wanted = list(dict.fromkeys(paths))
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix is None:
        return None
    prefix = prefix.strip()
    if not wanted:
        return set()
    changed: set[str] = set()
    # Pathspecs keep git from walking untracked trees we do not care about; ":(literal)" stops a
    # file name with "*" or "[" from being read as a pattern. Chunked to stay under ARG_MAX.
    for start in range(0, len(wanted), 500):
        specs = [f":(literal){p}" for p in wanted[start : start + 500]]
        output = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *specs)
        if output is None:
            return None
        fields = output.split("\0")
        index = 0
        while index < len(fields):
            entry = fields[index]
            index += 1
            if len(entry) < 4:
                continue
            code, git_path = entry[:2], entry[3:]
            paths_here = [git_path]
            if code[0] in "RC":  # a rename or copy is followed by its source path
                paths_here.append(fields[index])
                index += 1
            for p in paths_here:
                # Porcelain paths are relative to the repository's top, not to ``root``.
                if p.startswith(prefix):
                    changed.add(p[len(prefix) :])
    return {p for p in wanted if p in changed or any(c.startswith(p.rstrip("/") + "/") for c in changed)}


def dirty_files(root: Path, paths: Iterable[str]) -> list[str]:
    """Those of ``paths`` (root-relative) with staged, unstaged or untracked changes, per ``git status``.

    When ``root`` is not inside a git work tree, git is not installed, or git refuses to answer (e.g. a
    repository owned by another user), there is no way to tell committed from uncommitted work, and the
    answer is ``[]``: callers that must be careful in that case use :func:`git_dirty`, which returns None.
    A directory in ``paths`` is dirty when any file under it is. Never raises.
    """
    wanted = list(dict.fromkeys(paths))
    dirty = git_dirty(root, wanted)
    return [p for p in wanted if p in dirty] if dirty else []


# --- manifests --------------------------------------------------------------------------------------------


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)


def _backups(root: Path) -> Path:
    return root / STATE_DIR / BACKUPS


def _manifest_path(root: Path, transaction_id: str) -> Path:
    if not transaction_id or "/" in transaction_id or transaction_id.startswith("."):
        raise AsyncMigrateError(f"{transaction_id!r} is not a transaction id")
    return _backups(root) / transaction_id / MANIFEST


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AsyncMigrateError(f"no transaction {path.parent.name} under {path.parent.parent}") from None
    except (OSError, ValueError) as exc:
        raise AsyncMigrateError(f"{path}: unreadable transaction manifest ({exc})") from None
    if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION:
        raise AsyncMigrateError(f"{path}: not a version {MANIFEST_VERSION} transaction manifest")
    return document


def _save_manifest(path: Path, document: dict[str, Any]) -> None:
    try:
        workspace_files.write_atomic(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def _save_manifest_or_explain(path: Path, document: dict[str, Any], kept: str) -> None:
    """Save a manifest; a full disk (or any write error) is one line naming what was kept."""
    try:
        _save_manifest(path, document)
    except OSError as exc:
        raise AsyncMigrateError(f"could not write {path} ({exc.strerror}); {kept}") from None


def _record(document: dict[str, Any]) -> TransactionRecord:
    files = document["files"]
    return TransactionRecord(
        id=document["id"],
        label=document["label"],
        plan_entries=tuple(document["plan_entries"]),
        files=tuple(f["path"] for f in files),
        created=document["created"],
        state=document["state"],
        displaced=tuple(document.get("displaced", ())),
        new_files=tuple(f["path"] for f in files if f["before_sha256"] is None),
    )


# --- writing ----------------------------------------------------------------------------------------------


def _check_changes(root: Path, changes: Sequence[FileChange]) -> None:
    seen: set[str] = set()
    stale: list[str] = []
    for change in changes:
        _check_relative(change.path)
        if change.path in seen:
            raise AsyncMigrateError(f"{change.path}: listed twice in one transaction")
        seen.add(change.path)
        if _read(workspace_files.resolve(root / change.path)) != change.before:
            stale.append(change.path)
    if stale:
        raise AsyncMigrateError(
            f"changed on disk since the change was computed, nothing written: {', '.join(stale)}; run it again"
        )


def _created_dirs(root: Path, path: str) -> list[str]:
    """The parent directories of ``path`` that do not exist yet, outermost first."""
    missing: list[str] = []
    parent = PurePosixPath(path).parent
    while parent != PurePosixPath(".") and not (root / parent).exists():
        missing.append(parent.as_posix())
        parent = parent.parent
    return missing[::-1]


def _back_up(
    root: Path, directory: Path, changes: Sequence[FileChange], *, label: str, plan_entries: Sequence[str]
) -> dict[str, Any]:
    """Copy every original under ``directory``, then write the manifest (state ``writing``)."""
    files: list[dict[str, Any]] = []
    created_dirs: list[str] = []
    for change in changes:
        target = workspace_files.resolve(root / change.path)
        mode = stat.S_IMODE(target.stat().st_mode) if change.before is not None else None
        if change.before is not None:
            backup = directory / "files" / change.path
            try:
                _write_durable(backup, change.before)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(backup)) from None
        else:
            created_dirs.extend(d for d in _created_dirs(root, change.path) if d not in created_dirs)
        files.append(
            {
                "path": change.path,
                "before_sha256": _sha256(change.before) if change.before is not None else None,
                "after_sha256": _sha256(change.after),
                "mode": mode,
            }
        )
    document: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "id": directory.name,
        "label": label,
        "plan_entries": list(plan_entries),
        "created": _now_iso(),
        "state": WRITING,
        "files": files,
        "created_dirs": created_dirs,
    }
    # The manifest goes last: once it exists, every backup it names is on disk. A backup directory
    # without a manifest is from a process killed before it touched any file, and recover() drops it.
    directory.mkdir(parents=True, exist_ok=True)
    _save_manifest(directory / MANIFEST, document)
    workspace_files.fsync_dir(directory.parent)
    return document


def write_transaction(
    root: Path,
    changes: Sequence[FileChange],
    *,
    label: str,
    plan_entries: Sequence[str],
    plan_step: Mapping[str, Any] | None = None,
    on_file_written: Callable[[str], None] | None = None,
) -> TransactionRecord:
    """Write every change as one transaction; see the module docstring for the protocol.

    Refuses (AsyncMigrateError, nothing written) when a file's bytes are no longer ``change.before``.
    Bytes are written exactly as given (no newline translation) and each file keeps its mode. If writing
    fails part-way (a full disk, a read-only file), the files already written are restored before the
    error is raised. ``on_file_written`` is called after each file is in place. ``plan_step`` (JSON-able)
    is stored with the ``written`` state, unrecorded, for the caller to record in its plan.
    """
    _check_changes(root, changes)
    transaction_id = _new_id()
    directory = state_dir(root) / BACKUPS / transaction_id
    try:
        document = _back_up(root, directory, changes, label=label, plan_entries=plan_entries)
    except OSError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise AsyncMigrateError(
            f"could not back up {exc.filename or 'a file'} ({exc.strerror}); nothing was written"
        ) from None
    files = document["files"]
    crash_point("backed-up")
    try:
        for change, entry in zip(changes, files, strict=True):
            target = workspace_files.resolve(root / change.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            workspace_files.write_atomic(target, change.after, mode=entry["mode"])
            crash_point("file-written")
            if on_file_written is not None:
                on_file_written(change.path)
        crash_point("files-written")
        document["state"] = WRITTEN
        document["plan_step"] = dict(plan_step) if plan_step is not None else None
        document["plan_recorded"] = plan_step is None
        _save_manifest(directory / MANIFEST, document)  # the commit point: files and plan step together
    except OSError as exc:
        restore(root, transaction_id)
        raise AsyncMigrateError(
            f"could not write {exc.filename or 'a file'} ({exc.strerror}); every file was restored"
        ) from None
    except BaseException:
        restore(root, transaction_id)
        raise
    return _record(document)


# --- undoing --------------------------------------------------------------------------------------------


def restore(root: Path, transaction_id: str, *, plan_step: Mapping[str, Any] | None = None) -> TransactionRecord:
    """Put every file of the transaction back to its backed-up bytes and mode; delete the files it created.

    Each file is replaced atomically. Idempotent: a transaction already ``restored`` is returned as it is,
    without touching any file (someone may have edited them since), and a restore interrupted part-way is
    finished by running it again (or by :func:`recover`). A file that holds neither the bytes the
    transaction found nor the ones it wrote was edited afterwards: it is restored all the same, but its
    bytes are first copied to ``backups/<id>/displaced/<path>`` and it is listed in the record's
    ``displaced``. Callers that want to refuse instead check :func:`edited_since` first. ``plan_step`` is
    stored, unrecorded, with the ``restoring`` state, before the first file is touched.
    """
    manifest = _manifest_path(root, transaction_id)
    document = _load_manifest(manifest)
    if document["state"] == RESTORED:
        return _record(document)
    state = document["state"]
    if plan_step is not None:
        document["plan_step"], document["plan_recorded"] = dict(plan_step), False
    elif state == WRITTEN:
        # Undoing written files without a step of their own: an unrecorded commit step would now
        # describe files that are gone, so it must not be recorded later.
        document["plan_step"], document["plan_recorded"] = None, True
    if state == WRITTEN or (state == RESTORING and plan_step is not None):
        # From 'written' on, a restore killed half way must be finished, not forgotten: say so first.
        # A 'writing' transaction needs no such mark (recovery restores it anyway), which also lets a
        # full disk undo a failed write.
        state = RESTORING
        document["state"] = RESTORING
        _save_manifest_or_explain(manifest, document, "no file was restored")
    try:
        _restore_files(root, manifest, document)
    except OSError as exc:
        raise AsyncMigrateError(
            f"could not restore {exc.filename or 'a file'} ({exc.strerror}); transaction {transaction_id} stays "
            f"'{state}' and the next apply, rollback or mark finishes it"
        ) from None
    crash_point("files-restored")
    document["state"] = RESTORED
    document["restored"] = _now_iso()
    _save_manifest_or_explain(
        manifest,
        document,
        f"every file was restored; transaction {transaction_id} stays '{state}' until the next apply, rollback or mark",
    )
    return _record(document)


def _restore_files(root: Path, manifest: Path, document: dict[str, Any]) -> None:
    directory = manifest.parent
    displaced: list[str] = list(document.get("displaced", ()))
    for entry in document["files"]:
        path = entry["path"]
        target = workspace_files.resolve(root / path)
        workspace_files.remove_temp_files(target)
        current = _read(target)
        current_sha = _sha256(current) if current is not None else None
        if current_sha == entry["before_sha256"]:
            if current is not None and entry["mode"] is not None:
                os.chmod(target, entry["mode"])
            continue
        if current is not None and current_sha != entry["after_sha256"]:
            _write_durable(directory / "displaced" / path, current)
            if path not in displaced:
                displaced.append(path)
        if entry["before_sha256"] is None:
            target.unlink()
            workspace_files.fsync_dir(target.parent)
        else:
            original = (directory / "files" / path).read_bytes()
            if _sha256(original) != entry["before_sha256"]:
                raise AsyncMigrateError(f"{directory / 'files' / path}: the backup is damaged; {path} left as it is")
            target.parent.mkdir(parents=True, exist_ok=True)
            workspace_files.write_atomic(target, original, mode=entry["mode"])
        crash_point("file-restored")
    for created in reversed(document.get("created_dirs", [])):
        with contextlib.suppress(OSError):  # not empty: someone put other files there since
            (root / created).rmdir()
    document["displaced"] = displaced


def edited_since(root: Path, transaction_id: str) -> list[str]:
    """Files of a not-yet-restored transaction that hold neither its before nor its after bytes."""
    document = _load_manifest(_manifest_path(root, transaction_id))
    if document["state"] == RESTORED:
        return []
    edited = []
    for entry in document["files"]:
        current = _read(workspace_files.resolve(root / entry["path"]))
        # A file deleted since holds no one's work: restoring it loses nothing.
        if current is not None and _sha256(current) not in (entry["before_sha256"], entry["after_sha256"]):
            edited.append(entry["path"])
    return edited


def recover(
    root: Path, *, interrupted_step: Callable[[TransactionRecord], Mapping[str, Any] | None] | None = None
) -> list[TransactionRecord]:
    """Finish what a crash or kill left half done; return the transactions undone, oldest first.

    A transaction left ``writing`` is restored (``interrupted_step`` gives the plan step that goes with
    that, if any); one left ``restoring`` is restored to the end, keeping its own step. Also drops backup
    directories without a manifest (a process killed while backing up, before it touched any file) and
    the temporary files a killed writer left next to a manifest or a target. Call it under
    :class:`ApplyLock`, before anything else writes.
    """
    backups = _backups(root)
    if not backups.is_dir():
        return []
    for directory in backups.iterdir():
        if directory.is_dir() and not (directory / MANIFEST).exists():
            shutil.rmtree(directory, ignore_errors=True)
        elif directory.is_dir():
            workspace_files.remove_temp_files(directory / MANIFEST)
    undone = []
    for record in transactions(root):
        if record.state == WRITING:
            step = interrupted_step(record) if interrupted_step is not None else None
            undone.append(restore(root, record.id, plan_step=step))
        elif record.state == RESTORING:
            undone.append(restore(root, record.id))
    return undone


def unrecorded_steps(root: Path) -> list[tuple[TransactionRecord, dict[str, Any]]]:
    """The plan steps whose file change is done but which the plan may not show yet, oldest first."""
    steps = []
    for record in transactions(root):
        if record.state not in (WRITTEN, RESTORED):
            continue
        document = _load_manifest(_manifest_path(root, record.id))
        step = document.get("plan_step")
        if isinstance(step, dict) and not document.get("plan_recorded", True):
            steps.append((record, step))
    return steps


def mark_step_recorded(root: Path, transaction_id: str) -> None:
    """The plan now shows the transaction's step: :func:`unrecorded_steps` no longer lists it."""
    manifest = _manifest_path(root, transaction_id)
    document = _load_manifest(manifest)
    document["plan_recorded"] = True
    # Not worth failing a command over: the step is recorded idempotently, so it is merely checked again.
    with contextlib.suppress(OSError):
        _save_manifest(manifest, document)


def transactions(root: Path) -> list[TransactionRecord]:
    """Every recorded transaction, oldest first."""
    backups = _backups(root)
    if not backups.is_dir():
        return []
    records = [
        _record(_load_manifest(directory / MANIFEST))
        for directory in backups.iterdir()
        if (directory / MANIFEST).is_file()
    ]
    return sorted(records, key=lambda r: r.id)


def transactions_for(root: Path, plan_entry: str) -> list[TransactionRecord]:
    """The transactions that migrated ``plan_entry`` and are not restored, newest first."""
    return [r for r in reversed(transactions(root)) if plan_entry in r.plan_entries and r.state != RESTORED]


def foreign_edits(root: Path, paths: Iterable[str]) -> list[str]:
    """Those of ``paths`` with uncommitted changes that asyncmigrate did not make.

    A file is dirty per :func:`dirty_files` (so outside git, nothing is) but holds exactly the bytes the
    newest not-restored transaction wrote to it is the tool's own, uncommitted work: an ``apply --phase``
    that touches a file an earlier apply of the same run touched must not refuse it.
    """
    dirty = dirty_files(root, paths)
    if not dirty:
        return []
    ours: dict[str, str] = {}
    for record in reversed(transactions(root)):
        if record.state == RESTORED:
            continue
        for entry in _load_manifest(_manifest_path(root, record.id))["files"]:
            ours.setdefault(entry["path"], entry["after_sha256"])
    foreign = []
    for path in dirty:
        current = _read(workspace_files.resolve(root / path)) if path in ours else None
        if current is None or _sha256(current) != ours[path]:
            foreign.append(path)
    return foreign


__all__ = [
    "ApplyLock",
    "FileChange",
    "TransactionRecord",
    "dirty_files",
    "edited_since",
    "foreign_edits",
    "git_dirty",
    "mark_step_recorded",
    "recover",
    "restore",
    "transactions",
    "transactions_for",
    "unrecorded_steps",
    "write_transaction",
]
