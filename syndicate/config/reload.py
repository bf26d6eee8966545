"""Reloading the configuration without a restart: ``kill -HUP <pid>`` (workers, scheduler, API).

On SIGHUP the config directory is read and validated again, exactly as at start-up. If anything
is wrong, every problem is logged (``config.reload_failed``) and the process carries on with the
configuration it had. If it is valid, the new immutable :class:`~syndicate.config.Config` is
swapped in with one assignment (:meth:`~syndicate.services.Services.swap_config`) and ``config.reloaded`` says what
changed. What a reload means for work in progress:

* **Messages being processed** finish with the configuration they started with (each actor runs
  inside :meth:`~syndicate.services.Services.pinned_config`); the next message sees the new one. A render and its
  platform call therefore always agree.
* **Adapters** (and the sessions they hold) are rebuilt on each worker thread's next use, from the
  new options, base URL and credentials: rotating a secret in ``secrets_file`` takes a SIGHUP.
* **Rate limits** are read per call, so new caps apply at once; the counts so far are kept.
* **Planning** of new submissions uses the new routes. Publications already in the ledger keep
  their planned time and tagged link; an account removed from ``accounts.yaml`` fails the
  publications still planned for it, with the reason.
* **Worker settings** (``worker:``: threads, processes, time limits, backoff, dispatch interval)
  are fixed when the process starts: a change is logged as needing a restart.
* **The API** takes new tokens at once; a reload that would leave it without a valid token is
  refused like any invalid config. ``api.max_body_bytes`` applies after a restart.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.logging import get_logger
from ..errors import ConfigError
from ..model.config import Config
from .loading import load_config

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["ConfigReloader", "ReloadResult", "config_changes"]

log = get_logger("syndicate.reload")


@dataclass(frozen=True)
class ReloadResult:
    """What one reload did.

    Attributes:
        ok: the new configuration was valid and is now in use.
        problems: every problem of an invalid configuration (the old one was kept).
        changes: what differs, in words (``routes changed: dach``).
        restart_needed: what changed but applies only after a restart.
    """

    ok: bool
    problems: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    restart_needed: tuple[str, ...] = ()


def _diff(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for verb, names in (("added", sorted(set(new) - set(old))), ("removed", sorted(set(old) - set(new))),
                        ("changed", sorted(k for k in set(old) & set(new) if old[k] != new[k]))):
        if names:
            out.append(f"{kind} {verb}: {', '.join(names)}")
    return out


def config_changes(old: Config, new: Config) -> tuple[list[str], list[str]]:
    """``(changes, restart_needed)`` between two configurations, in words."""
    changes = _diff("routes", old.routes, new.routes) + _diff("accounts", old.accounts, new.accounts)
    changes += _diff("glossaries", old.glossaries, new.glossaries)
    for name in ("intake_limits", "api", "notifications", "engagement"):
        if getattr(old, name) != getattr(new, name):
            changes.append(f"{name.replace('_', ' ')} changed")
    restart = ["worker settings (threads, processes, time limits, backoff) apply after a restart"] \
        if old.worker != new.worker else []
    if old.api.max_body_bytes != new.api.max_body_bytes:
        restart.append("api.max_body_bytes applies after a restart of 'syndicate api'")
    return changes, restart


class ConfigReloader:
    """Reloads ``rt``'s configuration directory on demand or on a signal.

    Args:
        rt: the runtime whose configuration is swapped.
        check_secrets: require every ``${VAR}`` reference to resolve (as the process's start did).
        checks: more validation of a new configuration for this process (the API's tokens); each
            raises :class:`ConfigError` to refuse it.
        on_reload: called with the new configuration after it is swapped in (restart the loops
            that copied settings at start); a failing callback is logged, never fatal.
    """

    def __init__(self, rt: Services, *, check_secrets: bool = True,
                 checks: Sequence[Callable[[Config], object]] = (),
                 on_reload: Sequence[Callable[[Config], object]] = ()) -> None:
        self.rt = rt
        self.check_secrets = check_secrets
        self.checks = list(checks)
        self.on_reload = list(on_reload)
        self._lock = threading.Lock()

    def reload(self) -> ReloadResult:
        """Read, validate and swap in the configuration; keep the old one if the new one is invalid."""
        with self._lock:  # one reload at a time: two quick SIGHUPs must not interleave
            old = self.rt.current_config
            try:
                new = load_config(old.directory, registry=old.registry, check_secrets=self.check_secrets)
                for check in self.checks:
                    check(new)
            except ConfigError as exc:
                problems = tuple(str(p) for p in exc.problems)
                log.error("config.reload_failed", directory=str(old.directory), problem_count=len(problems),
                          problems=list(problems), kept="the configuration in use before the reload")
                return ReloadResult(False, problems=problems)
            changes, restart = config_changes(old, new)
            self.rt.swap_config(new)
            for hook in self.on_reload:
                try:
                    hook(new)
                except Exception:  # an observer must not undo a valid reload
                    log.exception("config.reload_hook_failed", hook=getattr(hook, "__qualname__", repr(hook)))
            log.info("config.reloaded", directory=str(new.directory), changes=changes or ["nothing changed"],
                     routes=len(new.routes), accounts=len(new.accounts))
            for what in restart:
                log.warning("config.restart_needed", setting=what)
            return ReloadResult(True, changes=tuple(changes), restart_needed=tuple(restart))

    def install(self, signum: int = signal.SIGHUP) -> None:
        """Reload on ``signum`` (SIGHUP by default), in a thread of its own: the signal handler
        returns at once, whatever the main thread is doing. Call from the main thread."""

        def on_signal(_signum: int, _frame: object) -> None:
            log.info("config.reload_requested", signal=signal.Signals(_signum).name)
            threading.Thread(target=self.reload, name="config-reload", daemon=True).start()

        signal.signal(signum, on_signal)
