"""What a publication posts: the render input built from an item and its localization, and the
rendered post, exactly as publishing makes it (``syndicate preview`` uses the same functions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ..base.locales import is_rtl
from ..channels.contract import MediaRef, PostContent, PublicationRef, Rendered
from ..channels.rendering import cpu_budget
from ..errors import ContentError
from ..intake.attribution import item_link_tagger, tag_post_links
from ..intake.comments import build_comment
from ..intake.planning import evergreen_text, wants_first_comment
from ..intake.shortlinks import short_url_for
from ..intake.teaser import teaser_of
from ..ledger import Publication
from ..model.config import Route
from ..model.item import ContentItem

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["RENDER_CPU_BUDGET", "PostTarget", "build_content", "link_in_comment", "publication_ref",
           "render_publication", "render_target"]

#: CPU time (of the rendering thread) a render may use before it fails as a content error; well
#: under the publish time limit, so a text that cannot be rendered never runs into it.
RENDER_CPU_BUDGET = timedelta(seconds=5)


def publication_ref(rt: Services, pub: Publication) -> PublicationRef:
    """The adapter's view of ``pub`` (for a first comment, with its post's platform id).

    Raises:
        ContentError: a first comment whose post has no platform id (it was never published).
    """
    parent_remote_id = None
    if pub.parent_id is not None:
        post = rt.ledger.publication(pub.parent_id)
        if post is None or not post.remote_id:
            raise ContentError(f"the post of this first comment (publication {pub.parent_id}) has no platform id: "
                               "it was not published", item_id=pub.item_id)
        parent_remote_id = post.remote_id
    return PublicationRef(
        id=pub.id, key=pub.key, item_id=pub.item_id, revision=pub.revision, locale=pub.locale,
        account=pub.account, slot=pub.slot, tagged_url=pub.tagged_url, marker=pub.marker,
        scheduled_for=pub.scheduled_for,
        previous_remote_id=None if pub.parent_id is not None else rt.ledger.previous_remote_id(pub),
        parent_remote_id=parent_remote_id)


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
    @property
    def is_comment(self) -> bool: ...


def build_content(item: ContentItem, fields: Mapping[str, str], pub: PostTarget, *,
                  never_tag: Iterable[str] = (), link_in_comment: bool = False, link: str | None = None
                  ) -> PostContent:
    """The render input for ``pub``: localized fields, tagged links, the slot's variant.

    The call to action and the links in the text to the canonical or call-to-action host carry
    ``pub.utm``, except on the item's and ``never_tag``'s hosts (the route's; docs/attribution.md).
    ``link_in_comment``: the post's first comment carries the link, so the post leaves it out.
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
        published_at=item.publish_at, rtl=is_rtl(pub.locale), link_in_comment=link_in_comment), links)


def link_in_comment(rt: Services, item: ContentItem, pub: PostTarget, route: Route | None) -> bool:
    """Whether ``pub``'s post leaves its link to its first comment (the route says ``first_comment: link``
    and the post has a comment)."""
    if route is None or route.first_comment != "link" or pub.account not in rt.config.accounts:
        return False
    return wants_first_comment(item, rt.config, route, pub.account)


def render_publication(rt: Services, pub: Publication, *, localization: Mapping[str, Any] | None = None
                       ) -> Rendered:
    """Render ``pub`` exactly as publishing would (used by ``syndicate preview`` too).

    ``localization``: its localization's ``state`` and ``fields`` when the caller has read them
    already (the publish step's claim returns them); otherwise they are read here.

    Raises:
        ContentError: the item or its localization is missing or cannot be rendered.
    """
    item = rt.ledger.item_content(pub.item_id, pub.revision)
    if item is None:
        raise ContentError("item not found in the ledger", item_id=pub.item_id)
    loc = localization if localization is not None else rt.ledger.localization(pub.item_id, pub.revision, pub.locale)
    if loc is None or loc["state"] != "done":
        raise ContentError(f"no finished localization for {pub.locale}", item_id=pub.item_id)
    return render_target(rt, item, loc["fields"] or {}, pub, rt.config.routes.get(pub.region),
                         link=short_url_for(rt, pub))


def render_target(rt: Services, item: ContentItem, fields: Mapping[str, str], target: PostTarget,
                  route: Route | None, *, link: str | None = None) -> Rendered:
    """Render one post or first comment of ``item`` from its localized ``fields`` (publishing and
    ``syndicate preview`` alike). ``link``: the short link that stands for the target's tagged
    link (docs/short-links.md), if it has one.

    Raises:
        ContentError: it cannot be rendered (a first comment over its channel's limit, ...).
    """
    adapter = rt.adapter(target.account)
    if target.is_comment:
        text, tagged = build_comment(item, fields, target, route)
        with cpu_budget(RENDER_CPU_BUDGET.total_seconds()):
            return adapter.render_comment(text, (link or tagged) if tagged else None)
    content = build_content(item, fields, target, never_tag=route.never_tag if route else (),
                            link_in_comment=link_in_comment(rt, item, target, route), link=link)
    with cpu_budget(RENDER_CPU_BUDGET.total_seconds()):
        return adapter.render(content)
