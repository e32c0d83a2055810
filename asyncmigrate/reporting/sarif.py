"""The report as SARIF 2.1.0: every remaining facade call site, every blocker and every accepted doubt
is a result with its location, relative to ``SRCROOT`` (the plan's directory).

Fixes are optional (``fixes_for``), because they cost what ``apply --dry-run`` costs for each planned
file. A fix is the whole change ``apply FILE`` would make, taken from ``compute_change``: the rewritten
calls, the ``await``\\s, every ``async def`` up the callers (in other files too), the repository binding,
the imports and the test doubles. A file whose change ``apply`` would block, or cannot compute, gets no
fix, and its results say why. Fixes of one file would conflict with each other (each is the whole
change), so only the file's first result carries it; the others name that result.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asyncmigrate import __version__
from asyncmigrate.analysis.pool import ProgressCallback
from asyncmigrate.checks.check import MIGRATED_FILE_CALLS_FACADE
from asyncmigrate.config.plan import Plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.reporting.model import Blocker, FileState, Report
from asyncmigrate.types import CallSite, FileStatus

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "SRCROOT"

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


# --- fixes: the change apply would make, as SARIF replacements ---------------------------------------


@dataclass(frozen=True)
class FileFix:
    """What ``apply PATH`` would change, as SARIF ``artifactChanges``; or why there is no fix."""

    path: str
    description: str
    artifact_changes: tuple[dict[str, object], ...]  # empty when there is no fix
    no_fix: str | None = None  # why there is none

    def to_sarif(self) -> dict[str, object]:
        return {"description": {"text": self.description}, "artifactChanges": list(self.artifact_changes)}


# SARIF counts lines by CR, LF or CRLF only; str.splitlines would also split on \f, \v, \x1c.. and
# \u2028, which would shift every line number after one of them.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def sarif_lines(text: str) -> list[str]:
    """The text's lines as SARIF counts them, each with its line break."""
    return _LINE.findall(text)


def _position(lines: Sequence[str], index: int) -> dict[str, int]:
    """Where line ``index`` (0-based) starts; past the last line, the end of the text."""
    if index < len(lines):
        return {"line": index + 1, "column": 1}
    if not lines:
        return {"line": 1, "column": 1}
    last = lines[-1]
    if last.endswith(("\n", "\r")):  # the text ends with a line break: the end is the start of an empty line
        return {"line": len(lines) + 1, "column": 1}
    return {"line": len(lines), "column": len(last) + 1}


def replacements(before: str, after: str) -> list[dict[str, object]]:
    """SARIF replacements that turn ``before`` into ``after``, one per changed run of whole lines.

    Regions are in the original text's lines and columns (``unicodeCodePoints``) and do not overlap, so
    a consumer may apply them in any order against the original, as SARIF requires.
    """
    old, new = sarif_lines(before), sarif_lines(after)
    out: list[dict[str, object]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = _position(old, i1), _position(old, i2)
        region = {
            "startLine": start["line"],
            "startColumn": start["column"],
            "endLine": end["line"],
            "endColumn": end["column"],
        }
        out.append({"deletedRegion": region, "insertedContent": {"text": "".join(new[j1:j2])}})
    return out


def fixable_paths(report: Report) -> list[str]:
    """Planned files a fix is worth computing for: not skipped, with a call the plan maps."""
    return [
        f.path
        for f in report.files
        if f.status is not FileStatus.SKIPPED and any(c.target is not None for c in f.calls)
    ]


def fixes_for(
    plan: Plan,
    paths: Iterable[str],
    *,
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
) -> dict[str, FileFix]:
    """For each planned file, the change ``apply FILE`` would make as a SARIF fix, or why there is none.

    Each file is computed alone, as ``apply FILE`` on the tree as it is, because each SARIF fix is
    applied on its own to the code the report describes.
    """
    from asyncmigrate.workflow.apply import compute_change  # loads LibCST and the call graph: only here

    wanted = list(paths)
    fixes: dict[str, FileFix] = {}
    for done, path in enumerate(wanted):
        if progress is not None:
            progress(done, len(wanted))
        try:
            change = compute_change(plan, [path], use_cache=use_cache)
        except AsyncMigrateError as exc:
            fixes[path] = FileFix(path, "", (), f"apply cannot compute the change ({exc})")
            continue
        if change.blockers:
            first = change.blockers[0]
            more = f" and {len(change.blockers) - 1} more" if len(change.blockers) > 1 else ""
            fixes[path] = FileFix(path, "", (), f"apply is blocked at {first.path}:{first.line} ({first.kind}){more}")
            continue
        edits = sorted(change.changed, key=lambda e: (e.path != path, e.path))  # the file itself first
        if not edits:
            fixes[path] = FileFix(path, "", (), "apply would change nothing")
            continue
        try:
            texts = [(e.path, e.before.decode("utf-8"), e.after.decode("utf-8")) for e in edits]
        except UnicodeDecodeError:
            fixes[path] = FileFix(path, "", (), "a file the change touches is not UTF-8")
            continue
        artifact_changes: tuple[dict[str, object], ...] = tuple(
            {"artifactLocation": _artifact(edit_path), "replacements": replacements(before, after)}
            for edit_path, before, after in texts
        )
        fixes[path] = FileFix(path, _fix_description(path, change), artifact_changes)
    if progress is not None:
        progress(len(wanted), len(wanted))
    return fixes


def _fix_description(path: str, change: Any) -> str:
    touched = [e.path for e in change.changed]
    made_async = change.functions_made_async
    text = f"Migrate {path} as `asyncmigrate apply {path}` would: facade calls rewritten: {len(change.rewritten)}"
    if made_async:
        text += f"; made async: {', '.join(made_async)}"
    others = [p for p in touched if p != path]
    if others:
        text += f"; also changes {', '.join(others)}"
    return text + "."


# --- results ------------------------------------------------------------------------------------------


def _artifact(path: str) -> dict[str, str]:
    return {"uri": path, "uriBaseId": SRCROOT}


def _location(path: str, line: int | None, column: int | None = None) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": _artifact(path)}
    if line:
        region: dict[str, int] = {"startLine": line}
        if column is not None:
            region["startColumn"] = column + 1
        physical["region"] = region
    return {"physicalLocation": physical}


def _call_result(call: CallSite, where: str, *, regressed: bool = False) -> dict[str, object]:
    rule = "blocking-facade-call" if call.blocks_event_loop else "facade-call"
    if regressed:
        rule = MIGRATED_FILE_CALLS_FACADE
    target = call.target or "no async counterpart in the plan"
    text = f"{call.receiver}.{call.method}() in {call.function} ({where}) -> {target}"
    if call.blocks_event_loop:
        text += "; blocks the event loop"
    return {
        "ruleId": rule,
        "ruleIndex": _RULE_INDEX[rule],
        "level": _RULES[_RULE_INDEX[rule]][2],
        "message": {"text": text},
        "locations": [_location(call.path, call.line, call.column)],
        "properties": {"method": call.method, "target": call.target, "function": call.function},
    }


def _file_results(f: FileState, fix: FileFix | None) -> list[dict[str, Any]]:
    where = f"phase {f.entry.phase}, {f.status.value}"
    regressed = set(f.regressions)
    results: list[dict[str, Any]] = [_call_result(c, where, regressed=c in regressed) for c in f.calls]
    if fix is None or not results:
        return results
    first = results[0]
    if fix.no_fix is not None:
        for result in results:
            result["message"]["text"] += f". No fix: {fix.no_fix}"
        return results
    first["fixes"] = [fix.to_sarif()]
    carrier = f"{f.path}:{f.calls[0].line}"
    for result in results[1:]:
        result["message"]["text"] += f". The fix for {f.path} (the whole change) is on the result at {carrier}"
    return results


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


def to_sarif(report: Report, fixes: Mapping[str, FileFix] | None = None) -> dict[str, Any]:
    """The SARIF log; ``fixes`` (from ``fixes_for``) adds each file's change to its first result."""
    fixes = fixes or {}
    results: list[dict[str, Any]] = []
    for f in report.files:
        results += _file_results(f, fixes.get(f.path))
    for u in report.unplanned:
        results += [_call_result(c, "not in the plan") for c in u.calls]
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
                # No absolute URI: the log stays valid wherever the repository is checked out, and a
                # consumer (code scanning, an editor) resolves SRCROOT to its own checkout.
                "originalUriBaseIds": {
                    SRCROOT: {"description": {"text": "The directory that holds the migration plan."}}
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def to_sarif_text(report: Report, fixes: Mapping[str, FileFix] | None = None) -> str:
    return json.dumps(to_sarif(report, fixes), indent=2, ensure_ascii=False) + "\n"
