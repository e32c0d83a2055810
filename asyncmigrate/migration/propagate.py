"""Propagation: from the functions that gain an ``await``, walk up the callers and decide every edit.

The result, a ``PropagationPlan``, says which functions turn ``async def``, which call sites gain
``await`` (or ``async with`` / ``async for`` / ``asyncio.run``), which ``threading`` locks become
``asyncio.Lock``, and — for every place where a sync-only context would silently break — a ``Blocker``
with file:line, the chain that reaches it and a suggested fix. Nothing here edits code; the codemods
apply the plan.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from asyncmigrate.analysis.callgraph import (
    ARGUMENT,
    COMP_FOR,
    FOR,
    GENEXP,
    GETATTR,
    PLAIN,
    WITH,
    CallRef,
    Chain,
    FunctionSummary,
    ModuleSummary,
    Project,
)
from asyncmigrate.analysis.trace import TracedEdge, within
from asyncmigrate.config.plan import AcceptedDoubt
from asyncmigrate.frameworks import ALL as ALL_FRAMEWORKS
from asyncmigrate.frameworks import FRAMEWORK_OFF, Frameworks, pytest, switched_off_fix, unittest
from asyncmigrate.migration.doubts import (
    AcceptedUse,
    Doubt,
    acceptance_for,
    candidates,
    several_doubt,
    unresolved_doubt,
)

# Call-site edits
AWAIT = "await"
ASYNC_WITH = "async_with"
ASYNC_FOR = "async_for"
ASYNC_COMP = "async_comprehension"
ASYNCIO_RUN = "asyncio_run"
ASYNC_VARIANT = "async_variant"  # a sync call replaced by its awaited async counterpart
UNWRAP_RUN = "asyncio_run_unwrap"  # ``asyncio.run(coro)`` in a function turning async -> ``await coro``
GENEXP_LIST = "genexp_to_list"  # keyed by the consumer (``sum``): its generator expression -> a list comprehension

# Special methods Python calls synchronously: they can never be coroutines.
SYNC_ONLY_METHODS = frozenset(
    {
        "__init__",
        "__new__",
        "__del__",
        "__enter__",
        "__exit__",
        "__iter__",
        "__next__",
        "__len__",
        "__bool__",
        "__hash__",
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__str__",
        "__repr__",
        "__format__",
        "__getattr__",
        "__getattribute__",
        "__setattr__",
        "__delattr__",
        "__getitem__",
        "__setitem__",
        "__delitem__",
        "__contains__",
        "__call__",
        "__post_init__",
        "__init_subclass__",
        "__set_name__",
        "__get__",
        "__set__",
        "__reduce__",
        "__copy__",
        "__deepcopy__",
    }
)
PROPERTY_DECORATORS = frozenset({"property", "functools.cached_property", "cached_property"})
CACHE_DECORATORS = frozenset({"functools.lru_cache", "functools.cache", "lru_cache", "cache"})
CONTEXT_MANAGER_DECORATORS = frozenset({"contextlib.contextmanager", "contextmanager"})
THREADING_LOCKS = frozenset({"threading.Lock", "threading.RLock"})
# Decorators that work unchanged on a coroutine function (or only mark it); others must be listed in the
# plan's ``async_aware_decorators`` or are a blocker.
ASYNC_AWARE_DECORATORS = frozenset(
    {
        "staticmethod",
        "classmethod",
        "abc.abstractmethod",
        "abstractmethod",
        "typing.overload",
        "typing.override",
        "typing_extensions.override",
        "functools.wraps",
    }
)
# Builtins that consume a generator expression at once: over a list comprehension they see the same values.
EAGER_CONSUMERS = frozenset({"sum", "any", "all", "min", "max", "sorted", "list", "tuple", "set", "frozenset", "dict"})
# Builtins that call a function handed to them and use its result right away.
BUILTIN_CALLERS = frozenset({"sorted", "map", "filter", "min", "max"})
PROTOCOL_BASES = frozenset({"typing.Protocol", "typing_extensions.Protocol"})


@dataclass(frozen=True)
class Blocker:
    """A place where turning a function async would break code that must stay synchronous."""

    path: str
    line: int
    kind: str
    message: str
    chain: tuple[str, ...]  # function ids, from the one gaining an await up to the blocked caller
    fix: str

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
            "message": self.message,
            "chain": list(self.chain),
            "fix": self.fix,
        }

    def describe(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.message}"


@dataclass(frozen=True)
class TracedUse:
    """A call only the trace of the tests saw, and what propagation made of it (AWAIT or "blocked")."""

    path: str
    line: int
    caller: str
    callee: str
    outcome: str

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "caller": self.caller,
            "callee": self.callee,
            "outcome": self.outcome,
            "source": "traced",
        }

    def describe(self) -> str:
        done = "awaited" if self.outcome == AWAIT else "blocked"
        return f"{self.path}:{self.line}: {self.caller} -> {self.callee} ({done})"


@dataclass(frozen=True)
class CallEdit:
    path: str
    line: int  # the callee's name token (or a lock's with-item), as LibCST reports it
    col: int
    kind: str  # AWAIT | ASYNC_WITH | ASYNC_FOR | ASYNC_COMP | ASYNCIO_RUN | ASYNC_VARIANT
    callee: str  # function id (or lock id)
    replacement: str | None = None  # ASYNC_VARIANT: a method name, or a dotted function


@dataclass(frozen=True)
class FunctionEdit:
    path: str
    function: str
    name_line: int
    name_col: int
    to_async_context_manager: bool = False
    to_async_generator: bool = False
    add_asyncio_mark: bool = False
    rename: str | None = None  # unittest's setUp -> asyncSetUp


@dataclass(frozen=True)
class ClassEdit:
    """A ``unittest.TestCase`` whose tests turn async: that base becomes ``IsolatedAsyncioTestCase``."""

    path: str
    class_id: str
    line: int  # the class name token's line
    name: str
    base: tuple[str, ...]  # the base as written: ("unittest", "TestCase") or ("TestCase",)


@dataclass(frozen=True)
class LockEdit:
    """``threading.Lock()`` at this constructor becomes ``asyncio.Lock()``."""

    path: str
    line: int
    col: int
    lock: str


@dataclass
class PropagationPlan:
    async_functions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> chain from a seed
    function_edits: list[FunctionEdit] = field(default_factory=list)
    call_edits: list[CallEdit] = field(default_factory=list)
    lock_edits: list[LockEdit] = field(default_factory=list)
    class_edits: list[ClassEdit] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    accepted_doubts: list[AcceptedUse] = field(default_factory=list)  # doubts the plan accepts, for the record
    resolutions: list[str] = field(default_factory=list)  # automatic resolutions applied, for the report
    # function id -> (path, line, qualname), to show a function where people look for it
    function_sites: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    # the calls only the trace of the tests saw that this propagation used, each labelled ``traced``
    traced: list[TracedUse] = field(default_factory=list)

    def traced_callers(self) -> set[str]:
        """The functions that turn async because of a call only the trace saw."""
        return {use.caller for use in self.traced if use.outcome == AWAIT}

    def touched_paths(self) -> set[str]:
        paths = {e.path for e in self.function_edits} | {e.path for e in self.call_edits}
        return paths | {e.path for e in self.lock_edits} | {e.path for e in self.class_edits}

    def edits_for(self, path: str) -> tuple[list[FunctionEdit], list[CallEdit], list[LockEdit]]:
        return (
            [e for e in self.function_edits if e.path == path],
            [e for e in self.call_edits if e.path == path],
            [e for e in self.lock_edits if e.path == path],
        )

    def class_edits_for(self, path: str) -> list[ClassEdit]:
        return [e for e in self.class_edits if e.path == path]


@dataclass(frozen=True)
class Seed:
    """A function that gains an ``await`` because one of its facade calls now awaits a repository."""

    function: FunctionSummary
    reason: str
    # the facade calls in it that now await: (line, method) as the scan reports them
    awaits: tuple[tuple[int, str], ...] = ()


@dataclass
class _LockUse:
    lock: str
    constructor: tuple[str, int, int, Chain] | None  # path, line, col, constructor chain
    uses: list[tuple[ModuleSummary, FunctionSummary, int, int]] = field(default_factory=list)
    other_uses: list[tuple[str, int]] = field(default_factory=list)
    awaited_in: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)


class _Propagator:
    def __init__(
        self,
        project: Project,
        async_callbacks: Iterable[str],
        pytest_auto_mode: bool,
        async_variants: dict[str, str] | None = None,
        async_aware_decorators: Iterable[str] = (),
        accepted_doubts: Sequence[AcceptedDoubt] = (),
        traced_edges: Mapping[str, Sequence[TracedEdge]] | None = None,
        frameworks: Frameworks = ALL_FRAMEWORKS,
    ) -> None:
        self.project = project
        self.frameworks = frameworks
        # callee id -> the calls of it the tests made (fresh ones only), used where the static graph has none
        self.traced_edges = dict(traced_edges or {})
        # traced call sites awaited: (path, line, col) -> (caller, every callee traced there, chain)
        self._traced_sites: dict[tuple[str, int, int], tuple[FunctionSummary, set[str], tuple[str, ...]]] = {}
        # functions handed to an API that accepts coroutine functions: whoever that API calls them from is its
        # business (the plan says it awaits them), so the calls the trace saw it make are not followed
        self._accepted_callbacks: set[str] = set()
        aware = ASYNC_AWARE_DECORATORS | frameworks.async_aware_decorators
        self.aware_decorators = frozenset(async_aware_decorators) | aware
        # project decorator id -> the functions turning async it decorates: (function, decorator line, chain)
        self.decorated: dict[str, list[tuple[FunctionSummary, int, tuple[str, ...]]]] = {}
        self.accepted = tuple(accepted_doubts)
        # calls whose receiver may hold several classes: settled once every function turning async is known
        self._maybe_several: list[tuple[ModuleSummary, FunctionSummary | None, CallRef, FunctionSummary, Chain]] = []
        self.async_variants = dict(async_variants or {})
        self.accepting = frozenset(async_callbacks) | frameworks.async_callbacks
        self.pytest_auto_mode = pytest_auto_mode
        self.plan = PropagationPlan()
        self.queue: deque[tuple[FunctionSummary, tuple[str, ...]]] = deque()
        self.locks: dict[str, _LockUse] = {}
        self._edited: set[tuple[str, int, int]] = set()

    # -- helpers --------------------------------------------------------------------------------
    def _module(self, function: FunctionSummary) -> ModuleSummary:
        return self.project.by_module[function.module]

    def _decorators(self, function: FunctionSummary) -> set[str]:
        module = self._module(function)
        names = set()
        for decorator in function.decorators:
            names.add(".".join(decorator))
            value = self.project.value_of_chain(decorator, module, None)
            if value is not None:
                names.add(value[1])
        return names

    def _accepts_coroutines(
        self, callee: Chain | None, module: ModuleSummary, function: FunctionSummary | None
    ) -> bool:
        if callee is None:
            return False
        value = self.project.value_of_chain(callee, module, function)
        if value is None:
            return False
        return value[1] in self.accepting

    def _block(self, path: str, line: int, kind: str, message: str, chain: tuple[str, ...], fix: str) -> None:
        blocker = Blocker(path, line, kind, message, chain, fix)
        if blocker not in self.plan.blockers:
            self.plan.blockers.append(blocker)

    def _edit_call(self, module: ModuleSummary, call: CallRef, kind: str, callee: str) -> None:
        key = (module.path, call.line, call.col)
        if key not in self._edited:
            self._edited.add(key)
            self.plan.call_edits.append(CallEdit(module.path, call.line, call.col, kind, callee))

    def is_test_function(self, function: FunctionSummary) -> bool:
        module = self._module(function)
        return module.is_test and function.name.startswith("test") and function.parent_id is None

    # -- the walk -------------------------------------------------------------------------------
    def seed(self, seeds: Iterable[Seed]) -> None:
        for seed in seeds:
            self._note_seed_locks(seed)
            if seed.function.is_async:
                continue
            self.queue.append((seed.function, (seed.function.id,)))

    def _note_seed_locks(self, seed: Seed) -> None:
        """A rewritten facade call that now awaits inside ``with lock:`` holds that lock across the await."""
        function = seed.function
        module = self._module(function)
        for call in function.calls:
            if not call.withs or not call.is_call:
                continue
            if any(call.chain[-1] == method and line <= call.line <= line + 3 for line, method in seed.awaits):
                self._note_locks(module, function, call, (function.id,))

    def run(self) -> PropagationPlan:
        while self.queue:
            function, chain = self.queue.popleft()
            if function.id in self.plan.async_functions or function.is_async:
                continue
            if not self._can_turn_async(function, chain):
                continue
            self._turn_async(function, chain)
        self._settle_several()
        self._settle_traced()
        self._settle_locks()
        self._settle_decorators()
        self._use_async_variants()
        return self.plan

    def _use_async_variants(self) -> None:
        """In each function now async, a sync call with a known async counterpart becomes that, awaited."""
        if not self.async_variants:
            return
        for function_id in self.plan.async_functions:
            function = self.project.functions[function_id]
            module = self._module(function)
            for call in function.calls:
                if not call.is_call or call.awaited or call.in_lambda or call.context == GENEXP:
                    continue
                if call.chain[-1] not in {name.rsplit(".", 1)[-1] for name in self.async_variants}:
                    continue
                resolved = self.project.resolve_call(call, function, module)
                if resolved is None:
                    continue
                callee = resolved.function.id if resolved.function else resolved.external
                if callee not in self.async_variants:
                    continue
                key = (module.path, call.line, call.col)
                if key in self._edited:
                    continue
                self._edited.add(key)
                replacement = self.async_variants[callee]
                self.plan.call_edits.append(
                    CallEdit(module.path, call.line, call.col, ASYNC_VARIANT, callee, replacement)
                )
                self.plan.resolutions.append(
                    f"{module.path}:{call.line}: {'.'.join(call.chain)}() -> await its async variant {replacement}"
                )

    def _can_turn_async(self, function: FunctionSummary, chain: tuple[str, ...]) -> bool:
        path, line = function.path, function.line
        decorators = self._decorators(function)
        if function.is_method and function.name in SYNC_ONLY_METHODS:
            self._block(
                path,
                line,
                "sync_only_method",
                f"{function.qualname} would need to await, but Python calls {function.name} synchronously",
                chain,
                "move the awaited work out of it: an async factory (`async def create(cls, ...)`) or an "
                "explicit `async def start()` that callers await",
            )
            return False
        if decorators & PROPERTY_DECORATORS or any(d.endswith((".setter", ".getter", ".deleter")) for d in decorators):
            self._block(
                path,
                line,
                "property",
                f"property {function.qualname} would need to await; a property cannot be awaited",
                chain,
                f"replace the property with `async def get_{function.name}(self)` and await it at each use",
            )
            return False
        if decorators & CACHE_DECORATORS:
            self._block(
                path,
                line,
                "cache",
                f"{function.qualname} is cached with lru_cache/cache; cached coroutines can only be awaited once",
                chain,
                "cache the awaited value instead (for example with async-lru's alru_cache) or cache a sync helper",
            )
            return False
        if function.is_method and function.name in unittest.CLASS_HOOKS and self._testcase(function):
            self._block(
                path,
                line,
                "unittest_class_hook",
                unittest.class_hook_message(function.qualname, function.name),
                chain,
                unittest.CLASS_HOOK_FIX,
            )
            return False
        return self._decorators_accept(function, chain)

    # -- decorators -----------------------------------------------------------------------------
    def _decorator_name(self, decorator: tuple[str, ...], function: FunctionSummary) -> str | None:
        """The qualified name of a decorator (``fastapi.APIRouter.get`` for ``@router.get``), if known."""
        module = self._module(function)
        scope = self.project.functions.get(function.parent_id) if function.parent_id else None
        value = self.project.value_of_chain(decorator, module, scope)
        if value is not None and value[0] in ("external", "function", "class"):
            return value[1]
        if len(decorator) > 1:
            head = self.project.value_of_chain(decorator[:-1], module, scope)
            if head is not None and head[0] in ("external_instance", "instance"):
                return f"{head[1]}.{decorator[-1]}"
        return None

    def _decorators_accept(self, function: FunctionSummary, chain: tuple[str, ...]) -> bool:
        """Every decorator of a function turning async must work on a coroutine function."""
        handled = PROPERTY_DECORATORS | CACHE_DECORATORS | CONTEXT_MANAGER_DECORATORS
        for index, decorator in enumerate(function.decorators):
            line = function.decorator_lines[index] if index < len(function.decorator_lines) else function.line
            written = ".".join(decorator)
            name = self._decorator_name(decorator, function)
            names = {written, name} if name else {written}
            if names & (handled | self.aware_decorators) or any(
                n.startswith(self.frameworks.async_aware_decorator_prefixes) for n in names
            ):
                continue
            if name is not None and name in self.project.functions:
                self.decorated.setdefault(name, []).append((function, line, chain))
                continue
            shown = name or written
            self._block(
                function.path,
                line,
                "decorator",
                f"{function.qualname} turns async, but @{written} comes from outside the project: it may call "
                "the function without awaiting it",
                chain,
                f"if {shown} handles coroutine functions (it awaits them, or only registers or marks them), list "
                f"`{shown}` under `async_aware_decorators` in the plan; otherwise use an async-aware equivalent, or "
                "move the awaited work out of the decorated function",
            )
            return False
        return True

    def _wrapper_of(self, decorator: FunctionSummary, depth: int = 0) -> tuple[FunctionSummary, str] | None:
        """The nested ``wrapper`` a decorator returns, if it calls the wrapped function by its parameter:
        (wrapper, parameter name). One level of decorator factory (``@retry(3)``) is seen through."""
        if not decorator.params or depth > 1:
            return None
        param = decorator.params[0]
        for _kind, returned in decorator.returned_values:
            if len(returned) != 1 or returned[0] not in decorator.local_defs:
                continue
            inner = self.project.functions[decorator.local_defs[returned[0]]]
            if any(call.is_call and call.chain == (param,) for call in inner.calls):
                return inner, param
            found = self._wrapper_of(inner, depth + 1)
            if found is not None:
                return found
        return None

    def _decorated_by(self, decorator: FunctionSummary) -> list[FunctionSummary]:
        names = {decorator.name} | self.project._aliases.get(decorator.name, set())
        found = []
        for path in self.project.paths_where(lambda entry: bool(entry.decorator_names & names)):
            for function in self.project.modules[path].functions.values():
                if any(self._decorator_name(d, function) == decorator.id for d in function.decorators):
                    found.append(function)
        return found

    def _settle_decorators(self) -> None:
        """A project decorator around functions turning async: its wrapper turns async and awaits the
        wrapped function when every function it decorates is async; otherwise it is a blocker."""
        for decorator_id, uses in self.decorated.items():
            decorator = self.project.functions[decorator_id]
            first, line, chain = uses[0]
            found = self._wrapper_of(decorator)
            if found is None:
                self._block(
                    first.path,
                    line,
                    "decorator",
                    f"{first.qualname} turns async, but its decorator {decorator.qualname} does not return a "
                    "wrapper that calls the decorated function, so the tool cannot make it await",
                    chain,
                    f"write {decorator.qualname} as a functools.wraps-style decorator (a nested `wrapper` that calls "
                    f"the wrapped function), or, if it works on coroutine functions unchanged, list `{decorator_id}` "
                    "under `async_aware_decorators` in the plan",
                )
                continue
            wrapper, param = found
            staying_sync = [
                f.qualname
                for f in self._decorated_by(decorator)
                if not (f.is_async or f.id in self.plan.async_functions)
            ]
            if staying_sync:
                self._block(
                    decorator.path,
                    decorator.line,
                    "decorator",
                    f"@{decorator.qualname} decorates functions turning async ({first.qualname}) and sync ones "
                    f"({', '.join(sorted(staying_sync))}); one wrapper cannot await for some and not others",
                    chain,
                    f"give the async functions their own decorator (a copy of {decorator.qualname} whose wrapper is "
                    "`async def` and awaits the wrapped function)",
                )
                continue
            if wrapper.is_async:
                continue
            module = self._module(wrapper)
            self.plan.function_edits.append(FunctionEdit(wrapper.path, wrapper.id, wrapper.name_line, wrapper.name_col))
            self.plan.function_sites[wrapper.id] = (wrapper.path, wrapper.line, wrapper.qualname)
            for call in wrapper.calls:
                if call.is_call and call.chain == (param,) and not call.awaited and not call.in_lambda:
                    self._edit_call(module, call, AWAIT, decorator_id)
            self.plan.resolutions.append(
                f"{decorator.path}:{decorator.line}: decorator {decorator.qualname} -> async wrapper awaiting "
                "the decorated function"
            )

    # -- unittest -------------------------------------------------------------------------------
    def _testcase(self, function: FunctionSummary) -> tuple[str, tuple[str, ...], bool] | None:
        """For a method of a unittest test case: (the class naming the unittest base, that base as
        written, whether it is already IsolatedAsyncioTestCase)."""
        if function.class_id is None:
            return None
        for class_id in self.project.mro(function.class_id):
            cls = self.project.classes[class_id]
            module = self.project.by_module[cls.module]
            for base in cls.bases:
                value = self.project.value_of_chain(base, module, None)
                if value is None or value[0] != "external":
                    continue
                if value[1] in unittest.TESTCASE_BASES:
                    return class_id, base, False
                if value[1] in unittest.ASYNC_TESTCASE_BASES:
                    return class_id, base, True
        return None

    def _turn_async(self, function: FunctionSummary, chain: tuple[str, ...]) -> None:
        decorators = self._decorators(function)
        is_context_manager = bool(decorators & CONTEXT_MANAGER_DECORATORS)
        testcase = self._testcase(function)
        is_test = self.is_test_function(function) or (testcase is not None and unittest.is_test_method(function.name))
        is_fixture = self.frameworks.pytest and self.project.is_fixture(function)
        rename = unittest.ASYNC_TEST_HOOKS.get(function.name) if testcase else None
        if self._needs_switched_off_framework(function, chain, testcase is not None, is_test or bool(rename)):
            return
        if is_fixture and not self.pytest_auto_mode:
            self._block(
                function.path,
                function.line,
                "fixture",
                pytest.strict_fixture_message(function.qualname),
                chain,
                pytest.STRICT_FIXTURE_FIX,
            )
            return
        self.plan.async_functions[function.id] = chain
        self.plan.function_sites[function.id] = (function.path, function.line, function.qualname)
        self.plan.function_edits.append(
            FunctionEdit(
                function.path,
                function.id,
                function.name_line,
                function.name_col,
                to_async_context_manager=is_context_manager,
                to_async_generator=function.is_generator and not is_context_manager,
                add_asyncio_mark=is_test and not self.pytest_auto_mode and testcase is None,
                rename=rename,
            )
        )
        self._unwrap_asyncio_run(function)
        if testcase is not None and (is_test or rename):
            class_id, base, already_async = testcase
            cls = self.project.classes[class_id]
            if not already_async and not any(e.class_id == class_id for e in self.plan.class_edits):
                self.plan.class_edits.append(ClassEdit(cls.path, class_id, cls.line, cls.name, base))
                self.plan.resolutions.append(f"{cls.path}:{cls.line}: {unittest.conversion(cls.name)}")
            if rename:
                self.plan.resolutions.append(f"{function.path}:{function.line}: {function.name} -> {rename}")
            return  # unittest calls these
        if is_context_manager:
            self.plan.resolutions.append(f"{function.path}:{function.line}: @contextmanager -> @asynccontextmanager")
        elif function.is_generator:
            self.plan.resolutions.append(f"{function.path}:{function.line}: generator -> async generator")
        if is_test or is_fixture:
            return  # pytest calls these; a fixture's dependents receive its awaited value
        self._family(function, chain)
        self._visit_callers(function, chain, is_context_manager)

    def _needs_switched_off_framework(
        self, function: FunctionSummary, chain: tuple[str, ...], in_testcase: bool, run_by_runner: bool
    ) -> bool:
        """A function only its framework's runner calls cannot turn async with that adapter off: nothing in
        the project would await it (a test case's test or hook, a pytest test or fixture). A blocker, then."""
        if in_testcase and run_by_runner and not self.frameworks.unittest:
            framework, what = unittest.NAME, f"{function.qualname} is run by unittest"
        elif not in_testcase and not self.frameworks.pytest and self.is_test_function(function):
            framework, what = pytest.NAME, f"test {function.qualname} is run by the test runner"
        elif not self.frameworks.pytest and self._decorators(function) & pytest.FIXTURE_DECORATORS:
            framework, what = pytest.NAME, f"fixture {function.qualname} is run by pytest"
        else:
            return False
        self._block(
            function.path,
            function.line,
            FRAMEWORK_OFF,
            f"{what} and would turn async, but the plan's frameworks leave {framework} out: nothing would await it",
            chain,
            switched_off_fix(framework),
        )
        return True

    def _unwrap_asyncio_run(self, function: FunctionSummary) -> None:
        """``asyncio.run(coro)`` inside a function turning async would start a loop inside the running one."""
        module = self._module(function)
        for call in function.calls:
            if call.is_call and not call.in_lambda and call.context != GENEXP and call.chain[-1] == "run":
                if self.project.value_of_chain(call.chain, module, function) == ("external", "asyncio.run"):
                    self._edit_call(module, call, UNWRAP_RUN, "asyncio.run")
                    self.plan.resolutions.append(f"{module.path}:{call.line}: asyncio.run(coro) -> await coro")

    def _is_protocol(self, class_id: str) -> bool:
        cls = self.project.classes[class_id]
        module = self.project.by_module[cls.module]
        for base in cls.bases:
            value = self.project.value_of_chain(base, module, None)
            if value is not None and value[0] == "external" and value[1] in PROTOCOL_BASES:
                return True
        return False

    def _methods(self, class_id: str) -> set[str]:
        return {name for c in self.project.mro(class_id) for name in self.project.classes[c].methods}

    def _structural(self, function: FunctionSummary) -> set[str]:
        """Classes tied to a method's class by a ``typing.Protocol`` it does not name: the protocols it
        conforms to, or, for a protocol, every project class defining all its methods."""
        assert function.class_id is not None
        name = function.name
        found: set[str] = set()
        protocols = (
            [function.class_id]
            if self._is_protocol(function.class_id)
            else [
                class_id
                for path in self.project.paths_where(lambda entry: "Protocol" in entry.base_names)
                for class_id, cls in self.project.modules[path].classes.items()
                if name in cls.methods and self._is_protocol(class_id)
            ]
        )
        for protocol in protocols:
            required = {m for m in self.project.classes[protocol].methods if not m.startswith("__")}
            if function.class_id != protocol:
                if required <= self._methods(function.class_id):
                    found.add(protocol)
                continue
            for path in self.project.paths_where(lambda entry: name in entry.method_names):
                for class_id in self.project.modules[path].classes:
                    if class_id != protocol and not self._is_protocol(class_id) and required <= self._methods(class_id):
                        found.add(class_id)
        return found

    def _family(self, function: FunctionSummary, chain: tuple[str, ...]) -> None:
        """A method turning async takes its overrides and overridden methods with it (dispatch is dynamic),
        and so do the protocols it implements structurally and their other implementations."""
        if function.class_id is None:
            return
        related = set(self.project.mro(function.class_id)) | set(self.project.subclasses(function.class_id))
        for structural in self._structural(function):
            related |= {structural, *self.project.subclasses(structural)}
        for class_id in related:
            other = self.project.classes[class_id].methods.get(function.name)
            if other and other != function.id:
                target = self.project.functions[other]
                if not target.is_async:
                    self.queue.append((target, (*chain, target.id)))

    def _visit_callers(self, function: FunctionSummary, chain: tuple[str, ...], is_context_manager: bool) -> None:
        pending_names: list[str] = []
        for module, caller, call, resolved in self.project.callers(function):
            if resolved is None:
                doubt = unresolved_doubt(self.project, module, caller, call, resolved, function)
                if doubt is not None:
                    self._doubt(doubt, chain)
                continue
            if call.is_call and not call.awaited and len(call.chain) > 1 and not resolved.constructs:
                self._maybe_several.append((module, caller, call, function, chain))
            if resolved.function is None or resolved.function.id != function.id or resolved.constructs:
                continue
            if not call.is_call:
                fixture_name = self._reference(module, caller, call, function, chain)
                if fixture_name:
                    pending_names.append(fixture_name)
                continue
            self._call_site(module, caller, call, function, chain, is_context_manager)
        # a fixture returning this function: test code calls it through the fixture's name
        for name in pending_names:
            for module, caller, call, _ in self._calls_through_fixture(name, function):
                self._call_site(module, caller, call, function, chain, is_context_manager)
        for edge in self.traced_edges.get(function.id, ()):
            self._traced_call(edge, function, chain, is_context_manager)

    # -- calls only the trace of the tests saw -----------------------------------------------------
    def _traced_call(
        self, edge: TracedEdge, function: FunctionSummary, chain: tuple[str, ...], is_context_manager: bool
    ) -> None:
        """A call the tests made to a function turning async, where the static graph found none: awaited
        like a static one when it is a call the codemod can find (a name or attribute called), else a
        blocker at file:line."""
        caller = self.project.functions.get(edge.caller)
        if caller is None or function.id in self._accepted_callbacks:
            return
        module = self._module(caller)
        candidates: list[CallRef] = []
        for call in caller.calls:
            if not call.is_call or not within(edge, call.line, call.col):
                continue
            resolved = self.project.resolve_call(call, caller, module)
            if resolved is not None and resolved.function is not None and resolved.function.name == function.name:
                # the static graph follows this call: to this function, or to the method it overrides (an
                # override turns async with its family, and that call is awaited for the family's sake)
                return
            if resolved is None and call.chain[0] != GETATTR:
                candidates.append(call)
        if any(b.path == edge.path and b.line == edge.line for b in self.plan.blockers) or any(
            u.doubt.path == edge.path and u.doubt.line == edge.line for u in self.plan.accepted_doubts
        ):
            return  # a doubt of the static graph already stands here
        here = (*chain, caller.id)
        if not candidates:
            self._block(
                edge.path,
                edge.line,
                "traced_call",
                f"the tests ran {caller.qualname} calling {function.qualname} here ({edge.count} time(s)), through a "
                "call the codemod cannot rewrite (a method picked by getattr with a variable name, a callable taken "
                "out of a container or returned by a call); it would get a coroutine and not await it",
                here,
                f"bind the callable to a name and call that (`handler = ...` then `handler(...)`): the tool then "
                f"awaits it and turns {caller.qualname} async; or await it by hand in an async {caller.qualname}, "
                f"once every function called there is async",
            )
            self._record_traced(edge, caller, function, "blocked")
            return
        call = min(candidates, key=lambda c: (c.line, c.col))  # the outermost call in the traced span
        key = (module.path, call.line, call.col)
        if key in self._edited and key not in self._traced_sites:
            return  # the static graph already edits this call (through a fixture, say)
        self._call_site(module, caller, call, function, chain, is_context_manager)
        if key in self._edited:
            self._record_traced(edge, caller, function, AWAIT)
            if key not in self._traced_sites:
                callees = {e.callee for edges in self.traced_edges.values() for e in edges if _same_site(e, edge)}
                self._traced_sites[key] = (caller, callees, here)
        elif any(b.path == module.path and b.line == call.line for b in self.plan.blockers):
            self._record_traced(edge, caller, function, "blocked")

    def _record_traced(
        self, edge: TracedEdge, caller: FunctionSummary, function: FunctionSummary, outcome: str
    ) -> None:
        use = TracedUse(edge.path, edge.line, caller.id, function.id, outcome)
        if use not in self.plan.traced:
            self.plan.traced.append(use)

    def _settle_traced(self) -> None:
        """A traced call site now awaited must only ever call functions that are async by now."""
        for (path, line, _col), (caller, callees, here) in self._traced_sites.items():
            staying_sync = sorted(
                c
                for c in callees
                if c in self.project.functions
                and not (self.project.functions[c].is_async or c in self.plan.async_functions)
            )
            if staying_sync:
                self._block(
                    path,
                    line,
                    "traced_call",
                    f"the tests ran {caller.qualname} calling, from this one call, functions turning async and "
                    f"functions staying sync ({', '.join(staying_sync)}); one call cannot await some and not others",
                    here,
                    "dispatch the async functions and the sync ones through separate calls, or make them all async",
                )

    def _calls_through_fixture(
        self, name: str, function: FunctionSummary
    ) -> Iterable[tuple[ModuleSummary, FunctionSummary | None, CallRef, None]]:
        for module, caller, call in self.project.calls_named(name):
            if not call.is_call or len(call.chain) != 1 or caller is None:
                continue
            if name in caller.params and self.project.fixture(name, module) is not None:
                fixture = self.project.fixture(name, module)
                assert fixture is not None
                evidence = (*fixture.returns, *fixture.returned_values)
                values = self.project.evaluate(evidence, self.project.by_module[fixture.module], fixture)
                if ("function", function.id) in values:
                    yield module, caller, call, None

    def _eager_consumer(self, call: CallRef, module: ModuleSummary, caller: FunctionSummary | None) -> bool:
        """Is the generator expression around ``call`` consumed at once by a builtin that sees the same
        values in a list (``sum``, ``sorted``, ``", ".join``…)?"""
        if call.genexp_consumer is None or caller is None:
            return False
        name = call.genexp_consumer[0]
        if name == "str.join":
            return True
        value = self.project.value_of_chain(tuple(name.split(".")), module, caller)
        return value is not None and value[0] == "external" and value[1] in EAGER_CONSUMERS

    def _doubt(self, doubt: Doubt, chain: tuple[str, ...]) -> None:
        """A call that may reach a function turning async: a blocker, unless the plan accepts it."""
        acceptance = acceptance_for(doubt, self.accepted)
        if acceptance is not None:
            use = AcceptedUse(doubt, acceptance)
            if all(u.doubt.site != doubt.site or u.doubt.callee != doubt.callee for u in self.plan.accepted_doubts):
                self.plan.accepted_doubts.append(use)
            return
        if any(b.path == doubt.path and b.line == doubt.line and b.kind == doubt.kind for b in self.plan.blockers):
            return  # one blocker per call site, whichever function it may reach first
        self._block(doubt.path, doubt.line, doubt.kind, doubt.message(), (*chain, doubt.caller), doubt.fix())

    def _settle_several(self) -> None:
        turning = set(self.plan.async_functions)
        seen: set[tuple[str, int, int, str]] = set()
        for module, caller, call, function, chain in self._maybe_several:
            key = (module.path, call.line, call.col, function.id)
            if key in seen:
                continue
            seen.add(key)
            found = candidates(self.project, call, module, caller)
            asynchronous = {f for f in found if f in turning or self.project.functions[f].is_async}
            doubt = several_doubt(self.project, module, caller, call, function, asynchronous)
            if doubt is not None:
                self._doubt(doubt, chain)

    def _reference(
        self,
        module: ModuleSummary,
        caller: FunctionSummary | None,
        call: CallRef,
        function: FunctionSummary,
        chain: tuple[str, ...],
    ) -> str | None:
        """A function used as a value. Returns a fixture name when test code calls it through a fixture."""
        if self._accepts_coroutines(call.arg_of, module, caller):
            self.plan.resolutions.append(
                f"{module.path}:{call.line}: {'.'.join(call.chain)} handed to {'.'.join(call.arg_of or ())}, "
                "which accepts coroutine functions (async_callbacks)"
            )
            self._accepted_callbacks.add(function.id)
            return None
        if call.returned and caller is not None and self.frameworks.pytest and self.project.is_fixture(caller):
            return caller.name
        where = ".".join(call.arg_of) if call.arg_of else "a variable or container"
        self._block(
            module.path,
            call.line,
            "callback",
            f"{function.qualname} is passed as a value to {where}; its caller would get a coroutine and not await it",
            (*chain, caller.id if caller else "<module>"),
            self._callback_fix(function, call, module, caller, where),
        )
        return None

    def _lambda_fix(self, call: CallRef, module: ModuleSummary, caller: FunctionSummary | None) -> str:
        receiver = self.project.value_of_chain(call.lambda_arg_of, module, caller) if call.lambda_arg_of else None
        qualified = receiver[1] if receiver and receiver[0] == "external" else None
        if qualified in BUILTIN_CALLERS:  # sorted(key=lambda x: f(x)): the builtin would get coroutines
            name = call.chain[-1]
            return (
                f"await the values before calling {qualified}: `keys = {{x: await {name}(x) for x in xs}}`, then "
                f"`{qualified}(xs, key=keys.__getitem__)` (for map/filter: a list comprehension that awaits)"
            )
        return "replace the lambda with an `async def` function, and await it where it is called"

    def _callback_fix(
        self,
        function: FunctionSummary,
        call: CallRef,
        module: ModuleSummary,
        caller: FunctionSummary | None,
        where: str,
    ) -> str:
        """A fix a person can apply for a function handed on as a value: it depends on who receives it."""
        name = function.name
        receiver = self.project.value_of_chain(call.arg_of, module, caller) if call.arg_of else None
        qualified = receiver[1] if receiver and receiver[0] == "external" else None
        if qualified in ("map", "filter"):
            comprehension = (
                f"[await {name}(x) for x in xs]" if qualified == "map" else f"[x for x in xs if await {name}(x)]"
            )
            return f"replace {qualified}(...) with a list comprehension that awaits: `{comprehension}`"
        if qualified in BUILTIN_CALLERS:
            return (
                f"await the values first, then hand {where} a plain function over them: "
                f"`keys = {{x: await {name}(x) for x in xs}}`, then `{where}(xs, key=keys.__getitem__)`"
            )
        if qualified is not None and qualified.startswith("threading."):
            return f"give the thread a sync target that runs the coroutine: `target=lambda: asyncio.run({name}(...))`"
        if call.arg_of is None:
            return (
                f"await {name} wherever the stored or returned function is called (`await handler(...)`), or keep a "
                f"sync variant of {name} for this use; the tool cannot follow the value to its calls"
            )
        return (
            f"if {where} awaits what its callbacks return, list `{qualified or where}` under `async_callbacks` in the "
            f"plan; otherwise pass a sync wrapper that schedules the coroutine "
            f"(`lambda *a: asyncio.get_running_loop().create_task({name}(*a))`)"
        )

    def _call_site(
        self,
        module: ModuleSummary,
        caller: FunctionSummary | None,
        call: CallRef,
        function: FunctionSummary,
        chain: tuple[str, ...],
        is_context_manager: bool,
    ) -> None:
        caller_id = caller.id if caller else "<module>"
        here = (*chain, caller_id)
        if call.awaited:
            return
        if call.in_lambda:
            if self._accepts_coroutines(call.lambda_arg_of, module, caller):
                self.plan.resolutions.append(
                    f"{module.path}:{call.line}: lambda handed to {'.'.join(call.lambda_arg_of or ())} returns the "
                    "coroutine, which it awaits"
                )
                return
            self._block(
                module.path,
                call.line,
                "lambda",
                f"{'.'.join(call.chain)}() is called in a lambda, which cannot await",
                here,
                self._lambda_fix(call, module, caller),
            )
            return
        to_list = None
        if call.context == GENEXP and self._eager_consumer(call, module, caller):
            to_list = call.genexp_consumer
        elif call.context == GENEXP:
            self._block(
                module.path,
                call.line,
                "generator_expression",
                f"{'.'.join(call.chain)}() is called in a generator expression; awaiting there would make it an "
                "async generator and change what its consumer receives",
                here,
                "build a list first: `[await f(x) for x in xs]`, then pass the list on",
            )
            return
        if call.context == ARGUMENT and call.arg_of is not None and call.arg_of[-1] == "run":
            if self.project.value_of_chain(call.arg_of, module, caller) == ("external", "asyncio.run"):
                return  # asyncio.run runs the coroutine (and becomes ``await`` if its caller turns async)
        if function.is_generator and not is_context_manager:
            if call.context in (FOR, COMP_FOR):
                kind = ASYNC_FOR if call.context == FOR else ASYNC_COMP
            else:
                self._block(
                    module.path,
                    call.line,
                    "generator",
                    f"generator {function.qualname} turns into an async generator, but this call does not iterate "
                    "it with a for loop",
                    here,
                    "iterate with `async for` (or `[x async for x in gen()]`) at this call",
                )
                return
        elif is_context_manager:
            if call.context != WITH:
                self._block(
                    module.path,
                    call.line,
                    "context_manager",
                    f"{function.qualname} becomes an async context manager, but this call is not a `with` item",
                    here,
                    "use it as `async with` at this call",
                )
                return
            kind = ASYNC_WITH
        elif call.context in (PLAIN, ARGUMENT, WITH, FOR, COMP_FOR) or to_list is not None:
            kind = AWAIT
        else:
            return
        if caller is None:
            if call.main_guard and kind == AWAIT:
                self._edit_call(module, call, ASYNCIO_RUN, function.id)
                self.plan.resolutions.append(
                    f"{module.path}:{call.line}: sync entry point runs {function.qualname} with asyncio.run"
                )
                return
            self._block(
                module.path,
                call.line,
                "module_level",
                f"{function.qualname} is called at module level (import time), where nothing can await",
                here,
                "call it from an async start-up hook (FastAPI lifespan) or wrap it in `asyncio.run(...)` "
                "under `if __name__ == '__main__':`",
            )
            return
        self._edit_call(module, call, kind, function.id)
        if to_list is not None:
            consumer, line, col = to_list
            if (module.path, line, col) not in self._edited:
                self._edited.add((module.path, line, col))
                self.plan.call_edits.append(CallEdit(module.path, line, col, GENEXP_LIST, consumer))
                self.plan.resolutions.append(
                    f"{module.path}:{line}: {consumer}(generator expression) -> {consumer}([list comprehension])"
                )
        self._note_locks(module, caller, call, here)
        if caller.is_async or caller.id in self.plan.async_functions:
            return
        self.queue.append((caller, here))

    # -- threading locks held across a new await ------------------------------------------------
    def _lock_identity(
        self, module: ModuleSummary, function: FunctionSummary, lock_chain: Chain
    ) -> tuple[str, tuple[str, int, int, Chain] | None] | None:
        value = self.project.value_of_chain(lock_chain, module, function)
        if value is None or value[0] != "external_instance" or value[1] not in THREADING_LOCKS:
            return None
        if function.class_id and function.params and lock_chain[0] == function.params[0] and len(lock_chain) == 2:
            for class_id in self.project.mro(function.class_id):
                cls = self.project.classes[class_id]
                if lock_chain[1] in cls.attr_constructors:
                    line, col, ctor = cls.attr_constructors[lock_chain[1]]
                    return f"{class_id}.{lock_chain[1]}", (cls.path, line, col, ctor)
            return None
        if len(lock_chain) == 1 and lock_chain[0] in module.global_constructors:
            line, col, ctor = module.global_constructors[lock_chain[0]]
            return f"{module.module}.{lock_chain[0]}", (module.path, line, col, ctor)
        return None

    def _note_locks(self, module: ModuleSummary, caller: FunctionSummary, call: CallRef, here: tuple[str, ...]) -> None:
        for lock_chain in call.withs:
            identity = self._lock_identity(module, caller, lock_chain)
            if identity is None:
                continue
            lock_id, constructor = identity
            use = self.locks.setdefault(lock_id, _LockUse(lock_id, constructor))
            use.awaited_in.append((module.path, call.line, here))

    def _settle_locks(self) -> None:
        """A lock that only guards code in functions now async becomes an asyncio.Lock; else a blocker."""
        if not self.locks:
            return
        for lock_id, use in self.locks.items():
            problems: list[str] = []
            if use.constructor is None or ".".join(use.constructor[3]) not in ("threading.Lock", "Lock"):
                problems.append("it is not a plain threading.Lock() built in one place (an RLock is re-entrant)")
            uses = self._lock_uses(lock_id)
            for path, line, function, is_with in uses:
                if not is_with:
                    problems.append(f"{path}:{line} uses it outside a `with` statement")
                elif not (function.is_async or function.id in self.plan.async_functions):
                    problems.append(f"{path}:{line} holds it in sync {function.qualname}")
            path, line, here = use.awaited_in[0]
            if problems:
                self._block(
                    path,
                    line,
                    "threading_lock",
                    f"threading lock {lock_id} would be held across an await ({'; '.join(problems)})",
                    here,
                    "guard the awaited section with an asyncio.Lock, or move the awaited calls out of the locked block",
                )
                continue
            assert use.constructor is not None
            ctor_path, ctor_line, ctor_col, _ = use.constructor
            self.plan.lock_edits.append(LockEdit(ctor_path, ctor_line, ctor_col, lock_id))
            for path, line, function, _ in uses:
                for _chain, with_line, with_col in function.with_items:
                    if with_line == line:
                        self.plan.call_edits.append(CallEdit(path, with_line, with_col, ASYNC_WITH, lock_id))
            self.plan.resolutions.append(
                f"{ctor_path}:{ctor_line}: threading lock {lock_id} guards only async code -> asyncio.Lock"
            )

    def _lock_uses(self, lock_id: str) -> list[tuple[str, int, FunctionSummary, bool]]:
        """Every place the lock is used: (path, line, function, used as a ``with`` item)."""
        attr = lock_id.rsplit(".", 1)[-1]
        uses: list[tuple[str, int, FunctionSummary, bool]] = []
        paths = self.project.paths_where(
            lambda entry: (
                attr in entry.with_names or attr in entry.call_names or bool({"acquire", "release"} & entry.call_names)
            )
        )
        functions = [f for path in paths for f in self.project.modules[path].functions.values()]
        for function in functions:
            module = self.project.by_module[function.module]
            for chain, line, _col in function.with_items:
                if chain[-1] == attr:
                    identity = self._lock_identity(module, function, chain)
                    if identity and identity[0] == lock_id:
                        uses.append((function.path, line, function, True))
            for call in function.calls:
                if len(call.chain) >= 2 and call.chain[-2] == attr:
                    identity = self._lock_identity(module, function, call.chain[:-1])
                    if identity and identity[0] == lock_id:
                        uses.append((function.path, call.line, function, False))
        return uses


def propagate(
    project: Project,
    seeds: Iterable[Seed],
    *,
    async_callbacks: Iterable[str] = (),
    pytest_auto_mode: bool = True,
    async_variants: dict[str, str] | None = None,
    async_aware_decorators: Iterable[str] = (),
    accepted_doubts: Sequence[AcceptedDoubt] = (),
    traced_edges: Mapping[str, Sequence[TracedEdge]] | None = None,
    frameworks: Frameworks = ALL_FRAMEWORKS,
) -> PropagationPlan:
    """Every edit that turning the seeds' facade calls into awaits implies, across the project.

    ``traced_edges`` (callee id -> calls the tests made, from a fresh trace) add the calls the static
    call graph misses: each is handled like a static call, or is a blocker where it cannot be rewritten."""
    propagator = _Propagator(
        project,
        async_callbacks,
        pytest_auto_mode,
        async_variants,
        async_aware_decorators,
        accepted_doubts,
        traced_edges,
        frameworks,
    )
    propagator.seed(seeds)
    return propagator.run()


def _same_site(one: TracedEdge, other: TracedEdge) -> bool:
    return (one.caller, one.line, one.col) == (other.caller, other.line, other.col)
