"""``syndicate unpublish`` and ``POST /v1/items/{id}/unpublish``, on sandbox accounts (whose posts
are files in the outbox): the posts are removed once, the rest is cancelled, a repeat is a no-op."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from syndicate import Runtime, submit
from syndicate.cli import main
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from syndicate.publishing.unpublish import do_unpublish
from tests.helpers import item_data, sandbox_accounts, simple_route
from tests.integration.test_api import ApiServer, api, api_config, post, rt  # noqa: F401 - fixtures


def publish_all(runtime: Runtime, item_id: str = "item-1", revision: int = 1, locale: str = "en-US") -> None:
    runtime.ledger.mark_localizations_requested(item_id, revision)
    do_localize(runtime, item_id, revision, locale)
    for pub in runtime.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test"):
        do_publish(runtime, pub.id)


def outbox_files(outbox: Path) -> list[Path]:
    return sorted(p for p in outbox.rglob("*.txt"))


def test_the_api_unpublishes_an_item_once_and_says_when_there_is_nothing_to_do(
    api: ApiServer, rt: Runtime, outbox: Path  # noqa: F811
) -> None:
    # Given an item published on two sandbox accounts
    post(api, "/v1/items", item_data(locales=["en-US"]))
    publish_all(rt)
    assert len(outbox_files(outbox)) == 2
    # When it is unpublished through the API, the deletes run, and it is unpublished again
    first = post(api, "/v1/items/item-1/unpublish")
    for op in first.json()["deleting"]:
        assert do_unpublish(rt, op["operation"]) == "done"
    second = post(api, "/v1/items/item-1/unpublish")
    unknown = post(api, "/v1/items/nothing-here/unpublish")
    bad_account = post(api, "/v1/items/item-1/unpublish", {"account": "zz"})
    # Then the first call asked for one delete per post (202), the posts are gone, and the repeat
    # made no call and says so (200)
    assert first.status_code == 202, first.text
    assert sorted(op["account"] for op in first.json()["deleting"]) == ["a1", "a2"]
    assert outbox_files(outbox) == []
    assert second.status_code == 200 and second.json()["deleting"] == []
    assert len(second.json()["already_unpublished"]) == 2 and "nothing to do" in second.json()["note"]
    assert unknown.status_code == 404 and bad_account.status_code == 422
    # And the publications read as unpublished
    pubs = api_get(api, "/v1/items/item-1/publications")["publications"]
    assert {p["state"] for p in pubs} == {"unpublished"}


def api_get(api: ApiServer, path: str) -> dict[str, object]:  # noqa: F811
    import requests

    from tests.integration.test_api import TOKEN
    got: dict[str, object] = requests.get(api.url + path, headers={"Authorization": f"Bearer {TOKEN}"},
                                          timeout=10).json()
    return got


def test_cli_unpublish_removes_the_posts_cancels_the_rest_and_a_repeat_is_a_no_op(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given an item published on one account and still scheduled on another (a later window)
    cfg = config_dir(accounts=sandbox_accounts("a", "b"), routes=[simple_route("na", ["en-US"], ["a", "b"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as runtime:
        submit(item_data(), runtime=runtime, ignore_schedule=True)
        runtime.ledger.mark_localizations_requested("item-1", 1)
        do_localize(runtime, "item-1", 1, "en-US")
        due = runtime.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
        do_publish(runtime, next(p for p in due if p.account == "a").id)
    env = {"SYNDICATE_DATABASE_URL": sqlite_url, "SYNDICATE_CONFIG": str(cfg), "SYNDICATE_REDIS_URL": ""}
    # When `syndicate unpublish item-1` runs, twice
    first = CliRunner().invoke(main, ["unpublish", "item-1"], env=env)
    second = CliRunner().invoke(main, ["unpublish", "item-1"], env=env)
    missing = CliRunner().invoke(main, ["unpublish", "nope"], env=env)
    # Then the first removed the post and cancelled the publication that had not gone out
    assert first.exit_code == 0, first.output
    assert "deleted" in first.output and "1 delete(s) asked now" in first.output and "1 cancelled" in first.output
    assert outbox_files(outbox) == []
    # And the second made no call and said so; an unknown item exits 1
    assert second.exit_code == 0, second.output
    assert "nothing to do: already unpublished (no call made)" in second.output
    assert missing.exit_code == 1 and "not found" in missing.output


def test_status_shows_each_version_of_a_post_and_its_delete(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given revision 1 published on a sandbox account, revision 2 updating it, then the item unpublished
    cfg = config_dir(accounts=sandbox_accounts("a"), routes=[simple_route("na", ["en-US"], ["a"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as runtime:
        submit(item_data(), runtime=runtime, ignore_schedule=True)
        publish_all(runtime)
        submit(item_data(revision=2, title="A better title"), runtime=runtime, ignore_schedule=True)
        publish_all(runtime, revision=2)
        [post] = outbox_files(outbox)
        updated_text = post.read_text(encoding="utf-8")
    env = {"SYNDICATE_DATABASE_URL": sqlite_url, "SYNDICATE_CONFIG": str(cfg), "SYNDICATE_REDIS_URL": ""}
    before = CliRunner().invoke(main, ["status", "item-1"], env=env)
    CliRunner().invoke(main, ["unpublish", "item-1"], env=env)
    after = CliRunner().invoke(main, ["status", "item-1", "--format", "json"], env=env)
    # Then the one file holds revision 2's text, and status lists both versions with their utm_content
    assert "A better title" in updated_text
    assert before.exit_code == 0, before.output
    assert "versions of en-US a #0:" in before.output
    assert "item-1.r1.en-US.a.0" in before.output and "item-1.r2.en-US.a.0" in before.output
    assert "created" in before.output and "updated" in before.output
    # And after unpublish, both versions read unpublished and the delete is done
    import json

    data = json.loads(after.output)
    [history] = data["history"]
    assert [(v["revision"], v["state"]) for v in history["versions"]] == [(1, "unpublished"), (2, "unpublished")]
    assert [d["state"] for d in data["deletes"]] == ["done"]


def test_a_revision_policy_the_channel_cannot_carry_out_is_refused_naming_the_account(
    config_dir: Callable[..., Path]
) -> None:
    # Given a WordPress account told to reply to its posts, which a blog cannot do
    from syndicate.config.loading import load_config
    from syndicate.errors import ConfigError

    cfg = config_dir(accounts={"blog": {"adapter": "wordpress", "base_url": "https://blog.example.com",
                                        "on_revision": "reply",
                                        "credentials": {"username": "${WP_USER}", "app_password": "${WP_PASS}"}}},
                     routes=[simple_route("na", ["en-US"], ["blog"])])
    # When the configuration is loaded / Then it is refused with the field and what is possible
    try:
        load_config(cfg, check_secrets=False)
    except ConfigError as exc:
        text = str(exc)
    else:
        raise AssertionError("an impossible revision policy was accepted")
    assert "accounts.blog.on_revision" in text and "cannot reply to posts" in text
    assert "update, keep, replace" in text
