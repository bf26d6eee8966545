"""What a publication posts: the render input built from an item and its localization, and the
rendered post, exactly as publishing makes it (``syndicate preview`` uses the same functions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from ..base.locales import is_rtl
from ..channels.contract import MediaRef, PostContent, PublicationRef, Rendered
from ..channels.rendering import cpu_budget
from ..errors import ContentError
from ..intake.attribution import item_link_tagger, tag_post_links
from ..intake.planning import evergreen_text
from ..intake.shortlinks import short_url_for
from ..intake.teaser import teaser_of
from ..ledger import Publication
from ..model.item import ContentItem

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["RENDER_CPU_BUDGET", "PostTarget", "build_content", "publication_ref", "render_publication"]

#: CPU time (of the rendering thread) a render may use before it fails as a content error; well
#: under the publish time limit, so a text that cannot be rendered never runs into it.
RENDER_CPU_BUDGET = timedelta(seconds=5)


def publication_ref(rt: Services, pub: Publication) -> PublicationRef:
    """The adapter's view of ``pub``."""
    return PublicationRef(
        id=pub.id, key=pub.key, item_id=pub.item_id, revision=pub.revision, locale=pub.locale,
        account=pub.account, slot=pub.slot, tagged_url=pub.tagged_url, marker=pub.marker,
        scheduled_for=pub.scheduled_for, previous_remote_id=rt.ledger.previous_remote_id(pub))


class PostTarget(Protocol):
    """Where a post goes: a stored ``Publication`` or a planned ``NewPublication`` (for previews)."""

    @property
    def locale(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def slot(self) -> int: ...
    @property
    def tagged_url(self) -> str: ...
    @property
    def utm(self) -> dict[str, str]: ...


def build_content(item: ContentItem, fields: Mapping[str, str], pub: PostTarget, *,
                  never_tag: Iterable[str] = (), link: str | None = None) -> PostContent:
    """The render input for ``pub``: localized fields, tagged links, the slot's variant.

    The call to action and the links in the text to the canonical or call-to-action host carry
    ``pub.utm``, except on the item's and ``never_tag``'s hosts (the route's; docs/attribution.md).
    The post's link is ``link`` when given (a short link that redirects to ``pub.tagged_url``,
    docs/short-links.md), else ``pub.tagged_url``.
    """
    links = item_link_tagger(item, pub.utm, never_tag)
    cta_url = None
    if item.cta is not None:
        cta_url = links.url(item.cta.url)
    channel_text = None
    for key in (pub.account, pub.channel):
        by_locale = item.overrides.channels.get(key)
        if by_locale and pub.locale in by_locale:
            channel_text = by_locale[pub.locale]
            break
    channel_text, variant = evergreen_text(item, fields, pub.locale, pub.slot, channel_text)
    return tag_post_links(PostContent(
        item_id=item.id, revision=item.revision, locale=pub.locale,
        title=fields.get("title", item.title), summary=fields.get("summary") or item.summary or teaser_of(item, fields),
        body=fields.get("body", item.body), body_format=item.body_format,
        link=link or pub.tagged_url, canonical_url=item.canonical_url,
        cta_text=fields.get("cta_text") or (item.cta.text if item.cta else None), cta_url=cta_url,
        tags=tuple(item.tags), media=tuple(MediaRef(m.url, m.alt, m.kind) for m in item.media),
        channel_text=channel_text, variant=variant, slot=pub.slot, campaign=item.campaign,
        published_at=item.publish_at, rtl=is_rtl(pub.locale)), links)


def render_publication(rt: Services, pub: Publication) -> Rendered:
    """Render ``pub`` exactly as publishing would (used by ``syndicate preview`` too).

    Raises:
        ContentError: the item or its localization is missing or cannot be rendered.
    """
    item = rt.ledger.item_content(pub.item_id, pub.revision)
    if item is None:
        raise ContentError("item not found in the ledger", item_id=pub.item_id)
    loc = rt.ledger.localization(pub.item_id, pub.revision, pub.locale)
    if loc is None or loc["state"] != "done":
        raise ContentError(f"no finished localization for {pub.locale}", item_id=pub.item_id)
    route = rt.config.routes.get(pub.region)
    content = build_content(item, loc["fields"] or {}, pub, never_tag=route.never_tag if route else (),
                            link=short_url_for(rt, pub))
    with cpu_budget(RENDER_CPU_BUDGET.total_seconds()):
        return rt.adapter(pub.account).render(content)
