"""OAuth 2 user tokens: bearer auth, refresh before expiry or after a 401, rotation kept in the ledger,
and one refresh when two worker processes find the token expired at the same time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.base.sealing import Sealer
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Fault
from tests.fakes.x import STATE_KEY, FakeX, x_account, x_environ
from tests.helpers import REPO, item_data, simple_route

TOKENS = ("acct:x-na", "oauth2:tokens")


def opened(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored pair with its tokens opened (the ledger keeps them sealed)."""
    sealer = Sealer(STATE_KEY)
    return {k: sealer.open(v)[0] if k.endswith("_token") and v else v for k, v in stored.items()}


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def _config(config_dir: Callable[..., Path], fx: FakeX, **options: Any) -> Path:
    acc = x_account(fx, auth="oauth2", with_access_token=True, username="example", read_timeout_s=3.0, **options)
    return config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])


def enqueue(rt: Runtime, *item_ids: str) -> list[int]:
    for item_id in item_ids:
        sub = submit(item_data(id=item_id, title=f"Post {item_id}"), runtime=rt, ignore_schedule=True)
        rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
        do_localize(rt, sub.item_id, sub.revision, "en-US")
    return [p.id for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")]


def test_an_expired_access_token_is_refreshed_once_and_the_new_pair_stored(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str,
) -> None:
    # Given an account that posted once with its tokens, whose access token has since expired
    old_access, old_refresh = fx.issue_tokens()
    with Runtime.create(config=_config(config_dir, fx), database_url=sqlite_url, redis_url="",
                        environ=x_environ(fx, access_token=old_access, refresh_token=old_refresh)) as rt:
        [first] = enqueue(rt, "item-1")
        assert do_publish(rt, first) == "published" and fx.refreshes == 0
        stored = rt.ledger.kv_get(*TOKENS)
        assert stored is not None and opened(stored[0])["access_token"] == old_access
        expired = dict(stored[0], expires_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
        assert rt.ledger.kv_put(*TOKENS, expired, expect_version=stored[1])
        fx.access_tokens[old_access] = time.time() - 60
        [pid] = enqueue(rt, "item-2")
        # When the next item is published
        assert do_publish(rt, pid) == "published"
        # Then the token was refreshed first: one refresh, and one create, with the new bearer token
        assert fx.refreshes == 1
        [refresh] = fx.requests_to("POST", "/2/oauth2/token")
        assert refresh.form() == {"grant_type": ["refresh_token"], "refresh_token": [old_refresh],
                                  "client_id": [FakeX.client_id]}
        assert (refresh.header("Authorization") or "").startswith("Basic ")  # a confidential client
        _, create = fx.requests_to("POST", "/2/tweets")
        stored = rt.ledger.kv_get(*TOKENS)
        assert stored is not None
        new = opened(stored[0])
        assert create.header("Authorization") == f"Bearer {new['access_token']}" and fx.bearer(create)
        # And the rotated pair is in the ledger: the old refresh token is dead, the new one live
        assert new["refresh_token"] != old_refresh and new["refresh_token"] in fx.refresh_tokens
        assert old_refresh not in fx.refresh_tokens
        assert datetime.fromisoformat(new["expires_at"]) > datetime.now(UTC) + timedelta(minutes=100)
        # And no token value reached the ledger's errors or events
        text = json.dumps([rt.ledger.events(publication_id=pid), rt.ledger.publication(pid).last_error],  # type: ignore[union-attr]
                          default=str)
        assert not any(t in text for t in (old_access, old_refresh, new["access_token"], new["refresh_token"]))


def test_a_new_refresh_token_in_the_environment_replaces_the_stored_pair(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str,
) -> None:
    # Given an account whose stored tokens X revoked, and an operator who authorized it anew
    access, refresh = fx.issue_tokens()
    cfg = _config(config_dir, fx)
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="",
                        environ=x_environ(fx, access_token=access, refresh_token=refresh)) as rt:
        [first] = enqueue(rt, "item-1")
        assert do_publish(rt, first) == "published"
    fx.access_tokens.clear()
    fx.refresh_tokens.clear()
    new_access, new_refresh = fx.issue_tokens()
    # When a worker starts with the new tokens in its environment
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="",
                        environ=x_environ(fx, access_token=new_access, refresh_token=new_refresh)) as rt:
        [pid] = enqueue(rt, "item-2")
        assert do_publish(rt, pid) == "published"
        # Then it posted with the new access token, without a refresh
        assert fx.requests_to("POST", "/2/tweets")[-1].header("Authorization") == f"Bearer {new_access}"
        assert fx.refreshes == 0


def test_a_401_with_a_token_of_unknown_age_refreshes_and_posts_once(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str,
) -> None:
    # Given only the environment's tokens, the access token already dead at X
    old_access, old_refresh = fx.issue_tokens(access_expires_in_s=-1)
    with Runtime.create(config=_config(config_dir, fx), database_url=sqlite_url, redis_url="",
                        environ=x_environ(fx, access_token=old_access, refresh_token=old_refresh)) as rt:
        [pid] = enqueue(rt, "item-1")
        # When published / Then X's 401 led to one refresh and the post was made once
        assert do_publish(rt, pid) == "published"
        assert fx.refreshes == 1 and len(fx.posts) == 1
        first, second = fx.requests_to("POST", "/2/tweets")
        assert first.header("Authorization") == f"Bearer {old_access}"
        assert fx.bearer(second) is not None


def test_a_refused_refresh_token_fails_and_holds_the_account(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str,
) -> None:
    # Given a refresh token X no longer knows
    with Runtime.create(config=_config(config_dir, fx), database_url=sqlite_url, redis_url="",
                        environ=x_environ(fx, access_token="dead-access-token",
                                          refresh_token="dead-refresh-token")) as rt:
        [pid] = enqueue(rt, "item-1")
        # When published / Then failed with X's words, the account needs new credentials, no post
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
        assert pub is not None and "Value passed for the token was invalid" in (pub.last_error or "")
        assert "dead-refresh-token" not in (pub.last_error or "")
        assert rt.ledger.account_status("x-na")[0] == "needs_credentials" and fx.posts == []


WORKER = """
import sys, time
from pathlib import Path
from syndicate import Runtime
from syndicate.base.logging import configure_logging
from syndicate.publishing.steps import do_publish

configure_logging(json=True, level="DEBUG")  # tweepy logs its request headers at DEBUG
config, database, redis_url, namespace, pub_id, barrier = sys.argv[1:]
with Runtime.create(config=config, database_url=database, redis_url=redis_url, namespace=namespace,
                    migrate=False) as rt:
    rt.adapter("x-na")
    while not Path(barrier).exists():
        time.sleep(0.005)
    print("RESULT", do_publish(rt, int(pub_id)), flush=True)
"""


@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_with_an_expired_token_refresh_once_and_both_post(
    config_dir: Callable[..., Path], fx: FakeX, pg_url: str, redis_url: str, redis_namespace: str, tmp_path: Path,
) -> None:
    # Given an expired access token, two publications, and two worker processes on one Redis and PostgreSQL
    old_access, old_refresh = fx.issue_tokens(access_expires_in_s=-1)
    env = x_environ(fx, access_token=old_access, refresh_token=old_refresh)
    cfg = _config(config_dir, fx)
    with Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url, namespace=redis_namespace,
                        environ=env) as rt:
        pids = enqueue(rt, "item-a", "item-b")
        assert len(pids) == 2
        # (the refresh answer is slow, so the second worker waits on the lock while the first refreshes)
        fx.fail_next(Fault("stall", when="after", method="POST", path="^/2/oauth2/token$", seconds=1.0))
        barrier = tmp_path / "go"
        child_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(cfg), pg_url, redis_url, redis_namespace,
                                   str(pid), str(barrier)], cwd=tmp_path, env=child_env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for pid in pids]
        time.sleep(0.2)
        barrier.touch()
        # When both publish at once
        outputs = [p.communicate(timeout=90)[0] for p in procs]
        # Then both posts were made, after exactly one refresh at X
        assert [o.count("RESULT published") for o in outputs] == [1, 1], outputs
        assert fx.refreshes == 1
        assert sorted(p.text.split("\n")[0] for p in fx.posts) == ["Post item-a", "Post item-b"]
        assert all(rt.ledger.publication(pid).state == "published" for pid in pids)  # type: ignore[union-attr]
        # And the ledger holds the live pair; no worker logged a token, not even in tweepy's debug lines
        stored = rt.ledger.kv_get(*TOKENS)
        assert stored is not None and opened(stored[0])["refresh_token"] in fx.refresh_tokens
        live = opened(stored[0])
        tokens = (old_access, old_refresh, live["access_token"], live["refresh_token"])
        assert not any(t in o for t in tokens for o in outputs)
        assert all("Making API request" in o and "Bearer [REDACTED]" in o for o in outputs)
