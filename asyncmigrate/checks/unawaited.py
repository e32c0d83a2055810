"""The ``unawaited-async-call`` finding kinds of ``check``: a coroutine of a project function that nothing
awaits and nothing runs — the one mistake a migration must never leave behind, because the code still
imports and the caller silently gets a coroutine object instead of a value.

What counts as a call reaching an ``async def`` function:
- a call the call graph resolves to it (``f()``, ``self.m()``, ``self.service.m()``, …);
- ``super().m()`` where the first class after the caller's in the MRO defines ``m`` as ``async def``;
- ``getattr(obj, "m")(...)`` with a constant name, where ``obj`` resolves to something whose ``m`` is async.
A method call on a receiver of unknown type (a parameter without annotation, ``Any``, an attribute the
graph cannot type) whose name is that of an async project method is the lower-confidence kind
``possibly-unawaited-async-call``: it may reach the async method, or something else of the same name.

What counts as running the coroutine (no finding): ``await``; handing it to ``asyncio.run`` & co. or to a
loop's/task group's ``create_task``; to an API the plan lists under ``async_callbacks`` or
``coroutine_consumers``; to a parameter annotated ``Coroutine``/``Awaitable``; or collecting it into a list
(``tasks.append(f(x))``, ``tasks = [f(x) for x in xs]``) that the same function hands to
``asyncio.gather``/``asyncio.wait``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from asyncmigrate.analysis.callgraph import GETATTR, CallRef, FunctionSummary, ModuleSummary, Project, Value, chain_of
from asyncmigrate.config.plan import Plan
from asyncmigrate.workspace.cache import KeyedResults, content_key, format_version

UNAWAITED_ASYNC_CALL = "unawaited-async-call"
POSSIBLY_UNAWAITED_ASYNC_CALL = "possibly-unawaited-async-call"

# Callables that take a coroutine object and run it: handing one to them is not forgetting to await it.
COROUTINE_CONSUMERS = frozenset(
    {
        "asyncio.run",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.gather",
        "asyncio.wait_for",
        "asyncio.wait",
        "asyncio.shield",
        "asyncio.as_completed",
        "asyncio.run_coroutine_threadsafe",
    }
)
# Methods of loops, task groups and nurseries that do the same, whatever object they are called on.
CONSUMER_METHODS = frozenset({"create_task", "run_until_complete", "start_soon", "spawn", "run_coroutine_threadsafe"})
# Where a list of coroutines collected beforehand is run.
_LIST_RUNNERS = frozenset({"asyncio.gather", "asyncio.wait"})
_AWAITABLE_ANNOTATIONS = frozenset({"Coroutine", "Awaitable"})
# On a receiver of unknown type, these names most likely reach a builtin container or string, not the
# project's async method of the same name: too weak a doubt to report.
_BUILTIN_METHODS = frozenset(
    name for kind in (dict, list, set, frozenset, str, bytes, tuple, int, float) for name in dir(kind)
)
_UNKNOWN_TYPES = frozenset({"typing.Any", "typing_extensions.Any", "Any", "builtins.object", "object"})
_FIX = "await it (the enclosing function must be async), or hand it to asyncio.create_task / asyncio.run"
_POSSIBLE_FIX = "annotate the receiver with its class so the call resolves; if it reaches the async method, await it"


@dataclass(frozen=True)
class UnawaitedCall:
    """One finding of either kind, before ``check`` wraps it as a ``Finding``."""

    path: str
    line: int
    column: int
    kind: str
    message: str
    fix: str


@dataclass
class _Analysis:
    plan: Plan
    project: Project
    facade_calls: frozenset[tuple[str, int, str]]  # (path, line, method) of the scanner's facade call sites
    _trees: dict[str, ast.Module | None] = field(default_factory=dict)
    _gathered: dict[tuple[str, str | None], frozenset[tuple[int, str]]] = field(default_factory=dict)
    _async_methods: dict[str, list[FunctionSummary]] = field(default_factory=dict)  # by name

    @property
    def accepting(self) -> set[str]:
        return {*self.plan.async_callbacks, *self.plan.coroutine_consumers}

    # -- the walk ---------------------------------------------------------------------------------
    def findings(self) -> Iterator[UnawaitedCall]:
        targets = [f for f in self.project.functions.values() if _returns_a_coroutine(f)]
        for function in targets:
            if function.is_method:
                self._async_methods.setdefault(function.name, []).append(function)
        possible: dict[tuple[str, int, int], tuple[str, str, list[str]]] = {}
        for function in targets:
            for module, caller, call, resolved in self.project.callers(function):
                if not call.is_call or call.awaited:
                    continue
                if resolved is not None:
                    confident = resolved.function is function
                    if not confident:
                        continue
                elif call.receiver_call == ("super",):
                    if self._super_target(caller, call.chain[-1]) is not function:
                        continue
                    confident = True
                elif function.is_method and self._unknown_receiver(module, caller, call):
                    confident = False
                else:
                    continue
                if self._runs_it(module, caller, call):
                    continue
                where = f"in {caller.qualname}" if caller else "at module level"
                spelled = ".".join(("super()", *call.chain[1:]) if call.receiver_call == ("super",) else call.chain)
                if confident:
                    yield UnawaitedCall(
                        module.path,
                        call.line,
                        call.col,
                        UNAWAITED_ASYNC_CALL,
                        f"{spelled}() {where} creates a coroutine of async {function.qualname} that is never awaited",
                        _FIX,
                    )
                else:
                    key = (module.path, call.line, call.col)
                    possible.setdefault(key, (spelled, where, []))[2].append(function.qualname)
        for (path, line, column), (spelled, where, candidates) in sorted(possible.items()):
            names = ", ".join(sorted(set(candidates)))
            yield UnawaitedCall(
                path,
                line,
                column,
                POSSIBLY_UNAWAITED_ASYNC_CALL,
                f"{spelled}() {where} is not awaited, and its receiver's type is unknown: "
                f"if it reaches async {names}, the coroutine is never awaited",
                _POSSIBLE_FIX,
            )
        yield from self._getattr_calls({f.name for f in targets})

    # -- what the call reaches --------------------------------------------------------------------
    def _super_target(self, caller: FunctionSummary | None, name: str) -> FunctionSummary | None:
        """The method ``super().name`` reaches from ``caller``: the first after the caller's class in the MRO."""
        if caller is None or caller.class_id is None:
            return None
        for class_id in self.project.mro(caller.class_id)[1:]:
            methods = self.project.classes[class_id].methods
            if name in methods:
                return self.project.functions.get(methods[name])
        return None

    def _unknown_receiver(self, module: ModuleSummary, caller: FunctionSummary | None, call: CallRef) -> bool:
        name = call.chain[-1]
        if name in _BUILTIN_METHODS or call.receiver_call is not None or len(call.chain) < 2:
            return False
        if call.chain[0] == GETATTR:
            return False  # ``getattr(obj, "m")(...)``: its own pass below reads the receiver
        if (module.path, call.line, name) in self.facade_calls:
            return False  # the scanner knows this receiver: the sync facade, whose methods are not coroutines
        return _unknown(self.project.value_of_chain(call.chain[:-1], module, caller))

    # -- what runs the coroutine ------------------------------------------------------------------
    def _runs_it(self, module: ModuleSummary, caller: FunctionSummary | None, call: CallRef) -> bool:
        if call.arg_of is not None and (
            self._consumer(module, caller, call.arg_of)
            or self._awaitable_parameter(module, caller, call.arg_of, call.arg_keyword)
        ):
            return True
        if call.in_lambda and call.lambda_arg_of is not None and self._consumer(module, caller, call.lambda_arg_of):
            return True
        return (call.line, call.chain[-1]) in self._gathered_calls(module, caller)

    def _consumer(self, module: ModuleSummary, caller: FunctionSummary | None, callee: tuple[str, ...]) -> bool:
        if callee[-1] in CONSUMER_METHODS:
            return True
        value = self.project.value_of_chain(callee, module, caller)
        return value is not None and (value[1] in COROUTINE_CONSUMERS or value[1] in self.accepting)

    def _awaitable_parameter(
        self, module: ModuleSummary, caller: FunctionSummary | None, callee: tuple[str, ...], key: str | None
    ) -> bool:
        """Is the argument ``key`` (a position or a keyword) of ``callee`` annotated ``Coroutine``/``Awaitable``?"""
        value = self.project.value_of_chain(callee, module, caller)
        if value is None or key is None:
            return False
        bound = 0
        if value[0] == "class":  # a constructor: the argument goes to __init__, after self
            init = next(
                (self.project.classes[c].methods.get("__init__") for c in self.project.mro(value[1])),
                None,
            )
            function = self.project.functions.get(init or "")
            bound = 1
        elif value[0] == "function":
            function = self.project.functions[value[1]]
            # obj.m(coro): the instance fills the first parameter
            bound = int(function.is_method and len(callee) > 1 and "staticmethod" not in function.decorator_names())
        else:
            return False
        node = self._definition(function) if function is not None else None
        if node is None:
            return False
        return _is_awaitable(_parameter_annotation(node.args, key, bound))

    def _gathered_calls(self, module: ModuleSummary, caller: FunctionSummary | None) -> frozenset[tuple[int, str]]:
        """(line, name) of the calls whose coroutines ``caller`` collects into a list it hands to
        ``asyncio.gather``/``asyncio.wait``: ``tasks.append(f(x))``, ``tasks = [f(x) for x in xs]``."""
        key = (module.path, caller.id if caller else None)
        if key not in self._gathered:
            scope: ast.AST | None = self._definition(caller) if caller else self._tree(module.path)
            self._gathered[key] = frozenset(self._collected(module, caller, scope)) if scope else frozenset()
        return self._gathered[key]

    def _collected(self, module: ModuleSummary, caller: FunctionSummary | None, scope: ast.AST) -> set[tuple[int, str]]:
        nodes = list(_own_nodes(scope))
        lists: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Call) and (chain := chain_of(node.func)) is not None:
                runner = self.project.value_of_chain(chain, module, caller)
                if runner is not None and runner[1] in _LIST_RUNNERS:
                    for arg in node.args:
                        inner = arg.value if isinstance(arg, ast.Starred) else arg
                        if isinstance(inner, ast.Name):
                            lists.add(inner.id)
        found: set[tuple[int, str]] = set()
        if not lists:
            return found
        for node in nodes:
            values: list[ast.expr] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = node.func.value
                if isinstance(receiver, ast.Name) and receiver.id in lists and node.func.attr in ("append", "insert"):
                    values = node.args[-1:]
                elif isinstance(receiver, ast.Name) and receiver.id in lists and node.func.attr == "extend":
                    values = node.args[:1]
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in lists for t in node.targets):
                values = [node.value]
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
                if node.target.id in lists and node.value is not None:
                    values = [node.value]
            for collected in values:
                found.update(_element_calls(collected))
        return found

    # -- getattr(obj, "m")(...) -------------------------------------------------------------------
    def _getattr_calls(self, names: set[str]) -> Iterator[UnawaitedCall]:
        for path in sorted(self.project.paths_where(lambda entry: "getattr" in entry.call_names)):
            tree = self._tree(path)
            if tree is None:
                continue
            module = self.project.modules[path]
            yield from self._getattr_in(module, None, tree, names)

    def _getattr_in(
        self, module: ModuleSummary, function: FunctionSummary | None, scope: ast.AST, names: set[str]
    ) -> Iterator[UnawaitedCall]:
        awaited: set[int] = set()
        handed: dict[int, ast.Call] = {}
        for node in _own_nodes(scope):
            if isinstance(node, ast.Await):
                awaited.add(id(node.value))
            elif isinstance(node, ast.Call):
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    handed[id(arg.value if isinstance(arg, ast.Starred) else arg)] = node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = _summary_of(module, node)
                if inner is not None:
                    yield from self._getattr_in(module, inner, node, names)
                continue
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Call)):
                continue
            getter = node.func
            if not (
                isinstance(getter.func, ast.Name)
                and getter.func.id == "getattr"
                and len(getter.args) >= 2
                and isinstance(getter.args[1], ast.Constant)
                and isinstance(getter.args[1].value, str)
                and getter.args[1].value in names
            ):
                continue
            name = getter.args[1].value
            outer = handed.get(id(node))
            outer_chain = chain_of(outer.func) if outer is not None else None
            if id(node) in awaited or (outer_chain is not None and self._consumer(module, function, outer_chain)):
                continue
            receiver = chain_of(getter.args[0])
            value = self.project.value_of_chain(receiver, module, function) if receiver else None
            where = f"in {function.qualname}" if function else "at module level"
            spelled = f"getattr({ast.unparse(getter.args[0])}, {name!r})"
            if _unknown(value):
                candidates = sorted(f.qualname for f in self._async_methods.get(name, ()))
                if candidates:
                    yield UnawaitedCall(
                        module.path,
                        getter.lineno,
                        getter.col_offset,
                        POSSIBLY_UNAWAITED_ASYNC_CALL,
                        f"{spelled}() {where} is not awaited, and its receiver's type is unknown: "
                        f"if it reaches async {', '.join(candidates)}, the coroutine is never awaited",
                        _POSSIBLE_FIX,
                    )
                continue
            assert value is not None
            target = self.project.attribute(value, name)
            if target is None or target[0] != "function":
                continue
            reached = self.project.functions.get(target[1])
            if reached is not None and _returns_a_coroutine(reached):
                yield UnawaitedCall(
                    module.path,
                    getter.lineno,
                    getter.col_offset,
                    UNAWAITED_ASYNC_CALL,
                    f"{spelled}() {where} creates a coroutine of async {reached.qualname} that is never awaited",
                    _FIX,
                )

    # -- source -----------------------------------------------------------------------------------
    def _tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse((self.project.root / path).read_bytes())
            except (OSError, SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def _definition(self, function: FunctionSummary) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        tree = self._tree(function.path)
        if tree is None:
            return None
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.lineno == function.line
                and node.name == function.name
            ):
                return node
        return None


def unawaited_calls(
    plan: Plan,
    project: Project,
    facade_calls: Sequence[tuple[str, int, str]] = (),
    *,
    use_cache: bool = False,
) -> list[UnawaitedCall]:
    """Every call creating a coroutine of a project function that nothing awaits or runs (both kinds);
    ``facade_calls`` are the scanner's facade call sites (path, line, method), which are sync, in the
    scan's order (files by path, each file's calls by position): one tree gives one order, so the key is
    made without sorting them (a million lines have tens of thousands).

    With ``use_cache`` the findings are kept under a key over all they are computed from: the digest and
    module name of every project file (the graph's, as ``build_project`` read them), the plan's coroutine consumers and
    the facade call sites; a tree whose files, plan settings and facade calls are those of an earlier
    run gets that run's findings without the analysis."""
    if not use_cache:
        return list(_Analysis(plan, project, frozenset(facade_calls)).findings())
    results = KeyedResults(project.root, "unawaited", format_version(UnawaitedCall), limit=8)
    key = content_key(
        "\0".join(sorted(plan.async_callbacks)),
        "\0".join(sorted(plan.coroutine_consumers)),
        "\0".join(f"{path}:{line}:{method}" for path, line, method in facade_calls),
        _tree_key(project),
    )
    cached = results.get(key)
    if isinstance(cached, list) and all(isinstance(c, UnawaitedCall) for c in cached):
        return cached
    found = list(_Analysis(plan, project, frozenset(facade_calls)).findings())
    results.put(key, found)
    return found


def _tree_key(project: Project) -> bytes:
    """Every project file's path, digest and module name (or none: unreadable), as one part of a key.

    Read from what ``build_project`` knows of each file before loading any index or summary, so that a
    hit costs no more than that. Paths and module names hold no NUL and each digest is preceded by its
    length, so the parts cannot run into each other."""
    digests = project.digests
    modules = project.module_names
    parts: list[bytes] = []
    for path in sorted(digests.keys() | modules.keys()):
        digest = digests.get(path, b"")
        module = modules.get(path)
        marker = b"!" if module is None else b"=" + module.encode()
        parts.append(b"%s\0%d:%s%s\0" % (path.encode(), len(digest), digest, marker))
    return b"".join(parts)


def _returns_a_coroutine(function: FunctionSummary) -> bool:
    """``async def``, but not an async generator, nor an ``@asynccontextmanager`` (entered, not awaited)."""
    return (
        function.is_async
        and not function.is_generator
        and not any(d[-1] == "asynccontextmanager" for d in function.decorators)
    )


def _unknown(value: Value | None) -> bool:
    return value is None or (value[0] in ("external", "external_instance") and value[1] in _UNKNOWN_TYPES)


def _summary_of(module: ModuleSummary, node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionSummary | None:
    return next((f for f in module.functions.values() if f.line == node.lineno and f.name == node.name), None)


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (or module) body, with nested ``def``s yielded but not entered: they are
    scopes of their own. Classes are entered (their methods are yielded as ``def``s)."""
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop(0)
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def _element_calls(value: ast.expr) -> Iterator[tuple[int, str]]:
    """The calls that are elements of a list value: ``[f(), g()]``, ``[f(x) for x in xs]``, ``f()``."""
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        for element in value.elts:
            yield from _element_calls(element)
    elif isinstance(value, ast.ListComp | ast.GeneratorExp | ast.SetComp):
        yield from _element_calls(value.elt)
    elif isinstance(value, ast.BinOp):  # tasks = tasks + [f()]
        yield from _element_calls(value.left)
        yield from _element_calls(value.right)
    elif isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute):
            yield (func.end_lineno or func.lineno, func.attr)
        elif isinstance(func, ast.Name):
            yield (func.lineno, func.id)


def _parameter_annotation(args: ast.arguments, key: str, bound: int) -> ast.expr | None:
    if key.isdigit():
        positional = [*args.posonlyargs, *args.args]
        index = int(key) + bound
        if index < len(positional):
            return positional[index].annotation
        return args.vararg.annotation if args.vararg is not None else None
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if arg.arg == key:
            return arg.annotation
    return args.kwarg.annotation if args.kwarg is not None else None


def _is_awaitable(annotation: ast.expr | None) -> bool:
    """``Coroutine[...]``, ``Awaitable[...]`` (from typing or collections.abc), optional or in a union."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _is_awaitable(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return False
    if isinstance(annotation, ast.BinOp):
        return _is_awaitable(annotation.left) or _is_awaitable(annotation.right)
    if isinstance(annotation, ast.Subscript):
        head = chain_of(annotation.value)
        if head and head[-1] in ("Optional", "Union"):
            inner = annotation.slice
            items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            return any(_is_awaitable(item) for item in items)
        return bool(head) and head[-1] in _AWAITABLE_ANNOTATIONS  # type: ignore[index]
    chain = chain_of(annotation)
    return chain is not None and chain[-1] in _AWAITABLE_ANNOTATIONS
