"""The template fuzzer's runtime oracle on a fixed set of programs (``scripts/fuzz_compute_change.py`` runs
it for minutes). A program either ends blocked with nothing written, or migrated and behaving exactly as
before with no coroutine left un-awaited."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzzing import FAULTS, TEMPLATES, check_program, describe, generate, run_program, write_project

# Enough seeds that every template appears, alone and mixed with others (checked below).
SEEDS = range(40)


def test_the_seeds_cover_every_template() -> None:
    used = {name for seed in SEEDS for name in generate(seed).templates}
    assert used == {template.__name__.lstrip("_") for template in TEMPLATES}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_generated_program_is_blocked_or_migrated_faithfully(seed: int, tmp_path: Path) -> None:
    program = generate(seed)
    outcome = check_program(program, tmp_path)
    assert outcome.kind not in FAULTS, describe(program, outcome)


def test_the_oracle_sees_an_unawaited_coroutine(tmp_path: Path) -> None:
    """The oracle itself can fail: a hand-broken migration (an ``await`` dropped) is caught."""
    program = generate(0)
    write_project(tmp_path, program)
    (tmp_path / "fz" / "app.py").write_text(
        "from fz.repos import get_item_repo\n\n\nasync def read_0(key):\n    return await get_item_repo().get(key)\n"
    )
    (tmp_path / "fz" / "callers.py").write_text(
        "from fz import app\n\n\nasync def entry():\n    return [app.read_0(1) is not None]\n"
    )
    run = run_program(tmp_path)
    assert "never awaited" in run.stderr
