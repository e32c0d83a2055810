"""Each naming and file question has one implementation: a second copy is how two stages come to disagree.

The package's source is read with ``ast`` (not searched as text), so a comment or a docstring that
mentions a name is no copy, and a copy under another name is still caught by what it does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "asyncmigrate"
CODEMODS = Path(__file__).resolve().parents[1] / "codemods"

# function name -> the module (package-relative) that holds its one definition
ONE_DEFINITION = {
    "module_name": "config/modules.py",  # path -> module name
    "module_file": "config/modules.py",  # module name -> path
    "nested_qualname": "config/modules.py",  # qualified names of defs and classes
    "is_test_file": "config/modules.py",  # "is a test file"
    "discover": "analysis/discovery.py",  # file discovery
    "discover_tree": "analysis/discovery.py",
    "format_version": "workspace/cache.py",  # the analysis cache
    "content_key": "workspace/cache.py",
}


def _sources() -> Iterator[tuple[str, ast.Module]]:
    seen: set[Path] = set()
    for base, prefix in ((PACKAGE, ""), (CODEMODS, "codemods/")):
        for path in sorted(base.rglob("*.py")):
            real = path.resolve()
            if real in seen:  # asyncmigrate/codemods links to the top-level codemods/
                continue
            seen.add(real)
            relative = prefix + path.relative_to(base).as_posix() if prefix else path.relative_to(base).as_posix()
            yield relative, ast.parse(path.read_bytes(), str(path))


SOURCES = list(_sources())


def _where(predicate: object) -> list[str]:
    return sorted(
        {f"{relative}:{node.lineno}" for relative, tree in SOURCES for node in ast.walk(tree) if predicate(node)}  # type: ignore[operator]
    )


def _files(places: list[str]) -> set[str]:
    return {place.rsplit(":", 1)[0] for place in places}


def test_the_source_was_read() -> None:
    assert len(SOURCES) > 30
    assert {"config/modules.py", "analysis/discovery.py", "workspace/cache.py"} <= {r for r, _ in SOURCES}


@pytest.mark.parametrize("name", sorted(ONE_DEFINITION))
def test_one_definition(name: str) -> None:
    places = _where(lambda node: isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name)
    assert _files(places) == {ONE_DEFINITION[name]} and len(places) == 1, places


def test_qualified_names_are_built_in_one_place() -> None:
    """``outer.<locals>.inner`` is spelled by ``nested_qualname`` alone."""

    def spells_locals(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and ".<locals>." in node.value

    def spells_locals_in_fstring(node: ast.AST) -> bool:
        return isinstance(node, ast.JoinedStr) and any(spells_locals(part) for part in node.values)

    places = _where(lambda node: spells_locals(node) and not _in_docstring(node)) + _where(spells_locals_in_fstring)
    assert _files(places) == {"config/modules.py"}, places


def test_test_file_names_are_recognised_in_one_place() -> None:
    """``test_*.py`` / ``*_test.py`` are matched by ``is_test_file`` alone."""

    def matches_test_name(node: ast.AST) -> bool:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return False
        if node.func.attr not in ("startswith", "endswith", "fnmatch", "match"):
            return False
        return any(isinstance(a, ast.Constant) and a.value in ("test_", "_test.py", "test_*.py") for a in node.args)

    assert _files(_where(matches_test_name)) == {"config/modules.py"}


def test_the_tree_is_walked_in_one_place() -> None:
    """Directory listings over the project go through ``discovery.py`` (the workspace's own
    ``.asyncmigrate`` state directories are not the project)."""

    def lists_a_tree(node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "os":
            return func.attr in ("walk", "scandir", "listdir")
        return isinstance(func, ast.Attribute) and func.attr == "rglob"

    assert _files(_where(lists_a_tree)) == {"analysis/discovery.py"}


def test_paths_become_module_names_in_one_place() -> None:
    """Dropping ``.py`` from a path to make a module name is ``ModuleLayout.module_name``'s job."""

    def strips_suffix(node: ast.AST) -> bool:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return False
        constants = {a.value for a in node.args if isinstance(a, ast.Constant)}
        return (node.func.attr == "with_suffix" and "" in constants) or (
            node.func.attr == "removesuffix" and ".py" in constants
        )

    assert _files(_where(strips_suffix)) <= {"config/modules.py"}


_DOCSTRINGS = {
    id(body[0].value)
    for _, tree in SOURCES
    for node in ast.walk(tree)
    if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    and (body := node.body)
    and isinstance(body[0], ast.Expr)
    and isinstance(body[0].value, ast.Constant)
}


def _in_docstring(node: ast.AST) -> bool:
    return id(node) in _DOCSTRINGS


# What each framework means for a migration sits in its adapter (asyncmigrate/frameworks/): elsewhere a
# string spelling one of these is a second copy of that knowledge.
FRAMEWORK_SPELLINGS = (
    "Depends",
    "fastapi.",
    "pytest_asyncio",
    "pytest.fixture",
    "pytest.mark",
    "asyncio_mode",
    "TestCase",
    "asyncSetUp",
    "setUpClass",
    "AsyncMock",
    "MagicMock",
    "unittest.mock",
)


def test_framework_names_are_spelled_in_the_adapters_only() -> None:
    def spells_a_framework(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and not _in_docstring(node)
            and any(name in node.value for name in FRAMEWORK_SPELLINGS)
        )

    found = {relative for relative in _files(_where(spells_a_framework))}
    assert {place for place in found if not place.startswith("frameworks/")} == set()
    assert {"frameworks/fastapi.py", "frameworks/pytest.py", "frameworks/unittest.py", "frameworks/mock.py"} <= found
