"""The rewrite codemod's lookups made for less give what the plain searches give.

``_method_of`` (the method of a class that is, or encloses, a function) walks up the parents instead of
searching each method of the class for the function: held to that search on every class of ``server/``
and of every fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext

from asyncmigrate.codemods._passes import QuickMetadataWrapper
from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand
from asyncmigrate.config.plan import load_plan

REPO = Path(__file__).parents[2]
PLAN = load_plan(REPO / "tests" / "assets" / "library" / "migration_plan.yaml")


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    found = False

    class _Find(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            found = found or node is inner
            return not found

    outer.visit(_Find())
    return found


def _searched_method_of(cls: cst.ClassDef, function: cst.FunctionDef) -> cst.FunctionDef | None:
    for member in cls.body.body:
        if isinstance(member, cst.FunctionDef) and (member is function or _contains(member, function)):
            return member
    return None


class _ClassesAndFunctions(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.classes: list[cst.ClassDef] = []
        self.pairs: list[tuple[cst.ClassDef, cst.FunctionDef]] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.pairs.extend((cls, node) for cls in self.classes)  # every class it is in, however deep


def _modules() -> Iterator[tuple[str, cst.Module]]:
    for path in sorted((REPO / "server").rglob("*.py")) + sorted((REPO / "tests" / "assets").rglob("*.py")):
        try:
            yield path.relative_to(REPO).as_posix(), cst.parse_module(path.read_bytes())
        except cst.ParserSyntaxError:
            continue


def test_the_method_found_by_parents_is_the_method_found_by_search() -> None:
    pairs = 0
    for name, module in _modules():
        wrapper = QuickMetadataWrapper(module, unsafe_skip_copy=True)
        command = RewriteFacadeCallsCommand(CodemodContext(wrapper=wrapper), plan_object=PLAN)
        finder = _ClassesAndFunctions()
        module.visit(finder)
        with command.resolve(wrapper):
            for cls, function in finder.pairs:
                assert command._method_of(cls, function) is _searched_method_of(cls, function), name
                pairs += 1
    assert pairs > 400
