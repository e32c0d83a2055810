"""The report as JSON, following ``schemas/report.schema.json`` (``"schema": "asyncmigrate.report/v1"``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from asyncmigrate.reporting.model import Counter, Report, event_name, percent
from asyncmigrate.types import CallSite, FileStatus

REPORT_SCHEMA = "asyncmigrate.report/v1"


def _counts(count: Counter) -> dict[str, int]:
    return {s.value: count(s) for s in FileStatus}


def _last_event(event: Mapping[str, Any] | None) -> dict[str, object] | None:
    if event is None:
        return None
    when = event.get("when")
    status = event.get("status")
    return {
        "when": when.isoformat() if isinstance(when, date) else (str(when) if when is not None else None),
        "event": event_name(event),
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
            "percent_finished": percent(report.finished, report.total),
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
                "percent_finished": percent(phase.finished, phase.progress.total),
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
