"""Attribution reports: every publication with its back-link, UTM fields and engagement.

``csv`` and ``json`` are for spreadsheets and scripts; ``html`` is one self-contained page for a
campaign (inline CSS and SVG, no script, no external resource: it opens offline and can be mailed)
with publications per locale and channel by state, engagement per channel, and the full table.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .holds import held_note
from .ledger import Ledger, Publication

__all__ = ["ENGAGEMENT_FIELDS", "REPORT_FIELDS", "csv_cell", "render_html", "report_rows", "write_report"]

#: Engagement counts shown as columns (from the newest snapshot); others are in JSON's ``engagement``.
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "impressions", "clicks")

#: Columns of ``syndicate report``, in order.
REPORT_FIELDS = (
    "item_id", "revision", "locale", "region", "channel", "account", "slot", "state", "scheduled_for",
    "published_at", "permalink", "tagged_url", "utm_source", "utm_medium", "utm_campaign", "utm_content",
    "utm_term", "utm_id", *ENGAGEMENT_FIELDS, "engagement_at", "attempts", "last_error",
)


def _row(p: Publication, engagement: Mapping[str, int] | None, taken_at: datetime | None) -> dict[str, Any]:
    counts = dict(engagement or {})
    return {
        "item_id": p.item_id, "revision": p.revision, "locale": p.locale, "region": p.region,
        "channel": p.channel, "account": p.account, "slot": p.slot, "state": p.state,
        "scheduled_for": p.scheduled_for.isoformat(),
        "published_at": p.published_at.isoformat() if p.published_at else "",
        "permalink": p.permalink or "", "tagged_url": p.tagged_url,
        **{k: p.utm.get(k, "") for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content",
                                          "utm_term", "utm_id")},
        **{k: counts.get(k, "") for k in ENGAGEMENT_FIELDS},
        "engagement_at": taken_at.isoformat() if taken_at else "",
        "attempts": p.attempts, "last_error": p.last_error or "",
        "engagement": counts,
    }


def report_rows(ledger: Ledger, *, campaign: str | None = None, item_id: str | None = None,
                states: Sequence[str] | None = None, utm_content: str | None = None) -> list[dict[str, Any]]:
    """Report rows for the publications that match, ordered by item, revision, locale, account.

    ``utm_content`` finds the post a value seen in analytics belongs to.
    """
    from .engagement import latest_engagement

    if utm_content is not None:
        pubs = [p for p in ledger.publications_by_utm_content(utm_content)
                if (campaign is None or p.campaign == campaign) and (item_id is None or p.item_id == item_id)
                and (not states or p.state in states)]
    else:
        pubs = ledger.publications(campaign=campaign, item_id=item_id, state=list(states) if states else None)
    latest = latest_engagement(ledger, [p.id for p in pubs if p.state == "published"])
    held = ledger.held_accounts()
    out = []
    for p in pubs:
        snap = latest.get(p.id)
        row = _row(p, snap.counts if snap else None, snap.taken_at if snap else None)
        note = held_note(p, held)  # nothing in the row says why it waits: say it where the error goes
        if note:
            row["last_error"] = note + (f"; last error: {p.last_error}" if p.last_error else "")
        out.append(row)
    return out


def write_report(rows: Iterable[dict[str, Any]], fmt: str, *, title: str | None = None) -> str:
    """Render rows as ``csv``, ``json``, ``html`` or ``table`` (``title`` names the campaign or item)."""
    rows = list(rows)
    if fmt == "table":
        return render_table(rows)
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


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    """A compact table for a terminal: one line per publication, the back-link or the error last."""
    head = ("item", "rev", "locale", "account", "slot", "state", "when (UTC)", "back-link / error")
    lines = [head]
    for r in rows:
        when = (r["published_at"] or r["scheduled_for"])[:16].replace("T", " ")
        tail = r["permalink"] or r["last_error"] or r["tagged_url"]
        lines.append((r["item_id"], str(r["revision"]), r["locale"], r["account"], str(r["slot"]), r["state"], when,
                      tail if len(tail) <= 100 else tail[:99] + "…"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    out = ["  ".join(c.ljust(w) for c, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1] for line in lines]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    out.append(f"{len(rows)} publication(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return "\n".join(out) + "\n"


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
border-radius:2px}table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{border-bottom:1px solid #e3e3e3;
padding:4px 6px;text-align:left;vertical-align:top}th{background:#fafafa;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.err{color:#b2182b;max-width:28em}
.state,.when{white-space:nowrap}a{color:#2458a6}svg text{font:12px system-ui,sans-serif;fill:#222}
"""


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


def render_html(rows: Sequence[dict[str, Any]], *, title: str | None = None,
                generated_at: datetime | None = None) -> str:
    """One self-contained HTML page for ``rows`` (a campaign's publications)."""
    when = (generated_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    name = title or "all publications"
    states = Counter(r["state"] for r in rows)
    totals = "".join(f'<span><i style="background:{STATE_COLOURS.get(s, "#999")}"></i>{_e(s)}: <b>{n}</b></span>'
                     for s, n in sorted(states.items(), key=lambda kv: (STATE_ORDER.index(kv[0])
                                                                         if kv[0] in STATE_ORDER else 99, kv[0])))
    head = ("<tr><th>Item</th><th>Locale</th><th>Channel</th><th>Account</th><th>#</th><th>State</th>"
            "<th>Scheduled (UTC)</th><th>Published (UTC)</th><th>Back-link</th><th>utm_source</th>"
            "<th>utm_medium</th><th>utm_campaign</th><th>utm_content</th>"
            + "".join(f"<th>{k}</th>" for k in ENGAGEMENT_FIELDS) + "<th>Last error</th></tr>")
    body = []
    for r in rows:
        link = r.get("permalink") or ""
        href = _safe_href(link)
        label = link if len(link) <= 48 else f"{link[:30]}…{link[-16:]}"
        cell = f'<a href="{_e(href)}" title="{_e(link)}">{_e(label)}</a>' if href else _e(link)
        body.append(
            f'<tr data-state="{_e(r["state"])}"><td>{_e(r["item_id"])} r{_e(r["revision"])}</td>'
            f'<td>{_e(r["locale"])}</td><td>{_e(r["channel"])}</td><td>{_e(r["account"])}</td>'
            f'<td class="n">{_e(r["slot"])}</td><td class="state">{_e(r["state"])}</td>'
            f'<td class="when">{_e(str(r["scheduled_for"])[:16].replace("T", " "))}</td>'
            f'<td class="when">{_e(str(r["published_at"])[:16].replace("T", " "))}</td><td>{cell}</td>'
            f'<td>{_e(r["utm_source"])}</td><td>{_e(r["utm_medium"])}</td><td>{_e(r["utm_campaign"])}</td>'
            f'<td>{_e(r["utm_content"])}</td>'
            + "".join(f'<td class="n">{_e(r.get(k, ""))}</td>' for k in ENGAGEMENT_FIELDS)
            + f'<td class="err">{_e(r["last_error"])}</td></tr>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>syndicate report: {_e(name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Campaign report: {_e(name)}</h1>"
        f'<div class="meta">{len(rows)} publication(s) · generated {when}</div>'
        f'<div class="totals">{totals}</div>'
        f"<h2>Publications per locale and channel</h2>{_stacked_chart(rows)}"
        f"<h2>Engagement per channel</h2>{_engagement_chart(rows)}"
        f'<h2>Publications</h2><table id="publications"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
        "</body></html>\n"
    )
