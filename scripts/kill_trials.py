"""kill -9 `asyncmigrate apply` and `rollback` at random moments and check what the next command leaves.

    python scripts/kill_trials.py --trials 50 [--sigterm-trials 10] [--seed 1] [--fixture tests/assets/shop]

Each trial copies the fixture, starts the CLI in a subprocess (in turn: `apply FILE` with its tests,
`apply FILE --no-test`, `rollback FILE` after an apply), sends SIGKILL at a random moment (half the
trials over the whole run, half after the run starts writing: within 30 ms of it, or later), then
runs the next command that takes the lock (`mark` of another entry) and checks: every touched file
byte-identical to before or to after the apply (a torn file is neither), all of them on the same side,
the plan entry agreeing with them (migrated code under a migrated or verified entry whose history
holds the apply, original code under a pending or failed one), and no temporary file left. SIGTERM
trials send SIGTERM while the tests run and count the test processes left alive once `apply` has
exited. Prints the figures; exit 1 when any count that should be 0 is not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asyncmigrate.config.plan import load_plan  # noqa: E402
from asyncmigrate.types import FileStatus  # noqa: E402

MARKER = "ASYNCMIGRATE_KILL_TRIAL"
KINDS = ("apply with tests", "apply --no-test", "rollback")


def _env(marker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASYNCMIGRATE_")}
    env["PYTHONPATH"] = str(REPO)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env[MARKER] = marker
    return env


def _argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "asyncmigrate", *args]


def _run(root: Path, *args: str, marker: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _argv(*args), cwd=root, env=_env(marker), capture_output=True, text=True, timeout=900, check=False
    )


def _marked(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker``."""
    found = []
    needle = f"{MARKER}={marker}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in environ and state != "Z":
            found.append(int(proc.name))
    return found


def _reap(marker: str) -> int:
    pids = _marked(marker)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def _timed(root: Path, args: Sequence[str], begun: Callable[[Path], bool]) -> tuple[float, float, int]:
    """Run the CLI to its end: (seconds until ``begun`` first held, seconds in all, exit code)."""
    started = time.monotonic()
    process = subprocess.Popen(
        _argv(*args), cwd=root, env=_env(""), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first: float | None = None
    while process.poll() is None:
        if first is None and begun(root):
            first = time.monotonic() - started
        time.sleep(0.005)
    total = time.monotonic() - started
    return (first if first is not None else 0.0), total, process.returncode


def _writing(root: Path) -> bool:
    return any((root / ".asyncmigrate/backups").glob("*/manifest.json"))


def _restoring(root: Path) -> bool:
    try:
        return any('"restor' in m.read_text() for m in (root / ".asyncmigrate/backups").glob("*/manifest.json"))
    except OSError:  # replaced while being read
        return False


class Fixture:
    """The fixture's files before and after a complete apply, and how long each command takes: the
    whole run, and from the moment it starts to write (the first manifest, or a restore begun)."""

    def __init__(self, source: Path, target: str, other: str, workdir: Path) -> None:
        self.source, self.target, self.other, self.workdir = source, target, other, workdir
        reference = self.copy("reference")
        before = self._all(reference)
        apply_no_test = ["apply", target, "--no-test", "--no-diff"]
        self.windows: dict[str, tuple[float, float]] = {}
        writes_at, total, code = _timed(reference, apply_no_test, _writing)
        self.windows["apply --no-test"] = (writes_at, total)
        if code != 0:
            raise SystemExit("the reference apply failed")
        after = self._all(reference)
        self.touched = sorted(p for p in after if before.get(p) != after[p])
        self.before = {p: before.get(p) for p in self.touched}
        self.after = {p: after[p] for p in self.touched}
        writes_at, total, _ = _timed(reference, ["rollback", target], _restoring)
        self.windows["rollback"] = (writes_at, total)
        shutil.rmtree(reference / ".asyncmigrate", ignore_errors=True)
        writes_at, total, _ = _timed(reference, ["apply", target, "--no-diff"], _writing)
        self.windows["apply with tests"] = (writes_at, total)

    def copy(self, name: str) -> Path:
        root = self.workdir / name
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.source, root)
        return root

    @staticmethod
    def _all(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*.py")
            if ".asyncmigrate" not in p.parts and "__pycache__" not in p.parts
        }

    def side(self, root: Path) -> tuple[str, int]:
        """("before" | "after" | "mixed", torn files)."""
        now = {p: (root / p).read_bytes() if (root / p).exists() else None for p in self.touched}
        torn = sum(1 for p in self.touched if now[p] not in (self.before[p], self.after[p]))
        if now == self.before:
            return "before", torn
        if now == self.after:
            return "after", torn
        return "mixed", torn

    def agrees(self, root: Path) -> tuple[bool, str]:
        side, _ = self.side(root)
        entry = load_plan(root / "migration_plan.yaml", check_files=False).entry(self.target)
        if entry is None:
            return False, "entry gone"
        if side == "after":
            applied = any(e.get("event") == "apply" for e in entry.history)
            ok = entry.status in (FileStatus.MIGRATED, FileStatus.VERIFIED) and applied
        else:
            ok = side == "before" and entry.status in (FileStatus.PENDING, FileStatus.FAILED)
        return ok, f"files {side}, entry {entry.status.value}"


def _where(root: Path) -> str:
    """Where the kill landed, read from the newest manifest."""
    manifests = sorted((root / ".asyncmigrate/backups").glob("*/manifest.json"))
    if not manifests:
        return "before any transaction"
    document = json.loads(manifests[-1].read_text())
    state = document["state"]
    if state in ("written", "restored") and not document.get("plan_recorded", True):
        return f"{state}, plan step not recorded"
    return str(state)


def _temp_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tmp"))


def kill_trial(fixture: Fixture, kind: str, rng: random.Random, index: int) -> dict[str, Any]:
    root = fixture.copy(f"trial-{index}")
    marker = uuid.uuid4().hex
    if kind == "rollback":
        setup = _run(root, "apply", fixture.target, "--no-test", "--no-diff")
        assert setup.returncode == 0, setup.stderr
        args = ["rollback", fixture.target]
    elif kind == "apply --no-test":
        args = ["apply", fixture.target, "--no-test", "--no-diff"]
    else:
        args = ["apply", fixture.target, "--no-diff"]
    # Half the trials: any moment of the whole run (loading and analysing take most of it). The other
    # half watch for the first write (a manifest appearing, or a restore begun) and kill a random
    # moment after it: within 30 ms, where the files and the manifest change, or later, where the
    # plan is saved and the tests run.
    writes_at, total = fixture.windows[kind]
    anchored = index % 2 == 0
    begun = _restoring if kind == "rollback" else _writing
    delay = rng.uniform(0.0, 0.03) if index % 4 == 0 else rng.uniform(0.0, max(0.05, total - writes_at))
    if not anchored:
        delay = rng.uniform(0.0, total * 1.05)
    process = subprocess.Popen(
        _argv(*args), cwd=root, env=_env(marker), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if anchored:
        while process.poll() is None and not begun(root):
            time.sleep(0.001)
    try:
        process.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed = True
    # Tests a kill -9 cut loose run to their end on their own; stop them so trials do not pile up.
    outliving = _reap(marker)
    where = _where(root) if killed else "finished before the kill"
    _, torn = fixture.side(root)
    settled = _run(root, "mark", fixture.other, "--status", "skipped", "--reason", "kill trial")
    agree, state = fixture.agrees(root)
    result = {
        "kind": kind,
        "delay": round(delay, 3),
        "where": where,
        "torn": torn,
        "next_ok": settled.returncode == 0,
        "next_error": settled.stderr.strip()[-300:] if settled.returncode else "",
        "agree": agree,
        "state": state,
        "temp_files": _temp_files(root),
        "tests_outliving_kill": outliving,
    }
    shutil.rmtree(root, ignore_errors=True)
    return result


def sigterm_trial(fixture: Fixture, rng: random.Random, index: int) -> dict[str, Any]:
    root = fixture.copy(f"sigterm-{index}")
    marker = uuid.uuid4().hex
    process = subprocess.Popen(
        _argv("apply", fixture.target, "--no-diff"),
        cwd=root,
        env=_env(marker),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600
    while len(_marked(marker)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the test command has started once a second marked process exists
    time.sleep(rng.uniform(0.0, 0.5))
    during_tests = process.poll() is None and len(_marked(marker)) >= 2
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=600)
    time.sleep(0.5)
    orphans = _reap(marker)
    agree, state = fixture.agrees(root)
    entry = load_plan(root / "migration_plan.yaml", check_files=False).entry(fixture.target)
    reason = entry.history[-1].get("reason") if entry is not None and entry.history else None
    result = {
        "during_tests": during_tests,
        "returncode": process.returncode,
        "orphans": orphans,
        "agree": agree,
        "state": state,
        "failed_with_reason": reason == "interrupted by SIGTERM",
        "traceback": "Traceback" in stderr,
        "temp_files": _temp_files(root),
    }
    shutil.rmtree(root, ignore_errors=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, required=True, help="kill -9 trials")
    parser.add_argument("--sigterm-trials", type=int, default=None, help="SIGTERM trials (default: trials // 5)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fixture", type=Path, default=REPO / "tests/assets/shop")
    parser.add_argument("--target", default="shop/service.py", help="the planned file to apply")
    parser.add_argument("--other", default="tests/test_service.py", help="another planned file, for `mark`")
    parser.add_argument("--json", type=Path, default=None, help="also write every trial's record here")
    options = parser.parse_args(argv)
    if options.trials < 0:
        parser.error("--trials must not be negative")
    seed = options.seed if options.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    sigterm_count = options.sigterm_trials if options.sigterm_trials is not None else options.trials // 5
    with tempfile.TemporaryDirectory(prefix="kill-trials-") as workdir:
        fixture = Fixture(options.fixture, options.target, options.other, Path(workdir))
        timings = ", ".join(
            f"{kind} {end:.1f} s (writes from {at:.1f} s)" for kind, (at, end) in fixture.windows.items()
        )
        print(  # noqa: T201
            f"fixture {options.fixture.name}, seed {seed}; {len(fixture.touched)} files touched; {timings}", flush=True
        )
        kills = [kill_trial(fixture, KINDS[i % 3], rng, i) for i in range(options.trials)]
        terms = [sigterm_trial(fixture, rng, i) for i in range(sigterm_count)]
    if options.json is not None:
        options.json.write_text(json.dumps({"seed": seed, "kill": kills, "sigterm": terms}, indent=2))
    by_kind = Counter(str(t["kind"]) for t in kills)
    landed = Counter(str(t["where"]) for t in kills)
    figures = {
        "torn files after a kill": sum(int(t["torn"]) for t in kills),
        "plan/file disagreements after the next command": sum(1 for t in kills if not t["agree"]),
        "next commands that failed": sum(1 for t in kills if not t["next_ok"]),
        "temp files left after the next command": sum(len(t["temp_files"]) for t in kills),
        "orphaned test processes after SIGTERM": sum(int(t["orphans"]) for t in terms),
        "SIGTERM: disagreements": sum(1 for t in terms if not t["agree"]),
        "SIGTERM during tests not failed 'interrupted by SIGTERM'": sum(
            1 for t in terms if t["during_tests"] and not t["failed_with_reason"]
        ),
        "SIGTERM: tracebacks": sum(1 for t in terms if t["traceback"]),
        "SIGTERM: temp files left": sum(len(t["temp_files"]) for t in terms),
    }
    lines = [
        f"kill -9 trials: {len(kills)} ({', '.join(f'{k} {n}' for k, n in sorted(by_kind.items()))})",
        "  the kill landed: " + ", ".join(f"{w} {n}" for w, n in landed.most_common()),
        "  test processes a kill -9 cut loose (they end on their own; reaped here): "
        f"{sum(int(t['tests_outliving_kill']) for t in kills)}",
        f"SIGTERM trials: {len(terms)} ({sum(1 for t in terms if t['during_tests'])} while the tests ran)",
        *(f"{name}: {count}" for name, count in figures.items()),
    ]
    print("\n".join(lines))  # noqa: T201
    for trial in [*kills, *terms]:
        if not trial["agree"] or trial.get("torn") or trial["temp_files"] or trial.get("orphans"):
            print(f"  problem: {trial}")  # noqa: T201
    return 1 if any(figures.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
