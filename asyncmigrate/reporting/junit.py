"""The report as JUnit XML: one ``<testsuite>`` per phase, one ``<testcase>`` per planned file
(classname = the phase, name = the path).

migrated/verified pass — unless facade calls came back, which is a ``<failure>``; failed and blocked are
``<failure>`` with the reason or the blockers; pending, in_progress and skipped are ``<skipped>`` with
what is left, because work not yet done is not a broken build.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from asyncmigrate.reporting.model import OUTPUT_KEYS, FileState, Report
from asyncmigrate.types import FileStatus


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
        if not isinstance(value, list | Mapping) and key not in OUTPUT_KEYS
    ]
    for holder in (event, event.get("test_result")):
        if isinstance(holder, Mapping):
            lines += [str(holder[key]) for key in OUTPUT_KEYS if isinstance(holder.get(key), str)]
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
