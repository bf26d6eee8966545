"""Preview: every post the routes would make for an item, rendered by the publishing code.

A regional marketer runs ``syndicate preview item.yaml`` before approving: for each locale and
account it shows the final text (or HTML), its length against the channel's limit, the tagged
link, thread parts and warnings (cut text, missing alt text, machine or missing translation),
and the state it would start in (``awaiting_review`` where the route requires a reviewer for
machine text). A first comment is shown after its post, with its own length and limit. Nothing is
stored and nothing is sent. The render call is the same one publishing makes
(``publishing.content.render_target``), so a preview is byte-identical to what is posted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..errors import ContentError, LocalizationError
from ..intake.planning import PlanOptions, plan_item
from ..intake.shortlinks import preview_short_url
from ..localization import Localization, localize_for_route, translation_cache
from ..localization.cache import TranslationCache
from ..model.item import ContentItem
from ..model.states import PublicationState
from ..publishing.content import PostTarget, render_target
from ..services import Services

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
    #: ``post``, or ``first_comment`` for the comment that goes under the post before it.
    kind: str = "post"

    def as_json(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        data = asdict(self)
        data["scheduled_for"] = self.scheduled_for.isoformat()
        data["parts"] = list(self.parts)
        data["warnings"] = list(self.warnings)
        return data


@dataclass(frozen=True)
class _Where:
    region: str
    locale: str
    account: str
    channel: str
    slot: int
    scheduled_for: datetime
    comment: bool = False

    def post(self, state: str, **kw: Any) -> PreviewPost:
        return PreviewPost(region=self.region, locale=self.locale, account=self.account, channel=self.channel,
                           slot=self.slot, scheduled_for=self.scheduled_for, state=state,
                           kind="first_comment" if self.comment else "post", **kw)


def _localize(rt: Services, item: ContentItem, locale: str, cache: TranslationCache | None) -> Localization:
    # As the worker does (engines with their own options, glossary, time zone); the translation
    # cache saves asking the engine again for text it already translated. No ledger row is written.
    return localize_for_route(rt, rt.config.routes_for_locale(locale)[0], item, locale, cache=cache)


def _render(rt: Services, item: ContentItem, fields: Mapping[str, str], sources: dict[str, str],
            target: PostTarget, where: _Where, state: str, extra_warnings: Sequence[str]) -> PreviewPost:
    try:
        rendered = render_target(rt, item, fields, target, rt.config.routes.get(where.region),
                                 link=preview_short_url(rt.config, account=where.account, region=where.region))
    except ContentError as exc:
        return where.post("failed", error=str(exc), sources=sources)
    warnings = list(rendered.warnings) + list(extra_warnings)
    machine = sorted(k for k, v in sources.items() if v in ("machine", "cache"))
    if machine:
        warnings.append(f"machine translation: {', '.join(machine)}")
    if rendered.length > rendered.limit:
        warnings.append(f"over the limit: {rendered.length} > {rendered.limit}")
    return where.post(state, text=rendered.text, format=rendered.format, length=rendered.length,
                      limit=rendered.limit, link=rendered.link, title=rendered.title, parts=rendered.parts,
                      warnings=tuple(warnings), sources=sources)


def _wanted(value: str, wanted: Sequence[str] | None) -> bool:
    return not wanted or value in wanted


def preview_item(rt: Services, item: ContentItem, *, now: datetime, locales: Sequence[str] | None = None,
                 channels: Sequence[str] | None = None, ignore_schedule: bool = False,
                 cache: TranslationCache | None = None) -> list[PreviewPost]:
    """Render every post ``item`` would make under ``rt.config``, without storing or sending.

    Args:
        rt: a runtime (only its config and adapters are used).
        item: the item.
        now: the planning instant.
        locales: only these locales.
        channels: only these accounts or adapter names.
        ignore_schedule: plan every post for ``now`` (as ``--now`` does).
        cache: the translation cache to read and fill (default: none; every MT field is requested).
    """
    out: list[PreviewPost] = []
    done: dict[str, Localization | LocalizationError] = {}
    for p in plan_item(item, rt.config, PlanOptions(now=now, ignore_schedule=ignore_schedule)):
        if not _wanted(p.locale, locales) or not (_wanted(p.account, channels) or _wanted(p.channel, channels)):
            continue
        where = _Where(p.region, p.locale, p.account, p.channel, p.slot, p.scheduled_for, p.is_comment)
        if p.state is PublicationState.SKIPPED:
            out.append(where.post("skipped", error=p.reason))
            continue
        if p.locale not in done:
            try:
                done[p.locale] = _localize(rt, item, p.locale, cache)
            except LocalizationError as exc:
                done[p.locale] = exc
        loc = done[p.locale]
        if isinstance(loc, LocalizationError):
            out.append(where.post("held", error=f"no translation: {loc}"))
            continue
        # As the worker decides: machine text on a route that requires review waits for a reviewer.
        route = rt.config.routes_for_locale(p.locale)[0]
        review = route.translation.review_required and loc.needs_review
        state = PublicationState.AWAITING_REVIEW.value if review else PublicationState.SCHEDULED.value
        out.append(_render(rt, item, loc.fields, loc.sources, p, where, state, loc.warnings))
    return out


def preview_stored(rt: Services, item_id: str, *, revision: int | None = None, locales: Sequence[str] | None = None,
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
        where = _Where(pub.region, pub.locale, pub.account, pub.channel, pub.slot, pub.scheduled_for, pub.is_comment)
        if pub.state == PublicationState.SKIPPED or pub.account not in rt.config.accounts:
            out.append(where.post(pub.state, error=pub.last_error))
            continue
        row = rt.ledger.localization(item_id, item.revision, pub.locale)
        if row is None or row["state"] != "done":
            try:
                loc = _localize(rt, item, pub.locale, translation_cache(rt.redis(), rt.namespace, rt.ledger))
            except LocalizationError as exc:
                out.append(where.post(pub.state, error=f"no translation: {exc}"))
                continue
            fields, sources, warnings = loc.fields, loc.sources, list(loc.warnings)
        else:
            fields, sources, warnings = row["fields"] or {}, row["sources"] or {}, []
        out.append(_render(rt, item, fields, sources, pub, where, pub.state, warnings))
    return out
