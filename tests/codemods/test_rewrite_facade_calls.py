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
from collections.abc import Callable, Sequence
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, CodemodTest

from asyncmigrate.codemods.replay_rewrites import ReplayRewritesCommand
from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand
from asyncmigrate.config.plan import Plan, load_plan
from asyncmigrate.migration.edits import ATTRIBUTE, CallRewrite, FileEdits, NodeRef

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
    """The codemod's output, the command (for its ``outcome``) and the warnings.

    These cases are about the rewrite itself, so calls in plain defs are awaited as ``apply`` awaits them
    once the propagation has made those defs async (``await_in_sync_def``); run alone, the codemod leaves
    them (``tests/test_edit_plan.py``)."""
    ctx = context()
    command = RewriteFacadeCallsCommand(ctx, plan_object=plan, await_in_sync_def=True)
    output = command.transform_module(cst.parse_module(CodemodTest.make_fixture_data(code))).code
    return output, command, list(ctx.warnings)


def replayed(code: str, plan: Plan, make_context: Callable[[], CodemodContext]) -> tuple[str, str, FileEdits]:
    """What the codemod writes, and what replaying the records of a recording run (through the edit plan's
    JSON) writes with no plan and no analysis, on the same text."""
    tree = cst.parse_module(CodemodTest.make_fixture_data(code))
    written = RewriteFacadeCallsCommand(make_context(), plan_object=plan, await_in_sync_def=True)
    recorded = written.transform_module(tree).code
    command = RewriteFacadeCallsCommand(make_context(), plan_object=plan, await_in_sync_def=True, record=True)
    command.transform_module(tree)
    edits = FileEdits(FILENAME, "0" * 64)
    for call, replacement in command.recorded.replacements:
        node = NodeRef(call.line, call.column, ATTRIBUTE, call.method)
        rewrite = CallRewrite(node, call.function, call.receiver, call.method, call.target or "", False)
        edits.rewrites.append(dataclasses.replace(rewrite, replace=(replacement,)))
    edits.statements = command.recorded.statements
    edits.parameters = command.recorded.parameters
    edits.imports = command.recorded.imports
    edits = FileEdits.from_json(edits.to_json())
    replay = ReplayRewritesCommand(make_context(), edits)
    output = replay.transform_module(tree).code
    assert replay.missing() == []
    return recorded, output, edits


class TestRewriteFacadeCalls(CodemodTest):
    TRANSFORM = RewriteFacadeCallsCommand

    def check(self, before: str, after: str, warnings: Sequence[str] = ()) -> None:
        self.assertCodemod(
            before,
            after,
            context_override=context(),
            expected_warnings=list(warnings),
            plan_object=PLAN,
            await_in_sync_def=True,
        )
        # Idempotent: what the codemod wrote goes through it again unchanged.
        expected = CodemodTest.make_fixture_data(after)
        again, _, _ = rewrite(expected)
        self.assertEqual(expected, again)
        # The recorded decision, replayed as an edit plan replays it, writes the same.
        self.assertEqual(replayed(before, PLAN, context)[1:2], (expected,))

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

    def test_a_comment_after_the_depends_parameter_is_kept_once(self) -> None:
        """The facade parameter becomes two; the comment after it must not be written after each."""
        self.check(
            """
            from fastapi import Depends

            from library.storage import Store, open_store


            async def titles(
                text: str,
                store: Store = Depends(open_store),  # injected by the app
                # the limit of results
                limit: int = 3,
            ) -> list[str | None]:
                return [b.title for b in store.find_books(text, limit)] + [store.shelf_of(text)]
            """,
            """
            from fastapi import Depends

            from library.repos import BookRepo, ShelfCache, get_book_repo, get_shelf_cache


            async def titles(
                text: str,
                book_repo: BookRepo = Depends(get_book_repo),  # injected by the app
                shelf_cache: ShelfCache = Depends(get_shelf_cache),
                # the limit of results
                limit: int = 3,
            ) -> list[str | None]:
                return [b.title for b in await book_repo.search(text, limit)] + [shelf_cache.shelf_for(text)]
            """,
        )

    def test_a_last_depends_parameter_with_a_comment_gives_new_parameters_its_indentation(self) -> None:
        """After the last parameter the comma's whitespace leads to the closing parenthesis, indented less:
        a new parameter's line starts as the replaced parameter's did."""
        self.check(
            """
            from fastapi import Depends

            from library.storage import Store, open_store


            async def shelve(
                isbn: str,
                store: Store = Depends(open_store),  # the last one
            ):
                return store.shelf_of(isbn), store.load_book(isbn)
            """,
            """
            from fastapi import Depends

            from library.repos import BookRepo, ShelfCache, get_book_repo, get_shelf_cache


            async def shelve(
                isbn: str,
                book_repo: BookRepo = Depends(get_book_repo),  # the last one
                shelf_cache: ShelfCache = Depends(get_shelf_cache),
            ):
                return shelf_cache.shelf_for(isbn), await book_repo.get(isbn)
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
                f"{FILENAME}:6: bound_method: store.load_book is used as a value, not called (kept in `load`, "
                "used out of sight at line 12); wrap it: "
                "`async def load_book(*args): return await book_repo.get(*args)`",
                f"{FILENAME}:7: bound_method: store.shelf_of is used as a value, not called (kept in `where`, "
                "used out of sight at line 12); call it explicitly",
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


# -- every form a facade call takes in async code, and the mappings real APIs need ---------------------
# Against the plan of ``tests/assets/forge``: facade ``forge.vault.open_vault()`` / ``Vault`` (with async
# twins ``fetch_blueprint_async`` and ``label_async``); ``blueprints`` (async), ``items`` (async, but
# ``label`` sync: ``awaitable: false`` on the mapping) and ``benches`` (sync). ``forge_item`` packs
# ``owner``/``size`` into ``forge.specs.ItemSpec``; ``move_item`` reorders to ``relocate(bench, item_id,
# audit=True)``; ``items_owned`` goes through the adapter ``forge.adapters.count_owned``.

FORGE = ROOT / "tests" / "assets" / "forge"
FORGE_PLAN: Plan = load_plan(FORGE / "migration_plan.yaml")
FORGE_FILE = "forge/example.py"


def forge_context() -> CodemodContext:
    return CodemodContext(filename=str(FORGE / FORGE_FILE), full_module_name="forge.example", full_package_name="forge")


def forge_rewrite(code: str, plan: Plan = FORGE_PLAN) -> tuple[str, RewriteFacadeCallsCommand, list[str]]:
    """The codemod's output, command and warnings under ``plan`` (the forge plan, or an edited copy)."""
    ctx = CodemodContext(
        filename=str(plan.root / FORGE_FILE), full_module_name="forge.example", full_package_name="forge"
    )
    command = RewriteFacadeCallsCommand(ctx, plan_object=plan, await_in_sync_def=True)
    output = command.transform_module(cst.parse_module(CodemodTest.make_fixture_data(code))).code
    return output, command, list(ctx.warnings)


class TestCallForms(CodemodTest):
    TRANSFORM = RewriteFacadeCallsCommand

    def check(self, before: str, after: str, warnings: Sequence[str] = ()) -> None:
        self.assertCodemod(
            before,
            after,
            context_override=forge_context(),
            expected_warnings=list(warnings),
            plan_object=FORGE_PLAN,
            await_in_sync_def=True,
        )
        expected = CodemodTest.make_fixture_data(after)
        again, _, _ = forge_rewrite(expected)
        self.assertEqual(expected, again)
        self.assertEqual(replayed(before, FORGE_PLAN, forge_context)[1:2], (expected,))

    # -- async twins: exactly one await, none for a sync target ---------------------------------------

    def test_awaited_async_twin_keeps_its_one_await(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            async def size(kind):
                vault = open_vault()
                return (await vault.fetch_blueprint_async(kind)).size
            """,
            """
            from forge.repos import get_blueprint_repo


            async def size(kind):
                blueprints = get_blueprint_repo()
                return (await blueprints.get(kind)).size
            """,
        )

    def test_async_twin_handed_to_gather_stays_unawaited(self) -> None:
        self.check(
            """
            import asyncio

            from forge.vault import open_vault


            async def both(a, b):
                vault = open_vault()
                return await asyncio.gather(vault.fetch_blueprint_async(a), vault.fetch_blueprint_async(b))
            """,
            """
            import asyncio

            from forge.repos import get_blueprint_repo


            async def both(a, b):
                blueprints = get_blueprint_repo()
                return await asyncio.gather(blueprints.get(a), blueprints.get(b))
            """,
        )

    def test_async_twin_onto_a_sync_method_loses_its_await(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            async def tags(ids):
                vault = open_vault()
                first = await vault.label_async(ids[0])
                return [first, (await vault.label_async(ids[1])).upper()]
            """,
            """
            from forge.repos import get_item_repo


            async def tags(ids):
                items = get_item_repo()
                first = items.label(ids[0])
                return [first, (items.label(ids[1])).upper()]
            """,
        )

    def test_per_method_awaitable_false_on_an_async_repository(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            def names(ids):
                vault = open_vault()
                return [vault.label_async] and None
            """,
            """
            from forge.vault import open_vault


            def names(ids):
                vault = open_vault()
                return [vault.label_async] and None
            """,
            [f"{FORGE_FILE}:6: bound_method: vault.label_async is used as a value, not called; call it explicitly"],
        )

    # -- thread hops: the hop existed only because the call was sync ----------------------------------

    def test_to_thread_with_positional_and_keyword_arguments(self) -> None:
        self.check(
            """
            import asyncio

            from forge.vault import open_vault


            async def craft(kind, owner):
                vault = open_vault()
                blueprint = await asyncio.to_thread(vault.fetch_blueprint, kind)
                return await asyncio.to_thread(vault.forge_item, kind, owner=owner, size=blueprint.size)
            """,
            """
            from forge.repos import get_blueprint_repo, get_item_repo
            from forge.specs import ItemSpec


            async def craft(kind, owner):
                blueprints = get_blueprint_repo()
                items = get_item_repo()
                blueprint = await blueprints.get(kind)
                return await items.create(kind, ItemSpec(owner=owner, size=blueprint.size))
            """,
        )

    def test_run_in_executor_and_partial_forms(self) -> None:
        self.check(
            """
            import asyncio
            import functools
            from functools import partial

            from forge.vault import open_vault


            async def moves(item_id, bench):
                loop = asyncio.get_running_loop()
                vault = open_vault()
                await loop.run_in_executor(None, vault.move_item, item_id, bench)
                await loop.run_in_executor(None, functools.partial(vault.move_item, item_id), bench)
                await asyncio.to_thread(partial(vault.move_item, item_id, bench=bench))
                return await asyncio.to_thread(partial(vault.fetch_blueprint), "sword")
            """,
            """
            from forge.repos import get_blueprint_repo, get_item_repo


            async def moves(item_id, bench):
                blueprints = get_blueprint_repo()
                items = get_item_repo()
                await items.relocate(bench, item_id, audit=True)
                await items.relocate(bench, item_id, audit=True)
                await items.relocate(bench, item_id, audit=True)
                return await blueprints.get("sword")
            """,
        )

    def test_a_loop_local_read_by_anything_else_than_the_hops_stays(self) -> None:
        """``loop`` goes with the hops only when they were its only readers, and only when it holds
        ``asyncio.get_running_loop()`` (``get_event_loop()`` may make a loop: not ours to drop)."""
        self.check(
            """
            import asyncio

            from forge.vault import open_vault


            async def moves(item_id, bench):
                loop = asyncio.get_running_loop()
                vault = open_vault()
                await loop.run_in_executor(None, vault.move_item, item_id, bench)
                loop.call_soon(print)


            async def elsewhere(item_id, bench):
                loop = asyncio.get_event_loop()
                vault = open_vault()
                await loop.run_in_executor(None, vault.move_item, item_id, bench)
            """,
            """
            import asyncio

            from forge.repos import get_item_repo


            async def moves(item_id, bench):
                loop = asyncio.get_running_loop()
                items = get_item_repo()
                await items.relocate(bench, item_id, audit=True)
                loop.call_soon(print)


            async def elsewhere(item_id, bench):
                loop = asyncio.get_event_loop()
                items = get_item_repo()
                await items.relocate(bench, item_id, audit=True)
            """,
        )

    def test_thread_hop_onto_a_sync_repository_is_a_plain_call(self) -> None:
        self.check(
            """
            import asyncio

            from forge.vault import open_vault


            async def where(item_id):
                vault = open_vault()
                return await asyncio.to_thread(vault.bench_of, item_id)
            """,
            """
            from forge.repos import get_bench_map


            async def where(item_id):
                benches = get_bench_map()
                return benches.bench_for(item_id)
            """,
        )

    def test_thread_hop_handed_to_create_task_stays_a_coroutine(self) -> None:
        self.check(
            """
            import asyncio

            from forge.vault import open_vault


            async def later(kind):
                vault = open_vault()
                task = asyncio.create_task(asyncio.to_thread(vault.fetch_blueprint, kind))
                return await task
            """,
            """
            import asyncio

            from forge.repos import get_blueprint_repo


            async def later(kind):
                blueprints = get_blueprint_repo()
                task = asyncio.create_task(blueprints.get(kind))
                return await task
            """,
        )

    # -- bound methods: rewritten where the call is in sight ------------------------------------------

    def test_bound_method_called_in_the_same_function(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            def kinds(names):
                vault = open_vault()
                fetch = vault.fetch_blueprint
                first = fetch(names[0])
                return [first, fetch(names[1])]
            """,
            """
            from forge.repos import get_blueprint_repo


            def kinds(names):
                blueprints = get_blueprint_repo()
                first = await blueprints.get(names[0])
                return [first, await blueprints.get(names[1])]
            """,
        )

    def test_bound_method_used_out_of_sight_is_a_blocker(self) -> None:
        code = """
            from forge.vault import open_vault


            def hooks(register):
                vault = open_vault()
                fetch = vault.fetch_blueprint
                fetch("sword")
                register(fetch)
        """
        self.check(
            code,
            code,
            [
                f"{FORGE_FILE}:6: bound_method: vault.fetch_blueprint is used as a value, not called (kept in "
                "`fetch`, used out of sight at line 8); wrap it: "
                "`async def fetch_blueprint(*args): return await blueprints.get(*args)`"
            ],
        )

    def test_bound_method_called_in_a_lambda_is_a_blocker(self) -> None:
        code = """
            from forge.vault import open_vault


            def later():
                vault = open_vault()
                fetch = vault.fetch_blueprint
                fetch("axe")  # in sight, but the lambda's call blocks them all: nothing changes
                return lambda: fetch("sword")
        """
        self.check(
            code,
            code,
            [
                f"{FORGE_FILE}:6: lambda: vault.fetch_blueprint is called in a lambda, which cannot await; "
                "turn the lambda into an `async def` function"
            ],
        )

    def test_getattr_with_a_literal_name_called_in_sight(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            async def kinds(names):
                vault = open_vault()
                first = getattr(vault, "fetch_blueprint")(names[0])
                fetch = getattr(vault, "fetch_blueprint")
                return [first, fetch(names[1])]
            """,
            """
            from forge.repos import get_blueprint_repo


            async def kinds(names):
                blueprints = get_blueprint_repo()
                first = await blueprints.get(names[0])
                return [first, await blueprints.get(names[1])]
            """,
        )

    def test_getattr_handed_away_is_a_blocker(self) -> None:
        code = """
            from forge.vault import open_vault


            def hooks(register):
                vault = open_vault()
                register(getattr(vault, "fetch_blueprint"))
        """
        self.check(
            code,
            code,
            [
                f"{FORGE_FILE}:6: bound_method: vault.fetch_blueprint is used as a value, not called; wrap it: "
                "`async def fetch_blueprint(*args): return await blueprints.get(*args)`"
            ],
        )

    def test_getattr_with_a_name_known_at_run_time_is_a_blocker(self) -> None:
        # which facade method it reaches is known only when it runs: nothing to rewrite it to
        code = """
            from forge.vault import Vault, open_vault


            def lookup(what, kind):
                return getattr(open_vault(), what)(kind)


            def unrelated(thing, what):
                return getattr(thing, what)
        """
        self.check(
            code,
            code,
            [
                f"{FORGE_FILE}:5: dynamic_getattr: getattr(open_vault(), ...) picks a facade method by a name known "
                "only at run time; call the facade method by name (getattr with a string literal), or map it by hand"
            ],
        )

    # -- mock configuration is no call site -----------------------------------------------------------

    def test_mock_configuration_is_left_alone_without_a_warning(self) -> None:
        code = """
            from unittest.mock import MagicMock

            from forge.vault import Vault


            def configured(vault: Vault):
                vault.fetch_blueprint.return_value = None
                vault.bench_of.side_effect = KeyError
                vault.fetch_blueprint.assert_called_once_with("x")
                vault.move_item.reset_mock()
                return vault.forge_item.call_args, vault.forge_item.called
        """
        self.check(code, code)

    # -- argument mappings --------------------------------------------------------------------------

    def test_reordered_positional_arguments_and_a_constant(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            async def moves(i, b):
                vault = open_vault()
                vault.move_item(i, b)
                vault.move_item(bench=b, item_id=i)
                vault.move_item(i, bench=b)
            """,
            """
            from forge.repos import get_item_repo


            async def moves(i, b):
                items = get_item_repo()
                await items.relocate(b, i, audit=True)
                await items.relocate(b, i, audit=True)
                await items.relocate(b, i, audit=True)
            """,
        )

    def test_keyword_and_positional_arguments_packed_into_a_parameter_object(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            async def make(kind, who):
                vault = open_vault()
                a = vault.forge_item(kind, who, 2)
                b = vault.forge_item(kind, size=3)
                return a, b, vault.forge_item(kind=kind)
            """,
            """
            from forge.repos import get_item_repo
            from forge.specs import ItemSpec


            async def make(kind, who):
                items = get_item_repo()
                a = await items.create(kind, ItemSpec(owner=who, size=2))
                b = await items.create(kind, ItemSpec(size=3))
                return a, b, await items.create(kind, ItemSpec())
            """,
        )

    def test_adapter_receives_the_repository_first(self) -> None:
        self.check(
            """
            from forge.vault import open_vault


            async def count(owner):
                return open_vault().items_owned(owner) + open_vault().items_owned(owner=owner)
            """,
            """
            from forge.adapters import count_owned
            from forge.repos import get_item_repo


            async def count(owner):
                return await count_owned(get_item_repo(), owner) + await count_owned(get_item_repo(), owner=owner)
            """,
        )


# -- a rewrite that does not fit the code is a blocker, never written ---------------------------------


def _forge_plan(tmp_path: Path, old: str, new: str, file: str = "migration_plan.yaml") -> Plan:
    """The forge plan on a copy of the project, with one piece of ``file`` replaced."""
    project = tmp_path / "forge"
    shutil.copytree(FORGE, project)
    edited = project / file
    text = edited.read_text()
    assert old in text, old
    edited.write_text(text.replace(old, new, 1))
    return load_plan(project / "migration_plan.yaml")


def _blocked(plan: Plan, code: str) -> tuple[str, list[tuple[int, str, str]]]:
    output, command, warnings = forge_rewrite(code, plan)
    assert output == CodemodTest.make_fixture_data(code), "a blocked call must stay as it was"
    assert len(warnings) == len(command.outcome.unsafe)
    return output, [(u.line, u.kind, u.message) for u in command.outcome.unsafe]


MOVE = "  move_item:                                      # move_item(i, b) -> relocate(b, i, audit=True)\n"


@pytest.mark.parametrize(
    ("old", "new", "code", "expected"),
    [
        pytest.param(
            "  fetch_blueprint: blueprint.get\n",
            "  fetch_blueprint: {target: blueprint.get, args: {kind: name}}\n",
            "async def f(vault: Vault):\n    return await asyncio.to_thread(vault.fetch_blueprint, kind='x')\n",
            "vault.fetch_blueprint as fetch_blueprint(self, kind: str) does not fit get(self, kind: str): "
            "unknown keyword 'name'",
            id="unknown-keyword",
        ),
        pytest.param(
            "    constants: {audit: true}\n",
            "",
            "async def f(vault: Vault):\n    vault.move_item(1, 'anvil')\n",
            "vault.move_item as move_item(self, item_id: int, bench: str) does not fit "
            "relocate(self, bench: str, item_id: int, *, audit: bool): missing required argument 'audit'",
            id="missing-required",
        ),
        pytest.param(
            "",
            "",
            "async def f(vault: Vault):\n    vault.fetch_blueprint('sword', 'axe')\n",
            "does not fit get(self, kind: str): too many positional arguments (2, it takes 1)",
            id="too-many-positionals",
        ),
        pytest.param(
            "  fetch_blueprint: blueprint.get\n",
            "  fetch_blueprint: {target: blueprint.get, args: {kind: kind}, constants: {kind: sword}}\n",
            "async def f(vault: Vault):\n    vault.fetch_blueprint('sword')\n",
            "'kind' is given twice",
            id="given-twice",
        ),
    ],
)
def test_signature_mismatch_is_a_blocker_naming_both_signatures(
    tmp_path: Path, old: str, new: str, code: str, expected: str
) -> None:
    plan = _forge_plan(tmp_path, old, new)
    source = "import asyncio\n\nfrom forge.vault import Vault\n\n\n" + code
    _, unsafe = _blocked(plan, source)
    assert [(line, kind) for line, kind, _ in unsafe] == [(7, "signature_mismatch")]
    assert expected in unsafe[0][2]


@pytest.mark.parametrize(
    ("old", "new", "code", "kind", "expected"),
    [
        pytest.param(
            "adapter: forge.adapters.count_owned",
            "adapter: forge.adapters.count_all",
            "async def f(vault: Vault):\n    return vault.items_owned('ada')\n",
            "missing_target",
            "the adapter forge.adapters.count_all of mappings.items_owned is not defined in the tree",
            id="missing-adapter",
        ),
        pytest.param(
            "adapter: forge.adapters.count_owned}",
            "adapter: forge.adapters.count_owned, awaitable: false}",
            "async def f(vault: Vault):\n    return vault.items_owned('ada')\n",
            "signature_mismatch",
            "the adapter forge.adapters.count_owned is an async def, but the plan says awaitable: false",
            id="adapter-awaitable-mismatch",
        ),
        pytest.param(
            "  label_async: {target: item.label, awaitable: false}",
            "  label_async: {target: item.label}",
            "async def f(vault: Vault):\n    return await vault.label_async(1)\n",
            "signature_mismatch",
            "item.label is a plain def, but the plan says awaitable: true",
            id="awaited-target-is-a-plain-def",
        ),
        pytest.param(
            "  bench_of: bench.bench_for",
            "  bench_of: {target: item.owned_by, awaitable: false}",
            "async def f(vault: Vault):\n    return vault.bench_of('ada')\n",
            "signature_mismatch",
            "item.owned_by is an async def, but the plan says awaitable: false",
            id="unawaited-target-is-an-async-def",
        ),
        pytest.param(
            "class: forge.specs.ItemSpec",
            "class: forge.specs.ItemParams",
            "async def f(vault: Vault):\n    return vault.forge_item('sword', owner='ada')\n",
            "missing_parameter_class",
            "the parameter class forge.specs.ItemParams (mappings.forge_item) is not in the tree",
            id="missing-parameter-class",
        ),
        pytest.param(
            "fields: [owner, size]",
            "fields: {owner: owner, size: weight}",
            "async def f(vault: Vault):\n    return vault.forge_item('sword', size=2)\n",
            "signature_mismatch",
            "does not fit create(self, kind: str, spec: ItemSpec): ItemSpec(owner, size): unknown keyword 'weight'",
            id="parameter-class-field",
        ),
        pytest.param(
            "  fetch_blueprint: blueprint.get\n",
            "  fetch_blueprint: blueprint.fetch\n",
            "async def f(vault: Vault):\n    return vault.fetch_blueprint('sword')\n",
            "missing_target",
            "forge.repos.BlueprintRepo has no method fetch (mappings.fetch_blueprint)",
            id="missing-target-method",
        ),
        pytest.param(
            "",
            "",
            "async def f(vault: Vault, args):\n    return vault.move_item(*args)\n",
            "argument_mapping",
            "vault.move_item cannot be rewritten to item.relocate: the call passes `*…`, which cannot be bound to "
            "move_item(self, item_id: int, bench: str)",
            id="star-arguments-under-reordering",
        ),
        pytest.param(
            "",
            "",
            "async def f(vault: Vault):\n    return [vault.label_async(1)]\n",
            "awaitable_expected",
            "vault.label_async gives an awaitable that is used as a value, but item.label is not awaited",
            id="unawaited-twin-onto-a-sync-method",
        ),
    ],
)
def test_mapping_that_does_not_fit_the_tree_is_a_blocker(
    tmp_path: Path, old: str, new: str, code: str, kind: str, expected: str
) -> None:
    plan = _forge_plan(tmp_path, old, new)
    source = "import asyncio\n\nfrom forge.vault import Vault\n\n\n" + code
    _, unsafe = _blocked(plan, source)
    assert [(line, k) for line, k, _ in unsafe] == [(7, kind)]
    assert expected in unsafe[0][2], unsafe[0][2]


def test_facade_method_missing_from_the_tree_cannot_be_reshaped(tmp_path: Path) -> None:
    plan = _forge_plan(tmp_path, "    def move_item(", "    def _move_item(", "forge/vault.py")
    _, unsafe = _blocked(
        plan, "from forge.vault import Vault\n\n\nasync def f(vault: Vault):\n    vault.move_item(1, 'a')\n"
    )
    assert [(line, kind) for line, kind, _ in unsafe] == [(5, "argument_mapping")]
    assert "the facade method move_item is not defined in the tree" in unsafe[0][2]


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
            before,
            after,
            context_override=context(),
            expected_warnings=list(warnings),
            plan_object=plan,
            await_in_sync_def=True,
        )
        expected = CodemodTest.make_fixture_data(after)
        again, _, _ = rewrite(expected, plan)
        self.assertEqual(expected, again)
        self.assertEqual(replayed(before, plan, context)[1:2], (expected,))

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


# -- the recorded decision replays byte for byte, whatever the layout ---------------------------------

_LAYOUTS = (
    # a comment in the arguments, a continuation line indented less than its block, one with none
    "from library.storage import open_store\n\n\n"
    "def lend(isbn: str) -> None:\n"
    "    store = open_store()\n"
    "    if isbn:\n"
    "        book = store.load_book(  # the book\n"
    "            isbn,\n"
    "  )\n"
    "        store.save_book(book,\n"
    "overwrite=True)\n",
    # tabs, nested blocks, an awaited call under an attribute
    "from library.storage import open_store\n\n\n"
    "class Desk:\n"
    "\tdef shelve(self, isbn):\n"
    "\t\tfor _ in range(2):\n"
    "\t\t\topen_store().save_book(\n"
    "\t\t\t\tisbn, overwrite=False)\n"
    "\t\treturn open_store().load_book(\n"
    "\t\t\tisbn).title\n",
    # a Depends parameter laid out anew over several lines, a comment after it, a sync repository
    "from fastapi import Depends\n\nfrom library.storage import Store, open_store\n\n\n"
    "class Api:\n"
    "    async def titles(self,\n"
    "        text: str, store: Store = Depends(open_store),  # injected\n"
    "            limit: int = 3):\n"
    "        return (store.find_books(text,\n"
    "    limit), store.shelf_of(text))\n",
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("code", _LAYOUTS, ids=["continuations", "tabs", "depends"])
def test_the_replayed_records_write_what_the_codemod_writes(code: str, newline: str) -> None:
    code = code.replace("\n", newline)
    recorded, output, edits = replayed(code, PLAN, context)
    assert output == recorded != code
    assert edits.rewrites and edits.imports
    assert all(r.replace[0].text in output for r in edits.rewrites)  # each text is the file's, continuations too
