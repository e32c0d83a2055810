"""The project call graph: per-file summaries, resolution across files, and the per-file cache.

The positions the summaries record are what the codemods use to find nodes again, so they are checked
against LibCST's own ``PositionProvider`` rather than against hand-counted columns.
"""

from __future__ import annotations

import pickle
import shutil
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from asyncmigrate.analysis import callgraph
from asyncmigrate.analysis.callgraph import (
    ARGUMENT,
    COMP_FOR,
    FOR,
    GENEXP,
    PLAIN,
    WITH,
    CallRef,
    FunctionSummary,
    ModuleSummary,
    Project,
    build_project,
    summarize_module,
)
from asyncmigrate.config.modules import ModuleLayout
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workspace.cache import PackFile


def summary(source: str, path: str = "app/mod.py") -> ModuleSummary:
    result = summarize_module(path, textwrap.dedent(source).lstrip("\n").encode())
    assert result is not None
    return result


def calls(module: ModuleSummary, function: str) -> dict[str, CallRef]:
    """The calls of one function, by their dotted chain (the last one wins)."""
    return {".".join(c.chain): c for c in module.functions[f"{module.module}.{function}"].calls}


def name_positions(source: bytes) -> dict[tuple[int, int], str]:
    """Every ``Name`` token LibCST sees, by its start position."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    positions = wrapper.resolve(PositionProvider)
    found: dict[tuple[int, int], str] = {}

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            start = positions[node].start
            found[(start.line, start.column)] = node.value

    wrapper.module.visit(Names())
    return found


def project(root: Path, files: dict[str, str]) -> Project:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
    return build_project(root, sorted(files), use_cache=False)


# -- positions agree with LibCST --------------------------------------------------------------------------

TRICKY = """
    import functools


    @functools.wraps(print)
    async def first(a, b):  # "déjà" in a comment
        return await second("é", a)


    class Outer:
        @staticmethod
        def   spaced (x):
            label = "naïve → " + helper(x).strip() + str(Outer.spaced(1))
            return [helper(y) for y in x], (
                helper
                .attr(x)
            )

        def method(self):
            def inner():
                return self.spaced(0)

            return inner


    def helper(x):
        return x


    def second(label, value):
        return f"{label}{helper(value)}"
"""


def test_function_and_call_positions_are_libcst_name_tokens() -> None:
    source = textwrap.dedent(TRICKY).lstrip("\n").encode()
    module = summarize_module("app/tricky.py", source)
    assert module is not None
    names = name_positions(source)
    for function in module.functions.values():
        assert names.get((function.name_line, function.name_col)) == function.name, function.id
    checked = 0
    for function in module.functions.values():
        for call in function.calls:
            assert names.get((call.line, call.col)) == call.chain[-1], call
            checked += 1
    assert checked >= 8


def test_qualified_names_of_methods_nested_functions_and_classes() -> None:
    module = summary(TRICKY, "app/tricky.py")
    assert set(module.functions) == {
        "app.tricky.first",
        "app.tricky.Outer.spaced",
        "app.tricky.Outer.method",
        "app.tricky.Outer.method.<locals>.inner",
        "app.tricky.helper",
        "app.tricky.second",
    }
    inner = module.functions["app.tricky.Outer.method.<locals>.inner"]
    assert inner.parent_id == "app.tricky.Outer.method" and inner.class_id is None
    assert module.functions["app.tricky.Outer.method"].local_defs == {"inner": inner.id}
    assert module.functions["app.tricky.first"].is_async
    assert module.functions["app.tricky.first"].decorators == (("functools", "wraps"),)
    assert module.classes["app.tricky.Outer"].methods == {
        "spaced": "app.tricky.Outer.spaced",
        "method": "app.tricky.Outer.method",
    }


def test_package_module_name_and_test_modules() -> None:
    assert summary("x = 1\n", "app/sub/__init__.py").module == "app.sub"
    assert summary("x = 1\n", "app/sub/__init__.py").is_package
    assert summary("x = 1\n", "tests/test_x.py").is_test
    assert summary("x = 1\n", "tests/conftest.py").is_test
    assert summary("x = 1\n", "tests/x_test.py").is_test
    assert not summary("x = 1\n", "app/testing.py").is_test


def test_unparsable_file_has_no_summary() -> None:
    assert summarize_module("app/broken.py", b"def f(:\n") is None


# -- what each call records -------------------------------------------------------------------------


def test_call_contexts() -> None:
    module = summary(
        """
        def f(items):
            a = plain()
            with managed() as m:
                pass
            for x in looped():
                pass
            b = [x for x in comprehended()]
            c = sum(inner(x) for x in eager())
            d = wrap(argument())
            e = await_me()
            return a, b, c, d, m
        """
    )
    found = calls(module, "f")
    assert found["plain"].context == PLAIN
    assert found["managed"].context == WITH
    assert found["looped"].context == FOR
    assert found["comprehended"].context == COMP_FOR
    assert found["inner"].context == GENEXP
    # The outermost iterable of a generator expression runs eagerly in the enclosing scope.
    assert found["eager"].context == PLAIN
    assert found["argument"].context == ARGUMENT and found["argument"].arg_of == ("wrap",)


def test_awaited_lambda_and_receiver_calls() -> None:
    module = summary(
        """
        async def f(bus):
            await ready()
            bus.subscribe(lambda event: handle(event))
            return Service().load(1)
        """
    )
    found = calls(module, "f")
    assert found["ready"].awaited
    handle = found["handle"]
    assert handle.in_lambda and handle.lambda_arg_of == ("bus", "subscribe")
    load = found["<call>.load"]
    assert load.receiver_call == ("Service",)


def test_references_are_recorded_only_when_handed_on() -> None:
    module = summary(
        """
        def f(items):
            sorted(items, key=load)
            handlers = [save]
            check = validate
            if callback:
                pass
            return produce
        """
    )
    references = {c.chain[-1]: c for c in module.functions["app.mod.f"].calls if not c.is_call}
    assert set(references) == {"items", "load", "save", "validate", "produce"}
    assert references["load"].arg_of == ("sorted",) and references["load"].arg_keyword == "key"
    assert references["produce"].returned
    assert not references["save"].returned


def test_with_items_main_guard_and_generators() -> None:
    module = summary(
        """
        import threading

        LOCK = threading.Lock()

        def f(self):
            with self.lock, LOCK:
                return guarded()

        def g():
            yield 1

        def h():
            return [lambda: (yield)]

        if __name__ == "__main__":
            f(None)
        run_at_import()
        """
    )
    f = module.functions["app.mod.f"]
    assert [chain for chain, _, _ in f.with_items] == [("self", "lock"), ("LOCK",)]
    assert calls(module, "f")["guarded"].withs == (("self", "lock"), ("LOCK",))
    assert module.functions["app.mod.g"].is_generator
    assert not module.functions["app.mod.h"].is_generator  # the yield belongs to the lambda
    guarded = {".".join(c.chain): c.main_guard for c in module.module_calls}
    assert guarded["f"] is True and guarded["run_at_import"] is False
    assert module.global_constructors["LOCK"][2] == ("threading", "Lock")


def test_parameter_annotations_become_type_evidence() -> None:
    module = summary(
        """
        from typing import Annotated, Optional

        def f(a: Service, b: Optional[Service], c: "Service | None", d: Annotated[Service, Depends(x)], e: int):
            pass
        """
    )
    types = module.functions["app.mod.f"].param_types
    for name in "abcd":
        assert types[name] == (("ann", ("Service",)),), name
    assert types["e"] == (("ann", ("int",)),)


# -- resolution across the project -------------------------------------------------------------------------


def test_imports_re_exports_and_relative_imports(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/__init__.py": "from app.core.tools import helper\n",
            "app/core/__init__.py": "",
            "app/core/tools.py": "def helper():\n    return 1\n",
            "app/core/near.py": "from .tools import helper as h\n\ndef f():\n    return h()\n",
            "app/far.py": "import app\nfrom app import helper\n\ndef g():\n    return helper() + app.helper()\n",
        },
    )
    assert proj.lookup("app.helper") == ("function", "app.core.tools.helper")
    for path, function in (("app/core/near.py", "app.core.near.f"), ("app/far.py", "app.far.g")):
        module = proj.modules[path]
        for call in proj.functions[function].calls:
            resolved = proj.resolve_call(call, proj.functions[function], module)
            assert resolved is not None and resolved.function is not None
            assert resolved.function.id == "app.core.tools.helper"
    callers = {(m.path, call.line) for m, _, call, r in proj.callers(proj.functions["app.core.tools.helper"]) if r}
    assert ("app/far.py", 5) in callers  # the aliased call in near.py: see test_propagate's alias case


def test_self_base_classes_classmethods_and_constructors(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/base.py": """
                class Base:
                    def load(self):
                        return 1

                    @classmethod
                    def create(cls):
                        return cls.build()

                    @classmethod
                    def build(cls):
                        return cls()
            """,
            "app/child.py": """
                from app.base import Base

                class Child(Base):
                    def __init__(self):
                        self.peer = Base()

                    def use(self):
                        return self.load() + self.peer.load()

                def make():
                    return Child()
            """,
        },
    )
    child = proj.modules["app/child.py"]
    use = proj.functions["app.child.Child.use"]
    targets = [proj.resolve_call(c, use, child) for c in use.calls]
    assert [t.function.id for t in targets if t and t.function] == ["app.base.Base.load", "app.base.Base.load"]
    assert proj.mro("app.child.Child") == ["app.child.Child", "app.base.Base"]
    assert proj.subclasses("app.base.Base") == ["app.child.Child"]
    create = proj.functions["app.base.Base.create"]
    [build] = create.calls
    resolved = proj.resolve_call(build, create, proj.modules["app/base.py"])
    assert resolved is not None and resolved.function is not None
    assert resolved.function.id == "app.base.Base.build"
    make = proj.functions["app.child.make"]
    [construct] = make.calls
    constructed = proj.resolve_call(construct, make, child)
    assert constructed is not None and constructed.constructs == "app.child.Child"
    assert constructed.function is not None and constructed.function.id == "app.child.Child.__init__"


def test_fixture_parameters_take_the_fixture_type_from_conftest(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/service.py": "class Service:\n    def load(self):\n        return 1\n",
            "tests/conftest.py": """
                import pytest

                from app.service import Service

                @pytest.fixture
                def service():
                    return Service()
            """,
            "tests/unit/test_service.py": """
                def test_load(service):
                    assert service.load() == 1

                def helper(service):
                    return service.load()
            """,
        },
    )
    module = proj.modules["tests/unit/test_service.py"]
    test = proj.functions["tests.unit.test_service.test_load"]
    [load] = test.calls
    resolved = proj.resolve_call(load, test, module)
    assert resolved is not None and resolved.function is not None
    assert resolved.function.id == "app.service.Service.load"
    assert proj.is_fixture(proj.functions["tests.conftest.service"])
    # Only tests and fixtures receive fixtures: a helper's parameter is just a parameter.
    helper = proj.functions["tests.unit.test_service.helper"]
    assert proj.resolve_call(helper.calls[0], helper, module) is None


def test_external_names_and_builtins(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {"app/__init__.py": "", "app/m.py": "import threading\n\ndef f():\n    threading.Lock()\n    sorted([])\n"},
    )
    f = proj.functions["app.m.f"]
    resolved = [proj.resolve_call(c, f, proj.modules["app/m.py"]) for c in f.calls]
    assert [r.external for r in resolved if r] == ["threading.Lock", "sorted"]


# -- the per-file cache ----------------------------------------------------------------------------------


def test_cache_reuses_unchanged_files_and_resummarizes_changed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"app/__init__.py": "", "app/a.py": "def a():\n    return 1\n", "app/b.py": "def b():\n    return 2\n"}
    project(tmp_path, files)
    paths = sorted(files)
    first = build_project(tmp_path, paths)
    assert set(first.functions) == {"app.a.a", "app.b.b"}

    summarized: list[str] = []
    real = callgraph.read_module

    def counting(path: str, source: bytes, layout: ModuleLayout) -> ModuleSummary:
        summarized.append(path)
        return real(path, source, layout)

    monkeypatch.setattr(callgraph, "read_module", counting)
    (tmp_path / "app" / "b.py").write_text("def b2():\n    return 2\n")
    second = build_project(tmp_path, paths)
    assert summarized == ["app/b.py"]
    assert set(second.functions) == {"app.a.a", "app.b.b2"}


GRAPH_FILES = {"app/__init__.py": "", "app/a.py": "def a():\n    return 1\n", "app/b.py": "def b():\n    a()\n"}


def _graph_cache(root: Path) -> list[Path]:
    return sorted((root / ".asyncmigrate" / "cache").glob("graph-*"))


def _forbid(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make each of ``names`` (attributes of the call graph's module, ``Class.method`` or a function) fail."""

    def fail(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("read although not needed")

    for name in names:
        owner: object = callgraph
        *path, attribute = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        monkeypatch.setattr(owner, attribute, fail)


@pytest.mark.parametrize("garbage", [b"not a pickle", pickle.dumps(["a list, not a dict"]), b""])
def test_corrupt_cache_is_ignored(tmp_path: Path, garbage: bytes) -> None:
    project(tmp_path, GRAPH_FILES)
    paths = sorted(GRAPH_FILES)
    build_project(tmp_path, paths)
    files = _graph_cache(tmp_path)
    assert sorted(f.suffix for f in files) == [".pack", ".pickle", ".pickle"]  # index, module indexes, summaries
    for damaged in files:
        damaged.write_bytes(garbage)
        again = build_project(tmp_path, paths)
        assert set(again.functions) == {"app.a.a", "app.b.b"}
        assert [c.chain for _, _, c, _ in again.callers(again.functions["app.a.a"])] == [("a",)]


def test_a_warm_build_reads_neither_module_indexes_nor_summaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, GRAPH_FILES)
    paths = sorted(GRAPH_FILES)
    first = build_project(tmp_path, paths)
    _forbid(monkeypatch, "read_module", "_GraphCache.indexes", "_GraphCache.summary_blob")
    warm = build_project(tmp_path, paths)
    # what a cached result's key needs is known without them
    assert warm.digests == first.digests
    assert dict(warm.module_names) == {"app/__init__.py": "app", "app/a.py": "app.a", "app/b.py": "app.b"}
    assert list(warm.index) == list(first.index) and "app/a.py" in warm.modules
    with pytest.raises(AssertionError, match="not needed"):
        warm.functions["app.a.a"]


def test_a_changed_file_gets_its_fresh_summary_and_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, GRAPH_FILES)
    paths = sorted(GRAPH_FILES)
    build_project(tmp_path, paths)
    (tmp_path / "app" / "a.py").write_text("async def a():\n    return 1\n")
    changed = build_project(tmp_path, paths)
    assert changed.functions["app.a.a"].is_async
    # the next build reads the new summary and index from the cache, and the other file's kept ones
    _forbid(monkeypatch, "read_module")
    again = build_project(tmp_path, paths)
    assert again.functions["app.a.a"].is_async
    assert again.index["app/a.py"] == changed.index["app/a.py"]
    assert [c.chain for _, _, c, _ in again.callers(again.functions["app.a.a"])] == [("a",)]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "swapped", "not-a-pack"])
def test_a_damaged_summary_is_a_miss_computed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    project(tmp_path, GRAPH_FILES)
    paths = sorted(GRAPH_FILES)
    build_project(tmp_path, paths)
    [pack] = (tmp_path / ".asyncmigrate" / "cache").glob("graph-*.pack")
    data = pack.read_bytes()
    if damage == "truncated":
        pack.write_bytes(data[: len(data) - 10])
    elif damage == "flipped":  # a byte in the last blob: it still unpickles, perhaps, but is not what was stored
        pack.write_bytes(data[:-40] + bytes([data[-40] ^ 0x01]) + data[-39:])
    elif damage == "swapped":  # two files' table entries exchanged: each blob intact, under the other's key
        header = len(PackFile.MAGIC) + 8
        size = int.from_bytes(data[len(PackFile.MAGIC) : header], "little")
        table = pickle.loads(data[header : header + size])
        a_key, b_key = sorted(k for k in table if k[0] in ("app/a.py", "app/b.py"))
        table[a_key], table[b_key] = table[b_key], table[a_key]
        head = pickle.dumps(table)
        pack.write_bytes(data[: len(PackFile.MAGIC)] + len(head).to_bytes(8, "little") + head + data[header + size :])
    else:
        pack.write_bytes(b"not a pack")
    summarized: list[str] = []
    real = callgraph.read_module

    def counting(path: str, source: bytes, layout: ModuleLayout) -> ModuleSummary:
        summarized.append(path)
        return real(path, source, layout)

    monkeypatch.setattr(callgraph, "read_module", counting)
    again = build_project(tmp_path, paths)
    assert again.functions["app.a.a"].path == "app/a.py"
    assert again.functions["app.b.b"].path == "app/b.py"
    assert [c.chain for _, _, c, _ in again.callers(again.functions["app.a.a"])] == [("a",)]
    assert summarized  # computed again from the files


def test_a_lost_summary_of_a_file_changed_since_is_an_error_not_another_state(tmp_path: Path) -> None:
    project(tmp_path, GRAPH_FILES)
    paths = sorted(GRAPH_FILES)
    build_project(tmp_path, paths)
    [pack] = (tmp_path / ".asyncmigrate" / "cache").glob("graph-*.pack")
    pack.unlink()
    warm = build_project(tmp_path, paths)  # knows a.py by its digest, reads no summary
    (tmp_path / "app" / "a.py").write_text("async def a():\n    return 1\n")
    with pytest.raises(AsyncMigrateError, match="app/a.py: changed while the call graph was being read"):
        warm.modules["app/a.py"]


def test_a_build_after_a_change_repairs_a_damaged_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, GRAPH_FILES)
    paths = sorted(GRAPH_FILES)
    build_project(tmp_path, paths)
    [pack] = (tmp_path / ".asyncmigrate" / "cache").glob("graph-*.pack")
    pack.write_bytes(b"not a pack")
    (tmp_path / "app" / "b.py").write_text("def b():\n    a()\n    a()\n")
    build_project(tmp_path, paths)  # b.py is new: the pack is written again, with a.py's summary too
    _forbid(monkeypatch, "read_module")
    again = build_project(tmp_path, paths)
    assert len([c for _, _, c, _ in again.callers(again.functions["app.a.a"])]) == 2


def test_unparsable_and_missing_files_are_skipped(tmp_path: Path) -> None:
    project(tmp_path, {"app/__init__.py": "", "app/ok.py": "def ok():\n    pass\n", "app/bad.py": "def bad(:\n"})
    proj = build_project(tmp_path, ["app/__init__.py", "app/ok.py", "app/bad.py", "app/gone.py"], use_cache=False)
    assert set(proj.modules) == {"app/__init__.py", "app/ok.py"}
    # never in silence: the file nobody could parse is named, with its line
    assert proj.unreadable == {"app/bad.py": "1: syntax error: invalid syntax"}


def test_a_call_is_resolved_once_however_many_functions_share_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every class's ``save`` asks for the calls spelled ``save``; each of those calls is resolved once per
    project, not once per asking function (``check`` on a tree of many similar modules was quadratic)."""
    copies = 12
    files = {
        f"app/store_{i}.py": f"""
            class Store{i}:
                async def save(self, x):
                    return x

            def use_{i}(store: Store{i}):
                store.save({i})
            """
        for i in range(copies)
    }
    graph = project(tmp_path, files)
    resolved: list[int] = []
    resolve = Project.resolve_call

    def counting(self: Project, call: CallRef, function: FunctionSummary | None, module: ModuleSummary) -> object:
        resolved.append(call.line)
        return resolve(self, call, function, module)

    monkeypatch.setattr(Project, "resolve_call", counting)
    saves = [f for f in graph.functions.values() if f.name == "save"]
    reached = {
        (caller.qualname, found.function.qualname)
        for save in saves
        for _, caller, _, found in graph.callers(save)
        if caller is not None and found is not None and found.function is save
    }
    assert len(saves) == copies and len(resolved) == copies  # one ``store.save(...)`` per module
    assert reached == {(f"use_{i}", f"Store{i}.save") for i in range(copies)}


def test_a_cold_build_on_every_core_reads_what_an_inline_one_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``INLINE_WEIGHT`` the files are summarized by a process pool: the same summaries, the same
    unreadable files, in the same order, as one process reading them."""
    from asyncmigrate.analysis import pool

    source = Path(__file__).parent / "assets" / "guild"
    paths = sorted(p.relative_to(source).as_posix() for p in source.rglob("*.py") if "__pycache__" not in p.parts)
    shutil.copytree(source, tmp_path / "guild")
    (tmp_path / "guild" / "guild" / "broken.py").write_text("def f(:\n")
    paths.append("guild/broken.py")
    inline = build_project(tmp_path / "guild", paths, use_cache=False)
    monkeypatch.setattr(pool, "INLINE_WEIGHT", 0)
    monkeypatch.setattr(pool.os, "cpu_count", lambda: 2)  # two workers, whatever the machine has
    chunked: list[int] = []
    chunks = pool._chunks
    monkeypatch.setattr(pool, "_chunks", lambda weights, workers: chunked.append(workers) or chunks(weights, workers))
    pooled = build_project(tmp_path / "guild", paths, use_cache=False)
    assert chunked == [2]  # the pool ran
    assert len(paths) > 8 and list(pooled.digests) == list(inline.digests) == paths
    assert pooled.unreadable == inline.unreadable and "guild/broken.py" in pooled.unreadable
    assert {p: pooled.modules[p] for p in pooled.module_names} == {p: inline.modules[p] for p in inline.module_names}
