"""Where the migration stands: per phase, from the plan alone (no parsing)."""

from __future__ import annotations

from dataclasses import dataclass

from asyncmigrate.config.plan import Plan, PlanEntry
from asyncmigrate.types import FileStatus

# A file that needs no more work: done, or deliberately left alone.
_FINISHED = (FileStatus.MIGRATED, FileStatus.VERIFIED, FileStatus.SKIPPED)


@dataclass(frozen=True)
class PhaseProgress:
    id: int
    name: str
    entries: tuple[PlanEntry, ...]

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def migrated(self) -> int:
        return sum(1 for e in self.entries if e.status.is_done)

    def count(self, status: FileStatus) -> int:
        return sum(1 for e in self.entries if e.status is status)

    @property
    def effort_remaining_minutes(self) -> int:
        return sum(e.effort_minutes for e in self.entries if e.status not in _FINISHED)


@dataclass(frozen=True)
class Progress:
    phases: tuple[PhaseProgress, ...]
    missing: frozenset[str] = frozenset()  # planned files that no longer exist (deleted or moved)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.phases)

    @property
    def migrated(self) -> int:
        return sum(p.migrated for p in self.phases)

    @property
    def effort_remaining_minutes(self) -> int:
        return sum(p.effort_remaining_minutes for p in self.phases)


def progress(plan: Plan, phase: int | None = None) -> Progress:
    phases = [plan.phase(phase)] if phase is not None else list(plan.phases)
    # a deleted planned file is shown, not fatal: `rollback` may be the very way to bring it back
    missing = frozenset(e.path for p in phases for e in p.files if not (plan.root / e.path).is_file())
    return Progress(tuple(PhaseProgress(p.id, p.name, p.files) for p in phases), missing)


def status_json(plan: Plan, result: Progress) -> dict[str, object]:
    return {
        "schema": "asyncmigrate.status/v1",
        "plan": str(plan.path),
        "total": result.total,
        "migrated": result.migrated,
        "effort_remaining_hours": round(result.effort_remaining_minutes / 60, 2),
        "phases": [
            {
                "id": phase.id,
                "name": phase.name,
                "files": phase.total,
                "migrated": phase.migrated,
                "counts": {s.value: phase.count(s) for s in FileStatus},
                "effort_remaining_hours": round(phase.effort_remaining_minutes / 60, 2),
                "entries": [
                    {
                        "path": e.path,
                        "status": e.status.value,
                        "complexity": e.complexity,
                        "effort_minutes": e.effort_minutes,
                        "risk": e.risk,
                        "repositories": list(e.repositories),
                        "reason": e.reason,
                        "missing": e.path in result.missing,
                    }
                    for e in phase.entries
                ],
            }
            for phase in result.phases
        ],
    }
