"""Buying stages: an item without one goes to every route unless the route requires a stage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.intake.planning import PlanOptions, plan_item
from syndicate.model.config import Config
from syndicate.model.item import parse_item
from tests.helpers import item_data, sandbox_accounts, simple_route

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
ALL_STAGES = ["awareness", "consideration", "decision"]


@pytest.fixture
def config(config_dir: Callable[..., Path]) -> Callable[..., Config]:
    def build(routes: list[dict[str, Any]]) -> Config:
        return load_config(config_dir(accounts=sandbox_accounts("a", "b"), routes=routes), check_secrets=False)

    return build


def test_an_item_without_a_stage_goes_to_a_route_that_lists_all_three(config: Callable[..., Config]) -> None:
    # Given a route listing every stage and an item that never heard of stages
    cfg = config([simple_route("r", ["en-US"], ["a"], buying_stages=ALL_STAGES)])
    [pub] = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    # Then it is planned, not skipped
    assert (pub.state, pub.reason) == ("scheduled", None)


def test_an_item_without_a_stage_goes_to_a_route_that_lists_only_some(config: Callable[..., Config]) -> None:
    # Given a route for the awareness stage only
    cfg = config([simple_route("r", ["en-US"], ["a"], buying_stages=["awareness"])])
    [pub] = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    # Then a stage-less item still goes there
    assert pub.state == "scheduled"


def test_a_route_that_requires_a_stage_skips_an_item_without_one_saying_why(config: Callable[..., Config]) -> None:
    # Given one route that requires a stage and one that does not
    cfg = config([simple_route("strict", ["en-US"], ["a"], buying_stages=["decision"], require_stage=True),
                  simple_route("open", ["en-GB"], ["b"], buying_stages=["decision"])])
    plan = {p.account: p for p in plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))}
    # Then the strict route records a skip with its reason and the other one publishes
    assert plan["a"].state == "skipped"
    assert plan["a"].reason == "route 'strict' requires buying stages decision; the item has none"
    assert plan["b"].state == "scheduled"


def test_require_stage_without_a_list_takes_any_stage_but_not_none(config: Callable[..., Config]) -> None:
    cfg = config([simple_route("r", ["en-US"], ["a"], require_stage=True)])
    [with_stage] = plan_item(parse_item(item_data(buying_stage="consideration")), cfg, PlanOptions(now=NOW))
    [without] = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    assert with_stage.state == "scheduled"
    assert (without.state, without.reason) == ("skipped", "route 'r' requires a buying stage; the item has none")


def test_an_item_with_a_stage_the_route_does_not_list_is_still_skipped(config: Callable[..., Config]) -> None:
    cfg = config([simple_route("r", ["en-US"], ["a"], buying_stages=["awareness"])])
    [pub] = plan_item(parse_item(item_data(buying_stage="decision")), cfg, PlanOptions(now=NOW))
    assert pub.state == "skipped"
    assert pub.reason == "route 'r' accepts buying stages awareness; the item's is decision"


def test_require_stage_must_be_true_or_false(config_dir: Callable[..., Path]) -> None:
    cfg = config_dir(accounts=sandbox_accounts("a"), routes=[simple_route("r", ["en-US"], ["a"], require_stage="yes")])
    with pytest.raises(ConfigError) as err:
        load_config(cfg, check_secrets=False)
    assert [p.field for p in err.value.problems] == ["require_stage"]
