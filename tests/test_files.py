"""workspace/files.py: the one atomic write, its modes, its compare-and-swap and its temporary files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from asyncmigrate.workspace.files import ChangedMeanwhile, new_file_mode, temp_files, write_atomic


def test_a_new_file_gets_the_umask_mode_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    fresh, kept = tmp_path / "fresh.txt", tmp_path / "kept.sh"
    kept.write_bytes(b"old")
    os.chmod(kept, 0o750)
    mask = os.umask(0)
    os.umask(mask)

    write_atomic(fresh, b"new")
    write_atomic(kept, b"new")

    assert stat.S_IMODE(fresh.stat().st_mode) == new_file_mode() == 0o666 & ~mask
    assert stat.S_IMODE(kept.stat().st_mode) == 0o750 and kept.read_bytes() == b"new"
    write_atomic(kept, b"newer", mode=0o600)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_expect_replaces_only_the_bytes_it_was_based_on(tmp_path: Path) -> None:
    target = tmp_path / "plan.yaml"
    target.write_bytes(b"edited by hand meanwhile")

    with pytest.raises(ChangedMeanwhile):
        write_atomic(target, b"ours", expect=b"what we read")
    assert target.read_bytes() == b"edited by hand meanwhile" and temp_files(target) == []
    write_atomic(target, b"ours", expect=b"edited by hand meanwhile")
    assert target.read_bytes() == b"ours"


def test_a_symlink_is_written_through_and_its_temp_files_found_next_to_the_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real, link = tmp_path / "real" / "plan.yaml", tmp_path / "plan.yaml"
    real.write_bytes(b"old")
    link.symlink_to(real)
    leftover = tmp_path / "real" / ".plan.yaml.asyncmigrate-k1ll3d.tmp"
    leftover.write_bytes(b"half")
    unrelated = tmp_path / "real" / ".plan.yaml.mine.tmp"  # not ours: never listed, never deleted
    unrelated.write_bytes(b"")

    write_atomic(link, b"new")

    assert link.is_symlink() and real.read_bytes() == b"new"
    assert temp_files(link) == temp_files(real) == [leftover]


def test_an_error_names_the_file_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"

    def full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left") as raised:
        write_atomic(target, b"x")
    assert raised.value.filename == str(target)
    assert not target.exists() and list(tmp_path.iterdir()) == []
