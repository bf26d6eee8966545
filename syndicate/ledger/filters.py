"""Filters that name things: every value is checked, and a filter that matches nothing says so.

``report --state failled``, ``cancel ITEM --account nope`` or ``preview --locale es-MX`` used to
return nothing with exit 0, which reads as "nothing to do". A state, account, locale or channel
that does not exist is an :class:`~syndicate.errors.InvalidFilter` (exit 2 on the command line,
422 from the API) that lists the values that do; a valid filter that matches nothing is answered
with :func:`nothing_matched`'s sentence.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..base.locales import InvalidLocale, canonical
from ..errors import InvalidFilter
from ..model.states import PublicationState

if TYPE_CHECKING:
    from . import Ledger

__all__ = ["STATES", "check_choice", "check_in_ledger", "check_locale", "check_states", "listing",
           "nothing_matched"]

#: Every publication state, in lifecycle order.
STATES: tuple[str, ...] = tuple(s.value for s in PublicationState)
#: At most this many valid values are listed in a message.
MAX_LISTED = 20


def listing(values: Iterable[object], *, limit: int = MAX_LISTED) -> str:
    """``a, b, c`` (the first ``limit``, then ``and N more``), or ``none``."""
    items = [str(v) for v in values]
    if not items:
        return "none"
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _hint(value: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(valid), n=1, cutoff=0.6)
    if not close:
        lowered = {v.lower(): v for v in valid}
        close = [lowered[value.lower()]] if value.lower() in lowered else []
    return f"; did you mean {close[0]!r}?" if close else ""


def check_choice(name: str, value: str, valid: Sequence[str], *, where: str = "", plural: str | None = None) -> str:
    """``value`` when it is one of ``valid``; else :class:`InvalidFilter` listing them.

    Args:
        name: the filter, as the user wrote it (``account``).
        value: the value given.
        valid: the values that exist.
        where: what ``valid`` belongs to (``of item 'x'``, ``in the ledger``), for the message.
        plural: the plural of ``name`` (default ``name + "s"``).
    """
    if value in valid:
        return value
    many = plural or f"{name}s"
    scope = f" {where}" if where else ""
    raise InvalidFilter(name, value, f"unknown {name} {value!r}{_hint(value, valid)} "
                                     f"({many}{scope}: {listing(valid)})", valid)


def check_in_ledger(ledger: Ledger, name: str, column: str, value: str | None) -> None:
    """:class:`InvalidFilter` unless some publication in the ledger has ``value`` in ``column``
    (``check_in_ledger(led, "campaign", "campaign", "spring")``); nothing for ``None``."""
    if value is None:
        return
    exists = ledger.item(value) is not None if column == "item_id" else bool(
        ledger.distinct_values(column, **{column: value}))
    if not exists:
        check_choice(name, value, ledger.distinct_values(column), where="in the ledger")


def check_states(values: Iterable[str], allowed: Sequence[str] = STATES) -> list[str]:
    """Each of ``values`` when it is a publication state (of ``allowed``); else :class:`InvalidFilter`."""
    return [check_choice("state", v, allowed) for v in values]


def check_locale(value: str, valid: Sequence[str], *, where: str = "") -> str:
    """``value`` as a canonical BCP 47 tag that is one of ``valid``; else :class:`InvalidFilter`
    (``de_DE`` gets the hint ``did you mean de-DE?``)."""
    try:
        tag = canonical(value)
    except InvalidLocale as exc:
        raise InvalidFilter("locale", value, f"invalid locale {value!r}: {exc} (locales{' ' + where if where else ''}:"
                                             f" {listing(valid)})", valid) from None
    return check_choice("locale", tag, valid, where=where)


def nothing_matched(what: str, filters: Mapping[str, object]) -> str:
    """``no publications match campaign 'spring', state failed`` (``what`` = ``publications``)."""
    parts = []
    for name, value in filters.items():
        if value is None or value == () or value == []:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            parts.append(f"{name} {' or '.join(str(v) for v in value)}")
        else:
            parts.append(f"{name} {value!r}")
    return f"no {what} match {', '.join(parts)}" if parts else f"no {what} yet"
