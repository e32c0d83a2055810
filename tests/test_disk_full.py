"""A full disk at each write the commit path makes: one line on stderr, exit 2, nothing torn or lost.

The write helpers are made to fail with ENOSPC (a fault-injecting write), and, where this machine lets
the suite mount a small tmpfs, the same commands run on a really full file system.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import asyncmigrate.workspace.files
import asyncmigrate.workspace.transaction
from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow.apply import load_project

runner = CliRunner()
TARGET = "shop/service.py"
OTHER = "tests/test_service.py"
TOUCHED = ("shop/handlers.py", "shop/service.py", "tests/test_service.py")
REPO = Path(__file__).resolve().parents[1]


def _full(*_args: Any, **_kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture(autouse=True)
def _in_shop(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shop)


def _status(shop: Path, path: str = TARGET) -> FileStatus:
    entry = load_plan(shop / "migration_plan.yaml").entry(path)
    assert entry is not None
    return entry.status


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def _temp_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tmp"))


def test_a_call_graph_cache_that_cannot_be_written_is_not_written(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write = asyncmigrate.workspace.files.write_atomic

    def cache_full(path: Path, data: bytes, **kwargs: Any) -> None:
        if "cache" in path.parts:
            _full()
        write(path, data, **kwargs)

    monkeypatch.setattr(asyncmigrate.workspace.files, "write_atomic", cache_full)
    plan = load_plan(shop / "migration_plan.yaml")

    project = load_project(plan)

    assert "shop/service.py" in project.index
    assert not (shop / ".asyncmigrate/cache").exists() or not any((shop / ".asyncmigrate/cache").iterdir())
    assert _temp_files(shop) == []


def test_the_lock_on_a_full_disk_is_one_line_and_leaves_no_lock(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_before = (shop / "migration_plan.yaml").read_bytes()
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", _full)

    result = runner.invoke(app, ["mark", OTHER, "--status", "skipped", "--reason", "r"])

    assert result.exit_code == 2
    line = _one_error_line(result.stderr)
    assert "could not create the lock" in line and "No space left on device" in line and "nothing was changed" in line
    assert not (shop / ".asyncmigrate/apply.lock").exists()
    assert _temp_files(shop) == []
    assert (shop / "migration_plan.yaml").read_bytes() == plan_before
    monkeypatch.setattr(os, "fsync", fsync)
    assert runner.invoke(app, ["mark", OTHER, "--status", "skipped", "--reason", "r"]).exit_code == 0


def test_the_plan_save_on_a_full_disk_is_recorded_by_the_next_command(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = asyncmigrate.workspace.files.write_atomic

    def plan_full(path: Path, data: bytes, **kwargs: Any) -> None:
        if path.name == "migration_plan.yaml":
            _full()
        write(path, data, **kwargs)

    before = {p: (shop / p).read_bytes() for p in TOUCHED}
    monkeypatch.setattr(asyncmigrate.workspace.files, "write_atomic", plan_full)

    result = runner.invoke(app, ["apply", TARGET, "--no-test", "--no-diff"])

    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "the files are written (transaction" in errors[0]
    assert "could not write" in errors[0] and "migration_plan.yaml (No space left on device)" in errors[0]
    assert "the next apply, rollback or mark records it" in errors[0]
    assert all((shop / p).read_bytes() != before[p] for p in TOUCHED)
    assert _status(shop) is FileStatus.PENDING  # for now: the plan could not be written

    refused = runner.invoke(app, ["mark", OTHER, "--status", "skipped", "--reason", "r"])
    assert refused.exit_code == 2
    assert "could not write" in _one_error_line(refused.stderr)

    monkeypatch.setattr(asyncmigrate.workspace.files, "write_atomic", write)
    settled = runner.invoke(app, ["mark", OTHER, "--status", "skipped", "--reason", "r"])

    assert settled.exit_code == 0, settled.output
    assert _status(shop) is FileStatus.MIGRATED
    assert _status(shop, OTHER) is FileStatus.SKIPPED
    assert _temp_files(shop) == []


def test_the_manifest_save_during_a_restore_on_a_full_disk(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p: (shop / p).read_bytes() for p in TOUCHED}
    assert runner.invoke(app, ["apply", TARGET, "--no-test", "--no-diff"]).exit_code == 0
    save = asyncmigrate.workspace.transaction._save_manifest

    def restored_full(path: Path, document: dict[str, Any]) -> None:
        if document["state"] == "restored":
            _full()
        save(path, document)

    monkeypatch.setattr(asyncmigrate.workspace.transaction, "_save_manifest", restored_full)

    result = runner.invoke(app, ["rollback", TARGET])

    assert result.exit_code == 2
    line = _one_error_line(result.stderr)
    assert "manifest.json (No space left on device)" in line and "every file was restored" in line
    assert "stays 'restoring' until the next apply, rollback or mark" in line
    assert {p: (shop / p).read_bytes() for p in TOUCHED} == before

    monkeypatch.setattr(asyncmigrate.workspace.transaction, "_save_manifest", save)
    again = runner.invoke(app, ["rollback", TARGET])

    assert again.exit_code == 0, again.output
    assert _status(shop) is FileStatus.PENDING
    assert {p: (shop / p).read_bytes() for p in TOUCHED} == before
    assert _temp_files(shop) == []


# --- a really full file system ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs, where mounting one is permitted (root with CAP_SYS_ADMIN); else the test skips."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs Linux and mount(8)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _fill(directory: Path, leave: int) -> Path:
    """Fill the file system holding ``directory`` but for ``leave`` bytes."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )


# From "no room for the lock" through "no room for the backups" and "no room for the manifest or the
# plan" (about 40 KiB for this fixture) to "room enough".
@pytest.mark.integration
@pytest.mark.parametrize("leave_kib", [0, 16, 32, 36, 40, 42, 44, 48, 96])
def test_apply_and_rollback_on_a_really_full_disk(small_disk: Path, leave_kib: int) -> None:
    root = small_disk / "shop"
    shutil.copytree(REPO / "tests/assets/shop", root)
    before = {p: (root / p).read_bytes() for p in TOUCHED}
    filler = _fill(small_disk, leave_kib * 1024)

    applied = _cli(root, "apply", TARGET, "--no-test", "--no-diff")
    rolled = _cli(root, "rollback", TARGET) if applied.returncode == 0 else None

    for run in (applied, rolled):
        if run is None:
            continue
        assert run.returncode in (0, 2), run.stderr
        assert "Traceback" not in run.stderr
        if run.returncode == 2:
            assert len([line for line in run.stderr.splitlines() if line.startswith("error:")]) == 1, run.stderr
    filler.unlink()
    settled = _cli(root, "mark", OTHER, "--status", "skipped", "--reason", "settle")
    assert settled.returncode == 0, settled.stderr
    now = {p: (root / p).read_bytes() for p in TOUCHED}
    status = _status(root)
    if now == before:
        assert status in (FileStatus.PENDING, FileStatus.FAILED)
    else:
        assert all(now[p] != before[p] for p in TOUCHED), "a transaction half applied"
        assert status is FileStatus.MIGRATED
    assert _temp_files(root) == []
    assert not (root / ".asyncmigrate/apply.lock").exists()
