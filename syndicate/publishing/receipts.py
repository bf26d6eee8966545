"""What a platform returns about a post, checked before the ledger keeps it.

A permalink comes from the platform (or a partner's receiver): the ledger stores it, reports export
it, the API and producer webhooks hand it on, and dashboards make it a link. It is kept only if it is
an absolute URL of a scheme the adapter declares (``Adapter.permalink_schemes``: http and https, plus
``file`` for adapters that write local files), at most 2,048 characters, without whitespace, control
or invisible characters and without credentials. Otherwise the post *was* made: it stays published,
never re-posted, with the tagged URL it carries as its back-link and a warning saying why.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from urllib.parse import urlsplit

__all__ = ["MAX_PERMALINK_CHARS", "checked_permalink", "permalink_problem"]

#: Longest permalink kept, in characters.
MAX_PERMALINK_CHARS = 2048


def _has_hidden_characters(text: str) -> bool:
    """Whether ``text`` holds whitespace, or control, format, surrogate, private-use or unassigned characters."""
    if text.isascii():  # the usual case, without a look-up per character: in ASCII those are the
        return not text.isprintable() or " " in text  # controls (not printable) and the space
    return any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


def permalink_problem(permalink: object, schemes: Collection[str]) -> str | None:
    """Why ``permalink`` cannot be stored, or None when it can."""
    if not isinstance(permalink, str) or not permalink:
        return "it is empty"
    if len(permalink) > MAX_PERMALINK_CHARS:
        return f"it is longer than {MAX_PERMALINK_CHARS:,} characters"
    if _has_hidden_characters(permalink):
        return "it contains whitespace, control or invisible characters"
    try:
        parts = urlsplit(permalink)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "it is not a well-formed URL"
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return f"its scheme is {scheme or 'missing'!r}, not one of {', '.join(sorted(schemes))}"
    if scheme in ("http", "https"):
        if not parts.hostname:
            return "it has no host"
        if parts.username is not None or parts.password is not None:
            return "it carries credentials"
    elif not parts.path:
        return "it has no path"
    return None


def checked_permalink(permalink: object, *, schemes: Collection[str], fallback: str) -> tuple[str, str | None]:
    """``(permalink, None)`` when it can be stored, else ``(fallback, warning)``."""
    problem = permalink_problem(permalink, schemes)
    if problem is None:
        assert isinstance(permalink, str)
        return permalink, None
    return fallback, f"the platform's permalink was not kept ({problem}); the back-link is the tagged URL"
