"""Rewrite each mapped facade call into a call on its repository: ``await player_repo.get_player_by_id(x)``.

How migrated code reaches the repository follows how it reached the facade (the plan names, per
repository, its ``provider``, ``class``, ``attribute`` and ``from_received``):

* a facade the code *obtains* — a factory call, a variable assigned from one, ``self.x`` set from one —
  becomes the repository's provider, obtained where the facade was: ``get_player_repository()`` in
  place of an inline ``get_persistence()``; ``player_repo = get_player_repository()`` right after the
  statement that assigned the facade local (same block, same ``try``, after the same guards);
  ``self.player_repo = get_player_repository()`` after the ``__init__`` line that stored the facade;
* a facade the code *receives* — a parameter (typed or not), ``self.x`` set from a parameter, a
  dataclass field, ``request.app.state.x``, ``Depends(...)`` — stays received: the call goes through
  the received object itself (``from_received: itself``), an attribute path on it
  (``attribute:players`` → ``persistence.players.get_player_by_id(x)``), or, in a FastAPI endpoint, a
  new ``player_repo: PlayerRepository = Depends(get_player_repository)`` parameter (``depends``). The
  rewrite never swaps an injected object for a global: with no ``from_received`` the call is unsafe.

Calls to async repositories are awaited; calls to sync ones (``awaitable: false``, per repository or
per mapping) are not. The forms a call takes: ``facade.m(...)``; ``await facade.m_async(...)`` (an async
twin: its one ``await`` stays, or goes for a sync target); a thread hop — ``to_thread(facade.m, ...)``,
``run_in_executor(None, facade.m, ...)``, either through ``partial`` — which becomes the repository call
itself; ``m = facade.m`` (or ``getattr(facade, "m")``) called in the same function, rewritten at each
call. Arguments are renamed or laid out anew as the mapping says (``_arguments.py``) and checked
against the target's signature read from the tree. Where only names change, arguments, comments and
formatting are kept. What cannot be rewritten safely — a bound method used out of sight, a call inside
a lambda or a generator expression, a call at module level, a call that does not fit its target, a
received facade the plan gives no way to reach the repository from, an obtained one whose repository
has no provider — is left as it is and reported (``self.warn`` and ``outcome.unsafe``), as are facade
methods without a mapping.

Runs under LibCST's runner too:
``python -m libcst.tool codemod rewrite_facade_calls.RewriteFacadeCallsCommand --plan migration_plan.yaml FILE``.

The decision is made once: ``compute_change`` runs the codemod with ``record=True`` (:func:`decide_rewrites`),
and what it wrote — each replaced node with its new source text, the statements inserted and removed,
the parameters laid out anew, the imports added and removed — goes into the edit plan, which
``replay_rewrites`` makes without the migration plan or the analysis.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import libcst as cst
from libcst.codemod import Codemod, CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import Assignment, CodeRange, ParentNodeProvider, PositionProvider, Scope, ScopeProvider

from asyncmigrate.analysis.collector import (
    FacadeCallCollector,
    _CachedDispatch,
    access_parts,
    getattr_method,
    hopped_callable,
)
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.resolver import FacadeResolver
from asyncmigrate.analysis.signatures import Signature, SignatureIndex, SignatureUnknown
from asyncmigrate.codemods._arguments import ShapeError, call_shape, forwarded_args, positional_arg, renamed, reshaped
from asyncmigrate.codemods._imports import SkipsNeedlessImportCleanup
from asyncmigrate.codemods._passes import (
    QuickVisitorCommand,
    WalksEditedLines,
    child_nodes,
    edited_lines,
    module_code,
)
from asyncmigrate.codemods._syntax import (
    awaited,
    block_indent,
    needs_parentheses_for_await,
    source_text,
    with_statements_after,
)
from asyncmigrate.config.plan import FROM_RECEIVED_DEPENDS, Mapping, Plan, Repository, find_plan, load_plan
from asyncmigrate.frameworks import Frameworks, fastapi, switched_off_fix
from asyncmigrate.migration import edits as edit_plan
from asyncmigrate.migration.edits import (
    CallRewrite,
    ImportEdit,
    ParameterEdit,
    Replacement,
    Span,
    StatementEdit,
    source_lines,
)
from asyncmigrate.types import CallSite

SELF = "self"  # obtained: through an attribute set from the provider in __init__
DEPENDS = "depends"  # received through Depends: through a new FastAPI dependency parameter
LOCAL = "local"  # obtained: through a local assigned from the provider where the facade local was
INLINE = "inline"  # obtained: the provider called where the facade was (``get_repo().m(x)``)
RECEIVED = "received"  # received: through the received object itself or an attribute path on it

_OBTAINED_LOCAL = "obtained_local"
_OBTAINED = "obtained"
_OBTAINED_SELF = "obtained_self"
_RECEIVED = "received"
_MAX_DEPTH = 6

CALL = "call"  # facade.m(...)
HOP = "hop"  # to_thread(facade.m, ...), run_in_executor(None, facade.m, ...), with or without partial
BOUND = "bound"  # m = facade.m; ... m(...) in the same function
_HOP_IMPORTS: tuple[tuple[str, str | None], ...] = (
    ("asyncio", None),
    ("asyncio", "to_thread"),
    ("functools", None),
    ("functools", "partial"),
)


@dataclass(frozen=True)
class UnsafeCall:
    line: int
    column: int
    function: str
    kind: str
    message: str
    fix: str


@dataclass
class RewriteOutcome:
    """What one run of the codemod did to one file."""

    rewritten: list[CallSite] = field(default_factory=list)
    awaiting_functions: set[str] = field(default_factory=set)  # qualnames that now contain an await
    unsafe: list[UnsafeCall] = field(default_factory=list)
    unmapped: list[CallSite] = field(default_factory=list)


@dataclass
class RecordedRewrites:
    """What one recording run wrote (``record=True``), as the edits an edit plan replays; positions are
    of the tree the run was given."""

    replacements: list[tuple[CallSite, Replacement]] = field(default_factory=list)  # with the call they rewrite
    statements: list[StatementEdit] = field(default_factory=list)
    parameters: list[ParameterEdit] = field(default_factory=list)
    imports: list[ImportEdit] = field(default_factory=list)


@dataclass
class _Site:
    call: CallSite
    attribute: cst.Attribute | cst.Call  # ``receiver.method`` or ``getattr(receiver, "method")``
    repository: Repository
    method: str
    renames: dict[str, str]
    strategy: str
    function: cst.FunctionDef | None
    self_name: str | None = None
    class_node: cst.ClassDef | None = None
    local_name: str = ""
    mapping: Mapping | None = None
    form: str = CALL
    node: cst.Call | None = None  # the call replaced: the facade call, the thread hop, the bound method's call
    add_await: bool = False  # the new call is awaited by the rewrite
    drop_await: bool = False  # the ``await`` around the old expression goes (a sync target)
    facade_signature: Signature | None = None
    pack_class: str | None = None  # the parameter class as the module names it
    path: tuple[str, ...] = ()  # RECEIVED: the attribute path from the received object
    received: cst.BaseExpression | None = None  # RECEIVED: the received object, as written at the call


@dataclass
class _Origin:
    """Where a receiver's facade came from."""

    kind: str  # _OBTAINED_LOCAL | _OBTAINED | _OBTAINED_SELF | _RECEIVED
    statements: list[cst.SimpleStatementLine] = field(default_factory=list)  # _OBTAINED_LOCAL: the assignments


def _split(dotted: str) -> tuple[str, str]:
    module, _, name = dotted.rpartition(".")
    return module, name


class _SitePlanner(_CachedDispatch):
    """Finds the CST node of every call site and the function and class around it."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, calls: MappingType[tuple[int, int, str], CallSite]) -> None:
        super().__init__()
        self.calls = calls
        self.found: list[
            tuple[CallSite, cst.Attribute | cst.Call, cst.FunctionDef | None, cst.ClassDef | None, bool]
        ] = []
        self.in_signature: set[int] = set()
        self._functions: list[cst.FunctionDef] = []
        self._classes: list[tuple[cst.ClassDef, int]] = []  # class, depth of functions when entered
        self._genexp = 0
        self._signature: list[cst.FunctionDef] = []  # defs whose decorators/parameters are being visited
        self.method_class: dict[int, cst.ClassDef] = {}  # id(method FunctionDef) -> its class

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append((node, len(self._functions)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        # Decorators, defaults and annotations run where the def statement runs, not in the function.
        self._signature.append(node)
        for decorator in node.decorators:
            decorator.visit(self)
        node.params.visit(self)
        if node.returns is not None:
            node.returns.visit(self)
        self._signature.pop()
        if self._classes and self._classes[-1][1] == len(self._functions):
            self.method_class[id(node)] = self._classes[-1][0]
        self._functions.append(node)
        node.body.visit(self)
        self._functions.pop()
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        # The outermost iterable is evaluated eagerly in the enclosing scope, where awaiting is fine.
        node.for_in.iter.visit(self)
        self._genexp += 1
        node.elt.visit(self)
        node.for_in.target.visit(self)
        for condition in node.for_in.ifs:
            condition.visit(self)
        if node.for_in.inner_for_in is not None:
            node.for_in.inner_for_in.visit(self)
        self._genexp -= 1
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._found(node, node.attr.value)

    def visit_Call(self, node: cst.Call) -> None:
        parts = getattr_method(node)
        if parts is not None:
            self._found(node, parts[1])

    def _found(self, node: cst.Attribute | cst.Call, method: str) -> None:
        start = self.get_metadata(PositionProvider, node).start
        call = self.calls.get((start.line, start.column, method))
        if call is None:
            return
        function = self._functions[-1] if self._functions else None
        cls = None
        for candidate in reversed(self._functions):  # the method whose ``self`` a nested def closes over
            if id(candidate) in self.method_class:
                cls = self.method_class[id(candidate)]
                break
        if self._signature:  # evaluated by the enclosing scope when the def runs: no local of the body exists
            self.in_signature.add(id(node))
        self.found.append((call, node, function, cls, self._genexp > 0))


class RewriteFacadeCallsCommand(SkipsNeedlessImportCleanup, WalksEditedLines, QuickVisitorCommand):
    DESCRIPTION = "Rewrite mapped facade calls into (awaited) repository calls obtained through their providers."
    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider, ParentNodeProvider)

    def __init__(
        self,
        context: CodemodContext,
        plan: str | None = None,
        plan_object: Plan | None = None,
        plan_only: bool = False,
        await_in_sync_def: bool = False,
        record: bool = False,
    ) -> None:
        super().__init__(context)
        self.plan_only = plan_only  # decide every site and fill ``outcome``, but change nothing
        self.record = record  # also record what is written, in ``recorded``, for an edit plan
        self.recorded = RecordedRewrites()
        self._indents: list[str] = []  # the indentation of each block around the node being left
        self._lines: list[str] | None = None  # the text of the tree being rewritten, for the records
        # Only the edit plan's codemod sets this, having made the enclosing functions ``async def`` first;
        # run alone, a call that would be awaited inside a plain ``def`` is left and warned about.
        self.await_in_sync_def = await_in_sync_def
        if plan_object is None:
            plan_object = load_plan(Path(plan) if plan else find_plan(Path.cwd()), check_files=False)
        self.plan = plan_object
        self.spec = FacadeSpec.from_plan(self.plan)
        self.outcome = RewriteOutcome()
        self._sites: dict[int, _Site] = {}  # id(attribute node) -> site
        self._locals: dict[int, dict[str, str]] = {}  # id(function) -> repository name -> local name
        # id(statement assigning the facade) -> repository name -> what to assign the provider's repository to
        # right after it (a local, or ``self.<attribute>`` in ``__init__``)
        self._after: dict[int, dict[str, str]] = {}
        self._provider_refs: dict[str, str] = {}  # repository name -> the name its provider is imported as
        self._resolver: FacadeResolver | None = None
        self._function_scope: Scope | None = None  # the scope of the function whose call is being planned
        self._depends: dict[int, dict[str, str]] = {}  # id(function) -> repository name -> parameter name
        self._removable: set[int] = set()  # ids of assignment statements / params left unused
        self._facade_params: dict[int, cst.Param] = {}  # id(function) -> the Depends(facade) parameter
        self._by_node: dict[int, _Site] = {}  # id(call node replaced) -> site
        self._drop_await: set[int] = set()  # ids of awaited expressions whose ``await`` goes
        self._edited: list[cst.CSTNode] = []  # where the walk leaves a node it changes (or inside one)
        self.signatures = SignatureIndex(self.spec.layout)
        # what many call sites of one class or function ask again (the tree is not changed meanwhile)
        self._methods: dict[tuple[cst.ClassDef, cst.FunctionDef], cst.FunctionDef | None] = {}
        self._self_values: dict[tuple[cst.ClassDef, str], list[_SelfValue]] = {}
        self._facade_signatures: dict[str, Signature | None] = {}
        self._assigned: dict[tuple[cst.FunctionDef, str], set[str]] = {}
        self._names: dict[cst.FunctionDef, set[str]] = {}

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--plan", dest="plan", default=None, help="migration_plan.yaml (default: search upwards)"
        )

    # --- planning ------------------------------------------------------------------------------
    def _relative_path(self) -> str:
        filename = self.context.filename or "<stdin>"
        try:
            return Path(filename).resolve().relative_to(self.plan.root.resolve()).as_posix()
        except ValueError:
            return filename

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        wrapper = self.context.wrapper
        if wrapper is None:
            return tree
        collector = FacadeCallCollector(self.spec, self._relative_path())
        wrapper.visit(collector)
        for line, column, receiver, enclosing in collector.dynamic_getattrs:
            message = f"getattr({receiver}, ...) picks a facade method by a name known only at run time"
            fix = "call the facade method by name (getattr with a string literal), or map it by hand"
            self.outcome.unsafe.append(UnsafeCall(line, column, enclosing, "dynamic_getattr", message, fix))
            self.warn(f"{self._relative_path()}:{line}: dynamic_getattr: {message}; {fix}")
        if not collector.calls:
            return tree
        self._resolver = collector.resolver
        if not self.plan_only:  # the names a rewrite writes: deciding what is safe reads none of them
            self._provider_refs = _provider_names(tree, self.plan)
        planner = _SitePlanner({(c.line, c.column, c.method): c for c in collector.calls})
        wrapper.visit(planner)
        for call, attribute, function, cls, in_genexp in planner.found:
            if id(attribute) in planner.in_signature:
                self._unsafe(
                    call,
                    "module_level",
                    f"{call.receiver}.{call.method} runs when the def statement runs (a default or a decorator)",
                    "move the call into the function body",
                )
                continue
            self._plan_site(call, attribute, function, cls, in_genexp)
        if not self._sites or self.plan_only:
            return tree
        self._find_unused_receivers()
        positions = cast(MappingType[cst.CSTNode, CodeRange], self.metadata[PositionProvider])
        self.edited_lines = edited_lines(positions, self._edited)  # the walk goes only toward these
        return super().transform_module_impl(tree)

    def _unsafe(self, call: CallSite, kind: str, message: str, fix: str) -> None:
        self.outcome.unsafe.append(UnsafeCall(call.line, call.column, call.function, kind, message, fix))
        self.warn(f"{call.path}:{call.line}: {kind}: {message}; {fix}")

    def _plan_site(
        self,
        call: CallSite,
        attribute: cst.Attribute | cst.Call,
        function: cst.FunctionDef | None,
        cls: cst.ClassDef | None,
        in_genexp: bool,
    ) -> None:
        mapping = self.plan.mappings.get(call.method)
        if mapping is None:
            self.outcome.unmapped.append(call)
            self.warn(
                f"{call.path}:{call.line}: {call.receiver}.{call.method} has no repository counterpart (unmapped)"
            )
            return
        repository = self.plan.repositories[mapping.repository]
        what = f"{call.receiver}.{call.method}"
        nodes = self._call_nodes(call, attribute, mapping, function)
        if nodes is None:
            return
        form, call_nodes = nodes
        if function is None:
            self._unsafe(
                call,
                "module_level",
                f"{what} runs at import time",
                "move it into a function (an async start-up hook if it must run once)",
            )
            return
        sites = []
        for node in call_nodes:
            site = self._site_for(call, attribute, mapping, repository, function, cls, form, node, in_genexp)
            if site is None:
                return
            sites.append(site)
        if (
            not self.plan_only
            and not self.await_in_sync_def
            and function.asynchronous is None
            and any(site.add_await for site in sites)
        ):
            self.warn(
                f"{call.path}:{call.line}: {what} would be awaited inside `def {function.name.value}`, which is "
                "not `async def`; left as it is (`asyncmigrate apply` turns the function and its callers async)"
            )
            return
        for site in sites:
            if not self._choose_receiver(site, cls):
                return  # the first site decides for all: they share one receiver, and nothing was recorded
            self._sites[id(site.node)] = site
            self._by_node[id(site.node)] = site
            if site.node is not None:
                self._edited.append(site.node)
            if site.drop_await:
                self._drop_await.add(id(site.node))
            if site.add_await:
                self.outcome.awaiting_functions.add(call.function)
        if form == BOUND:
            bound = _bound_target(self._parent(attribute))
            self._removable.add(id(bound))
            if bound is not None:
                self._edited.append(bound)
        self.outcome.rewritten.append(call)

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    def _call_nodes(
        self,
        call: CallSite,
        attribute: cst.Attribute | cst.Call,
        mapping: Mapping,
        function: cst.FunctionDef | None,
    ) -> tuple[str, list[cst.Call]] | None:
        """The form of the call site and the call node(s) the rewrite replaces; None after a blocker."""
        what = f"{call.receiver}.{call.method}"
        if call.wrapper is not None:
            node: cst.CSTNode | None = self._parent(attribute)
            while node is not None and not (isinstance(node, cst.Call) and hopped_callable(node) is attribute):
                node = self._parent(node)
            if isinstance(node, cst.Call):
                return HOP, [node]
        if not call.is_reference:
            parent = self._parent(attribute)
            assert isinstance(parent, cst.Call)
            return CALL, [parent]
        calls, problem = self._bound_calls(attribute, function)
        if calls:
            return BOUND, calls
        fix = "call it explicitly"
        if self.plan.awaits(call.method):
            fix = (
                f"wrap it: `async def {call.method}(*args): "
                f"return await {self.plan.repositories[mapping.repository].attribute}.{mapping.method}(*args)`"
            )
        self._unsafe(call, "bound_method", f"{what} is used as a value, not called{problem}", fix)
        return None

    def _bound_calls(
        self, attribute: cst.Attribute | cst.Call, function: cst.FunctionDef | None
    ) -> tuple[list[cst.Call], str]:
        """``m = facade.m`` whose every use is a call ``m(...)`` in the same function: those calls."""
        target = _bound_target(self._parent(attribute))
        if target is None or function is None:
            return [], ""
        scope = self.get_metadata(ScopeProvider, target, None)
        function_scope = self.get_metadata(ScopeProvider, function.body, None)
        if scope is None or scope is not function_scope:
            return [], ""
        assignments = list(scope.assignments[target.value])
        if len(assignments) != 1:
            return [], f" (`{target.value}` is bound more than once)"
        calls: list[cst.Call] = []
        for reference in assignments[0].references:
            parent = self._parent(reference.node)
            position = self.get_metadata(PositionProvider, reference.node).start
            if not (isinstance(parent, cst.Call) and parent.func is reference.node) or self._in_nested_def(
                parent, function
            ):
                return [], f" (kept in `{target.value}`, used out of sight at line {position.line})"
            calls.append(parent)
        return calls, ""

    def _site_for(
        self,
        call: CallSite,
        attribute: cst.Attribute | cst.Call,
        mapping: Mapping,
        repository: Repository,
        function: cst.FunctionDef,
        cls: cst.ClassDef | None,
        form: str,
        node: cst.Call,
        in_genexp: bool,
    ) -> _Site | None:
        what = f"{call.receiver}.{call.method}"
        awaits = self.plan.awaits(call.method)
        parent = self._parent(node)
        outer_awaited = isinstance(parent, cst.Await) and parent.expression is node
        facade_signature = self._facade_signature(call.method)
        # The old expression already gives an awaitable: a thread hop, or a call to an async facade method.
        gives_awaitable = form == HOP or outer_awaited or bool(facade_signature and facade_signature.is_async)
        site = _Site(call, attribute, repository, mapping.method, dict(mapping.args), LOCAL, function)
        site.mapping, site.form, site.node, site.facade_signature = mapping, form, node, facade_signature
        if gives_awaitable and not awaits and not outer_awaited:
            self._unsafe(
                call,
                "awaitable_expected",
                f"{what} gives an awaitable that is used as a value, but {mapping.target} is not awaited",
                "await it where it is created, or map it to an async method",
            )
            return None
        site.drop_await = gives_awaitable and not awaits
        site.add_await = awaits and not gives_awaitable
        in_lambda = call.in_lambda if form != BOUND else self._inside(node, function, cst.Lambda)
        if form == BOUND:
            in_genexp = self._inside(node, function, cst.GeneratorExp)
        if site.add_await and in_lambda:
            self._unsafe(
                call,
                "lambda",
                f"{what} is called in a lambda, which cannot await",
                "turn the lambda into an `async def` function",
            )
            return None
        if site.add_await and in_genexp:
            self._unsafe(
                call,
                "generator_expression",
                f"{what} is called in a generator expression",
                "build a list with `[await ... for ...]` instead",
            )
            return None
        if not self._check_arguments(site, node):
            return None
        return site

    def _choose_receiver(self, site: _Site, cls: cst.ClassDef | None) -> bool:
        """How the rewritten call reaches its repository, following how the code reached the facade:
        obtained -> the provider (``self.<attribute>`` set in ``__init__``, a local where the facade local
        was assigned, or the provider called in place); received -> the received object, as the plan's
        ``from_received`` says. False (and unsafe) when the plan gives no way; nothing is recorded then."""
        function, repository, call = site.function, site.repository, site.call
        assert function is not None
        what = f"{call.receiver}.{call.method}"
        receiver = access_parts(site.attribute)[0]
        method = self._method_of(cls, function) if cls is not None else None
        self_name = _first_param(method) if method is not None else None
        self._function_scope = self.get_metadata(ScopeProvider, function.body, None)
        origin = self._origin(receiver, cls, self_name, 0)
        site.strategy = INLINE
        if origin.kind == _RECEIVED:
            return self._plan_received(site, receiver, function, what)
        if repository.provider is None:
            self._unsafe(
                call,
                "obtained_facade",
                f"{what} obtains the facade ({_how(receiver)}), and repository {repository.name!r} has no provider",
                f"add `repositories.{repository.name}.provider` to the plan "
                f"(or pass the facade in and set `repositories.{repository.name}.from_received`)",
            )
            return False
        if origin.kind == _OBTAINED_SELF and cls is not None and self_name:
            # ``self.<attribute> = provider()`` right after each ``__init__`` line that stored the facade
            site.strategy, site.self_name, site.class_node = SELF, self_name, cls
            init = next(m for m in cls.body.body if isinstance(m, cst.FunctionDef) and m.name.value == "__init__")
            init_self = _first_param(init) or self_name
            if repository.attribute not in self._self_assigned_in(init, init_self):
                for statement in origin.statements:
                    target = f"{init_self}.{repository.attribute}"
                    self._after.setdefault(id(statement), {})[repository.name] = target
                    self._edited.append(statement)
        elif origin.kind == _OBTAINED_LOCAL:
            site.strategy = LOCAL
            names = self._locals.setdefault(id(function), {})
            site.local_name = names.setdefault(
                repository.name,
                _free_name(repository.attribute, names, set(self._provider_refs.values()), self._names_in(function)),
            )
            for statement in origin.statements:
                self._after.setdefault(id(statement), {})[repository.name] = site.local_name
                self._edited.append(statement)
        # else INLINE: the provider is called where the facade was obtained
        return True

    def _in_nested_def(self, node: cst.CSTNode, function: cst.FunctionDef) -> bool:
        """Inside another def than ``function`` (a lambda or a comprehension is still in sight)."""
        return self._inside(node, function, cst.FunctionDef)

    def _inside(self, node: cst.CSTNode, function: cst.FunctionDef, kind: type[cst.CSTNode]) -> bool:
        current: cst.CSTNode | None = self._parent(node)
        while current is not None and current is not function:
            if isinstance(current, kind):
                return True
            current = self._parent(current)
        return False

    def _method_of(self, cls: cst.ClassDef, function: cst.FunctionDef) -> cst.FunctionDef | None:
        """The method of ``cls`` that is, or lexically encloses, ``function``: the statement of the class
        body that ``function`` is in, when that statement is a def (``_method_of``, found by parents)."""
        key = (cls, function)
        if key not in self._methods:
            node: cst.CSTNode | None = function
            while node is not None and self._parent(node) is not cls.body:
                node = self._parent(node)
            self._methods[key] = node if isinstance(node, cst.FunctionDef) else None
        return self._methods[key]

    def _self_assigned_in(self, init: cst.FunctionDef, self_name: str) -> set[str]:
        key = (init, self_name)
        if key not in self._assigned:
            self._assigned[key] = _self_assigned_in(init.body, self_name)
        return self._assigned[key]

    def _names_in(self, function: cst.FunctionDef) -> set[str]:
        if function not in self._names:
            self._names[function] = _bound_names(function)
        return self._names[function]

    def _facade_signature(self, method: str) -> Signature | None:
        if method not in self._facade_signatures:
            self._facade_signatures[method] = self.signatures.first_method(self.plan.facade.classes, method)
        return self._facade_signatures[method]

    def _check_arguments(self, site: _Site, node: cst.Call) -> bool:
        """Lay the arguments out as the mapping says and check them against the target's signature
        read from the tree; a mismatch is a blocker naming both signatures."""
        mapping = site.mapping
        assert mapping is not None
        call = site.call
        what = f"{call.receiver}.{call.method}"
        facade_text = site.facade_signature.text if site.facade_signature else f"{call.method}(?)"
        if mapping.pack is not None:
            if not self.signatures.has_class(mapping.pack.class_name):
                self._unsafe(
                    call,
                    "missing_parameter_class",
                    f"the parameter class {mapping.pack.class_name} (mappings.{call.method}) is not in the tree",
                    f"define it, or correct mappings.{call.method}.pack.class",
                )
                return False
            site.pack_class = _split(mapping.pack.class_name)[1]
        try:
            args = self._target_args(site, forwarded_args(node, site.form == HOP))
        except ShapeError as error:
            self._unsafe(
                call,
                "argument_mapping",
                f"{what} cannot be rewritten to {mapping.target}: {error}",
                f"pass the arguments explicitly, or adjust mappings.{call.method}",
            )
            return False
        target_text, target = self._target_signature(site)
        if target is None:
            if target_text is not None:
                self._unsafe(call, "missing_target", target_text, f"correct mappings.{call.method}")
                return False
            return True  # the repository class is not in the tree: nothing to read its methods from
        positional, keywords, splat = call_shape(args)
        problems = target.problems(positional, keywords, splat=splat)
        if mapping.pack is not None:
            constructor = self.signatures.constructor(mapping.pack.class_name)
            if constructor is not None:
                fields = [field for name, field in mapping.pack.fields if name in self._bound_names(site, node)]
                problems += [f"{constructor.text}: {p}" for p in constructor.problems(0, fields)]
        if problems:
            self._unsafe(
                call,
                "signature_mismatch",
                f"{what} as {facade_text} does not fit {target.text}: {'; '.join(problems)}",
                f"adjust mappings.{call.method} (args, positional, constants, pack or an adapter)",
            )
            return False
        if target.is_async != self.plan.awaits(call.method) and not target.decorated:
            # awaiting a plain def's value fails; not awaiting an async def leaves a coroutine un-awaited
            kind = "an async def" if target.is_async else "a plain def"
            what_is = f"the adapter {mapping.adapter}" if mapping.adapter is not None else mapping.target
            self._unsafe(
                call,
                "signature_mismatch",
                f"{what_is} is {kind}, but the plan says awaitable: {str(self.plan.awaits(call.method)).lower()}",
                f"set mappings.{call.method}.awaitable (or the repository's) to {str(target.is_async).lower()}",
            )
            return False
        return True

    def _bound_names(self, site: _Site, node: cst.Call) -> set[str]:
        """The facade parameters the call gives a value (for the parameter object's check)."""
        signature = site.facade_signature
        if signature is None:
            return set()
        args = forwarded_args(node, site.form == HOP)
        names = set(signature.positional[: sum(1 for a in args if a.keyword is None and not a.star)])
        return names | {a.keyword.value for a in args if a.keyword is not None}

    def _target_signature(self, site: _Site) -> tuple[str | None, Signature | None]:
        """(why there is none, the signature the rewritten call must fit)."""
        mapping = site.mapping
        assert mapping is not None
        if mapping.adapter is not None:
            adapter = self.signatures.function(mapping.adapter)
            if adapter is None:
                return (
                    f"the adapter {mapping.adapter} of mappings.{mapping.facade_method} is not defined in the tree",
                    None,
                )
            if not adapter.positional and not adapter.varargs:
                return f"the adapter {adapter.text} takes no repository as its first argument", None
            rest = adapter.positional[1:]
            without_repository = Signature(
                adapter.name,
                rest,
                max(adapter.posonly - 1, 0),
                adapter.kwonly,
                adapter.required - set(adapter.positional[:1]),
                adapter.varargs,
                adapter.varkw,
                adapter.is_async,
                adapter.text,
            )
            return None, without_repository
        class_name = site.repository.class_name
        if not self.signatures.has_class(class_name):
            return None, None
        try:
            target = self.signatures.method(class_name, mapping.method)
        except SignatureUnknown:
            return None, None  # inherited from a class outside the tree: nothing to check against
        if target is None:
            return f"{class_name} has no method {mapping.method} (mappings.{mapping.facade_method})", None
        return None, target

    @staticmethod
    def _target_args(site: _Site, args: list[cst.Arg]) -> list[cst.Arg]:
        """The rewritten call's arguments, but for an adapter's first (the repository). Raises ShapeError."""
        mapping = site.mapping
        assert mapping is not None
        if mapping.reshapes:
            return reshaped(args, mapping, site.facade_signature, site.pack_class)
        return renamed(args, site.renames)

    def _plan_received(self, site: _Site, receiver: cst.BaseExpression, function: cst.FunctionDef, what: str) -> bool:
        """Route a call on a received facade the way the plan says; False (and unsafe) when it cannot."""
        repository, call = site.repository, site.call
        entry = f"repositories.{repository.name}.from_received"
        if repository.from_received is None:
            self._unsafe(
                call,
                "received_facade",
                f"{what} is called on a facade the code receives ({_how(receiver)}); the plan gives no way "
                f"to reach repository {repository.name!r} from it",
                f"add `{entry}` to the plan (itself | attribute:<path> | depends)",
            )
            return False
        if repository.from_received == FROM_RECEIVED_DEPENDS:
            if not Frameworks.of_plan(self.plan).fastapi:
                self._unsafe(
                    call,
                    "received_facade",
                    f"{what}: `{entry}: depends` {fastapi.DEPENDS_RECEIVED_ONLY}, and the plan's frameworks leave "
                    f"{fastapi.NAME} out",
                    switched_off_fix(fastapi.NAME),
                )
                return False
            param = _depends_param(function, receiver.value) if isinstance(receiver, cst.Name) else None
            if param is None:
                self._unsafe(
                    call,
                    "received_facade",
                    f"{what}: `{entry}: depends` {fastapi.DEPENDS_RECEIVED_ONLY}, and "
                    f"this facade is received otherwise ({_how(receiver)})",
                    f"set `{entry}` to `itself` or `attribute:<path>`",
                )
                return False
            site.strategy = DEPENDS
            self._facade_params[id(function)] = param
            names = self._depends.setdefault(id(function), {})
            self._edited.append(function)
            site.local_name = names.setdefault(
                repository.name, _free_name(repository.attribute, names, set(), self._names_in(function))
            )
            return True
        site.strategy = RECEIVED
        site.path = repository.received_path or ()
        site.received = receiver
        return True

    def _origin(self, expr: cst.BaseExpression, cls: cst.ClassDef | None, self_name: str | None, depth: int) -> _Origin:
        """Obtained or received? Anything the code cannot show to be obtained counts as received:
        keeping an object is always safe, swapping it for a global is not."""
        received = _Origin(_RECEIVED)
        if depth > _MAX_DEPTH:
            return received
        resolver = self._resolver
        if isinstance(expr, cst.Call):
            return _Origin(_OBTAINED) if resolver is not None and resolver.is_factory_call(expr) else received
        if isinstance(expr, cst.BooleanOperation | cst.IfExp):
            parts = (expr.left, expr.right) if isinstance(expr, cst.BooleanOperation) else (expr.body, expr.orelse)
            origins = [self._origin(part, cls, self_name, depth + 1) for part in parts]
            return received if any(o.kind == _RECEIVED for o in origins) else _Origin(_OBTAINED)
        if isinstance(expr, cst.Name):
            return self._name_origin(expr, cls, self_name, depth)
        if (
            isinstance(expr, cst.Attribute)
            and cls is not None
            and isinstance(expr.value, cst.Name)
            and expr.value.value == self_name
        ):
            return self._self_origin(cls, expr.attr.value, depth)
        return received  # request.app.state.x, another object's attribute

    def _name_origin(self, expr: cst.Name, cls: cst.ClassDef | None, self_name: str | None, depth: int) -> _Origin:
        received = _Origin(_RECEIVED)
        scope = self.get_metadata(ScopeProvider, expr, None)
        resolver = self._resolver
        if scope is None or resolver is None:
            return received
        assignments = list(scope[expr.value])
        if not assignments:
            return received
        statements: list[cst.SimpleStatementLine] = []
        local = True
        for assignment in assignments:
            if not isinstance(assignment, Assignment) or isinstance(assignment.node, cst.Param):
                return received  # a parameter, an import, a builtin
            value = resolver.assigned.get(assignment.node)
            if value is None:
                return received  # a loop target, a bare annotation, ...
            if _is_none(value):
                continue  # a placeholder until the facade is set
            origin = self._origin(value, cls, self_name, depth + 1)
            if origin.kind == _RECEIVED:
                return received
            statement = self._assignment_statement(assignment.node)
            if statement is None or assignment.scope is not self._function_scope or not isinstance(value, cst.Call):
                local = False  # a walrus, a with-item, a closure, an alias of an alias: call the provider inline
            else:
                statements.append(statement)
        if local and not statements:
            return received  # only ever None here: nothing shows where it comes from
        return _Origin(_OBTAINED_LOCAL, statements) if local else _Origin(_OBTAINED)

    def _assignment_statement(self, target: cst.CSTNode) -> cst.SimpleStatementLine | None:
        """The one-statement line ``target = ...`` / ``target: T = ...`` in a block, if that is what it is."""
        holder = self.get_metadata(ParentNodeProvider, target, None)
        if isinstance(holder, cst.AssignTarget):
            holder = self.get_metadata(ParentNodeProvider, holder, None)
            if not isinstance(holder, cst.Assign) or len(holder.targets) != 1:
                return None
        return self._assignment_line(holder)

    def _assignment_line(self, holder: cst.CSTNode | None) -> cst.SimpleStatementLine | None:
        if not isinstance(holder, cst.Assign | cst.AnnAssign):
            return None
        line = self.get_metadata(ParentNodeProvider, holder, None)
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            parent = self.get_metadata(ParentNodeProvider, line, None)
            if isinstance(parent, cst.IndentedBlock):
                return line
        return None

    def _self_origin(self, cls: cst.ClassDef, attr: str, depth: int) -> _Origin:
        """``self.<attr>``: received when any assignment stores a received object (or it is a
        dataclass field, or nothing in the class assigns it); obtained otherwise."""
        received = _Origin(_RECEIVED)
        key = (cls, attr)
        if key not in self._self_values:
            self._self_values[key] = _self_values(cls, attr)
        values = self._self_values[key]
        if not values:
            return received
        in_init_only = True
        statements: list[cst.SimpleStatementLine] = []
        for method, value in values:
            if value is None:
                return received  # a dataclass field, a bare annotation
            if _is_none(value):
                continue  # a placeholder until the facade is set
            method_self = _first_param(method) if method is not None else None
            if self._origin(value, cls, method_self, depth + 1).kind == _RECEIVED:
                return received
            holder = self.get_metadata(ParentNodeProvider, value, None)
            line = self._assignment_line(holder) if holder is not None else None
            if method is None or method.name.value != "__init__" or not isinstance(value, cst.Call) or line is None:
                in_init_only = False
            else:
                statements.append(line)
        if in_init_only and not statements:
            return received  # only ever None in the class: nothing shows where it comes from
        return _Origin(_OBTAINED_SELF, statements) if in_init_only else _Origin(_OBTAINED)

    def _find_unused_receivers(self) -> None:
        """Local facade variables and Depends parameters whose every use is being rewritten go away, and so
        does a ``loop = asyncio.get_running_loop()`` whose every use is a ``loop.run_in_executor`` hop being
        rewritten (left, it would be a local nothing reads: pyflakes' F841)."""
        receivers = {
            id(access_parts(site.attribute)[0])
            for site in self._sites.values()
            if site.strategy in (LOCAL, INLINE, DEPENDS)
        }
        hop_loops = {
            id(site.node.func.value)
            for site in self._sites.values()
            if site.form == HOP
            and site.node is not None
            and isinstance(site.node.func, cst.Attribute)
            and site.node.func.attr.value == "run_in_executor"
            and isinstance(site.node.func.value, cst.Name)
        }
        functions = {id(s.function): s.function for s in self._sites.values() if s.function is not None}
        for function in functions.values():
            scope = self.get_metadata(ScopeProvider, function.body, None)
            if scope is None:
                continue
            for assignment in scope.assignments:
                node = getattr(assignment, "node", None)
                uses = {id(reference.node) for reference in assignment.references}
                if not uses:
                    continue
                if isinstance(node, cst.Param) and uses <= receivers and id(function) in self._facade_params:
                    if node is self._facade_params[id(function)]:
                        self._removable.add(id(node))  # in the function's parameters, laid out anew
                elif (
                    isinstance(node, cst.Name)
                    and len(scope.assignments[assignment.name]) == 1
                    and (uses <= receivers or (uses <= hop_loops and self._assigns_the_running_loop(node)))
                ):
                    self._removable.add(id(node))
                    self._edited.append(node)

    def _assigns_the_running_loop(self, target: cst.Name) -> bool:
        """Is ``target`` the one target of ``target = asyncio.get_running_loop()`` (which only reads the loop
        a coroutine runs on: nothing is lost when the statement goes)?"""
        holder = self.get_metadata(ParentNodeProvider, target, None)
        if not isinstance(holder, cst.AssignTarget):
            return False
        statement = self.get_metadata(ParentNodeProvider, holder, None)
        if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1):
            return False
        value = statement.value
        if not (isinstance(value, cst.Call) and not value.args):
            return False
        scope = self.get_metadata(ScopeProvider, value.func, None)
        names = scope.get_qualified_names_for(value.func) if scope is not None else set()
        return any(name.name == "asyncio.get_running_loop" for name in names)

    def _provider_call(self, repository: Repository) -> str:
        assert repository.provider is not None  # every obtained site was checked in _plan_site
        module, name = _split(repository.provider)
        ref = self._provider_refs.get(repository.name, name)
        AddImportsVisitor.add_needed_import(self.context, module, name, None if ref == name else ref)
        return f"{ref}()"

    # --- recording ---------------------------------------------------------------------------
    def transform_module(self, tree: cst.Module) -> cst.Module:
        if not self.record:
            return super().transform_module(tree)
        # Recording, the imports asked for are recorded and left to the replay: LibCST's import visitors
        # (scope analysis of the whole module) cost as much as the rewrite, and the replay runs them anyway.
        result = Codemod.transform_module(self, tree)
        self.recorded.imports = _requested_imports(self.context)
        return result

    def _span(self, node: cst.CSTNode, kind: str) -> Span:
        if self._lines is None:
            module = self.context.module
            assert module is not None  # set while the tree is transformed
            self._lines = source_lines(module_code(module))
        position = self.get_metadata(PositionProvider, node)
        start, end = position.start, position.end
        return Span.of(kind, (start.line, start.column), (end.line, end.column), self._lines)

    def _text(self, node: cst.CSTNode) -> str:
        module = self.context.module
        assert module is not None
        return source_text(node, module, self._indents)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        module = self.context.module
        assert module is not None
        self._indents.append(block_indent(node, module))

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self._indents.pop()
        return updated_node

    # --- transforming --------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        site = self._by_node.get(id(original_node))
        if site is None:
            return updated_node
        result = self._rewritten_call(site, original_node, updated_node)
        if self.record:
            replaced = Replacement(self._span(original_node, edit_plan.CALL), self._text(result))
            self.recorded.replacements.append((site.call, replaced))
        return result

    def _rewritten_call(self, site: _Site, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        repository = site.repository
        mapping = site.mapping
        assert mapping is not None
        receiver: cst.BaseExpression
        if site.strategy == SELF:
            assert site.self_name is not None
            receiver = cst.Attribute(value=cst.Name(site.self_name), attr=cst.Name(repository.attribute))
        elif site.strategy == INLINE:
            receiver = cst.parse_expression(self._provider_call(repository))
        elif site.strategy == RECEIVED:
            assert site.received is not None
            receiver = site.received  # the same object, as written (the call may be a thread hop's)
            for part in site.path:
                receiver = cst.Attribute(value=receiver, attr=cst.Name(part))
        else:
            receiver = cst.Name(site.local_name)
        call: cst.Call
        if site.form != HOP and not mapping.reshapes and mapping.adapter is None:
            # only the callee and keyword names change: the arguments keep their layout and comments
            func: cst.BaseExpression = (
                updated_node.func.with_changes(value=receiver, attr=cst.Name(site.method))
                if isinstance(updated_node.func, cst.Attribute)
                else cst.Attribute(value=receiver, attr=cst.Name(site.method))
            )
            call = updated_node.with_changes(func=func, args=renamed(updated_node.args, site.renames))
        else:
            args = self._target_args(site, forwarded_args(updated_node, site.form == HOP))
            if mapping.adapter is not None:
                module, name = _split(mapping.adapter)
                AddImportsVisitor.add_needed_import(self.context, module, name)
                func, args = cst.Name(name), [positional_arg(receiver), *args]
            else:
                func = cst.Attribute(value=receiver, attr=cst.Name(site.method))
            call = cst.Call(func=func, args=args, lpar=updated_node.lpar, rpar=updated_node.rpar)
        if mapping.pack is not None:
            AddImportsVisitor.add_needed_import(self.context, *_split(mapping.pack.class_name))
        if site.form == HOP:  # the thread hop's imports go once nothing else uses them
            for hop_module, hop_name in _HOP_IMPORTS:
                RemoveImportsVisitor.remove_unused_import(self.context, hop_module, hop_name)
        if not site.add_await:
            return call
        parent = self.get_metadata(ParentNodeProvider, original_node, None)
        return awaited(call, parenthesize=needs_parentheses_for_await(parent, original_node))

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        if id(original_node.expression) not in self._drop_await:
            return updated_node
        # a sync repository method replaces an awaited one: the value is used as it is
        result = updated_node.expression
        if updated_node.lpar and not result.lpar:
            result = result.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        if self.record:
            site = self._by_node[id(original_node.expression)]
            # the call's own replacement, just recorded, is inside this one
            if self.recorded.replacements and self.recorded.replacements[-1][0] is site.call:
                self.recorded.replacements.pop()
            replaced = Replacement(self._span(original_node, edit_plan.AWAIT), self._text(result))
            self.recorded.replacements.append((site.call, replaced))
        return result

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if len(original_node.body) != 1:
            return updated_node
        statement = original_node.body[0]
        target = (
            statement.targets[0].target
            if isinstance(statement, cst.Assign) and len(statement.targets) == 1
            else statement.target
            if isinstance(statement, cst.AnnAssign)
            else None
        )
        remove = target is not None and id(target) in self._removable
        # the repository local goes where the facade local was obtained: same block, same try, same guards
        sources = [
            f"{local} = {self._provider_call(self.plan.repositories[repo])}"
            for repo, local in sorted(self._after.get(id(original_node), {}).items())
        ]
        if not remove and not sources:
            return updated_node
        if self.record:
            self.recorded.statements.append(
                StatementEdit(self._span(original_node, edit_plan.STATEMENT), remove, tuple(sources))
            )
        added = [cst.ensure_type(cst.parse_statement(source), cst.SimpleStatementLine) for source in sources]
        return with_statements_after(updated_node, not remove, added)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if id(original_node) not in self._depends:
            return updated_node
        result = self._add_depends_params(original_node, updated_node)
        if self.record:
            parameters = ParameterEdit(self._span(original_node, edit_plan.FUNCTION), self._text(result.params))
            self.recorded.parameters.append(parameters)
        return result

    def _add_depends_params(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        facade_param = self._facade_params[id(original)]
        new_params: list[cst.Param] = []
        for repo, name in sorted(self._depends[id(original)].items()):
            repository = self.plan.repositories[repo]
            class_module, class_name = _split(repository.class_name)
            AddImportsVisitor.add_needed_import(self.context, class_module, class_name)
            provider_name = self._provider_call(repository).removesuffix("()")
            annotation, default = _depends_shape(facade_param, class_name, provider_name)
            new_params.append(
                facade_param.with_changes(
                    name=cst.Name(name),
                    annotation=annotation,
                    default=default,
                    comma=cst.MaybeSentinel.DEFAULT,
                )
            )
        params = updated.params
        for field_name in ("params", "kwonly_params", "posonly_params"):
            group: tuple[cst.Param, ...] = getattr(params, field_name)
            for index, param in enumerate(group):
                if param.name.value != facade_param.name.value:
                    continue
                keep = [] if id(facade_param) in self._removable else [param]
                replaced = [*keep, *new_params]
                commas = _commas_for(param.comma, len(replaced), _line_start(updated, group, index))
                fixed = [
                    p.with_changes(comma=comma, whitespace_after_param=cst.SimpleWhitespace(""))
                    for p, comma in zip(replaced[:-1], commas, strict=False)
                ]
                fixed.append(
                    replaced[-1].with_changes(comma=commas[-1], whitespace_after_param=param.whitespace_after_param)
                )
                group = (*group[:index], *fixed, *group[index + 1 :])
                return updated.with_changes(params=params.with_changes(**{field_name: group}))
        return updated

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        facade_names = self.spec.factories | self.spec.classes
        for dotted in sorted(facade_names):
            module, name = _split(dotted)
            RemoveImportsVisitor.remove_unused_import(self.context, module, name)
        # ``from pkg import get_db as db``: the visitor only removes an alias it is told about
        for statement in original_node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                    continue
                if small.relative or small.module is None:
                    continue
                module = self.module_name_of(small.module)
                for alias in small.names:
                    if alias.asname is None or not isinstance(alias.asname.name, cst.Name):
                        continue
                    imported = self.module_name_of(alias.name)
                    if f"{module}.{imported}" in facade_names:
                        RemoveImportsVisitor.remove_unused_import(
                            self.context, module, imported, alias.asname.name.value
                        )
        return updated_node

    @staticmethod
    def module_name_of(node: cst.BaseExpression) -> str:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return f"{RewriteFacadeCallsCommand.module_name_of(node.value)}.{node.attr.value}"
        return ""


# --- the decision, recorded for an edit plan ---------------------------------------------------------


@dataclass
class RewriteDecision:
    """The rewrites of one file as a recording run decided them on a tree (``decide_rewrites``)."""

    output: cst.Module  # what the run wrote, imports aside: replaying the records must give the same
    rewrites: list[CallRewrite]  # the planned rewrites, each with the nodes it replaces
    recorded: RecordedRewrites
    missing: list[tuple[int, str]]  # (line, what): planned rewrites the run did not make
    unplanned: list[CallSite]  # calls the run rewrote that were not planned
    warnings: list[str]
    outcome: RewriteOutcome  # the run's own account: every call rewritten, unmapped or refused, on ``tree``


def decide_rewrites(
    tree: cst.Module, context: CodemodContext, plan: Plan, planned: Sequence[CallRewrite]
) -> RewriteDecision:
    """Decide the rewrites of ``tree`` (the text the propagation left: the functions holding the calls
    are ``async def`` by now) and record them, each planned rewrite with the nodes it replaces.

    The planned rewrites name their calls in the text before the propagation, which moved lines, so
    they are matched to the calls rewritten here by function and method, in order."""
    command = RewriteFacadeCallsCommand(context, plan_object=plan, await_in_sync_def=True, record=True)
    output = command.transform_module(tree)
    replaced: dict[int, list[Replacement]] = {}
    for call, replacement in command.recorded.replacements:
        replaced.setdefault(id(call), []).append(replacement)
    done: dict[tuple[str, str], list[CallSite]] = {}
    for call in command.outcome.rewritten:
        done.setdefault((call.function, call.method), []).append(call)
    rewrites, missing = [], []
    for rewrite in planned:
        calls = done.get((rewrite.function, rewrite.method))
        if not calls:
            missing.append((rewrite.node.line, rewrite.what))
            rewrites.append(rewrite)
            continue
        call = calls.pop(0)
        rewrites.append(replace(rewrite, replace=tuple(replaced.get(id(call), ()))))
    unplanned = [call for calls in done.values() for call in calls]
    return RewriteDecision(
        output, rewrites, command.recorded, missing, unplanned, list(command.context.warnings), command.outcome
    )


def _requested_imports(context: CodemodContext) -> list[ImportEdit]:
    """The imports a run asked LibCST's import visitors to add and to remove, in order, each once."""
    found: list[ImportEdit] = []
    for item in context.scratch.get(AddImportsVisitor.CONTEXT_KEY, []):
        found.append(ImportEdit(edit_plan.ADD, item.module_name, item.obj_name, item.alias, item.relative))
    for module, name, alias in context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY, []):
        found.append(ImportEdit(edit_plan.REMOVE_UNUSED, module, name, alias))
    return list(dict.fromkeys(found))


# --- small helpers ------------------------------------------------------------------------------


def _bound_target(node: cst.CSTNode | None) -> cst.Name | None:
    """The name in ``name = facade.m``, when ``node`` is that assignment."""
    if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        return node.targets[0].target
    return None


def _first_param(function: cst.FunctionDef | None) -> str | None:
    if function is None:
        return None
    params = [*function.params.posonly_params, *function.params.params]
    return params[0].name.value if params else None


def _self_assigned_in(statement: cst.CSTNode, self_name: str) -> set[str]:
    names: set[str] = set()

    class _Targets(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            _add(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            _add(node.target)

    def _add(target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == self_name:
            names.add(target.attr.value)

    statement.visit(_Targets())
    return names


def _is_depends_call(node: cst.BaseExpression | None) -> bool:
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    return fastapi.is_depends_name(name)


def _depends_param(function: cst.FunctionDef | None, name: str) -> cst.Param | None:
    if function is None:
        return None
    params = function.params
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        if param.name.value != name:
            continue
        if _is_depends_call(param.default):
            return param
        annotation = param.annotation.annotation if param.annotation else None
        if isinstance(annotation, cst.Subscript) and any(
            isinstance(el.slice, cst.Index) and _is_depends_call(el.slice.value) for el in annotation.slice
        ):
            return param
    return None


def _depends_shape(
    facade_param: cst.Param, class_name: str, provider_name: str
) -> tuple[cst.Annotation, cst.BaseExpression | None]:
    """The new parameter's annotation and default, in the facade parameter's style."""
    if _is_depends_call(facade_param.default):
        return cst.Annotation(cst.Name(class_name)), cst.parse_expression(fastapi.dependency_default(provider_name))
    annotation = cst.parse_expression(fastapi.annotated_dependency(class_name, provider_name))
    return cst.Annotation(annotation), facade_param.default


def _free_name(wanted: str, taken: MappingType[str, str], avoid: set[str], bound: set[str]) -> str:
    """``wanted``, unless the function already binds that name (``bound``: ``_bound_names``) to something
    else, or it is a name the rewrite needs (a provider: ``rows_repo = rows_repo()`` would make it an
    unbound local)."""
    used = set(taken.values()) | avoid
    name, counter = wanted, 1
    while name in used or name in bound:
        counter += 1
        name = f"{wanted}_{counter}"
    return name


def _bound_names(function: cst.FunctionDef) -> set[str]:
    names = {
        p.name.value for p in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params)
    }

    class _Names(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                names.add(node.target.value)

        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)  # any use of the name: a new local must not shadow it

    function.body.visit(_Names())
    return names


def _how(receiver: cst.BaseExpression) -> str:
    """How a receiver reads in a message: ``parameter `store```, ```self.store```."""
    text = cst.Module(body=[]).code_for_node(receiver)
    return f"`{text}`"


_SelfValue = tuple[cst.FunctionDef | None, cst.BaseExpression | None]


def _self_values(cls: cst.ClassDef, attr: str) -> list[_SelfValue]:
    """Every value ``self.<attr>`` is given in ``cls``, with the method that gives it (None: the class
    body; a None value: a field declared by annotation, as dataclasses, attrs and pydantic do)."""
    found: list[_SelfValue] = []
    for member in cls.body.body:
        if isinstance(member, cst.SimpleStatementLine):
            for small in member.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    if small.target.value == attr:
                        found.append((None, None))
                elif isinstance(small, cst.Assign):
                    if any(isinstance(t.target, cst.Name) and t.target.value == attr for t in small.targets):
                        found.append((None, small.value))
        elif isinstance(member, cst.FunctionDef):
            self_name = _first_param(member)
            if self_name is None:
                continue
            stores = _SelfStores(self_name, attr)
            member.body.visit(stores)
            found.extend((member, value) for value in stores.values)
    return found


class _SelfStores(cst.CSTVisitor):
    """The values assigned to ``<self_name>.<attr>``."""

    def __init__(self, self_name: str, attr: str) -> None:
        super().__init__()
        self.self_name, self.attr = self_name, attr
        self.values: list[cst.BaseExpression] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(_is_self_attr(t.target, self.self_name, self.attr) for t in node.targets):
            self.values.append(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and _is_self_attr(node.target, self.self_name, self.attr):
            self.values.append(node.value)


def _is_none(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value == "None"


def _is_self_attr(target: cst.BaseExpression, self_name: str, attr: str) -> bool:
    return (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == self_name
        and target.attr.value == attr
    )


def _line_start(
    function: cst.FunctionDef, group: Sequence[cst.Param], index: int
) -> cst.ParenthesizedWhitespace | None:
    """How the line of parameter ``index`` of ``group`` starts, when parameters go one per line: the
    whitespace after the comma before it (or after the opening parenthesis); None when not known."""
    if index > 0:
        comma = group[index - 1].comma
        before = comma.whitespace_after if isinstance(comma, cst.Comma) else None
    else:
        before = function.whitespace_before_params
    return before if isinstance(before, cst.ParenthesizedWhitespace) else None


def _commas_for(
    comma: cst.Comma | cst.MaybeSentinel, count: int, line_start: cst.ParenthesizedWhitespace | None
) -> list[cst.Comma | cst.MaybeSentinel]:
    """The commas of ``count`` parameters replacing one whose comma was ``comma``: each in its layout
    (one per line or not), the last keeping whatever followed the one replaced. A comment after the
    parameter is written once, after the first; comment lines before the next parameter stay before it.
    A new parameter's line starts as the replaced one's did (``line_start``): after the last parameter,
    the comma's own whitespace leads to the closing parenthesis, indented less."""
    if count == 1:
        return [comma]
    if not isinstance(comma, cst.Comma):
        return [*[cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))] * (count - 1), comma]
    after = comma.whitespace_after
    if not isinstance(after, cst.ParenthesizedWhitespace):
        return [comma] * count  # all on one line: no comment to keep once
    bare_line = cst.TrailingWhitespace(newline=after.first_line.newline)
    start = line_start or after
    between = after.with_changes(empty_lines=(), indent=start.indent, last_line=start.last_line)
    first = comma.with_changes(whitespace_after=between)
    middle = comma.with_changes(whitespace_after=between.with_changes(first_line=bare_line))
    last = comma.with_changes(whitespace_after=after.with_changes(first_line=bare_line))
    return [first, *[middle] * (count - 2), last]


def _provider_names(module: cst.Module, plan: Plan) -> dict[str, str]:
    """The name each provider is imported as: its own, unless the module already uses that name for
    something else — then an alias no one uses (a rewrite never shadows a name it needs)."""
    names: set[str] = set()
    imported: dict[tuple[str, str], str] = {}
    # Every name of the module but attributes of other objects (``x.get_repo`` binds nothing here) and
    # the dotted names of ``from`` imports, read from the nodes' fields (a LibCST walk rebuilds each node).
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Name):
            names.add(node.value)
        elif isinstance(node, cst.Attribute):
            pending.append(node.value)
        elif isinstance(node, cst.ImportFrom):
            if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
                continue
            source = RewriteFacadeCallsCommand.module_name_of(node.module)
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name):
                    imported[(source, RewriteFacadeCallsCommand.module_name_of(alias.name))] = bound.value
                    names.add(bound.value)
        else:
            pending.extend(child_nodes(node))
    refs: dict[str, str] = {}
    for repository in plan.repositories.values():
        if repository.provider is None:
            continue
        source, name = _split(repository.provider)
        if (source, name) in imported:
            refs[repository.name] = imported[(source, name)]
            continue
        ref, counter = name, 1
        while ref in names:
            counter += 1
            ref = f"{name}_{counter}" if counter > 2 else f"_{name}"
        refs[repository.name] = ref
    return refs
