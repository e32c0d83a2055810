"""The change computed from predicted rewrites is the change computed with the rewrite codemod's probe.

``compute_change`` predicts a target's rewrites from the scan's analysis and has the codemod's decision
confirm them (``asyncmigrate.migration.predicted_rewrites``); any difference sends it back to the
probe. The probe is the oracle: on every planned file of the bundled server and of every fixture,
and on the template fuzzer's generated programs, the two give the same change — every edit, blocker,
rewritten and unmapped call, function made async, test related and edit plan step.
"""

from __future__ import annotations

import contextlib
import functools
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest

from asyncmigrate.analysis.callgraph import Project
from asyncmigrate.config.plan import load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.migration.predicted_rewrites import predict_rewrites
from asyncmigrate.workflow import apply
from asyncmigrate.workflow.apply import ComputedChange, _compute_change, _compute_change_with, _Mispredicted
from tests.corpus import CORPUS
from tests.fuzzing import TARGET, generate, write_project

REPO = Path(__file__).parents[1]
PLANS = [REPO / "migration_plan.yaml", *sorted((REPO / "tests" / "assets").glob("*/migration_plan.yaml"))]


def _targets() -> list[tuple[Path, str]]:
    found = []
    for plan_path in PLANS:
        plan = load_plan(plan_path)
        found.extend((plan_path, entry.path) for entry in plan.entries() if (plan.root / entry.path).is_file())
    return found


TARGETS = _targets()


def _state(change: ComputedChange) -> dict[str, Any]:
    return {
        "summary": change.to_json(),
        "rewritten": change.rewritten,
        "unmapped": change.unmapped,
        "edits": [(e.path, e.before, e.after) for e in change.edits],
        "related_tests": change.related_tests,
        "step": change.step.to_json(),
    }


@functools.cache
def _project(plan_path: Path) -> Project:
    """A fixture's call graph, built once per process (a ``tmp_path`` copy is a new path each time)."""
    return apply.load_project(load_plan(plan_path), use_cache=False)


def _computed(plan_path: Path, target: str, *, predicting: bool) -> dict[str, Any] | str:
    """The change with predictions (``_compute_change``), or probed."""
    plan = load_plan(plan_path)
    project = _project(plan_path)
    sources = {target: (plan.root / target).read_bytes()}
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            if predicting:
                return _state(_compute_change(plan, [target], project, sources))
            return _state(_compute_change_with(plan, [target], project, sources, {}))
    except AsyncMigrateError as error:
        return f"refused: {error}"


def _taken(plan_path: Path, target: str) -> bool:
    """Is the target's change computed from its prediction (predicted, and the decision confirms it)?"""
    plan = load_plan(plan_path)
    data = (plan.root / target).read_bytes()
    guess = predict_rewrites(plan, target, data)
    if guess is None:
        return False
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            _compute_change_with(plan, [target], _project(plan_path), {target: data}, {target: guess})
    except (_Mispredicted, AsyncMigrateError):
        return False
    return True


# Every fixture's targets, and one in eight of the bundled server's, in the README's test command; the
# server's others in CI's corpus step (each is a whole change computed twice).
@pytest.mark.parametrize(
    ("plan_path", "target"),
    [
        pytest.param(
            plan_path,
            target,
            id=f"{plan_path.parent.name}:{target}",
            marks=(CORPUS,) if plan_path == PLANS[0] and index % 8 else (),
        )
        for index, (plan_path, target) in enumerate(TARGETS)
    ],
)
def test_the_predicted_change_is_the_probed_change(plan_path: Path, target: str) -> None:
    assert _computed(plan_path, target, predicting=True) == _computed(plan_path, target, predicting=False)


def test_the_prediction_is_taken_on_most_of_the_bundled_server() -> None:
    """The equality above is not the fallback's alone: most of the server's targets are predicted, and
    the decision confirms the prediction."""
    server = [target for plan_path, target in TARGETS if plan_path == PLANS[0]][::6]
    taken = [target for target in server if _taken(PLANS[0], target)]
    assert len(taken) >= len(server) * 3 // 4


@pytest.mark.parametrize(
    "refused",
    [
        "def later(db: Database):\n    return lambda: db.fetch_user(1)\n",  # a lambda cannot await
        "def peek(db: Database):\n    return sum(db.fetch_user(i).user_id for i in (1, 2))\n",  # nor a genexp
        "def hold(db: Database):\n    fetch = db.fetch_user\n    return [fetch]\n",  # a bound method as a value
    ],
)
def test_a_call_the_codemod_refuses_is_not_taken_from_the_prediction(shop: Path, refused: str) -> None:
    """The prediction sees the call as rewritable; the decision refuses it: the change is the probe's,
    with the blocker the probe words."""
    service = shop / "shop" / "service.py"
    service.write_text(service.read_text() + "\n\n" + refused)
    plan_path = shop / "migration_plan.yaml"
    assert not _taken(plan_path, "shop/service.py")
    predicted = _computed(plan_path, "shop/service.py", predicting=True)
    assert predicted == _computed(plan_path, "shop/service.py", predicting=False)
    assert isinstance(predicted, dict) and predicted["summary"]["blockers"]


def test_what_the_codemod_certainly_refuses_is_not_predicted(shop: Path) -> None:
    """A call awaited in a lambda, or one at module level, goes to the probe without a first try."""
    plan = load_plan(shop / "migration_plan.yaml")
    service = (shop / "shop" / "service.py").read_bytes()
    assert predict_rewrites(plan, "shop/service.py", service) is not None
    in_lambda = service + b"\n\ndef later(db: Database):\n    return lambda: db.fetch_user(1)\n"
    assert predict_rewrites(plan, "shop/service.py", in_lambda) is None
    at_import = service + b"\n\nFIRST = get_db().fetch_user(1)\n"
    assert predict_rewrites(plan, "shop/service.py", at_import) is None


@pytest.mark.parametrize("seed", range(0, 40, 5))
def test_generated_programs_change_alike_predicted_and_probed(seed: int) -> None:
    program = generate(seed)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_project(root, program)
        plan_path = root / "migration_plan.yaml"
        predicted = _computed(plan_path, TARGET, predicting=True)
        assert predicted == _computed(plan_path, TARGET, predicting=False)
