"""Worker timing has one definition: settings.yaml's ``worker:`` is the Timing, names and defaults alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.model.config import WorkerSettings
from syndicate.model.timing import Timing
from syndicate.runtime import timing_from_config

S = timedelta(seconds=1)


def test_every_timing_knob_is_a_worker_setting_with_the_same_default() -> None:
    # Given the worker settings of an empty settings.yaml and the Timing built in code
    settings, timing = WorkerSettings(), Timing()
    # Then the settings hold every Timing field, by the same name and with the same value, plus the counts
    assert set(WorkerSettings.model_fields) == set(Timing.model_fields) | {"threads", "prepare_threads", "processes"}
    assert {name: getattr(settings, name) for name in Timing.model_fields} == dict(timing)


def test_settings_yaml_sets_the_knobs_that_were_code_only(config_dir: Callable[..., Path]) -> None:
    cfg = load_config(config_dir(settings={"worker": {
        "localize_time_limit": "10m", "shutdown_timeout": "5m", "dispatch_horizon": "3s",
        "localize_stale_after": "4m", "threads": 4}}))
    t = timing_from_config(cfg)
    assert (t.localize_time_limit, t.shutdown_timeout, t.dispatch_horizon, t.localize_stale_after) == (
        600 * S, 300 * S, 3 * S, 240 * S)
    assert cfg.worker.threads == 4


def test_a_shutdown_timeout_not_longer_than_the_time_limit_is_a_config_error_naming_both(
    config_dir: Callable[..., Path]
) -> None:
    with pytest.raises(ConfigError, match=r"worker: shutdown_timeout \(15 s\) must exceed publish_time_limit \(15 s\)"):
        load_config(config_dir(settings={"worker": {"shutdown_timeout": "15s"}}))


def test_a_timing_built_in_code_is_checked_like_one_read_from_yaml() -> None:
    with pytest.raises(ValueError, match="shutdown_timeout"):
        Timing(shutdown_timeout=10 * S)
    with pytest.raises(ValueError, match="heartbeat_timeout must be at least 1 s"):
        Timing(heartbeat_timeout=timedelta(milliseconds=500))
    with pytest.raises(ValueError, match="resend_after"):
        Timing(resend_after=timedelta(0))


def test_fitting_to_a_slow_account_keeps_the_worker_counts_and_the_checks() -> None:
    # Given worker settings with 4 threads, fitted to an account that may take 40 s
    fitted = WorkerSettings(threads=4).fitted(40 * S)
    # Then the limit, lease and shutdown moved up together, and the counts stayed
    assert isinstance(fitted, WorkerSettings) and fitted.threads == 4
    assert (fitted.publish_time_limit, fitted.claim_lease, fitted.shutdown_timeout) == (41 * S, 46 * S, 180 * S)
    fitted.check()
