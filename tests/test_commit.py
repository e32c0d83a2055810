"""Files and plan move together: a kill -9 at every step of `apply` and `rollback`, then the next command.

Each crash is a real SIGKILL of the CLI in a subprocess, at a named step (``ASYNCMIGRATE_CRASH_AT``, see
``asyncmigrate/workspace/faults.py``). After the next command that takes the lock, every file must be byte-identical
to before or to after the apply (all of them the same side), no temporary file may be left, and the plan
must agree with the files: migrated code under a migrated entry whose history holds the apply, original
code under a pending or failed entry.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus
from asyncmigrate.workspace.faults import CRASH_ENV

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"
TARGET = "shop/service.py"
OTHER = "tests/test_service.py"  # an entry the apply of TARGET does not migrate
TOUCHED = ("shop/handlers.py", "shop/service.py", "tests/test_service.py")
MARKER = "ASYNCMIGRATE_TEST_MARKER"
# Tests that fail, for the undo path; the paths the apply appends are ignored.
FAILING_TESTS = 'test_command: [python, -c, "import sys; sys.exit(3)"]'


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env["PYTHONPATH"] = str(REPO)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def cli(root: Path, *args: str, crash_at: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    extra = {CRASH_ENV: crash_at} if crash_at else {}
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args],
        cwd=root,
        env=_env(**extra, **env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _snapshot(root: Path) -> dict[str, bytes]:
    return {path: (root / path).read_bytes() for path in TOUCHED}


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The touched files before and after a complete `apply --no-test` of TARGET."""
    root = tmp_path_factory.mktemp("reference") / "shop"
    shutil.copytree(ASSETS / "shop", root)
    before = _snapshot(root)
    done = cli(root, "apply", TARGET, "--no-test", "--no-diff")
    assert done.returncode == 0, done.stderr
    after = _snapshot(root)
    assert all(before[p] != after[p] for p in TOUCHED)
    return before, after


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(ASSETS / "shop", target)
    return target


def _edit_plan(root: Path, old: str, new: str) -> None:
    plan = root / "migration_plan.yaml"
    text = plan.read_text()
    assert old in text
    plan.write_text(text.replace(old, new, 1))


def _temp_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tmp"))


def assert_agree(root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]]) -> str:
    """Files all before or all after, no temp file, plan in agreement; returns "before" or "after"."""
    before, after = sides
    now = _snapshot(root)
    assert now in (before, after), {p: (now[p] == before[p], now[p] == after[p]) for p in TOUCHED}
    assert _temp_files(root) == []
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None
    if now == after:
        assert entry.status in (FileStatus.MIGRATED, FileStatus.VERIFIED), entry
        assert any(e.get("event") == "apply" for e in entry.history), entry.history
        return "after"
    assert entry.status in (FileStatus.PENDING, FileStatus.FAILED), entry
    return "before"


# The next command is `mark` of another entry: any command that takes the lock settles a crash.
NEXT = ("mark", OTHER, "--status", "skipped", "--reason", "settles the crash")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("crash_at", "side"),
    [
        ("backed-up", "before"),  # manifest written, no file yet
        ("file-written:1", "before"),  # one of three files written
        ("file-written:3", "before"),  # every file written, manifest still 'writing'
        ("committed", "after"),  # manifest 'written' with the plan step; plan not saved
        ("temp-written migration_plan.yaml:1", "after"),  # plan's temporary file written, not renamed
        ("plan-recorded:1", "after"),  # plan saved, the manifest not told
    ],
)
def test_apply_killed_at_each_step(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]], crash_at: str, side: str
) -> None:
    killed = cli(root, "apply", TARGET, "--no-test", "--no-diff", crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    settled = cli(root, *NEXT)

    assert settled.returncode == 0, settled.stderr
    assert assert_agree(root, sides) == side
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None
    if side == "after":  # recorded exactly once, however many times recovery looked at it
        assert [e["event"] for e in entry.history] == ["apply"]
    else:  # undone by recovery, and said so in the history
        assert [e["event"] for e in entry.history] == ["recover"]


def test_apply_again_after_a_crash_between_files_and_plan(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]]
) -> None:
    """The documented recovery, `apply` again, no longer says "nothing written" with the entry pending."""
    killed = cli(root, "apply", TARGET, "--no-test", "--no-diff", crash_at="committed")
    assert killed.returncode == -signal.SIGKILL

    again = cli(root, "apply", TARGET, "--no-test", "--no-diff")

    assert again.returncode == 0, again.stderr
    assert assert_agree(root, sides) == "after"


@pytest.mark.integration
@pytest.mark.parametrize(
    "crash_at",
    [
        "file-restored:1",  # the failed tests' undo, one file put back
        "files-restored",  # every file put back, manifest still 'restoring'
        "plan-recorded:2",  # the failure recorded, the manifest not told
    ],
)
def test_apply_with_failing_tests_killed_while_undoing(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]], crash_at: str
) -> None:
    _edit_plan(root, "test_command: [python, -m, pytest, -q]", FAILING_TESTS)
    killed = cli(root, "apply", TARGET, "--no-diff", crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    settled = cli(root, *NEXT)

    assert settled.returncode == 0, settled.stderr
    assert assert_agree(root, sides) == "before"
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None and entry.status is FileStatus.FAILED
    assert [e["event"] for e in entry.history] == ["apply", "test"]


@pytest.mark.integration
def test_apply_killed_while_its_tests_run(root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    killed = cli(root, "apply", TARGET, "--no-diff", crash_at="tests-started")
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    settled = cli(root, *NEXT)

    assert settled.returncode == 0, settled.stderr
    # the tests never finished: the change stays migrated (not verified), as with --no-test
    assert assert_agree(root, sides) == "after"
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None and entry.status is FileStatus.MIGRATED


@pytest.mark.integration
@pytest.mark.parametrize(
    "crash_at",
    [
        "file-restored:1",
        "file-restored:3",
        "files-restored",
        "temp-written migration_plan.yaml:1",
        "plan-recorded:1",
    ],
)
def test_rollback_killed_at_each_step(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]], crash_at: str
) -> None:
    applied = cli(root, "apply", TARGET, "--no-test", "--no-diff")
    assert applied.returncode == 0, applied.stderr
    killed = cli(root, "rollback", TARGET, crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    again = cli(root, "rollback", TARGET)

    assert again.returncode == 0, again.stderr
    assert assert_agree(root, sides) == "before"
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None and entry.status is FileStatus.PENDING
    assert [e["event"] for e in entry.history] == ["apply", "rollback"]


# --- signals, timeouts and edits made while the tests run ---------------------------------------------------


def _marked_pids(marker: str) -> list[int]:
    """Processes whose environment carries ``marker``: the CLI and everything its tests started."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{MARKER}={marker}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(proc.name))
    return found


def _wait_for(condition: object, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


# The tests start a grandchild and then wait: orphans would outlive the apply.
SLOW_TESTS = (
    'test_command: [python, -c, "import pathlib, subprocess, sys, time; '
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
    "pathlib.Path('started').touch(); time.sleep(120)\"]"
)


@pytest.fixture
def no_orphans() -> Iterator[str]:
    marker = uuid.uuid4().hex
    yield marker
    leftover = _marked_pids(marker)
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert leftover == [], "orphaned test processes"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the test processes")
def test_sigterm_during_tests_stops_them_restores_and_fails_the_entry(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]], no_orphans: str
) -> None:
    _edit_plan(root, "test_command: [python, -m, pytest, -q]", SLOW_TESTS)
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncmigrate", "apply", TARGET, "--no-diff"],
        cwd=root,
        env=_env(**{MARKER: no_orphans}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: (root / "started").exists() and len(_marked_pids(no_orphans)) >= 3)

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 128 + signal.SIGTERM
    # progress notes share stderr; the outcome is the one error line, and no traceback
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: interrupted by SIGTERM; the files of {TARGET} were restored and it is marked failed"]
    assert "Traceback" not in stderr
    assert _marked_pids(no_orphans) == []
    assert assert_agree(root, sides) == "before"
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None and entry.status is FileStatus.FAILED
    assert entry.history[-1]["reason"] == "interrupted by SIGTERM"


@pytest.mark.parametrize("where", ["option", "plan"])
def test_tests_that_hang_are_stopped_at_the_timeout(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]], no_orphans: str, where: str
) -> None:
    _edit_plan(root, "test_command: [python, -m, pytest, -q]", SLOW_TESTS)
    args = ["apply", TARGET, "--no-diff"]
    if where == "option":
        args += ["--timeout", "2"]
    else:
        _edit_plan(root, "version: 1\n", "version: 1\ntest_timeout: 2\n")

    done = cli(root, *args, **{MARKER: no_orphans})

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert _marked_pids(no_orphans) == []
    assert assert_agree(root, sides) == "before"
    entry = load_plan(root / "migration_plan.yaml").entry(TARGET)
    assert entry is not None and entry.status is FileStatus.FAILED
    assert entry.history[-1]["reason"] == "the tests did not finish within 2 s"


GATED_TESTS = (
    "test_command: [python, -c, \"import pathlib, time; pathlib.Path('started').touch(); "
    "[time.sleep(0.1) for _ in range(3000) if not pathlib.Path('go').exists()]\"]"
)


def test_edits_made_while_the_tests_run_are_kept_and_mark_is_refused(
    root: Path, sides: tuple[dict[str, bytes], dict[str, bytes]]
) -> None:
    _edit_plan(root, "test_command: [python, -m, pytest, -q]", GATED_TESTS)
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncmigrate", "apply", TARGET, "--no-diff"],
        cwd=root,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: (root / "started").exists())
        _edit_plan(root, "effort_minutes: 10, risk: low", "effort_minutes: 99, risk: low")  # shop/handlers.py
        plan_text = (root / "migration_plan.yaml").read_text()
        (root / "migration_plan.yaml").write_text("# a note written during the apply\n" + plan_text)

        refused = cli(root, *NEXT)

        assert refused.returncode == 2
        assert len(refused.stderr.strip().splitlines()) == 1
        assert "another asyncmigrate apply is running" in refused.stderr
    finally:
        (root / "go").touch()
        process.communicate(timeout=300)

    assert process.returncode == 0
    assert assert_agree(root, sides) == "after"
    text = (root / "migration_plan.yaml").read_text()
    assert text.startswith("# a note written during the apply\n")
    plan = load_plan(root / "migration_plan.yaml")
    handlers, target = plan.entry("shop/handlers.py"), plan.entry(TARGET)
    assert handlers is not None and handlers.effort_minutes == 99
    assert target is not None and target.status is FileStatus.VERIFIED
