"""The rewrite codemod's lookups made for less give what the plain searches give.

``_method_of`` (the method of a class that is, or encloses, a function) walks up the parents instead of
searching each method of the class for the function: held to that search on every class of ``server/``
and of every fixture.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from asyncmigrate.codemods._passes import QuickMetadataWrapper
from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand
from asyncmigrate.config.plan import load_plan
from tests.corpus import corpus_params

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


SOURCES = {
    path.relative_to(REPO).as_posix(): path.read_bytes()
    for path in sorted((REPO / "server").rglob("*.py")) + sorted((REPO / "tests" / "assets").rglob("*.py"))
    if "__pycache__" not in path.parts
}
CORPUS = corpus_params(SOURCES, str, SOURCES.__getitem__)


def _module(name: str) -> cst.Module:
    try:
        return cst.parse_module(SOURCES[name])
    except cst.ParserSyntaxError:
        pytest.skip("a fixture file kept unreadable on purpose")


@pytest.mark.parametrize("name", CORPUS)
def test_the_method_found_by_parents_is_the_method_found_by_search(name: str) -> None:
    module = _module(name)
    wrapper = QuickMetadataWrapper(module, unsafe_skip_copy=True)
    command = RewriteFacadeCallsCommand(CodemodContext(wrapper=wrapper), plan_object=PLAN)
    finder = _ClassesAndFunctions()
    module.visit(finder)
    with command.resolve(wrapper):
        for cls, function in finder.pairs:
            assert command._method_of(cls, function) is _searched_method_of(cls, function)


def test_the_corpus_holds_methods_of_every_nesting() -> None:
    """The equality above means something in the files the README's test command reads: hundreds of
    (class, function inside it) pairs, methods and functions nested deeper among them."""
    covered = [name for name in SOURCES if not _marked_corpus(name)]
    pairs = [pair for name in covered for pair in _class_function_pairs(SOURCES[name])]
    assert len(pairs) > 150
    assert {depth for _, depth in pairs} >= {0, 1}  # directly in the class body, and deeper


def _marked_corpus(name: str) -> bool:
    return any(param.marks for param in CORPUS if param.id == name)


def _class_function_pairs(data: bytes) -> list[tuple[str, int]]:
    """Each (class, function) the finder pairs, by ``ast``: the class's name and how deep the function
    sits below the class body (0: a method)."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return []
    found: list[tuple[str, int]] = []

    def walk(node: ast.AST, classes: list[tuple[str, int]], depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.extend((name, depth - level) for name, level in classes)
                walk(child, classes, depth + 1)
            elif isinstance(child, ast.ClassDef):
                walk(child, [*classes, (child.name, depth)], depth)
            else:
                walk(child, classes, depth)

    walk(tree, [], 0)
    return found


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


@pytest.mark.parametrize("name", CORPUS)
def test_provider_names_avoid_exactly_the_names_libcsts_walk_finds(name: str) -> None:
    """``_provider_names`` reads names off the nodes' fields; the alias it picks must be the one that
    avoiding the names of LibCST's walk picks, on every module of ``server/`` and of every fixture."""
    from asyncmigrate.codemods import rewrite_facade_calls as rewrite

    module = _module(name)
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
        assert ref == expected, (taken, ref)
