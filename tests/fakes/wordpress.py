"""A loopback WordPress REST API: posts, categories, tags (and a language taxonomy), Application Passwords.

It answers as WordPress core does (``docs/channels/wordpress.md`` cites the sources): errors are
``{"code", "message", "data": {"status"}}``; a wrong application password is 401
``incorrect_password``; a user without the capability gets 403 ``rest_cannot_create`` or
``rest_cannot_publish``; a bad field is 400 ``rest_invalid_param``; an unknown post id is 404
``rest_post_invalid_id``; an existing term is 400 ``term_exists`` with its ``term_id``. A create
answers 201 with the post in the ``edit`` context and a ``Location`` header; collections carry
``X-WP-Total``/``X-WP-TotalPages``. Term names are stored HTML-escaped, as ``sanitize_term`` does.

``pretty_permalinks=False`` makes ``/wp-json/...`` a plain HTML 404 from the web server, as on a
site with plain permalinks; ``/?rest_route=/wp/v2/...`` always works, as in WordPress.
``registered_meta`` lists the meta keys registered for REST (others are dropped, as WordPress
does); ``languages`` turns on a Polylang-style ``lang`` field.

Media (``/wp/v2/media``) follow ``WP_REST_Attachments_Controller``: an upload needs a user with
``upload_files`` (401/403 ``rest_cannot_create``), a ``Content-Disposition`` with a file name (400
``rest_upload_no_content_disposition``) and a body (400 ``rest_upload_no_data``); a file whose bytes
are not one of the site's ``allowed_types`` (or whose extension does not match them) is refused as
``wp_handle_sideload`` refuses it (500 ``rest_upload_sideload_error``), one larger than
``max_upload_bytes`` as PHP's ``upload_max_filesize`` makes it (400 ``rest_upload_unknown_error``).
The attachment's slug is the file name without its extension; ``alt_text`` may come in the query.
A post's ``featured_media`` must be 0 or an existing attachment (400 ``rest_invalid_featured_media``).
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tests.fakes.base import FakeServer, Request, Response

__all__ = ["FakeWordPress", "WpUser"]

_STATUSES = ("publish", "future", "draft", "pending", "private")
#: File extensions WordPress maps to each image type (``wp_get_mime_types``).
_EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg", ".jpe"), "image/png": (".png",), "image/gif": (".gif",),
               "image/webp": (".webp",)}


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class WpUser:
    """A user with an application password and what the user's role allows."""

    app_password: str
    can_edit: bool = True
    can_publish: bool = True
    can_manage_terms: bool = True
    can_upload: bool = True


def _error(status: int, code: str, message: str, **data: Any) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status, **data}})


def _invalid(param: str, reason: str) -> Response:
    return _error(400, "rest_invalid_param", f"Invalid parameter(s): {param}", params={param: reason},
                  details={param: {"code": "rest_invalid_param", "message": reason, "data": None}})


def _sanitize_slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", value.lower()).strip("-")
    return re.sub(r"-+", "-", slug)[:200]


class FakeWordPress(FakeServer):
    """A fake WordPress site on loopback; ``users`` maps user names to :class:`WpUser`."""

    def __init__(self, users: dict[str, WpUser] | None = None, *, pretty_permalinks: bool = True,
                 registered_meta: tuple[str, ...] = (), languages: tuple[str, ...] = (),
                 taxonomies: tuple[str, ...] = ("categories", "tags"),
                 allowed_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp"),
                 max_upload_bytes: int = 8 * 1024 * 1024) -> None:
        super().__init__()
        self.allowed_types = set(allowed_types)
        self.max_upload_bytes = max_upload_bytes
        #: Attachments by id: the post fields WordPress returns, plus ``data`` (the bytes).
        self.media: dict[int, dict[str, Any]] = {}
        self.users: dict[str, WpUser] = dict(users or {})
        self.pretty_permalinks = pretty_permalinks
        self.registered_meta = set(registered_meta)
        self.languages = set(languages)
        self.posts: dict[int, dict[str, Any]] = {}
        self.terms: dict[str, dict[int, dict[str, Any]]] = {t: {} for t in taxonomies}
        self._next_id = 100
        self._guard = threading.Lock()
        self.route("GET", r"/wp-json(?P<route>/.*)", self._pretty)
        self.route("POST", r"/wp-json(?P<route>/.*)", self._pretty)
        self.route("DELETE", r"/wp-json(?P<route>/.*)", self._pretty)
        self.route("GET", r"/", self._rest_route)
        self.route("POST", r"/", self._rest_route)
        self.route("DELETE", r"/", self._rest_route)

    # -- helpers for tests -------------------------------------------------------------------

    def add_term(self, taxonomy: str, name: str) -> int:
        """A term that already exists on the site; returns its id."""
        with self._guard:
            return self._store_term(taxonomy, name)["id"]

    def term_names(self, taxonomy: str, ids: list[int]) -> list[str]:
        """The (unescaped) names of ``ids`` in ``taxonomy``."""
        return [html.unescape(self.terms[taxonomy][i]["name"]) for i in ids]

    def delete_post(self, post_id: int) -> None:
        """Delete a post for good (as an editor might)."""
        with self._guard:
            del self.posts[post_id]

    # -- routing -----------------------------------------------------------------------------

    def _pretty(self, req: Request) -> Response:
        if not self.pretty_permalinks:
            return Response(404, "<!DOCTYPE html><html><head><title>Page not found</title></head>"
                                 "<body><h1>Not Found</h1></body></html>", {"Content-Type": "text/html; charset=UTF-8"})
        return self._rest(req, req.path_params["route"])

    def _rest_route(self, req: Request) -> Response:
        route = (req.query.get("rest_route") or [""])[0]
        if not route:
            return Response(200, "<!DOCTYPE html><html><body>Home</body></html>", {"Content-Type": "text/html"})
        return self._rest(req, route)

    def _rest(self, req: Request, route: str) -> Response:
        user, refusal = self._authenticate(req)
        if refusal is not None:
            return refusal
        m = re.fullmatch(r"/wp/v2/posts(?:/(?P<id>\d+))?", route)
        if m:
            if m["id"] is None:
                return self._create_post(req, user) if req.method == "POST" else self._list_posts(req, user)
            post_id = int(m["id"])
            if req.method == "DELETE":
                return self._delete_post(req, user, post_id)
            return self._update_post(req, user, post_id) if req.method == "POST" else self._get_post(post_id)
        m = re.fullmatch(r"/wp/v2/media(?:/(?P<id>\d+))?", route)
        if m:
            if m["id"] is None:
                return self._upload_media(req, user) if req.method == "POST" else self._list_media(req)
            return self._get_media(int(m["id"]))
        m = re.fullmatch(r"/wp/v2/(?P<tax>[a-z0-9_-]+)", route)
        if m and m["tax"] in self.terms:
            return self._create_term(req, user, m["tax"]) if req.method == "POST" else self._list_terms(req, m["tax"])
        return _error(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        header = req.header("Authorization") or ""
        if not header.startswith("Basic "):
            return None, None
        name, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        user = self.users.get(name)
        if user is None:
            return None, _error(401, "invalid_username", "<strong>Error:</strong> The username <strong>"
                                f"{html.escape(name)}</strong> is not registered on this site.")
        # WordPress drops everything but letters and digits before comparing application passwords.
        if re.sub(r"[^a-z\d]", "", password, flags=re.I) != re.sub(r"[^a-z\d]", "", user.app_password, flags=re.I):
            return None, _error(401, "incorrect_password", "The provided password is an invalid application password.")
        return name, None

    def _link(self, post: dict[str, Any]) -> str:
        if post["status"] == "publish" and self.pretty_permalinks:
            d = datetime.fromisoformat(post["date_gmt"])
            return f"{self.url}/{d:%Y/%m/%d}/{post['slug']}/"
        return f"{self.url}/?p={post['id']}"

    # -- posts -------------------------------------------------------------------------------

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in post.items() if k not in ("title", "content", "excerpt")}
        for k in ("title", "content", "excerpt"):
            raw = post[k]
            out[k] = {"raw": raw, "rendered": raw if k == "title" else f"<p>{raw}</p>\n" if k == "excerpt" else raw}
        out["link"] = self._link(post)
        out["guid"] = {"rendered": f"{self.url}/?p={post['id']}", "raw": f"{self.url}/?p={post['id']}"}
        return out

    def _apply_fields(self, post: dict[str, Any], body: dict[str, Any]) -> Response | None:
        """Validate and apply ``body`` to ``post``; a refusal if a field is invalid."""
        if "status" in body and body["status"] not in _STATUSES:
            return _invalid("status", f"status is not one of {', '.join(_STATUSES)}.")
        if "featured_media" in body:
            featured = body["featured_media"]
            if not isinstance(featured, int):
                return _invalid("featured_media", "featured_media is not of type integer.")
            if featured and featured not in self.media:
                return _error(400, "rest_invalid_featured_media", "Invalid featured media ID.")
            post["featured_media"] = featured
        for tax in self.terms:
            if tax in body:
                ids = body[tax]
                if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
                    return _invalid(tax, f"{tax}[0] is not of type integer.")
        if "date_gmt" in body:
            try:
                when = datetime.fromisoformat(str(body["date_gmt"]).removesuffix("Z"))
            except ValueError:
                return _invalid("date_gmt", "Invalid date.")
            post["date_gmt"] = when.strftime("%Y-%m-%dT%H:%M:%S")
        if "lang" in body and self.languages:
            if body["lang"] not in self.languages:
                return _invalid("lang", f"lang is not one of {', '.join(sorted(self.languages))}.")
            post["lang"] = body["lang"]
        for key in ("title", "content", "excerpt"):
            if key in body:
                post[key] = str(body[key])
        if "status" in body:
            post["status"] = body["status"]
        for tax in self.terms:
            if tax in body:
                # Unknown ids are skipped silently, as wp_set_object_terms does.
                post[tax] = [i for i in body[tax] if i in self.terms[tax]]
        if isinstance(body.get("meta"), dict):
            post["meta"].update({k: v for k, v in body["meta"].items() if k in self.registered_meta})
        now = datetime.now(UTC).replace(tzinfo=None)
        # wp_insert_post: "publish" in the future becomes "future", "future" in the past becomes "publish".
        when = datetime.fromisoformat(post["date_gmt"])
        if post["status"] == "publish" and when > now:
            post["status"] = "future"
        elif post["status"] == "future" and when <= now:
            post["status"] = "publish"
        post["modified_gmt"] = now.strftime("%Y-%m-%dT%H:%M:%S")
        return None

    def _may_write(self, user: str | None, status: str) -> Response | None:
        if user is None:
            return _error(401, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
        if not self.users[user].can_edit:
            return _error(403, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
        if status in ("publish", "future") and not self.users[user].can_publish:
            return _error(403, "rest_cannot_publish", "Sorry, you are not allowed to publish posts in this post type.")
        return None

    def _create_post(self, req: Request, user: str | None) -> Response:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        refusal = self._may_write(user, str(body.get("status", "draft")))
        if refusal is not None:
            return refusal
        with self._guard:
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            post: dict[str, Any] = {
                "id": self._next_id, "date_gmt": now, "modified_gmt": now, "status": "draft", "type": "post",
                "slug": "", "title": "", "content": "", "excerpt": "", "author": 1, "meta": {}, "featured_media": 0,
                **{tax: [] for tax in self.terms},
            }
            refusal = self._apply_fields(post, body)
            if refusal is not None:
                return refusal
            slug = _sanitize_slug(str(body.get("slug") or post["title"] or str(post["id"])))
            taken = {p["slug"] for p in self.posts.values()}
            unique, n = slug, 2
            while unique in taken:
                unique, n = f"{slug}-{n}", n + 1
            post["slug"] = unique
            self._next_id += 1
            self.posts[post["id"]] = post
            view = self._view(post)
        location = f"{self.url}/wp-json/wp/v2/posts/{post['id']}"
        return Response(201, view, {"Location": location, "Allow": "GET, POST, PUT, PATCH, DELETE"})

    def _update_post(self, req: Request, user: str | None, post_id: int) -> Response:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        with self._guard:
            post = self.posts.get(post_id)
            if post is None:
                return _error(404, "rest_post_invalid_id", "Invalid post ID.")
            refusal = self._may_write(user, str(body.get("status", post["status"])))
            if refusal is not None:
                return refusal
            updated = json.loads(json.dumps(post))
            refusal = self._apply_fields(updated, body)
            if refusal is not None:
                return refusal
            if body.get("slug"):
                updated["slug"] = _sanitize_slug(str(body["slug"]))
            self.posts[post_id] = updated
            return Response(200, self._view(updated))

    def _delete_post(self, req: Request, user: str | None, post_id: int) -> Response:
        """``DELETE /wp/v2/posts/<id>``: to the trash unless ``force=true`` (then gone for good);
        a trashed post again is 410 ``rest_already_trashed``, an unknown id 404 (WP_REST_Posts_Controller)."""
        force = (req.query.get("force") or ["false"])[0] in ("true", "1")
        with self._guard:
            post = self.posts.get(post_id)
            if post is None:
                return _error(404, "rest_post_invalid_id", "Invalid post ID.")
            if user is None or not self.users[user].can_edit:
                return _error(401 if user is None else 403, "rest_cannot_delete",
                              "Sorry, you are not allowed to delete this post.")
            if force:
                del self.posts[post_id]
                return Response(200, {"deleted": True, "previous": self._view(post)})
            if post["status"] == "trash":
                return _error(410, "rest_already_trashed", "The post has already been deleted.")
            post["status"] = "trash"
            return Response(200, self._view(post))

    def _get_post(self, post_id: int) -> Response:
        post = self.posts.get(post_id)
        if post is None:
            return _error(404, "rest_post_invalid_id", "Invalid post ID.")
        return Response(200, self._view(post))

    def _list_posts(self, req: Request, user: str | None) -> Response:
        statuses = ",".join(req.query.get("status") or ["publish"]).split(",")
        if any(s != "publish" for s in statuses) and user is None:
            return _error(401, "rest_forbidden_status", "Status is forbidden.")
        slugs = set(",".join(req.query.get("slug") or []).split(",")) - {""}
        lang = (req.query.get("lang") or [None])[0]
        per_page = int((req.query.get("per_page") or ["10"])[0])
        with self._guard:
            found = [p for p in self.posts.values() if p["status"] in statuses
                     and (not slugs or p["slug"] in slugs) and (lang is None or p.get("lang") == lang)]
            page = [self._view(p) for p in sorted(found, key=lambda p: p["id"], reverse=True)[:per_page]]
        pages = max(1, -(-len(found) // per_page))
        return Response(200, page, {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)})

    # -- media -------------------------------------------------------------------------------

    def _media_view(self, media: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in media.items() if k != "data"}

    def _upload_media(self, req: Request, user: str | None) -> Response:
        if user is None:
            return _error(401, "rest_cannot_create", "Sorry, you are not allowed to upload media on this site.")
        if not self.users[user].can_upload:
            return _error(403, "rest_cannot_create", "Sorry, you are not allowed to upload media on this site.")
        if not req.body:
            return _error(400, "rest_upload_no_data", "No data supplied.")
        disposition = req.header("Content-Disposition") or ""
        m = re.search(r'filename="?([^";]+)"?', disposition)
        if not m:
            return _error(400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
        filename = m.group(1).strip()
        if len(req.body) > self.max_upload_bytes:
            return _error(400, "rest_upload_unknown_error",
                          "The uploaded file exceeds the upload_max_filesize directive in php.ini.")
        sniffed = _sniff(req.body)
        stem, dot, ext = filename.rpartition(".")
        if (sniffed is None or sniffed not in self.allowed_types or not dot
                or f".{ext.lower()}" not in _EXTENSIONS.get(sniffed, ())):
            return _error(500, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.")
        alt = (req.query.get("alt_text") or [""])[0]
        with self._guard:
            media_id = self._next_id
            self._next_id += 1
            slug = _sanitize_slug(stem)
            taken = {x["slug"] for x in self.media.values()}
            unique, n = slug, 2
            while unique in taken:
                unique, n = f"{slug}-{n}", n + 1
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            media = {"id": media_id, "date_gmt": now, "slug": unique, "status": "inherit", "type": "attachment",
                     "title": {"raw": stem, "rendered": stem}, "alt_text": alt, "media_type": "image",
                     "mime_type": sniffed,
                     "source_url": f"{self.url}/wp-content/uploads/{now[:4]}/{now[5:7]}/{filename}",
                     "link": f"{self.url}/?attachment_id={media_id}", "data": req.body}
            self.media[media_id] = media
        return Response(201, self._media_view(media),
                        {"Location": f"{self.url}/wp-json/wp/v2/media/{media_id}"})

    def _list_media(self, req: Request) -> Response:
        slugs = set(",".join(req.query.get("slug") or []).split(",")) - {""}
        with self._guard:
            found = [self._media_view(x) for x in sorted(self.media.values(), key=lambda x: -x["id"])
                     if not slugs or x["slug"] in slugs]
        return Response(200, found, {"X-WP-Total": str(len(found)), "X-WP-TotalPages": "1"})

    def _get_media(self, media_id: int) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return _error(404, "rest_post_invalid_id", "Invalid post ID.")
        return Response(200, self._media_view(media))

    # -- terms -------------------------------------------------------------------------------

    def _store_term(self, taxonomy: str, name: str) -> dict[str, Any]:
        term_id = self._next_id
        self._next_id += 1
        slug = _sanitize_slug(name) or str(term_id)
        term = {"id": term_id, "count": 0, "description": "", "link": f"{self.url}/?{taxonomy}={quote(slug)}",
                "name": html.escape(name, quote=False), "slug": slug, "taxonomy": taxonomy, "meta": []}
        if taxonomy == "categories":
            term["parent"] = 0
        self.terms[taxonomy][term_id] = term
        return term

    def _list_terms(self, req: Request, taxonomy: str) -> Response:
        search = (req.query.get("search") or [""])[0].lower()
        per_page = int((req.query.get("per_page") or ["10"])[0])
        if per_page > 100:
            return _invalid("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        with self._guard:
            found = [t for t in self.terms[taxonomy].values()
                     if not search or search in t["name"].lower() or search in t["slug"]]
        return Response(200, found[:per_page], {"X-WP-Total": str(len(found)),
                                                "X-WP-TotalPages": str(max(1, -(-len(found) // per_page)))})

    def _create_term(self, req: Request, user: str | None, taxonomy: str) -> Response:
        if user is None or not self.users[user].can_manage_terms:
            return _error(401 if user is None else 403, "rest_cannot_create",
                          "Sorry, you are not allowed to create terms in this taxonomy.")
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        name = str(body.get("name") or "").strip()
        if not name:
            return _error(400, "rest_missing_callback_param", "Missing parameter(s): name", params=["name"])
        with self._guard:
            for term in self.terms[taxonomy].values():
                if html.unescape(term["name"]).casefold() == name.casefold():
                    return _error(400, "term_exists", "A term with the name provided already exists with this parent.",
                                  term_id=term["id"])
            term = self._store_term(taxonomy, name)
        return Response(201, term, {"Location": f"{self.url}/wp-json/wp/v2/{taxonomy}/{term['id']}"})
