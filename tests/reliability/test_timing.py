"""Crash-recovery timing: the defaults, settings.yaml, the start-up order check, slow accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.model.timing import Timing
from syndicate.runtime import make_broker, timing_from_config

S = timedelta(seconds=1)


def test_the_default_timing_recovers_a_crashed_claim_within_about_25_seconds() -> None:
    t = Timing()
    t.check()
    # connect 5 s + read 10 s < time limit 15 s < claim lease 20 s < shutdown 3 min
    assert (t.publish_time_limit, t.claim_lease, t.heartbeat_timeout) == (15 * S, 20 * S, 10 * S)
    assert t.claim_lease + t.dispatch_interval < 25 * S
    assert t.maintenance_chance == 100_000


def test_settings_yaml_sets_every_timing_knob(config_dir: Callable[..., Path]) -> None:
    cfg = load_config(config_dir(settings={"worker": {
        "publish_time_limit": "30s", "claim_lease": "45s", "heartbeat_timeout": "20s", "maintenance_chance": 5000,
        "resend_after": "2m"}}))
    t = timing_from_config(cfg)
    assert (t.publish_time_limit, t.claim_lease, t.heartbeat_timeout, t.maintenance_chance,
            t.resend_after) == (30 * S, 45 * S, 20 * S, 5000, 120 * S)


def test_a_claim_lease_not_longer_than_the_time_limit_is_a_config_error(config_dir: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match=r"claim_lease .* must exceed publish_time_limit"):
        load_config(config_dir(settings={"worker": {"publish_time_limit": "20s", "claim_lease": "20s"}}))
    with pytest.raises(ValueError, match="claim_lease must exceed"):
        Timing(claim_lease=10 * S).check()
    with pytest.raises(ValueError, match="maintenance_chance"):
        Timing(maintenance_chance=0).check()


def test_a_slow_account_raises_the_time_limit_and_the_lease_with_it(
    config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    # Given an account that may wait 5 + 25 s for an answer (a feed account: it pings a WebSub hub)
    accounts = {"fast": {"adapter": "feeds"}, "slow": {"adapter": "feeds", "read_timeout_s": 25}}
    with Runtime.create(config=config_dir(accounts=accounts), database_url=sqlite_url, redis_url="") as rt:
        # Then the publish time limit exceeds it, and the lease keeps its 5-s margin
        assert rt.timing.publish_time_limit == 31 * S and rt.timing.claim_lease == 36 * S
        assert rt.actors.publish.options["time_limit"] == 31_000
    # And accounts within the limit leave the settings as they are
    assert Timing().fitted(14 * S) == Timing()


def test_the_redis_broker_gets_the_heartbeat_and_maintenance_settings(redis_url: str) -> None:
    broker = make_broker(redis_url, namespace="timing-test", timing=Timing(heartbeat_timeout=7 * S,
                                                                            maintenance_chance=123))
    assert (broker.heartbeat_timeout, broker.maintenance_chance) == (7000, 123)  # type: ignore[attr-defined]
    broker.close()
