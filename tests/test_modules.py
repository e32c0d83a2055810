"""Modules resolved the way Python resolves them (``asyncmigrate/config/modules.py``), the plan keys that
describe the layout (``python_path``) and accept doubts (``accepted_doubts``), and 3.12 syntax read on
3.11 (``asyncmigrate/analysis/lowering.py``)."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from asyncmigrate.analysis.callgraph import GETATTR, build_project, summarize_module
from asyncmigrate.analysis.lowering import lower_newer_syntax
from asyncmigrate.config.modules import (
    SHADOWED,
    ModuleLayout,
    absolute_name,
    default_roots,
    plan_layout,
    resolve_relative,
)
from asyncmigrate.config.plan import AcceptedDoubt, load_plan
from asyncmigrate.errors import PlanError
from asyncmigrate.workflow.testrun import imported_modules


def touch(root: Path, *paths: str) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("")


# -- path -> module --------------------------------------------------------------------------------


def test_src_layout_names_modules_from_the_innermost_root(tmp_path: Path) -> None:
    touch(tmp_path, "src/app/__init__.py", "src/app/api.py", "tests/test_api.py")
    layout = ModuleLayout.of(default_roots(tmp_path, ["src"]), tmp_path)
    assert layout.roots == ("", "src")
    assert layout.module_name("src/app/api.py") == ("app.api", False)
    assert layout.module_name("src/app/__init__.py") == ("app", True)
    assert layout.module_name("tests/test_api.py") == ("tests.test_api", False)
    assert layout.module_file("app.api") == tmp_path / "src/app/api.py"


def test_a_source_directory_that_is_a_package_is_no_root(tmp_path: Path) -> None:
    touch(tmp_path, "server/__init__.py", "server/api/players.py")
    assert default_roots(tmp_path, ["server"]) == ("",)
    assert ModuleLayout.of(("",), tmp_path).module_name("server/api/players.py") == ("server.api.players", False)


def test_a_package_wins_over_a_module_of_the_same_name(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/__init__.py", "pkg/db.py", "pkg/db/__init__.py")
    layout = ModuleLayout.of(("",), tmp_path)
    assert layout.module_name("pkg/db/__init__.py") == ("pkg.db", True)
    assert layout.module_name("pkg/db.py") == ("pkg.db" + SHADOWED, False)
    assert layout.module_file("pkg.db") == tmp_path / "pkg/db/__init__.py"


# Files and roots for the two ways of naming a module: shadowing packages, a module on two roots, names
# with dots and odd suffixes, and paths pathlib normalises (left to it).
_NAMING_FILES = [
    "pkg/__init__.py", "pkg/db.py", "pkg/db/__init__.py", "src/app/__init__.py", "src/app/api.py",
    "app/api.py", "tools/util.py", "a.b/c.py", "x/..py", "x/...py", "x/.hidden.py", "x/noext", "x/y.tar.gz",
    "src/src/inner.py", "lib/app/core.py", "lib/app/core/__init__.py", "__init__.py", "top.py",
]  # fmt: skip
_NAMING_PATHS = [
    *_NAMING_FILES, "pkg/missing.py", "src/app", "./pkg/db.py", "pkg//db.py", "pkg/./db.py", "pkg/../top.py",
    "pkg\\db.py", "src/", "/abs/path.py", "x/.py", "x/a.", ".", "",
]  # fmt: skip
_NAMING_ROOTS = [
    ("",), ("", "src"), ("src", ""), (".", "src/"), ("lib", "src", ""), ("./src",), ("src/app",), ("a/../src",),
    ("/abs",), ("", "/abs"), ("src//",),
]  # fmt: skip


@pytest.mark.parametrize("roots", _NAMING_ROOTS, ids=str)
def test_the_plain_and_the_pathlib_naming_agree(tmp_path: Path, roots: tuple[str, ...]) -> None:
    """``module_name`` answers plain relative paths with string operations; it must give pathlib's answer."""
    touch(tmp_path, *_NAMING_FILES)
    (tmp_path / "app" / "api").mkdir()  # a directory named like a module, and no package
    for layout in (ModuleLayout(roots, tmp_path), ModuleLayout(roots, None), ModuleLayout.of(roots, tmp_path)):
        for path in _NAMING_PATHS:
            try:
                expected: object = layout._pathlib_module_name(path)
            except ValueError as exc:  # pathlib refuses an empty name
                expected = type(exc)
            try:
                found: object = layout.module_name(path)
            except ValueError as exc:
                found = type(exc)
            assert found == expected, (roots, layout.base, path)
    plain = ModuleLayout(roots, tmp_path)
    assert plain._plain_module_name("pkg/db.py") in (None, plain._pathlib_module_name("pkg/db.py"))
    if "/abs" not in roots:
        assert plain._plain_module_name("pkg/db.py") is not None  # the plain path is the string one


def test_the_call_graph_takes_the_package_and_does_not_crash(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/__init__.py")
    (tmp_path / "pkg/db").mkdir()
    (tmp_path / "pkg/db/__init__.py").write_text("def load():\n    return 1\n")
    (tmp_path / "pkg/db.py").write_text("def load():\n    return 2\n")
    (tmp_path / "pkg/use.py").write_text("from pkg.db import load\n\n\ndef use():\n    return load()\n")
    paths = ["pkg/__init__.py", "pkg/db.py", "pkg/db/__init__.py", "pkg/use.py"]
    project = build_project(tmp_path, paths, use_cache=False)
    use = project.functions["pkg.use.use"]
    [(_, _, call, resolved)] = [c for c in project.callers(project.functions["pkg.db.load"]) if c[1] is use]
    assert resolved is not None and resolved.function is not None
    assert resolved.function.path == "pkg/db/__init__.py"
    assert project.functions["pkg.db[shadowed].load"].path == "pkg/db.py"


def test_plan_python_path_overrides_the_default(tmp_path: Path) -> None:
    touch(tmp_path, "lib/app/__init__.py", "lib/app/core.py")
    (tmp_path / "migration_plan.yaml").write_text(PLAN + "python_path: [lib]\n")
    plan = load_plan(tmp_path / "migration_plan.yaml")
    assert plan.python_path == ("lib",)
    assert plan_layout(plan).module_name("lib/app/core.py") == ("app.core", False)


# -- relative imports --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("package", "level", "target", "expected"),
    [
        ("app.api", 1, "deps", "app.api.deps"),
        ("app.api", 2, "models", "app.models"),
        ("app.api", 2, None, "app"),
        ("app", 1, None, "app"),
        ("app", 2, "x", None),  # above the top-level package: ImportError in Python
        ("", 1, "x", None),
        ("", 0, "json", "json"),
    ],
)
def test_relative_imports_resolve_as_python_does(package: str, level: int, target: str | None, expected: str) -> None:
    assert resolve_relative(package, level, target) == expected


def test_qualified_names_and_test_selection_use_the_same_resolution(tmp_path: Path) -> None:
    assert absolute_name("app.api", "..models.User") == "app.models.User"
    assert absolute_name("app.api", "json.loads") == "json.loads"
    layout = ModuleLayout.of(("", "src"))
    source = b"from ..svc import load\nfrom . import deps\n"
    assert imported_modules("src/app/api/routes.py", source, layout) == {
        "app.svc",
        "app.svc.load",
        "app.api",
        "app.api.deps",
    }


# -- plan keys ---------------------------------------------------------------------------------------

PLAN = textwrap.dedent(
    """\
    version: 1
    source: .
    facade:
      factories: [db.get_db]
      classes: [db.Database]
    phases: []
    """
)


@pytest.mark.parametrize(
    ("extra", "line", "fragment"),
    [
        ("accepted_doubts:\n  - {at: a.py:3}\n", 8, "accepted_doubts[0].reason: required key is missing"),
        ("accepted_doubts:\n  - {at: a.py:3, reason: ' '}\n", 8, "accepted_doubts[0].reason: say why"),
        ("accepted_doubts:\n  - {reason: r}\n", 8, "give exactly one of `at: path:line` or `pattern"),
        ("accepted_doubts:\n  - {at: a.py, reason: r}\n", 8, "accepted_doubts[0].at: 'a.py' is not path:line"),
        ("accepted_doubts:\n  - {pattern: a.b, reason: r}\n", 8, "is not `caller -> callee`"),
        ("accepted_doubts:\n  - {at: a.py:1, reason: r, why: x}\n", 8, "accepted_doubts[0].why: unknown key"),
        ("python_path: [nowhere]\n", 7, "python_path[0]: directory 'nowhere' does not exist"),
        ("python_path: [../up]\n", 7, "python_path[0]: must be a directory inside the project"),
    ],
)
def test_bad_plan_keys_name_file_line_and_key(tmp_path: Path, extra: str, line: int, fragment: str) -> None:
    path = tmp_path / "migration_plan.yaml"
    path.write_text(PLAN + extra)
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert fragment in message


def test_accepted_doubts_match_a_site_or_a_pattern(tmp_path: Path) -> None:
    path = tmp_path / "migration_plan.yaml"
    path.write_text(
        PLAN + "accepted_doubts:\n"
        '  - {at: "pkg/use.py:12", reason: "only a Journal"}\n'
        '  - {pattern: "pkg.reports.* -> pkg.store.Store.*", reason: "reports read caches"}\n'
    )
    site, pattern = load_plan(path).accepted_doubts
    assert site == AcceptedDoubt("only a Journal", at="pkg/use.py:12", plan_line=8)
    assert site.matches("pkg/use.py", 12, "pkg.use.f", "x.y") and not site.matches("pkg/use.py", 13, "pkg.use.f", "x.y")
    assert pattern.matches("other.py", 1, "pkg.reports.monthly", "pkg.store.Store.save")
    assert not pattern.matches("other.py", 1, "pkg.api.monthly", "pkg.store.Store.save")


# -- what the call graph reads -----------------------------------------------------------------------


def test_getattr_with_a_constant_name_is_recorded_as_a_call() -> None:
    module = summarize_module("app/d.py", b'def perform(h, a):\n    getattr(h, "move")(*a)\n    getattr(h, a)()\n')
    assert module is not None
    [call] = [c for c in module.functions["app.d.perform"].calls if c.chain[0] == GETATTR]
    assert (call.line, call.chain, call.is_call) == (2, (GETATTR, "move"), True)


SOURCE_312 = """\
type Pair[T] = tuple[T, T]


def first[T](items: list[T]) -> T:
    return service.pick(items)


class Box[T]:
    def label(self, labels):
        return f"{labels["box"]}: {service.name(self)!r:>8}"
"""


def test_python_312_syntax_is_lowered_with_every_call_where_it_was() -> None:
    lowered = lower_newer_syntax(SOURCE_312.encode())
    assert lowered is not None
    ast.parse(lowered)  # 3.11 reads it
    # Python 3.12 reads a PEP 701 f-string (quotes reused inside) itself: only 3.11 needs it lowered.
    fstring = (
        '        return (  labels["box"],   service.name(self),     )'
        if sys.version_info < (3, 12)
        else SOURCE_312.splitlines()[9]
    )
    assert lowered.decode().splitlines() == [
        "Pair         = tuple[T, T]",
        "",
        "",
        "def first   (items: list[T]) -> T:",
        "    return service.pick(items)",
        "",
        "",
        "class Box   :",
        "    def label(self, labels):",
        fstring,
    ]
    original = SOURCE_312.splitlines()
    for line, token in ((5, "pick"), (10, "name"), (10, 'labels["box"]'), (4, "first")):
        assert lowered.decode().splitlines()[line - 1].index(token) == original[line - 1].index(token)


def test_a_312_module_is_summarized_and_a_syntax_error_is_not() -> None:
    module = summarize_module("app/m.py", SOURCE_312.encode())
    assert module is not None
    calls = {(c.line, c.col, c.chain[-1]) for f in module.functions.values() for c in f.calls}
    assert {(5, 19, "pick"), (10, 43, "name")} <= calls
    assert summarize_module("app/bad.py", b"def f(:\n    pass\n") is None
    assert lower_newer_syntax(b"def f(:\n    pass\n") is None


def test_the_same_name_on_two_roots_goes_to_the_first_root(tmp_path: Path) -> None:
    touch(tmp_path, "tools/util.py", "src/tools/util.py", "src/tools/__init__.py", "tools/__init__.py")
    layout = ModuleLayout.of(("", "src"), tmp_path)
    assert layout.module_name("tools/util.py") == ("tools.util", False)
    assert layout.module_name("src/tools/util.py") == ("tools.util" + SHADOWED, False)


@pytest.mark.parametrize(
    ("path", "expected"),
    [("x/..py", "x.."), ("x/...py", "x..."), ("x/.hidden.py", "x..hidden"), ("x/a.", "x.a."), ("x/.py", "x..py")],
)
def test_a_name_of_dots_is_named_alike_on_every_interpreter(path: str, expected: str) -> None:
    """Python 3.13's ``with_suffix`` refuses a stem of ``.``; the module name must not depend on it."""
    layout = ModuleLayout(("",), None)
    assert layout._pathlib_module_name(path) == (expected, False)
    assert layout.module_name(path) == (expected, False)
