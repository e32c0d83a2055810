"""The rewrite codemod's lookups made for less give what the plain searches give.

``_method_of`` (the method of a class that is, or encloses, a function) walks up the parents instead of
searching each method of the class for the function: held to that search on every class of ``server/``
and of every fixture.
"""

from __future__ import annotations

import dataclasses
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


class _NamesByWalk(cst.CSTVisitor):
    """The names ``_provider_names`` must see, by LibCST's own walk: every ``Name`` but an attribute's
    ``attr``, and of a ``from`` import only the names it binds (none for a relative or star import)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(bound, cst.Name):
                self.names.add(bound.value)
        return False


def test_provider_names_avoid_exactly_the_names_libcsts_walk_finds() -> None:
    """``_provider_names`` reads names off the nodes' fields; the alias it picks must be the one that
    avoiding the names of LibCST's walk picks, on every module of ``server/`` and of every fixture."""
    from asyncmigrate.codemods import rewrite_facade_calls as rewrite

    checked = 0
    for name, module in _modules():
        walk = _NamesByWalk()
        module.visit(walk)
        for taken in sorted(walk.names)[::7]:  # names a provider could be called
            provider = f"pkg.providers.{taken}"
            repository = dataclasses.replace(next(iter(PLAN.repositories.values())), provider=provider)
            plan = dataclasses.replace(PLAN, repositories={repository.name: repository})
            ref = rewrite._provider_names(module, plan)[repository.name]
            expected, counter = taken, 1
            while expected in walk.names:
                counter += 1
                expected = f"{taken}_{counter}" if counter > 2 else f"_{taken}"
            assert ref == expected, (name, taken, ref)
            checked += 1
    assert checked > 500
