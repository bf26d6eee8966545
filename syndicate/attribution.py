"""UTM tagging: every link to the canonical page carries parameters that attribute the lead.

:func:`tag_url` appends ``utm_*`` parameters to a URL's query, before any ``#fragment``,
keeping every other byte of the URL as it was (no decode/encode round trip). A ``utm_*``
parameter that we set and that the URL already had is replaced, so a lead is attributed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

__all__ = ["UTM_KEYS", "tag_url", "utm_for"]

#: The parameters we set, in the order we write them.
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")


def _encode(value: str) -> str:
    return quote(value, safe="-._~")


def tag_url(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query string.

    Existing parameters keep their bytes and order; those with a name in ``params`` are dropped
    (ours win). Values are percent-encoded (RFC 3986 unreserved characters stay as they are).
    Parameters with empty values are not written.

    >>> tag_url("https://ex.com/a?b=1#top", {"utm_source": "x"})
    'https://ex.com/a?b=1&utm_source=x#top'
    """
    ours = [(k, v) for k, v in params.items() if v]
    if not ours:
        return url
    head, hash_, fragment = url.partition("#")
    base, qmark, query = head.partition("?")
    names = {k for k, _ in ours}
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in names] if qmark else []
    added = [f"{_encode(k)}={_encode(v)}" for k, v in ours]
    return base + "?" + "&".join(kept + added) + hash_ + fragment


def utm_for(*, source: str, medium: str, campaign: str, content: str, term: str | None = None,
            id: str | None = None) -> dict[str, str]:
    """The ``utm_*`` mapping for one publication, in :data:`UTM_KEYS` order, without empty values."""
    values = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign, "utm_content": content,
              "utm_term": term or "", "utm_id": id or ""}
    return {k: values[k] for k in UTM_KEYS if values[k]}


def same_site(a: str, b: str) -> bool:
    """Whether two URLs point at the same host (a CTA on the canonical site is tagged too)."""
    return (urlsplit(a).hostname or "").lower() == (urlsplit(b).hostname or "").lower()
