"""Actor options: computed from timedeltas in one place, declared through Dramatiq's validation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker

from syndicate import Runtime
from syndicate.errors import ConfigError, ContentError, LocalizationError
from syndicate.model.timing import Timing
from syndicate.worker.actors import actor_options, declare_actors


def test_the_options_dramatiq_gets_are_in_its_milliseconds_and_names() -> None:
    options = {name: o.for_dramatiq() for name, o in actor_options(Timing()).items()}
    retries = {"max_retries": 10, "min_backoff": 1000, "max_backoff": 60_000}
    assert options == {
        "intake": {"time_limit": 60_000, "throws": (ContentError, ConfigError), **retries},
        "localize": {"time_limit": 300_000, "throws": (LocalizationError, ContentError, ConfigError), **retries},
        "publish": {"time_limit": 15_000, "throws": (ContentError, ConfigError),
                    "on_retry_exhausted": "publish_exhausted", **retries},
        "reconcile": {"time_limit": 15_000, "throws": (ContentError, ConfigError), **retries},
        "publish_exhausted": {"time_limit": 60_000, **retries},
        "unpublish": {"time_limit": 15_000, "throws": (ContentError, ConfigError), **retries},
    }


def test_every_option_is_one_the_default_middleware_defines() -> None:
    defined = StubBroker().actor_options
    for name, options in actor_options(Timing()).items():
        assert set(options.for_dramatiq()) <= defined, name


def test_the_time_limits_follow_the_workers_timing(config_dir: Callable[..., Path], sqlite_url: str) -> None:
    # Given settings.yaml with a longer localize and publish time limit
    cfg = config_dir(settings={"worker": {"localize_time_limit": "90s", "publish_time_limit": "12s",
                                          "claim_lease": "30s"}})
    rt = Runtime.create(config=cfg, database_url=sqlite_url, redis_url="")
    try:
        # Then the actors carry them, in milliseconds
        assert rt.actors.localize.options["time_limit"] == 90_000
        assert rt.actors.publish.options["time_limit"] == rt.actors.reconcile.options["time_limit"] == 12_000
    finally:
        rt.close()


def test_an_option_no_middleware_of_the_broker_defines_is_refused(
    config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    # Given a broker without Dramatiq's Retries and TimeLimit middleware
    rt = Runtime.create(config=config_dir(), database_url=sqlite_url, redis_url="")
    bare = replace(rt, broker=StubBroker(middleware=[]))
    try:
        # When the actors are declared on it / Then Dramatiq refuses their options instead of ignoring them
        with pytest.raises(ValueError, match="actor options are undefined"):
            declare_actors(bare)
    finally:
        rt.close()
        bare.broker.close()


def test_a_zero_time_limit_cannot_reach_dramatiq() -> None:
    # Timing refuses what would become a zero or negative millisecond option
    with pytest.raises(ValueError, match="positive"):
        Timing(localize_time_limit=timedelta(0))
