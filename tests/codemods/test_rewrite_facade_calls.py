"""The rewrite codemod: mapped facade calls become calls on their repositories.

Every case runs against the plan of ``tests/assets/library`` (facade ``library.storage.open_store()`` /
``Store``; async ``BookRepo`` on ``book_repo``; sync ``ShelfCache`` on ``shelf_cache``; keyword renames
for ``save_book`` and ``find_books``; ``compact`` without a counterpart), so nothing here is about the
bundled server. The codemod alone does not turn functions async: ``await`` inside a plain ``def`` in
the expected outputs is what propagation (tested in test_propagate_async.py) then fixes.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, CodemodTest

from asyncmigrate.plan import Plan, load_plan
from codemods.rewrite_facade_calls import RewriteFacadeCallsCommand

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "tests" / "assets" / "library"
GOLDEN = ROOT / "tests" / "data" / "apply" / "library" / "after"
PLAN: Plan = load_plan(LIBRARY / "migration_plan.yaml")
FILENAME = "library/example.py"


def context() -> CodemodContext:
    return CodemodContext(
        filename=str(LIBRARY / FILENAME), full_module_name="library.example", full_package_name="library"
    )


def rewrite(code: str, plan: Plan = PLAN) -> tuple[str, RewriteFacadeCallsCommand, list[str]]:
    """The codemod's output, the command (for its ``outcome``) and the warnings."""
    ctx = context()
    command = RewriteFacadeCallsCommand(ctx, plan_object=plan)
    output = command.transform_module(cst.parse_module(CodemodTest.make_fixture_data(code))).code
    return output, command, list(ctx.warnings)


class TestRewriteFacadeCalls(CodemodTest):
    TRANSFORM = RewriteFacadeCallsCommand

    def check(self, before: str, after: str, warnings: Sequence[str] = ()) -> None:
        self.assertCodemod(
            before, after, context_override=context(), expected_warnings=list(warnings), plan_object=PLAN
        )
        # Idempotent: what the codemod wrote goes through it again unchanged.
        expected = CodemodTest.make_fixture_data(after)
        again, _, _ = rewrite(expected)
        self.assertEqual(expected, again)

    # -- no-op ------------------------------------------------------------------------------------

    def test_module_without_facade_calls_is_unchanged(self) -> None:
        code = """
            from library.repos import get_book_repo


            async def title(isbn: str, shelf) -> str:
                book = await get_book_repo().get(isbn)
                return shelf.load_book(isbn) or book.title  # another object's method of the same name
        """
        self.check(code, code)

    # -- the three ways to obtain a repository ---------------------------------------------------------

    def test_self_attribute_set_in_init(self) -> None:
        self.check(
            """
            from library.storage import open_store


            class Shelf:
                def __init__(self) -> None:
                    self.store = open_store()  # the facade
                    self.size = 0

                def title(self, isbn: str) -> str:
                    return self.store.load_book(isbn).title

                def where(self, isbn: str) -> str | None:
                    return self.store.shelf_of(isbn)
            """,
            """
            from library.storage import open_store
            from library.repos import get_book_repo, get_shelf_cache


            class Shelf:
                def __init__(self) -> None:
                    self.store = open_store()  # the facade
                    self.book_repo = get_book_repo()
                    self.shelf_cache = get_shelf_cache()
                    self.size = 0

                def title(self, isbn: str) -> str:
                    return (await self.book_repo.get(isbn)).title

                def where(self, isbn: str) -> str | None:
                    return self.shelf_cache.shelf_for(isbn)
            """,
        )

    def test_annotated_self_attribute_and_a_closure_over_self(self) -> None:
        self.check(
            """
            from library.storage import Store, open_store


            class Shelf:
                def __init__(self) -> None:
                    self.store: Store = open_store()

                def loader(self):
                    def load(isbn: str):
                        return self.store.load_book(isbn)

                    return load
            """,
            """
            from library.storage import Store, open_store
            from library.repos import get_book_repo


            class Shelf:
                def __init__(self) -> None:
                    self.store: Store = open_store()
                    self.book_repo = get_book_repo()

                def loader(self):
                    def load(isbn: str):
                        return await self.book_repo.get(isbn)

                    return load
            """,
        )

    def test_attribute_set_outside_init_calls_the_provider_in_place(self) -> None:
        self.check(
            """
            from library.storage import open_store


            class Shelf:
                def open(self) -> None:
                    self.store = open_store()

                def title(self, isbn: str):
                    return self.store.load_book(isbn)
            """,
            """
            from library.storage import open_store
            from library.repos import get_book_repo


            class Shelf:
                def open(self) -> None:
                    self.store = open_store()

                def title(self, isbn: str):
                    return await get_book_repo().get(isbn)
            """,
        )

    def test_depends_parameter_becomes_a_typed_repository_parameter(self) -> None:
        self.check(
            """
            from fastapi import Depends

            from library.storage import Store, open_store


            async def titles(
                text: str,
                store: Store = Depends(open_store),
                limit: int = 3,
            ) -> list[str | None]:
                return [b.title for b in store.find_books(text, limit)] + [store.shelf_of(text)]
            """,
            """
            from fastapi import Depends
            from library.repos import BookRepo, ShelfCache, get_book_repo, get_shelf_cache


            async def titles(
                text: str,
                book_repo: BookRepo = Depends(get_book_repo),
                shelf_cache: ShelfCache = Depends(get_shelf_cache),
                limit: int = 3,
            ) -> list[str | None]:
                return [b.title for b in await book_repo.search(text, limit)] + [shelf_cache.shelf_for(text)]
            """,
        )

    def test_annotated_depends_parameter_keeps_the_annotated_form(self) -> None:
        self.check(
            """
            from typing import Annotated

            from fastapi import Depends

            from library.storage import Store, open_store


            async def title(isbn: str, store: Annotated[Store, Depends(open_store)]) -> str:
                return store.load_book(isbn).title
            """,
            """
            from typing import Annotated

            from fastapi import Depends
            from library.repos import BookRepo, get_book_repo


            async def title(isbn: str, book_repo: Annotated[BookRepo, Depends(get_book_repo)]) -> str:
                return (await book_repo.get(isbn)).title
            """,
        )

    def test_depends_parameter_still_used_by_an_unmapped_call_stays(self) -> None:
        self.check(
            """
            from fastapi import Depends

            from library.storage import Store, open_store


            async def tidy(i, store: Store = Depends(open_store)) -> int:
                store.load_book(i)
                return store.compact()
            """,
            """
            from fastapi import Depends

            from library.storage import Store, open_store
            from library.repos import BookRepo, get_book_repo


            async def tidy(i, store: Store = Depends(open_store), book_repo: BookRepo = Depends(get_book_repo)) -> int:
                await book_repo.get(i)
                return store.compact()
            """,
            [f"{FILENAME}:8: store.compact has no repository counterpart (unmapped)"],
        )

    def test_local_goes_after_the_docstring_and_the_facade_local_goes_away(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def lend(isbn: str) -> None:
                \"\"\"Mark the book as lent.\"\"\"
                store = open_store()
                book = store.load_book(isbn)
                store.save_book(book, overwrite=True)
            """,
            """
            from library.repos import get_book_repo


            def lend(isbn: str) -> None:
                \"\"\"Mark the book as lent.\"\"\"
                book_repo = get_book_repo()
                book = await book_repo.get(isbn)
                await book_repo.put(book, replace=True)
            """,
        )

    def test_facade_local_still_in_use_stays(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def tidy(isbn: str) -> int:
                store = open_store()
                store.load_book(isbn)
                return store.compact()
            """,
            """
            from library.storage import open_store
            from library.repos import get_book_repo


            def tidy(isbn: str) -> int:
                store = open_store()
                book_repo = get_book_repo()
                await book_repo.get(isbn)
                return store.compact()
            """,
            [f"{FILENAME}:7: store.compact has no repository counterpart (unmapped)"],
        )

    def test_one_line_function_calls_the_provider_in_place(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def load(isbn): return open_store().load_book(isbn)
            """,
            """
            from library.repos import get_book_repo


            def load(isbn): return await get_book_repo().get(isbn)
            """,
        )

    def test_local_name_already_taken_gets_a_suffix(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def pair(isbn, book_repo):
                store = open_store()
                return store.load_book(isbn), book_repo
            """,
            """
            from library.repos import get_book_repo


            def pair(isbn, book_repo):
                book_repo_2 = get_book_repo()
                return await book_repo_2.get(isbn), book_repo
            """,
        )

    # -- aliased access -------------------------------------------------------------------------------

    def test_aliased_factory_and_module_alias(self) -> None:
        self.check(
            """
            import library.storage as st
            from library.storage import open_store as storage


            def title(isbn: str) -> str:
                return st.open_store().load_book(isbn).title


            def tidy() -> int:
                return storage().compact()
            """,
            """
            import library.storage as st
            from library.storage import open_store as storage
            from library.repos import get_book_repo


            def title(isbn: str) -> str:
                return (await get_book_repo().get(isbn)).title


            def tidy() -> int:
                return storage().compact()
            """,
            [f"{FILENAME}:10: storage().compact has no repository counterpart (unmapped)"],
        )

    def test_unused_aliased_factory_import_is_removed(self) -> None:
        self.check(
            """
            from library.storage import open_store as storage


            def title(isbn: str):
                return storage().load_book(isbn)
            """,
            """
            from library.repos import get_book_repo


            def title(isbn: str):
                return await get_book_repo().get(isbn)
            """,
        )

    # -- what the rewritten call looks like -------------------------------------------------------------

    def test_sync_repository_is_not_awaited_even_in_a_lambda(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def by_shelf(books):
                store = open_store()
                return sorted(books, key=lambda book: store.shelf_of(book.isbn))
            """,
            """
            from library.repos import get_shelf_cache


            def by_shelf(books):
                shelf_cache = get_shelf_cache()
                return sorted(books, key=lambda book: shelf_cache.shelf_for(book.isbn))
            """,
        )

    def test_keyword_arguments_are_renamed_and_positional_ones_kept(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def find(text, book):
                store = open_store()
                store.save_book(book, overwrite=False)
                return store.find_books(title=text, limit=3), store.find_books(text, 3)
            """,
            """
            from library.repos import get_book_repo


            def find(text, book):
                book_repo = get_book_repo()
                await book_repo.put(book, replace=False)
                return await book_repo.search(query=text, max_results=3), await book_repo.search(text, 3)
            """,
        )

    def test_await_is_parenthesized_under_attribute_subscript_and_call(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def parts(isbn):
                store = open_store()
                a = store.load_book(isbn).title
                b = store.find_books()[0]
                c = store.load_book(isbn)()
                d = (store.load_book(isbn)).isbn
                return a, b, c, d
            """,
            """
            from library.repos import get_book_repo


            def parts(isbn):
                book_repo = get_book_repo()
                a = (await book_repo.get(isbn)).title
                b = (await book_repo.search())[0]
                c = (await book_repo.get(isbn))()
                d = (await book_repo.get(isbn)).isbn
                return a, b, c, d
            """,
        )

    def test_comments_and_layout_are_kept(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def first(isbns):
                store = open_store()
                # the first one only
                return store.find_books(
                    title=isbns[0],  # what to look for
                    limit=1,
                )  # at most one
            """,
            """
            from library.repos import get_book_repo


            def first(isbns):
                book_repo = get_book_repo()
                # the first one only
                return await book_repo.search(
                    query=isbns[0],  # what to look for
                    max_results=1,
                )  # at most one
            """,
        )

    # -- left as they are, with a warning ---------------------------------------------------------------

    def test_unsafe_and_unmapped_calls_are_left_and_reported(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def unsafe(isbns):
                store = open_store()
                load = store.load_book
                where = store.shelf_of
                later = lambda: store.load_book(isbns[0])
                titles = (store.load_book(i).title for i in store.find_books())
                shelves = (store.shelf_of(i) for i in isbns)
                store.compact()
                return load, where, later, titles, shelves


            BOOTED = open_store().load_book("0")
            """,
            """
            from library.storage import open_store
            from library.repos import get_book_repo, get_shelf_cache


            def unsafe(isbns):
                store = open_store()
                book_repo = get_book_repo()
                shelf_cache = get_shelf_cache()
                load = store.load_book
                where = store.shelf_of
                later = lambda: store.load_book(isbns[0])
                titles = (store.load_book(i).title for i in await book_repo.search())
                shelves = (shelf_cache.shelf_for(i) for i in isbns)
                store.compact()
                return load, where, later, titles, shelves


            BOOTED = open_store().load_book("0")
            """,
            [
                f"{FILENAME}:6: bound_method: store.load_book is used as a value, not called; wrap it: "
                "`async def load_book(*args): return await book_repo.get(*args)`",
                f"{FILENAME}:7: bound_method: store.shelf_of is used as a value, not called; call it explicitly",
                f"{FILENAME}:8: lambda: store.load_book is called in a lambda, which cannot await; "
                "turn the lambda into an `async def` function",
                f"{FILENAME}:9: generator_expression: store.load_book is called in a generator expression; "
                "build a list with `[await ... for ...]` instead",
                f"{FILENAME}:11: store.compact has no repository counterpart (unmapped)",
                f"{FILENAME}:15: module_level: open_store().load_book runs at import time; "
                "move it into a function (an async start-up hook if it must run once)",
            ],
        )


# -- what the codemod tells compute_change ------------------------------------------------------------


def test_outcome_lists_rewritten_unsafe_unmapped_and_awaiting_functions() -> None:
    _, command, _ = rewrite(
        """
        from library.storage import open_store


        class Shelf:
            def __init__(self) -> None:
                self.store = open_store()

            def title(self, isbn):
                def inner():
                    return self.store.load_book(isbn)

                return inner

            def where(self, isbn):
                return self.store.shelf_of(isbn)


        def unsafe(isbns):
            store = open_store()
            store.compact()
            return [lambda: store.load_book(i) for i in isbns]


        VALUE = open_store().find_books()
        """
    )
    outcome = command.outcome
    assert [(c.line, c.method) for c in outcome.rewritten] == [(10, "load_book"), (15, "shelf_of")]
    # Only functions gaining an await seed propagation: the sync shelf cache adds none.
    assert outcome.awaiting_functions == {"Shelf.title.<locals>.inner"}
    assert [(u.line, u.kind, u.function) for u in outcome.unsafe] == [
        (21, "lambda", "unsafe"),
        (24, "module_level", "<module>"),
    ]
    assert all(u.fix for u in outcome.unsafe)
    assert [(c.line, c.method) for c in outcome.unmapped] == [(20, "compact")]


def test_outermost_iterable_of_a_generator_expression_is_awaited() -> None:
    # Python evaluates the first iterable eagerly, in the enclosing (async) function: awaiting is fine there.
    output, command, warnings = rewrite(
        """
        from library.storage import open_store


        async def titles():
            return list(book.title for book in open_store().find_books(limit=2))
        """
    )
    assert "for book in await get_book_repo().search(max_results=2))" in output
    assert not command.outcome.unsafe and not warnings
    compile(output, FILENAME, "exec")


def test_output_of_an_async_function_compiles() -> None:
    output, _, _ = rewrite(
        """
        from library.storage import open_store


        async def title(isbn):
            store = open_store()
            return store.load_book(isbn).title, store.shelf_of(isbn)
        """
    )
    compile(output, FILENAME, "exec")


@pytest.mark.xfail(
    strict=True,
    reason="removing the facade's import also removes the blank line before it, gluing the new import to "
    "the module docstring (LibCST's RemoveImportsVisitor drops the statement's leading_lines)",
)
def test_blank_line_after_the_module_docstring_survives() -> None:
    output, _, _ = rewrite(
        '''
        """Lending."""

        from library.storage import open_store


        def title(isbn):
            return open_store().load_book(isbn)
        '''
    )
    assert output.startswith('"""Lending."""\n\nfrom library.repos import get_book_repo\n')


def test_runs_under_libcst_tool(tmp_path: Path) -> None:
    project = tmp_path / "library"
    shutil.copytree(LIBRARY, project)
    target = project / "library" / "api.py"
    command = [sys.executable, "-m", "libcst.tool", "codemod", "rewrite_facade_calls.RewriteFacadeCallsCommand"]
    command += ["--hide-progress", "--plan", str(project / "migration_plan.yaml"), str(target)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every endpoint of api.py is already async: the codemod alone gives the whole migration.
    assert target.read_text() == (GOLDEN / "library" / "api.py").read_text()
    assert "store.compact has no repository counterpart (unmapped)" in result.stderr


def test_call_in_a_parameter_default_runs_at_import_time() -> None:
    code = """
        from library.storage import open_store


        def lend(isbn, book=open_store().load_book("1")):
            return book
    """
    output, command, warnings = rewrite(code)
    assert output == CodemodTest.make_fixture_data(code)
    assert [(u.kind, u.line) for u in command.outcome.unsafe] == [("module_level", 4)]
    assert len(warnings) == 1


# -- how the code reached the facade decides how it reaches the repository (obtained / received) ---------


def _variant(**changes: dict[str, object]) -> Plan:
    """The library plan with some repository fields changed: ``book={"from_received": "itself"}``."""
    repositories = {
        name: dataclasses.replace(repo, **changes.get(name, {}))  # type: ignore[arg-type]
        for name, repo in PLAN.repositories.items()
    }
    return dataclasses.replace(PLAN, repositories=repositories)


THROUGH_ATTRIBUTES = _variant(
    book={"from_received": "attribute:books"}, shelf={"from_received": "attribute:shelves.cache"}
)
ITSELF = _variant(book={"from_received": "itself"}, shelf={"from_received": "itself"})
NOT_FROM_RECEIVED = _variant(book={"from_received": None}, shelf={"from_received": None})


class TestReachingTheRepository(CodemodTest):
    TRANSFORM = RewriteFacadeCallsCommand

    def check(self, before: str, after: str, plan: Plan, warnings: Sequence[str] = ()) -> None:
        self.assertCodemod(
            before, after, context_override=context(), expected_warnings=list(warnings), plan_object=plan
        )
        expected = CodemodTest.make_fixture_data(after)
        again, _, _ = rewrite(expected, plan)
        self.assertEqual(expected, again)

    # -- received: the injected object stays ----------------------------------------------------------

    def test_typed_and_untyped_parameters_stay_and_reach_through_an_attribute_path(self) -> None:
        self.check(
            """
            from library.storage import Store


            def title(isbn: str, store: Store) -> str:
                return store.load_book(isbn).title


            def shelf(store, isbn):  # untyped: known by its name
                return store.shelf_of(isbn)
            """,
            """
            from library.storage import Store


            def title(isbn: str, store: Store) -> str:
                return (await store.books.get(isbn)).title


            def shelf(store, isbn):  # untyped: known by its name
                return store.shelves.cache.shelf_for(isbn)
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_from_received_itself_calls_the_received_object(self) -> None:
        self.check(
            """
            from library.storage import Store


            async def title(isbn: str, store: Store) -> str:
                return store.load_book(isbn).title
            """,
            """
            from library.storage import Store


            async def title(isbn: str, store: Store) -> str:
                return (await store.get(isbn)).title
            """,
            ITSELF,
        )

    def test_constructor_injection_kept_on_self_stays_received(self) -> None:
        self.check(
            """
            from library.storage import Store, open_store


            class Desk:
                def __init__(self, store: Store | None = None) -> None:
                    self.store = store if store is not None else open_store()

                def title(self, isbn: str) -> str:
                    return self.store.load_book(isbn).title


            class Counter:
                def __init__(self, store) -> None:
                    self._store = store

                def shelf(self, isbn: str):
                    return self._store.shelf_of(isbn)
            """,
            """
            from library.storage import Store, open_store


            class Desk:
                def __init__(self, store: Store | None = None) -> None:
                    self.store = store if store is not None else open_store()

                def title(self, isbn: str) -> str:
                    return (await self.store.books.get(isbn)).title


            class Counter:
                def __init__(self, store) -> None:
                    self._store = store

                def shelf(self, isbn: str):
                    return self._store.shelves.cache.shelf_for(isbn)
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_dataclass_field_stays_received(self) -> None:
        self.check(
            """
            from dataclasses import dataclass

            from library.storage import Store


            @dataclass
            class Loan:
                store: Store
                isbn: str

                def title(self) -> str:
                    return self.store.load_book(self.isbn).title
            """,
            """
            from dataclasses import dataclass

            from library.storage import Store


            @dataclass
            class Loan:
                store: Store
                isbn: str

                def title(self) -> str:
                    return (await self.store.books.get(self.isbn)).title
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_app_state_and_depends_stay_received(self) -> None:
        self.check(
            """
            from fastapi import Depends, Request

            from library.storage import Store, open_store


            async def by_state(request: Request, isbn: str) -> str:
                store = request.app.state.store
                return store.load_book(isbn).title + request.app.state.store.shelf_of(isbn)


            async def by_depends(isbn: str, store: Store = Depends(open_store)) -> str:
                return store.load_book(isbn).title
            """,
            """
            from fastapi import Depends, Request

            from library.storage import Store, open_store


            async def by_state(request: Request, isbn: str) -> str:
                store = request.app.state.store
                return (await store.books.get(isbn)).title + request.app.state.store.shelves.cache.shelf_for(isbn)


            async def by_depends(isbn: str, store: Store = Depends(open_store)) -> str:
                return (await store.books.get(isbn)).title
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_received_facade_without_from_received_is_a_blocker_naming_the_plan_entry(self) -> None:
        code = """
            from library.storage import Store


            class Desk:
                def __init__(self, store: Store) -> None:
                    self.store = store

                def title(self, isbn: str) -> str:
                    return self.store.load_book(isbn).title
            """
        self.check(
            code,
            code,
            NOT_FROM_RECEIVED,
            [
                f"{FILENAME}:9: received_facade: self.store.load_book is called on a facade the code receives "
                "(`self.store`); the plan gives no way to reach repository 'book' from it; "
                "add `repositories.book.from_received` to the plan (itself | attribute:<path> | depends)"
            ],
        )

    def test_from_received_depends_outside_an_endpoint_is_a_blocker(self) -> None:
        code = """
            from library.storage import Store


            def title(isbn: str, store: Store) -> str:
                return store.load_book(isbn).title
            """
        self.check(
            code,
            code,
            PLAN,  # the library plan says `depends`
            [
                f"{FILENAME}:5: received_facade: store.load_book: `repositories.book.from_received: depends` "
                "threads a dependency through FastAPI endpoints only, and this facade is received otherwise "
                "(`store`); set `repositories.book.from_received` to `itself` or `attribute:<path>`"
            ],
        )

    def test_obtained_facade_whose_repository_has_no_provider_is_a_blocker(self) -> None:
        code = """
            from library.storage import open_store


            def title(isbn: str) -> str:
                return open_store().load_book(isbn).title
            """
        self.check(
            code,
            code,
            _variant(book={"provider": None, "from_received": "itself"}),
            [
                f"{FILENAME}:5: obtained_facade: open_store().load_book obtains the facade (`open_store()`), and "
                "repository 'book' has no provider; add `repositories.book.provider` to the plan "
                "(or pass the facade in and set `repositories.book.from_received`)"
            ],
        )

    # -- obtained: the repository is obtained where the facade was --------------------------------------

    def test_local_is_created_inside_the_same_try_after_the_same_guards(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def lend(isbn: str | None):
                if not isbn:
                    return None
                try:
                    store = open_store()
                    return store.load_book(isbn)
                except KeyError:
                    return None
                finally:
                    print("done")
            """,
            """
            from library.repos import get_book_repo


            def lend(isbn: str | None):
                if not isbn:
                    return None
                try:
                    book_repo = get_book_repo()
                    return await book_repo.get(isbn)
                except KeyError:
                    return None
                finally:
                    print("done")
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_each_branch_that_obtains_the_facade_obtains_the_repository(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def pick(isbn: str, fresh: bool):
                if fresh:
                    store = open_store()
                else:
                    if not isbn:
                        raise ValueError(isbn)
                    store = open_store()
                return store.load_book(isbn)
            """,
            # (two assignments of the facade local: it stays, as unused as it is harmless)
            """
            from library.storage import open_store
            from library.repos import get_book_repo


            def pick(isbn: str, fresh: bool):
                if fresh:
                    store = open_store()
                    book_repo = get_book_repo()
                else:
                    if not isbn:
                        raise ValueError(isbn)
                    store = open_store()
                    book_repo = get_book_repo()
                return await book_repo.get(isbn)
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_inline_factory_call_after_a_guard_is_replaced_in_place(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def title(isbn: str):
                if not isbn:
                    return None
                elif open_store().load_book(isbn) is None:
                    return "?"
                return open_store().shelf_of(isbn)
            """,
            """
            from library.repos import get_book_repo, get_shelf_cache


            def title(isbn: str):
                if not isbn:
                    return None
                elif await get_book_repo().get(isbn) is None:
                    return "?"
                return get_shelf_cache().shelf_for(isbn)
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_a_local_never_shadows_the_provider_it_calls(self) -> None:
        # attribute name == provider name: ``get_book_repo = get_book_repo()`` would be an unbound local
        self.check(
            """
            from library.storage import open_store


            def title(isbn: str):
                store = open_store()
                return store.load_book(isbn)
            """,
            """
            from library.repos import get_book_repo


            def title(isbn: str):
                get_book_repo_2 = get_book_repo()
                return await get_book_repo_2.get(isbn)
            """,
            _variant(book={"attribute": "get_book_repo"}),
        )

    def test_provider_name_taken_in_the_module_is_imported_under_an_alias(self) -> None:
        self.check(
            """
            from library.storage import open_store


            def get_book_repo():  # the module's own, unrelated
                return None


            def title(isbn: str):
                return open_store().load_book(isbn)


            def other(shelf):
                return shelf.get_shelf_cache(), open_store().shelf_of("1")  # another object's attribute
            """,
            """
            from library.repos import get_book_repo as _get_book_repo, get_shelf_cache


            def get_book_repo():  # the module's own, unrelated
                return None


            def title(isbn: str):
                return await _get_book_repo().get(isbn)


            def other(shelf):
                return shelf.get_shelf_cache(), get_shelf_cache().shelf_for("1")  # another object's attribute
            """,
            THROUGH_ATTRIBUTES,
        )

    def test_a_module_variable_obtained_at_import_calls_the_provider_in_place(self) -> None:
        self.check(
            """
            from library.storage import open_store

            store = open_store()


            def title(isbn: str):
                if isbn:
                    return store.load_book(isbn)
                return None
            """,
            """
            from library.storage import open_store
            from library.repos import get_book_repo

            store = open_store()


            def title(isbn: str):
                if isbn:
                    return await get_book_repo().get(isbn)
                return None
            """,
            THROUGH_ATTRIBUTES,
        )

    # -- receiver_names never above a visible binding (item 6) ------------------------------------------

    def test_a_listed_name_bound_to_something_else_is_not_the_facade(self) -> None:
        code = """
            from unittest.mock import MagicMock

            from library.gateway import Gateway


            def lookup(isbn: str):
                store = MagicMock(spec=Gateway)
                return store.load_book(isbn)


            def shelf(store: Gateway, isbn: str):
                return store.shelf_of(isbn)


            class Desk:
                def __init__(self) -> None:
                    self.store = Gateway()

                def title(self, isbn: str):
                    return self.store.load_book(isbn)
            """
        self.check(code, code, ITSELF)

    def test_self_attribute_obtained_in_init_gets_its_repository_in_the_same_block(self) -> None:
        self.check(
            """
            from library.storage import open_store


            class Desk:
                def __init__(self, offline: bool) -> None:
                    self.store = None
                    if offline:
                        return
                    try:
                        self.store = open_store()
                    except OSError:
                        self.store = open_store()

                def title(self, isbn: str):
                    return self.store.load_book(isbn)
            """,
            """
            from library.storage import open_store
            from library.repos import get_book_repo


            class Desk:
                def __init__(self, offline: bool) -> None:
                    self.store = None
                    if offline:
                        return
                    try:
                        self.store = open_store()
                        self.book_repo = get_book_repo()
                    except OSError:
                        self.store = open_store()
                        self.book_repo = get_book_repo()

                def title(self, isbn: str):
                    return await self.book_repo.get(isbn)
            """,
            THROUGH_ATTRIBUTES,
        )
