"""One commit point for files and plan: what a transaction did to the files, the plan shows, exactly once.

:mod:`asyncmigrate.workspace.transaction` writes and restores files and keeps, in each manifest, the *plan step*
that goes with the manifest's state (the entries' new status and history event), written in the same
atomic manifest write as the state itself. This module owns the plan side: it builds those steps,
records them in ``migration_plan.yaml`` (idempotently: a step whose event the entry's history already
holds is not recorded twice), and settles what a crash left half done — files first (a ``writing``
transaction is undone, a ``restoring`` one finished), then every step not yet recorded, then the
temporary files a killed plan save left. So after a ``kill -9`` at any moment the next command that
takes the lock leaves migrated code under a migrated entry and original code under a pending or failed
one. Everything here runs under :class:`~asyncmigrate.workspace.transaction.ApplyLock`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncmigrate.config.plan import Plan, find_entry_node, set_status, update_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.types import FileStatus
from asyncmigrate.workspace.faults import crash_point
from asyncmigrate.workspace.files import remove_temp_files
from asyncmigrate.workspace.transaction import (
    RESTORED,
    ApplyLock,
    FileChange,
    TransactionRecord,
    edited_since,
    git_dirty,
    mark_step_recorded,
    recover,
    restore,
    transactions,
    unrecorded_steps,
    write_transaction,
)


def plan_step(
    entries: Sequence[str],
    status: FileStatus,
    event: Mapping[str, Any],
    repositories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """What the plan must become once a transaction's files change: JSON, kept in its manifest
    (``repositories``: what the migration used, set on the entries)."""
    step: dict[str, Any] = {"entries": list(entries), "status": status.value, "event": dict(event)}
    if repositories is not None:
        step["repositories"] = list(repositories)
    return step


def _already_there(spec: Any, transaction_id: str, status: str, event_name: Any) -> bool:
    history = spec.get("history")
    if not isinstance(history, list):
        return False
    return any(
        isinstance(old, dict)
        and old.get("transaction") == transaction_id
        and old.get("status") == status
        and old.get("event") == event_name
        for old in history
    )


def record_step(plan: Plan, transaction_id: str, step: Mapping[str, Any]) -> Plan:
    """Record ``step`` in the plan as it is on disk now (an entry the plan no longer lists is passed over)."""
    status = FileStatus(step["status"])
    event = {**step["event"], "transaction": transaction_id}

    def change(document: Any) -> None:
        for entry in step["entries"]:
            spec = find_entry_node(document, entry)
            if spec is None or _already_there(spec, transaction_id, status.value, event.get("event")):
                continue
            set_status(document, entry, status, event, repositories=step.get("repositories"))

    updated = update_plan(plan, change, entries=step["entries"])
    crash_point("plan-recorded")
    mark_step_recorded(plan.root, transaction_id)
    return updated


def settle(plan: Plan) -> list[TransactionRecord]:
    """Finish what a crash left half done (see the module docstring); return the transactions undone."""

    def interrupted(record: TransactionRecord) -> dict[str, Any]:
        event = {"event": "recover", "files_restored": list(record.files)}
        return plan_step(record.plan_entries, FileStatus.PENDING, event)

    recovered = recover(plan.root, interrupted_step=interrupted)
    for record, step in unrecorded_steps(plan.root):
        try:
            record_step(plan, record.id, step)
        except AsyncMigrateError as exc:
            raise AsyncMigrateError(
                f"transaction {record.id} ({record.label}) is done on disk but not in the plan, and recording it "
                f"failed: {exc}"
            ) from None
    remove_temp_files(plan.path)
    return recovered


@contextlib.contextmanager
def locked(
    plan: Plan, *, on_note: Callable[[str], None] | None = None
) -> Iterator[tuple[ApplyLock, list[TransactionRecord]]]:
    """Hold the apply lock, settled: yields the lock and the transactions recovery undid."""
    with ApplyLock(plan.root, on_note=on_note) as lock:
        yield lock, settle(plan)


def commit(
    plan: Plan,
    changes: Sequence[FileChange],
    *,
    label: str,
    entries: Sequence[str],
    status: FileStatus,
    event: Mapping[str, Any],
    repositories: Sequence[str] | None = None,
) -> tuple[TransactionRecord, Plan]:
    """Write ``changes`` and set ``entries`` to ``status`` with ``event`` (and, given, ``repositories``),
    as one step."""
    step = plan_step(entries, status, event, repositories)
    record = write_transaction(plan.root, changes, label=label, plan_entries=entries, plan_step=step)
    crash_point("committed")
    try:
        updated = record_step(plan, record.id, step)
    except AsyncMigrateError as exc:
        raise AsyncMigrateError(
            f"{label}: the files are written (transaction {record.id}) but the plan is not: {exc}; "
            "the next apply, rollback or mark records it"
        ) from None
    return record, updated


def undo(
    plan: Plan, transaction_id: str, *, entries: Sequence[str], status: FileStatus, event: Mapping[str, Any]
) -> tuple[TransactionRecord, Plan]:
    """Restore a transaction's files and set ``entries`` to ``status`` with ``event``, as one step."""
    step = plan_step(entries, status, event)
    record = restore(plan.root, transaction_id, plan_step=step)
    try:
        updated = record_step(plan, transaction_id, step)
    except AsyncMigrateError as exc:
        raise AsyncMigrateError(
            f"the files of transaction {transaction_id} are restored but the plan is not: {exc}; "
            "the next apply, rollback or mark records it"
        ) from None
    return record, updated


# --- rollback: the library behind `asyncmigrate rollback` ---------------------------------------------------


@dataclass(frozen=True)
class RollbackResult:
    restored: tuple[TransactionRecord, ...]  # newest first, as restored
    entries: tuple[str, ...]  # plan entries set back to pending
    recovered: tuple[TransactionRecord, ...]  # interrupted applies recovery undid first
    lock_note: str | None = None

    @property
    def files_restored(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for r in self.restored for f in r.files))


def _to_roll_back(root: Path, entries: Sequence[str]) -> list[TransactionRecord]:
    wanted = set(entries)
    return [r for r in reversed(transactions(root)) if r.state != RESTORED and wanted & set(r.plan_entries)]


def _conflicts(root: Path, chosen: Sequence[TransactionRecord], force: bool) -> list[str]:
    """Why restoring ``chosen`` would destroy work that is not theirs (empty: safe)."""
    chosen_ids = {r.id for r in chosen}
    problems: list[str] = []
    live = [r for r in transactions(root) if r.state != RESTORED]
    # A later apply that rewrote the same file builds on this one: undoing ours under it would silently
    # drop its changes, and --force does not make that right.
    for record in chosen:
        for later in live:
            if later.id > record.id and later.id not in chosen_ids:
                shared = sorted(set(record.files) & set(later.files))
                if shared:
                    problems.append(
                        f"{', '.join(shared)} also changed by the later transaction {later.id} ({later.label}); "
                        f"roll back {', '.join(later.plan_entries) or later.id} first"
                    )
    if problems or force:
        return problems
    # Edits made after the apply: refuse when they are not committed (or git cannot tell), since
    # restoring would leave them only in backups/<id>/displaced/.
    newest_writer: dict[str, TransactionRecord] = {}
    for record in chosen:  # newest first: the first writer seen is the one whose bytes should be there
        for path in record.files:
            newest_writer.setdefault(path, record)
    edited = [
        path for record in chosen for path in edited_since(root, record.id) if newest_writer[path].id == record.id
    ]
    if edited:
        dirty = git_dirty(root, edited)
        uncommitted = sorted(edited if dirty is None else dirty)
        if uncommitted:
            problems.append(
                f"edited since the apply and not committed: {', '.join(uncommitted)} "
                "(use --force to restore anyway; the edits are kept under .asyncmigrate/backups/)"
            )
    return problems


def rollback(
    plan: Plan,
    entries: Sequence[str],
    *,
    force: bool = False,
    on_note: Callable[[str], None] | None = None,
) -> RollbackResult:
    """Restore, newest first, every transaction that migrated one of ``entries`` and set its entries to pending.

    Under the lock, what a crash left half done is settled first (interrupted applies go back to
    pending). A transaction that migrated several entries restores all of its files, so all of its
    entries go back to pending, each with a history event ``{event: rollback, transaction,
    files_restored}``, recorded with the restore as one step. Refuses (AsyncMigrateError, nothing
    restored) when a later transaction not being rolled back changed the same files, or, without
    ``force``, when a file has uncommitted edits the transaction did not make. Nothing to roll back is
    not an error: the result is simply empty.
    """
    root = plan.root
    with locked(plan, on_note=on_note) as (lock, recovered):
        chosen = _to_roll_back(root, entries)
        problems = _conflicts(root, chosen, force)
        if problems:
            raise AsyncMigrateError("nothing rolled back: " + "; ".join(problems))
        restored: list[TransactionRecord] = []
        pending: list[str] = []
        for record in chosen:
            listed = [entry for entry in record.plan_entries if plan.entry(entry) is not None]
            event: dict[str, Any] = {"event": "rollback", "files_restored": list(record.files)}
            displaced = edited_since(root, record.id)
            if displaced:
                event["displaced"] = displaced
            done, plan = undo(plan, record.id, entries=listed, status=FileStatus.PENDING, event=event)
            restored.append(done)
            pending.extend(entry for entry in listed if entry not in pending)
        return RollbackResult(tuple(restored), tuple(pending), tuple(recovered), lock.note)


def phase_entries(plan: Plan, phase_id: int) -> list[str]:
    """The plan paths of one phase (PlanError when there is no such phase)."""
    return [entry.path for entry in plan.phase(phase_id).files]
