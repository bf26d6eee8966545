"""First comments in the item model and in planning: which posts get one, its key, its UTM
parameters, and that items without one keep their content hash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.config.loading import load_config
from syndicate.intake.planning import PlanOptions, plan_item
from syndicate.model.config import Config
from syndicate.model.item import InvalidItem, parse_item
from syndicate.model.states import PublicationState
from tests.helpers import item_data, sandbox_accounts, simple_route

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def config(config_dir: Callable[..., Path]) -> Callable[..., Config]:
    def build(**route: Any) -> Config:
        accounts = {**sandbox_accounts("box"),
                    "x-na": {"adapter": "x", "credentials": {"consumer_key": "${K}", "consumer_secret": "${S}",
                                                             "access_token": "${T}", "access_token_secret": "${U}"},
                             "options": {"username": "example"}},
                    "li": {"adapter": "linkedin", "credentials": {"access_token": "${L}"},
                           "options": {"author": "urn:li:organization:1"}}}
        return load_config(config_dir(accounts=accounts, routes=[simple_route("na", ["en-US", "en-GB"],
                                                                              ["box", "x-na", "li"], **route)]),
                           check_secrets=False)

    return build


def test_each_post_on_a_channel_with_comments_gets_its_comment_right_after_it(config: Callable[..., Config]) -> None:
    plan = plan_item(parse_item(item_data(first_comment="More: https://example.com/post")), config(),
                     PlanOptions(now=NOW))
    keys = [p.key("item-1", 1) for p in plan]
    # Then X and LinkedIn posts are each followed by their comment; the sandbox (no comments) has none
    assert keys == ["item-1/1/en-US/box/0", "item-1/1/en-US/x-na/0", "item-1/1/en-US/x-na/0/first-comment",
                    "item-1/1/en-US/li/0", "item-1/1/en-US/li/0/first-comment",
                    "item-1/1/en-GB/box/0", "item-1/1/en-GB/x-na/0", "item-1/1/en-GB/x-na/0/first-comment",
                    "item-1/1/en-GB/li/0", "item-1/1/en-GB/li/0/first-comment"]
    post, comment = plan[1], plan[2]
    assert comment.post_key("item-1", 1) == post.key("item-1", 1) and comment.is_comment and not post.is_comment
    # And the comment has its own utm_content, the post's followed by .comment; the rest is the post's
    assert comment.utm == {**post.utm, "utm_content": "item-1.r1.en-US.x-na.0.comment"}
    assert "utm_content=item-1.r1.en-US.x-na.0.comment" in comment.tagged_url
    assert comment.scheduled_for == post.scheduled_for


def test_no_comment_without_text_unless_the_route_moves_the_link(config: Callable[..., Config]) -> None:
    item = parse_item(item_data())
    assert not any(p.is_comment for p in plan_item(item, config(), PlanOptions(now=NOW)))
    linked = plan_item(item, config(first_comment="link"), PlanOptions(now=NOW))
    assert sorted(p.account for p in linked if p.is_comment) == ["li", "li", "x-na", "x-na"]


def test_a_route_can_turn_comments_off(config: Callable[..., Config]) -> None:
    item = parse_item(item_data(first_comment="More below"))
    assert not any(p.is_comment for p in plan_item(item, config(first_comment="off"), PlanOptions(now=NOW)))


def test_a_route_refuses_an_unknown_first_comment_mode(config_dir: Callable[..., Path]) -> None:
    from syndicate.errors import ConfigError

    with pytest.raises(ConfigError, match="first_comment"):
        load_config(config_dir(routes=[simple_route("na", ["en-US"], ["sandbox-a"], first_comment="links")]),
                    check_secrets=False)


def test_the_comment_of_a_skipped_post_is_skipped_with_the_same_reason(config: Callable[..., Config]) -> None:
    # Given a route that takes only items with a buying stage, and an item without one
    item = parse_item(item_data(first_comment="More below"))
    plan = plan_item(item, config(require_stage=True), PlanOptions(now=NOW))
    posts = {p.post_key("item-1", 1): p for p in plan if not p.is_comment}
    comments = [p for p in plan if p.is_comment]
    assert comments and all(p.state is PublicationState.SKIPPED for p in comments)
    assert all(p.reason == posts[p.post_key("item-1", 1)].reason and p.reason for p in comments)


def test_first_comment_follows_the_text_rules_and_its_limit() -> None:
    with pytest.raises(InvalidItem, match="first_comment: is 1,251 characters, more than the limit of 1,250"):
        parse_item(item_data(first_comment="x" * 1251))
    with pytest.raises(InvalidItem, match="first_comment"):
        parse_item(item_data(first_comment="   "))
    with pytest.raises(InvalidItem, match=r"overrides\.locales\.de-DE\.first_comment"):
        parse_item(item_data(overrides={"locales": {"de-DE": {"first_comment": "x" * 1251}}}))


def test_items_without_a_first_comment_keep_their_content_hash() -> None:
    # The hash tells a re-submission from an edit: adding the field must not turn stored items into edits.
    item = parse_item(item_data(overrides={"locales": {"de-DE": {"title": "Ein Titel"}}}))
    data = item.model_dump(mode="json")
    data.pop("first_comment")
    data["overrides"]["locales"]["de-DE"].pop("first_comment")
    import hashlib
    import json

    before = hashlib.sha256(json.dumps(
        {k: v for k, v in data.items() if k != "never_tag" or v}, sort_keys=True, ensure_ascii=False
    ).encode("utf-8")).hexdigest()
    assert item.content_hash() == before
    assert parse_item(item_data(first_comment="More")).content_hash() != item.content_hash()
