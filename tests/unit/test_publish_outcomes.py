"""The outcomes of the publish and reconcile steps and the metric's outcome labels are one list."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

import pytest
from prometheus_client import REGISTRY

from syndicate.base.metrics import PUBLISH_OUTCOMES, PublishOutcome, observe_publication
from tests.helpers import REPO

STEPS = REPO / "syndicate" / "publishing" / "steps.py"


def _returned_strings(node: ast.AST) -> set[str]:
    """String constants a ``return`` value can be: itself, a tuple's first element, either branch."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple) and node.elts:
        return _returned_strings(node.elts[0])
    if isinstance(node, ast.IfExp):
        return _returned_strings(node.body) | _returned_strings(node.orelse)
    return set()


def _step_outcomes() -> set[str]:
    found: set[str] = set()
    for fn in ast.walk(ast.parse(STEPS.read_text(encoding="utf-8"))):
        if isinstance(fn, ast.FunctionDef) and fn.returns is not None and "PublishOutcome" in ast.unparse(fn.returns):
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    found |= _returned_strings(node.value)
    return found


def test_every_outcome_a_step_returns_is_one_the_metric_knows() -> None:
    # Given every string the publish and reconcile steps return as their outcome
    returned = _step_outcomes()
    # Then the shared list holds each (the drift this list once had: held, early, skipped)
    assert returned and returned <= PUBLISH_OUTCOMES, sorted(returned - PUBLISH_OUTCOMES)
    assert {"held", "early", "skipped"} <= returned
    # And the metric's list is the Literal the steps are typed with, not a copy
    assert frozenset(get_args(PublishOutcome)) == PUBLISH_OUTCOMES


@pytest.mark.parametrize("outcome", sorted(PUBLISH_OUTCOMES))
def test_each_outcome_is_counted_under_its_own_label_never_as_other(outcome: PublishOutcome) -> None:
    channel = f"unit-outcome-{outcome}"
    observe_publication(outcome, None if outcome.startswith("not-") else _Pub(channel))
    label = "unknown" if outcome.startswith("not-") else channel
    assert (REGISTRY.get_sample_value("syndicate_publish_outcomes_total", {"channel": label, "outcome": outcome})
            or 0) >= 1
    assert REGISTRY.get_sample_value("syndicate_publish_outcomes_total", {"channel": label, "outcome": "other"}) \
        is None


@dataclass(frozen=True)
class _Pub:
    channel: str
    published_at: datetime | None = None
    scheduled_for: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    planned_for: datetime = datetime(2026, 1, 1, tzinfo=UTC)
