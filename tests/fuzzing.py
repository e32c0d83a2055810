"""Template fuzzing of the whole change with a runtime oracle.

A generated program is a small project (``fz/``) whose module ``fz/app.py`` uses a sync facade through
shapes real code has — classes keeping it on ``self``, untyped receivers, overrides calling ``super()``,
recursion, decorators, ``try``/``finally``, comprehensions, generators — and whose module ``fz/callers.py``
calls those functions from ordinary sync code. The facade and the async repository share one in-memory
store, so a correct migration cannot change what the program prints.

For each program: run it as written, compute the change for ``fz/app.py``, and then either

* the change has blockers — nothing may be written (counted, not an error), or
* the change is written — every output must compile, the program must print exactly what it printed
  before, no coroutine may be left un-awaited (``-W error::RuntimeWarning`` plus a look at stderr),
  and computing the change again must change nothing.

``tests/test_fuzz_templates.py`` runs a fixed set of seeds; ``scripts/fuzz_compute_change.py`` runs for a
given number of minutes and prints the counts.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from asyncmigrate.config.plan import load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workflow.apply import compute_change

TARGET = "fz/app.py"
RUN_TIMEOUT_SECONDS = 60  # a program runs in well under a second; a minute means it hangs

STORE = '''"""The sync facade: what the generated code calls today."""

DATA: dict[int, int] = {}


class Store:
    def load(self, key):
        return DATA.get(key, key * 2)

    def save(self, key, value):
        DATA[key] = value
        return value

    def total(self, keys):
        return sum(DATA.get(k, k * 2) for k in keys)


_STORE = Store()


def get_store():
    return _STORE
'''

REPOS = '''"""The async repository over the same data: what migrated code calls."""

from fz.store import DATA


class ItemRepo:
    async def get(self, key):
        return DATA.get(key, key * 2)

    async def put(self, key, value):
        DATA[key] = value
        return value

    async def sum_of(self, keys):
        return sum(DATA.get(k, k * 2) for k in keys)


_REPO = ItemRepo()


def get_item_repo():
    return _REPO
'''

PLAN = """version: 1
source: fz
tests: tests
test_command: [python, -m, pytest, -q]
exclude: [fz/store.py, fz/repos.py]
facade:
  factories: [fz.store.get_store]
  classes: [fz.store.Store]
  receiver_names: [store]
repositories:
  item: {class: fz.repos.ItemRepo, provider: fz.repos.get_item_repo, attribute: item_repo, awaitable: true}
mappings:
  load: item.get
  save: item.put
  total: item.sum_of
phases:
  - id: 1
    name: Generated
    files:
      - {path: fz/app.py, complexity: low, effort_minutes: 5, risk: low, repositories: [item],
         status: pending, history: []}
"""

RUNNER = """import asyncio
import inspect

from fz import callers

result = callers.entry()
if inspect.iscoroutine(result):
    result = asyncio.run(result)
print(repr(result))
"""


@dataclass
class Shape:
    """One template instance: the code it adds to ``fz/app.py`` and the calls ``entry`` makes."""

    app: str
    calls: list[str]
    imports: set[str] = field(default_factory=set)


def _plain(rng: random.Random, n: int) -> Shape:
    key = rng.randint(1, 9)
    return Shape(
        app=f"""
def read_{n}(key):
    store = get_store()
    return store.load(key) + {rng.randint(0, 5)}
""",
        calls=[f"app.read_{n}({key})"],
    )


def _self_attribute(rng: random.Random, n: int) -> Shape:
    key = rng.randint(1, 9)
    return Shape(
        app=f"""
class Keeper{n}:
    def __init__(self):
        self.store = get_store()

    def bump(self, key):
        value = self.store.load(key)
        return self.store.save(key, value + 1)
""",
        calls=[f"app.Keeper{n}().bump({key})"],
    )


def _untyped_receiver(rng: random.Random, n: int) -> Shape:
    key = rng.randint(1, 9)
    return Shape(
        app=f"""
def fetch_{n}(store, key):
    return store.load(key) * 3


def via_{n}(key):
    return fetch_{n}(get_store(), key)
""",
        calls=[f"app.via_{n}({key})"],
    )


def _override(rng: random.Random, n: int) -> Shape:
    key = rng.randint(1, 9)
    return Shape(
        app=f"""
class Base{n}:
    def value(self, key):
        return get_store().load(key)


class Child{n}(Base{n}):
    def value(self, key):
        return super().value(key) + 1
""",
        calls=[f"app.Child{n}().value({key})", f"app.Base{n}().value({key})"],
    )


def _recursion(rng: random.Random, n: int) -> Shape:
    depth = rng.randint(0, 3)
    return Shape(
        app=f"""
def walk_{n}(key, depth):
    if depth == 0:
        return get_store().load(key)
    return walk_{n}(key + 1, depth - 1)
""",
        calls=[f"app.walk_{n}({rng.randint(1, 9)}, {depth})"],
    )


def _decorator(rng: random.Random, n: int) -> Shape:
    # The wrapper either hands the result through or uses it: only the first survives a sync wrapper.
    use = rng.choice(["result", "result + 0", "[result][0]"])
    return Shape(
        app=f"""
def logged_{n}(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        return {use}
    return wrapper


@logged_{n}
def decorated_{n}(key):
    return get_store().load(key)
""",
        calls=[f"app.decorated_{n}({rng.randint(1, 9)})"],
        imports={"import functools"},
    )


def _try_finally(rng: random.Random, n: int) -> Shape:
    key = rng.randint(1, 9)
    return Shape(
        app=f"""
def guarded_{n}(key):
    store = get_store()
    value = 0
    try:
        value = store.load(key)
    finally:
        store.save(key, value + {rng.randint(1, 4)})
    return value
""",
        calls=[f"app.guarded_{n}({key})"],
    )


def _comprehension(rng: random.Random, n: int) -> Shape:
    keys = [rng.randint(1, 9) for _ in range(rng.randint(1, 4))]
    return Shape(
        app=f"""
def many_{n}(keys):
    store = get_store()
    return [store.load(k) for k in keys if k % 2 == {rng.randint(0, 1)}] + [store.total(keys)]
""",
        calls=[f"app.many_{n}({keys!r})"],
    )


def _generator(rng: random.Random, n: int) -> Shape:
    keys = [rng.randint(1, 9) for _ in range(rng.randint(1, 4))]
    return Shape(
        app=f"""
def each_{n}(keys):
    store = get_store()
    for k in keys:
        yield store.load(k)


def collect_{n}(keys):
    out = []
    for value in each_{n}(keys):
        out.append(value)
    return out
""",
        calls=[f"app.collect_{n}({keys!r})"],
    )


def _generator_expression(rng: random.Random, n: int) -> Shape:
    keys = [rng.randint(1, 9) for _ in range(rng.randint(1, 4))]
    consumer = rng.choice(["sum", "max", "min", "sorted", "list", "any"])
    return Shape(
        app=f"""
def fold_{n}(keys):
    store = get_store()
    return {consumer}(store.load(k) for k in keys)
""",
        calls=[f"app.fold_{n}({keys!r})"],
    )


def _lambda(rng: random.Random, n: int) -> Shape:
    keys = [rng.randint(1, 9) for _ in range(rng.randint(1, 3))]
    return Shape(
        app=f"""
def ordered_{n}(keys):
    store = get_store()
    return sorted(keys, key=lambda k: store.load(k))
""",
        calls=[f"app.ordered_{n}({keys!r})"],
    )


def _method_chain(rng: random.Random, n: int) -> Shape:
    key = rng.randint(1, 9)
    return Shape(
        app=f"""
class Service{n}:
    def __init__(self):
        self.store = get_store()

    def _load(self, key):
        return self.store.load(key)

    def double(self, key):
        return self._load(key) + self._load(key + 1)
""",
        calls=[f"app.Service{n}().double({key})"],
    )


TEMPLATES: list[Callable[[random.Random, int], Shape]] = [
    _plain,
    _self_attribute,
    _untyped_receiver,
    _override,
    _recursion,
    _decorator,
    _try_finally,
    _comprehension,
    _generator,
    _generator_expression,
    _lambda,
    _method_chain,
]


@dataclass(frozen=True)
class Program:
    seed: int
    templates: tuple[str, ...]
    app: str
    callers: str


def generate(seed: int) -> Program:
    """A program from one seed: 1 to 4 templates, called from ``entry`` in a random order and nesting."""
    rng = random.Random(seed)
    chosen = [rng.choice(TEMPLATES) for _ in range(rng.randint(1, 4))]
    shapes = [template(rng, n) for n, template in enumerate(chosen)]
    imports = sorted({"from fz.store import get_store"} | {i for s in shapes for i in s.imports})
    app = "\n".join(imports) + "\n\n" + "\n".join(textwrap.dedent(s.app).strip("\n") + "\n\n" for s in shapes)
    calls = [call for shape in shapes for call in shape.calls]
    rng.shuffle(calls)
    body = ["out = []"]
    for call in calls:
        wrap = rng.randint(0, 2)
        if wrap == 0:
            body.append(f"out.append({call})")
        elif wrap == 1:
            body.append(f"for _ in range({rng.randint(1, 2)}):\n    out.append({call})")
        else:
            body.append(f"if len(out) >= 0:\n    value = {call}\n    out.append(value)")
    body.append("return out")
    callers = "from fz import app\n\n\ndef entry():\n" + textwrap.indent("\n".join(body), "    ") + "\n"
    return Program(seed, tuple(t.__name__.lstrip("_") for t in chosen), app.rstrip("\n") + "\n", callers)


def write_project(root: Path, program: Program) -> None:
    (root / "fz").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "fz" / "__init__.py").write_text("")
    (root / "fz" / "store.py").write_text(STORE)
    (root / "fz" / "repos.py").write_text(REPOS)
    (root / "fz" / "app.py").write_text(program.app)
    (root / "fz" / "callers.py").write_text(program.callers)
    (root / "run.py").write_text(RUNNER)
    (root / "migration_plan.yaml").write_text(PLAN)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_program(root: Path) -> Run:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    completed = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-X", "dev", "run.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


# What a program can end as; every kind after "refused" is a fault of the tool (or, the last, of the generator).
KINDS = (
    "migrated",  # written, and the oracle holds
    "blocked",  # blockers: nothing written
    "refused",  # a one-line AsyncMigrateError: nothing written
    "crash",  # compute_change raised anything else
    "non-compiling",
    "runtime-difference",  # the migrated program fails or prints something else
    "unawaited",  # a coroutine was never awaited
    "not-idempotent",
    "generator-fault",
)
FAULTS = frozenset(KINDS[3:])


@dataclass(frozen=True)
class Outcome:
    """What one program did. ``problem`` is set when the oracle found a wrong migration."""

    seed: int
    templates: tuple[str, ...]
    kind: str  # one of KINDS
    problem: str = ""


def check_program(program: Program, workdir: Path) -> Outcome:
    """Run the oracle on one program in ``workdir`` (an empty directory)."""
    write_project(workdir, program)

    def outcome(kind: str, problem: str = "") -> Outcome:
        return Outcome(program.seed, program.templates, kind, problem)

    before = run_program(workdir)
    if before.returncode != 0:  # the generator's own fault, not the tool's
        return outcome("generator-fault", f"the program fails before migration:\n{before.stderr[-2000:]}")
    plan = load_plan(workdir / "migration_plan.yaml")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            change = compute_change(plan, [TARGET], use_cache=False)
    except AsyncMigrateError as error:
        return outcome("refused", str(error))
    except Exception as error:  # noqa: BLE001 - a crash is exactly what the fuzzer looks for
        return outcome("crash", f"{type(error).__name__}: {error}")
    if change.blockers:
        return outcome("blocked", "; ".join(sorted({b.kind for b in change.blockers})))
    for edit in change.changed:
        try:
            compile(edit.after, edit.path, "exec", dont_inherit=True)
        except SyntaxError as error:
            return outcome("non-compiling", f"{edit.path} does not compile: {error}")
        (workdir / edit.path).write_bytes(edit.after)
    after = run_program(workdir)
    if "never awaited" in after.stderr:
        return outcome("unawaited", f"a coroutine was never awaited:\n{after.stderr[-2000:]}")
    if after.returncode != 0:
        return outcome("runtime-difference", f"the migrated program fails:\n{after.stderr[-2000:]}")
    if after.stdout != before.stdout:
        return outcome("runtime-difference", f"output changed: {before.stdout.strip()} -> {after.stdout.strip()}")
    plan = load_plan(workdir / "migration_plan.yaml")
    with contextlib.redirect_stderr(io.StringIO()):
        again = compute_change(plan, [TARGET], use_cache=False)
    if again.changed:
        return outcome("not-idempotent", f"a second change is not empty: {[e.path for e in again.changed]}")
    return outcome("migrated")


def describe(program: Program, outcome: Outcome) -> str:
    return (
        f"seed {program.seed} ({', '.join(program.templates)}): {outcome.kind}\n{outcome.problem}\n"
        f"--- fz/app.py\n{program.app}--- fz/callers.py\n{program.callers}"
    )


@contextlib.contextmanager
def workdir_for(base: Path, seed: int) -> Iterator[Path]:
    path = base / f"program-{seed}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
