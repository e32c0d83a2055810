"""The slice LibCST scans must give exactly the call sites the whole file gives.

The slice is the scan's fallback for files the ast collector refuses; the hand cases here check the
ast collector too (tests/test_ast_collector.py holds its own).

The oracle is the collector as LibCST's own runner drives it: ``MetadataWrapper`` over the whole
module, positions from ``PositionProvider``. Every case checks all CallSite fields.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from libcst.metadata import MetadataWrapper

from asyncmigrate.analysis.ast_collector import collect as collect_facade_calls
from asyncmigrate.analysis.collector import FacadeCallCollector, collect_calls
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.parsing import parse_python
from asyncmigrate.analysis.scan import _declared_encoding, check_encoding, parse_file, scan_sliced
from asyncmigrate.analysis.slicing import Anchor, slice_module
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import CallSite, Resolution
from tests.corpus import corpus_params, property_tiers

REPO = Path(__file__).parents[1]
SPEC = FacadeSpec(
    factories=frozenset({"app.db.get_db"}),
    classes=frozenset({"app.db.Database"}),
    receiver_names=frozenset({"db"}),
    methods=frozenset({"fetch", "store", "get_player"}),
    targets={"fetch": "user.find", "store": "user.put"},
)


def oracle(path: str, data: bytes, spec: FacadeSpec) -> list[CallSite]:
    collector = FacadeCallCollector(spec, path)
    MetadataWrapper(cst.parse_module(data)).visit(collector)
    return collector.calls


def sliced(path: str, data: bytes, spec: FacadeSpec = SPEC) -> tuple[CallSite, ...] | None:
    tree = parse_python(data)
    assert tree is not None
    return scan_sliced(path, data, tree, spec)


def assert_exact(source: str | bytes, spec: FacadeSpec = SPEC, path: str = "app/mod.py") -> list[CallSite]:
    """The slice is used (no fallback) and finds exactly what the whole file gives."""
    data = textwrap.dedent(source).encode() if isinstance(source, str) else source
    expected = oracle(path, data, spec)
    assert sliced(path, data, spec) == tuple(expected)
    assert parse_file(path, data, spec).calls == tuple(expected)
    # the scan's own path, the ast collector, on the same hand cases: none of them is refused
    tree = parse_python(data)
    assert tree is not None
    assert collect_facade_calls(path, data, tree, spec, _declared_encoding(data)) == tuple(expected)
    return expected


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _codebase(plan: Path, directory: str) -> list[tuple[str, bytes, FacadeSpec]]:
    spec = FacadeSpec.from_plan(load_plan(plan))
    root = plan.parent
    return [(p.relative_to(root).as_posix(), p.read_bytes(), spec) for p in _python_files(root / directory)]


CODEBASES = [
    *_codebase(REPO / "migration_plan.yaml", "server"),
    *_codebase(REPO / "tests/assets/shop/migration_plan.yaml", "."),
]


def _corpus(files: list[tuple[str, bytes, FacadeSpec]]) -> list[object]:
    """``files`` as parameters, those outside the covering subset marked ``corpus``."""
    return corpus_params(files, lambda file: file[0], lambda file: file[1], values=lambda file: file)


@pytest.mark.parametrize(("path", "data", "spec"), _corpus(CODEBASES))
def test_every_file_of_both_codebases_scans_the_same_sliced(path: str, data: bytes, spec: FacadeSpec) -> None:
    if check_encoding(data) is not None:
        pytest.skip("not a readable Python file")
    assert sliced(path, data, spec) == tuple(oracle(path, data, spec))


@pytest.mark.parametrize(("path", "data", "spec"), _corpus(CODEBASES[:40]))
def test_the_direct_scope_walk_matches_the_metadata_wrapper(path: str, data: bytes, spec: FacadeSpec) -> None:
    from libcst.metadata import ScopeProvider

    from asyncmigrate.analysis.collector import scope_metadata

    module = cst.parse_module(data)
    direct = scope_metadata(module)
    wrapped = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    assert direct.keys() == wrapped.keys()

    def shape(scope: object) -> tuple[str, tuple[str, ...]]:
        names = sorted(a.name for a in getattr(scope, "assignments", ()))
        return type(scope).__name__, tuple(names)

    assert [shape(direct[node]) for node in direct] == [shape(wrapped[node]) for node in direct]


def test_the_codebases_exercise_the_slice() -> None:
    """The equivalence above means something: most of server/ is cut away, calls remain."""
    total = kept = calls = 0
    for path, data, spec in CODEBASES:
        tree = parse_python(data)
        if not path.startswith("server/") or tree is None:
            continue
        module_slice = slice_module(data, tree, spec)
        assert module_slice is not None, path
        total += module_slice.lines_total
        kept += module_slice.lines_kept
        calls += len(module_slice.anchors)
    assert calls > 300
    assert kept < total / 5


# --- hand cases ---------------------------------------------------------------------------------


def test_aliases_and_the_statements_they_depend_on_survive() -> None:
    calls = assert_exact(
        """
        import os
        from app.db import get_db as open_db, Database
        from app import db as db_module

        LIMIT = 10

        def noise():
            return os.path.join("a", "b")

        def load(uid):
            handle = open_db()
            alias = handle
            other = alias if uid else None
            return other.fetch(uid)

        def via_module():
            return db_module.get_db().store(1)

        def annotated(conn: "Database"):
            conn.fetch(2)
        """
    )
    assert [(c.line, c.resolution) for c in calls] == [
        (15, Resolution.FACTORY_ASSIGNMENT),
        (18, Resolution.FACTORY_CALL),
        (21, Resolution.ANNOTATION),
    ]


def test_nested_defs_lambdas_comprehensions_and_decorators() -> None:
    calls = assert_exact(
        """
        from app.db import get_db

        def register(fn):
            return fn

        def outer():
            conn = get_db()

            @register
            def inner(x=conn.fetch):
                return [conn.fetch(i) for i in range(x)]

            callback = lambda: conn.store(1)
            rows = {k: conn.fetch(k) for k in "ab"}
            gen = (conn.fetch(j) for j in range(2))
            return inner, callback, rows, gen

        class Service:
            @staticmethod
            def static(db):
                return db.fetch(1)

            @register
            def method(self):
                def closure():
                    return self.conn.fetch(2)
                return closure

            def __init__(self):
                self.conn = get_db()
        """
    )
    assert {c.function for c in calls} == {
        "outer",
        "outer.<locals>.inner",
        "Service.static",
        "Service.method.<locals>.closure",
    }
    assert any(c.in_lambda for c in calls) and any(c.is_reference for c in calls)


def test_base_classes_and_class_level_annotations() -> None:
    calls = assert_exact(
        """
        from app.db import get_db, Database

        class Root:
            def __init__(self):
                self.conn = get_db()

        class Middle(Root):
            def unrelated(self):
                return 1

        class Leaf(Middle):
            held: Database

            def run(self):
                self.conn.fetch(1)
                self.held.store(2)
        """
    )
    assert [c.resolution for c in calls] == [Resolution.SELF_ATTRIBUTE, Resolution.SELF_ATTRIBUTE]


def test_global_nonlocal_and_walrus() -> None:
    calls = assert_exact(
        """
        from app.db import get_db

        conn = None

        def setup():
            global conn
            conn = get_db()

        def use():
            return conn.fetch(1)

        def counter():
            handle = None
            def bind():
                nonlocal handle
                handle = get_db()
            bind()
            return handle.store(2)

        def walrus(items):
            if (found := get_db()) is not None:
                found.fetch(3)
            return [got.fetch(i) for i in items if (got := get_db())]
        """
    )
    assert len(calls) == 4


def test_match_semicolons_continuations_and_compound_one_liners() -> None:
    calls = assert_exact(
        """
        from app.db import get_db, Database

        def dispatch(command, conn: Database):
            match command:
                case {"kind": "one", "id": ident}:
                    conn.fetch(ident)
                case [first, *rest] if rest:
                    pass
                case _:
                    x = 1; conn.store(x)
            total = 1 + \\
                conn.fetch(2)
            if command: conn.fetch(3)
            for item in command: y = item; conn.store(item)
            value = (conn
                     # a comment inside the receiver's statement
                     .fetch(4))
            return total, value
        """
    )
    assert [c.line for c in calls] == [7, 11, 13, 14, 15, 16]  # an attribute starts at its receiver


def test_clauses_keep_their_headers_and_get_pass() -> None:
    calls = assert_exact(
        """
        from app.db import get_db, Database

        def branches(flag, conn: Database):
            if flag == 1:
                unrelated = 1
            elif flag == 2:
                conn.fetch(1)
            elif flag == 3:
                other = 3
            else:
                conn.store(2)
            try:
                setup = 1
            except ValueError as error:
                conn.fetch(error)
            else:
                done = 1
            finally:
                conn.store(3)
            while flag:
                flag -= 1
            else:
                conn.fetch(4)
            with open("x") as handle, get_db() as scoped:
                scoped.fetch(5)
        """
    )
    assert len(calls) == 6


def test_async_functions_awaits_and_blocking_calls() -> None:
    calls = assert_exact(
        """
        from app.db import get_db, Database

        async def endpoint(conn: Database):
            async with conn as session:
                pass
            async for row in conn.rows():
                conn.fetch(row)
            return await conn.store(1)
        """
    )
    assert [(c.function_is_async, c.awaited) for c in calls] == [(True, False), (True, True)]


def test_strings_that_look_like_calls_are_not_calls() -> None:
    calls = assert_exact(
        '''
        from app.db import get_db

        HELP = """
        db.fetch(1) is how you would call it
        """

        def real(db):
            note = "db.fetch(2)"  # db.fetch(3)
            return db.fetch(4), f"{db.fetch(5)!r:>{10}}"
        '''
    )
    assert [c.line for c in calls] == [10, 10]


def test_arguments_nobody_reads_are_cut_and_the_rest_kept() -> None:
    source = """
        from typing import Annotated
        from fastapi import Depends
        from app.db import get_db, Database

        def f(conn: Database, other):
            conn.fetch(
                1,  # a comment with a ( in it
                key=(2, 3),
            )
            print(conn.fetch(4), conn.store(other.fetch(5)))
            get_db(other, option=1).fetch(6)
            held: Annotated[Database, Depends(get_db)] = other
            held.store(f"{conn.fetch(7)}")
            (conn.fetch)(8)(9)
        """
    calls = assert_exact(source)
    assert [(c.line, c.receiver) for c in calls] == [
        (7, "conn"),
        (11, "conn"),
        (11, "conn"),  # other.fetch(5) is no facade call: ``other`` is not known to be one
        (12, "get_db(other, option=1)"),
        (14, "held"),
        (14, "conn"),
        (15, "conn"),
    ]
    data = textwrap.dedent(source).encode()
    tree = parse_python(data)
    assert tree is not None
    module_slice = slice_module(data, tree, SPEC)
    assert module_slice is not None
    assert b"conn.fetch()\n" in module_slice.source and b"a comment" not in module_slice.source
    assert b"get_db(other, option=1).fetch()" in module_slice.source


def test_crlf_tabs_bom_and_a_coding_cookie() -> None:
    lines = ["from app.db import get_db", "", "def f():", "\tconn = get_db()", "\tif conn:", "\t\tpass"]
    lines.append("\treturn conn.fetch(1)")
    source = "\r\n".join(lines) + "\r\n"
    assert len(assert_exact(source.encode())) == 1
    assert len(assert_exact(b"\xef\xbb\xbf" + source.encode())) == 1
    latin = "# -*- coding: latin-1 -*-\nfrom app.db import get_db\nname = 'été'\n\ndef f():\n"
    latin += "    return get_db().fetch('é', 'x')\n"
    calls = assert_exact(latin.encode("latin-1"))
    assert calls[0].line == 6 and calls[0].column == 11
    unicode = "from app.db import get_db\n\ndef f():\n    ça = get_db(); return 'ü', ça.fetch(1)\n"
    assert assert_exact(unicode.encode())[0].column == 31  # characters, where CPython counts 33 bytes


def test_a_name_bound_several_ways_reports_its_strongest_evidence() -> None:
    # LibCST hands a name's assignments over as a set; the answer must not depend on its order.
    source = """
        from app.db import get_db, Database

        def f(conn: Database, flag):
            try:
                pass
            except Exception as alias:
                pass
            if flag:
                alias = conn
            else:
                alias = get_db()
            return alias.fetch(1)
        """
    for _ in range(5):
        assert [c.resolution for c in assert_exact(source)] == [Resolution.FACTORY_ASSIGNMENT]


def test_a_file_without_facade_attributes_skips_libcst() -> None:
    data = b"from app.db import get_db\n\nconn = get_db()\nprint(conn)\n"
    tree = parse_python(data)
    assert tree is not None
    module_slice = slice_module(data, tree, SPEC)
    assert module_slice is not None and module_slice.anchors == () and module_slice.source == b""
    assert sliced("app/mod.py", data) == () == tuple(oracle("app/mod.py", data, SPEC))


def test_what_the_slicer_cannot_vouch_for_goes_to_the_whole_file() -> None:
    # LibCST sees ``import a.fetch`` as an Attribute node, ast does not.
    tricky = b"import db.fetch\n\ndef f():\n    return db.fetch\n"
    tree = parse_python(tricky)
    assert tree is not None and slice_module(tricky, tree, SPEC) is None
    assert parse_file("app/mod.py", tricky, SPEC).calls == tuple(oracle("app/mod.py", tricky, SPEC))
    # Syntax this interpreter's ast cannot parse: LibCST parses the whole file.
    modern = b"from app.db import get_db\n\ndef first[T](items: list[T]) -> T:\n    return get_db().fetch(items)\n"
    if parse_python(modern) is None:
        assert parse_file("app/mod.py", modern, SPEC).calls == tuple(oracle("app/mod.py", modern, SPEC))


def test_anchors_that_disagree_with_the_slice_are_refused() -> None:
    data = b"from app.db import get_db\n\ndef f():\n    return get_db().fetch(1)\n"
    module = cst.parse_module(data)
    assert collect_calls(module, SPEC, "m.py", [Anchor(4, 11, "fetch", "f")]) is not None
    for wrong in ([Anchor(4, 11, "store", "f")], [Anchor(4, 11, "fetch", "g")], []):
        assert collect_calls(cst.parse_module(data), SPEC, "m.py", wrong) is None


def test_unknown_facade_methods_make_every_public_attribute_a_candidate() -> None:
    # Any public attribute may be a method, so a dotted import (an Attribute to LibCST) would make
    # the slicer refuse the file: this facade lives in a top-level module.
    spec = FacadeSpec(frozenset({"dbs.get_db"}), frozenset(), SPEC.receiver_names, frozenset())
    calls = assert_exact(
        """
        from dbs import get_db

        def f(path):
            conn = get_db()
            path.strip()
            return conn.anything(1), db.other()
        """,
        spec,
    )
    assert [c.method for c in calls] == ["anything", "other"]


def test_the_slice_is_valid_python_that_keeps_the_calls() -> None:
    data = (REPO / "server" / "api" / "players.py").read_bytes()
    spec = FacadeSpec.from_plan(load_plan(REPO / "migration_plan.yaml"))
    tree = parse_python(data)
    assert tree is not None
    module_slice = slice_module(data, tree, spec)
    assert module_slice is not None
    sliced_tree = ast.parse(module_slice.source)
    attrs = [n.attr for n in ast.walk(sliced_tree) if isinstance(n, ast.Attribute) and n.attr in spec.methods]
    assert sorted(attrs) == sorted(a.attr for a in module_slice.anchors)
    assert module_slice.lines_kept < module_slice.lines_total / 2


# --- generated programs -------------------------------------------------------------------------

_RECEIVERS = [
    "conn",
    "db",
    "shared",
    "self.conn",
    "self.other",
    "get_db()",
    "get_db(x, y=1)",
    "alias",
    "holder.db",
    "(conn or get_db())",
]
_METHODS = ["fetch", "store", "get_player", "missing"]


@st.composite
def _expressions(draw: st.DrawFn, is_async: bool) -> str:
    receiver = draw(st.sampled_from(_RECEIVERS))
    method = draw(st.sampled_from(_METHODS))
    shapes = ["call", "reference", "lambda", "comprehension", "walrus"] + (["await"] if is_async else [])
    arguments = draw(
        st.sampled_from(
            ["0", "x, key=y", "conn.fetch(1)", "\n        1,  # (\n        (2),\n    ", "f(g(h)), *x", "(z := 3)", ""]
        )
    )
    call = f"{receiver}.{method}({arguments})"
    return {
        "call": call,
        "await": f"await {call}",
        "reference": f"{receiver}.{method}",
        "lambda": f"(lambda: {call})",
        "comprehension": f"[{call} for _ in range(2)]",
        "walrus": f"(alias := {call})",
    }[draw(st.sampled_from(shapes))]


_KINDS = ["expr", "assign", "bind", "noise", "semicolon", "if", "for", "with", "try", "def", "global", "class"]


@st.composite
def _statements(draw: st.DrawFn, depth: int, is_async: bool) -> list[str]:
    kind = draw(st.sampled_from(_KINDS))
    expression = draw(_expressions(is_async))
    if depth > 2 and kind not in ("assign", "bind", "noise", "semicolon"):
        kind = "expr"
    if kind == "expr":
        return [expression]
    if kind == "assign":
        return [f"result = {expression}"]
    if kind == "bind":
        target = draw(st.sampled_from(["conn", "alias", "self.conn", "self.other"]))
        value = draw(st.sampled_from(["get_db()", "conn", "None", "make()", "conn or get_db()"]))
        return [f"{target} = {value}"]
    if kind == "noise":
        return [draw(st.sampled_from(["x = 1", "print('db.fetch(1)')", "y = x  # conn.fetch(1)", "pass"]))]
    if kind == "semicolon":
        return [f"x = 2; {expression}"]
    if kind == "global":
        return [f"def setter{depth}():", "    global shared", "    shared = get_db()", expression]
    if kind in ("def", "class"):
        nested_async = draw(st.booleans())
        params = draw(st.sampled_from(["()", "(conn)", "(conn: Database)", "(conn=Depends(get_db))", "(self)"]))
        body = ["    " + line for line in draw(_blocks(depth + 1, nested_async))]
        header = f"{'async def' if nested_async else 'def'} helper{depth}{params}:"
        if kind == "class":
            return [f"class Inner{depth}(Base):", "    " + header, *["    " + line for line in body]]
        decorator = draw(st.sampled_from([[], ["@staticmethod"], ["@register(conn)"]]))
        return [*decorator, header, *body]
    body = ["    " + line for line in draw(_blocks(depth + 1, is_async))]
    if kind == "if":
        orelse = ["    " + line for line in draw(_blocks(depth + 1, is_async))]
        return ["if x:", *body, "elif y:", "    pass", "else:", *orelse]
    if kind == "for":
        return ["for conn in range(3):", *body]
    if kind == "with":
        return ["with get_db() as conn:", *body]
    return ["try:", *body, "except Exception as alias:", "    pass"]


@st.composite
def _blocks(draw: st.DrawFn, depth: int, is_async: bool) -> list[str]:
    lines: list[str] = []
    for statements in draw(st.lists(_statements(depth, is_async), min_size=1, max_size=3)):
        lines.extend(statements)
    return lines


@st.composite
def _modules(draw: st.DrawFn) -> str:
    header = ["from app.db import get_db, Database", "from fastapi import Depends", "x = y = 0", "conn = shared = None"]
    functions: list[str] = []
    for index in range(draw(st.integers(1, 3))):
        is_async = draw(st.booleans())
        body = ["    " + line for line in draw(_blocks(1, is_async))]
        params = draw(st.sampled_from(["(conn)", "(conn: Database)", "(conn=Depends(get_db))", "()"]))
        functions += ["", f"{'async def' if is_async else 'def'} top{index}{params}:", *body]
    methods = ["        " + line for line in draw(_blocks(2, False))]
    cls = [
        "",
        "class Base:",
        "    def __init__(self):",
        "        self.conn = get_db()",
        "",
        "class Service(Base):",
        "    def run(self):",
        *methods,
    ]
    return "\n".join([*header, *functions, *cls]) + "\n"


@property_tiers(150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_modules())
def test_generated_programs_scan_the_same_sliced(source: str) -> None:
    data = source.encode()
    compile(source, "<generated>", "exec")  # the grammar only makes valid modules
    expected = oracle("app/mod.py", data, SPEC)
    assert sliced("app/mod.py", data) == tuple(expected)
    assert parse_file("app/mod.py", data, SPEC).calls == tuple(expected)
    tree = parse_python(data)
    assert tree is not None
    assert collect_facade_calls("app/mod.py", data, tree, SPEC) == tuple(expected)
