"""A fake of X's API on loopback, answering as X does (status codes, headers, body shapes).

Routes:

* ``POST /2/tweets``: 201 ``{"data": {"id", "text", "edit_history_tweet_ids"}}``; the stored
  text has its links wrapped in t.co with ``entities.urls[].expanded_url`` as X does; a text equal
  to an earlier post's answers 403 with X's duplicate message; after :meth:`FakeX.rate_limit`,
  429 with ``x-rate-limit-*`` headers.
* ``GET /2/users/me``, ``GET /2/users/:id/tweets`` (newest first, ``start_time``, pagination,
  ``tweet.fields``), ``GET /2/tweets/:id`` (``public_metrics``).
* ``POST /1.1/media/upload.json`` (multipart) and ``POST /1.1/media/metadata/create.json``.
* ``POST /2/oauth2/token``: a refresh rotates the pair; an old refresh token is refused.
* ``GET /media/<name>``: images put with :meth:`FakeX.serve_image` (the customer's site).

Every API request must be signed with OAuth 1.0a for the fake's consumer and token secrets
(verified with oauthlib over the URL the client signed, ``https://api.twitter.com/...`` or
``https://upload.twitter.com/...``), or carry a current OAuth 2 bearer token; otherwise 401.
"""

from __future__ import annotations

import html
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlencode

from oauthlib.oauth1.rfc5849 import signature, utils

from adapters.twitter_text import extract_urls, weighted_length
from tests.fakes.base import FakeServer, Request, Response

__all__ = ["DUPLICATE_BODY", "FakeX", "XPost", "x_account", "x_environ"]

DUPLICATE_BODY = {"detail": "You are not allowed to create a Tweet with duplicate content.",
                  "type": "about:blank", "title": "Forbidden", "status": 403}
UNAUTHORIZED_BODY = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
TOO_MANY_BODY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


@dataclass
class XPost:
    """A post the fake holds."""

    id: str
    text: str          # as sent
    stored_text: str   # as X returns it: links wrapped in t.co, HTML-escaped
    author_id: str
    created_at: datetime
    urls: list[dict[str, Any]]
    reply_to: str | None = None
    media_ids: list[str] = field(default_factory=list)
    metrics: dict[str, int] = field(default_factory=lambda: {
        "retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0, "bookmark_count": 0,
        "impression_count": 0})

    def json(self, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.stored_text, "edit_history_tweet_ids": [self.id]}
        if "created_at" in fields:
            out["created_at"] = self.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "entities" in fields and self.urls:
            out["entities"] = {"urls": self.urls}
        if "referenced_tweets" in fields and self.reply_to:
            out["referenced_tweets"] = [{"type": "replied_to", "id": self.reply_to}]
        if "public_metrics" in fields:
            out["public_metrics"] = dict(self.metrics)
        if "author_id" in fields:
            out["author_id"] = self.author_id
        return out


class FakeX(FakeServer):
    """X on loopback; see the module docstring. Credentials are class attributes."""

    consumer_key = "fake-consumer-key"
    consumer_secret = "fake-consumer-secret"
    access_token = "1234567890-fake-access-token"
    access_token_secret = "fake-access-token-secret"
    client_id = "fake-client-id"
    client_secret = "fake-client-secret"
    user_id = "1234567890"
    username = "example"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[XPost] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.images: dict[str, tuple[bytes, str]] = {}
        self.refreshes = 0
        self.refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, float] = {}
        self._ids = itertools.count(1_790_000_000_000_000_001)
        self._media_ids = itertools.count(1_880_000_000_000_000_001)
        self._slugs = itertools.count(1)
        self._state = threading.Lock()
        self._rate: dict[str, int] | None = None
        #: Called with each post right after the fake made it (to queue a fault for the next request).
        self.after_create: Callable[[XPost], None] | None = None
        self.route("POST", r"/2/tweets", self._create)
        self.route("GET", r"/2/users/me", self._me)
        self.route("GET", r"/2/users/(?P<id>\d+)/tweets", self._timeline)
        self.route("GET", r"/2/tweets/(?P<id>\d+)", self._tweet)
        self.route("DELETE", r"/2/tweets/(?P<id>\d+)", self._delete)
        self.route("POST", r"/1.1/media/upload\.json", self._upload)
        self.route("POST", r"/1.1/media/metadata/create\.json", self._metadata)
        self.route("POST", r"/2/oauth2/token", self._token)
        self.route("GET", r"/media/(?P<name>[\w.-]+)", self._image)

    # -- set-up ----------------------------------------------------------------------------

    @classmethod
    def oauth1_environ(cls, prefix: str = "X") -> dict[str, str]:
        """Environment variables holding the fake's OAuth 1.0a credentials."""
        return {f"{prefix}_CONSUMER_KEY": cls.consumer_key, f"{prefix}_CONSUMER_SECRET": cls.consumer_secret,
                f"{prefix}_ACCESS_TOKEN": cls.access_token, f"{prefix}_ACCESS_TOKEN_SECRET": cls.access_token_secret}

    @staticmethod
    def oauth1_credentials(prefix: str = "X") -> dict[str, str]:
        """The ``credentials:`` block of an OAuth 1.0a account, as references."""
        return {"consumer_key": f"${{{prefix}_CONSUMER_KEY}}", "consumer_secret": f"${{{prefix}_CONSUMER_SECRET}}",
                "access_token": f"${{{prefix}_ACCESS_TOKEN}}",
                "access_token_secret": f"${{{prefix}_ACCESS_TOKEN_SECRET}}"}

    def issue_tokens(self, *, access_expires_in_s: float = 7200) -> tuple[str, str]:
        """A fresh OAuth 2 pair (access token, refresh token) the fake accepts."""
        with self._state:
            n = next(self._slugs)
            access, refresh = f"fake-access-{n}-{time.time_ns()}", f"fake-refresh-{n}-{time.time_ns()}"
            self.access_tokens[access] = time.time() + access_expires_in_s
            self.refresh_tokens.add(refresh)
        return access, refresh

    def rate_limit(self, *, reset_epoch: int, limit: int = 100) -> None:
        """From now on, ``POST /2/tweets`` answers 429 until told otherwise (``rate_limit_off``)."""
        self._rate = {"limit": limit, "reset": reset_epoch}

    def rate_limit_off(self) -> None:
        """Stop answering 429."""
        self._rate = None

    def serve_image(self, name: str, data: bytes, content_type: str = "image/png") -> str:
        """Serve ``data`` at ``/media/<name>``; returns its URL."""
        self.images[name] = (data, content_type)
        return f"{self.url}/media/{name}"

    def add_post(self, text: str, *, created_at: datetime | None = None, reply_to: str | None = None) -> XPost:
        """A post made some other way (by hand, by another tool)."""
        with self._state:
            return self._store(text, created_at or datetime.now(UTC), reply_to, [])

    # -- inspection ------------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[Request]:
        """Recorded requests with this method and exact path."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def verify_oauth1(self, req: Request) -> bool:
        """Whether ``req`` carries a valid OAuth 1.0a HMAC-SHA1 signature for the fake's keys."""
        header = req.header("Authorization") or ""
        if not header.startswith("OAuth "):
            return False
        oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        if oauth.get("oauth_consumer_key") != self.consumer_key or oauth.get("oauth_token") != self.access_token:
            return False
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return False
        host = "https://upload.twitter.com" if req.path.startswith("/1.1/media/") else "https://api.twitter.com"
        query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
        content_type = (req.header("Content-Type") or "").split(";")[0].strip()
        body = req.body.decode("utf-8") if content_type == "application/x-www-form-urlencoded" else None
        params = signature.collect_parameters(uri_query=query, body=body, headers={"Authorization": header})

        @dataclass
        class _Signed:
            uri: str
            http_method: str
            params: list[tuple[str, str]]
            signature: str

        signed = _Signed(host + req.path + (f"?{query}" if query else ""), req.method, params,
                         oauth.get("oauth_signature", ""))
        return bool(signature.verify_hmac_sha1(signed, self.consumer_secret, self.access_token_secret))

    def bearer(self, req: Request) -> str | None:
        """The current OAuth 2 access token ``req`` carries, if any."""
        header = req.header("Authorization") or ""
        if not header.startswith("Bearer "):
            return None
        token = header.removeprefix("Bearer ")
        with self._state:
            expires = self.access_tokens.get(token)
        return token if expires is not None and expires > time.time() else None

    def _unauthorized(self, req: Request) -> Response | None:
        if self.verify_oauth1(req) or self.bearer(req) is not None:
            return None
        return Response(401, UNAUTHORIZED_BODY, {"Content-Type": "application/problem+json"})

    # -- handlers --------------------------------------------------------------------------

    def _rate_headers(self, remaining: int) -> dict[str, str]:
        rate = self._rate or {"limit": 100, "reset": int(time.time()) + 900}
        return {"x-rate-limit-limit": str(rate["limit"]), "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(rate["reset"])}

    def _store(self, text: str, created_at: datetime, reply_to: str | None, media_ids: list[str]) -> XPost:
        post_id = str(next(self._ids))
        stored, urls, pos = [], [], 0
        for entity in extract_urls(text):
            stored.append(html.escape(text[pos:entity.start], quote=False))
            short = f"https://t.co/f{next(self._slugs):09d}"
            start = sum(len(s) for s in stored)
            stored.append(short)
            urls.append({"start": start, "end": start + len(short), "url": short, "expanded_url": entity.url,
                         "display_url": entity.url.split("://", 1)[-1][:26]})
            pos = entity.end
        stored.append(html.escape(text[pos:], quote=False))
        for media_id in media_ids:
            short = f"https://t.co/m{next(self._slugs):09d}"
            start = sum(len(s) for s in stored) + 1
            stored.append(" " + short)
            urls.append({"start": start, "end": start + len(short), "url": short, "media_key": f"3_{media_id}",
                         "expanded_url": f"https://x.com/{self.username}/status/{post_id}/photo/1",
                         "display_url": "pic.x.com/fake"})
        post = XPost(post_id, text, "".join(stored), self.user_id, created_at, urls, reply_to, list(media_ids))
        self.posts.append(post)
        return post

    def _create(self, req: Request) -> Response:
        if (denied := self._unauthorized(req)) is not None:
            return denied
        if self._rate is not None:
            return Response(429, TOO_MANY_BODY, {"Content-Type": "application/problem+json", **self._rate_headers(0)})
        try:
            body = req.json()
            text = body["text"]
        except (ValueError, KeyError, TypeError):
            return Response(400, {"errors": [{"message": "Requires one of: text, media"}], "title": "Invalid Request",
                                  "detail": "One or more parameters to your request was invalid.",
                                  "type": "https://api.twitter.com/2/problems/invalid-request"})
        if weighted_length(text) > 280:
            return Response(403, {"detail": "Your Tweet text is too long.", "type": "about:blank",
                                  "title": "Forbidden", "status": 403})
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        with self._state:
            if any(p.text.strip() == text.strip() for p in self.posts):
                return Response(403, DUPLICATE_BODY, {"Content-Type": "application/problem+json"})
            if reply_to is not None and not any(p.id == reply_to for p in self.posts):
                return Response(400, {"errors": [{"message": "The post you are replying to does not exist."}],
                                      "title": "Invalid Request", "detail": "Invalid reply target.",
                                      "type": "https://api.twitter.com/2/problems/invalid-request"})
            if any(m not in self.media for m in media_ids):
                return Response(400, {"errors": [{"message": "Your media IDs are invalid."}],
                                      "title": "Invalid Request", "detail": "Invalid media.",
                                      "type": "https://api.twitter.com/2/problems/invalid-request"})
            post = self._store(text, datetime.now(UTC), reply_to, list(media_ids))
        if self.after_create is not None:
            self.after_create(post)
        return Response(201, {"data": {"id": post.id, "text": post.stored_text, "edit_history_tweet_ids": [post.id]}},
                        self._rate_headers(99))

    def _me(self, req: Request) -> Response:
        if (denied := self._unauthorized(req)) is not None:
            return denied
        return Response(200, {"data": {"id": self.user_id, "name": "Example Inc.", "username": self.username}})

    def _timeline(self, req: Request) -> Response:
        if (denied := self._unauthorized(req)) is not None:
            return denied
        if req.path_params["id"] != self.user_id:
            return Response(200, {"meta": {"result_count": 0}})
        max_results = int((req.query.get("max_results") or ["10"])[0])
        if not 5 <= max_results <= 100:
            return Response(400, {"title": "Invalid Request", "type": "https://api.twitter.com/2/problems/invalid-request",
                                  "detail": "The `max_results` query parameter value is not between 5 and 100"})
        fields = set(",".join(req.query.get("tweet.fields", [])).split(","))
        start = req.query.get("start_time")
        since = datetime.fromisoformat(start[0].replace("Z", "+00:00")) if start else None
        with self._state:
            mine = [p for p in reversed(self.posts) if p.author_id == self.user_id
                    and (since is None or p.created_at >= since)]
        offset = int((req.query.get("pagination_token") or ["0"])[0] or 0)
        page = mine[offset:offset + max_results]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + max_results < len(mine):
            meta["next_token"] = str(offset + max_results)
        out: dict[str, Any] = {"meta": meta}
        if page:
            out["data"] = [p.json(fields) for p in page]
        return Response(200, out)

    def _tweet(self, req: Request) -> Response:
        if (denied := self._unauthorized(req)) is not None:
            return denied
        fields = set(",".join(req.query.get("tweet.fields", [])).split(","))
        pid = req.path_params["id"]
        with self._state:
            post = next((p for p in self.posts if p.id == pid), None)
        if post is None:
            return Response(200, {"errors": [{"value": pid, "detail": f"Could not find tweet with id: [{pid}].",
                                              "title": "Not Found Error", "resource_type": "tweet",
                                              "parameter": "id", "resource_id": pid,
                                              "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return Response(200, {"data": post.json(fields)})

    def add_foreign(self, text: str, author_id: str = "999000999") -> XPost:
        """A post made by another account (which ours may not delete)."""
        with self._state:
            post = self._store(text, datetime.now(UTC), None, [])
            post.author_id = author_id
        return post

    def _delete(self, req: Request) -> Response:
        """``DELETE /2/tweets/:id``: 200 ``{"data": {"deleted": true}}``; another account's post is
        403; an unknown id 404 (resource not found)."""
        if (denied := self._unauthorized(req)) is not None:
            return denied
        pid = req.path_params["id"]
        with self._state:
            post = next((p for p in self.posts if p.id == pid), None)
            if post is None:
                return Response(404, {"title": "Not Found Error", "detail": f"Could not find tweet with id: [{pid}].",
                                      "type": "https://api.twitter.com/2/problems/resource-not-found"},
                                {"Content-Type": "application/problem+json"})
            if post.author_id != self.user_id:
                return Response(403, {"title": "Forbidden", "status": 403, "type": "about:blank",
                                      "detail": "You are not allowed to delete a Tweet that was not created by you."},
                                {"Content-Type": "application/problem+json"})
            self.posts.remove(post)
        return Response(200, {"data": {"deleted": True}})

    def _upload(self, req: Request) -> Response:
        if (denied := self._unauthorized(req)) is not None:
            return denied
        content_type = req.header("Content-Type") or ""
        raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + req.body
        message = BytesParser(policy=HTTP).parsebytes(raw)
        media = None
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "media":
                media = part.get_payload(decode=True)
        if not media:
            return Response(400, {"errors": [{"code": 38, "message": "media parameter is missing."}]})
        with self._state:
            media_id = str(next(self._media_ids))
            self.media[media_id] = {"bytes": media, "alt": None}
        return Response(200, {"media_id": int(media_id), "media_id_string": media_id, "size": len(media),
                              "expires_after_secs": 86400, "image": {"image_type": "image/png", "w": 1, "h": 1}})

    def _metadata(self, req: Request) -> Response:
        if (denied := self._unauthorized(req)) is not None:
            return denied
        body = req.json()
        media_id = str(body.get("media_id"))
        with self._state:
            if media_id not in self.media:
                return Response(400, {"errors": [{"code": 324, "message": "The media ID is invalid."}]})
            self.media[media_id]["alt"] = (body.get("alt_text") or {}).get("text")
        return Response(200, b"")

    def _token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form().items()}
        invalid = Response(400, {"error": "invalid_request",
                                 "error_description": "Value passed for the token was invalid."})
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != self.client_id:
            return invalid
        with self._state:
            old = form.get("refresh_token", "")
            if old not in self.refresh_tokens:
                return invalid
            self.refresh_tokens.discard(old)
            self.refreshes += 1
            n = next(self._slugs)
            access, refresh = f"fake-access-{n}-{time.time_ns()}", f"fake-refresh-{n}-{time.time_ns()}"
            self.access_tokens[access] = time.time() + 7200
            self.refresh_tokens.add(refresh)
        return Response(200, {"token_type": "bearer", "expires_in": 7200, "access_token": access,
                              "scope": "tweet.read tweet.write users.read offline.access", "refresh_token": refresh})

    def _image(self, req: Request) -> Response:
        found = self.images.get(req.path_params["name"])
        if found is None:
            return Response(404, b"not found")
        return Response(200, found[0], {"Content-Type": found[1]})


# -- helpers for tests that publish through the fake ---------------------------------------------


#: The key the OAuth 2 token pair is sealed with in tests (a fixed, valid Fernet key).
STATE_KEY = "ZGV2LW9ubHkgc3RhdGUga2V5IGZvciB0ZXN0cyAxMjM="


def x_account(fake: FakeX, *, auth: str = "oauth1", read_timeout_s: float = 2.0, with_access_token: bool = False,
              **options: Any) -> dict[str, Any]:
    """An ``accounts.yaml`` entry for an X account pointed at ``fake`` (credentials by reference)."""
    if auth == "oauth1":
        credentials = FakeX.oauth1_credentials()
    else:
        credentials = {"client_id": "${X_CLIENT_ID}", "client_secret": "${X_CLIENT_SECRET}",
                       "refresh_token": "${X_REFRESH_TOKEN}", "state_key": "${X_STATE_KEY}"}
        if with_access_token:
            credentials["access_token"] = "${X_OAUTH2_ACCESS_TOKEN}"
    return {"adapter": "x", "base_url": fake.url, "connect_timeout_s": 2.0, "read_timeout_s": read_timeout_s,
            "utm": {"source": "x"}, "credentials": credentials, "options": {"auth": auth, **options}}


def x_environ(fake: FakeX, *, access_token: str = "", refresh_token: str = "") -> dict[str, str]:
    """The environment the account's references resolve in (OAuth 1.0a and, if given, OAuth 2)."""
    env = FakeX.oauth1_environ()
    env.update({"X_CLIENT_ID": fake.client_id, "X_CLIENT_SECRET": fake.client_secret, "X_STATE_KEY": STATE_KEY})
    if access_token:
        env["X_OAUTH2_ACCESS_TOKEN"] = access_token
    if refresh_token:
        env["X_REFRESH_TOKEN"] = refresh_token
    return env
