"""A target's call rewrites as the scan's analysis predicts them, in place of the rewrite codemod's probe.

``compute_change`` must know, before anything is edited, which facade calls of a target will be
rewritten and which functions will then hold an ``await``: those functions seed the propagation. The
rewrite codemod answers that by planning every call on the target's LibCST tree (a *probe*: scope
analysis and two walks of the whole file), and answers it again, authoritatively, when it decides and
records the rewrites on the tree the propagation leaves. The prediction here reads the scan's call
sites instead (``parse_file``: ``ast``, the same call sites as the LibCST collector, field for field,
as ``tests/test_ast_collector.py`` holds it): a call whose method has a mapping is rewritten, one without
is unmapped, and its function awaits when the mapping's target is awaited and the call did not already
give an awaitable (awaited, handed to a thread hop, or an async method of the facade).

What the prediction cannot see is what the codemod refuses (a call in a lambda or a generator
expression, a received facade with no ``from_received``, arguments that do not fit the target...).
So a prediction is only taken once the decision confirms it (``confirmed_by``): the same call sites
rewritten and unmapped, in order, none refused, the same functions awaiting. On any difference the
change is computed again with the probe, and is then exactly what it was without the prediction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import parse_file
from asyncmigrate.analysis.signatures import SignatureIndex
from asyncmigrate.config.plan import Plan
from asyncmigrate.types import MODULE_LEVEL, CallSite


@dataclass(frozen=True)
class PredictedRewrites:
    """One target's facade calls split as the rewrite will split them, and the functions that will await."""

    rewritten: tuple[CallSite, ...]
    unmapped: tuple[CallSite, ...]
    awaiting: frozenset[str]  # qualnames

    def confirmed_by(
        self,
        rewritten: Sequence[CallSite],
        unmapped: Sequence[CallSite],
        awaiting: Collection[str],
        refused: int,
    ) -> bool:
        """Does the codemod's decision, made on the tree the propagation leaves, say the same? Positions
        are not compared (the propagation moved them), nor whether the function is async (it is now)."""
        return (
            refused == 0
            and _placeless(rewritten) == _placeless(self.rewritten)
            and _placeless(unmapped) == _placeless(self.unmapped)
            and set(awaiting) == self.awaiting
        )


def predict_rewrites(plan: Plan, path: str, data: bytes) -> PredictedRewrites | None:
    """The prediction for the target at ``path`` (root-relative) with content ``data``; None where the
    probe must answer: a file that does not parse, a call the codemod certainly refuses (at module level,
    or awaited in a lambda: their blockers are the probe's to word), or no call to rewrite (the decision,
    which confirms a prediction, would not run)."""
    spec = FacadeSpec.from_plan(plan)
    parsed = parse_file(path, data, spec)
    if parsed.error is not None:
        return None
    rewritten: list[CallSite] = []
    unmapped: list[CallSite] = []
    awaiting: set[str] = set()
    signatures = SignatureIndex(spec.layout)
    for call in parsed.calls:
        if call.function == MODULE_LEVEL:
            return None
        if call.method not in plan.mappings:
            unmapped.append(call)
            continue
        rewritten.append(call)
        hopped = call.wrapper is not None
        facade_method = signatures.first_method(plan.facade.classes, call.method)  # as the codemod reads it
        gives_awaitable = call.awaited or hopped or bool(facade_method and facade_method.is_async)
        if plan.awaits(call.method) and not gives_awaitable:
            if call.in_lambda and not call.is_reference:
                return None  # a lambda cannot await: refused, so the probe answers (and words the blocker)
            awaiting.add(call.function)
    if not rewritten:
        return None
    return PredictedRewrites(tuple(rewritten), tuple(unmapped), frozenset(awaiting))


def _placeless(calls: Sequence[CallSite]) -> list[CallSite]:
    return [dataclasses.replace(call, line=0, column=0, function_is_async=False) for call in calls]
