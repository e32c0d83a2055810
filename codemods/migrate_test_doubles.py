"""Turn the test doubles of functions that became ``async def`` into ``AsyncMock``.

Once a method is async, a plain ``Mock``/``MagicMock`` standing in for it returns a value that
cannot be awaited and the test fails with ``TypeError``. This codemod rewrites the doubles that
the migration made wrong, given the fully-qualified names of the functions that are now async
(``--async-function``, repeatable). Those must be coroutine functions: an async generator or an
``@asynccontextmanager`` function is not awaited by its callers, and an ``AsyncMock`` would be as
wrong for it as a ``Mock``.

1. ``patch.object(Cls, "method", ...)`` / ``patch("pkg.mod.Cls.method", ...)`` — call, decorator or
   context manager — whose target is one of them gains ``new_callable=AsyncMock``. Calls that give
   ``new``, ``new_callable``, ``autospec`` or ``*args``/``**kwargs`` are left alone (``patch``
   refuses ``new_callable`` next to ``new`` or ``autospec``, and unpacked arguments may hold
   either), except that a spec-less ``new=Mock(...)`` or ``new_callable=MagicMock`` becomes its
   ``AsyncMock`` counterpart, and so does a local ``fake = MagicMock(...)`` handed over as ``new``
   when nothing but its attributes is read elsewhere. These matches are exact.
2. ``svc.method.return_value = v`` / ``.side_effect = e`` on a mock without a spec becomes
   ``svc.method = AsyncMock(return_value=v)``, nested chains included; a ``return_value`` and a
   ``side_effect`` on the next line merge into one ``AsyncMock``. Only the first configuration of
   a chain in a function is rewritten: the later ones then configure the ``AsyncMock``, which
   also keeps a second run from changing anything. A deeper configuration
   (``svc.method.return_value.total = 3``) keeps its line and gets ``svc.method = AsyncMock()``
   inserted before it.
3. ``x.method = Mock(...)`` / ``MagicMock(...)`` (and ``Mock(method=Mock(...))``) becomes
   ``AsyncMock(...)``.

The mock in 2 is recognised where it is created: a local bound to ``Mock()``/``MagicMock()`` or to
``with patch(...) as m``, a parameter filled by a ``@patch`` decorator, a pytest fixture of the same
module that returns one, or ``self.x`` assigned one in a method of the same class. A mock with a
spec (``Mock(spec=Cls)``, ``create_autospec``, ``AsyncMock``) is left alone: ``unittest.mock``
already makes its async methods ``AsyncMock`` (one level deep for ``spec=``, so deeper chains
under such a mock are still rewritten).

Decision on guesses: without a spec, 2 and 3 can only match the attribute's *name* against the
last part of the async names, and a sync function elsewhere may share it. The codemod rewrites
anyway — left alone, the double is certainly wrong once its callers ``await`` it — and warns
``file:line`` for every such conversion, naming the async functions it matched, so a reviewer can
check each guess. A conversion that could change what the test observes is not made but warned:
a chain used before its first configuration, a configuration inside a loop or branch, or a mock
whose origin cannot be seen (a fixture from ``conftest.py``, a module-level mock).

``AsyncMock`` comes from where the file takes its mocks: ``from unittest.mock import AsyncMock``
when it imports names from ``unittest.mock`` (or the ``mock`` backport), ``mock.AsyncMock`` when
it imports the module under an alias.
"""

from __future__ import annotations

import argparse
import ast
import enum
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    ParentNodeProvider,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)
from libcst.metadata.scope_provider import Assignment, Scope

from asyncmigrate.codemods._imports import SkipsNeedlessImportCleanup, remove_imports_no_longer_read
from asyncmigrate.codemods._passes import QuickVisitorCommand, module_code
from asyncmigrate.config.modules import absolute_name
from asyncmigrate.frameworks import mock, pytest

MOCK_MODULES = mock.MOCK_MODULES
IDENTIFIER = re.compile(r"[^\W\d]\w*")
CONFIG_KEYS = frozenset(mock.CONFIG_KEYS)
MOCK_PARAMETERS = mock.MOCK_PARAMETERS

SYNC_MOCKS = mock.qualified(mock.MOCK) | mock.qualified(mock.MAGIC_MOCK)
ASYNC_MOCKS = mock.qualified(mock.ASYNC_MOCK)
AUTOSPECS = mock.qualified(mock.AUTOSPEC)
PATCHES = mock.qualified(mock.PATCH)
PATCH_OBJECTS = mock.qualified(mock.PATCH_OBJECT)
FIXTURES = pytest.FIXTURE_DECORATORS
# Blocks that always run their body once when the statement before them ran.
STRAIGHT_LINE = (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.IndentedBlock, cst.With)


class MockKind(enum.Enum):
    SPECLESS = "no spec: children are plain mocks"
    SPEC = f"spec=: direct async methods are {mock.ASYNC_MOCK} already"
    ASYNC_AWARE = f"{mock.AUTOSPEC} or {mock.ASYNC_MOCK}: async methods handled at every depth"
    UNKNOWN = "not a mock this codemod can see"


@dataclass(frozen=True)
class MockBinding:
    kind: MockKind
    # Chains (relative to the mock) configured where it is created, e.g. in its fixture: those are
    # converted there, so a test configuring them further must not replace them.
    home_chains: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ConfigRewrite:
    """``<chain>.<key>... = value`` turning into ``<chain> = AsyncMock(...)``."""

    chain_length: int  # parts of the target that name the mocked function
    key: str
    direct: bool  # target is exactly <chain>.<key>: the value moves into AsyncMock(key=value)


@dataclass
class ScopeState:
    """What one function (or class body, or the module) has done so far, in source order."""

    function: cst.FunctionDef | None
    configured: set[str] = field(default_factory=set)  # chains assigned or configured
    seen: set[str] = field(default_factory=set)  # every dotted chain read or written
    bindings: dict[str, MockKind] = field(default_factory=dict)  # attribute chains assigned a mock


@dataclass
class ClassState:
    """``self.<attr>`` mocks created in a class's methods."""

    self_bindings: dict[str, MockBinding]
    home_methods: dict[str, set[cst.FunctionDef]]


def dotted_parts(node: cst.BaseExpression) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None for anything that is not a plain name chain."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    parts.reverse()
    return parts


def keyword(arg: cst.Arg) -> str | None:
    return arg.keyword.value if arg.keyword is not None else None


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    no_space = cst.SimpleWhitespace("")
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space),
    )


def append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """Append ``arg`` keeping the call's layout: one argument a line stays one argument a line."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma carries the whitespace before ")": the new argument takes it over and
        # the old last argument takes the spacing used between arguments.
        between = args[-2].comma.whitespace_after if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else None
        spacing = between if between is not None else call.whitespace_before_args
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=spacing))
        args.append(arg.with_changes(comma=last.comma))
    else:
        previous = args[-2].comma if len(args) > 1 else None
        spacing = previous.whitespace_after if isinstance(previous, cst.Comma) else cst.SimpleWhitespace(" ")
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=spacing))
        args.append(arg)
    return call.with_changes(args=args)


class MigrateTestDoublesCommand(SkipsNeedlessImportCleanup, QuickVisitorCommand):
    DESCRIPTION = (
        f"Make {mock.MOCK}/{mock.MAGIC_MOCK} doubles and patches of functions that are now async into "
        f"{mock.ASYNC_MOCK}."
    )
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider, ScopeProvider, ParentNodeProvider)

    def __init__(self, context: CodemodContext, async_functions: Sequence[str] = ()) -> None:
        super().__init__(context)
        self.async_functions = frozenset(async_functions)
        self.async_names: dict[str, list[str]] = {}
        for dotted in sorted(self.async_functions):
            self.async_names.setdefault(dotted.rsplit(".", 1)[-1], []).append(dotted)
        self._reset()

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--async-function",
            dest="async_functions",
            metavar="DOTTED",
            action="append",
            default=[],
            help="Fully-qualified name of a function or method that is now a coroutine function (repeatable).",
        )

    def _reset(self) -> None:
        # Decisions are taken on original nodes while visiting (source order) and applied on leave.
        self._scopes: list[ScopeState] = []
        self._classes: list[ClassState] = []
        self._fixtures: dict[str, MockBinding] = {}
        self._to_async_ctor: set[cst.Call] = set()
        self._add_new_callable: set[cst.Call] = set()
        self._swap_new_callable: set[cst.Call] = set()
        self._config_rewrites: dict[cst.Assign, ConfigRewrite] = {}
        self._deep_lines: set[cst.SimpleStatementLine] = set()
        self._merged_lines: set[cst.SimpleStatementLine] = set()
        self._async_mock_style: tuple[str, str] = ("from", mock.MODULE)

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # Every rewrite names an async function (in a chain, a keyword or a patch target string), so a
        # module without any of those words is returned before LibCST computes scopes, which is most
        # of the cost.
        code = module_code(tree)
        if self.async_names.keys().isdisjoint(IDENTIFIER.findall(code)) or not self._may_name_a_double(code):
            return tree
        return super().transform_module(tree)

    def _may_name_a_double(self, code: str) -> bool:
        """Does the module hold, as ``ast`` reads it, a place where a rewrite (or a warning) can start: an
        assignment to a chain with an async name among its attributes (a configuration, ``x.m = Mock()``),
        a keyword argument of that name (``Mock(m=Mock())``), a string naming it (a patch target)? A
        module that merely calls the functions has none. Code ``ast`` cannot read may have one."""
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return True
        names = self.async_names
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in names:
                return True
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.rsplit(".", 1)[-1] in names:
                    return True
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    while isinstance(target, ast.Attribute):
                        if target.attr in names:
                            return True
                        target = target.value
        return False

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self._reset()
        result = super().transform_module_impl(tree)
        remove_imports_no_longer_read(self.context, tree, result)  # ``MagicMock`` once every one is an AsyncMock
        return result

    # -- names ---------------------------------------------------------------------------------

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        names: Collection[QualifiedName] = self.get_metadata(QualifiedNameProvider, node, set())
        return {self._absolute(name) for name in names}

    def _absolute(self, name: QualifiedName) -> str:
        module = self.context.full_module_name
        if name.source is QualifiedNameSource.LOCAL and module:
            return f"{module}.{name.name}"
        if name.name.startswith("."):
            package = self.context.full_package_name
            if package is None and module:
                package = module.rpartition(".")[0]
            return name.name if package is None else absolute_name(package, name.name)
        return name.name

    def _is(self, node: cst.CSTNode, names: frozenset[str]) -> bool:
        return not self._qualified(node).isdisjoint(names)

    def _candidates(self, name: str) -> str:
        matches = self.async_names.get(name, [])
        shown = ", ".join(matches[:3])
        return shown + (f" and {len(matches) - 3} more" if len(matches) > 3 else "")

    def _where(self, node: cst.CSTNode) -> str:
        path = self.context.filename or self.context.full_module_name or "<unknown>"
        line = self.get_metadata(PositionProvider, node).start.line
        return f"{path}:{line}"

    # -- the AsyncMock reference -------------------------------------------------------------

    def _choose_async_mock_style(self, module: cst.Module) -> None:
        """Pick how to spell AsyncMock from the file's own top-level mock imports."""
        existing: str | None = None
        from_module: str | None = None
        alias: str | None = None
        for statement in module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    source = get_full_name_for_node(small.module)
                    if isinstance(small.names, cst.ImportStar):
                        continue
                    for imported in small.names:
                        name = imported.evaluated_name
                        local = imported.evaluated_alias or name
                        if source in MOCK_MODULES and name == mock.ASYNC_MOCK and existing is None:
                            existing = local
                        elif source in MOCK_MODULES and from_module is None:
                            from_module = source
                        elif source == mock.PARENT_MODULE and name == mock.SUBMODULE and alias is None:
                            alias = local
                elif isinstance(small, cst.Import):
                    for imported in small.names:
                        name = imported.evaluated_name
                        if name in MOCK_MODULES and alias is None:
                            alias = imported.evaluated_alias or name
        if existing is not None:
            self._async_mock_style = ("name", existing)
        elif from_module is not None:
            self._async_mock_style = ("from", from_module)
        elif alias is not None:
            self._async_mock_style = ("attribute", alias)
        else:
            self._async_mock_style = ("from", mock.MODULE)

    def _async_mock(self) -> cst.BaseExpression:
        """The expression naming AsyncMock; adds the import only when a rewrite asks for it."""
        style, value = self._async_mock_style
        if style == "name":
            return cst.Name(value)
        if style == "from":
            self.add_needed_import(value, mock.ASYNC_MOCK)
            return cst.Name(mock.ASYNC_MOCK)
        return cst.parse_expression(f"{value}.{mock.ASYNC_MOCK}")

    # -- what a call creates -------------------------------------------------------------------

    def _mock_kind(self, call: cst.Call) -> MockKind | None:
        """The kind of mock ``call`` creates; None when it creates no mock."""
        if self._is(call.func, SYNC_MOCKS):
            return self._constructor_kind(call)
        if self._is(call.func, ASYNC_MOCKS | AUTOSPECS):
            return MockKind.ASYNC_AWARE
        if self._is(call.func, PATCHES | PATCH_OBJECTS):
            return self._patch_kind(call)
        return None

    def _constructor_kind(self, call: cst.Call) -> MockKind:
        for position, arg in enumerate(call.args):
            if arg.star:
                return MockKind.UNKNOWN
            name = keyword(arg) or ("spec" if position == 0 else None)
            if name == "wraps":
                return MockKind.UNKNOWN
            if name in ("spec", "spec_set"):
                # A list of names gives no functions to inspect, so the children stay plain.
                if isinstance(arg.value, (cst.List, cst.Tuple, cst.Set)):
                    continue
                return MockKind.SPEC
        return MockKind.SPECLESS

    def _is_specless_constructor(self, node: cst.BaseExpression) -> bool:
        return (
            isinstance(node, cst.Call)
            and self._is(node.func, SYNC_MOCKS)
            and self._constructor_kind(node) is MockKind.SPECLESS
        )

    def _patch_targets(self, call: cst.Call) -> set[str]:
        """Dotted names a patch/patch.object call replaces."""
        if not call.args or call.args[0].keyword is not None:
            return set()
        if self._is(call.func, PATCHES):
            target = call.args[0].value
            if isinstance(target, cst.SimpleString) and isinstance(target.evaluated_value, str):
                return {target.evaluated_value}
            return set()
        if len(call.args) < 2 or call.args[1].keyword is not None:
            return set()
        attribute = call.args[1].value
        if not isinstance(attribute, cst.SimpleString) or not isinstance(attribute.evaluated_value, str):
            return set()
        return {f"{owner}.{attribute.evaluated_value}" for owner in self._qualified(call.args[0].value)}

    def _patch_positional_limit(self, call: cst.Call) -> int:
        """How many positional arguments come before ``new``."""
        return 1 if self._is(call.func, PATCHES) else 2

    def _patch_kind(self, call: cst.Call) -> MockKind:
        if not self._patch_targets(call).isdisjoint(self.async_functions):
            return MockKind.ASYNC_AWARE
        positional = [arg for arg in call.args if arg.keyword is None]
        if any(arg.star for arg in call.args) or len(positional) > self._patch_positional_limit(call):
            return MockKind.UNKNOWN
        keywords = {keyword(arg): arg for arg in call.args}
        if "new" in keywords:
            return MockKind.UNKNOWN
        if "new_callable" in keywords:
            kind = MockKind.ASYNC_AWARE if self._is(keywords["new_callable"].value, ASYNC_MOCKS) else MockKind.UNKNOWN
            return kind
        if "autospec" in keywords:
            return MockKind.ASYNC_AWARE
        if "spec" in keywords or "spec_set" in keywords:
            return MockKind.SPEC
        return MockKind.SPECLESS

    def _injects_mock(self, call: cst.Call) -> bool:
        """A patch decorator passes its mock as an argument unless it was given ``new``."""
        positional = [arg for arg in call.args if arg.keyword is None]
        return len(positional) <= self._patch_positional_limit(call) and all(keyword(a) != "new" for a in call.args)

    # -- module and class pre-passes ------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._choose_async_mock_style(node)
        self._scopes.append(ScopeState(function=None))
        for statement in node.body:
            functions: list[cst.BaseStatement] = [statement]
            if isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
                functions = list(statement.body.body)
            for function in functions:
                if isinstance(function, cst.FunctionDef):
                    self._register_fixture(function)

    def _register_fixture(self, function: cst.FunctionDef) -> None:
        name = function.name.value
        is_fixture = False
        for decorator in function.decorators:
            expression = decorator.decorator
            call = expression if isinstance(expression, cst.Call) else None
            if self._is(call.func if call else expression, FIXTURES):
                is_fixture = True
                for arg in call.args if call else ():
                    if keyword(arg) == "name" and isinstance(arg.value, cst.SimpleString):
                        value = arg.value.evaluated_value
                        name = value if isinstance(value, str) else name
        if not is_fixture or not isinstance(function.body, cst.IndentedBlock):
            return
        returns = _Returns()
        function.body.visit(returns)
        bindings = {self._returned_binding(function, value) for value in returns.values}
        if len(bindings) == 1:
            (binding,) = bindings
            if binding is not None:
                self._fixtures[name] = binding

    def _returned_binding(self, function: cst.FunctionDef, value: cst.BaseExpression) -> MockBinding | None:
        if isinstance(value, cst.Call):
            kind = self._mock_kind(value)
            return MockBinding(kind) if kind is not None else None
        if not isinstance(value, cst.Name):
            return None
        binding = self._name_binding(value)
        if binding is None:
            return None
        return MockBinding(binding.kind, self._chains_under(function, [value.value]))

    def _chains_under(self, function: cst.FunctionDef, root: list[str]) -> frozenset[str]:
        """Chains below ``root`` that ``function`` assigns or configures, relative to ``root``."""
        collector = _AssignedChains()
        function.visit(collector)
        found: set[str] = set()
        for parts in collector.targets:
            if parts[: len(root)] != root:
                continue
            relative = parts[len(root) :]
            for index, part in enumerate(relative):
                if part in CONFIG_KEYS and index > 0:
                    found.add(".".join(relative[:index]))
            if relative and relative[-1] not in CONFIG_KEYS:
                found.add(".".join(relative))
        return frozenset(found)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        kinds: dict[str, set[MockKind]] = {}
        homes: dict[str, set[cst.FunctionDef]] = {}
        if isinstance(node.body, cst.IndentedBlock):
            for method in node.body.body:
                if not isinstance(method, cst.FunctionDef):
                    continue
                collector = _AssignedChains()
                method.visit(collector)
                for parts, value in zip(collector.targets, collector.values, strict=True):
                    if len(parts) != 2 or parts[0] != "self":
                        continue
                    kind = self._mock_kind(value) if isinstance(value, cst.Call) else None
                    kinds.setdefault(parts[1], set()).add(kind or MockKind.UNKNOWN)
                    homes.setdefault(parts[1], set()).add(method)
        bindings: dict[str, MockBinding] = {}
        for attribute, found in kinds.items():
            kind = found.pop() if len(found) == 1 else MockKind.UNKNOWN
            chains: set[str] = set()
            for method in homes[attribute]:
                chains |= self._chains_under(method, ["self", attribute])
            bindings[attribute] = MockBinding(kind, frozenset(chains))
        self._classes.append(ClassState(bindings, homes))
        self._scopes.append(ScopeState(function=None))

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._classes.pop()
        self._scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(ScopeState(function=node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._scopes.pop()
        return updated_node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        parts = dotted_parts(node)
        if parts is not None:
            self._scopes[-1].seen.add(".".join(parts))

    # -- 1. patch / patch.object, 3. Mock(child=Mock()) ------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        if self._is(node.func, PATCHES | PATCH_OBJECTS):
            self._visit_patch(node)
        elif self._is(node.func, SYNC_MOCKS):
            for arg in node.args:
                name = keyword(arg)
                if name in self.async_names and name not in MOCK_PARAMETERS:
                    if self._is_specless_constructor(arg.value):
                        assert isinstance(arg.value, cst.Call)
                        self._to_async_ctor.add(arg.value)
                        self._warn_guess(arg, f"{name}=", str(name))

    def _new_of_async_patch(self, call: cst.Call) -> cst.Arg | None:
        """The ``new`` argument of a patch of a function turning async, given by position or keyword."""
        if self._patch_targets(call).isdisjoint(self.async_functions) or any(arg.star for arg in call.args):
            return None
        limit = self._patch_positional_limit(call)
        positional = [arg for arg in call.args if arg.keyword is None]
        if len(positional) > limit:
            return positional[limit]
        return next((arg for arg in call.args if keyword(arg) == "new"), None)

    def _visit_patch(self, call: cst.Call) -> None:
        if self._patch_targets(call).isdisjoint(self.async_functions):
            return
        if any(arg.star for arg in call.args):
            return
        keywords = {keyword(arg): arg for arg in call.args if arg.keyword is not None}
        new = self._new_of_async_patch(call)
        if new is not None:
            # The replacement is given: only a spec-less sync mock is certainly wrong for it.
            if self._is_specless_constructor(new.value):
                assert isinstance(new.value, cst.Call)
                self._to_async_ctor.add(new.value)
            return
        if "new_callable" in keywords:
            if self._is(keywords["new_callable"].value, SYNC_MOCKS):
                self._swap_new_callable.add(call)
            return
        if "autospec" in keywords:
            return  # patch refuses autospec together with new_callable; autospec handles async itself
        self._add_new_callable.add(call)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if original_node in self._to_async_ctor:
            return updated_node.with_changes(func=self._async_mock())
        if original_node in self._add_new_callable:
            return append_arg(updated_node, keyword_arg("new_callable", self._async_mock()))
        if original_node in self._swap_new_callable:
            args = [
                arg.with_changes(value=self._async_mock()) if keyword(arg) == "new_callable" else arg
                for arg in updated_node.args
            ]
            return updated_node.with_changes(args=args)
        return updated_node

    # -- 2. configured chains, 3. x.method = Mock() ----------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        if isinstance(node.targets[0].target, cst.Name) and self._is_specless_constructor(node.value):
            self._consider_local_given_as_new(node.targets[0].target, node.value)
        parts = dotted_parts(node.targets[0].target)
        if parts is None or len(parts) < 2:
            return
        state = self._scopes[-1]
        configured = next(
            (
                index
                for index in range(1, len(parts) - 1)
                if parts[index] in self.async_names and parts[index + 1] in CONFIG_KEYS
            ),
            None,
        )
        if configured is not None:
            self._consider_configuration(node, parts, configured + 1, state)
        elif parts[-1] in self.async_names and self._is_specless_constructor(node.value):
            assert isinstance(node.value, cst.Call)
            self._to_async_ctor.add(node.value)
            target = node.targets[0].target
            assert isinstance(target, cst.Attribute)
            exact = {f"{owner}.{parts[-1]}" for owner in self._qualified(target.value)}
            if exact.isdisjoint(self.async_functions):
                self._warn_guess(node, ".".join(parts), parts[-1])
        # Whatever is assigned or configured now is what later configurations of it configure.
        for index, part in enumerate(parts):
            if part in CONFIG_KEYS and index > 0:
                state.configured.add(".".join(parts[:index]))
        state.configured.add(".".join(parts))
        if isinstance(node.value, cst.Call):
            kind = self._mock_kind(node.value)
            if kind is not None:
                state.bindings[".".join(parts)] = kind

    def _consider_local_given_as_new(self, target: cst.Name, value: cst.BaseExpression) -> None:
        """``fake = MagicMock(...)`` then ``patch.object(Cls, "method", fake)`` (or ``new=fake``) for a method
        turning async: the local's constructor becomes ``AsyncMock``, where the local is bound only here and
        read only as that ``new`` and through its attributes (``fake.assert_called_once()``). Called directly
        somewhere, it is left and warned: an ``AsyncMock`` would change what that call returns."""
        scope = self.get_metadata(ScopeProvider, target, None)
        if not isinstance(scope, Scope):
            return
        assignments = [a for a in scope.assignments[target.value] if isinstance(a, Assignment)]
        if len(assignments) != 1 or assignments[0].node is not target:
            return
        given: list[cst.CSTNode] = []
        other_reads: list[cst.CSTNode] = []
        for reference in assignments[0].references:
            parent = self.get_metadata(ParentNodeProvider, reference.node, None)
            holder = self.get_metadata(ParentNodeProvider, parent, None) if isinstance(parent, cst.Arg) else None
            if isinstance(holder, cst.Call) and self._is(holder.func, PATCHES | PATCH_OBJECTS):
                if self._new_of_async_patch(holder) is parent:
                    given.append(reference.node)
                    continue
            if isinstance(parent, cst.Attribute) and parent.value is reference.node:
                continue  # an assertion or a configuration of the mock: the AsyncMock has them too
            other_reads.append(reference.node)
        if not given:
            return
        if other_reads:
            self._warn(
                other_reads[0],
                f"{target.value} is handed to patch as the replacement of a function now async and also read "
                f"here: left a sync mock; make it an {mock.ASYNC_MOCK} if it stands for that function",
            )
            return
        assert isinstance(value, cst.Call)
        self._to_async_ctor.add(value)

    def _consider_configuration(self, node: cst.Assign, parts: list[str], length: int, state: ScopeState) -> None:
        chain = ".".join(parts[:length])
        if chain in state.configured:
            return  # an earlier statement made or configured it: this one configures that
        found = self._binding_for(node, parts[: length - 1], state)
        if found is None:
            self._warn(
                node,
                f"{chain} left as is: cannot see where {parts[0]} is created; if it is a mock "
                f"without a spec, make {chain} an {mock.ASYNC_MOCK} ({self._candidates(parts[length - 1])} is async)",
            )
            return
        binding, root_length = found
        depth = length - root_length
        if binding.kind is MockKind.ASYNC_AWARE or (binding.kind is MockKind.SPEC and depth == 1):
            return
        if binding.kind is MockKind.UNKNOWN:
            self._warn(
                node,
                f"{chain} left as is: {'.'.join(parts[:root_length])} is not a mock this codemod can "
                f"read; if {chain} is a plain mock, make it an {mock.ASYNC_MOCK}",
            )
            return
        if ".".join(parts[root_length:length]) in binding.home_chains:
            return  # converted where the mock is created
        if chain in state.seen:
            self._warn(
                node,
                f"{chain} left as is: it is used before this configuration; "
                f"make it an {mock.ASYNC_MOCK} where the mock is created",
            )
            return
        if not self._runs_once(node):
            self._warn(
                node,
                f"{chain} left as is: configured inside a loop or branch; "
                f"make it an {mock.ASYNC_MOCK} where the mock is created",
            )
            return
        line = self.get_metadata(ParentNodeProvider, node)
        direct = len(parts) == length + 1
        if not direct and not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
            self._warn(node, f"{chain} left as is: put this configuration on a line of its own")
            return
        self._config_rewrites[node] = ConfigRewrite(length, parts[length], direct)
        if not direct:
            assert isinstance(line, cst.SimpleStatementLine)
            self._deep_lines.add(line)
        else:
            self._plan_merge(node, chain, parts[length])
        self._warn_guess(node, chain, parts[length - 1])

    def _binding_for(self, node: cst.Assign, prefix: list[str], state: ScopeState) -> tuple[MockBinding, int] | None:
        """The mock ``prefix`` (the chain above the configured function) hangs from, with its length."""
        for length in range(len(prefix), 1, -1):
            kind = state.bindings.get(".".join(prefix[:length]))
            if kind is not None:
                return MockBinding(kind), length
        if prefix[0] == "self" and len(prefix) > 1 and self._classes:
            cls = self._classes[-1]
            binding = cls.self_bindings.get(prefix[1])
            if binding is not None:
                if state.function in cls.home_methods.get(prefix[1], set()):
                    binding = MockBinding(binding.kind)  # the home method tracks its own chains
                return binding, 2
        root: cst.BaseExpression = node.targets[0].target
        while isinstance(root, cst.Attribute):
            root = root.value
        assert isinstance(root, cst.Name)
        binding = self._name_binding(root)
        return (binding, 1) if binding is not None else None

    def _name_binding(self, name: cst.Name) -> MockBinding | None:
        scope = self.get_metadata(ScopeProvider, name, None)
        if not isinstance(scope, Scope):
            return None
        bindings: set[MockBinding] = set()
        for assignment in scope[name.value]:
            if not isinstance(assignment, Assignment) or assignment.scope is not scope:
                continue
            binding = self._assignment_binding(assignment)
            if binding is None and isinstance(assignment.node, cst.Param):
                return None  # filled by a caller or a fixture this module does not define
            bindings.add(binding or MockBinding(MockKind.UNKNOWN))
        if not bindings:
            return None
        return bindings.pop() if len(bindings) == 1 else MockBinding(MockKind.UNKNOWN)

    def _assignment_binding(self, assignment: Assignment) -> MockBinding | None:
        node = assignment.node
        if isinstance(node, cst.Param):
            return self._parameter_binding(node)
        if not isinstance(node, cst.Name):
            return None
        parent = self.get_metadata(ParentNodeProvider, node)
        if isinstance(parent, cst.AssignTarget):
            statement = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
                value = statement.value
                kind = self._mock_kind(value) if isinstance(value, cst.Call) else None
                return MockBinding(kind) if kind is not None else None
        if isinstance(parent, cst.AsName):
            item = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(item, cst.WithItem) and isinstance(item.item, cst.Call):
                kind = self._mock_kind(item.item)
                return MockBinding(kind) if kind is not None else None
        return None

    def _parameter_binding(self, param: cst.Param) -> MockBinding | None:
        parameters = self.get_metadata(ParentNodeProvider, param)
        function = self.get_metadata(ParentNodeProvider, parameters)
        if not isinstance(parameters, cst.Parameters) or not isinstance(function, cst.FunctionDef):
            return None
        positional = [*parameters.posonly_params, *parameters.params]
        if param in positional:
            # @patch decorators fill the first parameters (after self), the nearest decorator first.
            patches = [
                decorator.decorator
                for decorator in reversed(function.decorators)
                if isinstance(decorator.decorator, cst.Call)
                and self._is(decorator.decorator.func, PATCHES | PATCH_OBJECTS)
                and self._injects_mock(decorator.decorator)
            ]
            offset = 1 if positional and positional[0].name.value in ("self", "cls") else 0
            index = positional.index(param) - offset
            if 0 <= index < len(patches):
                return MockBinding(self._patch_kind(patches[index]))
        if param.default is None and self._takes_fixtures(function):
            return self._fixtures.get(param.name.value)
        return None

    def _takes_fixtures(self, function: cst.FunctionDef) -> bool:
        """pytest fills the parameters of tests and fixtures only; a helper's are whatever it is given."""
        if function.name.value.startswith("test"):
            return True
        return any(
            self._is(
                decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator,
                FIXTURES,
            )
            for decorator in function.decorators
        )

    def _runs_once(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` runs exactly when its function's first line runs (no loop, no branch)."""
        parent = self.get_metadata(ParentNodeProvider, node)
        while not isinstance(parent, (cst.FunctionDef, cst.Module, cst.ClassDef)):
            if not isinstance(parent, STRAIGHT_LINE):
                return False
            parent = self.get_metadata(ParentNodeProvider, parent)
        return True

    def _plan_merge(self, node: cst.Assign, chain: str, key: str) -> None:
        """Fold the next line into this AsyncMock when it sets the other key of the same chain."""
        line = self.get_metadata(ParentNodeProvider, node)
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or line.trailing_whitespace.comment:
            return
        block = self.get_metadata(ParentNodeProvider, line)
        if not isinstance(block, (cst.IndentedBlock, cst.Module)):
            return
        body = list(block.body)
        index = next(i for i, statement in enumerate(body) if statement is line)
        if index + 1 >= len(body):
            return
        following = body[index + 1]
        if (
            not isinstance(following, cst.SimpleStatementLine)
            or following.leading_lines
            or following.trailing_whitespace.comment
            or len(following.body) != 1
            or not isinstance(following.body[0], cst.Assign)
            or len(following.body[0].targets) != 1
        ):
            return
        assign = following.body[0]
        other = dotted_parts(assign.targets[0].target)
        if other is None or ".".join(other[:-1]) != chain or other[-1] not in CONFIG_KEYS - {key}:
            return
        collector = _AssignedChains()
        assign.value.visit(collector)
        chain_parts = chain.split(".")
        if any(parts[: len(chain_parts)] == chain_parts for parts in collector.read):
            return  # the value reads the chain being replaced: keep the original order
        self._merged_lines.add(following)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        rewrite = self._config_rewrites.get(original_node)
        if rewrite is None or not rewrite.direct:
            return updated_node
        target = updated_node.targets[0].target
        assert isinstance(target, cst.Attribute)
        call = cst.Call(func=self._async_mock(), args=[keyword_arg(rewrite.key, updated_node.value)])
        return updated_node.with_changes(
            targets=[updated_node.targets[0].with_changes(target=target.value)], value=call
        )

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if original_node not in self._deep_lines:
            return updated_node
        original_assign = original_node.body[0]
        assign = updated_node.body[0]
        assert isinstance(original_assign, cst.Assign) and isinstance(assign, cst.Assign)
        rewrite = self._config_rewrites[original_assign]
        chain: cst.BaseExpression = assign.targets[0].target
        for _ in range(len(dotted_parts(chain) or ()) - rewrite.chain_length):
            assert isinstance(chain, cst.Attribute)
            chain = chain.value
        assert isinstance(chain, cst.Attribute)  # the chain has a root and at least the function's name
        created = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(chain)], value=cst.Call(func=self._async_mock()))],
            leading_lines=updated_node.leading_lines,
        )
        return cst.FlattenSentinel([created, updated_node.with_changes(leading_lines=())])

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._merge(original_node.body, updated_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._merge(original_node.body, updated_node.body))

    def _merge(
        self, original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> Sequence[cst.BaseStatement]:
        """Fold each merged line's value into the AsyncMock(...) on the line before it."""
        if not any(line in self._merged_lines for line in original):
            return updated
        result: list[cst.BaseStatement] = []
        position = 0
        for line in original:
            width = 2 if line in self._deep_lines else 1
            produced = list(updated[position : position + width])
            position += width
            if line not in self._merged_lines:
                result.extend(produced)
                continue
            (merged,) = produced
            previous = result[-1]
            assert isinstance(merged, cst.SimpleStatementLine) and isinstance(previous, cst.SimpleStatementLine)
            source, target = merged.body[0], previous.body[0]
            assert isinstance(source, cst.Assign) and isinstance(target, cst.Assign)
            assert isinstance(target.value, cst.Call)
            key = dotted_parts(source.targets[0].target)
            assert key is not None
            call = append_arg(target.value, keyword_arg(key[-1], source.value))
            result[-1] = previous.with_changes(body=[target.with_changes(value=call)])
        return result

    # -- warnings ---------------------------------------------------------------------------------

    def _warn(self, node: cst.CSTNode, message: str) -> None:
        self.warn(f"{self._where(node)}: {message}")

    def _warn_guess(self, node: cst.CSTNode, label: str, name: str) -> None:
        self._warn(
            node,
            f"{label} made an {mock.ASYNC_MOCK} by name only: {name} matches async {self._candidates(name)}; "
            "check that the mock stands for it",
        )


class _AssignedChains(cst.CSTVisitor):
    """Dotted assignment targets (with their values) and dotted reads, without metadata."""

    def __init__(self) -> None:
        self.targets: list[list[str]] = []
        self.values: list[cst.BaseExpression] = []
        self.read: list[list[str]] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            parts = dotted_parts(target.target)
            if parts is not None:
                self.targets.append(parts)
                self.values.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        parts = dotted_parts(node)
        if parts is not None:
            self.read.append(parts)


class _Returns(cst.CSTVisitor):
    """The values a function returns or yields, not looking into nested functions or classes."""

    def __init__(self) -> None:
        self.values: list[cst.BaseExpression] = []

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False
