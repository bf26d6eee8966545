"""Planning: which publications an item asks for, per the locale routes, and when each goes out.

For every route, the item goes to the route's locales (narrowed by the item's ``locales``) on the
route's accounts (narrowed by the item's ``channels``, which name adapters or account ids).
Publications that a route filters out (buying stage, expiry) are planned as ``skipped`` with the
reason, so the ledger says why nothing went out. Evergreen items get one slot per repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .attribution import tag_url, utm_for
from .config import Config, Route, UtmSettings
from .ledger import NewPublication
from .models import ContentItem
from .scheduling import next_in_windows
from .states import PublicationState

__all__ = ["PlanOptions", "plan_item", "utm_content"]


@dataclass(frozen=True)
class PlanOptions:
    """Knobs for planning.

    Attributes:
        now: the planning instant (aware).
        ignore_schedule: plan every publication at ``now`` (demos, ``syndicate run --now``),
            ignoring ``publish_at``, windows, gaps and stagger.
    """

    now: datetime
    ignore_schedule: bool = False


def utm_content(item_id: str, locale: str, account: str, slot: int) -> str:
    """``utm_content`` of one publication: unique per item, locale, account and slot."""
    return f"{item_id}.{locale}.{account}.{slot}"


def _slots(item: ContentItem, start: datetime) -> list[datetime]:
    times = [start]
    rep = item.repeat
    if rep is None:
        return times
    t = start
    while True:
        t = t + rep.interval
        if rep.count is not None and len(times) > rep.count:
            break
        if rep.until is not None and t > rep.until:
            break
        if item.expires_at is not None and t >= item.expires_at:
            break
        times.append(t)
        if len(times) > 101:
            break
    return times


def _utm(config: Config, route: Route, account: str, item: ContentItem, locale: str, slot: int) -> dict[str, str]:
    acc = config.accounts[account]
    cls = config.adapter_class(account)
    layered: UtmSettings = acc.utm.merged_over(route.utm_overrides.get(account, UtmSettings()).merged_over(route.utm))
    return utm_for(
        source=layered.source or cls.name,
        medium=layered.medium or cls.default_utm_medium,
        campaign=layered.campaign or item.campaign,
        content=utm_content(item.id, locale, account, slot),
        term=layered.term,
        id=layered.id,
    )


def _wanted_account(item: ContentItem, config: Config, account: str) -> bool:
    if item.channels is None:
        return True
    return account in item.channels or config.accounts[account].adapter in item.channels


def plan_item(item: ContentItem, config: Config, options: PlanOptions) -> list[NewPublication]:
    """Every publication ``item`` asks for under ``config``, in a stable order."""
    out: list[NewPublication] = []
    start = options.now if options.ignore_schedule else max(options.now, item.publish_at or options.now)
    for route in sorted(config.routes.values(), key=lambda r: r.region):
        locales = [loc for loc in route.locales if item.locales is None or loc in item.locales]
        accounts = [a for a in route.accounts if _wanted_account(item, config, a) and config.accounts[a].enabled]
        skip_reason: str | None = None
        if route.buying_stages is not None and item.buying_stage not in route.buying_stages:
            skip_reason = (f"route {route.region!r} accepts buying stages {', '.join(route.buying_stages)}; "
                           f"the item's is {item.buying_stage or 'unset'}")
        for locale in locales:
            for stagger_index, account in enumerate(accounts):
                for slot, base in enumerate(_slots(item, start)):
                    when = base
                    if not options.ignore_schedule:
                        if route.stagger:
                            when = when + route.stagger * stagger_index
                        when = next_in_windows(when, route.windows, route.tz)
                    state = PublicationState.SCHEDULED
                    reason = skip_reason
                    if reason is None and item.expires_at is not None and when >= item.expires_at:
                        reason = f"would go out at {when.isoformat()}, after the item expires ({item.expires_at})"
                    if reason is not None:
                        state = PublicationState.SKIPPED
                    utm = _utm(config, route, account, item, locale, slot)
                    out.append(NewPublication(
                        locale=locale, account=account, slot=slot, region=route.region,
                        channel=config.accounts[account].adapter, scheduled_for=when,
                        tagged_url=tag_url(item.canonical_url, utm), utm=utm, state=state, reason=reason))
    return out


def horizon_for(item: ContentItem) -> timedelta:
    """How far ahead of now an item's last slot may lie (for sanity checks and reports)."""
    if item.repeat is None:
        return timedelta(0)
    return item.repeat.interval * (item.repeat.count or 1)
