"""Carry the test doubles of the sync facade over to what migrated code now calls.

``migrate_test_doubles`` turns doubles of functions that *became* async into ``AsyncMock``; this
codemod handles doubles of the facade *itself*, whose calls the rewrite replaced by repository calls.
Left alone, such a double no longer stands between the test and the database (a patched factory the
module stopped importing) or stands there with the wrong methods (a ``MagicMock(spec=Facade)`` whose
``get_player`` the code no longer calls). Three forms, each found inside one test function:

1. **A patched factory** — ``patch("pkg.mod.get_db")`` / ``patch.object(mod, "get_db")`` (decorator or
   ``with ... as m``) of a factory the rewrite removed from ``pkg.mod``: the patch moves to the
   repository provider ``pkg.mod`` now imports and returns an ``AsyncMock(spec=RepositoryClass)`` (async
   methods awaitable, sync ones not). What the test configured on the facade (``m.return_value.get_user
   .return_value = u``) moves to the mapped repository method (``m.return_value.get_user_by_id``).
2. **A patched facade method** — ``patch.object(Facade, "m", ...)`` / ``patch("pkg.Facade.m")``: the
   patch moves to the repository method, with ``new_callable=AsyncMock`` when that method is awaited.
3. **An injected spec'd mock** — ``fake = MagicMock(spec=Facade)`` (a local, a fixture of the same module, or
   ``self.fake`` set in one method of a test class) stays the injected object; each
   mapped method the test touches is reached the way the plan's ``from_received`` says (``itself``:
   ``fake.get_user_by_id``; ``attribute:users``: ``fake.users.get_user_by_id``) and becomes an
   ``AsyncMock``: ``fake.get_user.return_value = u`` -> ``fake.get_user_by_id = AsyncMock(return_value=u)``,
   or ``fake.get_user_by_id = AsyncMock()`` right after the mock is made when the first use is not a
   plain configuration (an assertion, a deeper chain, a configuration in a branch).

Assertions follow the double: ``assert_called_once_with(...)`` -> ``assert_awaited_once_with(...)``
(keyword arguments renamed as the mapping renames them), ``call_args``/``called``/``reset_mock()`` kept
on the new method. A double that cannot be carried over is a blocker (``outcome.blockers``, file:line
and a fix a person can apply) and the file is returned unchanged.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import PositionProvider, QualifiedNameProvider

from asyncmigrate.codemods._imports import SkipsNeedlessImportCleanup, remove_imports_no_longer_read
from asyncmigrate.codemods._passes import QuickVisitorCommand, module_code
from asyncmigrate.codemods._syntax import body_insert_index
from asyncmigrate.codemods.migrate_test_doubles import (
    ASYNC_MOCKS,
    IDENTIFIER,
    PATCH_OBJECTS,
    PATCHES,
    SYNC_MOCKS,
    _Returns,
    append_arg,
    dotted_parts,
    keyword,
    keyword_arg,
)
from asyncmigrate.config.modules import ModuleLayout, plan_layout
from asyncmigrate.config.plan import Plan
from asyncmigrate.frameworks import mock, pytest
from asyncmigrate.frameworks.mock import ASYNC_MOCK, MAGIC_MOCK

AWAIT_ASSERTIONS = mock.AWAIT_ASSERTIONS
ASSERTIONS_WITH_ARGUMENTS = mock.ASSERTIONS_WITH_ARGUMENTS
CONFIG_KEYS = mock.CONFIG_KEYS
MOCK_ATTRIBUTES = frozenset(
    {
        *CONFIG_KEYS,
        *AWAIT_ASSERTIONS,
        "assert_has_calls",
        "call_args",
        "call_args_list",
        "called",
        "call_count",
        "reset_mock",
        "mock_calls",
    }
)
CALL_HISTORY = mock.CALL_HISTORY
FIXTURES = pytest.FIXTURE_DECORATORS


@dataclass(frozen=True)
class DoubleTarget:
    """Where calls to one facade method went: ``get_user`` -> ``users.get_user_by_id``."""

    repository: str
    method: str
    awaitable: bool
    repository_class: str  # qualified
    renames: tuple[tuple[str, str], ...] = ()
    from_received: str | None = None  # "itself", "attribute:<path>", "depends" or None
    # The mapping lays the arguments out anew (positional order, constants, a parameter object): what a
    # double recorded of the facade call's arguments says nothing of the repository call's.
    reshaped: bool = False
    adapter: str | None = None  # the call goes through this function, which picks the repository calls


@dataclass(frozen=True)
class MigratedModule:
    """What the rewrite changed at the top of one module."""

    removed: frozenset[str]  # names the module bound before and no longer binds (factories)
    providers: Mapping[str, str]  # repository -> the name the module now imports its provider under
    # factories the module still binds (its unmapped calls keep them) while its mapped calls now go
    # through ``providers``: a patch of one no longer stands between those calls and the database
    retained: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FacadeDoubles:
    """Everything the codemod needs, read from the plan and the migrated modules."""

    classes: frozenset[str]
    targets: Mapping[str, DoubleTarget]  # facade method -> target
    modules: Mapping[str, MigratedModule]  # dotted module -> what changed there
    class_attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)  # facade class -> names

    def to_json(self) -> dict[str, Any]:
        """Plain data, for the edit plan (sorted, so one input always gives one document)."""
        return {
            "classes": sorted(self.classes),
            "targets": {
                method: {
                    "repository": t.repository,
                    "method": t.method,
                    "awaitable": t.awaitable,
                    "repository_class": t.repository_class,
                    "renames": [list(pair) for pair in t.renames],
                    "from_received": t.from_received,
                }
                for method, t in sorted(self.targets.items())
            },
            "modules": {
                name: {"removed": sorted(m.removed), "providers": dict(sorted(m.providers.items()))}
                for name, m in sorted(self.modules.items())
            },
            "class_attributes": {name: sorted(names) for name, names in sorted(self.class_attributes.items())},
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> FacadeDoubles:
        targets = {
            method: DoubleTarget(
                str(t["repository"]),
                str(t["method"]),
                bool(t["awaitable"]),
                str(t["repository_class"]),
                tuple((str(a), str(b)) for a, b in t.get("renames", [])),
                t.get("from_received"),
            )
            for method, t in data["targets"].items()
        }
        modules = {
            name: MigratedModule(frozenset(m["removed"]), dict(m["providers"])) for name, m in data["modules"].items()
        }
        attributes = {name: frozenset(names) for name, names in data.get("class_attributes", {}).items()}
        return FacadeDoubles(frozenset(data["classes"]), targets, modules, attributes)


@dataclass(frozen=True)
class DoubleBlocker:
    line: int
    message: str
    fix: str


@dataclass
class DoublesOutcome:
    carried: int = 0  # doubles carried over
    blockers: list[DoubleBlocker] = field(default_factory=list)


@dataclass
class _Double:
    """One facade double inside one function: the chains that stand for the facade (or the method)."""

    kind: str  # FACTORY, METHOD or RECEIVED
    roots: list[tuple[str, ...]]
    anchor: cst.CSTNode  # the statement after which, or the function/with at whose top, mocks are made
    target: DoubleTarget | None = None  # METHOD: where the patched method went
    repository_class: str = ""  # FACTORY: the class the patched provider's AsyncMock is spec'd with
    spec_set: bool = False  # RECEIVED: made with spec_set=, which refuses new attributes
    premade: frozenset[str] = frozenset()  # RECEIVED from a fixture: facade methods the fixture made
    patched: str = ""  # RETAINED: the factory patched, as ``pkg.mod.factory``


FACTORY, METHOD, RECEIVED, RETAINED = "factory", "method", "received", "retained"


class _Blocked(Exception):
    def __init__(self, node: cst.CSTNode, message: str, fix: str) -> None:
        super().__init__(message)
        self.node, self.message, self.fix = node, message, fix


def _short(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1]


class MigrateFacadeDoublesCommand(SkipsNeedlessImportCleanup, QuickVisitorCommand):
    DESCRIPTION = "Move test doubles of the sync facade to the repositories migrated code now calls."
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, context: CodemodContext, doubles: FacadeDoubles) -> None:
        super().__init__(context)
        self.doubles = doubles
        self.outcome = DoublesOutcome()
        self._reset()

    def _reset(self) -> None:
        # Decisions are taken on original nodes while visiting; ``on_leave`` applies them.
        self._replace: dict[cst.CSTNode, cst.CSTNode] = {}
        self._renames: dict[cst.CSTNode, dict[str, str]] = {}  # assertion call -> keyword renames
        self._after: dict[cst.CSTNode, list[cst.BaseStatement]] = {}  # statement line -> lines after it
        self._top: dict[cst.CSTNode, list[cst.BaseStatement]] = {}  # function or with -> lines at its top
        self._fixtures: dict[str, tuple[bool, frozenset[str]]] = {}  # fixture -> (spec_set, methods it makes)
        self._class_roots: list[set[tuple[str, ...]]] = []  # ``self.x`` doubles of the enclosing classes

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # A module that cannot hold a double is returned before LibCST computes its metadata (its
        # qualified names, so its scopes), which is most of the cost.
        if not may_hold_doubles(module_code(tree), self.doubles):
            self.outcome = DoublesOutcome()
            return tree
        return super().transform_module(tree)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.outcome = DoublesOutcome()
        self._reset()
        result = super().transform_module_impl(tree)
        if self.outcome.blockers:
            # Nothing is written for a file with a blocker, not even the imports the rewrite asked for.
            self.context.scratch.pop(AddImportsVisitor.CONTEXT_KEY, None)
            return tree
        remove_imports_no_longer_read(self.context, tree, result)  # the facade's class, the sync mock, ...
        return result

    # -- names ---------------------------------------------------------------------------------------

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        return {q.name for q in self.get_metadata(QualifiedNameProvider, node, set())}

    def _is(self, node: cst.CSTNode, names: frozenset[str]) -> bool:
        return not self._qualified(node).isdisjoint(names)

    def _line(self, node: cst.CSTNode) -> int:
        return int(self.get_metadata(PositionProvider, node).start.line)

    def _mock(self, name: str) -> cst.Name:
        self.add_needed_import(mock.MODULE, name)
        return cst.Name(name)

    def _class(self, qualified: str) -> cst.Name:
        module, _, name = qualified.rpartition(".")
        self.add_needed_import(module, name)
        return cst.Name(name)

    def _limit(self, call: cst.Call) -> int:
        """How many positional arguments come before ``new``."""
        return 1 if self._is(call.func, PATCHES) else 2

    # -- finding the doubles of one function -----------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        """Fixtures of this module that return a spec'd facade mock: tests taking them get a double."""
        for statement in node.body:
            if not isinstance(statement, cst.FunctionDef) or not any(
                self._is(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator, FIXTURES)
                for d in statement.decorators
            ):
                continue
            returns = _Returns()
            statement.body.visit(returns)
            statements = _Statements()
            statement.body.visit(statements)
            made: dict[str, bool] = {}
            for _line, assign in statements.assigns:
                target = dotted_parts(assign.targets[0].target)
                spec_set = self._facade_spec(assign.value)
                if spec_set is not None and target is not None and len(target) == 1:
                    made[target[0]] = spec_set
            found: set[tuple[bool, frozenset[str]]] = set()
            for value in returns.values:
                spec_set = self._facade_spec(value)
                if spec_set is not None:
                    found.add((spec_set, frozenset()))
                elif isinstance(value, cst.Name) and value.value in made:
                    uses = _Uses([(value.value,)], frozenset(self.doubles.targets))
                    statement.body.visit(uses)
                    found.add((made[value.value], frozenset(u.method for u in uses.uses)))
            if len(found) == 1 and len(returns.values) == 1:
                self._fixtures[statement.name.value] = found.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        """``self.books = MagicMock(spec=Facade)`` in one method (``setUp``, a fixture) serves every method
        of the class: its repository methods are made right after it, and every use follows them."""
        roots: set[tuple[str, ...]] = set()
        self._class_roots.append(roots)
        if not isinstance(node.body, cst.IndentedBlock):
            return
        methods = [m for m in node.body.body if isinstance(m, cst.FunctionDef)]
        try:
            for method in methods:
                statements = _Statements()
                method.body.visit(statements)
                for line, assign in statements.assigns:
                    target = dotted_parts(assign.targets[0].target) if len(assign.targets) == 1 else None
                    spec_set = self._facade_spec(assign.value)
                    if spec_set is None or target is None or len(target) != 2 or target[0] != "self":
                        continue
                    roots.add(tuple(target))
                    double = _Double(RECEIVED, [tuple(target)], line, spec_set=spec_set)
                    self._carry_in([m.body for m in methods], double, in_place=False)
        except _Blocked as blocked:
            self.outcome.blockers.append(DoubleBlocker(self._line(blocked.node), blocked.message, blocked.fix))

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._class_roots.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        try:
            doubles = self._doubles_of(node)
            for double in doubles:
                self._carry(node, double)
            self._unseen_doubles(node, doubles)
        except _Blocked as blocked:
            self.outcome.blockers.append(DoubleBlocker(self._line(blocked.node), blocked.message, blocked.fix))
        return True

    def _doubles_of(self, function: cst.FunctionDef) -> list[_Double]:
        doubles: list[_Double] = []
        params = [p.name.value for p in function.params.params if p.name.value not in ("self", "cls")]
        injected = 0
        for decorator in reversed(function.decorators):  # the nearest decorator fills the first parameter
            call = decorator.decorator
            if not isinstance(call, cst.Call) or not self._is(call.func, PATCHES | PATCH_OBJECTS):
                continue
            name = None
            if _keyword_arg(call, "new") is None and len(_positional(call)) <= self._limit(call):
                # no replacement given: the patch injects its mock as the next parameter
                name = params[injected] if injected < len(params) else None
                injected += 1
            double = self._patch_double(call, name, function)
            if double is not None:
                doubles.append(double)
        statements = _Statements()
        function.body.visit(statements)
        for with_node, item in statements.withs:
            if isinstance(item.item, cst.Call) and self._is(item.item.func, PATCHES | PATCH_OBJECTS):
                asname = item.asname.name if item.asname is not None else None
                name = asname.value if isinstance(asname, cst.Name) else None
                double = self._patch_double(item.item, name, with_node)
                if double is not None:
                    doubles.append(double)
        for double in [d for d in doubles if d.kind == FACTORY]:
            self._follow_factory_aliases(double, statements)
        aliased = {root for d in doubles for root in d.roots} | self._class_root_set()
        for name in params[injected:]:
            fixture = self._fixtures.get(name)
            if fixture is not None and (name,) not in aliased and function.name.value not in self._fixtures:
                doubles.append(_Double(RECEIVED, [(name,)], function, spec_set=fixture[0], premade=fixture[1]))
        for line, assign in statements.assigns:
            target = dotted_parts(assign.targets[0].target) if len(assign.targets) == 1 else None
            spec_set = self._facade_spec(assign.value)
            if spec_set is not None and target is not None and tuple(target) not in aliased:
                if len(target) == 1 and not _handed_on(function.body, target[0]):
                    continue  # configured and inspected, never given to code: no migrated code receives it
                doubles.append(_Double(RECEIVED, [tuple(target)], line, spec_set=spec_set))
        return doubles

    def visit_Call(self, node: cst.Call) -> None:
        """A patch of the facade this codemod did not carry over (``patcher = patch(...)`` started by hand, a
        patch at module level) would patch a name the migrated code no longer uses."""
        if node in self._replace or not self._is(node.func, PATCHES | PATCH_OBJECTS):
            return
        found = self._patch_target(node)
        if found is None:
            return
        owner, attribute = found
        module = self.doubles.modules.get(owner)
        if module is not None and attribute in module.removed:
            providers = ", ".join(f"{owner}.{p}" for p in sorted(module.providers.values()))
            instead = (
                f"patch {providers} with return_value={ASYNC_MOCK}(spec=<repository class>)"
                if providers
                else ("inject a double into the code under test")
            )
        elif owner in self.doubles.classes and attribute in self.doubles.targets:
            target = self.doubles.targets[attribute]
            how = f" with new_callable={ASYNC_MOCK}" if target.awaitable else ""
            instead = f"patch {target.repository_class}.{target.method}{how}"
        else:
            return
        line = self._line(node)
        if any(b.line == line for b in self.outcome.blockers):
            return
        self.outcome.blockers.append(
            DoubleBlocker(
                line,
                f"patch of {owner}.{attribute} is not a decorator or a `with ... as` the tool can follow",
                f"{instead}, or make the patch a decorator or a with statement the tool can follow",
            )
        )

    def _class_root_set(self) -> set[tuple[str, ...]]:
        return set().union(*self._class_roots) if self._class_roots else set()

    def _unseen_doubles(self, function: cst.FunctionDef, doubles: Sequence[_Double]) -> None:
        """A facade method configured or asserted on a mock this test receives from elsewhere (a fixture of
        another module, ``self.x`` set in ``setUp``) is a double the tool cannot see being made."""
        known = {root for d in doubles for root in d.roots} | self._class_root_set()
        params = {p.name.value for p in function.params.params}
        uses = _MockUses(frozenset(self.doubles.targets))
        function.body.visit(uses)
        for node, root in uses.found:
            if root in known or not (root[0] in params or root[0] == "self"):
                continue
            if root[0] == "self" and len(root) == 1:
                continue
            chain = ".".join(root)
            raise _Blocked(
                node,
                f"{chain}.{node.attr.value} configures a facade method on {chain}, made where the tool cannot see",
                f"make {chain} with {MAGIC_MOCK}(spec=<facade class>) in this test module (a fixture here or a "
                f"local), or move its configuration to the mapped repository method by hand",
            )

    def _facade_spec(self, value: cst.BaseExpression) -> bool | None:
        """``Mock(spec=Facade)``: False; ``Mock(spec_set=Facade)``: True; anything else: None."""
        if not isinstance(value, cst.Call) or not self._is(value.func, SYNC_MOCKS):
            return None
        for position, arg in enumerate(value.args):
            name = keyword(arg) or ("spec" if position == 0 and not arg.star else None)
            if name in ("spec", "spec_set") and self._is(arg.value, self.doubles.classes):
                return name == "spec_set"
        return None

    def _patch_double(self, call: cst.Call, name: str | None, anchor: cst.CSTNode) -> _Double | None:
        found = self._patch_target(call)
        if found is None:
            return None
        owner, attribute = found
        if owner in self.doubles.classes:
            target = self.doubles.targets.get(attribute)
            if target is None:
                return None  # an unmapped facade method stays on the facade
            if target.adapter is not None:
                raise _adapter_blocked(call, f"patch of {_short(owner)}.{attribute}", target)
            self._retarget_method_patch(call, target)
            return _Double(METHOD, [(name,)] if name else [], anchor, target=target)
        module = self.doubles.modules.get(owner)
        if module is not None and attribute in module.retained and name is not None:
            return _Double(RETAINED, [(name, "return_value")], anchor, patched=f"{owner}.{attribute}")
        if module is None or attribute not in module.removed:
            return None
        return self._retarget_factory_patch(call, owner, attribute, module, name, anchor)

    def _patch_target(self, call: cst.Call) -> tuple[str, str] | None:
        """(owner, attribute) a patch replaces: ``patch("a.b.c")`` -> ("a.b", "c")."""
        if any(a.star for a in call.args):
            return None
        positional = _positional(call)
        if self._is(call.func, PATCHES):
            if not positional or not isinstance(positional[0].value, cst.SimpleString):
                return None
            value = positional[0].value.evaluated_value
            if not isinstance(value, str) or "." not in value:
                return None
            owner, _, attribute = value.rpartition(".")
            return owner, attribute
        if len(positional) < 2 or not isinstance(positional[1].value, cst.SimpleString):
            return None
        named = positional[1].value.evaluated_value
        owners = sorted(
            o for o in self._qualified(positional[0].value) if o in self.doubles.classes or o in self.doubles.modules
        )
        if not isinstance(named, str) or not owners:
            return None
        return owners[0], named

    # -- 1. a patched factory ------------------------------------------------------------------------

    def _retarget_factory_patch(
        self, call: cst.Call, owner: str, factory: str, module: MigratedModule, name: str | None, anchor: cst.CSTNode
    ) -> _Double:
        if len(module.providers) != 1:
            providers = ", ".join(f"{owner}.{p}" for p in sorted(module.providers.values()))
            raise _Blocked(
                call,
                f"patch of {owner}.{factory}: {owner} no longer has {factory} and "
                + (f"now obtains {len(module.providers)} repositories" if module.providers else "imports no provider"),
                f"patch each provider the code under test uses ({providers}) with return_value={ASYNC_MOCK}(spec=...)"
                if module.providers
                else f"inject a double into the code under test instead of patching {owner}.{factory}",
            )
        ((repository, provider),) = module.providers.items()
        classes = {t.repository_class for t in self.doubles.targets.values() if t.repository == repository}
        if len(classes) != 1:
            raise _Blocked(
                call,
                f"patch of {owner}.{factory}: no mapping names repository {repository}'s class",
                f"map the facade methods to {repository} in the plan",
            )
        (repository_class,) = classes
        wanted = f"return_value={ASYNC_MOCK}(spec={_short(repository_class)})"
        keywords = {keyword(a) for a in call.args}
        if keywords & {"new", "new_callable", "autospec", "spec", "spec_set", "side_effect", "wraps"}:
            raise _Blocked(
                call,
                f"patch of {owner}.{factory} gives its own replacement, which cannot stand for {provider}",
                f"patch {owner}.{provider} with {wanted}",
            )
        is_string = self._is(call.func, PATCHES)
        old, new = (f"{owner}.{factory}", f"{owner}.{provider}") if is_string else (factory, provider)
        roots: list[tuple[str, ...]] = [(name, "return_value")] if name else []
        args: list[cst.Arg] = []
        for arg in call.args:
            if arg is _positional(call)[0 if is_string else 1]:
                assert isinstance(arg.value, cst.SimpleString)
                quote = arg.value.value[-1]
                if arg.value.value != f"{quote}{old}{quote}":
                    raise _Blocked(call, f"patch target {arg.value.value} is not a plain string", f"write {old!r}")
                arg = arg.with_changes(value=cst.SimpleString(f"{quote}{new}{quote}"))
            elif keyword(arg) == "return_value":
                returned = dotted_parts(arg.value)
                if returned is not None:
                    roots.append(tuple(returned))  # a local double: converted where it is made
                elif isinstance(arg.value, cst.Call) and self._is(arg.value.func, SYNC_MOCKS):
                    arg = arg.with_changes(value=self._repository_mock(repository_class))
                else:
                    raise _Blocked(
                        call,
                        f"patch of {owner}.{factory} returns an object the tool cannot read",
                        f"patch {owner}.{provider} with {wanted}",
                    )
            args.append(arg)
        new_call = call.with_changes(args=args)
        if "return_value" not in keywords:
            new_call = append_arg(new_call, keyword_arg("return_value", self._repository_mock(repository_class)))
        self._replace[call] = new_call
        self.outcome.carried += 1
        return _Double(FACTORY, roots, anchor, repository_class=repository_class)

    def _repository_mock(self, repository_class: str) -> cst.Call:
        """``AsyncMock(spec=Repo)``: its async methods are awaitable ``AsyncMock``s, its sync ones not."""
        return cst.Call(func=self._mock(ASYNC_MOCK), args=[keyword_arg("spec", self._class(repository_class))])

    def _follow_factory_aliases(self, double: _Double, statements: _Statements) -> None:
        """``m.return_value = fake`` makes ``fake`` the facade too; where ``fake`` is made, it becomes the
        repository double."""
        for _line, assign in statements.assigns:
            target = dotted_parts(assign.targets[0].target)
            value = dotted_parts(assign.value)
            if target is not None and tuple(target) in double.roots and value is not None:
                double.roots.append(tuple(value))
        for root in [r for r in double.roots if len(r) == 1]:
            made = [a for _line, a in statements.assigns if dotted_parts(a.targets[0].target) == list(root)]
            if not made:
                raise _Blocked(
                    double.anchor,
                    f"{root[0]} stands for the facade but is not made in this test",
                    f"make {root[0]} = {ASYNC_MOCK}(spec={_short(double.repository_class)}) in the test",
                )
            for assign in made:
                if not (isinstance(assign.value, cst.Call) and self._is(assign.value.func, SYNC_MOCKS)):
                    raise _Blocked(
                        assign,
                        f"{root[0]} stands for the facade and is not a Mock",
                        f"make {root[0]} = {ASYNC_MOCK}(spec={_short(double.repository_class)})",
                    )
                self._replace[assign.value] = self._repository_mock(double.repository_class)

    # -- 2. a patched facade method ------------------------------------------------------------------

    def _retarget_method_patch(self, call: cst.Call, target: DoubleTarget) -> None:
        args = list(call.args)
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        if self._is(call.func, PATCHES):
            first = args[positional[0]]
            assert isinstance(first.value, cst.SimpleString)
            quote = first.value.value[-1]
            text = f"{quote}{target.repository_class}.{target.method}{quote}"
            args[positional[0]] = first.with_changes(value=cst.SimpleString(text))
        else:
            args[positional[0]] = args[positional[0]].with_changes(value=self._class(target.repository_class))
            second = args[positional[1]]
            assert isinstance(second.value, cst.SimpleString)
            quote = second.value.value[-1]
            args[positional[1]] = second.with_changes(value=cst.SimpleString(f"{quote}{target.method}{quote}"))
        if target.awaitable:
            limit = self._limit(call)
            new = args[positional[limit]] if len(positional) > limit else _keyword_arg(call, "new")
            factory = _keyword_arg(call, "new_callable")
            label = f"patch of {_short(target.repository_class)}.{target.method}"
            if new is not None:
                if not (isinstance(new.value, cst.Call) and self._is(new.value.func, SYNC_MOCKS | ASYNC_MOCKS)):
                    raise _Blocked(
                        call,
                        f"{label} gives a replacement that is not a Mock",
                        f"give new={ASYNC_MOCK}(...) so {target.method} can be awaited",
                    )
                index = args.index(new)
                args[index] = new.with_changes(value=new.value.with_changes(func=self._mock(ASYNC_MOCK)))
            elif factory is not None:
                if not self._is(factory.value, SYNC_MOCKS | ASYNC_MOCKS):
                    raise _Blocked(
                        call, f"{label} has a new_callable the tool cannot read", f"use new_callable={ASYNC_MOCK}"
                    )
                index = args.index(factory)
                args[index] = factory.with_changes(value=self._mock(ASYNC_MOCK))
            elif _keyword_arg(call, "autospec") is None:  # autospec makes an async method an AsyncMock itself
                self._replace[call] = append_arg(
                    call.with_changes(args=args), keyword_arg("new_callable", self._mock(ASYNC_MOCK))
                )
                self.outcome.carried += 1
                return
        self._replace[call] = call.with_changes(args=args)
        self.outcome.carried += 1

    # -- following a double through its function -------------------------------------------------------

    def _carry(self, function: cst.FunctionDef, double: _Double) -> None:
        self._carry_in([function.body], double)

    def _carry_in(self, bodies: Sequence[cst.CSTNode], double: _Double, *, in_place: bool = True) -> None:
        methods = frozenset() if double.kind == METHOD else frozenset(self.doubles.targets)
        uses = _Uses(double.roots, methods)
        for body in bodies:
            body.visit(uses)
        if double.kind == METHOD:
            assert double.target is not None
            for node, call in uses.root_attributes:
                self._rename_assertion(node, call, double.target)
            return
        if double.kind == RECEIVED:
            self._check_received(double, uses)
        if double.kind == RETAINED:
            for use in uses.uses:  # only a mapped method configured or asserted on the patch's mock
                owner, _, factory = double.patched.rpartition(".")
                providers = ", ".join(f"{owner}.{p}" for p in sorted(self.doubles.modules[owner].providers.values()))
                raise _Blocked(
                    use.statement,
                    f"{'.'.join(use.root_parts)}.{use.method}: {owner} still calls {factory} for methods with no "
                    f"repository counterpart, but reaches {use.method}'s repository through {providers} now",
                    f"patch {providers} with return_value={ASYNC_MOCK}(spec=...) for the mapped methods, beside the "
                    f"patch of {factory}",
                )
            return
        made: set[str] = set()
        creations: list[cst.BaseStatement] = []
        for use in uses.uses:
            target = self.doubles.targets[use.method]
            if target.adapter is not None:
                raise _adapter_blocked(use.statement, f"{'.'.join(use.root_parts)}.{use.method}", target)
            chain = cst.Attribute(value=_extend(use.root, self._prefix(double, target)), attr=cst.Name(target.method))
            if use.history and target.renames:
                raise _Blocked(
                    use.statement,
                    f"{'.'.join(use.root_parts)}.{use.method}.{use.history} holds the arguments as the facade took "
                    f"them; the repository method takes them renamed ({_renamed(target)})",
                    f"compare {use.history} with the renamed arguments by hand",
                )
            if double.kind == FACTORY or use.method in double.premade:
                self._replace[use.node] = chain
                self._factory_mock_value(use, target)
            elif use.method in made or not in_place or not self._make_in_place(use, uses, target, chain):
                self._replace[use.node] = chain
                self._factory_mock_value(use, target)
                if use.method not in made:  # make it before the code under test can reach it
                    kind = ASYNC_MOCK if target.awaitable else MAGIC_MOCK
                    creations.append(_assign_line(chain, cst.Call(func=self._mock(kind))))
            made.add(use.method)
            if use.assertion is not None:
                self._rename_assertion(use.assertion, use.assertion_call, target)
            self.outcome.carried += 1
        if creations:
            where = self._top if isinstance(double.anchor, cst.FunctionDef | cst.With) else self._after
            where.setdefault(double.anchor, []).extend(creations)

    def _prefix(self, double: _Double, target: DoubleTarget) -> tuple[str, ...]:
        received = target.from_received or ""
        if double.kind == RECEIVED and received.startswith("attribute:"):
            return tuple(received.removeprefix("attribute:").split("."))
        return ()

    def _factory_mock_value(self, use: _Use, target: DoubleTarget) -> None:
        """``fake.get_user = MagicMock(...)``: an ``AsyncMock`` when the repository method is awaited."""
        statement = use.statement
        if (
            target.awaitable
            and isinstance(statement, cst.Assign)
            and statement.targets[0].target is use.node
            and isinstance(statement.value, cst.Call)
            and self._is(statement.value.func, SYNC_MOCKS)
        ):
            self._replace[statement.value.func] = self._mock(ASYNC_MOCK)

    def _check_received(self, double: _Double, uses: _Uses) -> None:
        attributes: frozenset[str] = frozenset().union(*self.doubles.class_attributes.values())
        for use in uses.uses:
            target = self.doubles.targets[use.method]
            root = ".".join(use.root_parts)
            received = target.from_received
            if received is None or received == "depends":
                how = "has no from_received" if received is None else "is reached through a dependency"
                raise _Blocked(
                    use.statement,
                    f"{root}.{use.method}: {root} stands for a received facade, and repository "
                    f"{target.repository} {how}",
                    f"set repositories.{target.repository}.from_received (itself or attribute:<path>) in the plan, "
                    f"or inject a {_short(target.repository_class)} double by hand",
                )
            if received.startswith("attribute:"):
                first = received.removeprefix("attribute:").split(".")[0]
                if first not in attributes:
                    raise _Blocked(
                        use.statement,
                        f"{root}.{use.method}: Mock(spec=...) of the facade refuses {root}.{first}, which the "
                        "facade class does not define",
                        f"define {first} on the facade class (a class attribute or property), or set "
                        f"{root}.{first} = {MAGIC_MOCK}() right after {root} is made",
                    )
            elif double.spec_set and target.method not in attributes:
                raise _Blocked(
                    use.statement,
                    f"{root}.{use.method}: spec_set refuses {root}.{target.method}, which the facade class "
                    "does not define",
                    f"make {root} with spec= instead of spec_set=",
                )

    def _make_in_place(self, use: _Use, uses: _Uses, target: DoubleTarget, chain: cst.Attribute) -> bool:
        """The first use as ``chain = AsyncMock(return_value=v)`` when it is a plain configuration
        (``.return_value =``, ``.side_effect =`` or ``= Mock(...)``) in straight-line code."""
        statement = use.statement
        if statement not in uses.straight or not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
            return False
        parts = dotted_parts(statement.targets[0].target)
        depth = len(use.root_parts) + 1
        kind = ASYNC_MOCK if target.awaitable else MAGIC_MOCK
        if parts is not None and len(parts) == depth + 1 and parts[-1] in CONFIG_KEYS:
            value: cst.BaseExpression = cst.Call(func=self._mock(kind), args=[keyword_arg(parts[-1], statement.value)])
        elif (
            parts is not None
            and len(parts) == depth
            and isinstance(statement.value, cst.Call)
            and self._is(statement.value.func, SYNC_MOCKS)
        ):
            value = statement.value.with_changes(func=self._mock(kind))
        else:
            return False
        self._replace[statement] = statement.with_changes(targets=[cst.AssignTarget(chain)], value=value)
        return True

    def _rename_assertion(self, node: cst.Attribute, call: cst.Call | None, target: DoubleTarget) -> None:
        name = node.attr.value
        if target.reshaped and (name in ASSERTIONS_WITH_ARGUMENTS or name in CALL_HISTORY):
            raise _Blocked(
                node,
                f"{name} checks the arguments as the facade took them; {target.repository}.{target.method} takes "
                "them laid out anew (see the mapping's positional, constants and pack)",
                f"check the arguments of {_short(target.repository_class)}.{target.method} by hand",
            )
        if target.awaitable and name in AWAIT_ASSERTIONS:
            self._replace[node.attr] = cst.Name(AWAIT_ASSERTIONS[name])
        if call is not None and name in ASSERTIONS_WITH_ARGUMENTS and target.renames:
            self._renames[call] = dict(target.renames)

    # -- applying --------------------------------------------------------------------------------

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        result = super().on_leave(original_node, updated_node)
        replaced = self._replace.get(original_node)
        if replaced is not None:
            return replaced
        renames = self._renames.get(original_node)
        if renames is not None and isinstance(result, cst.Call):
            args = [
                a.with_changes(keyword=cst.Name(renames[a.keyword.value]))
                if a.keyword is not None and a.keyword.value in renames
                else a
                for a in result.args
            ]
            return result.with_changes(args=args)
        return result

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not any(line in self._after for line in original_node.body):
            return updated_node
        body: list[cst.BaseStatement] = []
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            body.append(updated)
            body.extend(self._after.get(original, ()))
        return updated_node.with_changes(body=body)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        return updated_node.with_changes(body=self._at_top(original_node, updated_node.body, skip_docstring=True))

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        return updated_node.with_changes(body=self._at_top(original_node, updated_node.body, skip_docstring=False))

    def _at_top(self, original: cst.CSTNode, body: cst.BaseSuite, *, skip_docstring: bool) -> cst.BaseSuite:
        lines = self._top.get(original)
        if not lines or not isinstance(body, cst.IndentedBlock):
            return body
        index = body_insert_index(body) if skip_docstring else 0
        return body.with_changes(body=[*body.body[:index], *lines, *body.body[index:]])


def _adapter_blocked(node: cst.CSTNode, what: str, target: DoubleTarget) -> _Blocked:
    return _Blocked(
        node,
        f"{what}: the call now goes through the adapter {target.adapter}, which makes repository calls of "
        "its own choosing; the double cannot stand for them",
        f"configure the {_short(target.repository_class)} methods {target.adapter} calls by hand",
    )


def _positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def _keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if keyword(a) == name), None)


def _renamed(target: DoubleTarget) -> str:
    return ", ".join(f"{old} -> {new}" for old, new in target.renames)


def _extend(root: cst.BaseExpression, prefix: Sequence[str]) -> cst.BaseExpression:
    for part in prefix:
        root = cst.Attribute(value=root, attr=cst.Name(part))
    return root


def _assign_line(target: cst.Attribute, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Assign(targets=[cst.AssignTarget(target)], value=value)])


@dataclass
class _Use:
    node: cst.Attribute  # ``<root>.<facade method>``
    root: cst.BaseExpression
    root_parts: tuple[str, ...]
    method: str
    statement: cst.CSTNode  # the small statement it is in
    assertion: cst.Attribute | None  # ``<root>.<method>.<something>``
    assertion_call: cst.Call | None  # ``<root>.<method>.<something>(...)``
    history: str | None = None  # ``call_args``, ``call_args_list`` or ``mock_calls`` read on it


class _MockUses(cst.CSTVisitor):
    """``<chain>.<facade method>.<mock attribute>``: a facade method used as a mock, with its chain."""

    def __init__(self, methods: frozenset[str]) -> None:
        self.methods = methods
        self.found: list[tuple[cst.Attribute, tuple[str, ...]]] = []

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value not in MOCK_ATTRIBUTES or not isinstance(node.value, cst.Attribute):
            return
        inner = node.value
        root = dotted_parts(inner.value)
        if inner.attr.value in self.methods and root is not None:
            self.found.append((inner, tuple(root)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


class _Statements(cst.CSTVisitor):
    """``with patch(...) as m`` items and single-target assignments, in source order."""

    def __init__(self) -> None:
        self.withs: list[tuple[cst.With, cst.WithItem]] = []
        self.assigns: list[tuple[cst.SimpleStatementLine, cst.Assign]] = []

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            self.withs.append((node, item))

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        for small in node.body:
            if isinstance(small, cst.Assign):
                self.assigns.append((node, small))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _NameEscapes(cst.CSTVisitor):
    """Does ``name`` appear other than as ``name.attribute`` or as an assignment target: passed, stored,
    returned, yielded — given to code that may be migrated?"""

    def __init__(self, name: str) -> None:
        self.name = name
        self.escapes = False
        self._receivers: set[int] = set()  # ids of Name nodes that are the value of an Attribute
        self._targets: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._receivers.add(id(node.value))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self._receivers and id(node) not in self._targets:
            self.escapes = True


def _handed_on(body: cst.CSTNode, name: str) -> bool:
    visitor = _NameEscapes(name)
    body.visit(visitor)
    return visitor.escapes


class _Uses(cst.CSTVisitor):
    """Every ``<root>.<facade method>`` in a function body, with the statement it is in."""

    def __init__(self, roots: Sequence[tuple[str, ...]], methods: frozenset[str]) -> None:
        self.roots = set(roots)
        self.methods = methods
        self.uses: list[_Use] = []
        self.root_attributes: list[tuple[cst.Attribute, cst.Call | None]] = []  # ``<root>.<anything>``
        self.straight: set[cst.CSTNode] = set()
        self._statement: list[cst.CSTNode] = []
        self._branch = 0
        self._parents: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            return False
        branchy = isinstance(node, cst.If | cst.For | cst.While | cst.Try | cst.TryStar | cst.Match)
        if branchy:
            self._branch += 1
        if isinstance(node, cst.BaseSmallStatement):
            self._statement.append(node)
            if not self._branch:
                self.straight.add(node)
        if isinstance(node, cst.Attribute):
            self._attribute(node)
        self._parents.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            return  # refused in on_visit, so never pushed (LibCST still calls on_leave for it)
        self._parents.pop()
        if isinstance(original_node, cst.If | cst.For | cst.While | cst.Try | cst.TryStar | cst.Match):
            self._branch -= 1
        if isinstance(original_node, cst.BaseSmallStatement):
            self._statement.pop()

    def _attribute(self, node: cst.Attribute) -> None:
        value_parts = dotted_parts(node.value)
        if value_parts is None or not self._statement or tuple(value_parts) not in self.roots:
            return
        parent = self._parents[-1] if self._parents else None
        call = parent if isinstance(parent, cst.Call) and parent.func is node else None
        self.root_attributes.append((node, call))
        if node.attr.value not in self.methods:
            return
        grand = self._parents[-2] if len(self._parents) > 1 else None
        assertion = parent if isinstance(parent, cst.Attribute) and parent.value is node else None
        assertion_call = (
            grand if isinstance(grand, cst.Call) and assertion is not None and grand.func is assertion else None
        )
        history = assertion.attr.value if assertion is not None and assertion.attr.value in CALL_HISTORY else None
        self.uses.append(
            _Use(
                node,
                node.value,
                tuple(value_parts),
                node.attr.value,
                self._statement[-1],
                assertion,
                assertion_call,
                history,
            )
        )


def may_hold_doubles(code: str, doubles: FacadeDoubles) -> bool:
    """Can ``code`` hold a double this codemod changes or blocks? Every such double names a facade method,
    a facade class or a removed factory; and it is made by ``unittest.mock`` (``Mock``, ``MagicMock``,
    ``patch``, which the code names, in an import if nowhere else) or, made elsewhere, is used as a mock
    here (``.return_value``, ``.assert_called_once_with``...). Code that lacks either is left as it is."""
    return may_name_doubles(code, double_words(doubles))


def double_words(doubles: FacadeDoubles) -> frozenset[str]:
    """The words one of which every double the codemod changes or blocks names."""
    words = set(doubles.targets) | {_short(c) for c in doubles.classes}
    words |= {name for module in doubles.modules.values() for name in module.removed | module.retained}
    return frozenset(words)


def may_name_doubles(code: str, words: Collection[str]) -> bool:
    """``may_hold_doubles`` for doubles that name one of ``words``."""
    names = set(IDENTIFIER.findall(code))
    if names.isdisjoint(words):
        return False
    return mock.may_make_doubles(code) or not MOCK_ATTRIBUTES.isdisjoint(names)


def possible_double_words(plan: Plan, befores: Iterable[bytes]) -> frozenset[str]:
    """Every word ``may_hold_doubles`` can look for once modules with the texts ``befores`` migrate, known
    before the rewrite is decided: the facade's methods and classes, and every name those modules import
    from a factory (the rewrite may stop binding it, or keep it)."""
    words = set(plan.mappings) | {_short(c) for c in plan.facade.classes}
    for before in befores:
        words |= {name for name, imported in _top_names(before).items() if imported in plan.facade.factories}
    return frozenset(words)


def facade_doubles(plan: Plan, migrated: Mapping[str, tuple[bytes, bytes]]) -> FacadeDoubles:
    """The codemod's input: ``migrated`` maps each migrated module (dotted) to its text before and after
    the rewrite; a factory it no longer binds is patched in its tests as the provider it now imports."""
    repositories = plan.repositories
    providers = {name: r.provider for name, r in repositories.items() if r.provider}
    modules: dict[str, MigratedModule] = {}
    for module, (before, after) in migrated.items():
        old, new = _top_names(before), _top_names(after)
        removed = frozenset(
            name for name, imported in old.items() if name not in new and imported in plan.facade.factories
        )
        found = {
            repository: name
            for repository, provider in providers.items()
            for name, imported in new.items()
            if imported == provider and name not in old
        }
        retained = frozenset(
            name for name, imported in old.items() if name in new and imported in plan.facade.factories
        )
        if removed or (retained and found):
            modules[module] = MigratedModule(removed, found, retained if found else frozenset())
    targets: dict[str, DoubleTarget] = {}
    for method, mapping in plan.mappings.items():
        repository = repositories[mapping.repository]
        # Schema fields other branches add (per-method awaitable, from_received) are read when present.
        awaitable = getattr(mapping, "awaitable", None)
        targets[method] = DoubleTarget(
            repository=mapping.repository,
            method=mapping.method,
            awaitable=repository.awaitable if awaitable is None else bool(awaitable),
            repository_class=repository.class_name,
            renames=mapping.args,
            from_received=getattr(repository, "from_received", None),
            reshaped=mapping.reshapes,
            adapter=mapping.adapter,
        )
    classes = plan.facade.classes
    layout = plan_layout(plan)
    attributes = {qualified: _class_attributes(layout, qualified) for qualified in classes}
    return FacadeDoubles(frozenset(classes), targets, modules, attributes)


def _top_names(data: bytes) -> dict[str, str]:
    """Top-level names a module binds: an import's local name -> what it imports; others -> ''."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return {}
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = ""
    return names


def _class_attributes(layout: ModuleLayout, qualified: str) -> frozenset[str]:
    """Names ``dir()`` of the class would show (methods, properties, assigned class attributes); an
    annotation without a value is not one, and a ``Mock(spec=...)`` refuses it."""
    module, _, name = qualified.rpartition(".")
    candidate = layout.module_file(module)
    if candidate is not None:
        try:
            tree = ast.parse(candidate.read_bytes())
        except (SyntaxError, ValueError, OSError):
            return frozenset()
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                found: set[str] = set()
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        found.add(item.name)
                    elif isinstance(item, ast.Assign):
                        found |= {t.id for t in item.targets if isinstance(t, ast.Name)}
                    elif (
                        isinstance(item, ast.AnnAssign) and item.value is not None and isinstance(item.target, ast.Name)
                    ):
                        found.add(item.target.id)
                return frozenset(found)
    return frozenset()
