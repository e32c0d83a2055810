"""The codemods' quicker metadata and import visitors give exactly what LibCST's own give.

``QuickMetadataWrapper`` resolves the providers that work in ``visit_Module`` alone without LibCST's
batched walk, and ``ParentNodeProvider`` from the nodes' fields; ``TopImportsAdder`` is LibCST's
``AddImportsVisitor`` walking only the top of the module. Each is held to LibCST's on every file of
``server/`` and of every fixture, and on hand cases of the syntax they must not miss.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import libcst as cst
import pytest
from libcst._metadata_dependent import LazyValue
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.matchers._visitors import (
    _gather_constructed_leave_funcs,
    _gather_constructed_visit_funcs,
    _gather_matchers,
)
from libcst.metadata import (
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    Scope,
    ScopeProvider,
)

from asyncmigrate.codemods._passes import (
    PlainDispatch,
    QuickMetadataWrapper,
    TopImportsAdder,
    module_bytes,
    module_code,
    parent_nodes,
)
from tests.corpus import corpus_params

REPO = Path(__file__).parents[2]

HAND_CASES = [
    "",
    '"""A docstring only."""\n',
    "@decorator(arg)\nasync def f(a, /, b: int = 1, *args, c, d=2, **kw) -> T[int]:\n"
    "    return [x async for x in a if x]\n",
    "match p:\n    case {'k': [1, *rest]} | Point(x=0) as q if q:\n        pass\n    case _:\n        pass\n",
    "x = f'{a!r:>{width}} {b=}' 'plain'\ny = rb'bytes'\nlambda *, k=1: k\n",
    "with (open(a) as f, open(b) as g):\n    del f[1:2, ::3], g.h\n",
    "try:\n    pass\nexcept* (A, B) as e:\n    raise X from e\nelse:\n    pass\nfinally:\n    pass\n",
    "class C(B, metaclass=M):\n    x: int\n    def m(self):\n        global g\n        nonlocal_ = (y := 1)\n"
    "        return {**d, 'a': 1} | {1, 2} if g else ()\n",
    "import a.b as c\nfrom . import d\nfrom ..e import (f as g, h)\nprint(*a, sep='')  # comment\n",
]


def _sources() -> Iterator[tuple[str, str]]:
    paths = sorted((REPO / "server").rglob("*.py")) + sorted((REPO / "tests" / "assets").rglob("*.py"))
    for path in paths:
        yield path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")
    for index, code in enumerate(HAND_CASES):
        yield f"<hand case {index}>", code


SOURCES = dict(_sources())


@functools.cache
def _module(name: str) -> cst.Module:
    """The corpus file's tree, parsed when a test asks for it (and once per worker)."""
    try:
        return cst.parse_module(SOURCES[name])
    except cst.ParserSyntaxError:
        pytest.skip("a fixture file kept unreadable on purpose")


def _corpus(names: list[str]) -> list[object]:
    """``names`` as parameters: the hand cases always, the files outside the covering subset marked ``corpus``."""
    hand = [name for name in names if name.startswith("<hand case")]
    files = [name for name in names if not name.startswith("<hand case")]
    return [*corpus_params(files, str, lambda name: SOURCES[name].encode()), *hand]


PROVIDERS = (QualifiedNameProvider, ExpressionContextProvider, ParentNodeProvider, PositionProvider)


def _values(mapping: Mapping[cst.CSTNode, object]) -> dict[cst.CSTNode, object]:
    return {node: value() if isinstance(value, LazyValue) else value for node, value in mapping.items()}


def _scopes(mapping: Mapping[cst.CSTNode, object]) -> dict[cst.CSTNode, object]:
    """What each scope holds (two resolutions make distinct Scope objects)."""

    def held(scope: object) -> object:
        if scope is None:
            return None
        assert isinstance(scope, Scope)
        assignments = sorted((a.name, type(a).__name__, len(a.references)) for a in scope.assignments)
        accesses = sorted(
            (str(a.node.value) if isinstance(a.node, cst.Name) else "", len(a.referents)) for a in scope.accesses
        )
        return type(scope).__name__, assignments, accesses

    return {node: held(scope) for node, scope in _values(mapping).items()}


def test_the_corpus_is_read() -> None:
    assert len(SOURCES) > 100


@pytest.mark.parametrize("name", _corpus(sorted(SOURCES)))
def test_the_quick_wrapper_resolves_what_libcst_resolves(name: str) -> None:
    """Both wrappers over the very same nodes: the mappings compare node for node."""
    module = _module(name)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many((*PROVIDERS, ScopeProvider))
    found = QuickMetadataWrapper(module, unsafe_skip_copy=True).resolve_many((*PROVIDERS, ScopeProvider))
    for provider in PROVIDERS:
        assert _values(found[provider]) == _values(expected[provider]), provider.__name__
    assert _scopes(found[ScopeProvider]) == _scopes(expected[ScopeProvider])
    assert parent_nodes(module) == dict(expected[ParentNodeProvider])


@pytest.mark.parametrize("name", _corpus(sorted(SOURCES)[::7]))
def test_a_tree_with_unique_nodes_is_not_copied_and_resolves_alike(name: str) -> None:
    """Without ``unsafe_skip_copy`` the quick wrapper checks the nodes are unique instead of copying."""
    module = _module(name)
    wrapper = QuickMetadataWrapper(module)
    assert wrapper.module is module
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(PROVIDERS)
    found = wrapper.resolve_many(PROVIDERS)
    for provider in PROVIDERS:
        assert _values(found[provider]) == _values(expected[provider]), provider.__name__


def test_a_tree_with_a_node_in_two_places_is_copied() -> None:
    """A transform may put one node in two places; its metadata would be ambiguous, so LibCST's copy is made."""
    module = cst.parse_module("a = f(x)\n")
    statement = module.body[0]
    twice = module.with_changes(body=[statement, statement])
    wrapper = QuickMetadataWrapper(twice)
    assert wrapper.module is not twice
    assert wrapper.module.body[0] is not wrapper.module.body[1]
    positions = wrapper.resolve(PositionProvider)
    assert [positions[s].start.line for s in wrapper.module.body] == [1, 2]
    parents = wrapper.resolve(ParentNodeProvider)
    assert all(parents[s] is wrapper.module for s in wrapper.module.body)


def test_a_provider_with_other_visitor_methods_gets_libcsts_walk() -> None:
    class CountsNames(cst.BatchableMetadataProvider[int]):
        def visit_Name(self, node: cst.Name) -> None:
            self.set_metadata(node, len(node.value))

    module = cst.parse_module("alpha = beta\n")
    found = QuickMetadataWrapper(module, unsafe_skip_copy=True).resolve(CountsNames)
    assert sorted(found.values()) == [4, 5]


REQUESTS = [
    [("asyncio", None, None)],
    [("unittest.mock", "AsyncMock", None)],
    [("server.repositories", "get_player_repository", None), ("server.models", "Player", None)],
    [("typing", "Any", "AnyType"), ("collections", None, "col")],
    [("__future__", "annotations", None)],
]


def _added(
    transform: type[AddImportsVisitor], module: cst.Module, request: list[tuple[str, str | None, str | None]]
) -> str:
    context = CodemodContext(full_module_name="pkg.mod", full_package_name="pkg")
    for module_name, obj, alias in request:
        AddImportsVisitor.add_needed_import(context, module_name, obj, alias)
    return transform(context).transform_module(module).code


@pytest.mark.parametrize("name", _corpus(sorted(SOURCES)[::2]))  # every other module: LibCST's adder is slow
def test_top_imports_adder_writes_what_libcsts_adder_writes(name: str) -> None:
    request = REQUESTS[sorted(SOURCES).index(name) % len(REQUESTS)]  # each module one request, in turn
    module = _module(name)
    assert _added(TopImportsAdder, module, request) == _added(AddImportsVisitor, module, request)


def test_top_imports_adder_extends_an_import_at_the_top_only() -> None:
    code = textwrap.dedent(
        '''\
        """Doc."""
        from unittest.mock import Mock
        import os

        def f():
            from unittest.mock import patch
            return patch
        '''
    )
    module = cst.parse_module(code)
    request = [("unittest.mock", "AsyncMock", None)]
    assert _added(TopImportsAdder, module, request) == _added(AddImportsVisitor, module, request)
    assert "from unittest.mock import AsyncMock, Mock\n" in _added(TopImportsAdder, module, request)


def _plain_dispatch_classes() -> list[type[PlainDispatch]]:
    found: list[type[PlainDispatch]] = []
    pending: list[type[PlainDispatch]] = [PlainDispatch]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


def test_the_codemods_on_plain_dispatch_use_no_matcher_decorator() -> None:
    """``PlainDispatch`` skips the search for matcher decorators: each class it runs must have none."""
    from asyncmigrate.codemods import apply_edits  # noqa: F401 - imports every codemod of the edit plan
    from asyncmigrate.codemods.migrate_facade_doubles import MigrateFacadeDoublesCommand
    from asyncmigrate.codemods.migrate_test_doubles import MigrateTestDoublesCommand
    from asyncmigrate.codemods.propagate_async import PropagateAsyncCommand
    from asyncmigrate.codemods.replay_rewrites import ReplayRewritesCommand
    from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand

    classes = _plain_dispatch_classes()
    for codemod in (
        MigrateFacadeDoublesCommand,
        MigrateTestDoublesCommand,
        PropagateAsyncCommand,
        ReplayRewritesCommand,
        RewriteFacadeCallsCommand,
        TopImportsAdder,
    ):
        assert codemod in classes
    for kind in classes:
        # LibCST's own search, on the class (the decorators sit on its functions)
        assert not _gather_constructed_visit_funcs(kind), kind.__name__
        assert not _gather_constructed_leave_funcs(kind), kind.__name__
        assert not _gather_matchers(kind), kind.__name__


class _Recorder(cst.CSTTransformer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def visit_Name(self, node: cst.Name) -> bool:
        self.calls.append(f"visit Name {node.value}")
        return True

    def visit_Call_func(self, node: cst.Call) -> None:
        self.calls.append("visit Call.func")

    def leave_Call_args(self, original_node: cst.Call) -> None:
        self.calls.append("leave Call.args")

    def visit_Arg(self, node: cst.Arg) -> bool:
        self.calls.append("visit Arg (children skipped)")
        return False

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        self.calls.append(f"leave Name {original_node.value}")
        return updated_node.with_changes(value=updated_node.value.upper())


class _PlainRecorder(PlainDispatch, _Recorder):
    def __init__(self) -> None:
        PlainDispatch.__init__(self, CodemodContext())
        self.calls = []


def test_plain_dispatch_calls_what_libcsts_dispatch_calls() -> None:
    module = cst.parse_module("f(x, g(y))\nz = w\n")
    libcsts, plain = _Recorder(), _PlainRecorder()
    assert module.visit(plain).code == module.visit(libcsts).code == "F(x, g(y))\nZ = W\n"
    assert plain.calls == libcsts.calls


def test_plain_dispatch_calls_a_method_patched_after_its_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    module = cst.parse_module("f(x)\n")
    assert module.visit(_PlainRecorder()).code == "F(x)\n"  # the argument is not visited
    monkeypatch.setattr(_PlainRecorder, "leave_Name", lambda self, original, updated: updated.with_changes(value="n"))
    assert module.visit(_PlainRecorder()).code == "n(x)\n"
    monkeypatch.undo()
    assert module.visit(_PlainRecorder()).code == "F(x)\n"  # the argument is not visited


def test_module_code_is_generated_once_per_tree_and_is_the_trees_own(monkeypatch: pytest.MonkeyPatch) -> None:
    generated: list[int] = []
    real = cst.Module.code_for_node

    def counting(self: cst.Module, node: cst.CSTNode) -> str:
        if node is self:
            generated.append(id(self))
        return real(self, node)

    monkeypatch.setattr(cst.Module, "code_for_node", counting)
    first = cst.parse_module("a = 1\n")
    edited = first.with_changes(body=[*first.body, *cst.parse_module("b = 2\n").body])
    assert module_code(first) == "a = 1\n"
    assert module_code(first) == "a = 1\n"
    assert module_code(edited) == "a = 1\nb = 2\n"  # a new tree: its own code
    assert module_bytes(first) == b"a = 1\n"
    assert generated == [id(first), id(edited)]
    others = [cst.parse_module(f"x = {n}\n") for n in range(6)]  # more trees than it keeps
    assert [module_code(tree) for tree in others] == [f"x = {n}\n" for n in range(6)]
    assert module_code(first) == "a = 1\n"  # forgotten, generated again
    assert generated.count(id(first)) == 2
