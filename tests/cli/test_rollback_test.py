"""`asyncmigrate rollback` and `asyncmigrate test` on a copy of the shop codebase."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan, record_status
from asyncmigrate.types import FileStatus
from asyncmigrate.workspace.transaction import ApplyLock, FileChange, TransactionRecord, transactions, write_transaction

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_shop(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shop)
    # The plan says `python -m pytest`: make `python` this interpreter, which has pytest.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def _apply(shop: Path, entries: list[str], files: dict[str, bytes]) -> TransactionRecord:
    """What `apply` leaves behind: the files written as one transaction, the entries marked migrated."""
    changes = [
        FileChange(path, (shop / path).read_bytes() if (shop / path).exists() else None, data)
        for path, data in files.items()
    ]
    record = write_transaction(shop, changes, label=f"apply {' '.join(entries)}", plan_entries=entries)
    plan = load_plan(shop / "migration_plan.yaml")
    for entry in entries:
        plan = record_status(plan, entry, FileStatus.MIGRATED, {"event": "apply", "transaction": record.id})
    return record


def _entry(shop: Path, path: str) -> tuple[FileStatus, dict[str, object]]:
    entry = load_plan(shop / "migration_plan.yaml").entry(path)
    assert entry is not None
    return entry.status, entry.history[-1] if entry.history else {}


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


# --- rollback --------------------------------------------------------------------------------------------


def test_rollback_file_restores_every_file_and_sets_the_entry_pending(shop: Path) -> None:
    service = (shop / "shop/service.py").read_bytes()
    record = _apply(
        shop, ["shop/service.py"], {"shop/service.py": service + b"# migrated\n", "shop/aio/helpers.py": b"X = 1\n"}
    )

    result = runner.invoke(app, ["rollback", "shop/service.py"])

    assert result.exit_code == 0, result.output
    assert (shop / "shop/service.py").read_bytes() == service and not (shop / "shop/aio").exists()
    assert "shop/aio/helpers.py: deleted (created by the apply)" in result.output
    status, event = _entry(shop, "shop/service.py")
    assert status is FileStatus.PENDING
    assert event["event"] == "rollback" and event["transaction"] == record.id
    assert event["files_restored"] == ["shop/service.py", "shop/aio/helpers.py"]
    again = runner.invoke(app, ["rollback", "shop/service.py"])
    assert again.exit_code == 0 and "nothing to roll back" in again.output


def test_rollback_phase_restores_the_phase_newest_first(shop: Path) -> None:
    service, test = (shop / "shop/service.py").read_bytes(), (shop / "tests/test_service.py").read_bytes()
    handlers = (shop / "shop/handlers.py").read_bytes()
    first = _apply(shop, ["shop/service.py"], {"shop/service.py": service + b"# 1\n"})
    second = _apply(
        shop,
        ["tests/test_service.py"],
        {"tests/test_service.py": test + b"# 2\n", "shop/service.py": service + b"# 2\n"},
    )
    other_phase = _apply(shop, ["shop/handlers.py"], {"shop/handlers.py": handlers + b"# 3\n"})

    result = runner.invoke(app, ["rollback", "--phase", "2"])

    assert result.exit_code == 0, result.output
    assert result.output.index(second.id) < result.output.index(first.id)
    assert (shop / "shop/service.py").read_bytes() == service and (shop / "tests/test_service.py").read_bytes() == test
    assert (shop / "shop/handlers.py").read_bytes() == handlers + b"# 3\n"
    assert _entry(shop, "shop/service.py")[0] is FileStatus.PENDING
    assert _entry(shop, "tests/test_service.py")[0] is FileStatus.PENDING
    assert _entry(shop, "shop/handlers.py")[0] is FileStatus.MIGRATED
    assert {r.id: r.state for r in transactions(shop)} == {
        first.id: "restored",
        second.id: "restored",
        other_phase.id: "written",
    }


def test_rollback_refuses_when_a_later_apply_changed_the_same_file(shop: Path) -> None:
    service, handlers = (shop / "shop/service.py").read_bytes(), (shop / "shop/handlers.py").read_bytes()
    _apply(shop, ["shop/service.py"], {"shop/service.py": service + b"# 1\n"})
    _apply(shop, ["shop/handlers.py"], {"shop/handlers.py": handlers + b"# 2\n", "shop/service.py": service + b"# 2\n"})

    for extra in ([], ["--force"]):
        refused = runner.invoke(app, ["rollback", "shop/service.py", *extra])
        assert refused.exit_code == 2, refused.output
        assert (
            "also changed by the later transaction" in refused.output and "roll back shop/handlers.py" in refused.output
        )
        assert (shop / "shop/service.py").read_bytes() == service + b"# 2\n"

    assert runner.invoke(app, ["rollback", "shop/handlers.py"]).exit_code == 0
    assert runner.invoke(app, ["rollback", "shop/service.py"]).exit_code == 0
    assert (shop / "shop/service.py").read_bytes() == service and (shop / "shop/handlers.py").read_bytes() == handlers


def test_rollback_refuses_uncommitted_edits_unless_forced(shop: Path) -> None:
    service = (shop / "shop/service.py").read_bytes()
    record = _apply(shop, ["shop/service.py"], {"shop/service.py": service + b"# migrated\n"})
    edited = service + b"# migrated\n# and a hand edit\n"
    (shop / "shop/service.py").write_bytes(edited)

    refused = runner.invoke(app, ["rollback", "shop/service.py"])

    assert refused.exit_code == 2, refused.output
    assert "edited since the apply and not committed: shop/service.py" in refused.output
    assert (shop / "shop/service.py").read_bytes() == edited
    assert _entry(shop, "shop/service.py")[0] is FileStatus.MIGRATED

    forced = runner.invoke(app, ["rollback", "shop/service.py", "--force"])

    assert forced.exit_code == 0, forced.output
    assert (shop / "shop/service.py").read_bytes() == service
    assert (shop / ".asyncmigrate/backups" / record.id / "displaced/shop/service.py").read_bytes() == edited
    assert _entry(shop, "shop/service.py")[1]["displaced"] == ["shop/service.py"]


def test_rollback_goes_ahead_over_committed_edits(shop: Path) -> None:
    _git(shop, "init", "-q")
    _git(shop, "add", ".")
    _git(shop, "commit", "-q", "-m", "start")
    service = (shop / "shop/service.py").read_bytes()
    _apply(shop, ["shop/service.py"], {"shop/service.py": service + b"# migrated\n"})
    (shop / "shop/service.py").write_bytes(service + b"# migrated\n# reviewed\n")
    _git(shop, "commit", "-q", "-am", "migrate and review")  # git keeps the edit: restoring loses nothing

    result = runner.invoke(app, ["rollback", "shop/service.py"])

    assert result.exit_code == 0, result.output
    assert (shop / "shop/service.py").read_bytes() == service


def test_rollback_first_recovers_an_interrupted_apply(shop: Path) -> None:
    service = (shop / "shop/service.py").read_bytes()
    record = _apply(shop, ["shop/service.py"], {"shop/service.py": service + b"# half done\n"})
    manifest = shop / ".asyncmigrate/backups" / record.id / "manifest.json"
    document = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**document, "state": "writing"}))  # as a SIGKILL mid-apply leaves it

    result = runner.invoke(app, ["rollback", "shop/handlers.py"])

    assert result.exit_code == 0, result.output
    assert f"recovered {record.id}" in result.output and "nothing to roll back" in result.output
    assert (shop / "shop/service.py").read_bytes() == service
    status, event = _entry(shop, "shop/service.py")
    assert status is FileStatus.PENDING and event["event"] == "recover" and event["transaction"] == record.id


def test_rollback_is_refused_while_an_apply_holds_the_lock(shop: Path) -> None:
    _apply(shop, ["shop/service.py"], {"shop/service.py": b"# new\n"})
    with ApplyLock(shop):
        result = runner.invoke(app, ["rollback", "shop/service.py"])
    assert result.exit_code == 2
    assert "another asyncmigrate apply is running" in result.output
    assert (shop / "shop/service.py").read_bytes() == b"# new\n"


def test_mark_is_refused_while_an_apply_holds_the_lock(shop: Path) -> None:
    plan = (shop / "migration_plan.yaml").read_bytes()
    with ApplyLock(shop):
        result = runner.invoke(app, ["mark", "shop/handlers.py", "--status", "skipped", "--reason", "later"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "another asyncmigrate apply is running" in result.stderr
    assert (shop / "migration_plan.yaml").read_bytes() == plan


def test_mark_first_records_a_step_a_crash_left_unrecorded(shop: Path) -> None:
    service = (shop / "shop/service.py").read_bytes()
    step = {"entries": ["shop/service.py"], "status": "migrated", "event": {"event": "apply"}}
    changes = [FileChange("shop/service.py", service, service + b"# migrated\n")]
    record = write_transaction(
        shop, changes, label="apply shop/service.py", plan_entries=["shop/service.py"], plan_step=step
    )

    result = runner.invoke(app, ["mark", "shop/handlers.py", "--status", "skipped", "--reason", "later"])

    assert result.exit_code == 0, result.output
    status, event = _entry(shop, "shop/service.py")
    assert status is FileStatus.MIGRATED and event["event"] == "apply" and event["transaction"] == record.id
    assert _entry(shop, "shop/handlers.py")[0] is FileStatus.SKIPPED


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rollback"], "either FILE or --phase N"),
        (["rollback", "shop/service.py", "--phase", "2"], "either FILE or --phase N"),
        (["rollback", "shop/db.py"], "shop/db.py: not in migration_plan.yaml"),
        (["rollback", "--phase", "7"], "no phase 7"),
        (["test", "shop/nope.py"], "no such file: shop/nope.py"),
        (["test", "shop/service.py", "--timeout", "0"], "--timeout must be a positive number"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


# --- test ------------------------------------------------------------------------------------------------


def test_test_runs_the_tests_that_cover_a_file() -> None:
    result = runner.invoke(app, ["test", "shop/service.py"])

    assert result.exit_code == 0, result.output
    assert "tests: tests/test_service.py" in result.output
    assert "command: python -m pytest -q tests/test_service.py" in result.output
    assert "passed" in result.output


def test_test_fails_with_the_output_tail(shop: Path) -> None:
    test = shop / "tests/test_service.py"
    test.write_text(test.read_text() + '\n\ndef test_broken() -> None:\n    assert False, "rename broke"\n')

    result = runner.invoke(app, ["test", "shop/service.py"])

    assert result.exit_code == 1, result.output
    assert "rename broke" in result.output and "failed (exit code 1)" in result.output


def test_test_without_covering_tests_runs_nothing() -> None:
    result = runner.invoke(app, ["test", "shop/handlers.py"])

    assert result.exit_code == 0, result.output
    assert "no tests cover these files; nothing was run" in result.output


def test_test_with_a_missing_test_command_exits_2(edit_plan: Callable[[str, str], Path]) -> None:
    edit_plan("test_command: [python, -m, pytest, -q]", "test_command: [no-such-tool]")

    result = runner.invoke(app, ["test", "shop/service.py"])

    assert result.exit_code == 2
    assert "test command not found: no-such-tool" in result.output
