"""Preview: every post the routes would make for an item, rendered by the publishing code.

A regional marketer runs ``syndicate preview item.yaml`` before approving: for each locale and
account it shows the final text (or HTML), its length against the channel's limit, the tagged
link, thread parts and warnings (cut text, missing alt text, machine or missing translation).
Nothing is stored and nothing is sent. The render call is the same one publishing makes
(``adapter.render(build_content(...))``), so a preview is byte-identical to what is posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .errors import ContentError, LocalizationError
from .localization import Localization, localize_for_route
from .models import ContentItem
from .pipeline import PostTarget, build_content
from .planning import PlanOptions, plan_item
from .runtime import Runtime
from .states import PublicationState

__all__ = ["PreviewPost", "preview_item", "preview_stored"]


@dataclass(frozen=True)
class PreviewPost:
    """One post as it would be published (or why it would not be)."""

    region: str
    locale: str
    account: str
    channel: str
    slot: int
    scheduled_for: datetime
    state: str
    text: str = ""
    format: str = "text"
    length: int = 0
    limit: int = 0
    link: str = ""
    title: str | None = None
    parts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        data = asdict(self)
        data["scheduled_for"] = self.scheduled_for.isoformat()
        data["parts"] = list(self.parts)
        data["warnings"] = list(self.warnings)
        return data


def _localize(rt: Runtime, item: ContentItem, locale: str) -> Localization:
    # As the worker does (engines with their own options, glossary, time zone), without storing anything.
    return localize_for_route(rt, rt.config.routes_for_locale(locale)[0], item, locale)


def _render(rt: Runtime, item: ContentItem, fields: dict[str, str], sources: dict[str, str],
            target: PostTarget, base: dict[str, Any], extra_warnings: Sequence[str]) -> PreviewPost:
    try:
        rendered = rt.adapter(target.account).render(build_content(item, fields, target))
    except ContentError as exc:
        return PreviewPost(**base, state="failed", error=str(exc), sources=sources)
    warnings = list(rendered.warnings) + list(extra_warnings)
    machine = sorted(k for k, v in sources.items() if v in ("machine", "cache"))
    if machine:
        warnings.append(f"machine translation: {', '.join(machine)}")
    if rendered.length > rendered.limit:
        warnings.append(f"over the limit: {rendered.length} > {rendered.limit}")
    return PreviewPost(**base, text=rendered.text, format=rendered.format, length=rendered.length,
                       limit=rendered.limit, link=rendered.link, title=rendered.title, parts=rendered.parts,
                       warnings=tuple(warnings), sources=sources)


def _wanted(value: str, wanted: Sequence[str] | None) -> bool:
    return not wanted or value in wanted


def preview_item(rt: Runtime, item: ContentItem, *, now: datetime, locales: Sequence[str] | None = None,
                 channels: Sequence[str] | None = None, ignore_schedule: bool = False) -> list[PreviewPost]:
    """Render every post ``item`` would make under ``rt.config``, without storing or sending.

    Args:
        rt: a runtime (only its config and adapters are used).
        item: the item.
        now: the planning instant.
        locales: only these locales.
        channels: only these accounts or adapter names.
        ignore_schedule: plan every post for ``now`` (as ``--now`` does).
    """
    out: list[PreviewPost] = []
    cache: dict[str, Localization | LocalizationError] = {}
    for p in plan_item(item, rt.config, PlanOptions(now=now, ignore_schedule=ignore_schedule)):
        if not _wanted(p.locale, locales) or not (_wanted(p.account, channels) or _wanted(p.channel, channels)):
            continue
        base = {"region": p.region, "locale": p.locale, "account": p.account, "channel": p.channel, "slot": p.slot,
                "scheduled_for": p.scheduled_for}
        if p.state is PublicationState.SKIPPED:
            out.append(PreviewPost(**base, state="skipped", error=p.reason))
            continue
        if p.locale not in cache:
            try:
                cache[p.locale] = _localize(rt, item, p.locale)
            except LocalizationError as exc:
                cache[p.locale] = exc
        loc = cache[p.locale]
        if isinstance(loc, LocalizationError):
            out.append(PreviewPost(**base, state="held", error=f"no translation: {loc}"))
            continue
        out.append(_render(rt, item, loc.fields, loc.sources, p, {**base, "state": "scheduled"}, loc.warnings))
    return out


def preview_stored(rt: Runtime, item_id: str, *, revision: int | None = None, locales: Sequence[str] | None = None,
                   channels: Sequence[str] | None = None) -> list[PreviewPost]:
    """Render the stored publications of an item from the ledger (their stored localizations)."""
    stored = rt.ledger.item(item_id, revision)
    if stored is None:
        raise ContentError("not found in the ledger", item_id=item_id)
    item = stored.item
    out: list[PreviewPost] = []
    for pub in rt.ledger.publications(item_id=item_id, revision=item.revision):
        if not _wanted(pub.locale, locales) or not (_wanted(pub.account, channels) or _wanted(pub.channel, channels)):
            continue
        base = {"region": pub.region, "locale": pub.locale, "account": pub.account, "channel": pub.channel,
                "slot": pub.slot, "scheduled_for": pub.scheduled_for}
        if pub.state == PublicationState.SKIPPED or pub.account not in rt.config.accounts:
            out.append(PreviewPost(**base, state=pub.state, error=pub.last_error))
            continue
        row = rt.ledger.localization(item_id, item.revision, pub.locale)
        if row is None or row["state"] != "done":
            try:
                loc = _localize(rt, item, pub.locale)
            except LocalizationError as exc:
                out.append(PreviewPost(**base, state=pub.state, error=f"no translation: {exc}"))
                continue
            fields, sources, warnings = loc.fields, loc.sources, loc.warnings
        else:
            fields, sources, warnings = row["fields"] or {}, row["sources"] or {}, []
        out.append(_render(rt, item, fields, sources, pub, {**base, "state": pub.state}, warnings))
    return out
