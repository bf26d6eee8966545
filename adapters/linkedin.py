"""LinkedIn: posts through the Posts API (``POST {base}/rest/posts``) with an OAuth 2 bearer token.

What we send (see ``docs/channels/linkedin.md``)::

    POST /rest/posts
    Authorization: Bearer <access_token>          (requests-oauthlib's OAuth2Session)
    LinkedIn-Version: <linkedin_version>          (YYYYMM; a retired version answers 426)
    X-Restli-Protocol-Version: 2.0.0
    {"author": "urn:li:organization:…", "commentary": "<little text>", "visibility": "PUBLIC",
     "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                      "thirdPartyDistributionChannels": []},
     "content": {"article": {"source": "<tagged url>", "title": "…", "description": "…"}},
     "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false}

LinkedIn answers 201 with an empty body and the post's URN in the ``x-restli-id`` header; the
permalink is ``https://www.linkedin.com/feed/update/{urn}``.

With ``share_as: image`` an item with images is an image post: each image is fetched through the
account's media store (once per item revision), initialized with ``POST /rest/images?action=
initializeUpload`` (owner: the author), its bytes sent with ``PUT`` to the upload URL LinkedIn
gives, and the post carries ``content.media`` (or ``content.multiImage``) with the image URNs and
alt text instead of the article card; the tagged link stays in the commentary. An upload is not
the post: its failures are retried, and a retry reuses an image whose bytes arrived.

``commentary`` is LinkedIn's "little text" format: ``\\ | { } @ [ ] ( ) < > # * _ ~`` are
reserved, and LinkedIn silently drops everything after the first unescaped one. We escape plain
text after translation (:func:`escape_little_text`), keep ``#hashtags`` as hashtag elements, and
keep URLs as they are (escaping inside a URL would put backslashes in the link, ``utm_source``
included) except for the bracket, pipe and backslash delimiters, which are percent-encoded.
``@handles`` from other networks are plain text: a LinkedIn mention is ``@[Name](urn:li:…)``.

Access tokens last 60 days and refresh tokens exist only for approved partners, so the account
says when its token expires (``token_expires_at``): inside ``token_warning`` rendering warns and
logs ``account.token_expiring``; past it, publishing fails with :class:`AuthError` without a call.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote, urlsplit

import requests
from oauthlib.oauth2 import TokenExpiredError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from requests_oauthlib import OAuth2Session

from syndicate.base.spans import URL
from syndicate.channels import (
    AccountContext,
    AuthError,
    AwareDatetime,
    BoundedTransport,
    Capability,
    ConfigError,
    ConfigProblem,
    ContentError,
    Duration,
    HttpAdapter,
    InDoubt,
    Limits,
    MediaRef,
    MediaSpec,
    MediaStore,
    Outcome,
    PermanentError,
    PostContent,
    PublicationRef,
    Receipt,
    Rendered,
    Safety,
    StatusMap,
    TransientError,
    answer_text,
    bounded_session,
    compose,
    get_logger,
    hashtags,
    images_to_attach,
    is_loopback,
    redact,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LINKEDIN_VERSION",
    "LINKEDIN_LIMITS",
    "LINKEDIN_MEDIA",
    "MAX_ALT_TEXT",
    "MAX_COMMENT",
    "MAX_IMAGES",
    "LinkedInAdapter",
    "LinkedInOptions",
    "escape_little_text",
    "permalink_for",
    "utf16_length",
]

log = get_logger("adapters.linkedin")

#: The API host; an account's ``base_url`` replaces it (test fakes, proxies).
DEFAULT_BASE_URL = "https://api.linkedin.com"
#: ``LinkedIn-Version`` sent when the account sets none. LinkedIn supports a version for about a
#: year after its release; move this (or the account's ``linkedin_version``) forward in time.
DEFAULT_LINKEDIN_VERSION = "202610"
#: Longest ``commentary`` the Posts API accepts, in characters.
MAX_COMMENTARY = 3000
#: Longest comment we send, in characters (UTF-16 units): LinkedIn's comment box takes 1,250; the
#: Comments API reference states no number, so we keep to the box's (docs/channels/linkedin.md).
MAX_COMMENT = 1250
#: Comments read per page when reconciliation looks for a first comment (the API's largest page is 100).
COMMENTS_PAGE = 100
PERMALINK = "https://www.linkedin.com/feed/update/{urn}"
#: Images per post: one goes as ``content.media``, two to twenty as ``content.multiImage``.
MAX_IMAGES = 20
#: Longest ``altText`` of an image in a post (Posts API, "Media" and "MultiImage" content).
MAX_ALT_TEXT = 4086
#: Largest image we upload, per type. The Images API takes JPG, GIF and PNG (and caps pixels,
#: 36,152,320, not bytes); 5 MB is LinkedIn's limit for images shared in the feed.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
LINKEDIN_MEDIA = MediaSpec("LinkedIn", {"image/jpeg": MAX_IMAGE_BYTES, "image/png": MAX_IMAGE_BYTES,
                                        "image/gif": MAX_IMAGE_BYTES})
#: Statuses of an uploaded image that a post may reference (``GET /rest/images/{urn}``).
_USABLE_IMAGE = frozenset({"AVAILABLE", "PROCESSING"})

_RESERVED = frozenset("\\|{}@[]()<>#*_~")
#: Characters percent-encoded inside URLs: they delimit little-text elements, and a URL keeps
#: its meaning with them encoded. ``_`` and ``~`` (unreserved in URLs) and ``#``/``@`` stay.
_URL_ENCODED = {c: f"%{ord(c):02X}" for c in "()[]{}<>|\\*"}
#: A hashtag element: ``#`` then letters and digits with at least one letter, not inside a word.
_HASHTAG = re.compile(r"(?<![\w#&\\])#(?=[^\W_]*[^\W\d_])[^\W_]+")
_AUTHOR = re.compile(r"urn:li:(?:person:[A-Za-z0-9_-]{1,64}|organization:[0-9]{1,20})")
_VERSION = r"^[0-9]{6}(?:\.[0-9]{2})?$"


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as LinkedIn's servers count (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _escape_plain(text: str) -> str:
    return "".join("\\" + ch if ch in _RESERVED else ch for ch in text)


def _escape_url(url: str) -> str:
    return "".join(_URL_ENCODED.get(ch, ch) for ch in url)


def escape_little_text(text: str) -> str:
    """``text`` as LinkedIn "little text": reserved characters escaped with a backslash.

    URLs are kept (delimiter characters inside them percent-encoded) and ``#hashtags`` stay
    hashtag elements; every other ``\\ | { } @ [ ] ( ) < > # * _ ~`` is escaped, so LinkedIn
    shows the text exactly as written.
    """
    spans = []
    for m in URL.finditer(text):
        end = m.end()
        # A URL ending in an unbalanced "(...": its ")" belongs to it (Wikipedia-style paths).
        unclosed = m.group().count("(") - m.group().count(")")
        while end < len(text) and text[end] == ")" and unclosed > 0:
            end += 1
            unclosed -= 1
        spans.append((m.start(), end))
    url_starts = [s for s, _ in spans]
    for m in _HASHTAG.finditer(text):
        i = bisect.bisect_right(url_starts, m.start()) - 1
        if i < 0 or m.start() >= spans[i][1]:  # not inside a URL
            spans.append(m.span())
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        out.append(_escape_plain(text[pos:start]))
        piece = text[start:end]
        out.append(piece if piece.startswith("#") else _escape_url(piece))
        pos = end
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def permalink_for(urn: str) -> str:
    """The public URL of the post ``urn``."""
    return PERMALINK.format(urn=urn)


#: What the Posts API accepts: 3,000 characters of commentary, counted in UTF-16 units; up to 20
#: images in an image post (an article share carries none). LinkedIn publishes no standard post
#: caps (each app's daily limits are in its Developer Portal), so accounts set their own ``rate_limits``.
LINKEDIN_LIMITS = Limits(max_length=MAX_COMMENTARY, counter=utf16_length, max_parts=1, max_media=MAX_IMAGES)


class LinkedInOptions(BaseModel):
    """Options of a LinkedIn account.

    Attributes:
        author: who posts: ``urn:li:person:<id>`` (a member, scope ``w_member_social``) or
            ``urn:li:organization:<id>`` (a page, scope ``w_organization_social``).
        linkedin_version: the ``LinkedIn-Version`` header, ``YYYYMM``; a retired one answers 426.
        visibility: ``PUBLIC``, ``LOGGED_IN``, or ``CONNECTIONS`` (members only).
        article_card: share the link as an article card (source, title, description).
        share_as: ``article`` (a link share; the item's images are not sent) or ``image`` (when
            the item has images: an image post, the images uploaded with their alt text and the
            link in the commentary; without images, a link share as ``article``).
        hashtag_style: hashtags from the item's tags: ``camel``, ``lower``, or ``none``.
        token_expires_at: when the access token expires (LinkedIn shows it when you create it).
        token_warning: how long before expiry rendering starts warning.
        rate_limit_wait: how long to wait after a 429 without ``Retry-After``; unset: until the
            daily reset at 00:00 UTC, when LinkedIn's quotas reset.
        find_existing_count: how many recent posts of the author reconciliation reads (1-100).
        clock_skew: tolerance between our clock and LinkedIn's when reconciliation compares times.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    author: str
    linkedin_version: Annotated[str, StringConstraints(pattern=_VERSION)] = DEFAULT_LINKEDIN_VERSION
    visibility: Literal["PUBLIC", "LOGGED_IN", "CONNECTIONS"] = "PUBLIC"
    article_card: bool = True
    share_as: Literal["article", "image"] = "article"
    hashtag_style: Literal["camel", "lower", "none"] = "camel"
    token_expires_at: AwareDatetime | None = None
    token_warning: Duration = timedelta(days=14)
    rate_limit_wait: Duration | None = None
    find_existing_count: int = Field(default=50, ge=1, le=100)
    clock_skew: Duration = timedelta(minutes=15)

    @model_validator(mode="after")
    def _check(self) -> LinkedInOptions:
        if not _AUTHOR.fullmatch(self.author):
            raise ValueError(f"author {self.author!r} must be 'urn:li:person:<id>' or "
                             "'urn:li:organization:<numeric id>'")
        if self.visibility == "CONNECTIONS" and not self.author.startswith("urn:li:person:"):
            raise ValueError("visibility CONNECTIONS is only for member authors (urn:li:person:...)")
        return self


class _PlainHttpLoopback(BoundedTransport):
    """Transport that sends ``https://127.0.0.1:PORT/...`` as plain http to a loopback server.

    OAuth2Session refuses non-https URLs; test fakes listen on plain-http loopback. The session
    sees an https URL, adds the bearer token, and this transport delivers it over http.
    """

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None and request.url.startswith("https://")
        request.url = "http://" + request.url[len("https://"):]
        return super().send(request, *args, **kwargs)


def _platform_message(resp: requests.Response) -> str | None:
    """LinkedIn's error text: ``message`` (with ``code``) from the JSON body, else the raw text."""
    try:
        data = resp.json()
    except ValueError:
        return answer_text(resp)
    if isinstance(data, dict):
        message = str(data.get("message") or "")
        code = data.get("code")
        details = data.get("errorDetails")
        if isinstance(details, dict):
            for err in details.get("inputErrors") or []:
                if isinstance(err, dict) and err.get("code") and not code:
                    code = err.get("code")
        text = f"{code}: {message}" if code and message else message or str(code or "")
        return redact(text)[:1000]
    return redact(str(data)[:4096])[:500]


class LinkedInAdapter(HttpAdapter[LinkedInOptions]):
    """Publishes link shares (or image posts) to a LinkedIn member or organization through the Posts API."""

    name = "linkedin"
    required_credentials = ("access_token",)
    publish_safety = Safety.RECONCILE_ONLY
    #: A revision changes the commentary in place; ``unpublish`` deletes the post.
    capabilities = frozenset({Capability.UPDATE, Capability.DELETE, Capability.EXISTS})
    first_comments = True
    default_utm_medium = "social"
    default_base_url = DEFAULT_BASE_URL
    statuses = StatusMap(
        platform="LinkedIn",
        statuses={426: Outcome.REFUSED},
        messages={
            401: "LinkedIn refused the access token of account {account!r}",
            403: "LinkedIn denied {what} for {options.author} (the token lacks the permission or the member's "
                 "role on the page)",
            426: "LinkedIn no longer serves LinkedIn-Version {options.linkedin_version}; set a current version "
                 "in the option 'linkedin_version' of account {account!r}",
        })

    def __init__(self, account: AccountContext) -> None:
        super().__init__(account)
        base = self.base_url
        if urlsplit(base).scheme == "http" and not is_loopback(base):
            raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{account.id}.base_url",
                                             "LinkedIn needs https (plain http only to a loopback address)")])
        self._plain_loopback = urlsplit(base).scheme == "http"
        # The URL the session sees; a plain-http loopback base is reached through _PlainHttpLoopback.
        self._base = "https://" + base[len("http://"):] if self._plain_loopback else base
        self._session_token: str | None = None

    @property
    def limits(self) -> Limits:
        """3,000 characters of commentary (UTF-16 units), up to 20 images in an image post."""
        return LINKEDIN_LIMITS

    # -- rendering ---------------------------------------------------------------------------

    def _token_warnings(self) -> list[str]:
        opts = self.options
        if opts.token_expires_at is None:
            return []
        now = datetime.now(UTC)
        left = opts.token_expires_at - now
        days = int(left.total_seconds() // 86400)
        if left <= timedelta(0):
            log.error("account.token_expired", account=self.account.id,
                      expired_at=opts.token_expires_at.isoformat())
            return [f"the LinkedIn access token of account {self.account.id!r} expired on "
                    f"{opts.token_expires_at.isoformat()}: publishing will fail until it is renewed"]
        if left <= opts.token_warning:
            log.warning("account.token_expiring", account=self.account.id, days_left=days,
                        expires_at=opts.token_expires_at.isoformat())
            return [f"the LinkedIn access token of account {self.account.id!r} expires in {days} days "
                    f"({opts.token_expires_at.isoformat()}): renew it before then"]
        return []

    def render(self, content: PostContent) -> Rendered:
        """Commentary (little text, escaped after translation) plus the article card."""
        opts = self.options
        warnings = self._token_warnings()
        lead = content.channel_text or content.variant or f"{content.title}\n\n{content.summary}"
        suffix = f"{content.cta_text} {content.link}" if content.cta_text else content.link
        if content.link_in_comment:  # the first comment carries the link and its call to action
            suffix = ""
        tags = "" if opts.hashtag_style == "none" else " ".join(hashtags(content.tags, style=opts.hashtag_style))

        def escaped_length(text: str) -> int:
            return utf16_length(escape_little_text(text))

        budget = MAX_COMMENTARY
        commentary, cut = "", False
        for _ in range(8):
            plain, cut = compose(text=lead, suffix=suffix, budget=budget, counter=escaped_length, optional_tail=tags)
            commentary = escape_little_text(plain)
            over = utf16_length(commentary) - MAX_COMMENTARY
            if over <= 0:
                break
            budget -= over  # a join changed what escaping costs: try again with less room
        if cut:
            warnings.append("text was shortened to fit the channel")
        images = self._images_for(content.media, warnings)
        article = None
        if opts.article_card and not images and not content.link_in_comment:
            article = {"source": content.link, "title": content.title, "description": content.summary}
        return Rendered(
            text=commentary, length=utf16_length(commentary), limit=MAX_COMMENTARY, link=content.link,
            title=content.title, media=images,
            extra={"author": opts.author, "visibility": opts.visibility, "article": article,
                   "linkedin_version": opts.linkedin_version, "share": "image" if images else "article"},
            warnings=tuple(warnings))

    def _images_for(self, media: tuple[MediaRef, ...], warnings: list[str]) -> tuple[MediaRef, ...]:
        """The images an image post carries (none for a link share), with warnings for the rest."""
        if not media:
            return ()
        if self.options.share_as != "image":
            warnings.append("LinkedIn link shares carry no uploaded media: the item's media are not attached "
                            "(share_as: image makes image posts)")
            return ()
        return images_to_attach(media, MAX_IMAGES, warnings, where="LinkedIn")

    def render_comment(self, text: str, link: str | None) -> Rendered:
        """A first comment: ``text`` then ``link``, at most :data:`MAX_COMMENT` characters (UTF-16
        units), never cut. A comment's ``message.text`` is plain text, not little text."""
        comment = "\n\n".join(p for p in (text.strip(), link) if p)
        if not comment:
            raise ContentError("the first comment is empty")
        n = utf16_length(comment)
        if n > MAX_COMMENT:
            raise ContentError(f"the first comment is {n} characters; a LinkedIn comment takes at most "
                               f"{MAX_COMMENT}: shorten first_comment", field="first_comment")
        return Rendered(text=comment, length=n, limit=MAX_COMMENT, link=link or "",
                        extra={"first_comment": True, "author": self.options.author,
                               "linkedin_version": self.options.linkedin_version},
                        warnings=tuple(self._token_warnings()))

    # -- HTTP --------------------------------------------------------------------------------

    def _check_token(self) -> str:
        expires = self.options.token_expires_at
        if expires is not None and expires <= datetime.now(UTC):
            raise AuthError(f"the LinkedIn access token of account {self.account.id!r} expired on "
                            f"{expires.isoformat()}; create a new one and update the credential")
        return self.account.credentials.get("access_token")

    def make_session(self) -> requests.Session:
        """An OAuth 2 session with the current access token (requests-oauthlib), bounded."""
        bearer: dict[str, Any] = {"access_token": self._session_token, "token_type": "Bearer"}
        expires = self.options.token_expires_at
        if expires is not None:
            bearer["expires_at"] = expires.timestamp()
        session = bounded_session(session=OAuth2Session(token=bearer))
        if self._plain_loopback:
            session.mount(self._base + "/", _PlainHttpLoopback())
        return session

    def request(self, method: str, url: str, *, creates: bool, what: str, expect: Collection[int] = (),
                **kwargs: Any) -> requests.Response:
        """One request, with a session for the access token the credential holds now."""
        token = self._check_token()
        if token != self._session_token:
            self.close()
            self._session_token = token
        try:
            return super().request(method, url, creates=creates, what=what, expect=expect, **kwargs)
        except TokenExpiredError:
            raise AuthError(f"the LinkedIn access token of account {self.account.id!r} has expired") from None

    def platform_message(self, resp: requests.Response) -> str | None:
        """LinkedIn's error text: ``message`` (with ``code``) from the JSON body, else the raw text."""
        return _platform_message(resp)

    def wait_until(self) -> datetime:
        """After a 429 without ``Retry-After``: the account's ``rate_limit_wait``, else the next
        00:00 UTC, when LinkedIn's daily quotas reset."""
        now = datetime.now(UTC)
        if self.options.rate_limit_wait is not None:
            return now + self.options.rate_limit_wait
        return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def _headers(self, restli_method: str | None = None) -> dict[str, str]:
        headers = {"LinkedIn-Version": self.options.linkedin_version, "X-Restli-Protocol-Version": "2.0.0"}
        if restli_method:
            headers["X-RestLi-Method"] = restli_method
        return headers

    # -- the contract ------------------------------------------------------------------------

    def _post_body(self, rendered: Rendered) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": self.options.author,
            "commentary": rendered.text,
            "visibility": self.options.visibility,
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        article = rendered.extra.get("article")
        if article:
            body["content"] = {"article": dict(article)}
        return body

    @staticmethod
    def _media_content(images: list[tuple[str, str | None]]) -> dict[str, Any]:
        """``content`` of an image post: ``media`` for one image, ``multiImage`` for 2 to 20."""
        def one(urn: str, alt: str | None) -> dict[str, Any]:
            return {"id": urn, **({"altText": alt[:MAX_ALT_TEXT]} if alt else {})}

        if len(images) == 1:
            return {"media": one(*images[0])}
        return {"multiImage": {"images": [one(urn, alt) for urn, alt in images]}}

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """Create the post (the URN comes back in ``x-restli-id``), or the first comment under
        ``publication.parent_remote_id``."""
        if publication.parent_remote_id is not None:
            return self._comment(rendered, publication.parent_remote_id)
        if rendered.length > rendered.limit:
            raise PermanentError(f"commentary is {rendered.length} characters, over LinkedIn's {rendered.limit}")
        body = self._post_body(rendered)
        if rendered.media:
            urns = [self._image(ref, publication) for ref in rendered.media]
            body["content"] = self._media_content([(urn, ref.alt) for urn, ref in zip(urns, rendered.media,
                                                                                       strict=True)])
        resp = self.request("POST", self._base + "/rest/posts", creates=True, what="the post", expect=(201,),
                            json=body, headers=self._headers())
        urn = unquote(resp.headers.get("x-restli-id") or resp.headers.get("x-linkedin-id") or "").strip()
        if not urn.startswith("urn:li:"):
            raise InDoubt("LinkedIn answered 201 without a post URN in x-restli-id", status=201)
        return Receipt(remote_id=urn, permalink=permalink_for(urn),
                       raw={"urn": urn, "linkedin_version": self.options.linkedin_version})

    # -- images ------------------------------------------------------------------------------

    def _image_key(self, ref: MediaRef, publication: PublicationRef) -> str:
        return f"image:{publication.id}:{hashlib.sha256(ref.url.encode()).hexdigest()[:24]}"

    def _image(self, ref: MediaRef, publication: PublicationRef) -> str:
        """The URN of ``ref`` uploaded for ``publication``: one uploaded by an earlier attempt when
        LinkedIn has it, else fetched (once per item revision), initialized and uploaded now.

        The image is an orphan until a post references it, which is harmless: an upload that fails
        leaves at most one, and the next attempt reuses it when its bytes arrived.
        """
        state = self.account.state
        key = self._image_key(ref, publication)
        stored = state.get(key) if state is not None else None
        if stored is not None and isinstance(stored[0], dict):
            earlier = str(stored[0].get("urn") or "")
            if earlier and self._image_status(earlier) in _USABLE_IMAGE:
                log.info("linkedin.image_reused", account=self.account.id, publication=publication.id, image=earlier)
                return earlier
        store = self.account.media or MediaStore()
        medium = store.load(ref.url, item_id=publication.item_id, revision=publication.revision, spec=LINKEDIN_MEDIA,
                            time_limit=timedelta(seconds=sum(self.timeouts)))
        what = f"initializing the upload of {ref.url}"
        resp = self.request("POST", self._base + "/rest/images?action=initializeUpload", creates=False, what=what,
                            expect=(200,), json={"initializeUploadRequest": {"owner": self.options.author}},
                            headers=self._headers())
        answer = self.json(resp, creates=False, what=what)
        value = answer.get("value") if isinstance(answer, dict) else None
        upload_url = value.get("uploadUrl") if isinstance(value, dict) else None
        urn = value.get("image") if isinstance(value, dict) else None
        if not (isinstance(upload_url, str) and isinstance(urn, str) and urn.startswith("urn:li:image:")):
            raise TransientError(f"LinkedIn's answer to {what} has no uploadUrl and image URN")
        if state is not None:
            # Before the upload: a retry after a lost answer asks LinkedIn whether the bytes arrived.
            state.put(key, {"urn": urn}, expect_version=stored[1] if stored else None)
        self._check_upload_url(upload_url)
        what = f"uploading {ref.url} as {urn}"
        self.request("PUT", upload_url, creates=False, what=what, expect=(200, 201), data=medium.data,
                     headers={"Content-Type": "application/octet-stream"})
        log.info("linkedin.image_uploaded", account=self.account.id, publication=publication.id, image=urn,
                 bytes=medium.size, type=medium.content_type)
        return urn

    def _check_upload_url(self, url: str) -> None:
        """The bearer token goes only to LinkedIn (or the account's own base host, for proxies and fakes)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        ours = urlsplit(self._base).hostname
        if parts.scheme != "https" or not (host == "linkedin.com" or host.endswith(".linkedin.com") or host == ours):
            raise PermanentError(f"LinkedIn gave an upload URL on {host or 'no host'} over {parts.scheme}; "
                                 "the token is sent only to linkedin.com over https")

    def _image_status(self, urn: str) -> str | None:
        """``status`` of an uploaded image (``AVAILABLE``, ``PROCESSING``, ``WAITING_UPLOAD``, ...),
        None when LinkedIn does not know it."""
        what = f"reading the status of {urn}"
        resp = self.request("GET", self._base + "/rest/images/" + quote(urn, safe=""), creates=False, what=what,
                            headers=self._headers())
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        data = self.json(resp, creates=False, what=what)
        status = data.get("status") if isinstance(data, dict) else None
        return str(status) if status else None

    def _post_url(self, urn: str) -> str:
        return self._base + "/rest/posts/" + quote(urn, safe="")

    def update(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """Change the post's commentary in place: ``POST /rest/posts/{encoded urn}`` with
        ``X-RestLi-Method: PARTIAL_UPDATE`` and ``{"patch": {"$set": {"commentary": ...}}}``.

        The Posts API updates only a few fields (commentary, call-to-action label, landing page,
        lifecycle state): an article card keeps the link and title it was posted with.
        """
        if rendered.length > rendered.limit:
            raise PermanentError(f"commentary is {rendered.length} characters, over LinkedIn's {rendered.limit}")
        what = f"the update of post {remote_id}"
        resp = self.request("POST", self._post_url(remote_id), creates=True, what=what,
                            json={"patch": {"$set": {"commentary": rendered.text}}},
                            headers=self._headers("PARTIAL_UPDATE"))
        if resp.status_code == 404:
            raise PermanentError(f"post {remote_id} of the earlier revision no longer exists on LinkedIn",
                                 status=404, platform_message=_platform_message(resp))
        if resp.status_code not in (200, 204):
            raise self.status_error(resp, creates=True, what=what)
        return Receipt(remote_id=remote_id, permalink=permalink_for(remote_id),
                       raw={"urn": remote_id, "updated": True, "linkedin_version": self.options.linkedin_version})

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """``DELETE /rest/posts/{encoded urn}`` with ``X-RestLi-Method: DELETE`` (204); a post
        already gone (404) is done."""
        what = f"the deletion of post {remote_id}"
        resp = self.request("DELETE", self._post_url(remote_id), creates=True, what=what,
                            headers=self._headers("DELETE"))
        if resp.status_code in (200, 204, 404):
            return
        raise self.status_error(resp, creates=True, what=what)

    def exists(self, remote_id: str, publication: PublicationRef) -> bool:
        """``GET /rest/posts/{encoded urn}``: 200 → it exists, 404 → it does not."""
        what = f"looking up post {remote_id}"
        resp = self.request("GET", self._post_url(remote_id), creates=False, what=what, headers=self._headers())
        if resp.status_code == 404:
            return False
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        return True

    def _comments_url(self, post_urn: str) -> str:
        return f"{self._base}/rest/socialActions/{quote(post_urn, safe='')}/comments"

    def _comment(self, rendered: Rendered, post_urn: str) -> Receipt:
        """``POST /rest/socialActions/{post urn}/comments`` as the account's author."""
        if rendered.length > MAX_COMMENT:
            raise PermanentError(f"the comment is {rendered.length} characters, over LinkedIn's {MAX_COMMENT}")
        body = {"actor": self.options.author, "object": post_urn, "message": {"text": rendered.text}}
        resp = self.request("POST", self._comments_url(post_urn), creates=True, what="the first comment",
                            expect=(201,), json=body, headers=self._headers())
        urn = unquote(resp.headers.get("x-restli-id") or "").strip()
        if not urn.startswith("urn:li:comment:"):
            try:
                data = resp.json()
            except ValueError:
                data = {}
            urn = str((data.get("$URN") or data.get("commentUrn") or "") if isinstance(data, dict) else "")
        if not urn.startswith("urn:li:comment:"):
            raise InDoubt("LinkedIn answered 201 to the comment without its URN", status=201)
        return self._comment_receipt(post_urn, urn)

    @staticmethod
    def _comment_receipt(post_urn: str, urn: str, **raw: Any) -> Receipt:
        return Receipt(remote_id=urn, permalink=f"{permalink_for(post_urn)}?commentUrn={quote(urn, safe='')}",
                       raw={"urn": urn, "post": post_urn, **raw})

    def _listing(self, url: str, headers: dict[str, str], *, what: str, things: str, of: str
                 ) -> tuple[dict[str, Any], list[Any]]:
        """A LinkedIn collection read for reconciliation: its JSON and its ``elements``. Raises
        ``InDoubt`` when it cannot be read (refused, or not the expected JSON): nobody can tell
        then whether our post or comment exists."""
        resp = self.request("GET", url, creates=False, what=what, headers=headers)
        if resp.status_code != 200:
            err = self.status_error(resp, creates=False, what=what)
            if isinstance(err, AuthError | PermanentError):
                raise InDoubt(f"cannot list the {things} of {of}: {err}", status=resp.status_code)
            raise err
        try:
            data = resp.json()
            elements = data["elements"]
            assert isinstance(elements, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise InDoubt(f"LinkedIn's list of {things} is not the expected JSON", status=200) from None
        return data, elements

    def _find_comment(self, rendered: Rendered, publication: PublicationRef, post_urn: str) -> Receipt | None:
        """Our comment among the post's comments: by our author, carrying the tagged link or the
        exact text. Raises ``InDoubt`` when the comments cannot be read or not all of them were."""
        data, elements = self._listing(f"{self._comments_url(post_urn)}?count={COMMENTS_PAGE}", self._headers(),
                                       what="listing the post's comments", things="comments", of=post_urn)
        want = " ".join(rendered.text.split())
        for comment in elements:
            if not isinstance(comment, dict) or comment.get("actor") != self.options.author:
                continue
            text = str((comment.get("message") or {}).get("text") or "")
            urn = str(comment.get("$URN") or comment.get("commentUrn") or "")
            if urn and (publication.tagged_url in text or " ".join(text.split()) == want):
                return self._comment_receipt(post_urn, urn, found=True)
        total = (data.get("paging") or {}).get("total") if isinstance(data, dict) else None
        if len(elements) >= COMMENTS_PAGE or (isinstance(total, int) and total > len(elements)):
            raise InDoubt(f"our comment is not among the first {len(elements)} comments of {post_urn}, "
                          "and the others were not read")
        return None

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """Look through the author's recent posts for one carrying our tagged URL (for a first
        comment: through the post's comments for ours).

        A post matches when its article card's ``source`` is the publication's tagged URL, or its
        commentary contains it (or, for a post without a card, is exactly ours); posts older than
        the publication's scheduled time (less ``clock_skew``) and the previous revision's post
        are not ours. Raises ``InDoubt`` when the
        recent posts cannot be read (a member author needs the restricted ``r_member_social``).
        """
        if publication.parent_remote_id is not None:
            return self._find_comment(rendered, publication, publication.parent_remote_id)
        opts = self.options
        query = (f"?q=author&author={quote(opts.author, safe='')}&count={opts.find_existing_count}"
                 "&sortBy=LAST_MODIFIED")
        _, elements = self._listing(self._base + "/rest/posts" + query, self._headers("FINDER"),
                                    what="listing the author's posts", things="recent posts", of=opts.author)
        tagged = publication.tagged_url
        escaped_link = _escape_url(tagged)
        not_before = publication.scheduled_for - opts.clock_skew
        oldest: datetime | None = None
        for post in elements:
            if not isinstance(post, dict):
                continue
            urn = str(post.get("id") or "")
            created_ms = post.get("createdAt") or post.get("publishedAt")
            created = (datetime.fromtimestamp(created_ms / 1000, UTC)
                       if isinstance(created_ms, int | float) else None)
            if created is not None:
                oldest = created if oldest is None else min(oldest, created)
            if not urn or urn == publication.previous_remote_id:
                continue
            if created is not None and created < not_before:
                continue
            article = (post.get("content") or {}).get("article") or {}
            commentary = str(post.get("commentary") or "")
            # A post whose link went to its first comment carries no link: its exact commentary is ours.
            if (article.get("source") == tagged or tagged in commentary or escaped_link in commentary
                    or (not rendered.extra.get("article") and commentary == rendered.text)):
                return Receipt(remote_id=urn, permalink=permalink_for(urn), raw={"urn": urn, "found": True})
        if len(elements) >= opts.find_existing_count and (oldest is None or oldest >= not_before):
            raise InDoubt(f"our post is not among the {len(elements)} most recent posts of {opts.author}, "
                          "and older ones were not read")
        return None

    def fetch_metrics(self, remote_id: str, publication: PublicationRef) -> Mapping[str, int] | None:
        """Reactions and comments from ``GET /rest/socialMetadata/{urn}`` (``likes``, ``replies``)."""
        what = "reading the post's social metadata"
        resp = self.request("GET", self._base + "/rest/socialMetadata/" + quote(remote_id, safe=""), creates=False,
                            what=what, headers=self._headers())
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        data = self.json(resp, creates=False, what=what)
        reactions = data.get("reactionSummaries") or {}
        entries = reactions.values() if isinstance(reactions, dict) else reactions
        likes = sum(int(e.get("count") or 0) for e in entries if isinstance(e, dict))
        comments = int(((data.get("commentSummary") or {}).get("count")) or 0)
        return {"likes": likes, "replies": comments}
