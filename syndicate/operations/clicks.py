"""What the redirect app keeps in memory: the code → tagged URL map, and the clicks not yet written.

Both sit between the ledger and the hot path of ``syndicate links serve`` (``syndicate.api.links``):
a click is a dictionary lookup and a counter increment; the ledger is read and written by
background tasks, so a slow or dead database never delays or fails a redirect
(docs/short-links.md). No address and no user agent is stored: a click is counted under its
publication and hour as a human or a bot, and that is all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from ..base.metrics import count_link_clicks
from ..ledger import Ledger

__all__ = ["BOT_AGENT_WORDS", "ClickBuffer", "LinkMap", "is_bot", "write_clicks"]

#: Words (lower case) in the user agent of crawlers, link previewers and scripts. "bot" alone
#: covers Slackbot, Twitterbot, LinkedInBot, Googlebot, bingbot, Discordbot, TelegramBot, Applebot...
BOT_AGENT_WORDS: tuple[str, ...] = (
    "bot", "crawler", "spider", "facebookexternalhit", "facebookcatalog", "meta-externalagent",
    "embedly", "iframely", "skypeuripreview", "whatsapp", "pinterest", "vkshare", "preview", "slurp",
    "yandex", "baiduspider", "ia_archiver", "mastodon", "bluesky", "curl/", "wget/", "python-requests",
    "python-httpx", "python-urllib", "aiohttp", "go-http-client", "okhttp", "java/", "headlesschrome",
    "lighthouse", "monitor", "uptime", "validator", "feedfetcher", "linkcheck", "scrapy",
)
#: Characters of a user agent looked at (the words above sit near the start of real agents).
_AGENT_CHARS = 512


@lru_cache(maxsize=4096)
def _bot_agent(agent: str | bytes) -> bool:
    text = agent.decode("latin-1") if isinstance(agent, bytes) else agent
    low = text[:_AGENT_CHARS].lower()
    return not low.strip() or any(word in low for word in BOT_AGENT_WORDS)


def is_bot(method: str, user_agent: str | bytes | None) -> bool:
    """Whether a request to a short link is a machine's: a HEAD request (link checkers and
    previewers), no user agent, or one naming a known crawler, previewer or script. The agent may
    be given as the raw header value (bytes): answers are cached by it, so a known agent costs
    one lookup."""
    return method == "HEAD" or not user_agent or _bot_agent(user_agent)


def _location(url: str) -> bytes:
    """The URL as a ``Location`` header value (bytes, as ASGI sends headers); a character outside
    Latin-1 is sent percent-encoded as UTF-8."""
    try:
        return url.encode("latin-1")
    except UnicodeEncodeError:
        return quote(url, safe="".join(chr(c) for c in range(0x21, 0x7F))).encode("ascii")


class LinkMap:
    """Codes and where they send a click, held in memory and refreshed from the ledger.

    A refresh reads the links changed since the newest change it has seen, less
    ``overlap`` (a row written in a transaction that committed late still shows up), and every
    ``full_every`` refreshes it reads them all again. A refresh that fails keeps what was loaded.
    """

    def __init__(self, *, overlap: timedelta = timedelta(minutes=2), full_every: int = 120) -> None:
        self._targets: dict[str, tuple[int, bytes]] = {}
        self._newest: datetime | None = None
        self._refreshes = 0
        self.overlap = overlap
        self.full_every = full_every
        #: Whether a refresh ever succeeded.
        self.loaded = False

    def __len__(self) -> int:
        return len(self._targets)

    def get(self, code: str) -> tuple[int, bytes] | None:
        """``(publication id, tagged URL as a Location header value)`` of ``code``, or None for a
        code it does not know."""
        return self._targets.get(code)

    def refresh(self, ledger: Ledger) -> int:
        """Read new and changed links from ``ledger`` (blocking: run it off the event loop);
        returns how many rows were read."""
        full = self._newest is None or self._refreshes % self.full_every == 0
        since = None if full or self._newest is None else self._newest - self.overlap
        rows = ledger.link_targets(changed_since=since)
        fresh = {r.code: (r.publication_id, _location(r.url)) for r in rows}
        if full:
            self._targets = fresh
        else:
            self._targets.update(fresh)
        if rows:
            newest = max(r.updated_at for r in rows)
            self._newest = newest if self._newest is None else max(self._newest, newest)
        self._refreshes += 1
        self.loaded = True
        return len(rows)


class ClickBuffer:
    """Clicks counted in memory, per (publication, hour), until a background task writes them.

    :meth:`record` is called on the event loop for every click; :meth:`take` hands the counts to
    the writer and starts afresh; :meth:`put_back` returns counts a failed write could not store.
    At most ``max_keys`` (publication, hour) pairs are held: beyond it a click is still
    redirected but not counted (``dropped``), so a database down for long costs counts, not memory.
    """

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._counts: dict[tuple[int, int], list[int]] = {}
        #: Clicks not counted because the buffer was full.
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._counts)

    def record(self, publication_id: int, epoch_s: float, bot: bool) -> None:
        """Count one click of ``publication_id`` at ``epoch_s`` (seconds since the epoch, UTC)."""
        key = (publication_id, int(epoch_s // 3600))
        pair = self._counts.get(key)
        if pair is None:
            if len(self._counts) >= self.max_keys:
                self.dropped += 1
                return
            pair = self._counts[key] = [0, 0]
        pair[1 if bot else 0] += 1

    def take(self) -> dict[tuple[int, datetime], tuple[int, int]]:
        """Every count held, as ``(publication id, hour) → (human, bot)``; the buffer is emptied."""
        counts, self._counts = self._counts, {}
        return {(pid, datetime.fromtimestamp(hour * 3600, UTC)): (h, b) for (pid, hour), (h, b) in counts.items()}

    def put_back(self, counts: Mapping[tuple[int, datetime], tuple[int, int]]) -> None:
        """Return counts that could not be written (they are written with the next batch)."""
        for (pid, hour), (h, b) in counts.items():
            key = (pid, int(hour.timestamp()) // 3600)
            pair = self._counts.get(key)
            if pair is None:
                if len(self._counts) >= self.max_keys:
                    self.dropped += h + b
                    continue
                pair = self._counts[key] = [0, 0]
            pair[0] += h
            pair[1] += b


def write_clicks(ledger: Ledger, counts: Mapping[tuple[int, datetime], tuple[int, int]]) -> None:
    """Add ``counts`` to the ledger (blocking: run it off the event loop), then to the metrics."""
    ledger.add_clicks(counts)
    count_link_clicks(human=sum(h for h, _ in counts.values()), bot=sum(b for _, b in counts.values()))
