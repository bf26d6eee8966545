"""The calendar as HTML: week grids of publication chips, alone or inside the campaign report.

Each week is a ``<table>``: local days as columns (Monday first), the local hours that hold a
publication as rows, and in each cell a list of chips, one per publication, with its local time,
what the calendar calls it, channel, account, locale, title, and its post (published) or the link
it carries (not yet). Table semantics (caption, column and row headers), states written as words
as well as colours, ``<time>`` elements, no script: it reads in a screen reader and prints. Every
value from the ledger is escaped, and only ``http``, ``https`` and ``file`` links become anchors.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..base.locales import html_dir
from .calendar import CalendarRange, Entry, entry_from_report_row, sort_entries
from .report import STATE_COLOURS

__all__ = ["CHIP_COLOURS", "MAX_REPORT_WEEKS", "WEEK_CSS", "calendar_page", "report_week_view", "week_table",
           "weeks"]

#: Chip colours by what the calendar calls a publication (the report's state colours, plus two).
CHIP_COLOURS = {**STATE_COLOURS, "held": "#d6604d", "superseded": "#bdbdbd"}
#: The report's week view shows at most this many weeks (those nearest to the day it is written).
MAX_REPORT_WEEKS = 6
#: Longest note (why a publication is held, skipped, failed) shown on a chip; the rest is in its tooltip.
_NOTE_CHARS = 140

WEEK_CSS = """
table.week{border-collapse:collapse;width:100%;table-layout:fixed;margin:0 0 22px;font-size:12px}
table.week caption{text-align:left;font-weight:600;font-size:14px;padding:4px 0 6px}
table.week th,table.week td{border:1px solid #ddd;padding:4px;vertical-align:top;text-align:left;
overflow-wrap:anywhere}
table.week thead th{background:#f4f4f4;position:static}table.week th.hour{width:62px}
table.week th[scope=row]{background:#fafafa;font-variant-numeric:tabular-nums;white-space:nowrap}
table.week .today{background:#fff8e1}table.week .out{background:repeating-linear-gradient(45deg,#fafafa,
#fafafa 6px,#f0f0f0 6px,#f0f0f0 12px)}
ul.chips{list-style:none;margin:0;padding:0}li.chip{margin:0 0 4px;padding:3px 5px 3px 7px;border-radius:4px;
border-left:5px solid #999;background:#f7f7f7;line-height:1.35}
li.chip time{font-weight:600;font-variant-numeric:tabular-nums}li.chip .state{display:inline-block;
margin-left:4px;padding:0 5px;border-radius:8px;font-size:11px;color:#fff;background:#666}
li.chip .where{display:block;color:#555;font-size:11px}li.chip .title{display:block}
li.chip .why{display:block;color:#555;font-size:11px}li.chip.gone .title{text-decoration:line-through}
p.empty{color:#777;margin:0 0 18px}
"""
#: States whose chips are struck through: the post will not go out.
_GONE = frozenset({"cancelled", "superseded", "skipped", "failed"})
#: Chip label colours with enough contrast for white text (light state colours get dark text).
_DARK_TEXT = frozenset({"scheduled", "awaiting_review", "enqueued", "retrying", "cancelled", "skipped",
                        "superseded"})


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _safe_href(url: str) -> str | None:
    return url if url.startswith(("https://", "http://", "file://")) else None


def monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weeks(days: Iterable[date]) -> list[date]:
    """The Mondays of the weeks that hold ``days``, in order."""
    return sorted({monday(d) for d in days})


def _chip(e: Entry) -> str:
    colour = CHIP_COLOURS.get(e.shown, "#999")
    label_style = f"background:{colour};color:{'#222' if e.shown in _DARK_TEXT else '#fff'}"
    local = e.local
    if e.link:
        href = _safe_href(e.link)
        link = f' <a href="{_e(href)}">post</a>' if href else f' <span class="sub">{_e(e.link)}</span>'
    else:
        href = _safe_href(e.tagged_url)
        link = f' <a href="{_e(href)}" rel="nofollow">link</a>' if href else ""
    why = ""
    if e.note:
        short = e.note if len(e.note) <= _NOTE_CHARS else e.note[: _NOTE_CHARS - 1] + "…"
        why = f'<span class="why" title="{_e(e.note)}">{_e(short)}</span>'
    ident = f' data-publication="{e.id}"' if e.id is not None else ""
    classes = "chip gone" if e.shown in _GONE else "chip"
    return (f'<li class="{classes}" style="border-left-color:{colour}" data-shown="{_e(e.shown)}" '
            f'data-state="{_e(e.state)}" data-item="{_e(e.item_id)}" data-revision="{e.revision}" '
            f'data-locale="{_e(e.locale)}" '
            f'data-account="{_e(e.account)}"{ident}>'
            f'<time datetime="{_e(e.at.astimezone(UTC).isoformat())}">{_e(local.strftime("%H:%M %Z"))}</time>'
            f'<span class="state" style="{label_style}">{_e(e.shown.replace("_", " "))}</span>'
            f'<span class="where">{_e(e.channel)} · {_e(e.account)} · {_e(e.locale)}</span>'
            f'<span class="title" lang="{_e(e.locale)}" dir="{html_dir(e.locale)}">{_e(e.title)}</span>'
            f"{why}{link}</li>")


def week_table(entries: Sequence[Entry], first_day: date, *, span: CalendarRange | None = None,
               today: date | None = None) -> str:
    """One week (from ``first_day``, a Monday) as a table; ``entries`` outside it are left out.

    Args:
        span: days outside it are shaded as outside the calendar's range.
        today: that day's column is marked (``aria-current="date"``).
    """
    days = [first_day + timedelta(days=i) for i in range(7)]
    mine = [e for e in entries if first_day <= e.day <= days[-1]]
    by_cell: dict[tuple[int, date], list[Entry]] = defaultdict(list)
    for e in sort_entries(mine):
        by_cell[(e.local.hour, e.day)].append(e)
    head = ['<th scope="col" class="hour">Local time</th>']
    for d in days:
        current = ' aria-current="date" class="today"' if d == today else ""
        head.append(f'<th scope="col" data-day="{d.isoformat()}"{current}>'
                    f'<time datetime="{d.isoformat()}">{d:%a} {d.day} {d:%b}</time></th>')
    body = []
    for hour in sorted({h for h, _d in by_cell}):
        cells = [f'<th scope="row">{hour:02d}:00</th>']
        for d in days:
            cls = "today" if d == today else "out" if span is not None and not span.contains(d) else ""
            chips = by_cell.get((hour, d))
            inner = f'<ul class="chips">{"".join(_chip(e) for e in chips)}</ul>' if chips else ""
            attrs = f' class="{cls}"' if cls else ""
            cells.append(f'<td data-day="{d.isoformat()}"{attrs}>{inner}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append('<tr><th scope="row">—</th><td colspan="7">Nothing planned, published or held this week.'
                    "</td></tr>")
    caption = (f"Week of {first_day:%A} {first_day.day} {first_day:%B %Y}: {len(mine)} publication(s)"
               + (f" ({_counts(mine)})" if mine else ""))
    return (f'<table class="week" data-week="{first_day.isoformat()}"><caption>{_e(caption)}</caption>'
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _counts(entries: Iterable[Entry]) -> str:
    c = Counter(e.shown for e in entries)
    return ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(c.items()))


def report_week_view(rows: Sequence[Mapping[str, Any]], *, generated_at: datetime) -> str:
    """The campaign report's week view: the weeks that hold its publications (at most
    :data:`MAX_REPORT_WEEKS`, those nearest to ``generated_at``), and a note naming those left out."""
    entries = [entry_from_report_row(r) for r in rows]
    if not entries:
        return '<p class="empty">No publications.</p>'
    today = generated_at.astimezone(UTC).date()
    mondays = weeks(e.day for e in entries)
    shown = sorted(sorted(mondays, key=lambda m: (abs((m - monday(today)).days), m))[:MAX_REPORT_WEEKS])
    note = ""
    if len(shown) < len(mondays):
        left = len(mondays) - len(shown)
        note = (f'<p class="empty">{left} more week(s) with publications are not shown here; '
                f"<code>syndicate calendar --from DATE --to DATE --format html</code> shows any range.</p>")
    intro = ('<p class="meta">Local days and times of each route; a publication that went out is shown when it '
             "went out.</p>")
    return intro + "".join(week_table(entries, m, today=today) for m in shown) + note


def calendar_page(entries: Sequence[Entry], span: CalendarRange, *, title: str | None = None,
                  generated_at: datetime | None = None) -> str:
    """One self-contained HTML page (inline CSS, no script, nothing loaded): the weeks of ``span``."""
    now = (generated_at or datetime.now(UTC)).astimezone(UTC)
    name = title or f"{span.first.isoformat()} to {span.last.isoformat()}"
    totals = "".join(
        f'<span><i style="background:{CHIP_COLOURS.get(s, "#999")}"></i>{_e(s.replace("_", " "))}: <b>{n}</b></span>'
        for s, n in sorted(Counter(e.shown for e in entries).items()))
    first, last = monday(span.first), monday(span.last)
    mondays = [first + timedelta(days=7 * i) for i in range((last - first).days // 7 + 1)]
    grids = "".join(week_table(entries, m, span=span, today=now.date()) for m in mondays)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>syndicate calendar: {_e(name)}</title><style>{_PAGE_CSS}{WEEK_CSS}</style></head><body>"
        f"<h1>Publication calendar: {_e(name)}</h1>"
        f'<div class="meta">{len(entries)} publication(s) from {span.first.isoformat()} to {span.last.isoformat()}, '
        f"in each route's local days and times · generated {now:%Y-%m-%d %H:%M} UTC</div>"
        f'<div class="totals">{totals}</div>{grids}'
        "</body></html>\n"
    )


_PAGE_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}.meta{color:#555;margin-bottom:12px}.totals{margin-bottom:14px}
.totals span{display:inline-block;margin:0 12px 6px 0;padding:2px 8px;border-radius:10px;background:#f0f0f0}
.totals i{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}a{color:#2458a6}
"""
