"""Planning: publish_at, windows, stagger, minimum gap, evergreen slots, buying stage and expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syndicate.config.loading import load_config
from syndicate.intake.planning import PlanOptions, evergreen_text, plan_item
from syndicate.model.config import Config
from syndicate.model.item import InvalidItem, parse_item
from tests.helpers import item_data, sandbox_accounts, simple_route

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def config(config_dir: Callable[..., Path]) -> Callable[..., Config]:
    def build(routes: list[dict[str, Any]], accounts: tuple[str, ...] = ("a", "b", "c")) -> Config:
        return load_config(config_dir(accounts=sandbox_accounts(*accounts), routes=routes), check_secrets=False)

    return build


def times(plan: list[Any]) -> dict[tuple[str, str, int], datetime]:
    return {(p.locale, p.account, p.slot): p.scheduled_for for p in plan}


def test_publish_at_in_the_future_is_the_planned_time(config: Callable[..., Config]) -> None:
    # Given an item to publish at 10:15 UTC and a route without windows
    cfg = config([simple_route("r", ["en-US"], ["a"])])
    item = parse_item(item_data(publish_at="2026-06-01T10:15:00Z"))
    # When it is planned at 06:00 / Then it goes at 10:15
    [pub] = plan_item(item, cfg, PlanOptions(now=NOW))
    assert pub.scheduled_for == datetime(2026, 6, 1, 10, 15, tzinfo=UTC)


def test_publish_at_in_the_past_means_now(config: Callable[..., Config]) -> None:
    cfg = config([simple_route("r", ["en-US"], ["a"])])
    item = parse_item(item_data(publish_at="2026-05-01T10:15:00Z"))
    [pub] = plan_item(item, cfg, PlanOptions(now=NOW))
    assert pub.scheduled_for == NOW


def test_a_naive_publish_at_is_refused_at_intake() -> None:
    # Given publish_at without an offset / Then the item is refused, naming the field
    with pytest.raises(InvalidItem, match="publish_at"):
        parse_item(item_data(publish_at="2026-06-01T10:15:00"))


def test_planning_needs_an_aware_now(config: Callable[..., Config]) -> None:
    cfg = config([simple_route("r", ["en-US"], ["a"])])
    with pytest.raises(ValueError, match="aware"):
        plan_item(parse_item(item_data()), cfg, PlanOptions(now=datetime(2026, 6, 1, 6, 0)))


def test_windows_are_read_in_the_route_time_zone(config: Callable[..., Config]) -> None:
    # Given a Berlin route posting 09:00–17:00 on weekdays, planned at 08:00 Berlin time on a Monday
    cfg = config([simple_route("dach", ["de-DE"], ["a"], timezone="Europe/Berlin",
                               windows=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00",
                                         "end": "17:00"}])])
    [pub] = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    # Then the post waits for 09:00 local (07:00 UTC in summer)
    assert pub.scheduled_for == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert pub.scheduled_for.astimezone(BERLIN).hour == 9


def test_stagger_spreads_one_item_over_its_accounts_and_locales(config: Callable[..., Config]) -> None:
    # Given a route with two locales, three accounts and a two-minute stagger
    cfg = config([simple_route("r", ["en-US", "en-GB"], ["a", "b", "c"], stagger="2m")])
    plan = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    # Then no two publications of the item go out in the same second: two minutes apart, in order
    got = sorted(p.scheduled_for for p in plan)
    assert got == [NOW + timedelta(minutes=2 * i) for i in range(6)]
    assert times(plan)[("en-US", "a", 0)] == NOW and times(plan)[("en-US", "b", 0)] == NOW + timedelta(minutes=2)


def test_stagger_applies_after_the_window_opens(config: Callable[..., Config]) -> None:
    # Given a window that opens at 09:00 Berlin time and a five-minute stagger over three accounts
    cfg = config([simple_route("dach", ["de-DE"], ["a", "b", "c"], timezone="Europe/Berlin", stagger="5m",
                               windows=[{"start": "09:00", "end": "17:00"}])])
    plan = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    # Then the posts go 09:00, 09:05, 09:10 local, not all at the opening
    assert [p.scheduled_for.astimezone(BERLIN).strftime("%H:%M") for p in plan] == ["09:00", "09:05", "09:10"]


def test_min_gap_keeps_clear_of_posts_already_in_the_ledger(config: Callable[..., Config]) -> None:
    # Given account "a" already has posts at 06:00 and 06:50 (other items), and a 30-minute gap
    cfg = config([simple_route("r", ["en-US"], ["a", "b"], min_gap="30m")])
    taken = {"a": [NOW, NOW + timedelta(minutes=50)]}
    plan = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW, taken=taken))
    # Then "a" gets the first time 30 minutes clear of both (07:20); "b" is free and goes now
    assert times(plan) == {("en-US", "a", 0): NOW + timedelta(minutes=80), ("en-US", "b", 0): NOW}


def test_min_gap_separates_one_item_s_locales_on_the_same_account(config: Callable[..., Config]) -> None:
    # Given two locales on one account and a one-hour gap
    cfg = config([simple_route("r", ["en-US", "en-GB"], ["a"], min_gap="1h")])
    plan = plan_item(parse_item(item_data()), cfg, PlanOptions(now=NOW))
    # Then the second locale's post goes an hour after the first
    assert times(plan) == {("en-US", "a", 0): NOW, ("en-GB", "a", 0): NOW + timedelta(hours=1)}


def test_min_gap_stays_inside_the_windows(config: Callable[..., Config]) -> None:
    # Given a post at 16:30 Berlin time and a one-hour gap with a 09:00–17:00 window
    cfg = config([simple_route("dach", ["de-DE"], ["a"], timezone="Europe/Berlin", min_gap="1h",
                               windows=[{"start": "09:00", "end": "17:00"}])])
    taken = {"a": [datetime(2026, 6, 1, 16, 30, tzinfo=BERLIN)]}
    item = parse_item(item_data(publish_at="2026-06-01T16:00:00+02:00"))
    [pub] = plan_item(item, cfg, PlanOptions(now=NOW, taken=taken))
    # Then it goes at the next opening, 09:00 the next day
    assert pub.scheduled_for == datetime(2026, 6, 2, 9, 0, tzinfo=BERLIN).astimezone(UTC)


def test_ignore_schedule_plans_everything_now(config: Callable[..., Config]) -> None:
    cfg = config([simple_route("r", ["en-US", "en-GB"], ["a", "b"], stagger="2m", min_gap="1h",
                               windows=[{"days": ["sun"], "start": "09:00", "end": "10:00"}])])
    item = parse_item(item_data(publish_at="2026-07-01T10:00:00Z"))
    plan = plan_item(item, cfg, PlanOptions(now=NOW, ignore_schedule=True, taken={"a": [NOW]}))
    assert {p.scheduled_for for p in plan} == {NOW}


def test_evergreen_slots_follow_the_interval_and_count_with_their_own_utm_content(
    config: Callable[..., Config]
) -> None:
    # Given an item repeated every 2 days, 2 more times
    cfg = config([simple_route("r", ["en-US"], ["a"])])
    item = parse_item(item_data(repeat={"interval": "2d", "count": 2}))
    plan = plan_item(item, cfg, PlanOptions(now=NOW))
    # Then it has three slots two days apart, each with its own utm_content
    assert [p.scheduled_for for p in plan] == [NOW, NOW + timedelta(days=2), NOW + timedelta(days=4)]
    assert [p.utm["utm_content"] for p in plan] == [f"item-1.r1.en-US.a.{i}" for i in range(3)]
    assert len({p.tagged_url for p in plan}) == 3


def test_evergreen_slots_stop_at_until_and_before_expiry(config: Callable[..., Config]) -> None:
    cfg = config([simple_route("r", ["en-US"], ["a"])])
    until = parse_item(item_data(repeat={"interval": "1d", "until": "2026-06-04T00:00:00Z"}))
    assert len(plan_item(until, cfg, PlanOptions(now=NOW))) == 3  # 1st, 2nd, 3rd June at 06:00
    expiring = parse_item(item_data(repeat={"interval": "1d", "count": 10}, expires_at="2026-06-03T12:00:00Z"))
    assert len(plan_item(expiring, cfg, PlanOptions(now=NOW))) == 3


def test_evergreen_slots_keep_the_gap_and_the_windows(config: Callable[..., Config]) -> None:
    # Given daily repeats that would land on a Saturday, with a weekday-only window
    cfg = config([simple_route("r", ["en-US"], ["a"], windows=[
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "end": "18:00"}])])
    item = parse_item(item_data(publish_at="2026-06-05T07:00:00Z", repeat={"interval": "1d", "count": 1}))
    plan = plan_item(item, cfg, PlanOptions(now=NOW))
    # Then Friday's post goes on Friday and the repeat waits for Monday 06:00
    assert [p.scheduled_for for p in plan] == [datetime(2026, 6, 5, 7, 0, tzinfo=UTC),
                                               datetime(2026, 6, 8, 6, 0, tzinfo=UTC)]


def test_a_route_that_does_not_accept_the_buying_stage_skips_with_the_reason(config: Callable[..., Config]) -> None:
    # Given a route for awareness only and another for any stage
    cfg = config([simple_route("top", ["en-US"], ["a"], buying_stages=["awareness"]),
                  simple_route("any", ["en-GB"], ["b"])])
    plan = plan_item(parse_item(item_data(buying_stage="decision")), cfg, PlanOptions(now=NOW))
    by_account = {p.account: p for p in plan}
    # Then the awareness route's publication is skipped, saying why; the other is scheduled
    assert by_account["a"].state == "skipped"
    assert by_account["a"].reason is not None
    assert "awareness" in by_account["a"].reason and "decision" in by_account["a"].reason
    assert by_account["b"].state == "scheduled"


def test_a_publication_that_would_go_out_after_expiry_is_skipped(config: Callable[..., Config]) -> None:
    # Given a window that opens at 09:00 Berlin and an item expiring at 08:30 Berlin
    cfg = config([simple_route("dach", ["de-DE"], ["a"], timezone="Europe/Berlin",
                               windows=[{"start": "09:00", "end": "17:00"}])])
    item = parse_item(item_data(expires_at="2026-06-01T08:30:00+02:00"))
    [pub] = plan_item(item, cfg, PlanOptions(now=NOW))
    # Then it is skipped with the time it would have gone out
    assert pub.state == "skipped"
    assert pub.reason is not None and "expires" in pub.reason and "07:00" in pub.reason


def _lead(item_kw: dict[str, Any], locale: str, slot: int, channel_text: str | None = None) -> str:
    item = parse_item(item_data(**item_kw))
    fields = {"title": f"T[{locale}]", "summary": f"S[{locale}]"}
    text, variant = evergreen_text(item, fields, locale, slot, channel_text)
    return variant or text or "<usual>"


def test_evergreen_variants_come_first_then_the_usual_post_never_twice_in_a_row() -> None:
    # Given one variant / Then the variant, then phrasings of the fields, then the usual post again
    kw = {"repeat": {"interval": "1d", "count": 6, "variants": ["Still worth a read."]}}
    assert [_lead(kw, "en-US", s) for s in range(6)] == [
        "<usual>", "Still worth a read.", "S[en-US]", "T[en-US]", "S[en-US]\n\nT[en-US]", "<usual>"]


def test_evergreen_without_variants_rotates_localized_summary_and_title() -> None:
    kw = {"repeat": {"interval": "1d", "count": 5}}
    assert [_lead(kw, "de-DE", s) for s in range(5)] == [
        "<usual>", "S[de-DE]", "T[de-DE]", "S[de-DE]\n\nT[de-DE]", "<usual>"]


def test_evergreen_variants_in_the_source_language_are_not_posted_in_another_language() -> None:
    # Given English variants / When the German publication repeats / Then German fields are rotated instead
    kw = {"repeat": {"interval": "1d", "count": 2, "variants": ["Still worth a read."]}}
    assert _lead(kw, "de-DE", 1) == "S[de-DE]"
    assert _lead(kw, "en-GB", 1) == "Still worth a read."


def test_evergreen_rotation_starts_from_a_hand_written_channel_text() -> None:
    # Given a hand-written text for the channel / Then it is the usual post and the others follow it
    kw = {"repeat": {"interval": "1d", "count": 3}}
    assert [_lead(kw, "en-US", s, channel_text="Hand-written") for s in range(5)] == [
        "Hand-written", "S[en-US]", "T[en-US]", "S[en-US]\n\nT[en-US]", "Hand-written"]


def test_evergreen_slots_never_repeat_the_previous_text_even_when_fields_coincide() -> None:
    # Given a summary equal to the title (the pool shrinks) / Then consecutive slots still differ
    item = parse_item(item_data(title="Same", summary="Same", repeat={"interval": "1d", "count": 9}))
    leads = [evergreen_text(item, {"title": "Same", "summary": "Same"}, "en-US", s, None) for s in range(10)]
    assert all(leads[i] != leads[i + 1] for i in range(9))
