"""The calendar as an iCalendar feed (RFC 5545), for calendar apps.

One ``VEVENT`` per publication:

- ``UID`` ``<publication id>-<marker>@<domain>``: the row id and a hash of the publication's key,
  stable across exports, so a re-import updates events instead of doubling them, and two ledgers
  (staging, production) never share one.
- ``DTSTART`` in UTC (``...Z``: no time zone definitions needed) with a ``DURATION`` of 15 minutes,
  so calendar apps draw a block; the local time is in the ``DESCRIPTION``.
- ``SUMMARY`` channel, account, locale and title, with what the calendar calls the publication in
  brackets when it is not simply planned or published (``[held]``, ``[superseded]``...).
- ``STATUS`` ``CONFIRMED`` once published; ``CANCELLED`` when it will not go out (cancelled,
  superseded, skipped by a route's rules, failed); ``TENTATIVE`` otherwise (planned, awaiting
  review, held, in progress, in doubt).
- ``URL`` the post's permalink once published; ``DESCRIPTION`` the state, why, the tagged link.

Text values are escaped (backslash, semicolon, comma, line breaks) and stripped of the control
characters RFC 5545 forbids; lines are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from .calendar import Entry

__all__ = ["DEFAULT_UID_DOMAIN", "EVENT_MINUTES", "escape_text", "fold_line", "ical_feed", "ical_status"]

#: Right-hand side of each event's UID (``.invalid`` is reserved: it names no real host).
DEFAULT_UID_DOMAIN = "syndicate.invalid"
#: How long calendar apps draw each post (a post has no duration; a zero-length event is hard to see).
EVENT_MINUTES = 15
#: Longest line in octets, without its CRLF (RFC 5545, 3.1).
LINE_OCTETS = 75
PRODID = "-//syndicate//publication calendar//EN"

_CONFIRMED = frozenset({"published"})
_CANCELLED = frozenset({"cancelled", "superseded", "skipped", "failed"})
#: What the calendar calls a publication that needs no bracket in its summary.
_PLAIN = frozenset({"scheduled", "published"})


def ical_status(shown: str) -> str:
    """The ``STATUS`` of an event for what the calendar calls its publication."""
    if shown in _CONFIRMED:
        return "CONFIRMED"
    return "CANCELLED" if shown in _CANCELLED else "TENTATIVE"


def escape_text(value: str) -> str:
    """``value`` as an RFC 5545 TEXT value: ``\\``, ``;``, ``,`` and line breaks escaped, other
    control characters (forbidden in TEXT) dropped; a tab stays."""
    out = []
    for ch in value.replace("\r\n", "\n").replace("\r", "\n"):
        if ch == "\\":
            out.append("\\\\")
        elif ch in ";,":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t" or not (ord(ch) < 0x20 or ord(ch) == 0x7F):
            out.append(ch)
    return "".join(out)


def _uri(value: str) -> str:
    """A URI value: no escaping applies, but no control character or space may appear."""
    return "".join(ch for ch in value if ord(ch) > 0x20 and ord(ch) != 0x7F)


def fold_line(line: str) -> str:
    """``line`` folded at :data:`LINE_OCTETS` octets of UTF-8 (each continuation starts with a space,
    which counts), never inside a character; joined with CRLF, without a final one."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > LINE_OCTETS:
            parts.append("".join(current))
            current, size = [], 1  # the continuation's leading space
        current.append(ch)
        size += n
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _uid(entry: Entry, domain: str) -> str:
    marker = hashlib.sha256((entry.key or f"{entry.item_id}/{entry.revision}/{entry.locale}/{entry.account}/"
                                           f"{entry.slot}").encode("utf-8")).hexdigest()[:12]
    return f"{entry.id if entry.id is not None else 'pub'}-{marker}@{domain}"


def _summary(entry: Entry) -> str:
    bracket = "" if entry.shown in _PLAIN else f"[{entry.shown.replace('_', ' ')}] "
    return f"{bracket}{entry.channel} · {entry.account} · {entry.locale}: {entry.title}"


def _description(entry: Entry) -> str:
    local = entry.local
    lines = [f"State: {entry.shown}" + (f" ({entry.state})" if entry.shown != entry.state else ""),
             f"Local time: {local:%Y-%m-%d %H:%M %Z} ({entry.timezone})",
             f"Item: {entry.item_id} revision {entry.revision}, slot {entry.slot}, region {entry.region}"]
    if entry.note:
        lines.append(f"Why: {entry.note}")
    if entry.link:
        lines.append(f"Post: {entry.link}")
    lines.append(f"Link: {entry.tagged_url}")
    return "\n".join(lines)


def _event(entry: Entry, *, stamp: str, domain: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_uid(entry, domain)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_stamp(entry.at)}",
        f"DURATION:PT{EVENT_MINUTES}M",
        f"SUMMARY:{escape_text(_summary(entry))}",
        f"STATUS:{ical_status(entry.shown)}",
        f"DESCRIPTION:{escape_text(_description(entry))}",
        f"CATEGORIES:{escape_text(entry.channel)},{escape_text(entry.shown)}",
    ]
    if entry.link:
        lines.append(f"URL:{_uri(entry.link)}")
    if entry.updated_at is not None:
        lines.append(f"LAST-MODIFIED:{_stamp(entry.updated_at)}")
    lines.append("END:VEVENT")
    return lines


def ical_feed(entries: Iterable[Entry], *, name: str = "syndicate publications", domain: str = DEFAULT_UID_DOMAIN,
              now: datetime | None = None) -> str:
    """An RFC 5545 ``VCALENDAR`` with one ``VEVENT`` per entry, CRLF line ends, folded lines.

    Args:
        name: the calendar's name in calendar apps (``NAME`` of RFC 7986, and ``X-WR-CALNAME``,
            which older apps read).
        domain: the right-hand side of each UID.
        now: the ``DTSTAMP`` of every event (default: now).
    """
    stamp = _stamp(now or datetime.now(UTC))
    lines: list[str] = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
                        "METHOD:PUBLISH", f"NAME:{escape_text(name)}", f"X-WR-CALNAME:{escape_text(name)}"]
    for entry in entries:
        lines.extend(_event(entry, stamp=stamp, domain=domain))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)
