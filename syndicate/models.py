"""The content item: what a producer submits, validated strictly at intake.

An item is refused whole or accepted whole: :func:`parse_item` raises :class:`InvalidItem`
listing every problem (item id, field, reason), and nothing is stored from a refused item.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import nh3
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .addresses import MediaUrl
from .errors import ContentError, NotApproved
from .fields import AwareDatetime, Duration, LocaleTag, PlainText, WebUrl, check_text
from .inputs import Document, InputError, load_file, load_json, load_yaml

__all__ = [
    "CallToAction",
    "ContentItem",
    "IntakeLimits",
    "InvalidItem",
    "LocalizedFields",
    "Media",
    "Overrides",
    "Repeat",
    "load_item_file",
    "parse_item",
]

BuyingStage = Literal["awareness", "consideration", "decision"]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")]
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]

#: The fields of an item that are translated, in the order they are sent to an engine.
TRANSLATABLE_FIELDS = ("title", "summary", "body", "cta_text")


@dataclass(frozen=True)
class IntakeLimits:
    """Size limits applied to every item at intake (characters unless the name says otherwise)."""

    #: Largest serialized item, in bytes.
    max_item_bytes: int = 1024 * 1024
    max_title_chars: int = 300
    max_summary_chars: int = 5_000
    max_body_chars: int = 200_000
    max_tags: int = 30
    max_tag_chars: int = 64
    max_media: int = 10
    max_variants: int = 20
    max_locales: int = 100


def _limits(info: ValidationInfo) -> IntakeLimits:
    ctx = info.context
    limits = ctx.get("limits") if isinstance(ctx, dict) else None
    return limits if isinstance(limits, IntakeLimits) else IntakeLimits()


def _check_len(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise ValueError(f"{what} is {len(value):,} characters, more than the limit of {limit:,}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class CallToAction(_Strict):
    """The call to action: the words, and where they lead (usually the canonical page)."""

    text: Annotated[PlainText, StringConstraints(min_length=1, max_length=200)]
    url: WebUrl


class Media(_Strict):
    """An image or video shown with the post. ``alt`` is the accessible description."""

    url: MediaUrl
    alt: Annotated[PlainText, StringConstraints(max_length=1000)] | None = None
    kind: Literal["image", "video"] = "image"


class LocalizedFields(_Strict):
    """Human translation of some or all translatable fields for one locale."""

    title: PlainText | None = None
    summary: PlainText | None = None
    body: str | None = None
    cta_text: PlainText | None = None

    def given(self) -> dict[str, str]:
        """The fields that are set, by name."""
        return {k: v for k in TRANSLATABLE_FIELDS if (v := getattr(self, k)) is not None}


class Overrides(_Strict):
    """Hand-written text that wins over machine translation.

    ``locales[locale]`` holds a region's human translation, field by field; ``channels[channel]``
    holds the exact text for one channel (adapter name or account id), by locale.
    """

    locales: dict[LocaleTag, LocalizedFields] = Field(default_factory=dict)
    channels: dict[ChannelName, dict[LocaleTag, PlainText]] = Field(default_factory=dict)


class Repeat(_Strict):
    """Evergreen reposting: every ``interval``, ``count`` more times or until ``until``.

    ``variants`` are alternative texts for social posts, used in turn so that consecutive posts
    never repeat the same text.
    """

    interval: Duration
    count: Annotated[int, Field(ge=1, le=100)] | None = None
    until: AwareDatetime | None = None
    variants: list[PlainText] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bounded(self) -> Repeat:
        if self.count is None and self.until is None:
            raise ValueError("repeat needs 'count' or 'until'")
        if self.interval < timedelta(hours=1):
            raise ValueError("repeat.interval must be at least 1h")
        return self


class ContentItem(_Strict):
    """An approved content item. See ``docs/items.md`` for every field."""

    id: ItemId
    revision: Annotated[int, Field(ge=1, le=2**31 - 1)]
    source_locale: LocaleTag
    title: Annotated[PlainText, StringConstraints(min_length=1)]
    summary: Annotated[PlainText, StringConstraints(min_length=1)]
    body_format: Literal["markdown", "html"] = "markdown"
    body: str = ""
    canonical_url: WebUrl
    cta: CallToAction | None = None
    campaign: Slug
    tags: list[Annotated[PlainText, StringConstraints(min_length=1)]] = Field(default_factory=list)
    media: list[Media] = Field(default_factory=list)
    approved: bool
    approved_by: Annotated[PlainText, StringConstraints(min_length=1, max_length=200)]
    approved_at: AwareDatetime
    publish_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    locales: list[LocaleTag] | None = None
    channels: list[ChannelName] | None = None
    overrides: Overrides = Field(default_factory=Overrides)
    repeat: Repeat | None = None
    buying_stage: BuyingStage | None = None

    @field_validator("title")
    @classmethod
    def _title_len(cls, v: str, info: ValidationInfo) -> str:
        return _check_len(v, _limits(info).max_title_chars, "title")

    @field_validator("summary")
    @classmethod
    def _summary_len(cls, v: str, info: ValidationInfo) -> str:
        return _check_len(v, _limits(info).max_summary_chars, "summary")

    @field_validator("body")
    @classmethod
    def _body(cls, v: str, info: ValidationInfo) -> str:
        _check_len(v, _limits(info).max_body_chars, "body")
        check_text(v)
        return sanitize_html(v) if info.data.get("body_format") == "html" else v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str], info: ValidationInfo) -> list[str]:
        lim = _limits(info)
        if len(v) > lim.max_tags:
            raise ValueError(f"{len(v)} tags, more than the limit of {lim.max_tags}")
        for tag in v:
            _check_len(tag, lim.max_tag_chars, f"tag {tag[:20]!r}")
        if len({t.casefold() for t in v}) != len(v):
            raise ValueError("tags repeat (case-insensitively)")
        return v

    @field_validator("media")
    @classmethod
    def _media(cls, v: list[Media], info: ValidationInfo) -> list[Media]:
        if len(v) > _limits(info).max_media:
            raise ValueError(f"{len(v)} media, more than the limit of {_limits(info).max_media}")
        return v

    @field_validator("locales")
    @classmethod
    def _locales(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("an empty list would publish nowhere; omit the field for every locale")
            if len(v) > _limits(info).max_locales:
                raise ValueError(f"more than {_limits(info).max_locales} locales")
            if len(set(v)) != len(v):
                raise ValueError("locales repeat")
        return v

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise ValueError("an empty list would publish nowhere; omit the field for every channel")
        return v

    @field_validator("repeat")
    @classmethod
    def _variants(cls, v: Repeat | None, info: ValidationInfo) -> Repeat | None:
        if v is not None and len(v.variants) > _limits(info).max_variants:
            raise ValueError(f"more than {_limits(info).max_variants} variants")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ContentItem:
        if self.approved is not True:
            raise ValueError("approved: the item is not approved; only approved items are published")
        if self.publish_at and self.expires_at and self.expires_at <= self.publish_at:
            raise ValueError("expires_at: must be later than publish_at")
        return self

    def content_hash(self) -> str:
        """A stable hash of the item's content, to tell a true re-submission from an edit."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def publish_after(self) -> datetime | None:
        """Alias of ``publish_at`` for readability in scheduling code."""
        return self.publish_at


#: Tags and attributes that survive HTML sanitization of item bodies.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "hreflang"}, "img": {"src", "alt", "width", "height"},
                      "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}}


def sanitize_html(html: str) -> str:
    """Keep only safe markup: no scripts, event handlers, styles or ``javascript:`` links."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


class InvalidItem(ContentError):
    """An item was refused; ``problems`` lists ``(field, reason)`` for every problem found."""

    def __init__(self, item_id: str | None, problems: list[tuple[str, str]], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        who = f"item {item_id!r}" if item_id else "item"
        if source:
            who = f"{source}: {who}"
        lines = [f"{who}: {field or '(item)'}: {reason}" for field, reason in problems]
        ContentError.__init__(self, "; ".join(f"{f or '(item)'}: {r}" for f, r in problems), item_id=item_id)
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


def _loc_to_field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _error_message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err.get("type") == "extra_forbidden":
        msg = "unknown field"
    elif err.get("type") == "missing":
        msg = "is required"
    return msg


def parse_item(data: Any, *, limits: IntakeLimits | None = None, source: str | None = None) -> ContentItem:
    """Validate ``data`` (a mapping from YAML or JSON) into a :class:`ContentItem`.

    Raises:
        InvalidItem: every problem, each with its field; ``NotApproved`` if approval is the only one.
    """
    lim = limits or IntakeLimits()
    item_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    if not isinstance(data, dict):
        raise InvalidItem(None, [("", f"an item must be a mapping, not {type(data).__name__}")], source)
    size = len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))
    if size > lim.max_item_bytes:
        raise InvalidItem(item_id, [("", f"is {size:,} bytes, more than the limit of {lim.max_item_bytes:,}")],
                          source)
    if data.get("approved") is not True and "approved" in data:
        raise NotApproved(f"not approved (approved is {data.get('approved')!r}, must be true)",
                          item_id=item_id, field="approved")
    try:
        return ContentItem.model_validate(data, context={"limits": lim})
    except ValidationError as exc:
        problems = [(_loc_to_field(e["loc"]), _error_message(e)) for e in exc.errors()]
        raise InvalidItem(item_id, problems, source) from None


def _parse_doc(doc: Document, limits: IntakeLimits | None) -> ContentItem:
    return parse_item(doc.data, limits=limits, source=doc.source)


def load_item_file(path: Path, *, limits: IntakeLimits | None = None) -> ContentItem:
    """Read and validate an item from a YAML or JSON file."""
    lim = limits or IntakeLimits()
    try:
        doc = load_file(path, max_bytes=lim.max_item_bytes)
    except InputError as exc:
        raise InvalidItem(None, [("", exc.reason + (f" (line {exc.line})" if exc.line else ""))],
                          str(path)) from None
    return _parse_doc(doc, limits)


def load_item_bytes(raw: bytes, source: str, *, limits: IntakeLimits | None = None) -> ContentItem:
    """Read and validate an item from bytes: JSON when it starts with ``{``, else YAML."""
    lim = limits or IntakeLimits()
    try:
        stripped = raw.lstrip()
        doc = (load_json if stripped.startswith(b"{") else load_yaml)(raw, source, max_bytes=lim.max_item_bytes)
    except InputError as exc:
        raise InvalidItem(None, [("", exc.reason + (f" (line {exc.line})" if exc.line else ""))],
                          source) from None
    return _parse_doc(doc, limits)
