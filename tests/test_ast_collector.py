"""The ast collector must find exactly the call sites the whole-file LibCST collector finds, or refuse.

The oracle is ``FacadeCallCollector`` as LibCST's own runner drives it (``MetadataWrapper`` over the
whole module, positions from ``PositionProvider``): every ``CallSite`` field, in the same order. A
module the ast collector refuses goes to LibCST in the scan; here a refusal is asserted as such,
never taken for agreement.
"""

from __future__ import annotations

import ast
import tempfile
import textwrap
import warnings
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import strategies as st

from asyncmigrate.analysis.ast_collector import Refused, _collect, collect
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.parsing import parse_python
from asyncmigrate.analysis.scan import _declared_encoding, check_encoding, parse_file
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import CallSite, Resolution
from tests.corpus import corpus_params, property_tiers
from tests.fuzzing import generate, write_project
from tests.strategies import python_programs
from tests.test_slicing import SPEC, _modules, oracle

REPO = Path(__file__).parents[1]


def by_ast(path: str, data: bytes, spec: FacadeSpec) -> tuple[CallSite, ...] | None:
    tree = parse_python(data)
    assert tree is not None
    return collect(path, data, tree, spec, _declared_encoding(data))


def refusal(path: str, data: bytes, spec: FacadeSpec) -> str | None:
    """Why the ast collector refuses the module, or None when it does not."""
    tree = parse_python(data)
    assert tree is not None
    try:
        _collect(path, data, tree, spec, _declared_encoding(data))
    except Refused as exc:
        return str(exc)
    return None


def assert_same(source: str | bytes, spec: FacadeSpec = SPEC, path: str = "app/mod.py") -> list[CallSite]:
    """The ast collector does not refuse, and finds exactly what LibCST finds in the whole file."""
    data = textwrap.dedent(source).encode() if isinstance(source, str) else source
    expected = oracle(path, data, spec)
    assert refusal(path, data, spec) is None
    assert by_ast(path, data, spec) == tuple(expected)
    assert parse_file(path, data, spec) == parse_file(path, data, spec, use_slice=False).__class__(
        tuple(expected), None, parse_file(path, data, spec).summary
    )
    return expected


def assert_refused(source: str, spec: FacadeSpec = SPEC, path: str = "app/mod.py") -> None:
    """Refused, and the scan still answers what LibCST answers (through the fallback)."""
    data = textwrap.dedent(source).encode()
    assert refusal(path, data, spec) is not None
    assert by_ast(path, data, spec) is None
    parsed = parse_file(path, data, spec)
    try:
        expected = tuple(oracle(path, data, spec))
    except cst.ParserSyntaxError:
        assert parsed.error is not None and parsed.error.startswith("syntax error")
        return
    assert parsed.libcst and parsed.calls == expected


# --- every file of every codebase the project ships ----------------------------------------------------


def _codebases() -> list[tuple[str, bytes, FacadeSpec]]:
    found: list[tuple[str, bytes, FacadeSpec]] = []
    for plan_path in [REPO / "migration_plan.yaml", *sorted((REPO / "tests/assets").glob("*/migration_plan.yaml"))]:
        spec = FacadeSpec.from_plan(load_plan(plan_path))
        root = plan_path.parent
        base = root / "server" if root == REPO else root
        for path in sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts):
            found.append((path.relative_to(root).as_posix(), path.read_bytes(), spec))
    return found


CODEBASES = _codebases()
# each file as (path, data, spec), named by its place in the list (two codebases may share a path)
CORPUS_PARAMS = corpus_params(
    enumerate(CODEBASES),
    lambda item: f"{item[0]}:{item[1][0]}",
    lambda item: item[1][1],
    values=lambda item: item[1],  # (path, data, spec)
    ids=lambda _, item: f"{item[0]}:{item[1][0]}",
)


@pytest.mark.parametrize(("path", "data", "spec"), CORPUS_PARAMS)
def test_every_file_of_every_codebase_gives_libcsts_call_sites(path: str, data: bytes, spec: FacadeSpec) -> None:
    if check_encoding(data) is not None or parse_python(data) is None:
        pytest.skip("not a Python file this interpreter's ast reads")
    expected = tuple(oracle(path, data, spec))
    reason = refusal(path, data, spec)
    if reason is not None:
        assert by_ast(path, data, spec) is None, reason
        return
    assert by_ast(path, data, spec) == expected


# Refused by design: the ast collector does not model PEP 695 annotation scopes. Python 3.11's ``ast``
# cannot read such a file at all (it is skipped above); 3.12 and later read it, and it is refused.
REFUSED_BY_DESIGN = {"PEP 695 type parameters", "statement TypeAlias"}


def test_the_codebases_exercise_the_ast_collector() -> None:
    """The equivalence above means something: hundreds of call sites, and no file refused but those written
    in the syntax the collector refuses by design."""
    calls = 0
    refused = []
    for path, data, spec in CODEBASES:
        if check_encoding(data) is not None or parse_python(data) is None:
            continue
        reason = refusal(path, data, spec)
        if reason is not None and reason not in REFUSED_BY_DESIGN:
            refused.append((path, reason))
        calls += len(by_ast(path, data, spec) or ())
    assert calls > 400 and refused == []
    resolutions = {c.resolution for path, data, spec in CODEBASES[:120] for c in by_ast(path, data, spec) or ()}
    assert len(resolutions) >= 5


# --- scoping, as LibCST's ScopeProvider models it --------------------------------------------------------


def test_a_local_shadows_the_module_binding_and_a_parameter_shadows_both() -> None:
    calls = assert_same(
        """
        from app.db import get_db

        conn = get_db()

        def shadowed():
            conn = make()
            return conn.fetch(1)

        def parameter(conn):
            return conn.fetch(2)

        def annotated(conn: int):
            return conn.fetch(3)

        def outer():
            return conn.fetch(4)
        """
    )
    assert [(c.line, c.resolution) for c in calls] == [(17, Resolution.FACTORY_ASSIGNMENT)]


def test_the_class_scope_is_not_visible_in_its_methods() -> None:
    calls = assert_same(
        """
        from app.db import get_db

        class Service:
            conn = get_db()

            def run(self):
                return conn.fetch(1)

            value = conn.fetch(2)
            items = [conn.fetch(i) for i in range(3)]
        """
    )
    assert [(c.line, c.resolution) for c in calls] == [(10, Resolution.FACTORY_ASSIGNMENT)]


def test_comprehension_scopes_and_the_first_iterable_outside_them() -> None:
    calls = assert_same(
        """
        from app.db import get_db

        def f(items):
            conn = get_db()
            first = [x for x in conn.store(1)]
            inner = [conn.fetch(i) for conn in items]
            nested = [conn.fetch(j) for i in items for j in conn.store(i)]
            keyed = {conn: conn.fetch(3) for conn in range(2)}
            return first, inner, nested, keyed
        """
    )
    assert [(c.line, c.method) for c in calls] == [(6, "store"), (8, "fetch"), (8, "store")]


def test_global_and_nonlocal_redirect_assignments() -> None:
    calls = assert_same(
        """
        from app.db import get_db

        conn = None

        def setup():
            global conn
            conn = get_db()
            return conn.fetch(0)

        def use():
            return conn.fetch(1)

        def counter():
            handle = None
            def bind():
                nonlocal handle
                handle = get_db()
                return handle.store(2)
            return handle.store(3)

        class Holder:
            def method(self):
                global conn
                return conn.fetch(4)
        """
    )
    assert [c.line for c in calls] == [9, 12, 19, 20, 25]


def test_del_binds_nothing_and_rebinding_in_order_does_not_matter() -> None:
    calls = assert_same(
        """
        from app.db import get_db

        def f():
            conn = get_db()
            del conn
            return conn.fetch(1)

        def g():
            early = conn2.fetch(2)
            conn2 = get_db()
            return early

        def h():
            conn3 = get_db()
            conn3 = 5
            return conn3.fetch(3)
        """
    )
    assert [c.resolution for c in calls] == [Resolution.FACTORY_ASSIGNMENT] * 3


def test_walrus_in_a_comprehension_binds_in_the_comprehension_as_libcst_has_it() -> None:
    calls = assert_same(
        """
        from app.db import get_db

        def f(items):
            found = [got.fetch(i) for i in items if (got := get_db())]
            return got.store(1), found

        def g():
            if (conn := get_db()) is not None:
                return conn.fetch(2)
        """
    )
    assert [c.line for c in calls] == [5, 10]


def test_try_except_rebinding_and_conditional_imports() -> None:
    calls = assert_same(
        """
        try:
            from app.db import get_db
        except ImportError:
            get_db = None

        if get_db:
            from app.db import Database
        else:
            Database = object

        def f(conn: Database):
            try:
                handle = get_db()
            except Exception as handle:
                pass
            return conn.fetch(1), handle.store(2)
        """
    )
    assert [c.resolution for c in calls] == [Resolution.ANNOTATION, Resolution.FACTORY_ASSIGNMENT]


def test_match_captures_bind_nothing_for_libcst() -> None:
    calls = assert_same(
        """
        from app.db import get_db, Database

        def f(command, conn: Database):
            match command:
                case {"conn": conn}:
                    conn.fetch(1)
                case Database(conn=other) if other:
                    other.fetch(2)
                case [db, *rest]:
                    db.store(3)
        """
    )
    assert [(c.line, c.resolution) for c in calls] == [
        (7, Resolution.ANNOTATION),
        (11, Resolution.RECEIVER_NAME),
    ]


def test_aliases_relative_imports_dotted_imports_and_qualified_names() -> None:
    calls = assert_same(
        """
        import app.db
        import app.db as database
        from . import db as sibling
        from .db import get_db as open_db

        def f():
            a = app.db.get_db()
            b = database.get_db()
            c = open_db()
            return a.fetch(1), b.fetch(2), c.fetch(3), app.db.get_db().store(4), sibling.get_db().fetch(5)
        """,
        path="app/mod.py",
    )
    assert len(calls) == 5 and all(c.resolution is not Resolution.RECEIVER_NAME for c in calls)


def test_annotations_strings_optional_annotated_depends_and_self_attributes() -> None:
    calls = assert_same(
        """
        from typing import Annotated, Optional, Union
        from fastapi import Depends
        from app.db import get_db, Database

        class Base:
            held: "Database"

            def __init__(self, conn: Optional[Database] = None):
                self.conn = conn or get_db()
                self.other: Database | None = None

        class Child(Base):
            def run(self, dep=Depends(get_db), both: Union[int, Database] = 1):
                self.held.fetch(1)
                self.conn.fetch(2)
                self.other.store(3)
                dep.fetch(4)
                return both.fetch(5)

        def endpoint(conn: Annotated[object, Depends(get_db)], text: "app.db.Database"):
            return conn.fetch(6), text.fetch(7)
        """
    )
    assert len(calls) == 6  # "app.db.Database" names nothing here: ``app`` itself is not imported


def test_lambdas_decorators_references_hops_getattr_and_mocks() -> None:
    calls = assert_same(
        """
        import asyncio
        import functools
        from app.db import get_db

        def register(fn):
            return fn

        async def f(loop):
            conn = get_db()
            callback = lambda key=conn.fetch: conn.store(key)
            await asyncio.to_thread(conn.fetch, 1)
            await loop.run_in_executor(None, functools.partial(conn.store, 2))
            getattr(conn, "fetch")(3)
            getattr(conn, "fe" "tch")(4)
            conn.fetch.return_value = 5
            conn.store = None
            await conn.fetch(6)
            return callback, (conn).fetch, ( conn ).store

        class Service:
            @register(get_db().fetch)
            def method(self):
                pass
        """
    )
    assert {c.wrapper for c in calls} == {None, "to_thread", "run_in_executor"}
    assert any(c.in_lambda for c in calls) and any(c.is_reference for c in calls) and any(c.awaited for c in calls)
    assert "Service.method" in {c.function for c in calls}
    assert {"(conn)", "( conn )"} <= {c.receiver for c in calls}


def test_positions_count_characters_and_encodings() -> None:
    unicode = "from app.db import get_db\n\ndef f():\n    ça = get_db(); return 'ü', ça.fetch(1)\n"
    assert assert_same(unicode.encode())[0].column == 31
    latin = "# -*- coding: latin-1 -*-\nfrom app.db import get_db\n\ndef f():\n    return 'é', get_db().fetch(1)\n"
    assert assert_same(latin.encode("latin-1"))[0].column == 16
    crlf = "from app.db import get_db\r\n\r\ndef f():\r\n\tconn = get_db()\r\n\treturn conn.fetch(1)\r\n"
    assert len(assert_same(b"\xef\xbb\xbf" + crlf.encode())) == 1
    fstring = 'from app.db import get_db\n\ndef f(db):\n    return f"{db.fetch(1)!r:>{10}}"\n'
    assert len(assert_same(fstring)) == 1


def test_what_the_ast_collector_cannot_vouch_for_is_refused() -> None:
    assert_refused("from app.db import *\n\ndef f():\n    return get_db().fetch(1)\n")
    assert_refused("import db.fetch\n\ndef f():\n    return db.fetch\n")
    assert_refused("from app.db import get_db\n\ndef f(conn: 'Optional[(Database)]'):\n    return conn.fetch(1)\n")
    assert_refused(
        "from typing import Optional\nfrom app.db import Database\n\n"
        "def f(conn: Optional['Database']):\n    return conn.fetch(1)\n"
    )
    assert_refused("from app.db import get_db\n\ndef f():\n    return (get_db() # c\n    ).fetch(1)\n")
    assert_refused("from app.db import Database\n\ndef f(conn: Annotated[Database, 'x = 1']):\n    conn.fetch(1)\n")
    assert_refused("from app.db import get_db\n\ndef f(db):\n \tif db:\n\t \t db.fetch(1)\n")
    assert_refused("from app.db import get_db\n\ndef f():\n    return (\n        get_db()\n    ).fetch(1)\n")


# A name used before its import (qualified names see earlier bindings only), a parameter before ``/``,
# ``@staticmethod``, a closure seeing ``self``, ``Depends`` by keyword, a class in a function, a for
# target, a lambda parameter, alias chains near the depth limit, ``async with``, ``except*`` rebinding.
EDGE_CASES = [
    """
x = get_db().fetch(1)
from app.db import get_db
def f(): return get_db().fetch(2)
""",
    """
from app.db import Database, get_db
x: Database
x.fetch(1)
def g(db: "Database", /, other=None):
    return db.fetch(2)
class C:
    @staticmethod
    def s(db):
        return db.fetch(3)
    def m(self, /, x):
        def inner():
            return self.h.fetch(4)
        return inner
    def __init__(self):
        self.h = get_db()
""",
    """
from fastapi import Depends
from app.db import get_db
def f(conn=Depends(dependency=get_db), c2=Depends(*[get_db])):
    return conn.fetch(1), c2.fetch(2)
def g():
    class Local:
        def m(self):
            return self.c.fetch(3)
        def __init__(self):
            self.c = get_db()
    return Local
""",
    """
from app.db import get_db
import app.db as m
def f(items):
    for db in items:
        db.fetch(1)
    h = (lambda db: db.fetch(2))
    k = m.get_db
    q = k()
    return q.fetch(3), (get_db() if items else None).fetch(4), (items and get_db()).store(5)
""",
    """
from app import db as dbmod
from app.db import get_db
a = b = c = d = e = f = g = h = get_db()
i = h
i.fetch(1)
p = q = None
p = q
q = p
p.fetch(2)
async def run():
    async with get_db() as s:
        await s.fetch(3)
    return [await x.fetch(4) async for x in s]
""",
    """
from app.db import get_db
def outer():
    conn = get_db()
    class K:
        conn = 5
        def m(self):
            return conn.fetch(1)
        v = [conn.fetch(2) for _ in range(1)]
    return K
def w():
    try:
        conn = get_db()
    except* ValueError as conn:
        pass
    return conn.fetch(3)
""",
]


@pytest.mark.parametrize("source", EDGE_CASES)
def test_scoping_edge_cases(source: str) -> None:
    assert assert_same(source)


# --- generated programs ----------------------------------------------------------------------------------


@property_tiers(150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_modules())
def test_generated_scoping_programs(source: str) -> None:
    data = source.encode()
    expected = tuple(oracle("app/mod.py", data, SPEC))
    assert by_ast("app/mod.py", data, SPEC) in (None, expected)
    assert refusal("app/mod.py", data, SPEC) is None  # the grammar uses nothing the port refuses


_FACADE_LINES = [
    "conn = get_db()",
    "conn.fetch(1)",
    "db.store(2)",
    "[conn.fetch(i) for i in range(2)]",
    "(lambda: conn.store(3))()",
]


def _with_facade(program: str, lines: list[str]) -> str:
    body = textwrap.indent("\n".join(lines) + "\n", "    ")
    return f"from app.db import get_db, Database\n{program}\n\ndef _under_test(db: Database):\n{body}"


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(source, "generated.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@property_tiers(60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    python_programs(),
    st.lists(st.sampled_from(_FACADE_LINES), min_size=1, max_size=4),
)
def test_hypothesmith_programs(program: str, lines: list[str]) -> None:
    source = _with_facade(program if program.endswith("\n") or not program else program + "\n", lines)
    assume(_compiles(source))
    data = source.encode()
    try:
        expected = tuple(oracle("app/mod.py", data, SPEC))
    except Exception:  # noqa: BLE001  (LibCST cannot read every program CPython can)
        assume(False)
        return
    assert by_ast("app/mod.py", data, SPEC) in (None, expected)


@pytest.mark.parametrize("seed", range(40))
def test_fuzzing_template_programs(seed: int) -> None:
    program = generate(seed)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_project(root, program)
        spec = FacadeSpec.from_plan(load_plan(root / "migration_plan.yaml"))
    for path, text in (("fz/app.py", program.app), ("fz/callers.py", program.callers)):
        data = text.encode()
        ast.parse(data)
        assert by_ast(path, data, spec) == tuple(oracle(path, data, spec))
