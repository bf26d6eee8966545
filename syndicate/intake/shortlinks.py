"""Short links: which publications post one, and the :class:`Shortener` that makes it.

An account with ``short_links: {base_url: ...}`` (``accounts.yaml``), or a route that says
``short_links: true`` under ``settings.yaml``'s ``short_links: {base_url: ...}``, posts a short
link on the organisation's own domain in place of the tagged link; the short link answers a 302 to the
tagged URL (``syndicate links serve``), so attribution is unchanged (docs/short-links.md).

The link is made once per publication: at planning (the intake step, right after the item is
stored) and, should that not have happened (the setting came later), before the first render.
Both ask the same :meth:`Shortener.short_url`, which must return the same URL every time it is
asked about the same publication.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..base.logging import get_logger
from ..ledger import Ledger, Publication
from ..ledger.links import CODE_LENGTH
from ..model.config import Config, ShortLinks
from ..model.states import PublicationState

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["LedgerShortener", "Shortener", "make_short_links", "preview_short_url", "short_link_settings",
           "short_url_for", "shortener"]

log = get_logger("syndicate.pipeline")


class Shortener(Protocol):
    """Makes the short link of a publication.

    ``short_url`` is called at planning and again before every render of the publication
    (reconciliation renders too), so it must be idempotent: the first call makes the link, every
    later call returns the same URL without making another. A later revision of the same item
    (same locale, account and slot) gets a link of its own (X refuses a post whose text repeats an
    earlier one), and the earlier revisions' links should then send readers to the new revision's
    ``tagged_url``, so that a post already out keeps working and stays current.
    """

    def short_url(self, pub: Publication) -> str:
        """The short URL that sends a reader to ``pub.tagged_url``."""
        ...


class LedgerShortener:
    """The built-in shortener: codes in the ledger's ``short_links`` table, served by
    ``syndicate links serve`` under ``base_url``."""

    def __init__(self, ledger: Ledger, base_url: str) -> None:
        self.ledger = ledger
        self.base_url = base_url

    def short_url(self, pub: Publication) -> str:
        """``base_url`` followed by the publication's code (made on the first call)."""
        return self.base_url + self.ledger.short_link_code(pub)


def short_link_settings(config: Config, pub: Publication | None = None, *, account: str | None = None,
                        region: str | None = None) -> ShortLinks | None:
    """The short-link setting that applies to ``pub`` (or to ``account`` on ``region``'s route): the
    account's own ``short_links``, else ``settings.yaml``'s when the route says ``short_links: true``,
    else None (the post links to its tagged URL)."""
    account = pub.account if pub is not None else account
    region = pub.region if pub is not None else region
    acc = config.accounts.get(account) if account is not None else None
    if acc is not None and acc.short_links is not None:
        return acc.short_links
    route = config.routes.get(region) if region is not None else None
    return config.short_links if route is not None and route.short_links else None


def preview_short_url(config: Config, *, account: str, region: str) -> str | None:
    """What a preview shows in place of a short link not made yet: the base URL and a code of the
    real length (``0000000000``), so lengths match; None when the post links to the tagged URL."""
    settings = short_link_settings(config, account=account, region=region)
    return settings.base_url + "0" * CODE_LENGTH if settings is not None else None


def shortener(ledger: Ledger, settings: ShortLinks) -> Shortener:
    """The shortener ``settings`` names."""
    # ``shortener`` is validated at load; ``builtin`` is the only one syndicate ships.
    return LedgerShortener(ledger, settings.base_url)


def short_url_for(rt: Services, pub: Publication) -> str | None:
    """The short link ``pub`` posts instead of its tagged URL, or None when its route and account
    post the tagged URL itself."""
    settings = short_link_settings(rt.config, pub)
    if settings is None:
        return None
    return shortener(rt.ledger, settings).short_url(pub)


#: A skipped or cancelled publication never posts, so it gets no short link.
_NO_LINK = frozenset({PublicationState.SKIPPED.value, PublicationState.CANCELLED.value})


def make_short_links(rt: Services, pubs: Callable[[], Iterable[Publication]]) -> int:
    """Make the short links of the publications ``pubs()`` reads that post one (the intake step, at
    planning; nothing is read when no route or account posts short links); returns how many
    publications have one. A failure is logged and left to the render, which asks again."""
    config = rt.config
    if not any(a.short_links for a in config.accounts.values()) and \
            not (config.short_links and any(r.short_links for r in config.routes.values())):
        return 0
    made = 0
    for pub in pubs():
        if pub.state in _NO_LINK:
            continue
        try:
            if short_url_for(rt, pub) is not None:
                made += 1
        except Exception as exc:  # noqa: BLE001 - the publish step makes the link before rendering
            log.warning("short_link.deferred", publication=pub.id, error=f"{type(exc).__name__}: {exc}")
    return made
