"""Partner feeds: per partner account and locale, an Atom and an RSS 2.0 file, plus a WebSub ping.

Each publication adds its item to the feed of its account and locale, or updates the item's entry
in place when a new revision arrives: the entry id is built from the item id and the locale only,
so it never changes, while ``updated`` moves forward. The entries live in the account's shared
state (the ledger's ``state_kv``), which every worker reads and writes under a lock with
compare-and-set; the two files are rebuilt from that state on each publication and replaced
atomically (temporary file, then rename), so a reader never sees half a feed::

    {directory}/{account}/{locale}.atom
    {directory}/{account}/{locale}.rss

With ``enclosures`` each entry also describes the item's images: Atom ``link rel="enclosure"``,
RSS ``enclosure`` (the first; RSS allows one) and Media RSS ``media:content`` with the alt text as
``media:description``, with the type and length of the bytes, fetched once per item revision
through the account's media store.

When the account names a WebSub hub, both feeds carry ``rel="hub"`` and ``rel="self"`` links and
the hub gets ``hub.mode=publish`` for each feed URL after the files are written. A failed ping is
a warning on the receipt, not a failed publication: the entry is in the feed.

feedgen traps handled here (read in feedgen 1.0 ``feed.py``/``entry.py``): ``add_entry`` prepends
by default, so entries are appended in our own order; naive datetimes raise, so every time is
aware UTC; RSS takes the *last* feed link as the channel link, so the alternate link is added
last; RSS keeps only ``rel="self"`` of the feed links, so the hub link is added to RSS by a small
extension; and RSS dates are formatted under a process-wide ``locale.setlocale``, so feed
generation is serialized within the process.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, uuid5

from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from syndicate.channels import (
    AccountState,
    Capability,
    ChannelError,
    ConfigError,
    ConfigProblem,
    HttpAdapter,
    Limits,
    MediaSpec,
    MediaStore,
    PermanentError,
    PostContent,
    PublicationRef,
    Receipt,
    Rendered,
    Safety,
    StatusMap,
    TransientError,
    WebUrl,
    answer_text,
    get_logger,
    markdown_to_html,
    sanitize_html,
    with_direction,
)

__all__ = ["FeedAdapter", "FeedMeta", "FeedOptions", "build_feeds", "entry_id_for", "rss_html", "rss_title"]

log = get_logger("adapters.feeds")

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
_ATOM_NS = "http://www.w3.org/2005/Atom"
#: Media RSS (https://www.rssboard.org/media-rss): ``media:content`` and ``media:description``.
MEDIA_RSS_NS = "http://search.yahoo.com/mrss/"
#: What a feed describes: any image type we know, up to the media store's cap (a reader fetches it).
FEED_MEDIA = MediaSpec("a feed", {"image/jpeg": 20 * 1024 * 1024, "image/png": 20 * 1024 * 1024,
                                  "image/gif": 20 * 1024 * 1024, "image/webp": 20 * 1024 * 1024})
#: How often a read-modify-write is redone when the stored state moved under us.
_CAS_ATTEMPTS = 5
#: Bytes of a hub's answer we read (enough for an error message).
_MAX_HUB_ANSWER_BYTES = 16 * 1024

# feedgen formats RSS dates inside locale.setlocale(LC_ALL, "C") ... setlocale(old): process-wide
# and not thread-safe, so this process builds one feed at a time.
_feedgen_lock = threading.Lock()

#: Text that an HTML reader would not show as written: a tag or a character reference.
_LOOKS_LIKE_HTML = re.compile(r"<|&[A-Za-z0-9#]")

TagAuthority = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.-]+(@[A-Za-z0-9.-]+)?,\d{4}(-\d{2}){0,2}$")]


class FeedOptions(BaseModel):
    """Options of a partner feed account.

    Attributes:
        directory: where feed files are written; each account gets ``{directory}/{account}/``.
        public_url: the URL at which ``directory`` is served (``https://partners.example.com/feeds``);
            feed URLs, ``rel="self"`` links and permalinks are built from it. Without it, permalinks
            are ``file://`` URLs.
        site_url: the page a feed reader links the feed to (default: ``public_url``, else the Atom
            file's URL).
        hub: a WebSub hub to ping after each change (needs ``public_url``: the hub fetches the feed).
        max_entries: entries kept per feed; the oldest by ``updated`` fall off.
        title: feed title; ``{locale}`` is replaced by the feed's locale (default: account and locale).
        subtitle: feed subtitle (and RSS description).
        author_name: author of the entries (Atom ``author``).
        author_email: author e-mail (RSS ``author`` needs one).
        tag_authority: with ``example.com,2026``, entry ids are ``tag:example.com,2026:{item}/{locale}``
            (RFC 4151); without it, name-based ``urn:uuid:`` ids. Changing it changes every id.
        max_content_chars: the longest entry content (HTML) accepted, in code points.
        enclosures: describe the item's images in each entry: Atom ``link rel="enclosure"`` (every
            image), RSS ``enclosure`` (the first: RSS allows one), and Media RSS ``media:content``
            with the alt text as ``media:description``. Each image is fetched (once per item
            revision) for its true type and length.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    directory: Annotated[str, StringConstraints(min_length=1)] = "feeds"
    public_url: WebUrl | None = None
    site_url: WebUrl | None = None
    hub: WebUrl | None = None
    max_entries: int = Field(default=50, ge=1, le=1000)
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    subtitle: Annotated[str, StringConstraints(max_length=500)] | None = None
    author_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    author_email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    tag_authority: TagAuthority | None = None
    max_content_chars: int = Field(default=200_000, ge=1_000, le=5_000_000)
    enclosures: bool = False

    @model_validator(mode="after")
    def _hub_needs_public_url(self) -> FeedOptions:
        if self.hub and not self.public_url:
            raise ValueError("hub needs public_url: the hub fetches the feed from its public URL")
        return self


@dataclass(frozen=True)
class FeedMeta:
    """Feed-level data for :func:`build_feeds`.

    Attributes:
        feed_id: the Atom feed id.
        title: feed title.
        locale: BCP 47 tag (``xml:lang`` of the Atom feed, ``language`` of the RSS channel).
        site_url: the channel's web page (Atom alternate link, RSS channel link).
        atom_url: public URL of the Atom file (``rel="self"``), if it is served.
        rss_url: public URL of the RSS file, if it is served.
        hub: WebSub hub URL (``rel="hub"``), if any.
        subtitle: subtitle and RSS description.
        author_name: entry author name.
        author_email: entry author e-mail.
    """

    feed_id: str
    title: str
    locale: str
    site_url: str
    atom_url: str | None = None
    rss_url: str | None = None
    hub: str | None = None
    subtitle: str | None = None
    author_name: str | None = None
    author_email: str | None = None


def entry_id_for(item_id: str, locale: str, tag_authority: str | None = None) -> str:
    """The stable entry id of an item in one locale: the same for every revision of the item."""
    if tag_authority:
        return f"tag:{tag_authority}:{quote(item_id, safe='')}/{locale}"
    return f"urn:uuid:{uuid5(NAMESPACE_URL, f'syndicate:feed-entry:{item_id}/{locale}')}"



def _content_html(content: PostContent) -> str:
    parts = [markdown_to_html(content.body) if content.body_format == "markdown" else content.body]
    for m in content.media:
        if m.kind == "image":
            parts.append(f'<figure><img src="{html.escape(m.url)}" alt="{html.escape(m.alt or "")}"></figure>')
    if content.cta_text:
        target = content.cta_url or content.link
        parts.append(f'<p><a href="{html.escape(target)}">{html.escape(content.cta_text)}</a></p>')
    return with_direction(sanitize_html("\n".join(parts)), content.locale, lang=False)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _parse(value: str) -> datetime:
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(f"stored feed time {value!r} has no offset")
    return dt


class _RssHubLink:
    """feedgen extension: RSS keeps no feed link but ``rel="self"``; this adds ``rel="hub"``."""

    hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, feed: Any) -> Any:
        return feed

    def extend_rss(self, feed: Any) -> Any:
        if self.hub:
            channel = feed.find("channel")
            xml_elem(f"{{{_ATOM_NS}}}link", channel, href=self.hub, rel="hub")
        return feed


def rss_html(text: str) -> str:
    """Plain text for an RSS element readers take as HTML (``description``): escaped, so a
    ``<img onerror=...>`` in a summary is shown as text, not run."""
    return html.escape(text, quote=False)


def rss_title(text: str) -> str:
    """Plain text for an RSS ``title``, which some readers show as text and others (feedparser,
    when it looks like HTML) as HTML: escaped when it holds ``<`` or ``&`` starting a character
    reference, so both kinds show the same words; left as written otherwise."""
    return rss_html(text) if _LOOKS_LIKE_HTML.search(text) else text


class _MediaRss:
    """feedgen extension: the Media RSS namespace on the feed."""

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_RSS_NS}

    def extend_atom(self, feed: Any) -> Any:
        return feed

    def extend_rss(self, feed: Any) -> Any:
        return feed


class _MediaRssEntry:
    """feedgen entry extension: ``media:content`` per image, its alt text as ``media:description``
    (feedgen's own media extension has no description), and in Atom ``link rel="enclosure"`` per
    image: feedgen 1.0 writes an entry's links with ``href`` only (``atom_entry`` reads ``rel``,
    ``type`` and ``length`` back from the new element), so an enclosure added with ``fe.link``
    would read as a second alternate link."""

    def __init__(self) -> None:
        self.images: list[Mapping[str, Any]] = []

    def extend_atom(self, entry: Any) -> Any:
        for image in self.images:
            xml_elem("link", entry, href=image["url"], rel="enclosure", type=image["type"],  # as feedgen makes links
                     length=str(image["length"]))
        return self._media_content(entry)

    def extend_rss(self, item: Any) -> Any:
        return self._media_content(item)

    def _media_content(self, entry: Any) -> Any:
        for image in self.images:
            content = xml_elem(f"{{{MEDIA_RSS_NS}}}content", entry, url=image["url"], type=image["type"],
                               fileSize=str(image["length"]), medium="image")
            if image.get("alt"):
                description = xml_elem(f"{{{MEDIA_RSS_NS}}}description", content, type="plain")
                description.text = image["alt"]
        return entry


def _generator(meta: FeedMeta, entries: Sequence[Mapping[str, Any]], self_url: str | None, *, rss: bool) -> Any:
    # Atom's title and summary are type="text" (readers show them as text); RSS has no types,
    # and readers take its description (and, some, its title) as HTML: plain text is escaped there.
    title, as_html = (rss_title, rss_html) if rss else (str, str)
    fg = FeedGenerator()
    fg.id(meta.feed_id)
    fg.title(title(meta.title))
    fg.subtitle(as_html(meta.subtitle or meta.title))
    fg.description(as_html(meta.subtitle or meta.title))
    fg.language(meta.locale)
    fg.generator("syndicate")
    if meta.author_name:
        fg.author({"name": meta.author_name, **({"email": meta.author_email} if meta.author_email else {})})
    if self_url:
        fg.link(href=self_url, rel="self", type=RSS_TYPE if rss else ATOM_TYPE)
    if meta.hub:
        fg.link(href=meta.hub, rel="hub")
        if rss:
            fg.register_extension("syndicate_hub", _RssHubLink, None, atom=False, rss=True)
            fg.syndicate_hub.hub = meta.hub
    # RSS uses the last feed link as the channel link: the alternate link goes last.
    fg.link(href=meta.site_url, rel="alternate")
    if any(e.get("media") for e in entries):
        fg.register_extension("syndicate_media", _MediaRss, _MediaRssEntry, atom=True, rss=True)
    newest = max((_parse(e["updated"]) for e in entries), default=datetime(1970, 1, 1, tzinfo=UTC))
    fg.updated(newest)
    for e in entries:
        fe = fg.add_entry(order="append")  # the default, "prepend", would reverse our order
        fe.id(e["id"])
        fe.title(title(e["title"]))
        fe.updated(_parse(e["updated"]))
        fe.published(_parse(e["published"]))
        fe.link(href=e["link"], rel="alternate")
        if e.get("summary"):
            fe.summary(as_html(e["summary"]))
        fe.content(e["content"], type="html")
        if e.get("categories"):
            fe.category([{"term": c, "label": c} for c in e["categories"]])
        if meta.author_name:
            fe.author({"name": meta.author_name, **({"email": meta.author_email} if meta.author_email else {})})
        images = e.get("media") or []
        if images:
            # RSS 2.0 takes one enclosure per item: the first image. Atom's (any number) come from
            # the extension, as do the Media RSS elements of both.
            if rss:
                fe.enclosure(images[0]["url"], str(images[0]["length"]), images[0]["type"])
            fe.syndicate_media.images = list(images)
    return fg


def build_feeds(meta: FeedMeta, entries: Sequence[Mapping[str, Any]]) -> tuple[bytes, bytes]:
    """The Atom and RSS documents for ``entries`` (stored entry records, newest first).

    Pure apart from feedgen's process-wide locale switch, which is serialized here. The feed's
    ``updated`` time is the newest entry's, so the same entries give byte-identical files. Each
    document's ``rel="self"`` is its own URL (feedgen would give RSS the Atom one), as WebSub hubs
    compare it with the topic they were pinged for.
    """
    atom_fg = _generator(meta, entries, meta.atom_url, rss=False)
    rss_fg = _generator(meta, entries, meta.rss_url, rss=True)
    with _feedgen_lock:
        atom: bytes = atom_fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
        rss: bytes = rss_fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return atom, rss


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o644)  # mkstemp makes 0600; a web server must be able to read the feed
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _merge(entries: list[dict[str, Any]], record: dict[str, Any], now: datetime, max_entries: int
           ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """Add or update ``record`` in ``entries``; returns (entries, the entry as stored, changed)."""
    existing = next((e for e in entries if e["id"] == record["id"]), None)
    if existing is not None:
        same_revision_other_slot = existing["revision"] == record["revision"] and existing["slot"] != record["slot"]
        if existing["revision"] > record["revision"] or same_revision_other_slot or existing["hash"] == record["hash"]:
            # A newer revision is already there, an evergreen repeat of the same revision, or a
            # repeat of this very publication: the feed already carries the item.
            return entries, existing, False
        previous = _parse(existing["updated"])
        updated = now if now > previous else previous + timedelta(seconds=1)
        stored = {**record, "published": existing["published"], "updated": _iso(updated)}
        rest = [e for e in entries if e["id"] != record["id"]]
    else:
        stored = {**record, "published": _iso(now), "updated": _iso(now)}
        rest = list(entries)
    # Newest first; among entries updated in the same second, the one just written first (the sort
    # is stable, also reversed), then the stored order: the same state gives the same files.
    merged = sorted([stored, *rest], key=lambda e: _parse(e["updated"]), reverse=True)
    return merged[:max_entries], stored, True


class FeedAdapter(HttpAdapter[FeedOptions]):
    """Writes partner feeds (Atom and RSS) and pings their WebSub hub."""

    name = "feeds"
    #: Receipts point at files this adapter wrote (``file://``) unless the files are served.
    permalink_schemes = frozenset({"https", "http", "file"})
    publish_safety = Safety.IDEMPOTENT
    #: A revision updates its entry (same id, new ``updated``); ``unpublish`` removes the entry.
    capabilities = frozenset({Capability.UPDATE, Capability.DELETE, Capability.EXISTS})
    default_utm_medium = "partner"
    statuses = StatusMap(platform="the WebSub hub")
    #: A hub's answer is read only for an error message.
    max_answer_bytes = _MAX_HUB_ANSWER_BYTES

    @property
    def limits(self) -> Limits:
        """Feeds take long HTML content; the cap is the account's ``max_content_chars``."""
        return Limits(max_length=self.options.max_content_chars, max_media=100)

    # -- where things are ----------------------------------------------------------------

    def feed_paths(self, locale: str) -> tuple[Path, Path]:
        """The Atom and RSS files of ``locale``."""
        base = Path(self.options.directory).resolve() / self.account.id
        return base / f"{locale}.atom", base / f"{locale}.rss"

    def feed_urls(self, locale: str) -> tuple[str, str]:
        """The public URLs of the Atom and RSS feeds of ``locale`` (``file://`` when not served)."""
        if self.options.public_url:
            base = f"{self.options.public_url.rstrip('/')}/{quote(self.account.id)}/{quote(locale)}"
            return f"{base}.atom", f"{base}.rss"
        atom, rss = self.feed_paths(locale)
        return atom.as_uri(), rss.as_uri()

    def meta(self, locale: str) -> FeedMeta:
        """Feed-level data of the feed of ``locale``."""
        o = self.options
        atom_url, rss_url = self.feed_urls(locale)
        served = o.public_url is not None
        title = (o.title or f"{self.account.id} ({{locale}})").replace("{locale}", locale)
        feed_id = atom_url if served else entry_id_for(f"feed:{self.account.id}", locale, o.tag_authority)
        return FeedMeta(feed_id=feed_id, title=title, locale=locale, site_url=o.site_url or o.public_url or atom_url,
                        atom_url=atom_url if served else None, rss_url=rss_url if served else None,
                        hub=o.hub, subtitle=o.subtitle, author_name=o.author_name, author_email=o.author_email)

    def permalink(self, entry_id: str, locale: str) -> str:
        """The entry's address: the Atom feed's URL with the entry id as fragment."""
        return f"{self.feed_urls(locale)[0]}#{quote(entry_id, safe=':/,@-._~')}"

    # -- the contract --------------------------------------------------------------------

    def render(self, content: PostContent) -> Rendered:
        """The entry: sanitized HTML content, title, summary, link, categories from tags."""
        text = _content_html(content)
        summary = (content.channel_text or content.summary).strip()
        warnings = [f"media {m.url} has no alt text" for m in content.media if not m.alt]
        warnings += [f"media {m.url} is a video; feeds carry images only" for m in content.media if m.kind != "image"]
        extra = {
            "entry_id": entry_id_for(content.item_id, content.locale, self.options.tag_authority),
            "summary": summary,
            "categories": list(dict.fromkeys(content.tags)),
            "locale": content.locale,
        }
        return Rendered(text=text, length=len(text), limit=self.limits.max_length, link=content.link,
                        format="html", title=content.title, media=content.media, extra=extra,
                        warnings=tuple(warnings))

    def _state(self) -> AccountState:
        state = self.account.state
        if state is None:
            raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{self.account.id}",
                                             "the feeds adapter needs the shared state store of a runtime")])
        return state

    def _record(self, rendered: Rendered, publication: PublicationRef) -> dict[str, Any]:
        fields = {
            "id": str(rendered.extra["entry_id"]), "title": rendered.title or "", "summary": rendered.extra["summary"],
            "content": rendered.text, "link": rendered.link, "categories": list(rendered.extra["categories"]),
        }
        media = self._enclosures(rendered, publication)
        if media:  # only then, so entries without media keep the hash they were stored with
            fields["media"] = media
        digest = hashlib.sha256(repr(sorted(fields.items())).encode("utf-8")).hexdigest()
        return {**fields, "item_id": publication.item_id, "locale": publication.locale,
                "revision": publication.revision, "slot": publication.slot, "key": publication.key,
                "marker": publication.marker, "hash": digest}

    def _enclosures(self, rendered: Rendered, publication: PublicationRef) -> list[dict[str, Any]]:
        """The entry's images with their true type and length in bytes (fetched once per item
        revision through the media store), when the account describes enclosures."""
        if not self.options.enclosures:
            return []
        store = self.account.media or MediaStore()
        out: list[dict[str, Any]] = []
        for ref in rendered.media:
            if ref.kind != "image":
                continue
            medium = store.load(ref.url, item_id=publication.item_id, revision=publication.revision,
                                spec=FEED_MEDIA, time_limit=timedelta(seconds=sum(self.timeouts)))
            out.append({"url": ref.url, "type": medium.content_type, "length": medium.size, "alt": ref.alt})
        return out

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """Add or update the entry, rewrite both files, then ping the hub (if any)."""
        if rendered.length > rendered.limit:
            raise PermanentError(f"entry content is {rendered.length:,} characters, over the limit of "
                                 f"{rendered.limit:,} (option max_content_chars)")
        locale = publication.locale
        record = self._record(rendered, publication)
        merged, stored, changed = self._rewrite(
            locale, lambda entries, now: _merge(entries, record, now, self.options.max_entries))
        atom_path, rss_path = self.feed_paths(locale)
        warnings = self._ping_hub(locale) if (self.options.hub and changed) else []
        log.info("feeds.written", account=self.account.id, locale=locale, entry=stored["id"], changed=changed,
                 entries=len(merged))
        return Receipt(remote_id=stored["id"], permalink=self.permalink(stored["id"], locale),
                       raw={"atom": str(atom_path), "rss": str(rss_path), "updated": stored["updated"],
                            "revision": stored["revision"], "changed": changed},
                       warnings=tuple(warnings))

    def _rewrite(self, locale: str, change: Callable[[list[dict[str, Any]], datetime],
                                                      tuple[list[dict[str, Any]], dict[str, Any], bool]]
                 ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        """Apply ``change`` to the entries of ``locale`` under the feed's lock, rewrite both files,
        store the entries (compare-and-set); returns what ``change`` returned."""
        state = self._state()
        key = f"feed:{locale}"
        atom_path, rss_path = self.feed_paths(locale)
        meta = self.meta(locale)
        try:
            with state.lock(key):
                for _ in range(_CAS_ATTEMPTS):
                    got = state.get(key)
                    entries: list[dict[str, Any]] = list(got[0]["entries"]) if got else []
                    version = got[1] if got else None
                    now = datetime.now(UTC).replace(microsecond=0)
                    merged, stored, changed = change(entries, now)
                    atom, rss = build_feeds(meta, merged)
                    try:
                        atom_path.parent.mkdir(parents=True, exist_ok=True)
                        # Files first, state second: a crash in between leaves the state without the
                        # change, so the retry makes it again and rewrites the files.
                        _atomic_write(atom_path, atom)
                        _atomic_write(rss_path, rss)
                    except OSError as exc:
                        raise TransientError(f"cannot write feed files in {atom_path.parent}: {exc.strerror}"
                                             ) from None
                    if not changed or state.put(key, {"entries": merged}, expect_version=version):
                        return merged, stored, changed
                raise TransientError(f"feed {self.account.id}/{locale} kept changing under the lock; try again")
        except TimeoutError as exc:
            raise TransientError(f"feed {self.account.id}/{locale} is busy: {exc}") from None

    def update(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """The entry of every revision has the same id: an update is a publish (new ``updated``, same
        id, hub pinged)."""
        return self.publish(rendered, publication)

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """Remove the entry ``remote_id`` from both files of its locale and ping the hub; an entry
        that is not there is done."""
        locale = publication.locale

        def drop(entries: list[dict[str, Any]], now: datetime) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
            kept = [e for e in entries if e["id"] != remote_id]
            return kept, {"id": remote_id}, len(kept) != len(entries)

        _, _, changed = self._rewrite(locale, drop)
        warnings = self._ping_hub(locale) if (self.options.hub and changed) else []
        log.info("feeds.entry_removed", account=self.account.id, locale=locale, entry=remote_id, changed=changed,
                 warnings=len(warnings))

    def exists(self, remote_id: str, publication: PublicationRef) -> bool:
        """Whether the feed of the publication's locale still has the entry ``remote_id``."""
        got = self._state().get(f"feed:{publication.locale}")
        return any(e["id"] == remote_id for e in (got[0]["entries"] if got else []))

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """The stored entry of this item and locale at this revision or newer, if the Atom file has it."""
        got = self._state().get(f"feed:{publication.locale}")
        entry_id = str(rendered.extra["entry_id"])
        entry = next((e for e in (got[0]["entries"] if got else []) if e["id"] == entry_id), None)
        if entry is None or entry["revision"] < publication.revision:
            return None
        atom_path, _ = self.feed_paths(publication.locale)
        try:
            on_disk = atom_path.read_bytes()
        except OSError:
            return None  # the state has it but the file is gone: publishing again rewrites it
        if entry_id.encode("utf-8") not in on_disk:
            return None
        return Receipt(remote_id=entry_id, permalink=self.permalink(entry_id, publication.locale),
                       raw={"atom": str(atom_path), "updated": entry["updated"], "revision": entry["revision"]})

    # -- WebSub --------------------------------------------------------------------------

    def _ping_hub(self, locale: str) -> list[str]:
        """``hub.mode=publish`` for both feed URLs; returns warnings instead of raising."""
        hub = self.options.hub
        assert hub is not None
        warnings: list[str] = []
        for url in self.feed_urls(locale):
            problem = None
            try:
                resp = self.request("POST", hub, creates=False, what=f"the ping for {url}",
                                    data={"hub.mode": "publish", "hub.url": url})
                if not 200 <= resp.status_code < 300:
                    snippet = answer_text(resp, limit=300)
                    problem = f"HTTP {resp.status_code}" + (f": {snippet}" if snippet else "")
            except ChannelError as exc:
                problem = str(exc)
            if problem is not None:
                warning = f"WebSub hub ping for {url} failed ({problem}); the entry is in the feed"
                warnings.append(warning)
                log.warning("feeds.hub_ping_failed", account=self.account.id, locale=locale, hub=hub, feed=url,
                            error=problem)
        return warnings
