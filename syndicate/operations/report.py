"""Attribution reports: every publication with its back-link, UTM fields and engagement.

``csv`` and ``json`` are for spreadsheets and scripts (an absent value is empty in CSV and ``null``
in JSON; counts are numbers); ``table`` fits the terminal; ``html`` is one self-contained page for
a campaign (inline CSS and SVG, no script, no external resource: it opens offline and can be
mailed) with publications per locale and channel by state, engagement per channel, a week view by
local day (:mod:`.weekview`), and the full table. Rows come in the order of their planned time.

A publication's ``last_error`` is an error only where something went wrong: for a row skipped by
a route's rules (a buying stage, an expiry) or cancelled, the same text is its ``reason``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..base.locales import html_dir
from ..ledger import ClickCount, Ledger, Publication
from .holds import held_note

__all__ = ["ENGAGEMENT_FIELDS", "LINK_FIELDS", "REPORT_FIELDS", "csv_cell", "render_html", "report_rows",
           "write_report"]

#: Engagement counts shown as columns (from the newest snapshot); others are in JSON's ``engagement``.
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "impressions", "clicks")

#: Columns of ``syndicate report``, in order.
REPORT_FIELDS = (
    "item_id", "revision", "locale", "region", "channel", "account", "slot", "state", "scheduled_for",
    "published_at", "permalink", "tagged_url", "utm_source", "utm_medium", "utm_campaign", "utm_content",
    "utm_term", "utm_id", *ENGAGEMENT_FIELDS, "engagement_at", "attempts", "last_error",
    "reason", "timezone", "scheduled_local", "short_link", "link_clicks", "link_bot_clicks",
)
#: Short-link columns (docs/short-links.md): the short link posted, and its clicks by people and by
#: bots (crawlers, link previewers, HEAD requests), all time; empty when the post has no short link.
LINK_FIELDS = ("short_link", "link_clicks", "link_bot_clicks")

#: States whose ``last_error`` is why the row will not go out, not an error: a route's rules, an
#: expiry, a cancellation.
REASON_STATES = frozenset({"skipped", "cancelled"})


def _row(p: Publication, engagement: Mapping[str, int] | None, taken_at: datetime | None,
         zone: ZoneInfo | None = None, clicks: ClickCount | None = None) -> dict[str, Any]:
    counts = dict(engagement or {})
    rendered = p.rendered or {}
    parts = rendered.get("parts") or []
    text = "\n\n".join(str(x) for x in parts) if parts else rendered.get("text")
    note = p.last_error or None
    posted = rendered.get("link")
    short = posted if isinstance(posted, str) and posted != p.tagged_url else None
    counted = short is not None or clicks is not None
    return {
        "item_id": p.item_id, "revision": p.revision, "locale": p.locale, "region": p.region,
        "channel": p.channel, "account": p.account, "slot": p.slot, "state": p.state,
        "scheduled_for": p.scheduled_for.isoformat(),
        "published_at": p.published_at.isoformat() if p.published_at else None,
        "permalink": p.permalink or None, "tagged_url": p.tagged_url,
        **{k: p.utm.get(k) or None for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content",
                                             "utm_term", "utm_id")},
        **{k: counts.get(k) for k in ENGAGEMENT_FIELDS},
        "engagement_at": taken_at.isoformat() if taken_at else None,
        "attempts": p.attempts,
        "last_error": None if p.state in REASON_STATES else note,
        "reason": note if p.state in REASON_STATES else None,
        "timezone": zone.key if zone else None,
        "scheduled_local": p.scheduled_for.astimezone(zone).isoformat() if zone else None,
        "short_link": short,
        "link_clicks": (clicks.human if clicks else 0) if counted else None,
        "link_bot_clicks": (clicks.bot if clicks else 0) if counted else None,
        "text": str(text) if text else None,
        "engagement": counts,
    }


def report_rows(ledger: Ledger, *, campaign: str | None = None, item_id: str | None = None,
                states: Sequence[str] | None = None, utm_content: str | None = None,
                zones: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Report rows for the publications that match, by planned time (then item, locale, account, slot).

    Args:
        utm_content: finds the post a value seen in analytics belongs to.
        zones: region → IANA time zone, for the local planned time (routes' ``timezone``).
    """
    from .engagement import latest_engagement

    if utm_content is not None:
        pubs = [p for p in ledger.publications_by_utm_content(utm_content)
                if (campaign is None or p.campaign == campaign) and (item_id is None or p.item_id == item_id)
                and (not states or p.state in states)]
    else:
        pubs = ledger.publications(campaign=campaign, item_id=item_id, state=list(states) if states else None)
    pubs.sort(key=lambda p: (p.scheduled_for, p.item_id, p.revision, p.locale, p.account, p.slot))
    latest = latest_engagement(ledger, [p.id for p in pubs if p.state == "published"])
    tz = {region: ZoneInfo(name) for region, name in (zones or {}).items()}
    held = ledger.held_accounts()
    clicks = ledger.click_totals(p.id for p in pubs)
    out = []
    for p in pubs:
        snap = latest.get(p.id)
        row = _row(p, snap.counts if snap else None, snap.taken_at if snap else None, tz.get(p.region),
                   clicks.get(p.id))
        note = held_note(p, held)  # nothing else in the row says why it waits
        if note:
            row["reason"] = note
        out.append(row)
    return out


def write_report(rows: Iterable[dict[str, Any]], fmt: str, *, title: str | None = None, wide: bool = False,
                 width: int | None = None) -> str:
    """Render rows as ``csv``, ``json``, ``html`` or ``table`` (``title`` names the campaign or item;
    ``wide`` and ``width`` are the table's: every column in full, or fitted to ``width`` characters)."""
    rows = list(rows)
    if fmt == "table":
        return render_table(rows, width=width, wide=wide)
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return render_html(rows, title=title)
    buf = io.StringIO()
    # CRLF, as RFC 4180 says: the csv module then quotes a cell holding a CR as well as one holding
    # an LF (with "\n" alone a bare CR in a platform's error text would start a new row).
    writer = csv.DictWriter(buf, fieldnames=list(REPORT_FIELDS), lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: csv_cell(v) for k, v in r.items()})
    return buf.getvalue()


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> Any:
    """``value`` safe to open in a spreadsheet: text that a spreadsheet would run as a formula
    (it starts with ``= + - @``, a tab or a line break, after any spaces) gets a leading ``'``,
    so it shows as text. Platform error messages, permalinks and producer-chosen ids reach the
    report, so none of them is trusted. Numbers are left alone."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _note(r: Mapping[str, Any]) -> str:
    """What the last column says: the back-link of a published row, else why it is where it is."""
    if r["state"] == "published":
        return str(r.get("permalink") or "")
    return str(r.get("reason") or r.get("last_error") or "")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _fit(text: str, width: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= width else (text[: width - 1] + "…", True)


#: Table columns in the order they are dropped when the terminal is too narrow.
_DROPPABLE = ("rev", "#")
#: Widest an identifier column gets before it is shortened (``--wide`` shows it whole).
_MAX_ID = {"item": 32, "account": 24}
#: The last column needs at least this much room; below it, it goes on lines of its own.
_MIN_NOTE = 40


def render_table(rows: Sequence[dict[str, Any]], *, width: int | None = None, wide: bool = False) -> str:
    """A table for a terminal: one line per publication, its back-link or the reason last.

    When any row has a short link, a ``clicks`` column shows its clicks as ``people+bots b``
    (``12+3b``: 12 by people, 3 by crawlers and link previewers).

    Fitted to ``width`` columns (default: the terminal's, or ``$COLUMNS``): long identifiers are
    shortened, the revision and slot columns dropped when room runs out, and the last column
    wrapped. ``wide`` prints every report column in full instead, whatever the width.
    """
    if wide:
        return _render_wide(rows)
    total = width or shutil.get_terminal_size((100, 24)).columns
    columns: dict[str, list[str]] = {"item": [], "rev": [], "locale": [], "account": [], "#": [], "state": [],
                                     "when (UTC)": []}
    shortened = False
    # Short-link clicks (people, then bots) when any row has a short link.
    with_clicks = any(r.get("link_clicks") is not None for r in rows)
    if with_clicks:
        columns["clicks"] = []
    for r in rows:
        when = str(r.get("published_at") or r["scheduled_for"])[:16].replace("T", " ")
        cells: list[tuple[str, Any]] = [("item", r["item_id"]), ("rev", r["revision"]), ("locale", r["locale"]),
                                        ("account", r["account"]), ("#", r["slot"]), ("state", r["state"]),
                                        ("when (UTC)", when)]
        if with_clicks:
            cells.append(("clicks", "" if r.get("link_clicks") is None
                          else f"{r['link_clicks']}+{r.get('link_bot_clicks') or 0}b"))
        for name, value in cells:
            text, cut = _fit(_cell(value), _MAX_ID.get(name, 10_000))
            shortened |= cut
            columns[name].append(text)
    widths = {name: max([len(name), *map(len, values)]) for name, values in columns.items()}

    def note_room() -> int:
        return total - sum(w + 2 for w in widths.values())

    def drop(names: Sequence[str]) -> None:
        for name in names:
            del columns[name], widths[name]
            dropped.append(name)

    dropped: list[str] = []
    spare = sum(widths[n] + 2 for n in _DROPPABLE)
    own_line = False
    if note_room() < _MIN_NOTE:
        if note_room() + spare >= _MIN_NOTE:  # dropping them makes room for the last column
            drop([n for n in _DROPPABLE if n in columns])
        else:  # the last column goes on lines of its own; the others must fit the width
            own_line = True
            if note_room() < 0:
                drop([n for n in _DROPPABLE if n in columns])
            for name, least in (("item", 12), ("account", 10)):
                if note_room() < 0 and widths[name] > least:
                    widths[name] = max(least, widths[name] + note_room())
                    fitted = [_fit(v, widths[name]) for v in columns[name]]
                    columns[name] = [v for v, _ in fitted]
                    shortened |= any(c for _, c in fitted)
            if note_room() < 0:  # the year goes last
                columns["when (UTC)"] = [v[5:] for v in columns["when (UTC)"]]
                widths["when (UTC)"] = max(len("when (UTC)"), *map(len, columns["when (UTC)"]))
                shortened = True
    room = note_room()
    note_width = max(total - 4, 20) if own_line else room
    head = "  ".join(n.ljust(widths[n]) for n in columns) + ("" if own_line else "  back-link / reason")
    out = [head.rstrip()]
    for i, r in enumerate(rows):
        line = "  ".join(columns[n][i].ljust(widths[n]) for n in columns)
        note = textwrap.wrap(_note(r), note_width, break_long_words=True, break_on_hyphens=False) or [""]
        if own_line:
            out.append(line.rstrip())
            out.extend(f"    {part}" for part in note if part)
        else:
            indent = " " * (len(line) + 2)
            out.append(f"{line}  {note[0]}".rstrip())
            out.extend(f"{indent}{part}" for part in note[1:])
    out.append(_summary(rows))
    if dropped or shortened:
        out.append(f"(fitted to {total} columns; --wide shows all)")
    return "\n".join(out) + "\n"


def _render_wide(rows: Sequence[dict[str, Any]]) -> str:
    lines = [list(REPORT_FIELDS)] + [[_cell(r.get(f)) for f in REPORT_FIELDS] for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(REPORT_FIELDS))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.append(_summary(rows))
    return "\n".join(out) + "\n"


def _summary(rows: Sequence[Mapping[str, Any]]) -> str:
    counts = Counter(r["state"] for r in rows)
    return f"{len(rows)} publication(s)" + (": " if counts else "") + ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items()))


# -- HTML -----------------------------------------------------------------------------------------

#: Bar colours by state (colour-blind-safe hues; text labels carry the meaning too).
STATE_COLOURS = {
    "published": "#1b7837", "scheduled": "#8c96c6", "awaiting_review": "#b2abd2", "enqueued": "#6baed6",
    "calling": "#3182bd", "retrying": "#fdb863", "in_doubt": "#e08214", "unconfirmed": "#b35806",
    "failed": "#b2182b", "cancelled": "#969696", "skipped": "#cccccc",
}
STATE_ORDER = tuple(STATE_COLOURS)
_METRIC_COLOURS = {"likes": "#4575b4", "reposts": "#91bfdb", "replies": "#fc8d59", "impressions": "#d9d9d9",
                   "clicks": "#1a9850"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555;margin-bottom:16px}.totals span{display:inline-block;margin:0 12px 6px 0;padding:2px 8px;
border-radius:10px;background:#f0f0f0}.totals i{display:inline-block;width:10px;height:10px;margin-right:5px;
border-radius:2px}table{border-collapse:collapse;width:100%;table-layout:fixed;font-size:12.5px}
th,td{border-bottom:1px solid #e3e3e3;padding:5px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#fafafa;position:sticky;top:0;font-weight:600;overflow-wrap:normal}
.metric{display:block;white-space:nowrap;font-variant-numeric:tabular-nums}.metric b{display:inline-block;
min-width:3.2em;text-align:right}
.sub{display:block;color:#666;font-size:11.5px}.err{color:#b2182b}.reason{color:#555}
.post{white-space:pre-line}.post details summary{cursor:pointer;color:#2458a6}.none{color:#999}
.utm{font-size:11.5px;color:#444}a{color:#2458a6}svg text{font:12px system-ui,sans-serif;fill:#222}
"""

#: Detail table: (header, width; "" takes the rest): at 1,400 px the post gets about 400 px.
_COLUMNS = (("Planned (UTC / local)", "136px"), ("Item", "150px"), ("Account", "112px"), ("State", "140px"),
            ("Post", ""), ("Back-link", "130px"), ("UTM", "150px"), ("Engagement", "124px"))
#: Engagement counts as the detail table names them.
_METRIC_WORDS = {"likes": "likes", "reposts": "reposts", "replies": "replies", "impressions": "views",
                 "clicks": "clicks"}
#: Posts longer than this show their start, and the whole text behind "full text".
_POST_PREVIEW_CHARS = 320
#: States in which a publication may still be rendered and sent.
_OPEN = frozenset({"scheduled", "awaiting_review", "enqueued", "calling", "retrying", "in_doubt"})


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _safe_href(url: str) -> str | None:
    return url if url.startswith(("https://", "http://", "file://")) else None


def _stacked_chart(rows: Sequence[dict[str, Any]]) -> str:
    """Horizontal stacked bars: one bar per (locale, channel), one segment per state."""
    groups: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in rows:
        groups[(r["locale"], r["channel"])][r["state"]] += 1
    if not groups:
        return "<p>No publications.</p>"
    keys = sorted(groups)
    biggest = max(sum(c.values()) for c in groups.values())
    label_w, bar_w, row_h, top = 190, 520, 24, 28
    states = [s for s in STATE_ORDER if any(c[s] for c in groups.values())] + sorted(
        {s for c in groups.values() for s in c} - set(STATE_ORDER))
    height = top + row_h * len(keys) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 60}" '
             f'height="{height}" viewBox="0 0 {label_w + bar_w + 60} {height}" id="chart-states">',
             "<title>Publications per locale and channel, by state</title>"]
    x = label_w
    for s in states:  # legend
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{STATE_COLOURS.get(s, "#999")}"/>'
                     f'<text x="{x + 14}" y="13">{_e(s)}</text>')
        x += 14 + 8 * len(s) + 16
    for i, key in enumerate(keys):
        y = top + i * row_h
        counts = groups[key]
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(key[0])} · {_e(key[1])}</text>')
        x0 = float(label_w)
        for s in states:
            n = counts.get(s, 0)
            if not n:
                continue
            w = bar_w * n / biggest
            parts.append(f'<rect class="seg" data-locale="{_e(key[0])}" data-channel="{_e(key[1])}" '
                         f'data-state="{_e(s)}" data-count="{n}" x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" '
                         f'height="{row_h - 8}" fill="{STATE_COLOURS.get(s, "#999")}">'
                         f"<title>{_e(key[0])} · {_e(key[1])}: {n} {_e(s)}</title></rect>")
            x0 += w
        parts.append(f'<text x="{x0 + 6:.1f}" y="{y + 15}">{sum(counts.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _engagement_chart(rows: Sequence[dict[str, Any]]) -> str:
    """Grouped horizontal bars: per channel, the sum of each engagement count (newest snapshots)."""
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        for k in ENGAGEMENT_FIELDS:
            if isinstance(r.get(k), int):
                totals[r["channel"]][k] += r[k]
    totals = {ch: c for ch, c in totals.items() if sum(c.values())}
    if not totals:
        return "<p>No engagement counts yet (they are collected from channels that offer them).</p>"
    metrics = [k for k in ENGAGEMENT_FIELDS if any(c[k] for c in totals.values()) and k != "impressions"] or \
        ["impressions"]
    biggest = max(c[k] for c in totals.values() for k in metrics) or 1
    label_w, bar_w, bar_h, gap, top = 190, 520, 14, 12, 28
    channels = sorted(totals)
    height = top + len(channels) * (len(metrics) * bar_h + gap) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 80}" '
             f'height="{height}" viewBox="0 0 {label_w + bar_w + 80} {height}" id="chart-engagement">',
             "<title>Engagement per channel</title>"]
    x = label_w
    for k in metrics:
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{_METRIC_COLOURS[k]}"/>'
                     f'<text x="{x + 14}" y="13">{k}</text>')
        x += 14 + 8 * len(k) + 16
    y = top
    for ch in channels:
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h}" text-anchor="end">{_e(ch)}</text>')
        for k in metrics:
            n = totals[ch][k]
            w = bar_w * n / biggest
            parts.append(f'<rect class="bar" data-channel="{_e(ch)}" data-metric="{k}" data-count="{n}" '
                         f'x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{_METRIC_COLOURS[k]}">'
                         f"<title>{_e(ch)}: {n} {k}</title></rect>"
                         f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h - 3}">{n}</text>')
            y += bar_h
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def _when(r: Mapping[str, Any]) -> str:
    utc = str(r["scheduled_for"])[:16].replace("T", " ")
    local = ""
    if r.get("scheduled_local") and r.get("timezone"):
        dt = datetime.fromisoformat(str(r["scheduled_local"])).astimezone(ZoneInfo(str(r["timezone"])))
        local = f'<span class="sub">{_e(dt.strftime("%Y-%m-%d %H:%M %Z"))}</span>'
    published = ""
    if r.get("published_at"):
        published = f'<span class="sub">published {_e(str(r["published_at"])[11:16])} UTC</span>'
    return f"{_e(utc)}{local}{published}"


def _post(r: Mapping[str, Any]) -> str:
    text = r.get("text")
    if not text:
        return '<span class="none">not rendered yet</span>' if r["state"] in _OPEN else '<span class="none">—</span>'
    text = str(text)
    if len(text) <= _POST_PREVIEW_CHARS:
        return _e(text)
    return (f"{_e(text[:_POST_PREVIEW_CHARS].rstrip())}…<details><summary>full text ({len(text):,} characters)"
            f"</summary>{_e(text)}</details>")


def _back_link(r: Mapping[str, Any]) -> str:
    link = str(r.get("permalink") or "")
    if r["state"] != "published" or not link:
        return ""
    href = _safe_href(link)
    label = link if len(link) <= 40 else f"{link[:24]}…{link[-14:]}"
    return f'<a href="{_e(href)}" title="{_e(link)}">{_e(label)}</a>' if href else _e(link)


def _state(r: Mapping[str, Any]) -> str:
    out = _e(r["state"])
    if r.get("reason"):
        out += f'<span class="sub reason">{_e(r["reason"])}</span>'
    elif r.get("last_error"):
        out += f'<span class="sub err">{_e(r["last_error"])}</span>'
    return out


def _engagement(r: Mapping[str, Any]) -> str:
    out = "".join(f'<span class="metric" data-metric="{k}"><b>{r[k]:,}</b> {_METRIC_WORDS[k]}</span>'
                  for k in ENGAGEMENT_FIELDS if isinstance(r.get(k), int))
    if isinstance(r.get("link_clicks"), int):
        out += (f'<span class="metric" data-metric="link_clicks"><b>{r["link_clicks"]:,}</b> link clicks</span>'
                f'<span class="sub" data-metric="link_bot_clicks">{r.get("link_bot_clicks") or 0:,} by bots</span>')
    return out


def _utm(r: Mapping[str, Any]) -> str:
    values = [r.get(k) for k in ("utm_source", "utm_medium", "utm_campaign")]
    main = " / ".join(_e(v) for v in values if v)
    content = f'<span class="sub">{_e(r["utm_content"])}</span>' if r.get("utm_content") else ""
    return f'<span class="utm">{main}{content}</span>'


def render_html(rows: Sequence[dict[str, Any]], *, title: str | None = None,
                generated_at: datetime | None = None) -> str:
    """One self-contained HTML page for ``rows`` (a campaign's publications), with a week view."""
    from .weekview import WEEK_CSS, report_week_view  # it builds on this module's colours

    moment = (generated_at or datetime.now(UTC)).astimezone(UTC)
    when = moment.strftime("%Y-%m-%d %H:%M UTC")
    name = title or "all publications"
    states = Counter(r["state"] for r in rows)
    totals = "".join(f'<span><i style="background:{STATE_COLOURS.get(s, "#999")}"></i>{_e(s)}: <b>{n}</b></span>'
                     for s, n in sorted(states.items(), key=lambda kv: (STATE_ORDER.index(kv[0])
                                                                         if kv[0] in STATE_ORDER else 99, kv[0])))
    cols = "".join(f'<col style="width:{w}">' if w else "<col>" for _h, w in _COLUMNS)
    head = "<tr>" + "".join(f"<th>{h}</th>" for h, _w in _COLUMNS) + "</tr>"
    body = []
    for r in rows:
        body.append(
            f'<tr data-state="{_e(r["state"])}" data-item="{_e(r["item_id"])}" data-locale="{_e(r["locale"])}" '
            f'data-account="{_e(r["account"])}"><td class="when">{_when(r)}</td>'
            f'<td>{_e(r["item_id"])} r{_e(r["revision"])}<span class="sub">{_e(r["locale"])}</span></td>'
            f'<td>{_e(r["account"])}<span class="sub">{_e(r["channel"])} #{_e(r["slot"])}</span></td>'
            f'<td class="state">{_state(r)}</td>'
            f'<td class="post" lang="{_e(r["locale"])}" dir="{html_dir(r["locale"])}">{_post(r)}</td>'
            f'<td>{_back_link(r)}</td>'
            f'<td>{_utm(r)}</td><td class="engagement">{_engagement(r)}</td></tr>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>syndicate report: {_e(name)}</title><style>{_CSS}{WEEK_CSS}</style></head><body>"
        f"<h1>Campaign report: {_e(name)}</h1>"
        f'<div class="meta">{len(rows)} publication(s) · generated {when}</div>'
        f'<div class="totals">{totals}</div>'
        f"<h2>Publications per locale and channel</h2>{_stacked_chart(rows)}"
        f"<h2>Engagement per channel</h2>{_engagement_chart(rows)}"
        f'<h2>Week view</h2><div id="week-view">{report_week_view(rows, generated_at=moment)}</div>'
        f'<h2>Publications</h2><table id="publications"><colgroup>{cols}</colgroup><thead>{head}</thead>'
        f'<tbody>{"".join(body)}</tbody></table>'
        "</body></html>\n"
    )
