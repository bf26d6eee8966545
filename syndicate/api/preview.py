"""``POST /v1/preview``: every post an item would make, as ``syndicate preview`` shows it, over HTTP.

The body is an item, as for ``POST /v1/items``; the answer lists, per locale and account, the
rendered text, its length against the channel's limit, the tagged link, thread parts, warnings,
the planned time and whether the post would wait for a reviewer. The posts come from
:func:`syndicate.operations.preview.preview_item`, the code behind ``syndicate preview``, which
renders with the publishing code.

A preview changes nothing: no ledger row or event, no message, no platform call. Fields that need
a machine translation are translated (a human translation in the item is used as is), reading the
translation cache but never adding to it, since the cache lives in the ledger in embedded mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ContentError, InvalidFilter, NotApproved
from ..ledger.filters import check_choice, check_locale
from ..localization import translation_cache
from ..localization.cache import TranslationCache
from ..model.item import InvalidItem, channel_names, parse_item
from ..operations.preview import PreviewPost, preview_item
from .app import ApiError, _body, _errors, _iso, _json, _parse_json, _require_json

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["PREVIEW_PATH", "ReadOnlyCache", "preview_openapi", "preview_route"]

PREVIEW_PATH = "/v1/preview"
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class ReadOnlyCache:
    """A translation cache that is read and never written: a preview leaves no trace."""

    def __init__(self, cache: TranslationCache) -> None:
        self._cache = cache

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached translations among ``keys``."""
        return self._cache.get_many(keys)

    def put_many(self, entries: Mapping[str, str]) -> None:
        """Keep nothing."""


def post_json(p: PreviewPost) -> dict[str, Any]:
    """One previewed post as the API shows it."""
    data = p.as_json()
    data["scheduled_for"] = _iso(p.scheduled_for)
    data["review_required"] = p.state == "awaiting_review"
    data["fits"] = not p.limit or p.length <= p.limit
    return data


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw.lower() in _FALSE:
        return False
    if raw.lower() in _TRUE:
        return True
    raise ApiError(422, "invalid_request", f"{name} must be true or false", [(name, raw[:50])])


def preview_route(rt: Services, authorize: Callable[[Request, str], str]) -> Route:
    """The ``POST /v1/preview`` route of the API bound to ``rt``; ``authorize(request, scope)``
    checks the bearer token (the API's, so that a config reload applies to it too)."""

    def preview_sync(data: Any, locales: list[str], channels: list[str], ignore_schedule: bool) -> Response:
        cfg = rt.config
        try:
            item = parse_item(data, limits=cfg.intake_limits, source="request body",
                              channels=channel_names(cfg.registry.names(), cfg.accounts))
        except InvalidItem as exc:
            raise ApiError(422, "invalid_item", "the item is invalid", exc.problems) from None
        except NotApproved as exc:
            raise ApiError(422, "not_approved", "the item is not approved", [(exc.field or "approved", exc.reason)]
                           ) from None
        known_locales = sorted({loc for r in cfg.routes.values() for loc in r.locales})
        known_channels = sorted(set(cfg.accounts) | {a.adapter for a in cfg.accounts.values()})
        try:
            wanted_locales = [check_locale(v, known_locales, where="in the routes") for v in locales]
            wanted_channels = [check_choice("channel", v, known_channels, where="in the routes") for v in channels]
        except InvalidFilter as exc:
            raise ApiError(422, "invalid_request", f"unknown {exc.field}", [(exc.field or "", str(exc))]) from None
        cache = ReadOnlyCache(translation_cache(rt.redis(), rt.namespace, rt.ledger))
        try:
            posts = preview_item(rt, item, now=rt.ledger.now(), locales=wanted_locales or None,
                                 channels=wanted_channels or None, ignore_schedule=ignore_schedule, cache=cache)
        except ContentError as exc:
            raise ApiError(422, "invalid_item", "the item cannot be planned", [(exc.field or "", exc.reason)]
                           ) from None
        bad = [p for p in posts if p.error and p.state not in ("skipped", "published", "cancelled")]
        over = [p for p in posts if p.limit and p.length > p.limit]
        return _json({"item_id": item.id, "revision": item.revision, "complete": not bad and not over,
                      "posts": [post_json(p) for p in posts]})

    @_errors
    async def preview(request: Request) -> Response:
        authorize(request, "submit")
        _require_json(request)
        locales = request.query_params.getlist("locale")
        channels = request.query_params.getlist("channel")
        ignore_schedule = _flag(request, "now")
        raw = await _body(request, rt.config.api.max_body_bytes)
        data = _parse_json(raw, "the item")
        return await run_in_threadpool(preview_sync, data, locales, channels, ignore_schedule)

    return Route(PREVIEW_PATH, preview, methods=["POST"])


def preview_openapi(problem: Any, auth_errors: Mapping[str, Any], example: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The path and the schemas ``POST /v1/preview`` adds to the OpenAPI document."""
    text = {"type": "string"}
    post = {
        "type": "object",
        "required": ["region", "locale", "account", "channel", "slot", "scheduled_for", "state", "review_required",
                     "text", "format", "length", "limit", "fits", "link", "title", "parts", "warnings", "sources",
                     "error"],
        "properties": {
            "region": text, "locale": text, "account": text, "channel": text, "slot": {"type": "integer"},
            "scheduled_for": {"type": "string", "format": "date-time", "description": "When it would go out (UTC)"},
            "state": {"type": "string", "enum": ["scheduled", "awaiting_review", "skipped", "held", "failed"],
                      "description": "The state it would start in; held: no translation; failed: cannot be rendered"},
            "review_required": {"type": "boolean", "description": "It would wait for a reviewer (machine text on a "
                                                                  "route that requires review)"},
            "text": text, "format": text, "length": {"type": "integer"},
            "limit": {"type": "integer", "description": "The channel's limit, in its own units (0: none)"},
            "fits": {"type": "boolean"}, "link": text, "title": {"type": ["string", "null"]},
            "parts": {"type": "array", "items": text}, "warnings": {"type": "array", "items": text},
            "sources": {"type": "object", "additionalProperties": text,
                        "description": "Where each field's text came from: source, human, cache, machine"},
            "error": {"type": ["string", "null"], "description": "Why it would not go out (skipped, held, failed)"},
        },
    }
    schemas = {
        "PreviewPost": post,
        "Preview": {"type": "object", "required": ["item_id", "revision", "complete", "posts"],
                    "properties": {"item_id": text, "revision": {"type": "integer"},
                                   "complete": {"type": "boolean",
                                                "description": "Every post has its text and fits its channel"},
                                   "posts": {"type": "array", "items": {"$ref": "#/components/schemas/PreviewPost"}}}},
    }
    multi = {"style": "form", "explode": True, "schema": {"type": "array", "items": text}}
    path = {"post": {
        "operationId": "previewItem",
        "summary": "Every post an item would make, rendered, without storing or sending anything",
        "parameters": [
            {"name": "locale", "in": "query", "required": False, "description": "Only this locale (repeatable)",
             **multi},
            {"name": "channel", "in": "query", "required": False,
             "description": "Only this account or adapter (repeatable)", **multi},
            {"name": "now", "in": "query", "required": False, "description": "Plan every post for now",
             "schema": {"type": "boolean", "default": False}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Item"}, "example": dict(example)}}},
        "responses": {
            "200": {"description": "The posts, per locale and account",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Preview"}}}},
            "413": problem("Body too large"), "415": problem("Body is not JSON"),
            "422": problem("Invalid item (every problem, by field), or an unknown locale or channel"),
            **auth_errors}}}
    return {PREVIEW_PATH: path}, schemas
