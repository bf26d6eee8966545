"""Planning: which publications an item asks for, per the locale routes, and when each goes out.

For every route, the item goes to the route's locales (narrowed by the item's ``locales``) on the
route's accounts (narrowed by the item's ``channels``, which name adapters or account ids).
Publications that a route filters out (buying stage, expiry) are planned as ``skipped`` with the
reason, so the ledger says why nothing went out. An item without a buying stage goes to every
route unless the route sets ``require_stage: true``. Evergreen items get one slot per repeat.

When each publication goes out, in order:

1. the slot's base time: ``max(now, publish_at)``, plus ``k × repeat.interval`` for slot ``k``;
2. the first instant in one of the route's posting windows (local wall clock, DST-correct);
3. plus the route's ``stagger`` times the publication's place among the item's publications in
   that route (locale by locale, account by account), so one item does not reach every channel
   in the same second;
4. moved forward, inside the windows, until it is at least the route's ``min_gap`` away from
   every other post on the same account: posts already in the ledger (``PlanOptions.taken``,
   any item) and the ones planned before it for this item;
5. skipped if that is at or after the item's ``expires_at``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..ledger import NewPublication
from ..model.config import Config, Route, UtmSettings
from ..model.item import ContentItem
from ..model.states import PublicationState
from .attribution import LinkTagger, utm_content, utm_for
from .schedule import next_free, next_in_windows
from .teaser import teaser_of

__all__ = [
    "MAX_SLOTS",
    "PlanOptions",
    "evergreen_text",
    "gap_since",
    "plan_item",
    "same_language",
    "utm_content",
    "wants_first_comment",
]

#: Evergreen slots per publication at most (the first post and up to 100 repeats).
MAX_SLOTS = 101


@dataclass(frozen=True)
class PlanOptions:
    """Knobs for planning.

    Attributes:
        now: the planning instant (aware).
        ignore_schedule: plan every publication at ``now`` (demos, ``syndicate run --now``),
            ignoring ``publish_at``, windows, gaps and stagger.
        taken: per account, the times of posts already planned or made on it (from the ledger,
            across items), which the route's ``min_gap`` keeps clear of.
    """

    now: datetime
    ignore_schedule: bool = False
    taken: Mapping[str, Sequence[datetime]] = field(default_factory=dict)


def _slots(item: ContentItem, start: datetime) -> list[datetime]:
    """Base times of the item's slots: the first post, then one per repeat (count, until, expiry)."""
    times = [start]
    rep = item.repeat
    if rep is None:
        return times
    t = start
    while len(times) < MAX_SLOTS:
        t = t + rep.interval
        if rep.count is not None and len(times) > rep.count:
            break
        if rep.until is not None and t > rep.until:
            break
        if item.expires_at is not None and t >= item.expires_at:
            break
        times.append(t)
    return times


def _utm(config: Config, route: Route, account: str, item: ContentItem, locale: str, slot: int, *,
         first_comment: bool = False) -> dict[str, str]:
    acc = config.accounts[account]
    cls = config.adapter_class(account)
    layered: UtmSettings = acc.utm.merged_over(route.utm_overrides.get(account, UtmSettings()).merged_over(route.utm))
    return utm_for(
        source=layered.source or cls.name,
        medium=layered.medium or cls.default_utm_medium,
        campaign=layered.campaign or item.campaign,
        content=utm_content(item.id, item.revision, locale, account, slot, first_comment=first_comment),
        term=layered.term,
        id=layered.id,
    )


def wants_first_comment(item: ContentItem, config: Config, route: Route, account: str) -> bool:
    """Whether ``item``'s posts on ``account`` through ``route`` get a first comment: the channel
    has comments, the route does not turn them off, and there is something to say (the item's
    ``first_comment``, or the link when the route moves it into the comment)."""
    if route.first_comment == "off" or not config.adapter_class(account).first_comments:
        return False
    return item.first_comment is not None or route.first_comment == "link"


def _wanted_account(item: ContentItem, config: Config, account: str) -> bool:
    if item.channels is None:
        return True
    return account in item.channels or config.accounts[account].adapter in item.channels


def _stage_skip_reason(route: Route, item: ContentItem) -> str | None:
    """Why ``route`` does not take ``item`` by its buying stage, or None when it does.

    An item without a stage goes to every route, unless the route says ``require_stage: true``:
    a producer who never heard of stages must not find that nothing was published.
    """
    if item.buying_stage is None:
        if not route.require_stage:
            return None
        accepted = f"buying stages {', '.join(route.buying_stages)}" if route.buying_stages else "a buying stage"
        return f"route {route.region!r} requires {accepted}; the item has none"
    if route.buying_stages is not None and item.buying_stage not in route.buying_stages:
        return (f"route {route.region!r} accepts buying stages {', '.join(route.buying_stages)}; "
                f"the item's is {item.buying_stage}")
    return None


def plan_item(item: ContentItem, config: Config, options: PlanOptions) -> list[NewPublication]:
    """Every publication ``item`` asks for under ``config``, in a stable order.

    Raises:
        ValueError: ``options.now`` is naive.
    """
    if options.now.tzinfo is None or options.now.utcoffset() is None:
        raise ValueError("PlanOptions.now must be aware")
    out: list[NewPublication] = []
    start = options.now if options.ignore_schedule else max(options.now, item.publish_at or options.now)
    bases = _slots(item, start)
    # Times on each account that a gap must keep clear of; grows as this item's posts are planned.
    busy: dict[str, list[datetime]] = {acc: list(times) for acc, times in options.taken.items()}
    for route in sorted(config.routes.values(), key=lambda r: r.region):
        locales = [loc for loc in route.locales if item.locales is None or loc in item.locales]
        accounts = [a for a in route.accounts if _wanted_account(item, config, a) and config.accounts[a].enabled]
        skip_reason = _stage_skip_reason(route, item)
        place = 0
        for locale in locales:
            for account in accounts:
                for slot, base in enumerate(bases):
                    when = base
                    if not options.ignore_schedule and skip_reason is None:
                        when = _when(route, base, place, busy.setdefault(account, []))
                    state = PublicationState.SCHEDULED
                    reason = skip_reason
                    if reason is None and item.expires_at is not None and when >= item.expires_at:
                        reason = f"would go out at {when.isoformat()}, after the item expires ({item.expires_at})"
                    if reason is not None:
                        state = PublicationState.SKIPPED
                    elif not options.ignore_schedule:
                        busy[account].append(when)
                    utm = _utm(config, route, account, item, locale, slot)
                    # The canonical link is tagged unless its host is one never to tag (a partner's site).
                    link = LinkTagger(utm, hosts=(), never_tag=(*item.never_tag, *route.never_tag))
                    out.append(NewPublication(
                        locale=locale, account=account, slot=slot, region=route.region,
                        channel=config.accounts[account].adapter, scheduled_for=when,
                        tagged_url=link.url(item.canonical_url), utm=utm, state=state, reason=reason))
                    if wants_first_comment(item, config, route, account):
                        comment_utm = _utm(config, route, account, item, locale, slot, first_comment=True)
                        comment_link = LinkTagger(comment_utm, hosts=(), never_tag=(*item.never_tag, *route.never_tag))
                        out.append(NewPublication(
                            locale=locale, account=account, slot=slot, region=route.region,
                            channel=config.accounts[account].adapter, scheduled_for=when,
                            tagged_url=comment_link.url(item.canonical_url), utm=comment_utm, state=state,
                            reason=reason, first_comment=True))
                place += 1
    return out


def _when(route: Route, base: datetime, place: int, busy: list[datetime]) -> datetime:
    """Windows, then stagger, then the minimum gap (see the module docstring)."""
    when = next_in_windows(base, route.windows, route.tz)
    if route.stagger and place:
        when = when + route.stagger * place
    return next_free(when, route.windows, route.tz, taken=busy, gap=route.min_gap)


def gap_since(item: ContentItem, config: Config, now: datetime) -> datetime:
    """The earliest post time that can affect the item's plan through ``min_gap``.

    Every publication goes out at or after ``max(now, publish_at)``, so posts more than the
    largest gap before that cannot clash; later ones all can (windows and gaps push posts on).
    """
    gap = max((r.min_gap for r in config.routes.values() if r.min_gap), default=timedelta(0))
    return max(now, item.publish_at or now) - gap


def same_language(locale: str, source: str) -> bool:
    """Whether ``locale`` is written like ``source``: the same language (for Chinese, the same tag)."""
    a, b = locale.lower().split("-"), source.lower().split("-")
    if a[0] != b[0]:
        return False
    return a[0] != "zh" or a == b  # Chinese scripts and regions differ in writing, not just spelling


def evergreen_text(item: ContentItem, fields: Mapping[str, str], locale: str, slot: int,
                   channel_text: str | None) -> tuple[str | None, str | None]:
    """``(channel_text, variant)`` for one slot, so consecutive posts of an item never repeat a text.

    Slot 0 is the usual post (a hand-written channel text, else the adapter's own composition of
    title and summary). Later slots go round a pool that starts with the usual post, then the
    item's ``repeat.variants`` when they are in the publication's language (they are written in
    the source language and not machine-translated), then phrasings of the localized fields: the
    summary alone, the title alone, the summary followed by the title. Duplicates are dropped, so
    the pool has at least two distinct entries and slot ``k`` and ``k + 1`` always differ; a text
    comes back only after every other one was used, which keeps platforms' duplicate checks (X
    answers 403 to a repeated text) from refusing a repost.
    """
    if item.repeat is None or slot == 0:
        return channel_text, None
    title = fields.get("title") or item.title
    summary = fields.get("summary") or item.summary or teaser_of(item, fields)
    extra = list(item.repeat.variants) if same_language(locale, item.source_locale) else []
    extra += [summary, title, f"{summary}\n\n{title}"]
    pool: list[str | None] = [None]  # None: the usual post
    for text in extra:
        if text and text != channel_text and text not in pool:
            pool.append(text)
    choice = pool[slot % len(pool)]
    return (channel_text, None) if choice is None else (None, choice)


def horizon_for(item: ContentItem) -> timedelta:
    """How far ahead of now an item's last slot may lie (for sanity checks and reports)."""
    if item.repeat is None:
        return timedelta(0)
    return item.repeat.interval * (item.repeat.count or 1)
