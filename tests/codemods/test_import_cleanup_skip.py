"""The edit plan's rewrite skips LibCST's import clean-up only when that clean-up would remove nothing, and
makes it without scope analysis only where it removes what LibCST's own would."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst import MetadataWrapper
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor

from asyncmigrate.codemods._imports import (
    KnownUnusedImportsRemover,
    ScheduledRemoval,
    imports_known_unused,
    imports_no_longer_read,
    imports_still_used,
)
from asyncmigrate.codemods._passes import QuickImportsRemover, QuickVisitorCommand

REPO = Path(__file__).parents[2]


def _removes_nothing(code: str, scheduled: list[ScheduledRemoval], wrapper: MetadataWrapper | None = None) -> bool:
    """Does LibCST's own clean-up, asked to remove ``scheduled``, leave ``code`` as it is? ``wrapper``: a
    wrapper over ``code``'s tree to visit, whose scope analysis then serves every question asked of it."""
    wrapper = wrapper if wrapper is not None else MetadataWrapper(cst.parse_module(code))
    context = CodemodContext(wrapper=wrapper, full_module_name="pkg.mod", full_package_name="pkg")
    for removal in scheduled:
        RemoveImportsVisitor.remove_unused_import(context, *removal)
    return wrapper.visit(RemoveImportsVisitor(context)).code == code


CASES = [
    ("from m import f\n\ndef g():\n    return f()\n", [("m", "f", None)], True),
    ("from m import f\n\nx: f = None\n", [("m", "f", None)], True),  # an annotation reads it
    ("from m import f\n\ndef g():\n    return 1\n", [("m", "f", None)], False),  # unused: removed
    ("from m import f\n\ndef g(f):\n    return f()\n", [("m", "f", None)], False),  # the read is the parameter
    ("from m import f\nf = f()\n", [("m", "f", None)], False),  # bound twice
    ("def g():\n    from m import f\n    return f()\n", [("m", "f", None)], False),  # not at module level
    ("from m import f as h\n\nh()\n", [("m", "f", None)], True),  # no exact match: the visitor leaves it
    ("from m import f as h\n\nh()\n", [("m", "f", "h")], True),
    ("from m import f as h\n\nf()\n", [("m", "f", "h")], False),  # the alias is unused
    ("from m import *\nfrom n import f\nf()\n", [("n", "f", None)], False),  # a star import may rebind it
    ("import asyncio\n\nasyncio.run(x())\n", [("asyncio", None, None)], True),
    ("import asyncio\n", [("asyncio", None, None)], False),
    ("import os.path\n\nos.path.join()\n", [("os.path", None, None)], False),  # dotted: left to the visitor
    ("from m import f\n\ndef g():\n    global f\n    f = 2\n\nf()\n", [("m", "f", None)], False),
    ("from m import f\n\ntry:\n    pass\nexcept E as f:\n    pass\nf()\n", [("m", "f", None)], False),
    ("if X:\n    from m import f\nf()\n", [("m", "f", None)], True),  # an if opens no scope
    ("from m import f\n\nclass C:\n    f = 1\n\nf()\n", [("m", "f", None)], False),
    ("x = (\n", [("m", "f", None)], False),  # does not parse: left to the visitor
]


@pytest.mark.parametrize(("code", "scheduled", "kept"), CASES)
def test_only_what_the_visitor_keeps_is_skipped(code: str, scheduled: list[ScheduledRemoval], kept: bool) -> None:
    assert imports_still_used(code, scheduled) is kept
    if kept:
        assert _removes_nothing(code, scheduled)


def _visitor_output(code: str, scheduled: list[ScheduledRemoval]) -> str:
    """What LibCST's own clean-up, with its scope analysis, makes of ``code`` (as the codemods run it,
    keeping the module's spacing: ``QuickImportsRemover``)."""
    context = CodemodContext(full_module_name="pkg.mod", full_package_name="pkg")
    for removal in scheduled:
        RemoveImportsVisitor.remove_unused_import(context, *removal)
    return QuickImportsRemover(context).transform_module(cst.parse_module(code)).code


def _known_output(code: str, scheduled: list[ScheduledRemoval], unused: set[ScheduledRemoval]) -> str:
    """What ``KnownUnusedImportsRemover`` makes of ``code``, run as a codemod runs it: every removal asked
    for scheduled in its context, ``unused`` what ``imports_known_unused`` found."""
    context = CodemodContext(full_module_name="pkg.mod", full_package_name="pkg")
    for removal in scheduled:
        RemoveImportsVisitor.remove_unused_import(context, *removal)
    return KnownUnusedImportsRemover(context, unused).transform_module(cst.parse_module(code)).code


REMOVALS = [
    # (code, scheduled, what ast says is removed: None where it leaves the question to the visitor)
    ("from m import f\n\ndef g():\n    return 1\n", [("m", "f", None)], {("m", "f", None)}),
    ("from m import f, h\n\nh()\n", [("m", "f", None)], {("m", "f", None)}),
    ("from m import (\n    f,  # the f\n    h,\n)\n\nh()\n", [("m", "f", None)], {("m", "f", None)}),
    ("from m import (\n    h,\n    f,  # the f\n)\n\nh()\n", [("m", "f", None)], {("m", "f", None)}),
    ("import os, sys\n\nsys.exit()\n", [("os", None, None)], {("os", None, None)}),
    ("import asyncio\n", [("asyncio", None, None)], {("asyncio", None, None)}),
    ("from m import f as h\n\nf()\n", [("m", "f", "h")], {("m", "f", "h")}),
    ("from other import f\n\nx = 1\n", [("m", "f", None)], set()),  # another module's f: left
    ("import os; import sys\n\nsys.exit()\n", [("os", None, None)], {("os", None, None)}),
    ('"""Uses f."""\n\nfrom m import f\n\nx = 1\n', [("m", "f", None)], {("m", "f", None)}),  # a docstring
    ('from m import f\n\n__all__ = ["f"]\n', [("m", "f", None)], None),  # exported
    ('from m import f\n\nx: "f" = None\n', [("m", "f", None)], None),  # a string annotation
    ("if X:\n    from m import f\nx = 1\n", [("m", "f", None)], None),  # not a top-level line
    ("from .m import f\n\nx = 1\n", [("pkg.m", "f", None)], None),  # relative
    ("from __future__ import annotations\n", [("__future__", "annotations", None)], None),
    ("from m import f\nfrom m import f\n", [("m", "f", None)], None),  # bound twice
]


@pytest.mark.parametrize(("code", "scheduled", "unused"), REMOVALS)
def test_imports_known_unused_go_as_the_visitor_removes_them(
    code: str, scheduled: list[ScheduledRemoval], unused: set[ScheduledRemoval] | None
) -> None:
    assert imports_known_unused(code, scheduled) == unused
    if unused is not None:
        assert _known_output(code, scheduled, unused) == _visitor_output(code, scheduled)


def _import_headers() -> list[tuple[str, str]]:
    """The import lines heading each file of the server and the fixtures (up to the first other statement,
    a docstring aside), by the file's name; each text once."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in sorted((REPO / "server").rglob("*.py")) + sorted((REPO / "tests" / "assets").rglob("*.py")):
        code = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            body = ast.parse(code).body
        except SyntaxError:
            continue
        if body and isinstance(body[0], ast.Expr):
            body = body[1:]
        end = 0
        for statement in body:
            if not isinstance(statement, ast.Import | ast.ImportFrom):
                break
            end = statement.end_lineno or end
        header = "".join(code.splitlines(keepends=True)[:end])
        if end and header not in seen:
            seen.add(header)
            found.append((str(path.relative_to(REPO)), header))
    return found


def _top_imports(code: str) -> list[ScheduledRemoval]:
    asked: list[ScheduledRemoval] = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and node.module != "__future__":
            asked += [(node.module, alias.name, alias.asname) for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Import):
            asked += [(alias.name, None, alias.asname) for alias in node.names if "." not in alias.name]
    return asked


@pytest.mark.parametrize("reading", ["none", "every-other"])
def test_the_import_lines_of_every_fixture_go_as_the_visitor_removes_them(reading: str) -> None:
    """The import lines heading each file of the server and the fixtures, followed by code that reads none
    of them (or every other one), every one asked to go: where ``ast`` answers, it names what LibCST's
    visitor removes, and the code made without scope analysis is the visitor's, byte for byte (parenthesized
    lists, comments, aliases and blank lines as the fixtures write them)."""
    answered = removed = 0
    for name, header in _import_headers():
        asked = _top_imports(header)
        if not asked:
            continue
        read = [asname or (obj if obj else module) for module, obj, asname in asked[::2]] if reading != "none" else []
        code = header + "\n\n" + "".join(f"print({bound})\n" for bound in read) + "x = 1\n"
        unused = imports_known_unused(code, asked)
        if unused is None:
            continue
        answered += 1
        removed += len(unused)
        made = _known_output(code, asked, unused) if unused else code
        assert made == _visitor_output(code, asked), name
    assert answered > 100 and removed > 500


def _from_imports(code: str) -> list[ScheduledRemoval]:
    found: list[ScheduledRemoval] = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.module, alias.name, alias.asname) for alias in node.names if alias.name != "*"]
    return found


@pytest.mark.parametrize(
    "path",
    [
        "server/services/combat_service.py",
        "server/api/players.py",
        "server/commands/combat.py",
        "server/tests/services/test_combat_service.py",
    ],
)
def test_on_the_bundled_server_a_skip_is_never_a_removal(path: str) -> None:
    code = (REPO / path).read_text()
    removals = _from_imports(textwrap.dedent(code))
    assert removals
    skipped = [removal for removal in removals if imports_still_used(code, [removal])]
    assert skipped  # the server's files use what they import
    # One parse and scope analysis, one clean-up asked to remove every skipped import at once: whether
    # LibCST removes an import depends on that import's uses alone. On a failure, each is asked alone.
    wrapper = MetadataWrapper(cst.parse_module(code))
    if not _removes_nothing(code, skipped, wrapper):
        removed = [removal for removal in skipped if not _removes_nothing(code, [removal], wrapper)]
        pytest.fail(f"LibCST's clean-up removes imports the rewrite skips: {removed or skipped}")


@pytest.mark.parametrize(
    ("before", "after", "asked"),
    [
        # every MagicMock became an AsyncMock: its import is asked to go, not the one still read
        (
            "from unittest.mock import MagicMock, patch\nm = MagicMock()\npatch('x')\n",
            "from unittest.mock import AsyncMock, MagicMock, patch\nm = AsyncMock()\npatch('x')\n",
            [("unittest.mock", "MagicMock", None)],
        ),
        # under an alias, and a module imported under one
        (
            "from a.b import C as D\nimport unittest.mock as mk\nx = D(mk.Mock())\n",
            "from a.b import C as D\nimport unittest.mock as mk\nx = E()\n",
            [("a.b", "C", "D"), ("unittest.mock", None, "mk")],
        ),
        # a dotted import binds its first name
        ("import os.path\nos.path.join()\n", "import os.path\n", [("os.path", None, None)]),
        # read before and after (in a function, an attribute's root): kept
        ("from a import b\ndef f():\n    return b.c\n", "from a import b\ndef f():\n    return b.d\n", []),
        # unused before as after: not the transform's doing, not asked
        ("from a import b\n", "from a import b\nx = 1\n", []),
        # relative and star imports, and imports in a function, are left alone
        ("from . import b\nfrom c import *\ndef f():\n    import d\n    d(b)\n", "x = 1\n", []),
        # code ast cannot parse: nothing is asked
        ("from a import b\nb(\n", "x = 1\n", []),
    ],
    ids=["sync-mock", "aliases", "dotted", "still-read", "unused-before", "relative-star-local", "unparsable"],
)
def test_the_imports_a_transform_stopped_reading_are_asked_to_go(
    before: str, after: str, asked: list[ScheduledRemoval]
) -> None:
    assert imports_no_longer_read(before, after) == asked


class _Removes(QuickVisitorCommand):
    """Asks for the given imports to go, and changes nothing else."""

    def __init__(self, context: CodemodContext, removals: list[ScheduledRemoval]) -> None:
        super().__init__(context)
        self.removals = removals

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        for module, name, asname in self.removals:
            RemoveImportsVisitor.remove_unused_import(self.context, module, name, asname)
        return tree


@pytest.mark.parametrize(
    ("before", "removals", "after"),
    [
        # the line after the docstring goes: the next one takes its blank line, not the docstring's place
        (
            '"""Doc."""\n\nfrom unittest import mock\nfrom a import b\n\nx = b\n',
            [("unittest", "mock", None)],
            '"""Doc."""\n\nfrom a import b\n\nx = b\n',
        ),
        # the file's first line goes: the file does not start with the blank line below it
        ("import threading\n\nimport os\n\nos.sep\n", [("threading", None, None)], "import os\n\nos.sep\n"),
        # ... nor the header with two: one blank line after a comment heading the file
        (
            "# Licensed under MIT.\n\nimport threading\n\nimport os\nos.sep\n",
            [("threading", None, None)],
            "# Licensed under MIT.\n\nimport os\nos.sep\n",
        ),
        # a comment right above the removed first line stays above the line that follows
        (
            "# Tools.\nimport threading\n\nimport os\nos.sep\n",
            [("threading", None, None)],
            "# Tools.\n\nimport os\nos.sep\n",
        ),
        # a comment above a removed import goes with it (as in LibCST); its blank line stays
        (
            "import a\n\n# the mocks\nfrom unittest import mock\nx = a\n",
            [("unittest", "mock", None)],
            "import a\n\nx = a\n",
        ),
        # the next statement's own blank lines are kept as they are
        (
            "import os\nimport threading\n\n\ndef f():\n    return os.sep\n",
            [("threading", None, None)],
            "import os\n\n\ndef f():\n    return os.sep\n",
        ),
        # a line that keeps one of its names keeps its place
        ("from a import b, c\n\nx = b\n", [("a", "c", None)], "from a import b\n\nx = b\n"),
    ],
    ids=[
        "after-docstring",
        "first-line",
        "after-a-header",
        "header-comment-above",
        "comment-goes",
        "own-spacing",
        "partial",
    ],
)
def test_a_removed_import_line_leaves_the_spacing_around_it(
    before: str, removals: list[ScheduledRemoval], after: str
) -> None:
    context = CodemodContext(filename="m.py", full_module_name="m", full_package_name="")
    assert _Removes(context, removals).transform_module(cst.parse_module(before)).code == after
