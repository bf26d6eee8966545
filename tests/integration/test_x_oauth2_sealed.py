"""X OAuth 2 tokens are sealed in the ledger with the account's ``state_key``; keys rotate."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.base.sealing import Sealer, SealError, new_key
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.x import STATE_KEY, FakeX, x_account, x_environ
from tests.helpers import item_data, simple_route

TOKENS = ("acct:x-na", "oauth2:tokens")


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


class Setup:
    def __init__(self, config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> None:
        acc = x_account(fx, auth="oauth2", with_access_token=True, username="example")
        self.cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])
        self.fx, self.url = fx, sqlite_url
        self.access, self.refresh = fx.issue_tokens()
        self.items = 0

    def runtime(self, key: str = STATE_KEY) -> Runtime:
        env = dict(x_environ(self.fx, access_token=self.access, refresh_token=self.refresh), X_STATE_KEY=key)
        return Runtime.create(config=self.cfg, database_url=self.url, redis_url="", environ=env)

    def publish(self, rt: Runtime) -> str:
        self.items += 1
        sub = submit(item_data(id=f"item-{self.items}", title=f"Post {self.items}"), runtime=rt, ignore_schedule=True)
        rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
        do_localize(rt, sub.item_id, sub.revision, "en-US")
        [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
        return do_publish(rt, pub.id)


@pytest.fixture
def setup(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> Setup:
    return Setup(config_dir, fx, sqlite_url)


def _stored(rt: Runtime) -> dict[str, Any]:
    stored = rt.ledger.kv_get(*TOKENS)
    assert stored is not None
    value: dict[str, Any] = stored[0]
    return value


def test_the_ledger_holds_the_token_pair_sealed_never_in_the_clear(setup: Setup, fx: FakeX) -> None:
    # Given an OAuth 2 account that published once, then refreshed its (expired) token
    with setup.runtime() as rt:
        assert setup.publish(rt) == "published"
        fx.access_tokens[setup.access] = 0  # expired at X: the next call gets a 401 and refreshes
        assert setup.publish(rt) == "published" and fx.refreshes == 1
        stored = _stored(rt)
    # Then neither the seeded nor the refreshed tokens appear in the stored row
    raw = json.dumps(stored)
    live = [t for t in fx.refresh_tokens] + list(fx.access_tokens)
    assert not any(t in raw for t in (setup.access, setup.refresh, *live))
    assert stored["access_token"].startswith("fernet:") and stored["refresh_token"].startswith("fernet:")
    # And the state key opens them: the refresh token stored is the live one
    assert Sealer(STATE_KEY).open(stored["refresh_token"])[0] in fx.refresh_tokens


def test_a_new_key_put_first_reseals_the_pair_and_the_old_key_can_then_go(setup: Setup) -> None:
    # Given a pair sealed with the old key
    with setup.runtime(STATE_KEY) as rt:
        assert setup.publish(rt) == "published"
    # When the workers restart with a new key first and the old one after it, and publish
    new = new_key()
    with setup.runtime(f"{new},{STATE_KEY}") as rt:
        assert setup.publish(rt) == "published"
        stored = _stored(rt)
    # Then the pair opens with the new key alone, and no longer with the old one
    assert Sealer(new).open(stored["refresh_token"]) == (setup.refresh, False)
    with pytest.raises(SealError):
        Sealer(STATE_KEY).open(stored["refresh_token"])
    # And with the old key dropped, the account still publishes
    with setup.runtime(new) as rt:
        assert setup.publish(rt) == "published"


def test_a_pair_stored_before_sealing_is_used_and_then_sealed(setup: Setup) -> None:
    # Given a pair in the ledger in the clear (as stored before tokens were sealed)
    with setup.runtime() as rt:
        assert setup.publish(rt) == "published"
        stored = rt.ledger.kv_get(*TOKENS)
        assert stored is not None
        clear = {k: (Sealer(STATE_KEY).open(v)[0] if k.endswith("_token") and v else v) for k, v in stored[0].items()}
        assert rt.ledger.kv_put(*TOKENS, clear, expect_version=stored[1])
        # When the account publishes again
        assert setup.publish(rt) == "published"
        # Then the pair is sealed again
        assert _stored(rt)["refresh_token"].startswith("fernet:")


def test_a_pair_that_no_configured_key_opens_holds_the_account_with_a_clear_reason(setup: Setup) -> None:
    # Given a pair sealed with a key that is no longer configured
    with setup.runtime(STATE_KEY) as rt:
        assert setup.publish(rt) == "published"
    with setup.runtime(new_key()) as rt:
        # When the account publishes / Then it fails for want of credentials, naming the state key
        assert setup.publish(rt) == "failed"
        [pub] = [p for p in rt.ledger.publications() if p.state == "failed"]
        assert "open with none of its state_key keys" in (pub.last_error or "")
        assert rt.ledger.account_status("x-na")[0] == "needs_credentials"
