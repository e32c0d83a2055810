"""The scan's per-file work: one walk gives the call sites and the reach summary, equal to separate walks.

``parse_file`` takes a hinted file's reach summary from the ast collector's own walk
(``collect_with_summary``), and every other file's from ``reach.summarize_tree``, a walk that reads
only the fields that can hold calls. Both must equal what the scan computed before them: the call
sites of the ast collector alone (held to LibCST's collector in ``test_ast_collector.py``) and the
summary of a plain ``ast.NodeVisitor``, kept here as the reference. Checked on every file of
``server/`` and of every fixture, on the generated programs of the collector's oracle tests, and on
hand cases for where a call is counted.
"""

from __future__ import annotations

import ast
import gc
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import strategies as st

from asyncmigrate.analysis.ast_collector import collect, collect_with_summary
from asyncmigrate.analysis.callgraph import read_module
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.pool import INLINE_WEIGHT
from asyncmigrate.analysis.reach import FileSummary, FunctionSummary, parse_python, summarize_tree
from asyncmigrate.analysis.scan import (
    ParsedFile,
    Task,
    _declared_encoding,
    check_encoding,
    parse_file,
    run_task,
    run_tasks,
)
from asyncmigrate.config.modules import nested_qualname
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import CallSite
from tests.corpus import property_tiers
from tests.fuzzing import generate, write_project
from tests.strategies import python_programs
from tests.test_ast_collector import _FACADE_LINES, CODEBASES, CORPUS_PARAMS, _with_facade
from tests.test_slicing import SPEC, _modules


class ReferenceSummarizer(ast.NodeVisitor):
    """The reach summary as a generic visitor computes it (the scan's own before the single walk)."""

    def __init__(self, receiver_names: frozenset[str]) -> None:
        self.receiver_names = receiver_names
        self.functions: list[FunctionSummary] = []
        self._stack: list[tuple[str, bool]] = []  # (qualname, is_class)
        self._calls: list[tuple[set[str], set[str]]] = []

    def _qualname(self, name: str) -> str:
        if not self._stack:
            return nested_qualname(None, False, name)
        parent, is_class = self._stack[-1]
        return nested_qualname(parent, not is_class, name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._stack.append((self._qualname(node.name), True))
        self.generic_visit(node)
        self._stack.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qualname = self._qualname(node.name)
        is_method = bool(self._stack and self._stack[-1][1])
        self._stack.append((qualname, False))
        self._calls.append((set(), set()))
        self.generic_visit(node)
        name_calls, attr_calls = self._calls.pop()
        self._stack.pop()
        self.functions.append(
            FunctionSummary(
                qualname,
                node.name,
                isinstance(node, ast.AsyncFunctionDef),
                is_method,
                node.lineno,
                frozenset(name_calls),
                frozenset(attr_calls),
            )
        )

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        if self._calls:
            name_calls, attr_calls = self._calls[-1]
            func = node.func
            if isinstance(func, ast.Name):
                name_calls.add(func.id)
            elif isinstance(func, ast.Attribute) and not self._is_facade_receiver(func.value):
                attr_calls.add(func.attr)
        self.generic_visit(node)

    def _is_facade_receiver(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.receiver_names
        if isinstance(node, ast.Attribute):
            return node.attr in self.receiver_names
        return False


def reference_summary(path: str, tree: ast.Module, spec: FacadeSpec) -> FileSummary:
    summarizer = ReferenceSummarizer(spec.receiver_names)
    summarizer.visit(tree)
    return FileSummary(spec.layout.module_name(path)[0], tuple(summarizer.functions))


def assert_single_walk_agrees(path: str, data: bytes, spec: FacadeSpec) -> tuple[CallSite, ...] | None:
    """Both walks of the scan give exactly the separate walks' results; the call sites are returned."""
    tree = parse_python(data)
    assert tree is not None
    expected_summary = reference_summary(path, tree, spec)
    expected_calls = collect(path, data, tree, spec, _declared_encoding(data))
    assert summarize_tree(path, tree, spec) == expected_summary
    calls, summary = collect_with_summary(path, data, tree, spec, _declared_encoding(data))
    assert summary == expected_summary
    assert calls == expected_calls
    assert run_task(path, data, spec, False) == (ParsedFile((), None, expected_summary), None)
    if expected_calls is not None:
        assert (
            run_task(path, data, spec, True)[0]
            == parse_file(path, data, spec)
            == ParsedFile(expected_calls, None, expected_summary)
        )
    return calls


@pytest.mark.parametrize(("path", "data", "spec"), CORPUS_PARAMS)
def test_every_file_of_every_codebase_gives_the_separate_walks_result(path: str, data: bytes, spec: FacadeSpec) -> None:
    if check_encoding(data) is not None or parse_python(data) is None:
        pytest.skip("not a Python file this interpreter's ast reads")
    assert_single_walk_agrees(path, data, spec)


def test_the_codebases_exercise_the_summary() -> None:
    """The equality above means something: thousands of functions, most of them calling something."""
    functions = [
        function
        for path, data, spec in CODEBASES
        if check_encoding(data) is None and (tree := parse_python(data)) is not None
        for function in summarize_tree(path, tree, spec).functions
    ]
    assert len(functions) > 1000
    assert sum(1 for f in functions if f.name_calls) > 300 and sum(1 for f in functions if f.attr_calls) > 300
    assert any(f.is_method for f in functions) and any(f.is_async for f in functions)
    assert any(".<locals>." in f.qualname for f in functions)


# Where a call is counted: a def's parameters, decorators and return annotation are the def's own; a
# class body's calls are the enclosing function's (none at module level); calls on a facade receiver
# are not attribute calls; every statement and expression kind holds calls.
HAND_CASES = [
    """
    @decorate(first())
    def f(a=default(), *args: ann(), b: kw_ann() = kw_default(), **kw: kwargs_ann()) -> returns():
        body()
        x.method()
        db.fetch(1)
        self.db.store(2)
        get_db().fetch(3)
        (lambda: in_lambda())()
        [in_comprehension(i) for i in source() if condition(i)]
        {key(): value() for _ in ()}
        {**spread(), "k": literal()}
        f"{formatted():{spec()}}"
        await awaited()
        yield yielded()
        items[index()] = assigned()
        counter.total += augmented()
        del gone()[0]
    """,
    """
    def outer():
        class Inner(base(), metaclass=meta()):
            attribute = in_class_body()

            @method_decorator()
            def method(self, x=method_default()):
                inside_method()

                def nested():
                    inside_nested()

                return nested

            async def coroutine(self):
                async with context() as c, other():
                    async for item in aiter_of():
                        await c.send(item)

        return Inner

    class AtModule(module_base()):
        at_class_level()

        def method(self):
            return self.helper()

    at_module_level()
    """,
    """
    def control(value):
        if test():
            then()
        elif other():
            otherwise()
        else:
            fallback()
        while loop_test():
            in_loop()
        else:
            loop_else()
        for i in iterate():
            in_for()
        try:
            attempt()
        except catch() as error:
            handle(error)
        except (first_kind(), second_kind()):
            handle_both()
        else:
            no_error()
        finally:
            cleanup()
        with managed() as m:
            m.use()
        match subject():
            case Point(x=0) if guard():
                matched()
            case {"key": constants.VALUE}:
                mapping()
            case _:
                default_case()
        assert check(), message()
        raise failure() from cause()
        return result() if choose() else alternative()
    """,
    """
    def chains(a):
        return a.b.c.d().e().f(g(h(i(j()))), *star(), **double_star())

    def receivers(persistence, db):
        persistence.get_player(1)
        db.player.get_player(2)
        self.persistence.get_player(3)
        get_persistence().get_player(4)
        (db or other).fetch(5)
        db[0].fetch(6)

    def nested_defs():
        def inner_one():
            one()

        def inner_two():
            def innermost():
                deepest()

            two()

        class Local:
            def method(self):
                local_method()

        lambda: nested_lambda()
    """,
]


@pytest.mark.parametrize("source", HAND_CASES)
def test_where_a_call_is_counted(source: str) -> None:
    spec = FacadeSpec(
        factories=frozenset({"app.db.get_persistence"}),
        classes=frozenset({"app.db.PersistenceLayer"}),
        receiver_names=frozenset({"persistence", "db"}),
        methods=frozenset({"get_player", "fetch", "store"}),
    )
    assert_single_walk_agrees("app/mod.py", textwrap.dedent(source).encode(), spec)


def test_a_summary_is_made_whatever_the_depth_of_an_expression() -> None:
    """The summary walk keeps its own stack: an expression as deep as ``ast`` builds is still walked
    (a visitor recursing per node overflows Python's stack there)."""
    source = "def f():\n    return " + " + ".join(["g()"] * 1200) + "\n"
    tree = parse_python(source.encode())
    assert tree is not None
    summary = summarize_tree("app/deep.py", tree, SPEC)
    assert [(f.qualname, f.name_calls) for f in summary.functions] == [("f", frozenset({"g"}))]
    calls, combined = collect_with_summary("app/deep.py", source.encode(), tree, SPEC)
    assert combined == summary


def test_a_refused_module_still_gets_its_summary() -> None:
    """The ast collector stops at what it refuses (a star import here): the summary comes from a walk
    of its own, the same."""
    source = b"from os import *\n\ndef f():\n    g()\n    x.h()\n"
    tree = parse_python(source)
    assert tree is not None
    calls, summary = collect_with_summary("app/star.py", source, tree, SPEC)
    assert calls is None
    assert summary == reference_summary("app/star.py", tree, SPEC)
    assert summary.functions[0].name_calls == frozenset({"g"})


# --- generated programs (the collector's oracle tests' generators) ------------------------------------


@property_tiers(150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_modules())
def test_generated_scoping_programs(source: str) -> None:
    assert_single_walk_agrees("app/mod.py", source.encode(), SPEC)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@property_tiers(150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    python_programs(),
    st.lists(st.sampled_from(_FACADE_LINES), min_size=1, max_size=4),
)
def test_hypothesmith_programs(program: str, lines: list[str]) -> None:
    source = _with_facade(program if program.endswith("\n") or not program else program + "\n", lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        try:
            ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            assume(False)
    data = source.encode()
    assume(check_encoding(data) is None)
    assert_single_walk_agrees("app/mod.py", data, SPEC)


@pytest.mark.parametrize("seed", range(40))
def test_fuzzing_template_programs(seed: int) -> None:
    program = generate(seed)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_project(root, program)
        spec = FacadeSpec.from_plan(load_plan(root / "migration_plan.yaml"))
    for path, text in (("fz/app.py", program.app), ("fz/callers.py", program.callers)):
        assert assert_single_walk_agrees(path, text.encode(), spec) is not None


# --- the work around the walks -------------------------------------------------------------------------

REPO = Path(__file__).parents[1]


def test_the_per_file_work_leaves_no_cycles_and_the_cyclic_collector_as_it_found_it() -> None:
    """The cyclic collector is off while a file is worked on; what the work left in cycles (the ast
    collector's scopes) is collected before it returns, and the collector is left as it was."""
    spec = FacadeSpec.from_plan(load_plan(REPO / "migration_plan.yaml"))
    path = "server/services/combat_service.py"
    data = (REPO / path).read_bytes()
    gc.collect()
    assert gc.isenabled()
    found, _ = run_task(path, data, spec, True)
    assert found.calls and gc.isenabled()
    assert gc.collect() == 0  # nothing left for a full collection to find
    gc.disable()
    try:
        assert run_task(path, data, spec, True)[0] == found
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_leaves_the_tree_to_reference_counting() -> None:
    """The scope model's bindings are dropped once the file is done (``_Walker.release``): the module's
    tree is freed as the last reference goes, and the collection after each file finds next to nothing
    (before, every node a binding named, whole functions, waited for it)."""
    spec = FacadeSpec.from_plan(load_plan(REPO / "migration_plan.yaml"))
    for path in ("server/services/combat_service.py", "server/tests/services/test_combat_service.py"):
        data = (REPO / path).read_bytes()
        tree = parse_python(data)
        assert tree is not None
        nodes = sum(1 for _ in ast.walk(tree))
        gc.collect()
        gc.disable()
        try:
            calls, summary = collect_with_summary(path, data, tree, spec)
            assert calls and summary.functions
            del tree
            left = gc.collect()
            assert collect(path, data, parse_python(data), spec) == calls
            left_by_collect = gc.collect()
        finally:
            gc.enable()
        # a few scope objects (the module scope is its own parent), against thousands of nodes
        assert left < nodes / 50 and left_by_collect < nodes / 50, (path, left, left_by_collect, nodes)


def test_the_pool_gives_the_inline_results() -> None:
    """Every file of server/, repeated past the inline threshold: the pool (chunks as index ranges into
    the forked parent's tasks) gives what the parent computes alone, and restores its collector; the
    module summaries it makes for the call graph from the same parse are ``read_module``'s."""
    spec = FacadeSpec.from_plan(load_plan(REPO / "migration_plan.yaml"))
    files = sorted(p for p in (REPO / "server").rglob("*.py") if "__pycache__" not in p.parts)
    tasks: list[Task] = []
    for copy in range(3):
        for index, file in enumerate(files):
            data = file.read_bytes()
            path = f"copy{copy}/{file.relative_to(REPO).as_posix()}"
            tasks.append((path, data, any(token in data for token in spec.hint_tokens()), index % 3 == copy))
    assert sum(len(data) for _, data, _, _ in tasks) > INLINE_WEIGHT
    assert gc.isenabled()
    pooled = run_tasks(tasks, spec, jobs=2, module_layout=spec.layout)
    assert gc.isenabled()
    assert pooled == run_tasks(tasks, spec, jobs=1, module_layout=spec.layout)
    assert sum(len(parsed.calls) for parsed, _ in pooled.values()) > 300
    for path, data, _, summarized in tasks:
        module = pooled[path][1]
        assert module == (read_module(path, data, spec.layout) if summarized else None), path
    assert sum(1 for *_, summarized in tasks if summarized) == len(files)
