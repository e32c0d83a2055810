"""Where the migration stands, for CI: one ``Report`` from the plan, its history and a scan, and a
string builder per format. Nothing here prints (``render.py`` does).

Formats:
- markdown: for ``$GITHUB_STEP_SUMMARY``: a progress table per phase with text bars, blockers, failures,
  the trend, and what is left.
- json: ``schemas/report.schema.json`` (``"schema": "asyncmigrate.report/v1"``).
- junit: one ``<testsuite>`` per phase, one ``<testcase>`` per planned file (classname = the phase,
  name = the path). migrated/verified pass — unless facade calls came back, which is a ``<failure>``;
  failed and blocked are ``<failure>`` with the reason or the blockers; pending, in_progress and skipped
  are ``<skipped>`` with what is left, because work not yet done is not a broken build.
- sarif: SARIF 2.1.0; every remaining facade call site and every blocker is a result with its location;
  a mapped call whose rewrite is valid in place carries it as a ``fixes`` entry.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from asyncmigrate import __version__
from asyncmigrate.checks.check import MIGRATED_FILE_CALLS_FACADE, regressions
from asyncmigrate.config.plan import Plan, PlanEntry, now_iso
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.reporting.status import PhaseProgress, Progress, progress
from asyncmigrate.types import CallSite, FileReport, FileStatus, Resolution, ScanResult
from asyncmigrate.workspace import files as workspace_files

REPORT_SCHEMA = "asyncmigrate.report/v1"
_OUTPUT_KEYS = ("output_tail", "output")  # a test run's own output in a history event: shown verbatim, last
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
Counter = Callable[[FileStatus], int]  # files in a status, for a phase or the whole plan
_REMAINING = (FileStatus.PENDING, FileStatus.IN_PROGRESS, FileStatus.FAILED, FileStatus.BLOCKED)


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


def _event_name(event: Mapping[str, Any]) -> str | None:
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
        and key not in _OUTPUT_KEYS
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


# --- the rewrite, where it is known -----------------------------------------------------------------


@dataclass(frozen=True)
class Rewrite:
    """Replace ``deleted`` (at the call's line and column) with ``inserted``."""

    deleted: str
    inserted: str
    description: str


# how a receiver was recognised when it is an object the code receives (it stays, see rewrite_facade_calls)
_RECEIVED = frozenset({Resolution.ANNOTATION, Resolution.DEPENDS, Resolution.APP_STATE, Resolution.RECEIVER_NAME})


def rewrite_for(plan: Plan, call: CallSite, source_line: str | None) -> Rewrite | None:
    """The call's new opening, from the plan's mapping, when it is valid where it stands.

    Only the text up to the opening parenthesis changes; arguments stay (keyword renames are named in
    the description). No rewrite for an unmapped method, a bound method used as a value, a call in a
    lambda, a call written across lines, or an awaited target in a plain ``def`` (``await`` there is a
    syntax error until ``apply`` turns the function async and propagates to its callers).
    """
    mapping = plan.mappings.get(call.method)
    if mapping is None or call.is_reference or call.in_lambda or source_line is None:
        return None
    if mapping.reshapes or mapping.adapter or call.wrapper or (call.awaited and not plan.awaits(call.method)):
        return None  # more than the opening changes: only ``apply`` rewrites these
    repository = plan.repositories[mapping.repository]
    if plan.awaits(call.method) and not call.function_is_async:
        return None
    deleted = f"{call.receiver}.{call.method}("
    if source_line[call.column : call.column + len(deleted)] != deleted:
        return None
    awaits = "await " if plan.awaits(call.method) and not call.awaited else ""
    if call.resolution in _RECEIVED:  # the received object stays: reach the repository from it
        path = repository.received_path
        if path is None:
            return None  # `depends` or nothing: a new parameter, or a blocker — apply decides
        inserted = f"{awaits}{call.receiver}{''.join(f'.{part}' for part in path)}.{mapping.method}("
        where = f"on the received facade, `from_received: {repository.from_received}`"
    else:
        # self.<x>: obtained from a factory in __init__ or received from a parameter; only apply tells
        if repository.provider is None or (call.resolution is Resolution.SELF_ATTRIBUTE and repository.from_received):
            return None
        holder = "self." if call.receiver.startswith("self.") else ""
        inserted = f"{awaits}{holder}{repository.attribute}.{mapping.method}("
        where = (
            f"{holder}{repository.attribute} set from {repository.provider}()"
            if holder
            else f"{repository.attribute} = {repository.provider}() in scope"
        )
    renames = ", ".join(f"{old}= -> {new}=" for old, new in mapping.args)
    description = f"Replace `{deleted}` with `{inserted}` ({where})"
    if renames:
        description += f"; rename keywords {renames}"
    return Rewrite(deleted, inserted, description)


def _source_lines(root: Path, paths: Iterable[str]) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for path in paths:
        try:
            lines[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines[path] = []
    return lines


def _line_text(lines: Mapping[str, list[str]], call: CallSite) -> str | None:
    text = lines.get(call.path, [])
    return text[call.line - 1] if 0 < call.line <= len(text) else None


# --- text helpers ---------------------------------------------------------------------------------


def text_bar(done: int, total: int, width: int = 20) -> str:
    """``████░░░░ 40%``: a bar that renders in any markdown, log or terminal."""
    fraction = done / total if total else 1.0
    filled = round(width * fraction)
    return f"`{'█' * filled}{'░' * (width - filled)}` {round(100 * fraction)}%"


def _percent(done: int, total: int) -> float:
    return round(100 * done / total, 1) if total else 100.0


def _cell(text: object) -> str:
    """Table cells: a pipe or a newline would end the cell or the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f} h"


# --- markdown -------------------------------------------------------------------------------------


def to_markdown(report: Report) -> str:
    out: list[str] = []
    out += _md_headline(report)
    out += _md_phases(report)
    if report.blockers:
        out += _md_blockers(report)
    if report.accepted_doubts:
        out += ["", "### Accepted doubts", "", "| where | kind | call | may reach | reason |"]
        out.append("| --- | --- | --- | --- | --- |")
        for d in report.accepted_doubts:
            where = f"{d.path}:{d.line}" if d.line else d.path
            out.append(
                f"| {_code(where)} | {_cell(d.kind)} | {_code(d.call + '()')} | {_code(d.callee)} | {_cell(d.reason)} |"
            )
    failed = [f for f in report.files if f.status is FileStatus.FAILED or f.regressed]
    if failed:
        out += ["", "### Failed", ""]
        for f in failed:
            why = f.reason or "no reason recorded"
            if f.regressed:
                why = f"{len(f.regressions)} facade call sites came back"
            out.append(f"- {_code(f.path)} ({f.status.value}): {_cell(why)}")
    if report.unplanned:
        out += ["", "### Outside the plan", "", "These files call the facade but no phase lists them:", ""]
        out += [f"- {_code(f.path)}: {len(f.calls)} call sites, {len(f.blocking)} blocking" for f in report.unplanned]
    out += _md_trend(report)
    out += _md_left(report)
    if report.scan_errors:
        out += ["", "### Files that could not be scanned", ""]
        out += [f"- {_code(f.path)}: {_cell(f.error or '')}" for f in report.scan_errors]
    return "\n".join(out) + "\n"


def _md_headline(report: Report) -> list[str]:
    left = report.total - report.finished
    return [
        "## Async migration progress",
        "",
        f"**{report.finished}/{report.total} files finished** {text_bar(report.finished, report.total)} · "
        f"{left} files left · **{len(report.calls)}** facade call sites left, "
        f"**{report.blocking}** blocking the event loop · "
        f"**{_hours(report.progress.effort_remaining_minutes)}** of estimated effort left",
    ]


def _md_phases(report: Report) -> list[str]:
    head = (
        "| phase | progress | done | failed | blocked | in progress | pending | skipped "
        "| call sites left | blocking | effort left |"
    )
    rows = [
        "",
        head,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def row(label: str, finished: int, total: int, count: Counter, calls: int, blocking: int, minutes: int) -> str:
        done = count(FileStatus.MIGRATED) + count(FileStatus.VERIFIED)
        cells = [
            label,
            text_bar(finished, total, 10),
            f"{done}/{total}",
            *(str(count(s)) for s in (FileStatus.FAILED, FileStatus.BLOCKED, FileStatus.IN_PROGRESS)),
            str(count(FileStatus.PENDING)),
            str(count(FileStatus.SKIPPED)),
            str(calls),
            str(blocking),
            _hours(minutes),
        ]
        return "| " + " | ".join(cells) + " |"

    for phase in report.phases:
        rows.append(
            row(
                _cell(f"{phase.id} · {phase.name}"),
                phase.finished,
                phase.progress.total,
                phase.progress.count,
                phase.call_sites,
                phase.blocking,
                phase.progress.effort_remaining_minutes,
            )
        )
    planned_calls = sum(p.call_sites for p in report.phases)
    rows.append(
        row(
            "**all phases**",
            report.finished,
            report.total,
            report.count,
            planned_calls,
            sum(p.blocking for p in report.phases),
            report.progress.effort_remaining_minutes,
        )
    )
    return rows


def _md_blockers(report: Report) -> list[str]:
    out = ["", "### Blockers", "", "| where | kind | blocks | via | fix |", "| --- | --- | --- | --- | --- |"]
    for b in report.blockers:
        via = " → ".join(b.chain) or _cell(b.message or "")
        out.append(
            f"| {_code(b.location)} | {_cell(b.kind)} | {_code(b.entry)} | {_cell(via)} | {_cell(b.fix or '')} |"
        )
    return out


def _md_trend(report: Report) -> list[str]:
    out = ["", "### Trend", ""]
    if not report.trend:
        return [*out, "_No file has been migrated yet: the plan's history is empty._"]
    out += ["| date | files done | total done | failed | blocked |", "| --- | ---: | ---: | ---: | ---: |"]
    out += [f"| {p.date} | {p.done} | {p.cumulative} | {p.failed} | {p.blocked} |" for p in report.trend]
    rate = files_per_day(report.trend)
    if rate:
        left = report.total - report.finished
        days = f", about {left / rate:.0f} days to go at that pace" if left else ""
        out += ["", f"{rate:.1f} files per day since {report.trend[0].date}{days}."]
    return out


def _md_left(report: Report) -> list[str]:
    out = ["", "### What is left", ""]
    anything = False
    for phase in report.phases:
        left = [f for f in phase.files if f.status in _REMAINING or f.regressed]
        if not left:
            continue
        anything = True
        out += [f"**Phase {phase.id} · {_cell(phase.name)}** ({_hours(phase.progress.effort_remaining_minutes)})", ""]
        for f in left:
            parts = [f.status.value, f"{len(f.calls)} call sites"]
            if f.blocking:
                parts.append(f"{f.blocking} blocking")
            parts.append(f"{f.entry.effort_minutes} min")
            if f.status is FileStatus.BLOCKED:
                parts.append("blocked at " + ", ".join(b.location for b in f.blockers))
            elif f.reason and f.status is FileStatus.FAILED:
                parts.append(f.reason)
            out.append(f"- {_code(f.path)} — {_cell(' · '.join(parts))}")
        out.append("")
    if not anything:
        out.append("Nothing: every planned file is migrated, verified or skipped.")
    return out


# --- json -----------------------------------------------------------------------------------------


def _counts(count: Counter) -> dict[str, int]:
    return {s.value: count(s) for s in FileStatus}


def _last_event(event: Mapping[str, Any] | None) -> dict[str, object] | None:
    if event is None:
        return None
    when = event.get("when")
    status = event.get("status")
    return {
        "when": when.isoformat() if isinstance(when, date) else (str(when) if when is not None else None),
        "event": _event_name(event),
        "status": str(status) if status is not None else None,
    }


def _call_json(call: CallSite, phase: int | None, status: FileStatus | None) -> dict[str, object]:
    return {
        "path": call.path,
        **call.to_json(),
        "phase": phase,
        "status": status.value if status else None,
    }


def to_json(report: Report) -> dict[str, Any]:
    plan = report.plan
    return {
        "schema": REPORT_SCHEMA,
        "plan": str(plan.path),
        "generated_at": report.generated_at,
        "totals": {
            "files": report.total,
            "finished": report.finished,
            "done": report.count(FileStatus.MIGRATED) + report.count(FileStatus.VERIFIED),
            "percent_finished": _percent(report.finished, report.total),
            "counts": _counts(report.count),
            "call_sites": len(report.calls),
            "blocking": report.blocking,
            "unplanned_call_sites": sum(len(f.calls) for f in report.unplanned),
            "blockers": len(report.blockers),
            "effort_remaining_hours": report.effort_remaining_hours,
        },
        "phases": [
            {
                "id": phase.id,
                "name": phase.name,
                "files": phase.progress.total,
                "finished": phase.finished,
                "done": phase.progress.migrated,
                "percent_finished": _percent(phase.finished, phase.progress.total),
                "counts": _counts(phase.progress.count),
                "call_sites": phase.call_sites,
                "blocking": phase.blocking,
                "effort_remaining_hours": round(phase.progress.effort_remaining_minutes / 60, 2),
                "entries": [
                    {
                        "path": f.path,
                        "status": f.status.value,
                        "complexity": f.entry.complexity,
                        "effort_minutes": f.entry.effort_minutes,
                        "risk": f.entry.risk,
                        "call_sites": len(f.calls),
                        "blocking": f.blocking,
                        "regressed": f.regressed,
                        "reason": f.reason,
                        "blockers": [b.to_json() for b in f.blockers],
                        "last_event": _last_event(f.last_event),
                    }
                    for f in phase.files
                ],
            }
            for phase in report.phases
        ],
        "blockers": [b.to_json() for b in report.blockers],
        "accepted_doubts": [d.to_json() for d in report.accepted_doubts],
        "unplanned": [
            {"path": f.path, "call_sites": len(f.calls), "blocking": len(f.blocking)} for f in report.unplanned
        ],
        "trend": [
            {
                "date": p.date,
                "done": p.done,
                "failed": p.failed,
                "blocked": p.blocked,
                "cumulative": p.cumulative,
            }
            for p in report.trend
        ],
        "call_sites": [
            *(_call_json(c, f.entry.phase, f.status) for f in report.files for c in f.calls),
            *(_call_json(c, None, None) for f in report.unplanned for c in f.calls),
        ],
        "scan_errors": [{"path": f.path, "error": f.error or ""} for f in report.scan_errors],
    }


def to_json_text(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"


# --- junit ----------------------------------------------------------------------------------------


def _pending_text(f: FileState) -> str:
    text = f"{f.status.value}: {len(f.calls)} facade call sites ({f.blocking} blocking), {f.entry.effort_minutes} min"
    return f"{text}; {f.reason}" if f.reason and f.status is FileStatus.SKIPPED else text


def _junit_case(suite: ET.Element, classname: str, f: FileState) -> str:
    """Adds the file's testcase; returns its outcome: passed, failure or skipped."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=f.path, file=f.path, time="0")
    if f.regressed:
        failure = ET.SubElement(
            case, "failure", type="regressed", message=f"marked {f.status.value} but calls the facade again"
        )
        failure.text = "\n".join(f"{c.path}:{c.line}: {c.receiver}.{c.method}()" for c in f.regressions)
        return "failure"
    if f.status is FileStatus.FAILED:
        failure = ET.SubElement(case, "failure", type="failed", message=f.reason or "migration failed")
        failure.text = _junit_history(f)
        return "failure"
    if f.status is FileStatus.BLOCKED:
        lines = [
            f"{b.location}: {b.kind}: {' -> '.join(b.chain) or b.message or ''}" + (f" (fix: {b.fix})" if b.fix else "")
            for b in f.blockers
        ]
        ET.SubElement(
            case, "failure", type="blocked", message=f"blocked by {len(f.blockers)} construct(s)"
        ).text = "\n".join(lines)
        return "failure"
    if f.status in (FileStatus.PENDING, FileStatus.IN_PROGRESS, FileStatus.SKIPPED):
        ET.SubElement(case, "skipped", message=_pending_text(f))
        return "skipped"
    return "passed"


def _junit_history(f: FileState) -> str:
    """The last event's fields, then the test output it kept, for the CI dashboard's failure pane."""
    event = f.last_event or {}
    lines = [
        f"{key}: {value}"
        for key, value in event.items()
        if not isinstance(value, list | Mapping) and key not in _OUTPUT_KEYS
    ]
    for holder in (event, event.get("test_result")):
        if isinstance(holder, Mapping):
            lines += [str(holder[key]) for key in _OUTPUT_KEYS if isinstance(holder.get(key), str)]
    return "\n".join(lines)


def to_junit(report: Report) -> str:
    root = ET.Element("testsuites", name="asyncmigrate", timestamp=report.generated_at)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for phase in report.phases:
        classname = f"Phase {phase.id} - {phase.name}"
        suite = ET.SubElement(root, "testsuite", name=classname, timestamp=report.generated_at)
        outcomes = [_junit_case(suite, classname, f) for f in phase.files]
        counts = {
            "tests": len(outcomes),
            "failures": outcomes.count("failure"),
            "skipped": outcomes.count("skipped"),
        }
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
        suite.set("time", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --- sarif ----------------------------------------------------------------------------------------

_RULES: tuple[tuple[str, str, str, str, str], ...] = (  # id, name, level, short and full description
    (
        "facade-call",
        "FacadeCall",
        "warning",
        "Call to the sync facade",
        "A call to the synchronous persistence facade that the migration plan is retiring.",
    ),
    (
        "blocking-facade-call",
        "BlockingFacadeCall",
        "error",
        "Sync facade call blocks the event loop",
        "A synchronous facade call directly inside `async def`: it blocks the event loop while it runs.",
    ),
    (
        MIGRATED_FILE_CALLS_FACADE,
        "MigratedFileCallsFacade",
        "error",
        "Migrated file calls the facade again",
        "A file the plan marks migrated or verified makes a mapped facade call again: the migration regressed.",
    ),
    (
        "migration-blocker",
        "MigrationBlocker",
        "error",
        "Construct that cannot become async",
        "A construct that cannot become async (a lambda, a property, a sync entry point, ...) stops the migration.",
    ),
    (
        "accepted-doubt",
        "AcceptedDoubt",
        "note",
        "Call the migration could not follow, accepted by the plan",
        "A call that may reach a function made async, which the call graph cannot follow (unknown receiver, "
        "getattr, several candidates); the plan's accepted_doubts says why it cannot, so it was left as it is.",
    ),
)
_RULE_INDEX = {rule[0]: index for index, rule in enumerate(_RULES)}


def _location(path: str, line: int | None, column: int | None = None) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}
    if line:
        region: dict[str, int] = {"startLine": line}
        if column is not None:
            region["startColumn"] = column + 1
        physical["region"] = region
    return {"physicalLocation": physical}


def _call_result(
    plan: Plan, call: CallSite, where: str, source_line: str | None, *, regressed: bool = False
) -> dict[str, object]:
    rule = "blocking-facade-call" if call.blocks_event_loop else "facade-call"
    if regressed:
        rule = MIGRATED_FILE_CALLS_FACADE
    target = call.target or "no async counterpart in the plan"
    text = f"{call.receiver}.{call.method}() in {call.function} ({where}) -> {target}"
    if call.blocks_event_loop:
        text += "; blocks the event loop"
    result: dict[str, object] = {
        "ruleId": rule,
        "ruleIndex": _RULE_INDEX[rule],
        "level": _RULES[_RULE_INDEX[rule]][2],
        "message": {"text": text},
        "locations": [_location(call.path, call.line, call.column)],
        "properties": {"method": call.method, "target": call.target, "function": call.function},
    }
    rewrite = rewrite_for(plan, call, source_line)
    if rewrite is not None:
        deleted = {
            "startLine": call.line,
            "startColumn": call.column + 1,
            "endLine": call.line,
            "endColumn": call.column + 1 + len(rewrite.deleted),
        }
        result["fixes"] = [
            {
                "description": {"text": rewrite.description},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": call.path, "uriBaseId": "SRCROOT"},
                        "replacements": [{"deletedRegion": deleted, "insertedContent": {"text": rewrite.inserted}}],
                    }
                ],
            }
        ]
    return result


def _blocker_result(b: Blocker) -> dict[str, object]:
    text = f"{b.kind} blocks migrating {b.entry}"
    if b.chain:
        text += " via " + " -> ".join(b.chain)
    if b.message:
        text += f": {b.message}"
    if b.fix:
        text += f". Suggested fix: {b.fix}"
    return {
        "ruleId": "migration-blocker",
        "ruleIndex": _RULE_INDEX["migration-blocker"],
        "level": "error",
        "message": {"text": text},
        "locations": [_location(b.path, b.line)],
        "properties": {"kind": b.kind, "entry": b.entry, "chain": list(b.chain)},
    }


def to_sarif(report: Report) -> dict[str, Any]:
    plan = report.plan
    lines = _source_lines(plan.root, {c.path for c in report.calls})
    results: list[dict[str, object]] = []
    for f in report.files:
        where = f"phase {f.entry.phase}, {f.status.value}"
        regressed = set(f.regressions)
        results += [_call_result(plan, c, where, _line_text(lines, c), regressed=c in regressed) for c in f.calls]
    for u in report.unplanned:
        results += [_call_result(plan, c, "not in the plan", _line_text(lines, c)) for c in u.calls]
    results += [_blocker_result(b) for b in report.blockers]
    results += [
        {
            "ruleId": "accepted-doubt",
            "ruleIndex": _RULE_INDEX["accepted-doubt"],
            "level": "note",
            "message": {"text": f"{d.call}() may call {d.callee} ({d.kind}); accepted: {d.reason}"},
            "locations": [_location(d.path, d.line)],
            "properties": {"kind": d.kind, "entry": d.entry},
        }
        for d in report.accepted_doubts
    ]
    rules = [
        {
            "id": rule_id,
            "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "defaultConfiguration": {"level": level},
        }
        for rule_id, name, level, short, full in _RULES
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "asyncmigrate", "version": __version__, "rules": rules}},
                "originalUriBaseIds": {"SRCROOT": {"uri": plan.root.resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def to_sarif_text(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


FORMATS = {
    "markdown": to_markdown,
    "json": to_json_text,
    "junit": to_junit,
    "sarif": to_sarif_text,
}


def render_report(report: Report, fmt: str) -> str:
    """The report as the text of one format (``FORMATS``)."""
    try:
        builder = FORMATS[fmt]
    except KeyError:
        raise AsyncMigrateError(f"unknown report format {fmt!r} (formats: {', '.join(FORMATS)})") from None
    return builder(report)


def write_report(path: Path, text: str) -> None:
    """Write atomically, so a CI step never reads half a report."""
    if path.is_dir():
        raise AsyncMigrateError(f"{path}: is a directory; give the report a file name")
    try:
        workspace_files.write_text_atomic(path, text)
    except OSError as exc:
        raise AsyncMigrateError(f"{path}: cannot write the report ({exc.strerror})") from None
