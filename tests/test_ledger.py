"""Doubts stop the write, and modules resolve the way Python resolves them (issue 10, items 1 and 3).

The fixture is ``tests/assets/ledger``: a ``src/`` layout with its own tests and plan (see its README).
Each test copies it to a temporary directory. Where an apply writes, the fixture's own suite runs under
``-W error::RuntimeWarning``, so a coroutine left un-awaited fails it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import scan
from asyncmigrate.checks.check import ACCEPTED_DOUBT, check
from asyncmigrate.config.plan import load_plan
from asyncmigrate.reporting.json_report import to_json
from asyncmigrate.reporting.markdown import to_markdown
from asyncmigrate.reporting.model import build_report
from asyncmigrate.reporting.sarif import to_sarif
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow.apply import apply_files, compute_change

ASSETS = Path(__file__).parent / "assets"
PLAN = "migration_plan.yaml"
RUN_TESTS = f"test_command: [{sys.executable}, -W, 'error::RuntimeWarning', -m, pytest, -q, -p, no:cacheprovider]"

# target -> its blockers: (file, line, kind, chain from the function gaining an await to the blocked place)
BLOCKERS = {
    "src/ledger/accounts.py": [],
    "src/ledger/rates.py": [
        ("src/ledger/legacy/fx.py", 4, "excluded_file", ("ledger.rates.rate", "ledger.legacy.fx.convert")),
    ],
    "src/ledger/fees.py": [
        (
            "src/ledger/drafts/fee_notes.py",
            5,
            "unreadable_module",
            ("ledger.fees.fee", "src/ledger/drafts/fee_notes.py"),
        ),
    ],
    "src/ledger/postings.py": [
        (
            "src/ledger/batch.py",
            13,
            "doubt_unknown_receiver",
            ("ledger.postings.Poster.post", "ledger.batch.run_batch"),
        ),
    ],
    "src/ledger/transfers.py": [
        ("src/ledger/dispatch.py", 12, "doubt_getattr", ("ledger.transfers.Transfers.move", "ledger.dispatch.perform")),
    ],
    "src/ledger/closing.py": [
        (
            "src/ledger/period.py",
            6,
            "doubt_several_candidates",
            ("ledger.closing.Closer.close", "ledger.period.end_period"),
        ),
    ],
}
DOUBTS = ["src/ledger/postings.py", "src/ledger/transfers.py", "src/ledger/closing.py"]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    root = tmp_path / "ledger"
    shutil.copytree(ASSETS / "ledger", root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    plan = root / PLAN
    plan.write_text(plan.read_text().replace("test_command: [python, -m, pytest, -q, -p, no:cacheprovider]", RUN_TESTS))
    return root


def fingerprints(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.py"))
        if ".asyncmigrate" not in p.parts and "__pycache__" not in p.parts
    }


def accept(root: Path, *items: str) -> None:
    plan = root / PLAN
    plan.write_text(plan.read_text() + "accepted_doubts:\n" + "".join(f"  - {item}\n" for item in items))


def suite_passes(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_blocker_is_exact(ledger: Path) -> None:
    plan = load_plan(ledger / PLAN)
    found = {}
    for target in BLOCKERS:
        change = compute_change(plan, [target], use_cache=False)
        found[target] = [(b.path, b.line, b.kind, b.chain) for b in change.blockers]
    assert found == BLOCKERS


def test_src_layout_package_and_312_caller_are_propagated(ledger: Path) -> None:
    shadowed = (ledger / "src/ledger/fmt.py").read_bytes()
    _, [result] = apply_files(load_plan(ledger / PLAN), ["src/ledger/accounts.py"])
    assert result.change.blockers == [] and result.status is FileStatus.VERIFIED, result.test_output
    # ``from ledger.accounts import balance`` in src/ledger/api.py is followed: the root is src/
    assert (
        'return {"account": account, "balance": await balance(account)}' in (ledger / "src/ledger/api.py").read_text()
    )
    # the package ledger/fmt/ is what Python imports; ledger/fmt.py beside it stays as it was
    assert "amount = await balance(account)" in (ledger / "src/ledger/fmt/__init__.py").read_text()
    assert (ledger / "src/ledger/fmt.py").read_bytes() == shadowed
    # the Python 3.12 module is read through LibCST, and its call is awaited
    summary = (ledger / "src/ledger/summary.py").read_text()
    assert "async def headline(account: str, labels: dict[str, str]) -> str:" in summary
    assert "amount: Amount = await balance(account)" in summary
    assert 'return f"{labels["total"]}: {amount}"' in summary
    run = suite_passes(ledger)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("target", ["src/ledger/rates.py", "src/ledger/fees.py", *DOUBTS])
def test_a_blocked_file_writes_nothing(ledger: Path, target: str) -> None:
    before = fingerprints(ledger)
    plan, [result] = apply_files(load_plan(ledger / PLAN), [target])
    assert result.status is FileStatus.BLOCKED and not result.written
    assert fingerprints(ledger) == before
    [event] = load_plan(ledger / PLAN).entry(target).history  # type: ignore[union-attr]
    [(path, line, kind, chain)] = BLOCKERS[target]
    assert [(b["path"], b["line"], b["kind"], tuple(b["chain"])) for b in event["blockers"]] == [
        (path, line, kind, chain)
    ]
    if kind.startswith("doubt_"):
        assert f'accepted_doubts: [{{at: "{path}:{line}", reason: "..."}}]' in event["blockers"][0]["fix"]


ACCEPTANCES = {
    "src/ledger/postings.py": '{at: "src/ledger/batch.py:13", reason: "run_batch is only given a Journal"}',
    "src/ledger/transfers.py": (
        '{pattern: "ledger.dispatch.* -> ledger.transfers.Transfers.*", reason: "perform drives Simulators only"}'
    ),
    "src/ledger/closing.py": '{at: "src/ledger/period.py:6", reason: "end_period only receives Archivers"}',
}


@pytest.mark.parametrize("target", DOUBTS)
def test_an_accepted_doubt_is_written_recorded_and_kept_visible(ledger: Path, target: str) -> None:
    [(path, line, kind, _)] = BLOCKERS[target]
    accept(ledger, ACCEPTANCES[target])
    plan, [result] = apply_files(load_plan(ledger / PLAN), [target])
    assert result.change.blockers == []
    assert result.status is FileStatus.VERIFIED, result.test_output
    assert target in [e.path for e in result.change.changed]
    # recorded in the history of the apply that accepted it
    apply_event = next(e for e in plan.entry(target).history if e.get("event") == "apply")  # type: ignore[union-attr]
    [recorded] = apply_event["accepted_doubts"]
    assert (recorded["path"], recorded["line"], recorded["kind"]) == (path, line, kind)
    # check lists it as a finding of its own, which does not fail the gate
    result_check = check(plan, use_cache=False)
    accepted = [(f.path, f.line) for f in result_check.findings if f.kind == ACCEPTED_DOUBT]
    assert accepted == [(path, line)]
    assert result_check.ok, [str(f) for f in result_check.findings]
    # report lists it, in markdown and JSON
    report = build_report(plan, scan(ledger, FacadeSpec.from_plan(plan), plan=plan, use_cache=False))
    document = to_json(report)
    assert [(d["path"], d["line"], d["kind"]) for d in document["accepted_doubts"]] == [(path, line, kind)]
    schema = json.loads((Path(__file__).parents[1] / "asyncmigrate/schemas/report.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert "### Accepted doubts" in to_markdown(report)
    notes = [r for r in to_sarif(report)["runs"][0]["results"] if r["ruleId"] == "accepted-doubt"]
    assert [n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in notes] == [line]
    run = suite_passes(ledger)
    assert run.returncode == 0, run.stdout + run.stderr


def test_check_keeps_an_accepted_doubt_until_the_code_no_longer_has_it(ledger: Path) -> None:
    accept(ledger, ACCEPTANCES["src/ledger/postings.py"])
    plan, _ = apply_files(load_plan(ledger / PLAN), ["src/ledger/postings.py"], run_tests=False)
    batch = ledger / "src/ledger/batch.py"
    # a line added above the call: still the same accepted doubt (matched through the history)
    batch.write_text("# moved down a line\n" + batch.read_text())
    plan = load_plan(ledger / PLAN)
    assert [(f.path, f.line) for f in check(plan, use_cache=False).findings if f.kind == ACCEPTED_DOUBT] == [
        ("src/ledger/batch.py", 14)
    ]
    # the receiver gets a type the graph follows (a Journal): the doubt, and the finding, are gone
    batch.write_text(batch.read_text().replace("def run_batch(poster, rows", "def run_batch(poster: Journal, rows"))
    assert [f for f in check(plan, use_cache=False).findings if f.kind == ACCEPTED_DOUBT] == []


def test_apply_all_from_the_command_line_blocks_with_one_line_each_and_no_traceback(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from asyncmigrate.cli import app

    monkeypatch.chdir(ledger)
    result = CliRunner().invoke(app, ["apply", "--all", "--no-test"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for target, [(path, line, kind, _)] in ((t, b) for t, b in BLOCKERS.items() if b):
        assert f"{path}:{line} {kind}" in result.output, target
    statuses = {e.path: e.status for e in load_plan(ledger / PLAN).entries()}
    assert statuses == {
        target: FileStatus.MIGRATED if not blockers else FileStatus.BLOCKED for target, blockers in BLOCKERS.items()
    }
