"""The covering subset the README's test command reads holds every kind of syntax its corpus holds."""

from __future__ import annotations

from tests.corpus import CORPUS, corpus_params, covering_subset, syntax_kinds


def test_the_subset_holds_every_kind_and_leaves_out_the_redundant() -> None:
    files = [
        ("calls.py", b"f(x)\n"),
        ("also_calls.py", b"g(y)\n"),  # the same kinds as calls.py
        ("loops.py", b"f(x)\nfor i in x:\n    f(i)\n"),  # calls.py's kinds and more
        ("await.py", b"async def h():\n    await f()\n"),
        ("broken.py", b"def (:\n"),  # ast cannot read it: always read
    ]
    chosen = covering_subset(files)
    assert chosen == {"loops.py", "await.py", "broken.py"}
    held = set().union(*(syntax_kinds(data) or set() for name, data in files if name in chosen))
    assert held == set().union(*(syntax_kinds(data) or set() for _, data in files))


def test_the_files_left_out_carry_the_corpus_mark() -> None:
    files = [("a.py", b"f(x)\n"), ("b.py", b"f(y)\n")]
    params = corpus_params(files, lambda file: file[0], lambda file: file[1], values=lambda file: file)
    assert [(p.id, [m.name for m in p.marks]) for p in params] == [("a.py", []), ("b.py", [CORPUS.name])]
    assert params[0].values == ("a.py", b"f(x)\n")


def test_a_property_test_runs_a_third_of_its_examples_in_the_quick_tier() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from tests.corpus import property_tiers

    drawn: list[int] = []

    @property_tiers(30, database=None)
    @given(st.integers())
    def test_numbers(number: int) -> None:
        drawn.append(number)

    tiers = test_numbers.pytestmark[0]  # type: ignore[attr-defined]
    assert [(p.id, p.values, [m.name for m in p.marks]) for p in tiers.args[1]] == [
        ("quick", (10,), []),
        ("thorough", (30,), [CORPUS.name]),
    ]
    test_numbers(10)
    assert 1 <= len(drawn) <= 10 and test_numbers.__name__ == "test_numbers"
