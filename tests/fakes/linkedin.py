"""A loopback LinkedIn API: the Posts API (``POST/GET /rest/posts``; partial update, delete and
read of ``/rest/posts/{urn}``), ``GET /rest/socialMetadata/{urn}``, the Images API (``POST
/rest/images?action=initializeUpload``, ``PUT`` to the upload URL it gives, ``GET
/rest/images/{urn}``) and the Comments API (``POST/GET /rest/socialActions/{urn}/comments``).

It answers as LinkedIn does, as far as we could check (``docs/channels/linkedin.md`` cites the
sources): bearer tokens checked (401 ``INVALID_ACCESS_TOKEN`` / ``EXPIRED_ACCESS_TOKEN``), a
``LinkedIn-Version`` that must be active (426 ``NONEXISTENT_VERSION`` otherwise), 201 with an empty
body and the URN in ``x-restli-id``, 422 ``DUPLICATE_POST`` for the same commentary twice by the
same author, 403 ``ACCESS_DENIED`` for an author the token may not post or read as. Error bodies
are LinkedIn's JSON (``status``, ``code`` or ``serviceErrorCode``, ``message``).

Images follow the Images API: the owner must be an author the token may post as; the upload URL
takes the bytes with ``PUT`` only (405 otherwise), and only JPEG, PNG or GIF bytes (400); an image
is ``WAITING_UPLOAD`` until then and ``AVAILABLE`` after. A post's ``content.media.id`` (or each
``content.multiImage.images[].id``, 2 to 20 of them) must be an image of the post's author that was
uploaded (422 otherwise), and ``altText`` is at most 4,086 characters.
A comment on a post that does not exist is a 404, one whose ``actor`` the token may not act as a
403, one whose ``object`` is not the post in the path a 400, and a ``message.text`` over 1,250
characters a 422; a created comment answers 201 with the comment (``$URN``) and its URN in
``x-restli-id``.

It also reads ``commentary`` as LinkedIn's "little text": :func:`visible_text` shows what a
reader would see, cut at the first unescaped reserved character as LinkedIn does.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.fakes.base import FakeServer, Fault, Request, Response

__all__ = ["FakeImage", "FakeLinkedIn", "TokenGrant", "visible_text"]

_RESERVED = set("\\|{}@[]()<>#*_~")
#: LinkedIn finds links in the raw commentary; a backslash (never bare in a URL) ends one.
_URL = re.compile(r"https?://[^\s\\]+")
_HASHTAG = re.compile(r"#[^\W_]+")
_MENTION = re.compile(r"@\[([^\]\\]*)\]\((urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)")
_TEMPLATE = re.compile(r"\{hashtag\|\\?[#＃]\|([^}]+)\}")


def visible_text(commentary: str) -> str:
    """What LinkedIn shows for a little-text ``commentary``.

    Escapes (``\\x``) show ``x``; URLs, ``#hashtags``, ``@[Name](urn)`` mentions and
    ``{hashtag|#|tag}`` templates are elements; any other unescaped reserved character ends the
    text there (LinkedIn's silent truncation).
    """
    out: list[str] = []
    i = 0
    while i < len(commentary):
        ch = commentary[i]
        if ch == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        m = _URL.match(commentary, i) if ch in "hH" else None
        if m:
            out.append(m.group(0))
            i = m.end()
            continue
        if ch == "#":
            m = _HASHTAG.match(commentary, i)
            if m:
                out.append(m.group(0))
                i = m.end()
                continue
        if ch == "@":
            m = _MENTION.match(commentary, i)
            if m:
                out.append(m.group(1))
                i = m.end()
                continue
        if ch == "{":
            m = _TEMPLATE.match(commentary, i)
            if m:
                out.append("#" + m.group(1))
                i = m.end()
                continue
        if ch in _RESERVED:
            break
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass
class TokenGrant:
    """What an access token may do: post as ``authors``; list their posts if ``can_read``."""

    authors: set[str]
    expired: bool = False
    can_read: bool = True


def _months(last: str, count: int) -> set[str]:
    year, month = int(last[:4]), int(last[4:])
    out = set()
    for _ in range(count):
        out.add(f"{year:04d}{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out


def _error(status: int, message: str, code: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    body.update(extra)
    return Response(status, body)


#: Longest comment text the fake takes (LinkedIn's comment box).
MAX_COMMENT = 1250


@dataclass
class FakeImage:
    """An image made with ``initializeUpload``: its owner, status and the bytes uploaded."""

    urn: str
    owner: str
    upload_id: str
    status: str = "WAITING_UPLOAD"
    data: bytes = b""
    uploads: int = 0


def _image_type(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


MAX_ALT_TEXT = 4086


@dataclass
class _Post:
    urn: str
    data: dict[str, Any]
    metrics: dict[str, int] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)


class FakeLinkedIn(FakeServer):
    """A fake LinkedIn API on loopback. ``tokens`` maps access tokens to what they may do."""

    def __init__(self, tokens: dict[str, TokenGrant] | None = None, *, newest_version: str = "202611",
                 active_months: int = 12) -> None:
        super().__init__()
        self.tokens: dict[str, TokenGrant] = dict(tokens or {})
        self.active_versions = _months(newest_version, active_months)
        self.posts: dict[str, _Post] = {}
        self.images: dict[str, FakeImage] = {}
        self._next_id = 7_100_000_000_000_000_001
        self._guard = threading.Lock()
        self.route("POST", r"/rest/images", self._initialize_upload)
        self.route("PUT", r"/dms-uploads/(?P<upload>[^/]+)", self._upload)
        self.route("POST", r"/dms-uploads/(?P<upload>[^/]+)", self._upload_wrong_method)
        self.route("GET", r"/rest/images/(?P<urn>[^/]+)", self._get_image)
        self.route("POST", r"/rest/posts", self._create)
        self.route("GET", r"/rest/posts", self._find)
        self.route("GET", r"/rest/posts/(?P<urn>[^/]+)", self._get)
        self.route("POST", r"/rest/posts/(?P<urn>[^/]+)", self._partial_update)
        self.route("DELETE", r"/rest/posts/(?P<urn>[^/]+)", self._delete)
        self.route("GET", r"/rest/socialMetadata/(?P<urn>[^/]+)", self._social_metadata)
        self.route("POST", r"/rest/socialActions/(?P<urn>[^/]+)/comments", self._comment)
        self.route("GET", r"/rest/socialActions/(?P<urn>[^/]+)/comments", self._comments)

    # -- helpers for tests -------------------------------------------------------------------

    def created(self) -> list[dict[str, Any]]:
        """The posts made so far, oldest first, as LinkedIn would return them."""
        with self._guard:
            return [p.data for p in self.posts.values()]

    def comments_on(self, urn: str) -> list[dict[str, Any]]:
        """The comments made on the post ``urn``, oldest first."""
        with self._guard:
            return list(self.posts[urn].comments)

    def visible(self, urn: str) -> str:
        """What a reader sees of the post ``urn``."""
        return visible_text(self.posts[urn].data.get("commentary", ""))

    def set_metrics(self, urn: str, *, likes: int = 0, praise: int = 0, comments: int = 0) -> None:
        """Engagement that ``GET /rest/socialMetadata/{urn}`` reports for ``urn``."""
        self.posts[urn].metrics = {"LIKE": likes, "PRAISE": praise, "comments": comments}

    def add_existing(self, author: str, commentary: str, *, source: str | None = None,
                     created_ms: int | None = None) -> str:
        """A post made earlier (by hand, or by an earlier revision); returns its URN."""
        return self._store(author, {"commentary": commentary, "visibility": "PUBLIC",
                                    "content": {"article": {"source": source}} if source else None},
                           created_ms=created_ms)

    @staticmethod
    def rate_limited(retry_after_s: int | None = None) -> Fault:
        """A 429 for the next create, as LinkedIn's daily throttle answers."""
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
        return Fault("status", method="POST", path=r"^/rest/posts$", status=429, headers=headers,
                     body={"status": 429, "message": "Resource level throttle APPLICATION DAY limit for calls "
                                                     "to this resource is reached."})

    @staticmethod
    def server_error(status: int = 500, *, method: str = "POST") -> Fault:
        """A 5xx for the next request to ``/rest/posts``."""
        return Fault("status", method=method, path=r"^/rest/posts$", status=status,
                     body={"status": status, "message": "Internal Server Error"} if status == 500 else
                     b"<html><body>Service Unavailable</body></html>",
                     headers={} if status == 500 else {"Content-Type": "text/html"})

    # -- request checks ----------------------------------------------------------------------

    def _check(self, req: Request) -> tuple[TokenGrant | None, Response | None]:
        auth = req.header("Authorization") or ""
        if not auth.startswith("Bearer "):
            return None, _error(401, "Empty oauth2 access token", serviceErrorCode=65604)
        grant = self.tokens.get(auth[len("Bearer "):])
        if grant is None:
            return None, _error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", serviceErrorCode=65600)
        if grant.expired:
            return None, _error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN",
                                serviceErrorCode=65601)
        version = req.header("LinkedIn-Version")
        if not version:
            return None, _error(400, "A version must be present. Please specify a version by adding the "
                                     "LinkedIn-Version header.", "VERSION_MISSING")
        if version.split(".", 1)[0] not in self.active_versions:
            return None, _error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        if req.header("X-Restli-Protocol-Version") != "2.0.0":
            return None, _error(400, "This API requires the header X-Restli-Protocol-Version: 2.0.0",
                                "ILLEGAL_ARGUMENT")
        return grant, None

    def _store(self, author: str, body: dict[str, Any], *, created_ms: int | None = None) -> str:
        with self._guard:
            urn = f"urn:li:share:{self._next_id}"
            self._next_id += 1
            now = created_ms if created_ms is not None else int(time.time() * 1000)
            data = {
                "id": urn, "author": author, "commentary": body.get("commentary", ""),
                "visibility": body.get("visibility", "PUBLIC"),
                "distribution": body.get("distribution") or {"feedDistribution": "MAIN_FEED",
                                                              "targetEntities": [],
                                                              "thirdPartyDistributionChannels": []},
                "lifecycleState": body.get("lifecycleState", "PUBLISHED"),
                "lifecycleStateInfo": {"isEditedByAuthor": False},
                "isReshareDisabledByAuthor": body.get("isReshareDisabledByAuthor", False),
                "createdAt": now, "publishedAt": now, "lastModifiedAt": now,
            }
            if body.get("content"):
                data["content"] = body["content"]
            self.posts[urn] = _Post(urn, data)
            return urn

    # -- routes ------------------------------------------------------------------------------

    def _create(self, req: Request) -> Response:
        grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        assert grant is not None
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "Unable to parse the request body as JSON", "ILLEGAL_ARGUMENT")
        author = body.get("author")
        if author not in grant.authors:
            return _error(403, f"Not enough permissions to access: partnerApiPostsExternal.CREATE for {author}",
                          "ACCESS_DENIED", serviceErrorCode=100)
        problems = []
        if body.get("lifecycleState") not in ("PUBLISHED", "DRAFT"):
            problems.append("/lifecycleState :: field is required and must be PUBLISHED or DRAFT")
        if body.get("visibility") not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
            problems.append("/visibility :: field is required")
        if not isinstance(body.get("distribution"), dict) or "feedDistribution" not in body["distribution"]:
            problems.append("/distribution/feedDistribution :: field is required")
        article = (body.get("content") or {}).get("article")
        if article is not None and not article.get("source"):
            problems.append("/content/article/source :: field is required")
        problems += self._media_problems(body.get("content") or {}, author)
        if problems:
            return _error(422, "; ".join(problems), errorDetailType="com.linkedin.common.error.BadRequest")
        commentary = body.get("commentary", "")
        if len(commentary.encode("utf-16-le")) // 2 > 3000:
            return _error(422, f"/commentary :: length {len(commentary)} exceeds the maximum of 3000",
                          errorDetailType="com.linkedin.common.error.BadRequest")
        with self._guard:
            duplicate = next((p.urn for p in self.posts.values()
                              if p.data["author"] == author and p.data["commentary"] == commentary), None)
        if duplicate is not None:
            return Response(422, {
                "errorDetailType": "com.linkedin.common.error.BadRequest",
                "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
                           f"Content is a duplicate of {duplicate}",
                "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {},
                                                  "code": "DUPLICATE_POST"}]},
                "status": 422})
        urn = self._store(author, body)
        return Response(201, b"", {"x-restli-id": urn, "x-linkedin-id": urn})

    def _media_problems(self, content: dict[str, Any], author: str) -> list[str]:
        refs: list[tuple[str, Any]] = []
        if "media" in content:
            refs.append(("/content/media", content["media"]))
        if "multiImage" in content:
            images = (content["multiImage"] or {}).get("images") or []
            if not 2 <= len(images) <= 20:
                return [f"/content/multiImage/images :: {len(images)} images; a multi-image post takes 2 to 20"]
            refs += [(f"/content/multiImage/images/{i}", img) for i, img in enumerate(images)]
        problems = []
        for where, ref in refs:
            urn = (ref or {}).get("id") or ""
            image = self.images.get(urn)
            if image is None or image.owner != author:
                problems.append(f"{where}/id :: {urn} is not an image of {author}")
            elif image.status != "AVAILABLE":
                problems.append(f"{where}/id :: {urn} is {image.status}; upload it before posting")
            alt = (ref or {}).get("altText")
            if alt is not None and len(alt) > MAX_ALT_TEXT:
                problems.append(f"{where}/altText :: length {len(alt)} exceeds the maximum of {MAX_ALT_TEXT}")
        return problems

    # -- images ------------------------------------------------------------------------------

    def _initialize_upload(self, req: Request) -> Response:
        grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        assert grant is not None
        if req.query.get("action") != ["initializeUpload"]:
            return _error(400, "An action (action=initializeUpload) is required", "ILLEGAL_ARGUMENT")
        try:
            owner = req.json()["initializeUploadRequest"]["owner"]
        except (ValueError, KeyError, TypeError):
            return _error(422, "/initializeUploadRequest/owner :: field is required",
                          errorDetailType="com.linkedin.common.error.BadRequest")
        if owner not in grant.authors:
            return _error(403, f"Not enough permissions to access: images.ACTION-initializeUpload for {owner}",
                          "ACCESS_DENIED", serviceErrorCode=100)
        with self._guard:
            n = self._next_id
            self._next_id += 1
            image = FakeImage(urn=f"urn:li:image:D4E10AQ{n}", owner=owner, upload_id=f"up{n}")
            self.images[image.urn] = image
        # LinkedIn's upload URLs are https; the adapter reaches this plain-http fake through its
        # loopback transport, as for every other call.
        base = "https://" + self.url.removeprefix("http://")
        return Response(200, {"value": {"uploadUrlExpiresAt": int(time.time() * 1000) + 86_400_000,
                                        "uploadUrl": f"{base}/dms-uploads/{image.upload_id}?ca=vector_ads&sync=0",
                                        "image": image.urn}})

    def _image_by_upload(self, upload: str) -> FakeImage | None:
        return next((i for i in self.images.values() if i.upload_id == upload), None)

    def _upload(self, req: Request) -> Response:
        _grant, refusal = self._check_token(req)
        if refusal is not None:
            return refusal
        image = self._image_by_upload(req.path_params["upload"])
        if image is None:
            return Response(404, b"")
        if not req.body:
            return _error(400, "The upload is empty")
        if _image_type(req.body) is None:
            return _error(400, "The uploaded file is not a JPG, PNG or GIF image")
        with self._guard:
            image.data = req.body
            image.status = "AVAILABLE"
            image.uploads += 1
        return Response(201, b"")

    def _upload_wrong_method(self, req: Request) -> Response:
        return Response(405, b"", {"Allow": "PUT"})

    def _check_token(self, req: Request) -> tuple[TokenGrant | None, Response | None]:
        auth = req.header("Authorization") or ""
        grant = self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if grant is None or grant.expired:
            return None, _error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", serviceErrorCode=65600)
        return grant, None

    def _get_image(self, req: Request) -> Response:
        _grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        image = self.images.get(unquote(req.path_params["urn"]))
        if image is None:
            return _error(404, "Not Found", "NOT_FOUND")
        return Response(200, {"id": image.urn, "owner": image.owner, "status": image.status,
                              **({"downloadUrl": f"{self.url}/media/{image.upload_id}"}
                                 if image.status == "AVAILABLE" else {})})

    def _find(self, req: Request) -> Response:
        grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        assert grant is not None
        if req.query.get("q") != ["author"]:
            return _error(400, "A finder (q=author) is required to list posts", "ILLEGAL_ARGUMENT")
        author = (req.query.get("author") or [""])[0]
        if author not in grant.authors or not grant.can_read:
            return _error(403, f"Not enough permissions to access: partnerApiPostsExternal.FINDER-author for "
                               f"{author}", "ACCESS_DENIED", serviceErrorCode=100)
        count = min(int((req.query.get("count") or ["10"])[0]), 100)
        start = int((req.query.get("start") or ["0"])[0])
        with self._guard:
            mine = [p.data for p in self.posts.values() if p.data["author"] == author]
        mine.sort(key=lambda d: (d["lastModifiedAt"], d["id"]), reverse=True)
        page = mine[start:start + count]
        return Response(200, {"paging": {"start": start, "count": count, "links": [], "total": len(mine)},
                              "elements": page})

    def _get(self, req: Request) -> Response:
        _grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        post = self.posts.get(unquote(req.path_params["urn"]))
        if post is None:
            return _error(404, "Not Found", "NOT_FOUND")
        return Response(200, post.data)

    #: What a partial update may ``$set`` (Posts API, "Update Posts").
    UPDATABLE = frozenset({"commentary", "contentCallToActionLabel", "contentLandingPage", "lifecycleState",
                           "adContext"})

    def _own_post(self, req: Request, action: str) -> tuple[_Post | None, Response | None]:
        grant, refusal = self._check(req)
        if refusal is not None:
            return None, refusal
        assert grant is not None
        post = self.posts.get(unquote(req.path_params["urn"]))
        if post is None:
            return None, _error(404, "Not Found", "NOT_FOUND")
        if post.data["author"] not in grant.authors:
            return None, _error(403, f"Not enough permissions to access: partnerApiPostsExternal.{action}",
                                "ACCESS_DENIED", serviceErrorCode=100)
        return post, None

    def _partial_update(self, req: Request) -> Response:
        """``POST /rest/posts/{urn}``: a partial update needs ``X-RestLi-Method: PARTIAL_UPDATE`` and
        ``{"patch": {"$set": {...}}}`` of updatable fields only; answers 204."""
        if (req.header("X-RestLi-Method") or "").upper() != "PARTIAL_UPDATE":
            return _error(400, "A POST to an entity needs the header X-RestLi-Method: PARTIAL_UPDATE",
                          "ILLEGAL_ARGUMENT")
        post, refusal = self._own_post(req, "PARTIAL_UPDATE")
        if refusal is not None:
            return refusal
        assert post is not None
        try:
            body = req.json()
            changes = body["patch"]["$set"]
            assert isinstance(changes, dict) and set(body) == {"patch"}
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AssertionError):
            return _error(400, "The body must be {\"patch\": {\"$set\": {...}}}", "ILLEGAL_ARGUMENT")
        refused = sorted(set(changes) - self.UPDATABLE)
        if refused:
            return _error(422, f"/{refused[0]} :: field cannot be updated",
                          errorDetailType="com.linkedin.common.error.BadRequest")
        with self._guard:
            post.data.update(changes)
            post.data["lastModifiedAt"] = int(time.time() * 1000)
            post.data["lifecycleStateInfo"] = {"isEditedByAuthor": True}
        return Response(204, b"")

    def _delete(self, req: Request) -> Response:
        """``DELETE /rest/posts/{urn}`` with ``X-RestLi-Method: DELETE``: 204; unknown: 404."""
        if (req.header("X-RestLi-Method") or "").upper() != "DELETE":
            return _error(400, "A DELETE needs the header X-RestLi-Method: DELETE", "ILLEGAL_ARGUMENT")
        post, refusal = self._own_post(req, "DELETE")
        if refusal is not None:
            return refusal
        assert post is not None
        with self._guard:
            del self.posts[post.urn]
        return Response(204, b"")

    def _social_metadata(self, req: Request) -> Response:
        _grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        urn = unquote(req.path_params["urn"])
        post = self.posts.get(urn)
        if post is None:
            return _error(404, f"Entity {urn} not found", "NOT_FOUND")
        reactions = {k: {"reactionType": k, "count": v} for k, v in post.metrics.items() if k != "comments" and v}
        comments = post.metrics.get("comments", 0)
        return Response(200, {"reactionSummaries": reactions, "commentsState": "OPEN", "entity": urn,
                              "commentSummary": {"count": comments, "topLevelCount": comments}})

    def _comment(self, req: Request) -> Response:
        grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        assert grant is not None
        urn = unquote(req.path_params["urn"])
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "Unable to parse the request body as JSON", "ILLEGAL_ARGUMENT")
        actor = body.get("actor")
        if actor not in grant.authors:
            return _error(403, f"Not enough permissions to access: socialActions.comments.CREATE for {actor}",
                          "ACCESS_DENIED", serviceErrorCode=100)
        if body.get("object") != urn:
            return _error(400, f"/object :: must be the entity in the path ({urn})", "ILLEGAL_ARGUMENT")
        text = (body.get("message") or {}).get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(422, "/message/text :: field is required",
                          errorDetailType="com.linkedin.common.error.BadRequest")
        if len(text.encode("utf-16-le")) // 2 > MAX_COMMENT:
            return _error(422, f"/message/text :: length {len(text)} exceeds the maximum of {MAX_COMMENT}",
                          errorDetailType="com.linkedin.common.error.BadRequest")
        with self._guard:
            post = self.posts.get(urn)
            if post is None:
                return _error(404, f"Entity {urn} not found", "NOT_FOUND")
            comment_id = str(self._next_id)
            self._next_id += 1
            now = int(time.time() * 1000)
            comment_urn = f"urn:li:comment:({urn},{comment_id})"
            data = {"id": comment_id, "$URN": comment_urn, "actor": actor, "object": urn,
                    "message": {"text": text, "attributes": []},
                    "created": {"actor": actor, "time": now}, "lastModified": {"actor": actor, "time": now}}
            post.comments.append(data)
        return Response(201, data, {"x-restli-id": comment_urn})

    def _comments(self, req: Request) -> Response:
        grant, refusal = self._check(req)
        if refusal is not None:
            return refusal
        assert grant is not None
        urn = unquote(req.path_params["urn"])
        if not grant.can_read:
            return _error(403, f"Not enough permissions to access: socialActions.comments.GET_ALL for {urn}",
                          "ACCESS_DENIED", serviceErrorCode=100)
        count = min(int((req.query.get("count") or ["10"])[0]), 100)
        start = int((req.query.get("start") or ["0"])[0])
        with self._guard:
            post = self.posts.get(urn)
            if post is None:
                return _error(404, f"Entity {urn} not found", "NOT_FOUND")
            comments = list(post.comments)
        return Response(200, {"paging": {"start": start, "count": count, "links": [], "total": len(comments)},
                              "elements": comments[start:start + count]})

    def dump(self) -> str:
        """The stored posts as JSON (for failing test output)."""
        return json.dumps(self.created(), indent=2, ensure_ascii=False)
