"""Render every channel's post for an item, and judge whether the output is safe.

Safe means: the adapter either raises ``ContentError`` (that publication fails, nothing else) or
returns a post that fits its limit, keeps the tagged link, carries no control character and no
bidirectional control left open, and whose HTML (WordPress, feeds, the webhook payload's
``body_html``) has no script, style, frame, form, plugin or meta element, no event handler
attribute, and no link or source with a scheme other than http, https or mailto.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from syndicate.base.fields import check_text
from syndicate.channels.contract import Adapter, Rendered
from syndicate.config.loading import load_config
from syndicate.errors import ContentError
from syndicate.intake.attribution import tag_url, utm_for
from syndicate.ledger import NewPublication
from syndicate.localization.localize import source_fields
from syndicate.model.config import Config
from syndicate.model.item import TRANSLATABLE_FIELDS, ContentItem
from syndicate.publishing.content import build_content
from tests.helpers import write_config

__all__ = ["RenderedPost", "render_config", "render_everywhere", "unsafe"]

#: One account per adapter that renders without a network (credentials are never resolved by render).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "x-a": {"adapter": "x", "credentials": {"consumer_key": "${K}", "consumer_secret": "${K}", "access_token": "${K}",
                                            "access_token_secret": "${K}"}, "options": {"username": "example"}},
    "x-thread": {"adapter": "x", "credentials": {"consumer_key": "${K}", "consumer_secret": "${K}",
                                                 "access_token": "${K}", "access_token_secret": "${K}"},
                 "options": {"username": "example", "thread": True, "include_body": True}},
    "li-a": {"adapter": "linkedin", "credentials": {"access_token": "${K}"},
             "options": {"author": "urn:li:organization:1"}},
    "blog-a": {"adapter": "wordpress", "base_url": "https://blog.example.com",
               "credentials": {"username": "${K}", "app_password": "${K}"}},
    "hook-a": {"adapter": "webhooks", "base_url": "https://partner.example.com/hooks",
               "credentials": {"secret": "${K}"}, "options": {"markdown": "both"}},
    "feed-a": {"adapter": "feeds", "options": {"public_url": "https://partners.example.com/feeds"}},
    "sandbox-a": {"adapter": "sandbox"},
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BAD_ELEMENTS = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
                 "button", "textarea", "select", "meta", "base", "link", "svg", "math", "template", "noscript"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "xlink:href", "data", "srcset"}


def render_config(directory: Path) -> Config:
    """A config with :data:`ACCOUNTS` and one route publishing to all of them."""
    write_config(directory, accounts=ACCOUNTS, routes=[{"region": "all", "locales": ["en-US"], "timezone": "UTC",
                                                        "accounts": list(ACCOUNTS)}])
    return load_config(directory, check_secrets=False)


@dataclass(frozen=True)
class RenderedPost:
    """What one account rendered (``error``: the ContentError it raised instead)."""

    account: str
    channel: str
    tagged_url: str
    rendered: Rendered | None
    error: str | None


def render_everywhere(cfg: Config, item: ContentItem) -> Iterator[RenderedPost]:
    """Render ``item`` (its source text, in its source locale) for every account, as publishing does."""
    fields = source_fields(item)  # what localization hands to rendering in the source locale
    assert set(fields) <= set(TRANSLATABLE_FIELDS)
    for account in cfg.accounts:
        cls = cfg.adapter_class(account)
        adapter: Adapter = cls(cfg.account_context(account))
        utm = utm_for(source=adapter.name, medium="social", campaign=item.campaign,
                      content=f"{item.id}.{item.source_locale}.{account}.0")
        target = NewPublication(locale=item.source_locale, account=account, slot=0, region="all",
                                channel=adapter.name, scheduled_for=datetime.now(UTC),
                                tagged_url=tag_url(item.canonical_url, utm), utm=utm)
        try:
            rendered = adapter.render(build_content(item, fields, target))
        except ContentError as exc:
            yield RenderedPost(account, adapter.name, target.tagged_url, None, str(exc))
            continue
        yield RenderedPost(account, adapter.name, target.tagged_url, rendered, None)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BAD_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in _URL_ATTRIBUTES and value is not None:
                scheme = re.sub(r"[\x00-\x20]", "", html.unescape(value)).split(":", 1)
                if len(scheme) == 2 and "/" not in scheme[0] and scheme[0].lower() not in ("http", "https",
                                                                                              "mailto"):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def _html_problems(markup: str) -> list[str]:
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    return parser.problems


def _texts(rendered: Rendered) -> list[str]:
    out = [rendered.text, *rendered.parts]
    if rendered.title:
        out.append(rendered.title)
    out.extend(str(v) for v in rendered.extra.values() if isinstance(v, str))
    return out


def unsafe(post: RenderedPost) -> list[str]:
    """What is unsafe about one rendered post (empty: safe)."""
    r = post.rendered
    if r is None:
        return []  # a ContentError: this publication fails, nothing is sent
    problems: list[str] = []
    if r.length > r.limit:
        problems.append(f"length {r.length} over the limit {r.limit}")
    if r.link != post.tagged_url:
        problems.append(f"link changed: {r.link!r}")
    for text in _texts(r):
        m = _CONTROL.search(text)
        if m:
            problems.append(f"control character U+{ord(m.group()):04X}")
        try:
            check_text(_CONTROL.sub("", text).replace("\u2028", " ").replace("\u2029", " "))
        except ValueError as exc:
            if "bidirectional" in str(exc):
                problems.append(str(exc))
    if r.format == "text" and not any(post.tagged_url in t or post.tagged_url.replace("(", "%28") in t
                                      for t in (r.text, *r.parts)):
        problems.append("the tagged link is missing from the text")
    if r.format == "html":
        problems.extend(_html_problems(r.text))
    if r.format == "json":
        payload = json.loads(r.text)
        problems.extend(_html_problems(str(payload["data"].get("body_html") or "")))
    return problems
