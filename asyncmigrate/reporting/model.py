"""The report's model: one ``Report`` from the plan, its history and a scan of the code as it is now.

Every format (``markdown``, ``json_report``, ``junit``, ``sarif``) builds its text from this model;
``report.py`` picks the format. Nothing here prints (``render.py`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from asyncmigrate.checks.check import regressions
from asyncmigrate.config.plan import Plan, PlanEntry, now_iso
from asyncmigrate.reporting.status import PhaseProgress, Progress, progress
from asyncmigrate.types import CallSite, FileReport, FileStatus, ScanResult

OUTPUT_KEYS = ("output_tail", "output")  # a test run's own output in a history event: shown verbatim, last
Counter = Callable[[FileStatus], int]  # files in a status, for a phase or the whole plan
REMAINING = (FileStatus.PENDING, FileStatus.IN_PROGRESS, FileStatus.FAILED, FileStatus.BLOCKED)

# --- the model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """Something that keeps ``entry`` from being migrated, as ``apply`` (or ``mark``) recorded it."""

    entry: str  # the planned file whose migration it blocks
    path: str  # where the blocking construct is
    line: int | None
    kind: str
    chain: tuple[str, ...]  # the callers that forced the conversion up to the construct
    fix: str | None
    message: str | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, object]:
        return {
            "entry": self.entry,
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
            "chain": list(self.chain),
            "fix": self.fix,
            "message": self.message,
        }


@dataclass(frozen=True)
class FileState:
    entry: PlanEntry
    calls: tuple[CallSite, ...]
    blockers: tuple[Blocker, ...]
    last_event: Mapping[str, Any] | None

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def status(self) -> FileStatus:
        return self.entry.status

    @property
    def blocking(self) -> int:
        return sum(1 for c in self.calls if c.blocks_event_loop)

    @property
    def regressions(self) -> tuple[CallSite, ...]:
        """The calls that make the file regressed, as ``check`` defines them (``check.regressions``)."""
        return regressions(self.status, self.calls)

    @property
    def regressed(self) -> bool:
        """Marked done, yet a mapped facade call is back (``check`` fails on exactly these)."""
        return bool(self.regressions)

    @property
    def reason(self) -> str | None:
        """Why the file is where it is: the plan's reason, else what the last event recorded."""
        if self.entry.reason:
            return self.entry.reason
        event = self.last_event or {}
        for key in ("reason", "error", "message"):
            if isinstance(event.get(key), str) and event[key]:
                return str(event[key])
        return _describe_test_result(event.get("test_result"))


@dataclass(frozen=True)
class PhaseState:
    progress: PhaseProgress
    files: tuple[FileState, ...]

    @property
    def id(self) -> int:
        return self.progress.id

    @property
    def name(self) -> str:
        return self.progress.name

    @property
    def finished(self) -> int:
        """Done or deliberately skipped: what needs no more work (as ``status`` counts effort)."""
        return self.progress.migrated + self.progress.count(FileStatus.SKIPPED)

    @property
    def call_sites(self) -> int:
        return sum(len(f.calls) for f in self.files)

    @property
    def blocking(self) -> int:
        return sum(f.blocking for f in self.files)


@dataclass(frozen=True)
class TrendPoint:
    """One day of history: files that became (and stayed) done, failures and blocks recorded."""

    date: str
    done: int
    failed: int
    blocked: int
    cumulative: int


@dataclass(frozen=True)
class Report:
    plan: Plan
    progress: Progress
    phases: tuple[PhaseState, ...]
    unplanned: tuple[FileReport, ...]  # files outside the plan that call the facade
    scan_errors: tuple[FileReport, ...]
    trend: tuple[TrendPoint, ...]
    generated_at: str

    @property
    def files(self) -> tuple[FileState, ...]:
        return tuple(f for phase in self.phases for f in phase.files)

    @property
    def total(self) -> int:
        return self.progress.total

    @property
    def finished(self) -> int:
        return sum(p.finished for p in self.phases)

    def count(self, status: FileStatus) -> int:
        return sum(p.progress.count(status) for p in self.phases)

    @property
    def calls(self) -> tuple[CallSite, ...]:
        """Every facade call site still in the code, planned files first, in file order."""
        return tuple(c for f in self.files for c in f.calls) + tuple(c for f in self.unplanned for c in f.calls)

    @property
    def blocking(self) -> int:
        return sum(1 for c in self.calls if c.blocks_event_loop)

    @property
    def blockers(self) -> tuple[Blocker, ...]:
        return tuple(b for f in self.files for b in f.blockers)

    @property
    def effort_remaining_hours(self) -> float:
        return round(self.progress.effort_remaining_minutes / 60, 2)

    @property
    def accepted_doubts(self) -> tuple[AcceptedDoubtRecord, ...]:
        return tuple(d for f in self.files for d in accepted_doubts_of(f.entry))


@dataclass(frozen=True)
class AcceptedDoubtRecord:
    """A doubt an apply went ahead with because the plan accepted it, as its history records it."""

    entry: str
    path: str
    line: int | None
    kind: str
    call: str
    callee: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "entry": self.entry,
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
            "call": self.call,
            "callee": self.callee,
            "reason": self.reason,
        }


def accepted_doubts_of(entry: PlanEntry) -> tuple[AcceptedDoubtRecord, ...]:
    """Every doubt the entry's applies accepted, once each (``check`` says whether the code still has it)."""
    found: dict[tuple[str, str, str], AcceptedDoubtRecord] = {}
    for event in entry.history:
        listed = event.get("accepted_doubts")
        for item in listed if isinstance(listed, list) else ():
            if not isinstance(item, Mapping):
                continue
            record = AcceptedDoubtRecord(
                entry=entry.path,
                path=str(item.get("path") or entry.path),
                line=_line(item.get("line")),
                kind=str(item.get("kind") or "doubt"),
                call=str(item.get("call") or ""),
                callee=str(item.get("callee") or ""),
                reason=str(item.get("reason") or ""),
            )
            found[(record.path, record.call, record.callee)] = record
    return tuple(found.values())


def build_report(plan: Plan, scan: ScanResult, *, generated_at: str | None = None) -> Report:
    """Combine the plan (statuses, estimates, history) with a scan of the code as it is now."""
    by_path = {f.path: f for f in scan.files}
    overall = progress(plan)
    phases = tuple(
        PhaseState(
            phase,
            tuple(
                FileState(
                    entry,
                    by_path[entry.path].calls if entry.path in by_path else (),
                    blockers_of(entry),
                    entry.history[-1] if entry.history else None,
                )
                for entry in phase.entries
            ),
        )
        for phase in overall.phases
    )
    unplanned = tuple(f for f in scan.files if f.phase is None and f.calls)
    return Report(
        plan=plan,
        progress=overall,
        phases=phases,
        unplanned=unplanned,
        scan_errors=scan.errors,
        trend=trend(plan.entries()),
        generated_at=generated_at or now_iso(),
    )


# --- reading history defensively --------------------------------------------------------------------
# History is written by `apply` and `mark` and edited by people, so every key may be missing or odd.


def event_name(event: Mapping[str, Any]) -> str | None:
    name = event.get("event", event.get("action"))
    return str(name) if name is not None else None


def _describe_test_result(value: Any) -> str | None:
    """``{passed: false, returncode: 1, modules: 2}`` -> ``tests failed (returncode: 1, modules: 2)``."""
    if value is None or value == "":
        return None
    if not isinstance(value, Mapping):
        return f"tests: {value}"
    passed = value.get("passed")
    head = "tests" if not isinstance(passed, bool) else ("tests passed" if passed else "tests failed")
    details = [
        f"{key}: {item}"
        for key, item in value.items()
        if isinstance(item, str | int | float)
        and key not in OUTPUT_KEYS
        and not (key == "passed" and isinstance(item, bool))  # already the head
    ]
    return f"{head} ({', '.join(details)})" if details else head


def _chain(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def _line(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def blockers_of(entry: PlanEntry) -> tuple[Blocker, ...]:
    """A blocked file's blockers from its latest event that lists them (older ones may be stale)."""
    if entry.status is not FileStatus.BLOCKED:
        return ()
    for event in reversed(entry.history):
        listed = event.get("blockers")
        if isinstance(listed, list) and listed:
            return tuple(_blocker(entry, item) for item in listed if isinstance(item, Mapping))
    # Marked blocked by hand, or by an apply that recorded no detail: the file itself is the location.
    reason = entry.reason or next((str(e["reason"]) for e in reversed(entry.history) if e.get("reason")), None)
    return (Blocker(entry.path, entry.path, None, "blocked", (), None, reason),)


def _blocker(entry: PlanEntry, item: Mapping[str, Any]) -> Blocker:
    fix = item.get("fix")
    message = item.get("message", item.get("reason"))
    return Blocker(
        entry=entry.path,
        path=str(item.get("path") or entry.path),
        line=_line(item.get("line")),
        kind=str(item.get("kind") or "blocker"),
        chain=_chain(item.get("chain")),
        fix=str(fix) if fix else None,
        message=str(message) if message else None,
    )


def _day(value: Any) -> date | None:
    """The UTC day of a ``when`` (a string, or a timestamp YAML already parsed)."""
    when: datetime | None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.date()


def trend(entries: Iterable[PlanEntry]) -> tuple[TrendPoint, ...]:
    """Per day: files that became migrated/verified (and still are), and failed/blocked events.

    A file counts on the day its current done streak began: ``apply`` records ``migrated`` before the
    tests run, so a migration the tests then failed (and rolled back) is no progress, and a file that
    was migrated, failed, then migrated again counts on the later day, once.
    """
    done_values = (FileStatus.MIGRATED.value, FileStatus.VERIFIED.value)
    done: dict[date, int] = {}
    failed: dict[date, int] = {}
    blocked: dict[date, int] = {}
    for entry in entries:
        streak_start: date | None = None
        for event in entry.history:
            day = _day(event.get("when"))
            status = event.get("status")
            if status in done_values:
                streak_start = streak_start or day
                continue
            if status is None:
                continue
            streak_start = None
            if day is not None and status == FileStatus.FAILED.value:
                failed[day] = failed.get(day, 0) + 1
            elif day is not None and status == FileStatus.BLOCKED.value:
                blocked[day] = blocked.get(day, 0) + 1
        if entry.status.is_done and streak_start is not None:
            done[streak_start] = done.get(streak_start, 0) + 1
    points: list[TrendPoint] = []
    cumulative = 0
    for day in sorted(set(done) | set(failed) | set(blocked)):
        cumulative += done.get(day, 0)
        points.append(
            TrendPoint(day.isoformat(), done.get(day, 0), failed.get(day, 0), blocked.get(day, 0), cumulative)
        )
    return tuple(points)


def files_per_day(points: tuple[TrendPoint, ...]) -> float | None:
    """Average files done per calendar day, from the first to the last day with history."""
    if not points or not points[-1].cumulative:
        return None
    span = (date.fromisoformat(points[-1].date) - date.fromisoformat(points[0].date)).days + 1
    return points[-1].cumulative / span


def percent(done: int, total: int) -> float:
    return round(100 * done / total, 1) if total else 100.0
