"""X (formerly Twitter): posts and threads through tweepy's v2 ``Client``, media through v1.1.

What we send: ``POST /2/tweets`` with ``{"text": ...}`` (plus ``media.media_ids`` on the first
part and ``reply.in_reply_to_tweet_id`` on later thread parts), signed with OAuth 1.0a user
context (default) or an OAuth 2 user access token. Images are uploaded first with v1.1
``media/upload`` and their alt text set with ``media/metadata/create`` (OAuth 1.0a only).

Length is X's weighted length (:mod:`adapters.twitter_text`): 280 units, any URL 23, CJK and emoji
2. Rendering never sends a part the counter puts over the limit.

Exactly once: a create has no idempotency key, so ``publish_safety`` is ``reconcile_only``. Each
publication's progress (the ids of the parts posted so far) is kept in the account's state, so a
thread interrupted mid-way resumes after its last posted part, and :meth:`XAdapter.find_existing`
looks through the account's posts made since the first attempt for our tagged link (X wraps links
in t.co; ``entities.urls[].expanded_url`` has ours) or for the text of the missing part.

tweepy hard-codes ``https://api.twitter.com`` and ``https://upload.twitter.com`` and passes no
timeout to requests: a :class:`_Transport` mounted on its sessions sends to the account's
``base_url`` instead (test fakes, a proxy) and applies the account's connect and read timeouts.
tweepy's ``wait_on_rate_limit`` would sleep the worker thread; it stays off and a 429 becomes
:class:`~syndicate.errors.RateLimited` at the ``x-rate-limit-reset`` time.

OAuth 2 access tokens last two hours and refreshing one rotates the refresh token: refreshes are
serialized across workers with the account's state lock, the stored pair is re-read once the lock
is held (another worker may have refreshed already), and the new pair is written back with a
compare-and-set. Token values are registered for redaction and never logged.
"""

from __future__ import annotations

import hashlib
import html
import io
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from pydantic import BaseModel, ConfigDict, Field, field_validator

from syndicate.base.sealing import Sealer, SealError
from syndicate.base.secrets import add_secret
from syndicate.channels import (
    AccountContext,
    AccountState,
    Adapter,
    AuthError,
    BoundedTransport,
    Capability,
    ChannelError,
    ContentError,
    InDoubt,
    Limits,
    MediaRef,
    MediaSpec,
    MediaStore,
    MemoryState,
    Outcome,
    PermanentError,
    PostContent,
    PublicationRef,
    RateWindow,
    Receipt,
    Rendered,
    Safety,
    StatusMap,
    TransientError,
    body_text,
    get_logger,
    hashtags,
    images_to_attach,
    redact,
    render_post,
    request_error,
)

from .twitter_text import V3, entity_spans, extract_urls, weighted_length

__all__ = [
    "API_HOST",
    "MAX_IMAGE_BYTES",
    "MAX_MEDIA",
    "MAX_THREAD_PARTS",
    "OAUTH1_CREDENTIALS",
    "OAUTH2_CREDENTIALS",
    "RATE_WINDOWS",
    "UPLOAD_HOST",
    "URL_WEIGHT",
    "X_STATUSES",
    "XAdapter",
    "XOptions",
]

log = get_logger("adapters.x")

#: Hosts tweepy sends to; :class:`_Transport` maps both onto an account's ``base_url``.
API_HOST = "https://api.twitter.com"
UPLOAD_HOST = "https://upload.twitter.com"

#: X's post length in weighted units, and what any URL counts (twitter-text v3).
MAX_WEIGHTED_LENGTH = V3.max_weighted_length
URL_WEIGHT = V3.transformed_url_length
#: Parts we allow in one thread (X's composer allows 25).
MAX_THREAD_PARTS = 25
#: Images per post, and the largest image the v1.1 simple upload takes.
MAX_MEDIA = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
#: Longest alt text X stores.
MAX_ALT_TEXT = 1000
#: Default posting caps: POST /2/tweets allows 100 requests per 15 minutes per user
#: (docs.x.com/x-api/fundamentals/rate-limits), and an account may post 2,400 times a day
#: (help.x.com/en/rules-and-policies/x-limits). Accounts may configure lower caps.
RATE_WINDOWS = (RateWindow(100, timedelta(minutes=15)), RateWindow(2400, timedelta(days=1)))

OAUTH1_CREDENTIALS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
#: ``state_key``: the key (or keys, newest first) the stored token pair is sealed with (syndicate.base.sealing).
OAUTH2_CREDENTIALS = ("client_id", "refresh_token", "state_key")

#: X's words when it refuses a post as a duplicate of an earlier one (HTTP 403).
DUPLICATE_MESSAGE = "duplicate content"
#: An access token this close to its expiry is refreshed before use.
TOKEN_EXPIRY_MARGIN = timedelta(minutes=2)
#: Posts this much older than a publication's first attempt are still searched (clock skew between
#: our workers and X). Kept short: an earlier revision's post carries the same tagged link.
SEARCH_MARGIN = timedelta(minutes=1)
#: Tweet fields find_existing needs.
SEARCH_FIELDS = ["created_at", "entities", "referenced_tweets"]

_TOKENS_KEY = "oauth2:tokens"
_ME_KEY = "me"
_IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
#: What X's v1.1 simple upload takes: JPEG, PNG and WebP up to 5 MB, GIF up to 15 MB.
X_MEDIA = MediaSpec("X", {"image/jpeg": MAX_IMAGE_BYTES, "image/png": MAX_IMAGE_BYTES, "image/webp": MAX_IMAGE_BYTES,
                          "image/gif": MAX_GIF_BYTES})


class XOptions(BaseModel):
    """Options of an X account (``options:`` in accounts.yaml).

    Attributes:
        auth: ``oauth1`` (OAuth 1.0a user context: ``consumer_key``, ``consumer_secret``,
            ``access_token``, ``access_token_secret``) or ``oauth2`` (OAuth 2 user token:
            ``client_id``, ``refresh_token``, optionally ``client_secret`` and ``access_token``).
        username: the account's handle, for permalinks; asked of ``GET /2/users/me`` when unset.
        thread: split text longer than one post into a numbered thread.
        thread_max_parts: the most parts a thread may have; text beyond is cut.
        thread_marker: appended to each part; ``{i}`` is the part number, ``{n}`` the count.
        link_position: which part of a thread carries the link and call to action.
        hashtag_style: hashtags from the item's tags: ``camel``, ``lower`` or ``none``.
        max_hashtags: how many hashtags at most (hand-written channel text gets none added).
        include_body: in thread mode, add the item's body (as plain text) after the summary.
        media: attach the item's images (needs ``oauth1``; otherwise the post goes without them).
        search_pages: pages of 100 posts that ``find_existing`` reads before it gives up.
        reconcile_settle_s: X's timeline may not show a post made seconds ago; until this many
            seconds after the last attempt, ``find_existing`` asks to be called again later.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    auth: Literal["oauth1", "oauth2"] = "oauth1"
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,15}$")
    thread: bool = False
    thread_max_parts: int = Field(default=10, ge=2, le=MAX_THREAD_PARTS)
    thread_marker: str = Field(default=" {i}/{n}", min_length=5, max_length=20)
    link_position: Literal["first", "last"] = "first"
    hashtag_style: Literal["camel", "lower", "none"] = "camel"
    max_hashtags: int = Field(default=2, ge=0, le=10)
    include_body: bool = False
    media: bool = True
    search_pages: int = Field(default=5, ge=1, le=32)
    reconcile_settle_s: float = Field(default=10.0, ge=0, le=600)

    @field_validator("thread_marker")
    @classmethod
    def _marker(cls, v: str) -> str:
        if "{i}" not in v or "{n}" not in v:
            raise ValueError("must contain {i} (the part number) and {n} (the number of parts)")
        try:
            v.format(i=1, n=2)
        except (KeyError, IndexError, ValueError):
            raise ValueError("may use only {i} and {n} as fields") from None
        return v


@dataclass(frozen=True)
class _Progress:
    """What is known to be posted for one publication: the ids of its parts, in order."""

    ids: tuple[str, ...]
    started_at: datetime
    attempt_at: datetime
    version: int

    def as_json(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "started_at": self.started_at.isoformat(),
                "attempt_at": self.attempt_at.isoformat()}


# -- HTTP plumbing -------------------------------------------------------------------------------


class _Transport(BoundedTransport):
    """Sends to ``base_url`` instead of the host in the request URL, with fixed timeouts, a total
    deadline of connect + read timeout per exchange and a cap on the answer read.

    OAuth 1.0a signatures are computed on the URL tweepy built (X's own host), which is what a
    proxy in front of X must forward and what a fake of X verifies.
    """

    def __init__(self, base_url: str | None, connect_timeout_s: float, read_timeout_s: float) -> None:
        super().__init__(timeout_s=(connect_timeout_s, read_timeout_s))
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None
        self._timeout = (connect_timeout_s, read_timeout_s)

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None, proxies: Mapping[str, str] | None = None,
             ) -> requests.Response:
        if self._base is not None and request.url:
            parts = urlsplit(request.url)
            request.url = urlunsplit((self._base.scheme, self._base.netloc, self._base.path + parts.path,
                                      parts.query, parts.fragment))
            proxies = requests.utils.get_environ_proxies(request.url)
        return super().send(request, stream=stream, timeout=self._timeout, verify=verify, cert=cert,
                            proxies=proxies)



def _platform_message(exc: tweepy.HTTPException) -> str:
    messages = [str(m) for m in exc.api_messages if m]
    if not messages:
        reason = getattr(exc.response, "reason", None)
        messages = [str(reason)] if reason else []
    return redact("; ".join(messages))[:500]


#: How X's statuses map to our errors: a 403 is a refusal (a duplicate, a reply X does not allow),
#: not a credential problem; a 429 ends when the spent ``x-rate-limit`` window resets (or a 24-hour
#: limit's, when that one is spent).
X_STATUSES = StatusMap(
    platform="X",
    statuses={403: Outcome.REFUSED},
    messages={403: "X forbade the request ({what})"},
    reset_windows=("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"),
    default_wait=timedelta(minutes=15))


def _map_http(exc: tweepy.HTTPException, what: str, *, creates: bool) -> ChannelError:
    status = int(getattr(exc.response, "status_code", 0) or 0)
    message = _platform_message(exc)
    if status == 403 and DUPLICATE_MESSAGE in message.lower():
        return PermanentError(f"X refused the post as a duplicate of an earlier one ({what})", status=status,
                              platform_message=message)
    headers = getattr(exc.response, "headers", None) or {}
    return X_STATUSES.error(status, headers, creates=creates, what=what, platform_message=message)


_T = TypeVar("_T")


# -- text helpers --------------------------------------------------------------------------------


def _comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _same_url(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        p = urlsplit(u.strip())
        return urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path.rstrip("/") or "", p.query, p.fragment))
    return norm(a) == norm(b)


def _post_text(post: Mapping[str, Any]) -> str:
    """A post's text as we sent it: HTML entities decoded, t.co links expanded, media links removed."""
    text = html.unescape(str(post.get("text", "")))
    urls = (post.get("entities") or {}).get("urls") or []
    for u in urls:
        short, expanded = u.get("url"), u.get("expanded_url")
        if not short:
            continue
        if u.get("media_key"):
            text = text.replace(short, "")
        elif expanded:
            text = text.replace(short, str(expanded))
    return text


# -- the adapter ---------------------------------------------------------------------------------


class XAdapter(Adapter[XOptions]):
    """Posts to X; see the module docstring."""

    name = "x"
    required_credentials = OAUTH1_CREDENTIALS
    publish_safety = Safety.RECONCILE_ONLY
    #: X cannot edit a post through the API: a revision keeps the post (default), replies to it, or
    #: replaces it (delete, then post anew); ``unpublish`` deletes it.
    capabilities = frozenset({Capability.DELETE, Capability.EXISTS, Capability.REPLY})
    first_comments = True

    def __init__(self, account: AccountContext) -> None:
        super().__init__(account)
        self._client: tweepy.Client | None = None
        self._api: tweepy.API | None = None
        self._http: requests.Session | None = None
        self._state: AccountState = account.state if account.state is not None else MemoryState()

    @classmethod
    def required_credentials_for(cls, options: BaseModel) -> tuple[str, ...]:
        """OAuth 1.0a needs four credentials; OAuth 2 a client id and a refresh token."""
        if isinstance(options, XOptions) and options.auth == "oauth2":
            return OAUTH2_CREDENTIALS
        return OAUTH1_CREDENTIALS

    @property
    def limits(self) -> Limits:
        """280 weighted units (URLs 23), threads up to ``thread_max_parts``, 4 images."""
        o = self.options
        return Limits(max_length=MAX_WEIGHTED_LENGTH, counter=weighted_length,
                      max_parts=o.thread_max_parts if o.thread else 1, max_media=MAX_MEDIA,
                      rate_windows=RATE_WINDOWS)

    # -- render --------------------------------------------------------------------------------

    def render(self, content: PostContent) -> Rendered:
        """The post (or thread): lead text, call to action and tagged link, hashtags, images."""
        o = self.options
        lim = self.limits
        warnings: list[str] = []
        tags: list[str] = []
        if content.channel_text:
            lead = content.channel_text  # hand-written for X: used as written, no hashtags added
        else:
            lead = content.variant or "\n\n".join(p for p in (content.title, content.summary) if p)
            if o.thread and o.include_body and content.body:
                lead = f"{lead}\n\n{body_text(content.body, content.body_format)}"
            tags = hashtags(content.tags, style=o.hashtag_style)[: o.max_hashtags]
        # With link_in_comment the first comment carries the link and its call to action.
        link, cta = ("", None) if content.link_in_comment else (content.link, content.cta_text)
        post = render_post(lead=lead, link=link, limits=lim, cta=cta, tags=tags,
                           thread=o.thread, link_position=o.link_position, marker=o.thread_marker,
                           atomic=entity_spans)
        if post.cut:
            warnings.append("text was shortened to fit X's 280 weighted characters")
        if post.dropped_tags:
            warnings.append(f"hashtags left out for room: {' '.join(post.dropped_tags)}")
        link_text = post.parts[post.link_part]
        if link and not any(e.url == content.link for e in extract_urls(link_text)):
            shown = next((e.url for e in extract_urls(link_text) if content.link.startswith(e.url)), None)
            warnings.append(f"X links only {shown} of the tagged link; the rest shows as text" if shown
                            else "X does not recognize the tagged link as a link")
        media = self._media_for(content.media, warnings)
        threaded = len(post.parts) > 1
        return Rendered(
            text=post.text, length=post.length, limit=lim.max_length, link=content.link,
            parts=post.parts if threaded else (), media=media,
            extra={"lengths": list(post.lengths), "link_part": post.link_part},
            warnings=tuple(warnings))

    def render_comment(self, text: str, link: str | None) -> Rendered:
        """A first comment: a reply to the post, ``text`` then ``link``, within one post's 280
        weighted characters (never cut: a longer one is a :class:`ContentError`)."""
        comment = "\n\n".join(p for p in (text.strip(), link) if p)
        if not comment:
            raise ContentError("the first comment is empty")
        n = weighted_length(comment)
        if n > MAX_WEIGHTED_LENGTH:
            raise ContentError(f"the first comment measures {n} weighted characters; an X reply takes at most "
                               f"{MAX_WEIGHTED_LENGTH} (links count {URL_WEIGHT}): shorten first_comment",
                               field="first_comment")
        return Rendered(text=comment, length=n, limit=MAX_WEIGHTED_LENGTH, link=link or "",
                        extra={"first_comment": True, "lengths": [n], "link_part": 0})

    def _media_for(self, media: Sequence[MediaRef], warnings: list[str]) -> tuple[MediaRef, ...]:
        if not media:
            return ()
        o = self.options
        if not o.media:
            warnings.append("media not attached: this account has media turned off")
            return ()
        if o.auth != "oauth1":
            warnings.append("media not attached: X's media upload needs OAuth 1.0a user context, "
                            "and this account uses OAuth 2")
            return ()
        return images_to_attach(media, MAX_MEDIA, warnings)

    # -- publish -------------------------------------------------------------------------------

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """Post ``rendered`` (resuming a thread after its last posted part); a first comment
        (``publication.parent_remote_id``) is a reply to that post."""
        return self._post(rendered, publication, reply_to=publication.parent_remote_id)

    def reply(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """Post ``rendered`` as a reply to the post ``remote_id`` (policy ``reply``: a correction in
        the thread); its later parts reply to the part before, as in any thread."""
        return self._post(rendered, publication, reply_to=remote_id)

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """``DELETE /2/tweets/:id`` (tweepy ``Client.delete_tweet``) for every part of the post, the
        last part first; a post already gone (404) is done. Another account's post is refused (403)."""
        progress = self._progress(publication)
        ids = list(progress.ids) if progress and progress.ids and progress.ids[0] == remote_id else [remote_id]
        for tweet_id in reversed(ids):
            what = f"delete post {tweet_id}"
            def remove(c: tweepy.Client, auth: bool, t: str = tweet_id) -> Any:
                return c.delete_tweet(t, user_auth=auth)

            try:
                self._call(remove, what, creates=True)
            except PermanentError as exc:
                if exc.status == 404:
                    continue
                raise
            log.info("x.deleted", account=self.account.id, post_id=tweet_id)

    def exists(self, remote_id: str, publication: PublicationRef) -> bool:
        """``GET /2/tweets/:id``: a ``data`` object → it exists; X's "Not Found Error" (200 with
        ``errors``, or 404) → it does not."""
        what = f"look up post {remote_id}"
        try:
            body = self._call(lambda c, auth: c.get_tweet(remote_id, user_auth=auth), what, creates=False)
        except PermanentError as exc:
            if exc.status == 404:
                return False
            raise
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            return True
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and any(isinstance(e, dict) and "Not Found" in str(e.get("title")) for e in errors):
            return False
        raise InDoubt(f"X's answer to {what} is neither the post nor 'not found'")

    def _post(self, rendered: Rendered, publication: PublicationRef, *, reply_to: str | None) -> Receipt:
        parts = rendered.parts or (rendered.text,)
        for i, part in enumerate(parts):
            n = weighted_length(part)
            if n > MAX_WEIGHTED_LENGTH or not part.strip():
                raise PermanentError(f"part {i + 1} of {len(parts)} measures {n} weighted characters "
                                     f"(X takes 1 to {MAX_WEIGHTED_LENGTH}); not sent")
        username = self._username()
        progress = self._progress(publication) or self._start(publication)
        ids = list(progress.ids)
        media_ids = self._upload_media(rendered.media, publication) if rendered.media and not ids else None
        for i in range(len(ids), len(parts)):
            what = "create post" if len(parts) == 1 else f"create part {i + 1} of {len(parts)}"
            if ids:
                what += f"; parts 1-{len(ids)} are posted, the first as {ids[0]}"
            progress = self._save(publication, progress, ids, attempt=True)
            tweet_id = self._create(parts[i], reply_to=ids[-1] if ids else reply_to,
                                    media_ids=media_ids if i == 0 else None, what=what)
            ids.append(tweet_id)
            progress = self._save(publication, progress, ids)
        return self._receipt(username, ids)

    def _receipt(self, username: str, ids: Sequence[str]) -> Receipt:
        return Receipt(remote_id=ids[0], permalink=f"https://x.com/{username}/status/{ids[0]}",
                       raw={"ids": list(ids), "username": username})

    def _create(self, text: str, *, reply_to: str | None, media_ids: list[str] | None, what: str) -> str:
        kwargs: dict[str, Any] = {"text": text}
        if reply_to:
            kwargs["in_reply_to_tweet_id"] = reply_to
        if media_ids:
            kwargs["media_ids"] = media_ids

        body = self._call(lambda c, auth: c.create_tweet(user_auth=auth, **kwargs), what, creates=True)
        data = body.get("data") if isinstance(body, dict) else None
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise InDoubt(f"X accepted the request but its answer has no post id ({what})")
        log.info("x.posted", account=self.account.id, post_id=tweet_id, reply_to=reply_to)
        return tweet_id

    # -- find_existing -------------------------------------------------------------------------

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """The post (all parts of the thread) if X has it; None if surely absent.

        Reads the account's posts made since the publication's first attempt: a part that carries
        the link matches on ``entities.urls[].expanded_url``; other parts on their text and the
        post they reply to. Found parts are recorded, so that publishing again resumes after them.

        Raises:
            InDoubt: the search cannot cover the whole window.
            TransientError: it is too early to tell, or X cannot be reached.
        """
        parts = rendered.parts or (rendered.text,)
        username = self._username()
        progress = self._progress(publication)
        ids = list(progress.ids) if progress else []
        if len(ids) >= len(parts):
            return self._receipt(username, ids)
        now = datetime.now(UTC)
        last_attempt = progress.attempt_at if progress else publication.scheduled_for
        if (now - last_attempt).total_seconds() < self.options.reconcile_settle_s:
            raise TransientError("X's timeline may not show a post made seconds ago; looking again later")
        since = (progress.started_at if progress else publication.scheduled_for) - SEARCH_MARGIN
        posts = self._recent_posts(since)
        link_part = int(rendered.extra.get("link_part", 0)) if len(parts) > 1 else 0
        taken = set(ids)
        found_any = False
        for i in range(len(ids), len(parts)):
            link = publication.tagged_url if i == link_part else None
            match = self._match(posts, parts[i], reply_to=ids[-1] if ids else publication.parent_remote_id, link=link,
                                taken=taken)
            if match is None and not ids and publication.previous_remote_id:
                # a correction posted as a reply to the earlier revision's post (policy reply)
                match = self._match(posts, parts[i], reply_to=publication.previous_remote_id, link=link, taken=taken)
            if match is None:
                break
            ids.append(match)
            taken.add(match)
            found_any = True
        if found_any:
            base = progress or self._start(publication)
            self._save(publication, base, ids)
        if len(ids) == len(parts):
            return self._receipt(username, ids)
        return None

    def _match(self, posts: Sequence[Mapping[str, Any]], part: str, *, reply_to: str | None, link: str | None,
               taken: set[str]) -> str | None:
        want = _comparable(part)
        for post in posts:
            pid = str(post.get("id", ""))
            if pid in taken:
                continue
            refs = post.get("referenced_tweets") or []
            replied_to = next((str(r.get("id")) for r in refs if r.get("type") == "replied_to"), None)
            if replied_to != reply_to:
                continue  # the first part replies to nothing; each later part to the one before
            if link is not None:
                urls = (post.get("entities") or {}).get("urls") or []
                if any(_same_url(str(u.get(k) or ""), link) for u in urls for k in ("expanded_url", "unwound_url")):
                    return pid
            if _comparable(_post_text(post)) == want:
                return pid
        return None

    def _recent_posts(self, since: datetime) -> list[dict[str, Any]]:
        user_id, _ = self._me()
        posts: list[dict[str, Any]] = []
        token: str | None = None
        for _page in range(self.options.search_pages):
            params: dict[str, Any] = {"start_time": since, "max_results": 100, "tweet_fields": SEARCH_FIELDS}
            if token:
                params["pagination_token"] = token

            def page(c: tweepy.Client, auth: bool, p: dict[str, Any] = params) -> Any:
                return c.get_users_tweets(user_id, user_auth=auth, **p)

            body = self._call(page, "search the account's posts", creates=False)
            if not isinstance(body, dict):
                raise InDoubt("X answered the search of the account's posts with something unreadable")
            data = body.get("data") or []
            if not isinstance(data, list):
                raise InDoubt("X answered the search of the account's posts with something unreadable")
            posts.extend(p for p in data if isinstance(p, dict))
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return posts
        raise InDoubt(f"the account made more than {100 * self.options.search_pages} posts since "
                      f"{since.isoformat()}; the search cannot tell whether ours is among them")

    # -- metrics -------------------------------------------------------------------------------

    def fetch_metrics(self, remote_id: str, publication: PublicationRef) -> Mapping[str, int] | None:
        """``public_metrics`` of the post: likes, reposts, replies, quotes, bookmarks, impressions."""
        body = self._call(lambda c, auth: c.get_tweet(remote_id, tweet_fields=["public_metrics"], user_auth=auth),
                          "read post metrics", creates=False)
        data = body.get("data") if isinstance(body, dict) else None
        metrics = data.get("public_metrics") if isinstance(data, dict) else None
        if not isinstance(metrics, dict):
            return None
        names = {"like_count": "likes", "retweet_count": "reposts", "reply_count": "replies",
                 "quote_count": "quotes", "bookmark_count": "bookmarks", "impression_count": "impressions"}
        return {ours: int(metrics[theirs]) for theirs, ours in names.items() if isinstance(metrics.get(theirs), int)}

    # -- account identity ----------------------------------------------------------------------

    def _me(self) -> tuple[str, str]:
        """The account's user id and username (``GET /2/users/me``, cached in the account state)."""
        stored = self._state.get(_ME_KEY)
        if stored is not None and isinstance(stored[0], dict) and stored[0].get("id"):
            return str(stored[0]["id"]), str(stored[0].get("username") or "")
        body = self._call(lambda c, auth: c.get_me(user_auth=auth), "read the account's identity", creates=False)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data.get("id") or not data.get("username"):
            raise TransientError("X answered GET /2/users/me without an id and username")
        value = {"id": str(data["id"]), "username": str(data["username"])}
        self._state.put(_ME_KEY, value, expect_version=stored[1] if stored else None)
        return value["id"], value["username"]

    def _username(self) -> str:
        return self.options.username or self._me()[1]

    # -- progress ------------------------------------------------------------------------------

    @staticmethod
    def _progress_key(publication: PublicationRef) -> str:
        return f"post:{publication.id}"

    def _progress(self, publication: PublicationRef) -> _Progress | None:
        stored = self._state.get(self._progress_key(publication))
        if stored is None:
            return None
        value, version = stored
        started = datetime.fromisoformat(value["started_at"])
        return _Progress(tuple(str(i) for i in value.get("ids", [])), started,
                         datetime.fromisoformat(value.get("attempt_at") or value["started_at"]), version)

    def _start(self, publication: PublicationRef) -> _Progress:
        now = datetime.now(UTC)
        fresh = _Progress((), now, now, 0)
        if self._state.put(self._progress_key(publication), fresh.as_json(), expect_version=None):
            return _Progress((), now, now, 1)
        existing = self._progress(publication)
        assert existing is not None
        return existing

    def _save(self, publication: PublicationRef, progress: _Progress, ids: Sequence[str], *,
              attempt: bool = False) -> _Progress:
        new = _Progress(tuple(ids), progress.started_at, datetime.now(UTC) if attempt else progress.attempt_at,
                        progress.version + 1)
        if not self._state.put(self._progress_key(publication), new.as_json(), expect_version=progress.version):
            # Someone else wrote this publication's progress: two workers on one publication,
            # which the ledger's claim should prevent. Keep what we know and say so.
            log.error("x.progress_conflict", account=self.account.id, publication=publication.id, ids=list(ids))
            current = self._progress(publication)
            merged = list(dict.fromkeys([*(current.ids if current else ()), *ids]))
            base_version = current.version if current else 0
            new = _Progress(tuple(merged), new.started_at, new.attempt_at, base_version + 1)
            self._state.put(self._progress_key(publication), new.as_json(),
                            expect_version=base_version if current else None)
        return new

    # -- media ---------------------------------------------------------------------------------

    def _upload_media(self, media: Sequence[MediaRef], publication: PublicationRef) -> list[str]:
        api = self._v1()
        ids: list[str] = []
        for ref in media:
            data, content_type = self._download(ref.url, publication)
            filename = "media" + _IMAGE_TYPES[content_type]

            def upload(d: bytes = data, f: str = filename) -> Any:
                return api.media_upload(f, file=io.BytesIO(d))

            uploaded = self._guard(upload, f"upload {ref.url}", creates=False)
            media_id = str(getattr(uploaded, "media_id_string", "") or getattr(uploaded, "media_id", ""))
            if not media_id:
                raise TransientError(f"X's media upload of {ref.url} answered without a media id")
            if ref.alt:
                def describe(m: str = media_id, a: str = ref.alt[:MAX_ALT_TEXT]) -> Any:
                    return api.create_media_metadata(m, a)

                self._guard(describe, f"set the alt text of {ref.url}", creates=False)
            ids.append(media_id)
        return ids

    def _download(self, url: str, publication: PublicationRef) -> tuple[bytes, str]:
        """The image at ``url``: fetched once per item revision through the account's media store
        (the guarded fetcher: public addresses only, capped), its type sniffed and checked for X."""
        store = self.account.media or MediaStore()
        medium = store.load(url, item_id=publication.item_id, revision=publication.revision, spec=X_MEDIA,
                            time_limit=timedelta(seconds=self.account.connect_timeout_s + self.account.read_timeout_s))
        return medium.data, medium.content_type

    # -- clients -------------------------------------------------------------------------------

    def _transport(self, base_url: str | None) -> _Transport:
        return _Transport(base_url, self.account.connect_timeout_s, self.account.read_timeout_s)

    def _mount(self, session: requests.Session) -> None:
        for host in (API_HOST, UPLOAD_HOST):
            session.mount(host, self._transport(self.account.base_url))

    def _session(self) -> requests.Session:
        """Our own session, for the OAuth 2 token endpoint (media come through :func:`fetch`)."""
        if self._http is None:
            session = requests.Session()
            session.mount("https://", self._transport(None))
            session.mount("http://", self._transport(None))
            self._mount(session)
            self._http = session
        return self._http

    def _v2(self) -> tweepy.Client:
        if self._client is None:
            creds = self.account.credentials
            if self.options.auth == "oauth1":
                client = tweepy.Client(
                    consumer_key=creds.get("consumer_key"), consumer_secret=creds.get("consumer_secret"),
                    access_token=creds.get("access_token"), access_token_secret=creds.get("access_token_secret"),
                    return_type=dict, wait_on_rate_limit=False)
            else:
                client = tweepy.Client(bearer_token=None, return_type=dict, wait_on_rate_limit=False)
            self._mount(client.session)
            self._client = client
        return self._client

    def _v1(self) -> tweepy.API:
        if self._api is None:
            creds = self.account.credentials
            auth = tweepy.OAuth1UserHandler(creds.get("consumer_key"), creds.get("consumer_secret"),
                                            creds.get("access_token"), creds.get("access_token_secret"))
            api = tweepy.API(auth, retry_count=0, timeout=self.account.read_timeout_s, wait_on_rate_limit=False)
            self._mount(api.session)
            self._api = api
        return self._api

    def _call(self, fn: Callable[[tweepy.Client, bool], Any], what: str, *, creates: bool) -> Any:
        """Run ``fn(client, user_auth)`` with the typed error mapping; with OAuth 2, refresh the
        access token when it is about to expire, and once more if X answers 401 (nothing was made)."""
        client = self._v2()
        if self.options.auth == "oauth1":
            return self._guard(lambda: fn(client, True), what, creates=creates)
        token = self._access_token()
        try:
            client.bearer_token = token
            return self._guard(lambda: fn(client, False), what, creates=creates)
        except AuthError:
            client.bearer_token = self._refresh(stale=token)
            return self._guard(lambda: fn(client, False), what, creates=creates)

    def _guard(self, fn: Callable[[], _T], what: str, *, creates: bool) -> _T:
        try:
            return fn()
        except tweepy.HTTPException as exc:
            raise _map_http(exc, what, creates=creates) from None
        except requests.exceptions.JSONDecodeError:  # a success status with a body that is not JSON
            if creates:
                raise InDoubt(f"X's answer could not be read ({what}); the post may exist") from None
            raise TransientError(f"X's answer could not be read ({what})") from None
        except requests.exceptions.RequestException as exc:
            raise request_error(exc, platform="X", what=what, creates=creates) from None
        except tweepy.TweepyException as exc:
            # The v1.1 API wraps connection errors: "Failed to send request: ..."
            cause = exc.__context__
            if isinstance(cause, requests.exceptions.RequestException):
                raise request_error(cause, platform="X", what=what, creates=creates) from None
            raise TransientError(f"X's answer could not be used ({what})") from None

    # -- OAuth 2 tokens ------------------------------------------------------------------------

    def _sealer(self) -> Sealer:
        try:
            return Sealer(self.account.credentials.get("state_key"))
        except SealError as exc:
            raise AuthError(f"the state_key of X account {self.account.id!r} is not usable: {exc}") from None

    def _sealed(self, tokens: Mapping[str, Any]) -> dict[str, Any]:
        """``tokens`` as the ledger keeps them: both tokens sealed (syndicate.base.sealing)."""
        sealer = self._sealer()
        return {k: (sealer.seal(str(v)) if k in ("access_token", "refresh_token") and v else v)
                for k, v in tokens.items()}

    def _opened(self, stored: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The stored pair with both tokens opened, and whether it should be sealed again."""
        sealer = self._sealer()
        out, stale = dict(stored), False
        for k in ("access_token", "refresh_token"):
            if stored.get(k):
                try:
                    out[k], old = sealer.open(str(stored[k]))
                except SealError:
                    raise AuthError(f"the stored OAuth 2 tokens of X account {self.account.id!r} open with none "
                                    "of its state_key keys: add the previous key after the new one, or "
                                    "authorize the account again") from None
                add_secret(str(out[k]))
                stale = stale or old
        return out, stale

    def _tokens(self) -> tuple[dict[str, Any], int]:
        """The stored token pair (opened), seeded from the credentials the first time and again
        whenever the environment's refresh token changes (an operator authorized the account anew).
        A pair sealed with an older key, or stored unsealed, is sealed again with the newest one."""
        creds = self.account.credentials
        env_refresh = creds.get("refresh_token")
        seed_id = hashlib.sha256(env_refresh.encode("utf-8")).hexdigest()[:16]
        for _ in range(5):
            stored = self._state.get(_TOKENS_KEY)
            if stored is not None and stored[0].get("seed") == seed_id:
                break
            seed = {"access_token": creds.optional("access_token"), "refresh_token": env_refresh,
                    "expires_at": None, "seed": seed_id}
            self._state.put(_TOKENS_KEY, self._sealed(seed), expect_version=stored[1] if stored else None)
        else:
            raise TransientError("the account state did not keep the OAuth 2 tokens")
        value, stale = self._opened(stored[0])
        version = stored[1]
        if stale and self._state.put(_TOKENS_KEY, self._sealed(value), expect_version=version):
            log.info("x.oauth2_resealed", account=self.account.id)
            version += 1
        return value, version

    @staticmethod
    def _usable(tokens: Mapping[str, Any]) -> bool:
        if not tokens.get("access_token"):
            return False
        expires = tokens.get("expires_at")
        return expires is None or datetime.fromisoformat(expires) - TOKEN_EXPIRY_MARGIN > datetime.now(UTC)

    def _access_token(self) -> str:
        tokens, _ = self._tokens()
        if self._usable(tokens):
            return str(tokens["access_token"])
        return self._refresh(stale=tokens.get("access_token"))

    def _refresh(self, *, stale: str | None) -> str:
        """A fresh access token: refreshed by us, or by another worker while we waited for the lock."""
        ttl = timedelta(seconds=self.account.connect_timeout_s + self.account.read_timeout_s + 10)
        try:
            with self._state.lock("x-oauth2-refresh", ttl=ttl, wait=ttl + timedelta(seconds=10)):
                tokens, version = self._tokens()
                if tokens.get("access_token") != stale and self._usable(tokens):
                    return str(tokens["access_token"])
                fresh = self._token_request(str(tokens["refresh_token"]))
                value = {"access_token": fresh["access_token"], "seed": tokens.get("seed"),
                         "refresh_token": fresh.get("refresh_token") or tokens["refresh_token"],
                         "expires_at": (datetime.now(UTC) + timedelta(seconds=int(fresh.get("expires_in", 7200))))
                         .isoformat()}
                for _ in range(5):
                    if self._state.put(_TOKENS_KEY, self._sealed(value), expect_version=version):
                        break
                    # The lock expired while we held it and someone wrote; ours is the newest pair.
                    log.warning("x.oauth2_store_conflict", account=self.account.id)
                    current = self._state.get(_TOKENS_KEY)
                    version = current[1] if current else 0
                log.info("x.oauth2_refreshed", account=self.account.id)
                return str(value["access_token"])
        except TimeoutError:
            raise TransientError("another worker holds the OAuth 2 refresh lock; trying again later") from None

    def _token_request(self, refresh_token: str) -> dict[str, Any]:
        creds = self.account.credentials
        client_id = creds.get("client_id")
        secret = creds.optional("client_secret")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
        what = "refresh the OAuth 2 access token"
        try:
            resp = self._session().post(f"{API_HOST}/2/oauth2/token", data=form,
                                        auth=(client_id, secret) if secret else None)
        except requests.exceptions.RequestException as exc:
            raise request_error(exc, platform="X", what=what, creates=False) from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if resp.status_code in (400, 401):
            detail = redact(str(body.get("error_description") or body.get("error") or resp.reason))[:300]
            raise AuthError("X refused the refresh token; the account must be authorized again",
                            status=resp.status_code, platform_message=detail)
        if resp.status_code == 429 or resp.status_code >= 500 or not body.get("access_token"):
            raise TransientError(f"cannot {what}", status=resp.status_code)
        if resp.status_code >= 400:
            raise AuthError(f"cannot {what}", status=resp.status_code)
        add_secret(str(body["access_token"]))
        if body.get("refresh_token"):
            add_secret(str(body["refresh_token"]))
        return body

    def close(self) -> None:
        """Close the HTTP sessions."""
        for session in (self._client.session if self._client else None, self._api.session if self._api else None,
                        self._http):
            if session is not None:
                session.close()
