"""`report` in every format, on the shop (fresh and with a history) and on the repository's own plan."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from asyncmigrate.checks.check import MIGRATED_FILE_CALLS_FACADE, check, scan_plan
from asyncmigrate.config.plan import PlanEntry, load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.reporting.json_report import to_json
from asyncmigrate.reporting.junit import to_junit
from asyncmigrate.reporting.markdown import text_bar, to_markdown
from asyncmigrate.reporting.model import Report, build_report, files_per_day, trend
from asyncmigrate.reporting.report import render_report, write_report
from asyncmigrate.reporting.sarif import to_sarif
from asyncmigrate.types import FileStatus
from tests.sarif_helpers import validate_sarif

REPO = Path(__file__).parents[1]
SCHEMAS = REPO / "asyncmigrate" / "schemas"
WHEN = "2025-03-05T12:00:00+00:00"

# The shop after a few days of `apply`: handlers.py migrated (its code rewritten), service.py blocked by
# its __init__, the tests failed once then were marked in progress by hand; YAML timestamps left unquoted
# on purpose, as people write them.
HISTORY_PHASES = """\
phases:
  - id: 1
    name: Handlers
    files:
      - path: shop/handlers.py
        effort_minutes: 10
        repositories: [user]
        status: verified
        history:
          - {when: '2025-03-01T09:00:00+00:00', event: apply, status: migrated, call_sites: 2, test_result: passed}
          - {when: 2025-03-02T10:00:00Z, event: verify, status: verified}
  - id: 2
    name: Services | core
    files:
      - path: shop/service.py
        effort_minutes: 15
        repositories: [user]
        status: blocked
        history:
          - when: '2025-03-03T08:00:00+00:00'
            event: apply
            status: blocked
            blockers:
              - path: shop/service.py
                line: 6
                kind: __init__
                chain: [AccountService.rename, AccountService.__init__]
                fix: create the repository in an async factory
              - {path: shop/handlers.py, line: 13, kind: callback, chain: rename_user, fix: null}
      - path: tests/test_service.py
        effort_minutes: 10
        repositories: [user]
        status: failed
        history:
          - {when: '2025-03-04T08:00:00+00:00', event: apply, status: migrated, call_sites: 2}
          - {when: '2025-03-04T08:01:00+00:00', event: test, status: failed, restored: 20250304-080000,
             test_result: {passed: false, returncode: 1, modules: 1},
             output_tail: "FAILED tests/test_service.py::test_rename"}
"""

MIGRATED_HANDLERS = """\
from shop.repos import get_user_repo
from shop.service import AccountService


async def show_user(user_id: int) -> dict[str, object]:
    user = await get_user_repo().find(user_id)
    return {"id": user_id, "name": user.name if user else None}


def rename_user(user_id: int, name: str) -> bool:
    return AccountService().rename(user_id, name) is not None
"""


def _report(plan_path: Path) -> Report:
    plan = load_plan(plan_path, check_files=False)
    return build_report(plan, scan_plan(plan, use_cache=False), generated_at=WHEN)


@pytest.fixture
def history(shop: Path) -> Path:
    plan = shop / "migration_plan.yaml"
    text = plan.read_text()
    plan.write_text(text[: text.index("phases:")] + HISTORY_PHASES)
    (shop / "shop" / "handlers.py").write_text(MIGRATED_HANDLERS)
    return plan


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return schema


def _validate_sarif(document: dict[str, Any]) -> list[dict[str, Any]]:
    return validate_sarif(document)


# --- the fresh shop --------------------------------------------------------------------------------


def test_fresh_shop_markdown_has_the_table_bars_and_what_is_left(shop: Path) -> None:
    text = to_markdown(_report(shop / "migration_plan.yaml"))
    assert "**0/3 files finished** `░░░░░░░░░░░░░░░░░░░░` 0%" in text
    assert "**7** facade call sites left, **1** blocking the event loop" in text
    assert "| 1 · Handlers | `░░░░░░░░░░` 0% | 0/1 | 0 | 0 | 0 | 1 | 0 | 2 | 1 | 0.2 h |" in text
    assert "| **all phases** | `░░░░░░░░░░` 0% | 0/3 | 0 | 0 | 0 | 3 | 0 | 7 | 1 | 0.6 h |" in text
    assert "_No file has been migrated yet" in text
    left = text[text.index("### What is left") :]
    assert "- `shop/handlers.py` — pending · 2 call sites · 1 blocking · 10 min" in left
    assert "- `tests/test_service.py` — pending · 2 call sites · 10 min" in left
    # every table row has as many cells as its header
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len({line.count(" | ") for line in rows}) == 1


def test_fresh_shop_json_follows_the_schema(shop: Path) -> None:
    document = to_json(_report(shop / "migration_plan.yaml"))
    jsonschema.validate(document, _schema("report"))
    totals = document["totals"]
    assert (totals["files"], totals["finished"], totals["call_sites"], totals["blocking"]) == (3, 0, 7, 1)
    assert totals["counts"]["pending"] == 3 and totals["effort_remaining_hours"] == round(35 / 60, 2)
    assert document["trend"] == [] and document["blockers"] == [] and document["unplanned"] == []
    first = document["call_sites"][0]
    assert (first["path"], first["line"], first["column"], first["phase"], first["status"]) == (
        "shop/handlers.py",
        8,
        11,
        1,
        "pending",
    )


def test_fresh_shop_junit_skips_every_pending_file(shop: Path) -> None:
    root = ET.fromstring(to_junit(_report(shop / "migration_plan.yaml")))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "0", "3")
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("Phase 1 - Handlers", "shop/handlers.py"),
        ("Phase 2 - Services", "shop/service.py"),
        ("Phase 2 - Services", "tests/test_service.py"),
    ]
    skipped = cases[0].find("skipped")
    assert skipped is not None and skipped.get("message") == "pending: 2 facade call sites (1 blocking), 10 min"


def test_fresh_shop_sarif_has_each_call_site_and_no_fix_unless_asked(shop: Path) -> None:
    results = _validate_sarif(to_sarif(_report(shop / "migration_plan.yaml")))
    assert len(results) == 7
    assert [r["ruleId"] for r in results].count("blocking-facade-call") == 1
    # fixes cost a whole `apply --dry-run` per file: only `report --fixes` computes them (tests/test_sarif.py)
    assert not any("fixes" in r for r in results)
    first = results[0]["locations"][0]["physicalLocation"]
    assert first == {
        "artifactLocation": {"uri": "shop/handlers.py", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 8, "startColumn": 12},
    }


# --- the shop with a history ---------------------------------------------------------------------------


def test_history_markdown_shows_blockers_failures_and_the_trend(history: Path) -> None:
    text = to_markdown(_report(history))
    assert "**1/3 files finished**" in text
    assert "| 1 · Handlers | `██████████` 100% | 1/1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0.0 h |" in text
    assert "| 2 · Services \\| core |" in text  # a pipe in a phase name does not break the table
    blockers = text[text.index("### Blockers") :]
    assert (
        "| `shop/service.py:6` | __init__ | `shop/service.py` | AccountService.rename → AccountService.__init__ "
        "| create the repository in an async factory |"
    ) in blockers
    assert "| `shop/handlers.py:13` | callback | `shop/service.py` | rename_user |  |" in blockers
    assert "- `tests/test_service.py` (failed): tests failed (returncode: 1, modules: 1)" in text
    assert "| 2025-03-01 | 1 | 1 | 0 | 0 |" in text  # first migrated on the 1st; verifying it later is no new file
    assert "| 2025-03-02 |" not in text
    assert "| 2025-03-03 | 0 | 1 | 0 | 1 |" in text and "| 2025-03-04 | 0 | 1 | 1 | 0 |" in text
    left = text[text.index("### What is left") :]
    assert "- `shop/handlers.py`" not in left
    assert "blocked at shop/service.py:6, shop/handlers.py:13" in left


def test_history_json_carries_blockers_and_last_events(history: Path) -> None:
    document = to_json(_report(history))
    jsonschema.validate(document, _schema("report"))
    assert document["totals"]["counts"] == {
        "pending": 0,
        "in_progress": 0,
        "migrated": 0,
        "verified": 1,
        "failed": 1,
        "blocked": 1,
        "skipped": 0,
    }
    assert [(b["path"], b["line"], b["kind"], b["chain"]) for b in document["blockers"]] == [
        ("shop/service.py", 6, "__init__", ["AccountService.rename", "AccountService.__init__"]),
        ("shop/handlers.py", 13, "callback", ["rename_user"]),
    ]
    handlers = document["phases"][0]["entries"][0]
    assert handlers["call_sites"] == 0 and handlers["regressed"] is False
    assert handlers["last_event"] == {"when": "2025-03-02T10:00:00+00:00", "event": "verify", "status": "verified"}
    # verifying handlers.py on the 2nd is no new file, and no failure or block: no point that day
    assert [(p["date"], p["cumulative"]) for p in document["trend"]] == [
        ("2025-03-01", 1),
        ("2025-03-03", 1),
        ("2025-03-04", 1),
    ]


def test_history_junit_fails_blocked_and_failed_files(history: Path) -> None:
    root = ET.fromstring(to_junit(_report(history)))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "2", "0")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert list(cases["shop/handlers.py"]) == []  # verified: passes
    blocked = cases["shop/service.py"].find("failure")
    assert blocked is not None and blocked.get("type") == "blocked"
    assert "shop/service.py:6: __init__: AccountService.rename -> AccountService.__init__" in (blocked.text or "")
    failed = cases["tests/test_service.py"].find("failure")
    assert failed is not None and failed.get("message") == "tests failed (returncode: 1, modules: 1)"
    assert "FAILED tests/test_service.py::test_rename" in (failed.text or "")
    suites = root.findall("testsuite")
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("1", "0"), ("2", "2")]


def test_history_sarif_has_each_blocker_with_its_location(history: Path) -> None:
    results = _validate_sarif(to_sarif(_report(history)))
    blockers = [r for r in results if r["ruleId"] == "migration-blocker"]
    assert [
        (
            b["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            b["locations"][0]["physicalLocation"]["region"],
        )
        for b in blockers
    ] == [("shop/service.py", {"startLine": 6}), ("shop/handlers.py", {"startLine": 13})]
    assert "Suggested fix: create the repository in an async factory" in blockers[0]["message"]["text"]
    assert len(results) - len(blockers) == 5  # service.py's 3 and the tests' 2 call sites remain


def test_a_migrated_file_calling_the_facade_again_fails_in_junit(edit_plan: Any) -> None:
    plan = edit_plan("repositories: [user], status: pending", "repositories: [user], status: migrated")
    report = _report(plan)
    case = next(c for c in ET.fromstring(to_junit(report)).iter("testcase") if c.get("name") == "shop/handlers.py")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "regressed"
    assert "shop/handlers.py:8: database.fetch_user()" in (failure.text or "")
    # handlers.py:17 calls vacuum, which the plan maps to null: a known leftover, not a regression
    assert "shop/handlers.py:17" not in (failure.text or "")
    assert "- `shop/handlers.py` (migrated): 1 facade call sites came back" in to_markdown(report)
    assert to_json(report)["phases"][0]["entries"][0]["regressed"] is True


def test_files_outside_the_plan_are_listed(shop: Path) -> None:
    (shop / "shop" / "reports.py").write_text("from shop.db import get_db\n\nasync def r():\n    get_db().vacuum()\n")
    report = _report(shop / "migration_plan.yaml")
    assert "- `shop/reports.py`: 1 call sites, 1 blocking" in to_markdown(report)
    document = to_json(report)
    assert document["unplanned"] == [{"path": "shop/reports.py", "call_sites": 1, "blocking": 1}]
    assert document["totals"]["unplanned_call_sites"] == 1
    sarif = _validate_sarif(to_sarif(report))
    assert any("(not in the plan)" in r["message"]["text"] for r in sarif)


def test_a_deleted_planned_file_does_not_stop_the_report(shop: Path) -> None:
    (shop / "shop" / "service.py").unlink()
    document = to_json(_report(shop / "migration_plan.yaml"))
    jsonschema.validate(document, _schema("report"))
    assert document["totals"]["call_sites"] == 4


# --- pieces --------------------------------------------------------------------------------------------


def _entry(path: str, status: FileStatus, *history: dict[str, Any]) -> PlanEntry:
    return PlanEntry(path=path, phase=1, status=status, history=history)


def test_trend_counts_files_that_stay_done_once_and_reads_any_timestamp() -> None:
    migrated, verified, failed = FileStatus.MIGRATED, FileStatus.VERIFIED, FileStatus.FAILED
    points = trend(
        [
            _entry(
                "a.py",
                verified,
                {"when": datetime(2025, 1, 2, 23, 30, tzinfo=UTC), "status": "migrated"},
                {"when": "2025-01-05T08:00:00+00:00", "status": "verified"},  # the same file, not a new one
            ),
            _entry("b.py", migrated, {"when": "2025-01-03T01:00:00+02:00", "status": "migrated"}),  # 2 Jan in UTC
            _entry("c.py", migrated, {"when": "not a date", "status": "migrated"}),
            _entry("d.py", failed, {"when": "2025-01-04", "action": "mark", "status": "failed", "reason": "flaky"}),
            # apply records migrated, then the tests fail and it is rolled back: no progress
            _entry(
                "e.py",
                failed,
                {"when": "2025-01-06T10:00:00Z", "status": "migrated"},
                {"when": "2025-01-06T10:01:00Z", "status": "failed"},
            ),
            # failed first, migrated again later: counts on the later day
            _entry(
                "f.py",
                verified,
                {"when": "2025-01-01T10:00:00Z", "status": "migrated"},
                {"when": "2025-01-01T10:01:00Z", "status": "failed"},
                {"when": "2025-01-03T10:00:00Z", "status": "migrated"},
                {"when": "2025-01-03T10:01:00Z", "status": "verified"},
            ),
        ]
    )
    assert [(p.date, p.done, p.failed, p.cumulative) for p in points] == [
        ("2025-01-01", 0, 1, 0),
        ("2025-01-02", 2, 0, 2),
        ("2025-01-03", 1, 0, 3),
        ("2025-01-04", 0, 1, 3),
        ("2025-01-06", 0, 1, 3),
    ]
    assert files_per_day(points) == pytest.approx(3 / 6)
    assert files_per_day(()) is None


def test_text_bar() -> None:
    assert text_bar(2, 5, 10) == "`████░░░░░░` 40%"
    assert text_bar(0, 0, 4) == "`████` 100%"  # an empty phase has nothing left


def test_unknown_format_and_unwritable_output_are_user_errors(shop: Path, tmp_path: Path) -> None:
    report = _report(shop / "migration_plan.yaml")
    with pytest.raises(AsyncMigrateError, match="unknown report format 'html'"):
        render_report(report, "html")
    with pytest.raises(AsyncMigrateError, match="fixes are a SARIF feature"):
        render_report(report, "markdown", fixes={})
    with pytest.raises(AsyncMigrateError, match="cannot write the report"):
        write_report(tmp_path / "missing" / "report.md", "x")


# --- the repository's own plan (read-only) --------------------------------------------------------------


@pytest.fixture(scope="module")
def repo_report() -> Report:
    plan = load_plan(REPO / "migration_plan.yaml", check_files=False)
    return build_report(plan, scan_plan(plan, use_cache=False), generated_at=WHEN)


def test_repository_report_in_every_format(repo_report: Report) -> None:
    planned = list(repo_report.plan.entries())
    calls = repo_report.calls

    markdown = render_report(repo_report, "markdown")
    for phase in repo_report.plan.phases:
        assert f"| {phase.id} · {phase.name} |" in markdown
    assert f"**{len(calls)}** facade call sites left" in markdown

    document = json.loads(render_report(repo_report, "json"))
    jsonschema.validate(document, _schema("report"))
    assert document["totals"]["files"] == len(planned)
    assert len(document["call_sites"]) == document["totals"]["call_sites"] == len(calls)

    root = ET.fromstring(render_report(repo_report, "junit"))
    assert int(root.get("tests", "-1")) == len(planned) == len(list(root.iter("testcase")))
    finished = sum(1 for e in planned if e.status in (FileStatus.MIGRATED, FileStatus.VERIFIED))
    outcomes = int(root.get("failures", "0")) + int(root.get("skipped", "0"))
    assert outcomes == len(planned) - finished + sum(1 for f in repo_report.files if f.regressed)

    results = _validate_sarif(json.loads(render_report(repo_report, "sarif")))
    assert len(results) == len(calls) + len(repo_report.blockers)
    assert sum(1 for r in results if r["ruleId"] == "blocking-facade-call") == repo_report.blocking
    assert not any("fixes" in r for r in results)  # none unless asked for


@pytest.mark.parametrize(
    ("calls", "regressed"),
    [
        ("db.fetch_user(user_id)\n    db.vacuum()", [4]),  # mapped: a regression (line 4); mapped to null: not
        ("db.vacuum()", []),  # only a call the plan maps to null: the file is not regressed
    ],
)
def test_check_and_every_report_format_agree_on_what_a_regression_is(
    shop: Path, edit_plan: Any, calls: str, regressed: list[int]
) -> None:
    (shop / "shop" / "handlers.py").write_text(
        f"from shop.db import get_db\ndef show(user_id):\n    db = get_db()\n    {calls}\n"
    )
    plan_path = edit_plan("repositories: [user], status: pending", "repositories: [user], status: migrated")
    report = _report(plan_path)

    found = [f.line for f in check(load_plan(plan_path), use_cache=False).findings if f.path == "shop/handlers.py"]
    assert found == regressed
    handlers = next(f for f in report.files if f.path == "shop/handlers.py")
    assert [c.line for c in handlers.regressions] == regressed and handlers.regressed is bool(regressed)
    assert to_json(report)["phases"][0]["entries"][0]["regressed"] is bool(regressed)
    case = next(c for c in ET.fromstring(to_junit(report)).iter("testcase") if c.get("name") == "shop/handlers.py")
    assert (case.find("failure") is not None) is bool(regressed)
    assert ("came back" in to_markdown(report)) is bool(regressed)
    sarif = _validate_sarif(to_sarif(report))
    assert [
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in sarif
        if r["ruleId"] == MIGRATED_FILE_CALLS_FACADE
    ] == regressed
