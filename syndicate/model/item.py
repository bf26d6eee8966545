"""The content item: what a producer submits, validated strictly at intake.

An item is refused whole or accepted whole: :func:`parse_item` raises :class:`InvalidItem`
listing every problem (item id, field, reason, and the line when the item came from a file), and
nothing is stored from a refused item. ``docs/items.md`` states every rule.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Literal

import nh3
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..base.fields import (
    STORED,
    AwareDatetime,
    Duration,
    HostName,
    LocaleTag,
    MediaUrl,
    PlainText,
    SingleLineText,
    WebUrl,
    at_intake,
    check_not_blank,
    check_single_line,
    check_text,
)
from ..base.inputs import Document, InputError, Path_, dotted, line_of, load_json, load_yaml, value_problems
from ..channels.markup import sanitize_html
from ..errors import ContentError, NotApproved

__all__ = [
    "CallToAction",
    "ContentItem",
    "IntakeLimits",
    "InvalidItem",
    "LocalizedFields",
    "Media",
    "Overrides",
    "Repeat",
    "channel_names",
    "check_channels",
    "load_item_bytes",
    "load_item_file",
    "parse_item",
    "stored_item",
]

BuyingStage = Literal["awareness", "consideration", "decision"]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
_SLUG = r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}"


def _slug(value: str, info: ValidationInfo) -> str:
    if at_intake(info):
        check_single_line(value)
    if not re.fullmatch(_SLUG, value):
        raise ValueError("must be 1 to 100 letters, digits, '.', '_', '+' or '-', starting with a letter or digit")
    return value


Slug = Annotated[str, AfterValidator(_slug), Field(json_schema_extra={"pattern": f"^{_SLUG}$"})]
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]

#: Fields added to the item after items were stored: in the content hash only when set.
_HASHED_ONLY_WHEN_SET = ("never_tag", "first_comment")

#: How many times the item limit an item file may be for it to be parsed, so that a refusal can name
#: the fields that make the item too big. JSON parses fast; YAML (pure Python) about 0.5 s a MiB.
JSON_FILE_FACTOR = 16
YAML_FILE_FACTOR = 4

#: The fields of an item that are translated, in the order they are sent to an engine.
TRANSLATABLE_FIELDS = ("title", "summary", "body", "cta_text", "first_comment")

#: Longest first comment, in characters, at intake (each channel's own limit applies when it is rendered:
#: X 280 weighted, LinkedIn 1,250; docs/items.md).
MAX_FIRST_COMMENT_CHARS = 1_250


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
    #: Most items in one CSV file (its rows) or one directory (its item files).
    max_batch_items: int = 10_000
    #: Largest CSV file of items, in bytes.
    max_csv_bytes: int = 64 * 1024 * 1024


#: No limits: for stored items read back (limits apply at intake, and may have changed since).
_UNLIMITED = IntakeLimits(**{name: 2**62 for name in IntakeLimits.__dataclass_fields__})

#: Validation context of an item read back from the ledger: :func:`stored_item`.
STORED_CONTEXT = {STORED: True}


def _limits(info: ValidationInfo) -> IntakeLimits:
    if not at_intake(info):
        return _UNLIMITED
    ctx = info.context
    limits = ctx.get("limits") if isinstance(ctx, dict) else None
    return limits if isinstance(limits, IntakeLimits) else IntakeLimits()


def _text(value: str, info: ValidationInfo, limit: str | int) -> str:
    """The intake rules every text field shares: not blank, and within its size limit.

    ``limit`` is the name of an :class:`IntakeLimits` field (``max_title_chars``), or a fixed number.
    """
    if at_intake(info):
        check_not_blank(value)
        most = getattr(_limits(info), limit) if isinstance(limit, str) else limit
        if len(value) > most:
            setting = f" (intake.{limit} in settings.yaml)" if isinstance(limit, str) else ""
            raise ValueError(f"is {len(value):,} characters, more than the limit of {most:,}{setting}")
    return value


def _body_text(value: str, info: ValidationInfo, body_format: object) -> str:
    """A body (the item's or a human translation's): text rules, size, and sanitized when it is HTML."""
    _text(value, info, "max_body_chars")
    check_text(value)
    if body_format != "html":
        return value
    clean = sanitize_html(value)
    if at_intake(info) and not _visible_html(clean):
        raise ValueError("is blank once sanitized: scripts, styles and event handlers are removed, and nothing "
                         "else is left")
    return clean


def _visible_html(markup: str) -> bool:
    """Whether sanitized HTML shows anything: text, or an image."""
    if "<img" in markup:
        return True
    text = html.unescape(nh3.clean(markup, tags=set()))
    try:
        check_not_blank(text)
    except ValueError:
        return False
    return True


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


#: Longest call-to-action text, in characters.
MAX_CTA_CHARS = 200
#: Longest ``approved_by``, in characters.
MAX_APPROVER_CHARS = 200


def _lead(value: str, info: ValidationInfo) -> str:
    return _text(value, info, "max_summary_chars")


def _tag(value: str, info: ValidationInfo) -> str:
    return _text(value, info, "max_tag_chars")


#: A channel text or an evergreen variant: it stands for the post's lead (title and summary), so it
#: has the summary's rules and limit; line breaks are allowed.
LeadText = Annotated[PlainText, AfterValidator(_lead)]


class CallToAction(_Strict):
    """The call to action: the words, and where they lead (usually the canonical page)."""

    text: SingleLineText
    url: WebUrl

    @field_validator("text")
    @classmethod
    def _cta_text(cls, v: str, info: ValidationInfo) -> str:
        return _text(v, info, MAX_CTA_CHARS)


class Media(_Strict):
    """An image or video shown with the post. ``alt`` is the accessible description."""

    url: MediaUrl
    alt: Annotated[PlainText, StringConstraints(max_length=1000)] | None = None
    kind: Literal["image", "video"] = "image"

    @field_validator("alt")
    @classmethod
    def _alt_single_line(cls, v: str | None, info: ValidationInfo) -> str | None:
        return v if v is None or not at_intake(info) else check_single_line(v)


class LocalizedFields(_Strict):
    """Human translation of some or all translatable fields for one locale.

    Each field follows the rules and limits of the item field it translates; a field that is given
    must not be blank (leave it out to have it machine-translated).
    """

    title: SingleLineText | None = None
    summary: PlainText | None = None
    body: str | None = None
    cta_text: SingleLineText | None = None
    first_comment: PlainText | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _text(v, info, "max_title_chars")

    @field_validator("first_comment")
    @classmethod
    def _first_comment(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _text(v, info, MAX_FIRST_COMMENT_CHARS)

    @field_validator("summary")
    @classmethod
    def _summary(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _text(v, info, "max_summary_chars")

    @field_validator("body")
    @classmethod
    def _body(cls, v: str | None, info: ValidationInfo) -> str | None:
        # Sanitized as HTML by ContentItem, which knows the body format.
        return None if v is None else _body_text(v, info, "markdown")

    @field_validator("cta_text")
    @classmethod
    def _cta_text(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _text(v, info, MAX_CTA_CHARS)

    def given(self) -> dict[str, str]:
        """The fields that are set, by name."""
        return {k: v for k in TRANSLATABLE_FIELDS if (v := getattr(self, k)) is not None}


class Overrides(_Strict):
    """Hand-written text that wins over machine translation.

    ``locales[locale]`` holds a region's human translation, field by field; ``channels[channel]``
    holds the exact text for one channel (adapter name or account id), by locale. A channel text
    stands for the post's lead text (title and summary), so it has the summary's rules and limit.
    """

    locales: dict[LocaleTag, LocalizedFields] = Field(default_factory=dict)
    channels: dict[ChannelName, dict[LocaleTag, LeadText]] = Field(default_factory=dict)


class Repeat(_Strict):
    """Evergreen reposting: every ``interval``, ``count`` more times or until ``until``.

    ``variants`` are alternative texts for social posts, used in turn so that consecutive posts
    never repeat the same text.
    """

    interval: Duration
    count: Annotated[int, Field(ge=1, le=100)] | None = None
    until: AwareDatetime | None = None
    variants: list[LeadText] = Field(default_factory=list)

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
    title: SingleLineText
    summary: PlainText | None = None
    body_format: Literal["markdown", "html"] = "markdown"
    body: str
    canonical_url: WebUrl
    cta: CallToAction | None = None
    first_comment: PlainText | None = None
    never_tag: list[HostName] = Field(default_factory=list, max_length=50)
    campaign: Slug
    tags: list[Annotated[SingleLineText, AfterValidator(_tag)]] = Field(default_factory=list)
    media: list[Media] = Field(default_factory=list)
    approved: bool
    approved_by: SingleLineText
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
        return _text(v, info, "max_title_chars")

    @field_validator("summary")
    @classmethod
    def _summary_len(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _text(v, info, "max_summary_chars")

    @field_validator("body")
    @classmethod
    def _body(cls, v: str, info: ValidationInfo) -> str:
        return _body_text(v, info, info.data.get("body_format"))

    @field_validator("first_comment")
    @classmethod
    def _first_comment_len(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _text(v, info, MAX_FIRST_COMMENT_CHARS)

    @field_validator("approved_by")
    @classmethod
    def _approver(cls, v: str, info: ValidationInfo) -> str:
        return _text(v, info, MAX_APPROVER_CHARS)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str], info: ValidationInfo) -> list[str]:
        lim = _limits(info)
        if len(v) > lim.max_tags:
            raise ValueError(f"{len(v)} tags, more than the limit of {lim.max_tags}")
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
        if v is not None and len(set(v)) != len(v):
            twice = sorted(c for c, n in Counter(v).items() if n > 1)
            raise ValueError(f"{', '.join(map(repr, twice[:10]))} listed more than once; list each channel once")
        return v

    @field_validator("overrides")
    @classmethod
    def _sanitized_overrides(cls, v: Overrides, info: ValidationInfo) -> Overrides:
        """Human translations of an HTML body are sanitized like the body."""
        body_format = info.data.get("body_format")
        if body_format != "html" or not any(f.body is not None for f in v.locales.values()):
            return v
        locales: dict[str, LocalizedFields] = {}
        problems = []
        for locale, fields in v.locales.items():
            if fields.body is not None:
                try:
                    fields = fields.model_copy(update={"body": _body_text(fields.body, info, "html")})
                except ValueError as exc:
                    problems.append(f"locales.{locale}.body: {exc}")
            locales[locale] = fields
        if problems:
            raise ValueError("; ".join(problems))
        return v.model_copy(update={"locales": locales})

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
        """A stable hash of the item's content, to tell a true re-submission from an edit.

        Fields added after items were stored are left out while empty, so an item stored before
        keeps its hash and its re-submission stays a no-op.
        """
        data = self.model_dump(mode="json")
        for name in _HASHED_ONLY_WHEN_SET:
            if not data.get(name):
                data.pop(name, None)
        for fields in (data.get("overrides") or {}).get("locales", {}).values():
            for name in _HASHED_ONLY_WHEN_SET:
                if name in fields and fields[name] is None:
                    del fields[name]
        payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def publish_after(self) -> datetime | None:
        """Alias of ``publish_at`` for readability in scheduling code."""
        return self.publish_at


class InvalidItem(ContentError):
    """An item was refused; ``problems`` lists ``(field, reason)`` for every problem found.

    ``lines`` holds the 1-based line of each problem in ``source`` (None where unknown), so the
    message reads ``file:line: item 'id': field: reason``, one problem a line.
    """

    def __init__(self, item_id: str | None, problems: list[tuple[str, str]], source: str | None = None, *,
                 lines: Sequence[int | None] | None = None) -> None:
        self.problems = problems
        self.source = source
        self.lines: list[int | None] = list(lines) if lines is not None else [None] * len(problems)
        who = f"item {item_id!r}" if item_id else "item"
        out = []
        for (field, reason), line in zip(problems, self.lines, strict=True):
            where = f"{source}:{line}: " if source and line else f"{source}: " if source else ""
            out.append(f"{where}{who}: {field or '(item)'}: {reason}")
        ContentError.__init__(self, "; ".join(f"{f or '(item)'}: {r}" for f, r in problems), item_id=item_id)
        self.args = ("\n".join(out),)

    def __str__(self) -> str:
        return str(self.args[0])


def _located(loc: Path_, reason: str) -> tuple[Path_, str]:
    """A whole-item problem whose reason starts with a field's name (``expires_at: must be...``) moved
    to that field, so that it gets the field's line."""
    head, sep, rest = reason.partition(": ")
    if not loc and sep and head in ContentItem.model_fields:
        return (head,), rest
    return loc, reason


def _error_message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err.get("type") == "extra_forbidden":
        msg = "unknown field"
    elif err.get("type") == "missing":
        msg = "is required"
    return msg


def _refuse(item_id: str | None, found: Sequence[tuple[Path_, str]], source: str | None,
            doc: Document | None) -> InvalidItem:
    """An :class:`InvalidItem` for ``(path, reason)`` problems, with their lines when ``doc`` has them
    (then in the order of their lines)."""
    located = [(line_of(doc, path) if doc is not None and path else None, path, reason) for path, reason in found]
    if doc is not None:
        located.sort(key=lambda t: t[0] if t[0] is not None else 1 << 62)
    return InvalidItem(item_id, [(dotted(path), reason) for _, path, reason in located], source,
                       lines=[line for line, _, _ in located])


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))


def _at(data: Any, path: Path_) -> Any:
    for key in path:
        data = data[key]
    return data


def _size_problems(data: dict[str, Any], size: int, limit: int) -> list[tuple[Path_, str]]:
    """The fields that make an item of ``size`` bytes bigger than ``limit``: the largest values,
    biggest first, until what is left would fit (at most five; top-level fields if it takes more)."""
    leaves: list[tuple[int, Path_]] = []

    def walk(value: Any, path: Path_) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, str(k)))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))
        else:  # roughly its JSON size, to rank: exact sizes are measured for the few that are named
            leaves.append((len(value.encode("utf-8")) + 2 if isinstance(value, str) else len(repr(value)), path))

    def biggest(sized: list[tuple[int, Path_]]) -> list[tuple[int, Path_]] | None:
        chosen, left = [], size
        for _, path in sorted(sized, key=lambda t: -t[0])[:5]:
            n = _json_bytes(_at(data, path))
            chosen.append((n, path))
            left -= n
            if left <= limit:
                return chosen
        return None

    walk(data, ())
    chosen = biggest(leaves) or biggest([(_json_bytes(v), (k,)) for k, v in data.items()]) or []
    whole = f"more than the limit of {limit:,} bytes for a whole item (max_item_bytes)"
    if not chosen:
        return [((), f"is {size:,} bytes, {whole}")]
    return [(path, f"is {n:,} bytes, {whole}" if n > limit else f"is {n:,} bytes of the item's {size:,}, {whole}")
            for n, path in chosen]


def channel_names(adapters: Collection[str], accounts: Collection[str]) -> frozenset[str]:
    """The names an item's ``channels`` may use: installed adapters and the config's account ids."""
    return frozenset(adapters) | frozenset(accounts)


def _channel_problems(data: dict[str, Any], known: Collection[str]) -> list[tuple[Path_, str]]:
    """Names in ``channels`` that are neither an installed adapter nor an account id: refused, never
    silently dropped (the rest of the item would go out without them).

    ``overrides.channels`` keys are not checked: a hand-written text for a channel this config does
    not have is simply not used, so one item can carry texts for several deployments.
    """
    named: list[tuple[Path_, object]] = []
    if isinstance(data.get("channels"), list):
        named += [(("channels", i), name) for i, name in enumerate(data["channels"])]
    out = []
    for path, name in named:
        if isinstance(name, str) and name not in known:
            close = get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listed = ", ".join(sorted(known)[:30]) or "none"
            out.append((path, f"unknown channel {name[:64]!r}: not an adapter or an account id in the config "
                              f"({listed}){hint}"))
    return out


def check_channels(item: ContentItem, channels: Collection[str]) -> None:
    """Refuse ``item`` if its ``channels`` name a channel not in ``channels`` (see :func:`channel_names`).

    Raises:
        InvalidItem: naming each unknown channel.
    """
    found = _channel_problems({"channels": item.channels}, channels)
    if found:
        raise _refuse(item.id, found, None, None)


def _parse(data: Any, lim: IntakeLimits, source: str | None, doc: Document | None,
           channels: Collection[str] | None) -> ContentItem:
    item_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    if not isinstance(data, dict):
        raise InvalidItem(None, [("", f"an item must be a mapping, not {type(data).__name__}")], source)
    found = value_problems(data)  # lone surrogates and the like cannot even be measured
    if found:
        raise _refuse(item_id, found, source, doc)
    size = _json_bytes(data)
    if size > lim.max_item_bytes:
        raise _refuse(item_id, _size_problems(data, size, lim.max_item_bytes), source, doc)
    if data.get("approved") is not True and "approved" in data:
        raise NotApproved(f"not approved (approved is {data.get('approved')!r}, must be true)",
                          item_id=item_id, field="approved")
    found = _channel_problems(data, channels) if channels is not None else []
    try:
        item = ContentItem.model_validate(data, context={"limits": lim})
    except ValidationError as exc:
        found = [_located(tuple(e["loc"]), _error_message(e)) for e in exc.errors()] + found
    if found:
        raise _refuse(item_id, found, source, doc)
    return item


def parse_item(data: Any, *, limits: IntakeLimits | None = None, source: str | None = None,
               channels: Collection[str] | None = None) -> ContentItem:
    """Validate ``data`` (a mapping from YAML or JSON) into a :class:`ContentItem`.

    Args:
        data: the item, as plain data.
        limits: size limits (default: :class:`IntakeLimits` defaults).
        source: where the data came from, for messages (a file name, "request body").
        channels: the channel names the config knows (see :func:`channel_names`); when given, an
            unknown name in the item's ``channels`` is a problem.

    Raises:
        InvalidItem: every problem, each with its field; ``NotApproved`` if approval is the only one.
    """
    return _parse(data, limits or IntakeLimits(), source, None, channels)


def stored_item(payload: Any) -> ContentItem:
    """A stored item's payload as a :class:`ContentItem`, without the intake-only rules.

    Sizes, blank and single-line fields are checked when an item is submitted; applying them again
    when it is read back would make stored items unreadable after a limit or a rule changes.
    """
    return ContentItem.model_validate(payload, context=STORED_CONTEXT)


def _reader_refusal(exc: InputError) -> InvalidItem:
    return InvalidItem(None, [(exc.field, exc.reason)], exc.source, lines=[exc.line])


def load_item_file(path: Path, *, limits: IntakeLimits | None = None,
                   channels: Collection[str] | None = None) -> ContentItem:
    """Read and validate an item from a YAML or JSON file (JSON when the name ends in ``.json``).

    Raises:
        InvalidItem: every problem, each with the file, its line where known, the field and the reason.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidItem(None, [("", f"cannot be read: {exc.strerror}")], str(path)) from None
    return load_item_bytes(raw, str(path), limits=limits, channels=channels, is_json=path.suffix.lower() == ".json")


def load_item_bytes(raw: bytes, source: str, *, limits: IntakeLimits | None = None,
                    channels: Collection[str] | None = None, is_json: bool | None = None) -> ContentItem:
    """Read and validate an item from bytes: JSON when ``is_json`` is true (by default when the bytes
    start with ``{``), else YAML. See :func:`load_item_file`."""
    lim = limits or IntakeLimits()
    try:
        if is_json is None:
            is_json = raw.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{")
        factor = JSON_FILE_FACTOR if is_json else YAML_FILE_FACTOR
        cap = lim.max_item_bytes * factor
        if len(raw) > cap:
            raise InputError(source, f"is {len(raw):,} bytes, more than {cap:,} ({factor} times the item limit of "
                                     f"{lim.max_item_bytes:,} bytes): no item can be that big")
        doc = (load_json if is_json else load_yaml)(raw, source, max_bytes=cap)
    except InputError as exc:
        raise _reader_refusal(exc) from None
    return _parse(doc.data, lim, doc.source, doc, channels)
