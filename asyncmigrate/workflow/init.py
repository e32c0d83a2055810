"""``asyncmigrate init``: a first plan from a scan, with phases assigned by path rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from asyncmigrate.analysis.scan import matches_any
from asyncmigrate.config.modules import is_test_file
from asyncmigrate.config.plan import PLAN_VERSION, dump_document
from asyncmigrate.config.plan_schema import modeline
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.types import FileReport


@dataclass(frozen=True)
class PhaseRule:
    """``--phase "API endpoints=server/api/*,server/auth/*"``: a name and path patterns."""

    name: str
    patterns: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> PhaseRule:
        name, sep, patterns = text.partition("=")
        items = tuple(p.strip() for p in patterns.split(",") if p.strip())
        if not sep or not name.strip() or not items:
            raise AsyncMigrateError(f"--phase {text!r}: expected NAME=PATTERN[,PATTERN...]")
        return cls(name.strip(), items)

    def matches(self, path: str) -> bool:
        return matches_any(path, self.patterns)


def estimate(report: FileReport) -> tuple[str, int, str]:
    """(complexity, effort in minutes, risk) from the call count and the async reach.

    Each call site is a small edit; each function that turns async is an edit plus a caller to
    check, so reach weighs more. Calls in lambdas, references and blocking calls raise the risk.
    """
    calls = len(report.calls)
    score = calls + 2 * report.async_reach
    complexity = "low" if score <= 8 else "medium" if score <= 24 else "high"
    effort = min(120, max(5, 5 * round((5 + 2 * calls + 3 * report.async_reach) / 5)))
    awkward = any(c.in_lambda or c.is_reference for c in report.calls)
    risk = "high" if awkward and report.async_reach > 10 else "medium" if awkward or report.async_reach > 10 else "low"
    return complexity, effort, risk


def _is_test(path: str, tests: Sequence[str]) -> bool:
    return is_test_file(path, test_roots=tests, conftest=False)


MEASURED_PHASE = "Blocks the event loop (measured)"


def build_plan_document(
    reports: Sequence[FileReport],
    *,
    factories: Sequence[str],
    classes: Sequence[str],
    receiver_names: Sequence[str],
    source: Sequence[str],
    tests: Sequence[str],
    exclude: Sequence[str],
    rules: Sequence[PhaseRule],
    first_phase: int = 1,
    async_callbacks: Sequence[str] = (),
    plan_directory: Path | None = None,
    measured: Mapping[str, float] | None = None,
) -> str:
    """The YAML text of a new plan: every file that uses the facade (a call or a bound method taken
    as a value), in the first phase whose rule matches (source files no rule matches go to
    "Remaining code", test files to "Tests"). Every rule keeps its phase, empty or not, so phase ids
    follow the rules' order and never shift when a pattern matches nothing. With ``plan_directory``, the
    first line points editors at the plan's JSON Schema (``# yaml-language-server: $schema=...``)."""
    names = [rule.name for rule in rules]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        # Two rules of one name would share a phase and shift every later id.
        raise AsyncMigrateError(f"--phase {twice!r} given twice: give each phase one rule with all its patterns")
    buckets: dict[str, list[FileReport]] = {}
    # ``--order measured``: the files whose facade calls blocked the event loop during the traced tests
    # come first, longest first — that is where migrating pays soonest
    blocking = {path: seconds for path, seconds in (measured or {}).items() if seconds > 0}
    if blocking:
        buckets[MEASURED_PHASE] = []
    buckets.update({rule.name: [] for rule in rules})
    buckets.setdefault("Remaining code", [])
    buckets.setdefault("Tests", [])
    for report in sorted(reports, key=lambda r: (-blocking.get(r.path, 0.0), r.path)):
        if not report.calls:
            continue
        if report.path in blocking:
            buckets[MEASURED_PHASE].append(report)
            continue
        rule = next((r for r in rules if r.matches(report.path)), None)
        if rule is not None:
            buckets[rule.name].append(report)
        elif _is_test(report.path, tests):
            buckets["Tests"].append(report)
        else:
            buckets["Remaining code"].append(report)

    doc = CommentedMap()
    doc["version"] = PLAN_VERSION
    doc["source"] = source[0] if len(source) == 1 else CommentedSeq(source)
    if tests:
        doc["tests"] = tests[0] if len(tests) == 1 else CommentedSeq(tests)
    doc["test_command"] = _flow(["python", "-m", "pytest", "-q"])
    if exclude:
        doc["exclude"] = CommentedSeq(exclude)
    facade = CommentedMap()
    facade["factories"] = _flow(factories)
    facade["classes"] = _flow(classes)
    facade["receiver_names"] = _flow(receiver_names)
    doc["facade"] = facade
    doc["repositories"] = CommentedMap()
    doc["mappings"] = CommentedMap()
    if async_callbacks:
        doc["async_callbacks"] = _flow(async_callbacks)
    doc.yaml_set_comment_before_after_key(
        "repositories",
        before="Fill in the async repositories and map each facade method to one, e.g.\n"
        "repositories:\n"
        "  user: {class: app.repos.UserRepo, provider: app.repos.get_user_repo, "
        "attribute: user_repo, awaitable: true}\n"
        "mappings:\n"
        "  fetch_user: user.get_user_by_id",
    )
    phases = CommentedSeq()
    phase_id = first_phase
    ruled = {rule.name for rule in rules}
    for name, members in buckets.items():
        if not members and name not in ruled:
            continue
        phase = CommentedMap()
        phase["id"] = phase_id
        phase["name"] = name
        phase["priority"] = phase_id - first_phase + 1
        phase["rationale"] = (
            "blocked the event loop longest while the traced tests ran (longest first): "
            + ", ".join(f"{r.path} {blocking[r.path] * 1000:.0f} ms" for r in members)
            if name == MEASURED_PHASE
            else "assigned by path rule"
            if name not in ("Remaining code", "Tests")
            else ("matched no rule" if name == "Remaining code" else "tests migrate after the code they test")
        )
        files = CommentedSeq()
        for report in members:
            complexity, effort, risk = estimate(report)
            entry = CommentedMap()
            entry["path"] = report.path
            entry["complexity"] = complexity
            entry["effort_minutes"] = effort
            entry["risk"] = risk
            entry["repositories"] = _flow(list(report.repositories))
            entry["status"] = "pending"
            entry["history"] = _flow([])
            entry.fa.set_flow_style()
            files.append(entry)
        phase["files"] = files
        phases.append(phase)
        phase_id += 1
    doc["phases"] = phases
    text = dump_document(doc)
    if plan_directory is not None:
        text = f"{modeline(plan_directory)}\n{text}"
    return text


def _flow(items: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq
