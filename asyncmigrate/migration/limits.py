"""Where propagation must stop: files the plan excludes, and files no parser could read.

A chain that reaches an excluded file would edit a file the user said not to touch; a file the call
graph could not read may call a function turning async without anyone seeing it. Both stop the apply
with a blocker naming the file, never a silent skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from asyncmigrate.analysis.callgraph import Project
from asyncmigrate.analysis.scan import matches_any
from asyncmigrate.migration.propagate import Blocker, PropagationPlan


def excluded_blockers(exclude: Sequence[str], propagation: PropagationPlan, plan_file: str) -> list[Blocker]:
    """One blocker per excluded file the propagation would edit, at its first edit, with the chain."""
    if not exclude:
        return []
    first: dict[str, tuple[int, tuple[str, ...]]] = {}

    def note(path: str, line: int, chain: tuple[str, ...]) -> None:
        if matches_any(path, exclude) and (path not in first or line < first[path][0]):
            first[path] = (line, chain)

    for function in propagation.function_edits:
        chain = propagation.async_functions.get(function.function, (function.function,))
        note(function.path, function.name_line, chain)
    for call in propagation.call_edits:
        chain = propagation.async_functions.get(call.callee, (call.callee,))
        note(call.path, call.line, (*chain, f"{call.path}:{call.line}"))
    for lock in propagation.lock_edits:
        note(lock.path, lock.line, (lock.lock,))
    return [
        Blocker(
            path,
            line,
            "excluded_file",
            f"the change would edit {path}, which the plan excludes",
            chain,
            f"stop the chain before it (keep the caller sync behind an explicit boundary), or remove {path} from "
            f"`exclude` in {plan_file} so it may be migrated",
        )
        for path, (line, chain) in sorted(first.items())
    ]


def unreadable_blockers(project: Project, propagation: PropagationPlan, root: Path) -> list[Blocker]:
    """A file the call graph could not read that names a function turning async: its calls are unknown."""
    if not project.unreadable or not propagation.async_functions:
        return []
    by_name: dict[str, list[str]] = {}
    for function_id in propagation.async_functions:
        by_name.setdefault(function_id.rsplit(".", 1)[-1], []).append(function_id)
    pattern = re.compile(rb"\b(" + b"|".join(re.escape(n.encode()) for n in sorted(by_name)) + rb")\b")
    blockers = []
    for path, reason in sorted(project.unreadable.items()):
        try:
            data = (root / path).read_bytes()
        except OSError:
            continue
        found = pattern.search(data)
        if found is None:
            continue
        name = found.group(1).decode()
        function_id = by_name[name][0]
        line_text, _, why = reason.partition(": ")
        line = int(line_text) if line_text.isdigit() else 1
        blockers.append(
            Blocker(
                path,
                line,
                "unreadable_module",
                f"{path} cannot be read ({why}) and mentions {name}, which turns async; its calls cannot be checked",
                (*propagation.async_functions[function_id], path),
                f"fix the file so it parses (`python -m py_compile {path}`), then apply again",
            )
        )
    return blockers


def excluded_edit_blockers(
    exclude: Sequence[str], edits: Iterable[tuple[str, bytes, bytes]], blocked: Iterable[str], plan_file: str
) -> list[Blocker]:
    """Any other edit (a test double, a rewritten target) to an excluded file not already blocked."""
    already = set(blocked)
    found = []
    for path, before, after in edits:
        if before == after or path in already or not matches_any(path, exclude):
            continue
        old, new = before.splitlines(), after.splitlines()
        line = next((n for n, (a, b) in enumerate(zip(old, new, strict=False), start=1) if a != b), len(old) + 1)
        found.append(
            Blocker(
                path,
                line,
                "excluded_file",
                f"the change would edit {path}, which the plan excludes",
                (f"{path}:{line}",),
                f"remove {path} from `exclude` in {plan_file} so it may be migrated, or leave its callee sync",
            )
        )
    return found
