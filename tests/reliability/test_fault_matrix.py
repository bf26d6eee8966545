"""The fault matrix: every channel's fake × every fault, each ending in the right state, exactly once.

For each adapter (X, LinkedIn, WordPress, partner webhooks, and partner feeds, whose network call
is the WebSub ping) and each fault, one publication is published through the real pipeline
(claim → call → record), the fault comes from the fake's socket, and the publication is then
driven to a terminal state the way the worker would: in-doubt rows are reconciled, retries and
deferrals are made due (instead of waiting out the backoff) and published again. At the end the
fake is the oracle: exactly one post for a published row, none for a failed one, and the row is
terminal (nothing lost).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicate.publishing.steps import do_publish
from tests.fakes.base import refused_url
from tests.reliability.channels import CHANNELS, Channel, make_channel
from tests.reliability.matrix import FAULTS, enqueued_one, expected, runtime_for, settle


@pytest.fixture(params=sorted(CHANNELS))
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    ch = make_channel(request.param, "matrix-credential-0f3a9c", tmp_path)
    ch.start()
    yield ch
    ch.stop()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_ends_in_the_right_state_with_exactly_one_post_or_none(
    channel: Channel, fault: str, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    case = expected(channel.name, fault)
    with runtime_for(channel, config_dir, sqlite_url, channel.fake.url) as rt:
        # Given one enqueued publication, and the fault queued on the platform's create (or the platform down)
        pid = enqueued_one(rt)
        if fault == "connection refused":
            with runtime_for(channel, config_dir, sqlite_url, refused_url()) as down:
                # When the worker publishes while nothing listens
                first = do_publish(down, pid)
        else:
            f = case.build(channel)
            assert f is not None
            channel.fake.fail_next(f)
            # When the worker publishes
            first = do_publish(rt, pid)
        # Then the first attempt records what the fault means
        assert first == case.first, rt.ledger.publication(pid)
        # And driven on as the worker would, the publication ends terminal and in the right state
        later = settle(rt, pid)
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.state == case.final, (later, pub.last_error)
        # And the fake holds exactly one post for a published row, none for a failed one
        assert channel.posts() == (1 if case.final == "published" else 0)
        if case.final == "published":
            assert pub.permalink and pub.remote_id and pub.published_at is not None
        else:
            assert pub.last_error
        status, _ = rt.ledger.account_status(channel.account_id)
        assert status == ("needs_credentials" if case.holds_account else "ok")
        if case.first == "deferred":  # a deferral is not a failed attempt
            assert pub.failures == 0 and pub.deferrals == 1
