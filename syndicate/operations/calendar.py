"""The publication calendar: every planned, published and held post by local day and time.

A publication is placed at the time it went out when it is published, else at its planned time,
in its route's time zone (the ``timezone`` of ``config/routes/REGION.yaml``; UTC when the route is
gone from the config). Days are local days: ``--from 2026-12-07`` starts at midnight in each
route's own zone.

What the calendar calls a publication (:attr:`Entry.shown`) is its ledger state, except:
``held`` for an open publication whose account is held (expired credentials, endpoint gone:
nothing is sent until the account is reset), and ``superseded`` for one cancelled because its item
got a newer revision. The table, the JSON, the iCalendar feed (:mod:`.ical`) and the HTML week
view (:mod:`.weekview`) all show the same entries.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import InvalidFilter
from ..ledger import CalendarRow, Ledger
from .holds import HELD_STATES, held_note

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "CalendarRange", "Entry", "calendar_entries", "calendar_json",
           "calendar_range", "calendar_table", "entry_from_report_row", "parse_day"]

#: Days shown after ``--from`` when ``--to`` is not given (two weeks: this week and the next).
DEFAULT_DAYS = 14
#: The longest range one calendar shows, in days (a year; a wider view is a report).
MAX_DAYS = 366
#: The earliest and latest day a calendar may show (far enough from the ends of ``datetime``).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9000, 12, 31)
#: States whose note is why the publication will not go out, not an error.
_REASON_STATES = frozenset({"skipped", "cancelled"})


@dataclass(frozen=True)
class CalendarRange:
    """Local days, both included: ``first`` to ``last``."""

    first: date
    last: date

    @property
    def days(self) -> int:
        """How many days the range holds."""
        return (self.last - self.first).days + 1

    def contains(self, day: date) -> bool:
        """Whether ``day`` is one of the range's days."""
        return self.first <= day <= self.last

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """UTC instants that hold every local day of the range in any time zone (offsets run from
        -12:00 to +14:00), to narrow the ledger's read before each entry is placed in its own zone."""
        start = datetime.combine(self.first, time(0), UTC) - timedelta(hours=14)
        end = datetime.combine(self.last + timedelta(days=1), time(0), UTC) + timedelta(hours=12)
        return start, end


def parse_day(value: str, option: str, today: date) -> date:
    """``value`` of ``option`` as a date: ``YYYY-MM-DD``, ``today``, or ``+N``/``-N`` days from today.

    Raises:
        InvalidFilter: the value is none of these (the message names the option and the value).
    """
    text = value.strip()
    try:
        if text.lower() == "today":
            day = today
        elif text[:1] in "+-" and text[1:].isascii() and text[1:].isdigit():
            day = today + timedelta(days=int(text))
        elif len(text) != 10:  # fromisoformat also takes 20261207 and week dates: one form is clearer
            raise ValueError("expected YYYY-MM-DD")
        else:
            day = date.fromisoformat(text)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"out of range ({FIRST_DAY.year} to {LAST_DAY.year})")
    except (ValueError, OverflowError) as exc:
        raise InvalidFilter(option, value, f"invalid {option} {value!r}: {exc}; give a date as YYYY-MM-DD "
                                           "(such as 2026-12-07), 'today', or +N / -N days from today") from None
    return day


def calendar_range(first: str | None, last: str | None, today: date) -> CalendarRange:
    """The days from ``--from`` to ``--to`` (both included); ``today`` and :data:`DEFAULT_DAYS` after
    the first day when they are not given.

    Raises:
        InvalidFilter: a bad date, ``--to`` before ``--from``, or more than :data:`MAX_DAYS` days.
    """
    start = parse_day(first, "--from", today) if first is not None else today
    end = parse_day(last, "--to", today) if last is not None else start + timedelta(days=DEFAULT_DAYS)
    if end < start:
        raise InvalidFilter("--to", str(last), f"--to {end.isoformat()} is before --from {start.isoformat()}")
    span = CalendarRange(start, end)
    if span.days > MAX_DAYS:
        raise InvalidFilter("--to", str(last), f"from {start.isoformat()} to {end.isoformat()} is {span.days} days; "
                                               f"a calendar shows at most {MAX_DAYS} (use 'syndicate report' for more)")
    return span


@dataclass(frozen=True)
class Entry:
    """One publication on the calendar.

    Attributes:
        id: the publication's row id (None when built from a report row, which has none).
        at: when it went out (published) or is planned, UTC.
        timezone: the IANA zone of its route, in which ``local`` is given.
        state: its ledger state.
        shown: what the calendar calls it: the state, or ``held`` or ``superseded`` (module docstring).
        note: the back-link's absence explained: why it is held, skipped, cancelled or failed.
        link: the post's permalink when published, else None.
        tagged_url: the link the post carries, with its UTM tags.
    """

    id: int | None
    key: str | None
    item_id: str
    revision: int
    title: str
    locale: str
    region: str
    channel: str
    account: str
    slot: int
    state: str
    shown: str
    at: datetime
    timezone: str
    note: str | None
    link: str | None
    tagged_url: str
    updated_at: datetime | None

    @property
    def local(self) -> datetime:
        """``at`` in the route's time zone."""
        return self.at.astimezone(ZoneInfo(self.timezone))

    @property
    def day(self) -> date:
        """The local day the entry falls on."""
        return self.local.date()

    def as_json(self) -> dict[str, Any]:
        """The entry for scripts (times in ISO 8601 with their offset)."""
        local = self.local
        return {
            "id": self.id, "key": self.key, "item_id": self.item_id, "revision": self.revision, "title": self.title,
            "locale": self.locale, "region": self.region, "channel": self.channel, "account": self.account,
            "slot": self.slot, "state": self.state, "shown": self.shown, "at": self.at.isoformat(),
            "local": local.isoformat(), "local_day": local.date().isoformat(), "timezone": self.timezone,
            "permalink": self.link, "tagged_url": self.tagged_url, "note": self.note,
        }


def _zone(zones: Mapping[str, str], region: str) -> str:
    return zones.get(region) or "UTC"


def entry_from_row(row: CalendarRow, zones: Mapping[str, str],
                   held: Mapping[str, tuple[str, str | None]]) -> Entry:
    """The calendar entry of a ledger row (``zones``: region → IANA zone; ``held``: the held accounts)."""
    p = row.publication
    note = held_note(p, held)
    shown = "held" if note else p.state
    if p.state == "cancelled" and row.item_state == "superseded":
        shown = "superseded"
    return Entry(
        id=p.id, key=p.key, item_id=p.item_id, revision=p.revision, title=row.title, locale=p.locale,
        region=p.region, channel=p.channel, account=p.account, slot=p.slot, state=p.state, shown=shown,
        at=p.published_at if p.state == "published" and p.published_at else p.scheduled_for,
        timezone=_zone(zones, p.region), note=note or (p.last_error if p.state != "published" else None),
        link=p.permalink if p.state == "published" and p.permalink else None, tagged_url=p.tagged_url,
        updated_at=p.updated_at)


def entry_from_report_row(row: Mapping[str, Any]) -> Entry:
    """The calendar entry of a ``syndicate report`` row (:func:`~.report.report_rows`), for the
    report's week view. A report row has no title (the item id stands in) and says a publication
    is held only by its ``reason``: an open publication has one only when its account is held."""
    state = str(row["state"])
    reason = row.get("reason")
    held = bool(reason) and state not in _REASON_STATES and state in {s.value for s in HELD_STATES}
    published = state == "published" and row.get("published_at")
    at = datetime.fromisoformat(str(row["published_at"] if published else row["scheduled_for"]))
    return Entry(
        id=None, key=None, item_id=str(row["item_id"]), revision=int(row["revision"]), title=str(row["item_id"]),
        locale=str(row["locale"]), region=str(row.get("region") or ""), channel=str(row["channel"]),
        account=str(row["account"]), slot=int(row["slot"]), state=state, shown="held" if held else state,
        at=at.astimezone(UTC), timezone=str(row.get("timezone") or "UTC"),
        note=None if state == "published" else (reason or row.get("last_error")),
        link=str(row["permalink"]) if state == "published" and row.get("permalink") else None,
        tagged_url=str(row.get("tagged_url") or ""), updated_at=None)


def calendar_entries(ledger: Ledger, span: CalendarRange, *, zones: Mapping[str, str],
                     regions: Sequence[str] | None = None, accounts: Sequence[str] | None = None) -> list[Entry]:
    """Every publication whose local day is in ``span``, by local day, local time, then UTC time.

    Args:
        zones: region → IANA time zone (the routes' ``timezone``).
        regions: only these routes (None: all).
        accounts: only these accounts (None: all).
    """
    start, end = span.utc_bounds()
    held = ledger.held_accounts()
    entries = [entry_from_row(r, zones, held)
               for r in ledger.calendar_rows(start=start, end=end, regions=regions, accounts=accounts)]
    return sort_entries(e for e in entries if span.contains(e.day))


def sort_entries(entries: Iterable[Entry]) -> list[Entry]:
    """``entries`` by local day, local time of day, UTC time, item, locale, account, slot."""
    return sorted(entries, key=lambda e: (e.day, e.local.time(), e.at, e.item_id, e.revision, e.locale,
                                          e.account, e.slot))


def counts(entries: Iterable[Entry]) -> str:
    """``25 published, 6 skipped`` (by what the calendar calls them)."""
    c = Counter(e.shown for e in entries)
    return ", ".join(f"{n} {s}" for s, n in sorted(c.items()))


def calendar_json(entries: Sequence[Entry], span: CalendarRange) -> str:
    """The calendar for scripts: the range and every entry (:meth:`Entry.as_json`)."""
    return json.dumps({"from": span.first.isoformat(), "to": span.last.isoformat(),
                       "publications": [e.as_json() for e in entries]}, indent=2, ensure_ascii=False) + "\n"


#: Widest the title column gets in the table before it is shortened.
_MAX_TITLE = 40
#: The last column (back-link or reason) needs at least this much room, else it goes on its own lines.
_MIN_NOTE = 30


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def calendar_table(entries: Sequence[Entry], span: CalendarRange, *, width: int | None = None) -> str:
    """A terminal table grouped by local day: time and zone, state, account, locale, title, then the
    back-link of a published post or why the others are where they are. Fitted to ``width`` columns
    (default: the terminal's, or ``$COLUMNS``): titles are shortened and the last column wrapped."""
    total = width or shutil.get_terminal_size((100, 24)).columns
    head = f"Calendar {span.first.isoformat()} to {span.last.isoformat()} (local days and times of each route)"
    if not entries:
        return f"{head}\nnothing planned, published or held in these days\n"
    cells = [(e.local.strftime("%H:%M %Z"), e.shown, f"{e.channel}/{e.account}", e.locale, _fit(e.title, _MAX_TITLE))
             for e in entries]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    room = total - 2 - sum(w + 2 for w in widths)
    if room < _MIN_NOTE:  # shorten the title before the note goes on lines of its own
        widths[4] = max(12, widths[4] - (_MIN_NOTE - room))
        room = total - 2 - sum(w + 2 for w in widths)
    out = [head]
    day: date | None = None
    for e, row in zip(entries, cells, strict=True):
        if e.day != day:
            day = e.day
            out.append("")
            out.append(f"{day:%A} {day.isoformat()}")
        line = "  " + "  ".join(_fit(c, w).ljust(w) for c, w in zip(row, widths, strict=True))
        note = e.link or e.note or ""
        if not note:
            out.append(line.rstrip())
        elif e.link:  # a link is never broken (it must stay whole to be copied): on its own line if need be
            out.extend([f"{line}  {note}"] if len(note) <= room else [line.rstrip(), f"      {note}"])
        elif room >= _MIN_NOTE:
            parts = textwrap.wrap(note, room, break_long_words=True, break_on_hyphens=False)
            out.append(f"{line}  {parts[0]}")
            out.extend(" " * (len(line) + 2) + p for p in parts[1:])
        else:
            out.append(line.rstrip())
            out.extend("      " + p for p in textwrap.wrap(note, max(total - 6, 20), break_long_words=True,
                                                             break_on_hyphens=False))
    out.append("")
    out.append(f"{len(entries)} publication(s): {counts(entries)}")
    return "\n".join(out) + "\n"
