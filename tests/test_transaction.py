"""The apply transaction: exact bytes, backups, restore, crash recovery, the lock and the dirty-tree check."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workspace import transaction as transaction_module
from asyncmigrate.workspace.transaction import (
    ApplyLock,
    FileChange,
    dirty_files,
    edited_since,
    foreign_edits,
    git_dirty,
    recover,
    restore,
    transactions,
    transactions_for,
    write_transaction,
)

BACKUPS = Path(".asyncmigrate") / "backups"

# Bytes that a text-mode round trip would damage: CRLF line ends, tabs, a latin-1 coding cookie with
# a non-UTF-8 byte, no newline at the end.
CRLF = b"def f():\r\n\treturn 1\r\n"
CRLF_AFTER = b"async def f():\r\n\treturn 1\r\n"
COOKIE = b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n"
COOKIE_AFTER = b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9!'\n\tx = 1"


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def _manifest(root: Path, transaction_id: str) -> dict[str, object]:
    document: dict[str, object] = json.loads((root / BACKUPS / transaction_id / "manifest.json").read_text())
    return document


def _changes(root: Path, after: dict[str, bytes]) -> list[FileChange]:
    return [
        FileChange(path, (root / path).read_bytes() if (root / path).exists() else None, data)
        for path, data in after.items()
    ]


def test_write_then_restore_keeps_exact_bytes_and_deletes_new_files(tmp_path: Path) -> None:
    _tree(tmp_path, {"pkg/crlf.py": CRLF, "pkg/cookie.py": COOKIE})
    changes = _changes(
        tmp_path, {"pkg/crlf.py": CRLF_AFTER, "pkg/cookie.py": COOKIE_AFTER, "pkg/new/deep/made.py": b"x = 1\r\n"}
    )
    written: list[str] = []
    record = write_transaction(
        tmp_path, changes, label="apply pkg/crlf.py", plan_entries=["pkg/crlf.py"], on_file_written=written.append
    )

    assert written == ["pkg/crlf.py", "pkg/cookie.py", "pkg/new/deep/made.py"]
    assert (tmp_path / "pkg/crlf.py").read_bytes() == CRLF_AFTER
    assert (tmp_path / "pkg/cookie.py").read_bytes() == COOKIE_AFTER
    assert (tmp_path / "pkg/new/deep/made.py").read_bytes() == b"x = 1\r\n"
    assert record.state == "written" and record.label == "apply pkg/crlf.py"
    assert record.plan_entries == ("pkg/crlf.py",) and record.new_files == ("pkg/new/deep/made.py",)
    backup = tmp_path / BACKUPS / record.id / "files"
    assert (backup / "pkg/crlf.py").read_bytes() == CRLF and (backup / "pkg/cookie.py").read_bytes() == COOKIE
    assert (tmp_path / ".asyncmigrate/.gitignore").read_text() == "*\n"
    assert _manifest(tmp_path, record.id)["state"] == "written"

    restored = restore(tmp_path, record.id)

    assert restored.state == "restored" and restored.displaced == ()
    assert (tmp_path / "pkg/crlf.py").read_bytes() == CRLF
    assert (tmp_path / "pkg/cookie.py").read_bytes() == COOKIE
    assert not (tmp_path / "pkg/new").exists()  # the file and the directories the apply made
    assert _manifest(tmp_path, record.id)["state"] == "restored"


def test_restore_is_idempotent_and_leaves_later_edits_alone(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"old\n"})
    record = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"new\n"}), label="t", plan_entries=[])
    restore(tmp_path, record.id)
    (tmp_path / "a.py").write_bytes(b"edited after the rollback\n")

    again = restore(tmp_path, record.id)

    assert again.state == "restored"
    assert (tmp_path / "a.py").read_bytes() == b"edited after the rollback\n"


def test_restore_finishes_an_interrupted_restore(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a0", "b.py": b"b0"})
    record = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"a1", "b.py": b"b1"}), label="t", plan_entries=[])
    (tmp_path / "a.py").write_bytes(b"a0")  # as if a restore had been killed after its first file

    restore(tmp_path, record.id)

    assert (tmp_path / "a.py").read_bytes() == b"a0" and (tmp_path / "b.py").read_bytes() == b"b0"


def test_restore_keeps_edits_made_after_the_apply(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"old\n", "b.py": b"b\n"})
    record = write_transaction(
        tmp_path, _changes(tmp_path, {"a.py": b"new\n", "b.py": b"b2\n"}), label="t", plan_entries=[]
    )
    (tmp_path / "a.py").write_bytes(b"new\nplus a hand edit\n")
    (tmp_path / "b.py").unlink()  # a deleted file holds no one's work

    assert edited_since(tmp_path, record.id) == ["a.py"]
    restored = restore(tmp_path, record.id)

    assert restored.displaced == ("a.py",)
    assert (tmp_path / "a.py").read_bytes() == b"old\n" and (tmp_path / "b.py").read_bytes() == b"b\n"
    displaced = tmp_path / BACKUPS / record.id / "displaced" / "a.py"
    assert displaced.read_bytes() == b"new\nplus a hand edit\n"
    assert edited_since(tmp_path, record.id) == []


def test_file_modes_are_kept(tmp_path: Path) -> None:
    _tree(tmp_path, {"run.py": b"#!/usr/bin/env python\n"})
    os.chmod(tmp_path / "run.py", 0o750)
    changes = _changes(tmp_path, {"run.py": b"#!/usr/bin/env python\nimport asyncio\n", "fresh.py": b""})
    record = write_transaction(tmp_path, changes, label="t", plan_entries=[])
    mask = os.umask(0)
    os.umask(mask)

    assert stat.S_IMODE((tmp_path / "run.py").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "fresh.py").stat().st_mode) == 0o666 & ~mask
    restore(tmp_path, record.id)
    assert stat.S_IMODE((tmp_path / "run.py").stat().st_mode) == 0o750


def test_writes_through_a_symlink(tmp_path: Path) -> None:
    _tree(tmp_path, {"real/mod.py": b"old"})
    (tmp_path / "link.py").symlink_to(tmp_path / "real/mod.py")
    record = write_transaction(tmp_path, _changes(tmp_path, {"link.py": b"new"}), label="t", plan_entries=[])

    assert (tmp_path / "link.py").is_symlink() and (tmp_path / "real/mod.py").read_bytes() == b"new"
    restore(tmp_path, record.id)
    assert (tmp_path / "link.py").is_symlink() and (tmp_path / "real/mod.py").read_bytes() == b"old"


def test_refuses_files_changed_since_the_change_was_computed(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a", "b.py": b"b"})
    changes = [FileChange("a.py", b"a", b"A"), FileChange("b.py", b"stale view of b", b"B")]

    with pytest.raises(AsyncMigrateError, match="changed on disk since the change was computed.*b.py"):
        write_transaction(tmp_path, changes, label="t", plan_entries=[])
    assert (tmp_path / "a.py").read_bytes() == b"a" and transactions(tmp_path) == []
    with pytest.raises(AsyncMigrateError, match="nothing written: a.py"):  # None means absent, and it is not
        write_transaction(tmp_path, [FileChange("a.py", None, b"x")], label="t", plan_entries=[])


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.py", "a/../b.py", "", "a\\b.py", ".asyncmigrate/x"])
def test_refuses_paths_that_are_not_plain_relative_paths(tmp_path: Path, path: str) -> None:
    with pytest.raises(AsyncMigrateError):
        write_transaction(tmp_path, [FileChange(path, None, b"x")], label="t", plan_entries=[])


def test_refuses_a_path_listed_twice(tmp_path: Path) -> None:
    with pytest.raises(AsyncMigrateError, match="listed twice"):
        write_transaction(
            tmp_path, [FileChange("a.py", None, b"1"), FileChange("a.py", None, b"2")], label="t", plan_entries=[]
        )


def test_an_error_part_way_restores_what_was_written(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a", "b.py": b"b", "c.py": b"c"})
    changes = _changes(tmp_path, {"a.py": b"A", "b.py": b"B", "c.py": b"C"})

    def disk_full(path: str) -> None:
        if path == "b.py":
            raise OSError(errno.ENOSPC, "No space left on device", "c.py")

    with pytest.raises(AsyncMigrateError, match=r"could not write c.py \(No space left on device\); every file"):
        write_transaction(tmp_path, changes, label="t", plan_entries=[], on_file_written=disk_full)
    assert [(tmp_path / p).read_bytes() for p in ("a.py", "b.py", "c.py")] == [b"a", b"b", b"c"]
    assert [r.state for r in transactions(tmp_path)] == ["restored"]

    def interrupted(path: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_transaction(tmp_path, changes, label="t", plan_entries=[], on_file_written=interrupted)
    assert (tmp_path / "a.py").read_bytes() == b"a"


def test_a_failed_backup_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, {"a.py": b"a", "b.py": b"b"})

    real_write = transaction_module._write_durable

    def disk_full(target: Path, data: bytes) -> None:
        if target.name == "b.py":  # the first backup is on disk, the second does not fit
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_write(target, data)

    monkeypatch.setattr(transaction_module, "_write_durable", disk_full)
    with pytest.raises(AsyncMigrateError, match=r"could not back up .*b.py \(No space left on device\); nothing"):
        write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"A", "b.py": b"B"}), label="t", plan_entries=[])
    assert (tmp_path / "a.py").read_bytes() == b"a" and (tmp_path / "b.py").read_bytes() == b"b"
    assert list(tmp_path.glob(".asyncmigrate/backups/*")) == []


def test_transactions_are_listed_in_order_and_found_by_plan_entry(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"0"})
    first = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"1"}), label="one", plan_entries=["a.py"])
    second = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"2"}), label="two", plan_entries=["a.py", "b.py"])
    third = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"3"}), label="three", plan_entries=["b.py"])

    assert [r.label for r in transactions(tmp_path)] == ["one", "two", "three"]
    assert first.id < second.id < third.id
    assert [r.id for r in transactions_for(tmp_path, "a.py")] == [second.id, first.id]
    restore(tmp_path, second.id)
    assert [r.id for r in transactions_for(tmp_path, "a.py")] == [first.id]
    assert [r.id for r in transactions_for(tmp_path, "b.py")] == [third.id]
    with pytest.raises(AsyncMigrateError, match="no transaction"):
        restore(tmp_path, "20990101T000000000000Z-00000000")


def test_recover_drops_backups_of_a_process_killed_before_writing(tmp_path: Path) -> None:
    orphan = tmp_path / BACKUPS / "20260101T000000000000Z-deadbeef" / "files"
    orphan.mkdir(parents=True)
    (orphan / "a.py").write_bytes(b"half a backup")

    assert recover(tmp_path) == []
    assert not orphan.parent.exists()
    assert recover(tmp_path / "no-state-here") == []


# --- killed mid-apply ----------------------------------------------------------------------------------

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from asyncmigrate.workspace.transaction import FileChange, write_transaction

    root, kill_after, where = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    paths = sorted(p.relative_to(root).as_posix() for p in root.glob("src/*.py"))
    changes = [FileChange(p, (root / p).read_bytes(), (root / p).read_bytes().upper()) for p in paths]
    changes.append(FileChange("src/added/new.py", None, b"NEW = 1\\n" * 1000))
    done = []

    def written(path):
        done.append(path)
        if where == "after-file" and len(done) == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    if where == "before-replace":  # the k-th file's temporary copy is complete, the rename not done
        real_replace = os.replace

        def replace(src, dst):
            if str(dst).endswith(".py") and len(done) == kill_after - 1:
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(src, dst)

        os.replace = replace
    write_transaction(root, changes, label="apply src", plan_entries=["src/m0.py"], on_file_written=written)
    """
)
FILES = 5  # src/m0.py .. m4.py, plus the new file: six in all


def _kill_project(root: Path) -> dict[str, bytes]:
    # Big enough that a non-atomic write killed half-way would show as a truncated file.
    old = {f"src/m{i}.py": (f"value_{i} = {i}  # filler\n" * 20_000).encode() for i in range(FILES)}
    _tree(root, old)
    (root / "killer.py").write_text(KILLER)
    return old


def _run_killer(root: Path, kill_after: int, where: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(root / "killer.py"), str(root), str(kill_after), where],
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("kill_after", "where"), [(1, "after-file"), (3, "after-file"), (6, "after-file"), (2, "before-replace")]
)
def test_a_kill_mid_apply_leaves_old_or_new_bytes_and_recover_restores_them(
    tmp_path: Path, kill_after: int, where: str
) -> None:
    old = _kill_project(tmp_path)

    result = _run_killer(tmp_path, kill_after, where)

    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    written = kill_after if where == "after-file" else kill_after - 1
    for index, (path, data) in enumerate(sorted(old.items())):
        expected = data.upper() if index < written else data
        assert (tmp_path / path).read_bytes() == expected, path
    new_file = tmp_path / "src/added/new.py"
    if written > FILES:
        assert new_file.read_bytes() == b"NEW = 1\n" * 1000
    else:
        assert not new_file.exists()
    leftovers = list((tmp_path / "src").glob(".*.tmp"))
    assert bool(leftovers) == (where == "before-replace")
    [record] = transactions(tmp_path)
    assert record.state == "writing"

    recovered = recover(tmp_path)

    assert [r.id for r in recovered] == [record.id] and recovered[0].state == "restored"
    for path, data in old.items():
        assert (tmp_path / path).read_bytes() == data, path
    assert not (tmp_path / "src/added").exists()
    assert list((tmp_path / "src").glob(".*.tmp")) == []
    assert recover(tmp_path) == []


# --- the lock --------------------------------------------------------------------------------------------


def test_a_second_holder_is_refused_and_the_lock_is_released_on_errors(tmp_path: Path) -> None:
    lock_file = tmp_path / ".asyncmigrate" / "apply.lock"
    with pytest.raises(RuntimeError), ApplyLock(tmp_path):
        holder = json.loads(lock_file.read_text())
        assert holder["pid"] == os.getpid() and holder["since"]
        with pytest.raises(
            AsyncMigrateError, match=rf"another asyncmigrate apply is running \(pid {os.getpid()}, since"
        ):
            ApplyLock(tmp_path).__enter__()
        raise RuntimeError("boom")
    assert not lock_file.exists()
    with ApplyLock(tmp_path) as lock:
        assert lock.note is None


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("content", ["pid", "", "{not json"])
def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path, content: str) -> None:
    lock_file = tmp_path / ".asyncmigrate" / "apply.lock"
    lock_file.parent.mkdir()
    pid = _dead_pid()
    lock_file.write_text(
        json.dumps({"pid": pid, "since": "2026-01-01T00:00:00+00:00"}) if content == "pid" else content
    )
    notes: list[str] = []

    with ApplyLock(tmp_path, on_note=notes.append) as lock:
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        assert lock.note is not None and "took over a stale lock" in lock.note and notes == [lock.note]
        if content == "pid":
            assert f"pid {pid} (since 2026-01-01" in lock.note
    assert not lock_file.exists()


def test_a_lock_from_another_host_is_assumed_alive(tmp_path: Path) -> None:
    lock_file = tmp_path / ".asyncmigrate" / "apply.lock"
    lock_file.parent.mkdir()
    lock_file.write_text(json.dumps({"pid": _dead_pid(), "host": "elsewhere.invalid", "since": "x"}))
    with pytest.raises(AsyncMigrateError, match="another asyncmigrate apply is running"):
        ApplyLock(tmp_path).__enter__()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from asyncmigrate.errors import AsyncMigrateError
    from asyncmigrate.workspace.transaction import ApplyLock

    root, go = Path(sys.argv[1]), Path(sys.argv[2])
    print("ready", flush=True)
    while not go.exists():  # every contender tries at the same moment
        time.sleep(0.001)
    try:
        with ApplyLock(root):
            print("won", flush=True)
            sys.stdin.readline()  # hold it until every other contender has tried
    except AsyncMigrateError as exc:
        print("refused:", exc, flush=True)
    """
)


def test_two_processes_cannot_both_hold_the_lock(tmp_path: Path) -> None:
    script, go = tmp_path / "holder.py", tmp_path / "go"
    script.write_text(HOLDER)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), str(go)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        go.touch()
        outcomes = [process.stdout.readline() for process in processes if process.stdout is not None]
    finally:
        for process in processes:
            process.communicate("\n", timeout=60)

    assert sum(out == "won\n" for out in outcomes) == 1, outcomes
    refused = [out for out in outcomes if out.startswith("refused")]
    assert len(refused) == 2 and all("another asyncmigrate apply is running (pid" in out for out in refused)
    with ApplyLock(tmp_path) as lock:  # released by the winner, so no stale-lock note
        assert lock.note is None


def test_a_lock_held_by_a_live_process_names_it(tmp_path: Path) -> None:
    script = tmp_path / "hold.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\nfrom asyncmigrate.workspace.transaction import ApplyLock\n"
        "with ApplyLock(Path(sys.argv[1])):\n    print('held', flush=True)\n    sys.stdin.readline()\n"
    )
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        with pytest.raises(AsyncMigrateError, match=rf"\(pid {process.pid}, since "):
            ApplyLock(tmp_path).__enter__()
    finally:
        process.communicate("\n", timeout=30)
    with ApplyLock(tmp_path):
        pass


# --- the dirty-tree check -------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def test_dirty_files_in_a_git_work_tree(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "README": b"r",
            "proj/clean.py": b"c",
            "proj/edited.py": b"e",
            "proj/staged.py": b"s",
            "proj/old name.py": b"o",
        },
    )
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "start")
    root = tmp_path / "proj"  # the plan's root may be a sub-directory of the repository
    (root / "edited.py").write_bytes(b"E")
    (root / "staged.py").write_bytes(b"S")
    _git(tmp_path, "add", "proj/staged.py")
    (root / "untracked.py").write_bytes(b"u")
    _git(tmp_path, "mv", "proj/old name.py", "proj/new name.py")
    asked = ["clean.py", "edited.py", "staged.py", "untracked.py", "old name.py", "new name.py", "missing.py"]

    assert dirty_files(root, asked) == ["edited.py", "staged.py", "untracked.py", "old name.py", "new name.py"]
    assert dirty_files(root, ["clean.py"]) == [] and dirty_files(root, []) == []
    assert git_dirty(root, ["clean.py"]) == set()


def test_dirty_files_outside_git_or_without_git_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, {"a.py": b"a"})
    assert dirty_files(tmp_path, ["a.py"]) == [] and git_dirty(tmp_path, ["a.py"]) is None
    _git(tmp_path, "init", "-q")
    assert dirty_files(tmp_path, ["a.py"]) == ["a.py"]
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin-here"))
    assert dirty_files(tmp_path, ["a.py"]) == [] and git_dirty(tmp_path, ["a.py"]) is None


def test_foreign_edits_leaves_out_the_tools_own_uncommitted_work(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a", "b.py": b"b", "c.py": b"c"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "start")
    first = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"a1", "c.py": b"c1"}), label="1", plan_entries=[])
    write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"a2"}), label="2", plan_entries=[])
    (tmp_path / "b.py").write_bytes(b"b by hand")
    (tmp_path / "c.py").write_bytes(b"c1 and a hand edit")

    assert dirty_files(tmp_path, ["a.py", "b.py", "c.py"]) == ["a.py", "b.py", "c.py"]
    assert foreign_edits(tmp_path, ["a.py", "b.py", "c.py"]) == ["b.py", "c.py"]
    (tmp_path / "a.py").write_bytes(b"a1")  # what the older transaction wrote, not the newest: a hand edit
    assert foreign_edits(tmp_path, ["a.py"]) == ["a.py"]
    restore(tmp_path, first.id)  # everything back to the committed bytes: nothing dirty at all
    assert foreign_edits(tmp_path, ["b.py", "c.py"]) == ["b.py"]
    assert foreign_edits(tmp_path.parent, []) == []


# --- the plan step a manifest carries, and restores a crash cut in two -------------------------------------


def test_the_plan_step_goes_with_the_state_and_stays_listed_until_recorded(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a0", "b.py": b"b0"})
    commit_step = {"entries": ["a.py"], "status": "migrated", "event": {"event": "apply"}}
    record = write_transaction(
        tmp_path,
        _changes(tmp_path, {"a.py": b"a1", "b.py": b"b1"}),
        label="t",
        plan_entries=["a.py"],
        plan_step=commit_step,
    )

    assert [(r.id, step) for r, step in transaction_module.unrecorded_steps(tmp_path)] == [(record.id, commit_step)]
    transaction_module.mark_step_recorded(tmp_path, record.id)
    assert transaction_module.unrecorded_steps(tmp_path) == []

    undo_step = {"entries": ["a.py"], "status": "failed", "event": {"event": "test"}}
    restore(tmp_path, record.id, plan_step=undo_step)

    assert [(r.state, step) for r, step in transaction_module.unrecorded_steps(tmp_path)] == [("restored", undo_step)]
    assert (tmp_path / "a.py").read_bytes() == b"a0" and (tmp_path / "b.py").read_bytes() == b"b0"


def test_a_restore_cut_in_two_is_finished_by_recover_with_its_step(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a0", "b.py": b"b0"})
    record = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"a1", "b.py": b"b1"}), label="t", plan_entries=[])
    manifest = tmp_path / BACKUPS / record.id / "manifest.json"
    step = {"entries": ["a.py"], "status": "pending", "event": {"event": "rollback"}}
    # as a kill -9 after the first file of a rollback leaves it
    document = {**json.loads(manifest.read_text()), "state": "restoring", "plan_step": step, "plan_recorded": False}
    manifest.write_text(json.dumps(document))
    (tmp_path / "a.py").write_bytes(b"a0")

    undone = recover(tmp_path, interrupted_step=lambda _record: pytest.fail("not an interrupted write"))

    assert [r.id for r in undone] == [record.id]
    assert (tmp_path / "a.py").read_bytes() == b"a0" and (tmp_path / "b.py").read_bytes() == b"b0"
    assert [(r.state, s) for r, s in transaction_module.unrecorded_steps(tmp_path)] == [("restored", step)]


def test_an_interrupted_write_gets_the_step_recover_is_given(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": b"a0"})
    record = write_transaction(tmp_path, _changes(tmp_path, {"a.py": b"a1"}), label="t", plan_entries=["a.py"])
    manifest = tmp_path / BACKUPS / record.id / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "state": "writing"}))
    step = {"entries": ["a.py"], "status": "pending", "event": {"event": "recover"}}

    recover(tmp_path, interrupted_step=lambda r: step if r.id == record.id else None)

    assert (tmp_path / "a.py").read_bytes() == b"a0"
    assert [s for _, s in transaction_module.unrecorded_steps(tmp_path)] == [step]


KILLED_HOLDER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from asyncmigrate.workspace.transaction import ApplyLock

    with ApplyLock(Path(sys.argv[1])):
        os.kill(os.getpid(), signal.SIGKILL)  # no handler, no __exit__: the lock file stays behind
    """
)


def test_a_lock_whose_holder_was_killed_is_taken_over(tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED_HOLDER)
    killed = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    lock_file = tmp_path / ".asyncmigrate" / "apply.lock"
    holder = json.loads(lock_file.read_text())

    with ApplyLock(tmp_path) as lock:
        assert lock.note is not None and f"stale lock left by pid {holder['pid']}" in lock.note
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        assert list(lock.path.parent.glob("*.tmp")) == []
    assert not lock_file.exists()
