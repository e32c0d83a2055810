"""Work on the other core: ``Forked`` (a forked child's result or exception), and ``apply``'s use of it,
the core edits of a step's other files made in a child while the targets' are made here."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from asyncmigrate.analysis import pool
from asyncmigrate.analysis.pool import Forked
from asyncmigrate.codemods import migrate_facade_doubles
from asyncmigrate.config.plan import load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workflow import apply

REPO = Path(__file__).resolve().parents[1]
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


@pytest.fixture(autouse=True)
def single_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test runner's worker runs threads of its own (pytest-xdist's), where ``Forked`` would not fork: these
    tests are about the fork, made here as in the single-threaded ``asyncmigrate`` process."""
    monkeypatch.setattr(pool, "_single_threaded", lambda: True)


@needs_fork
def test_the_child_returns_its_result_computed_on_the_parents_memory() -> None:
    seen = {"value": [1, 2, 3]}
    with Forked(lambda: (os.getpid(), sum(seen["value"]))) as child:
        seen["value"] = [100]  # the child works on the memory as it was at the fork
        pid, total = child.result()
    assert pid != os.getpid() and total == 6


@needs_fork
def test_the_childs_exception_is_raised_in_the_parent() -> None:
    def fail() -> None:
        raise AsyncMigrateError("server/x.py:3: does not parse")

    with Forked(fail) as child, pytest.raises(AsyncMigrateError, match=r"server/x\.py:3: does not parse"):
        child.result()


@needs_fork
def test_an_exception_that_does_not_pickle_comes_back_by_its_text() -> None:
    class Local(Exception):  # a local class cannot be pickled
        pass

    def fail() -> None:
        raise Local("no way back")

    with Forked(fail) as child, pytest.raises(RuntimeError, match="Local: no way back"):
        child.result()


@needs_fork
def test_a_child_whose_result_is_never_asked_for_is_stopped_and_reaped() -> None:
    with pytest.raises(KeyError), Forked(lambda: time.sleep(60)) as child:
        pid = child._pid
        raise KeyError("the parent failed first")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@needs_fork
def test_a_child_that_dies_is_an_error_not_a_hang() -> None:
    with Forked(lambda: os.kill(os.getpid(), signal.SIGKILL)) as child, pytest.raises(RuntimeError, match="ended"):
        child.result()


def test_without_fork_the_work_runs_when_its_result_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(pool.os, "fork", raising=False)
    ran: list[int] = []
    with Forked(lambda: ran.append(os.getpid()) or "done") as child:
        assert ran == []
        assert child.result() == "done"
    assert ran == [os.getpid()]


def test_a_process_running_other_threads_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real count
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not pool._single_threaded()
        with Forked(lambda: os.getpid()) as child:
            assert child.result() == os.getpid()
    finally:
        stop.set()
        other.join()


def test_a_fork_that_fails_leaves_the_work_to_run_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(pool.os, "fork", no_fork)
    with Forked(lambda: os.getpid()) as child:
        assert child.result() == os.getpid()


def _change(root: Path, target: str, monkeypatch: pytest.MonkeyPatch, *, cores: int) -> tuple[object, list[str]]:
    """``compute_change`` of ``target`` with ``cores`` cores; the files whose core edits a child made."""
    elsewhere: list[str] = []

    class Recorded(Forked):  # type: ignore[type-arg]
        def result(self) -> object:
            made = super().result()
            elsewhere.extend(path for path, *_ in made)  # type: ignore[attr-defined]
            return made

    with monkeypatch.context() as patched:
        patched.setattr(apply.os, "cpu_count", lambda: cores)
        patched.setattr(apply, "Forked", Recorded)
        change = apply.compute_change(load_plan(root / "migration_plan.yaml"), [target], use_cache=False)
    return change, elsewhere


@needs_fork
@pytest.mark.parametrize(
    ("codebase", "target"),
    [
        ("server", "server/services/user_manager.py"),  # a caller and two tests edited beside the target
        ("tests/assets/warehouse", "warehouse/sources.py"),  # Protocols, a demo module, a test
        ("tests/assets/ledger", "src/ledger/accounts.py"),  # a src/ layout, a package's __init__
        ("tests/assets/guild", "guild/dues.py"),  # the injected facade's endpoints
    ],
)
def test_a_steps_other_files_made_on_another_core_give_the_change_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codebase: str, target: str
) -> None:
    """The same change, edit for edit and byte for byte, whether a forked child made the other files'
    core edits or this process made every file's; with one core nothing is forked."""
    root = tmp_path / "copy"
    if codebase == "server":
        root.mkdir()
        for name in ("server", "migration_plan.yaml", "pyproject.toml"):
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    else:
        shutil.copytree(REPO / codebase, root)
    alone, none_elsewhere = _change(root, target, monkeypatch, cores=1)
    paired, elsewhere = _change(root, target, monkeypatch, cores=2)
    assert none_elsewhere == []
    assert elsewhere and target not in elsewhere
    assert paired == alone
    assert [e.path for e in paired.changed] == [e.path for e in alone.changed]  # type: ignore[attr-defined]
    assert set(elsewhere) <= {e.path for e in paired.changed}  # type: ignore[attr-defined]


@needs_fork
def test_a_test_that_cannot_hold_a_facade_double_is_made_on_the_other_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``test_websocket_handler.py`` reaches the migrated ``combat_service.py`` (through the handler it tests),
    but its text names nothing a double of the facade would (its edits are those of the functions turning
    async): its core edits are made in the child, and the change is the one made on one core."""
    root = tmp_path / "copy"
    root.mkdir()
    for name in ("server", "migration_plan.yaml", "pyproject.toml"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    target, test = "server/services/combat_service.py", "server/tests/realtime/test_websocket_handler.py"
    plan = load_plan(root / "migration_plan.yaml")
    assert test in apply._tests_reaching(plan, apply.load_project(plan, use_cache=False), [target])
    alone, _ = _change(root, target, monkeypatch, cores=1)
    paired, elsewhere = _change(root, target, monkeypatch, cores=2)
    assert test in elsewhere
    assert paired == alone


@needs_fork
def test_a_test_the_facades_doubles_are_carried_in_keeps_its_tree_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facade's doubles are carried on the tree a test's core edits left: the caravan's
    ``tests/test_dispatch.py``, which patches the facade for the migrated ``dispatch.py``, is made here.
    Predicted wrongly (every test sent to the child), it is made again here, and the change is the same."""
    root = tmp_path / "caravan"
    shutil.copytree(REPO / "tests/assets/caravan", root)
    target, carried = "caravan/dispatch.py", "tests/test_dispatch.py"
    alone, _ = _change(root, target, monkeypatch, cores=1)
    paired, elsewhere = _change(root, target, monkeypatch, cores=2)
    step = paired.step  # type: ignore[attr-defined]
    assert step.file(carried).facade_doubles and step.file(carried).edits_core
    assert elsewhere and carried not in elsewhere
    assert paired == alone

    made_here: list[str] = []
    make = apply._CoreEdits.make

    def counted(self: apply._CoreEdits, path: str) -> None:
        made_here.append(path)
        make(self, path)

    monkeypatch.setattr(migrate_facade_doubles, "possible_double_words", lambda plan, befores: frozenset())
    monkeypatch.setattr(apply._CoreEdits, "make", counted)
    mispredicted, elsewhere = _change(root, target, monkeypatch, cores=2)
    assert carried in elsewhere and carried in made_here
    assert mispredicted == alone
