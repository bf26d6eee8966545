"""First comments at intake: what a comment says, and whether it fits its channel.

A first comment (docs/items.md) is a publication of its own under a post. Its text is the item's
``first_comment`` localized like the other fields, with the links to the item's hosts tagged with
the comment's own ``utm_content``; on a route with ``first_comment: link`` the tagged link follows
it. Each channel measures it (X: 280 weighted; LinkedIn: 1,250) and never cuts it: a comment
whose text is known at intake (the source text for locales of the source language, a human
translation) and does not fit refuses the item, naming the field, the account and the limit.
Machine-translated comments are measured when they are rendered (``syndicate preview`` shows them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from ..channels.contract import Adapter
from ..errors import ContentError
from ..ledger import NewPublication
from ..model.config import Config, Route
from ..model.item import ContentItem, InvalidItem
from ..model.states import PublicationState
from .attribution import item_link_tagger
from .planning import same_language

__all__ = ["CommentTarget", "build_comment", "check_first_comments"]


class CommentTarget(Protocol):
    """A first comment as planned or stored: its tagged link and its UTM parameters."""

    @property
    def tagged_url(self) -> str: ...
    @property
    def utm(self) -> dict[str, str]: ...


def build_comment(item: ContentItem, fields: Mapping[str, str], comment: CommentTarget, route: Route | None
                  ) -> tuple[str, str | None]:
    """The render input of a first comment: its text (localized, links to the item's hosts tagged
    with the comment's own ``utm_content``), and its tagged link when the route moves the link from
    the post into the comment (``first_comment: link``), else None."""
    text = fields.get("first_comment") or item.first_comment or ""
    never_tag = route.never_tag if route else ()
    tagged = item_link_tagger(item, comment.utm, never_tag).text(text) if text else ""
    link = comment.tagged_url if route is not None and route.first_comment == "link" else None
    return tagged, link


def _known_text(item: ContentItem, locale: str) -> tuple[str, str] | None:
    """The comment text of ``locale`` that is known before localization, and the field it comes
    from: a human translation for the locale, or the source text in a locale of its language."""
    human = item.overrides.locales.get(locale)
    if human is not None and human.first_comment is not None:
        return human.first_comment, f"overrides.locales.{locale}.first_comment"
    if same_language(locale, item.source_locale) and item.first_comment is not None:
        return item.first_comment, "first_comment"  # published as written: no translation
    return None


def check_first_comments(item: ContentItem, plan: Sequence[NewPublication], config: Config,
                         adapter: Callable[[str], Adapter]) -> None:
    """Refuse ``item`` when a first comment whose text is known now does not fit its channel.

    Raises:
        InvalidItem: every comment that is too long, by field, locale and account.
    """
    problems: list[tuple[str, str]] = []
    for pub in plan:
        if not pub.first_comment or pub.state is PublicationState.SKIPPED:
            continue
        known = _known_text(item, pub.locale)
        if known is None:
            continue
        text, field = known
        route = config.routes.get(pub.region)
        tagged, link = build_comment(item, {"first_comment": text}, pub, route)
        try:
            adapter(pub.account).render_comment(tagged, link)
        except ContentError as exc:
            problem = (field, f"on account {pub.account!r} ({pub.channel}, {pub.locale}): {exc.reason}")
            if problem not in problems:
                problems.append(problem)
    if problems:
        raise InvalidItem(item.id, problems)
