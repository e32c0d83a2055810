"""The report as markdown, for ``$GITHUB_STEP_SUMMARY``: a progress table per phase with text bars,
blockers, failures, the trend, and what is left."""

from __future__ import annotations

from asyncmigrate.reporting.model import REMAINING, Counter, Report, files_per_day
from asyncmigrate.types import FileStatus

# --- text helpers ---------------------------------------------------------------------------------


def text_bar(done: int, total: int, width: int = 20) -> str:
    """``████░░░░ 40%``: a bar that renders in any markdown, log or terminal."""
    fraction = done / total if total else 1.0
    filled = round(width * fraction)
    return f"`{'█' * filled}{'░' * (width - filled)}` {round(100 * fraction)}%"


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
        left = [f for f in phase.files if f.status in REMAINING or f.regressed]
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
