"""The HTTP intake API, for producers that are not Python: ``syndicate api`` serves it.

Built on Starlette (ASGI) and served by uvicorn: both small, typed and widely used, and a plain
ASGI app needs nothing else. Handlers are thin: each reads and checks its input, then runs one
core function (``syndicate.submit``, ``Ledger.cancel_item``, the review gate) in a worker thread,
because the ledger is synchronous. The OpenAPI document is written out here, beside the
handlers, and ``tests/integration/test_api_schemathesis.py`` checks the two agree.

Semantics are those of :func:`syndicate.submit`: ``201`` created, ``200`` unchanged (the same id
and revision again) with the plan either way, ``422`` with every problem, ``409`` for a stale
revision or a reused revision with other content. Errors are ``application/problem+json``
(RFC 9457) with a ``problems`` list of ``{field, reason}``.

Auth: ``Authorization: Bearer <token>``; tokens come from ``settings.yaml`` ``api.tokens`` by
``${VAR}`` reference, each with scopes; every configured token is compared in constant time
(``hmac.compare_digest``). The token's name is recorded in the ledger as ``api:<name>``.
Scopes default to ``submit`` and ``read``. A token submits and cancels for itself: an item it did
not submit first is refused with ``403`` unless the token also has the ``admin`` scope.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..base.hints import did_you_mean
from ..base.inputs import InputError, load_json
from ..base.locales import InvalidLocale, canonical
from ..base.logging import get_logger
from ..config.loading import load_config
from ..config.problems import plain_message
from ..errors import ConfigError, ConfigProblem, ContentError, InvalidFilter, NotApproved, NotOwner
from ..ledger.filters import nothing_matched
from ..model.item import InvalidItem, channel_names, parse_item
from ..operations.health import Readiness, broker_check, config_check, ledger_check
from .docs import DOCS_CSP, lifecycle_schemas, lifecycle_webhooks, render_docs

if TYPE_CHECKING:
    from ..ledger import Publication
    from ..model.config import Config
    from ..services import Services
    from .serving import ClientLimits

__all__ = ["MAX_REVISION", "ApiError", "create_app", "openapi_document"]

log = get_logger("syndicate.api")

#: The ledger stores revisions as 32-bit integers.
MAX_REVISION = 2**31 - 1
_ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_CAMPAIGN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")
_LOCALE = re.compile(r"[A-Za-z0-9_-]{2,35}")
_STATES = ("awaiting_review", "scheduled", "enqueued", "calling", "retrying", "in_doubt", "published",
           "unconfirmed", "failed", "cancelled", "skipped", "unpublished")
PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An HTTP error answer: status, a short code, a human title and optional field problems."""

    def __init__(self, status: int, code: str, title: str, problems: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.problems = list(problems)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The problem+json answer."""
        body = {"type": "about:blank", "title": self.title, "status": self.status, "code": self.code,
                "problems": [{"field": f, "reason": r} for f, r in self.problems]}
        return Response(json.dumps(body, ensure_ascii=False), status_code=self.status, media_type=PROBLEM_JSON,
                         headers=self.headers)


# -- request bodies -------------------------------------------------------------------------------

_Text = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")


class CancelRequest(BaseModel):
    """Cancel an item's open publications (optionally only one locale or account)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    locale: str | None = Field(default=None, max_length=35)
    account: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    reason: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")


class UnpublishRequest(BaseModel):
    """Unpublish an item (optionally only one locale or account): delete its posts, cancel the rest."""

    model_config = ConfigDict(extra="forbid", strict=True)
    locale: str | None = Field(default=None, max_length=35)
    account: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")


class ApproveRequest(BaseModel):
    """Release a localization's publications that wait for review."""

    model_config = ConfigDict(extra="forbid", strict=True)
    by: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    revision: int | None = Field(default=None, ge=1, le=MAX_REVISION)


class RejectRequest(ApproveRequest):
    """Cancel a localization's publications that wait for review, with a reason."""

    reason: str = _Text


# -- helpers --------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def publication_json(p: Publication) -> dict[str, Any]:
    """A publication as the API shows it."""
    return {
        "id": p.id, "key": p.key, "item_id": p.item_id, "revision": p.revision, "locale": p.locale,
        "region": p.region, "channel": p.channel, "account": p.account, "slot": p.slot, "campaign": p.campaign,
        "state": p.state, "scheduled_for": _iso(p.scheduled_for), "planned_for": _iso(p.planned_for),
        "published_at": _iso(p.published_at), "permalink": p.permalink, "tagged_url": p.tagged_url,
        "utm": dict(p.utm), "attempts": p.attempts, "last_error": p.last_error,
    }


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=dict(headers or {}))


@dataclass(frozen=True)
class _Token:
    name: str
    value: bytes
    scopes: frozenset[str]


def _tokens(cfg: Config) -> list[_Token]:
    out: list[_Token] = []
    problems: list[ConfigProblem] = []
    where = str(cfg.directory / "settings.yaml")
    for name, tok in cfg.api.tokens.items():
        value = cfg.secrets.lookup(tok.token)
        if value is None or len(value) < 16:
            problems.append(ConfigProblem(where, None, f"api.tokens.{name}.token",
                                          f"environment variable {tok.token.var} must hold a token of at least "
                                          "16 characters"))
            continue
        out.append(_Token(name, value.encode("utf-8"), frozenset(tok.scopes)))
    if problems:
        raise ConfigError(problems)
    if not out:
        raise ConfigError([ConfigProblem(where, None, "api.tokens",
                                         "the API needs at least one token (api.tokens.NAME.token: '${VAR}')")])
    return out


class _Auth:
    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.tokens = list(tokens)
        self.admins = frozenset(t.name for t in self.tokens if "admin" in t.scopes)

    def producer(self, name: str) -> str | None:
        """The producer identity whose ownership token ``name`` is held to; None for an admin."""
        return None if name in self.admins else f"api:{name}"

    def replace(self, tokens: Sequence[_Token]) -> None:
        """Use ``tokens`` from now on (a config reload); one assignment, so a request sees old or new."""
        self.tokens = list(tokens)

    def __call__(self, request: Request, scope: str) -> str:
        header = request.headers.get("authorization", "")
        kind, _, given = header.partition(" ")
        if kind.lower() != "bearer" or not given.strip():
            raise ApiError(401, "unauthorized", "a bearer token is required",
                           headers={"WWW-Authenticate": 'Bearer realm="syndicate"'})
        candidate = given.strip().encode("utf-8")
        found: _Token | None = None
        for tok in self.tokens:  # compare with every token, in constant time each: no early exit
            if hmac.compare_digest(candidate, tok.value):
                found = tok
        if found is None:
            log.warning("api.unauthorized", path=request.url.path, client=request.client.host if request.client
                        else None)
            raise ApiError(401, "unauthorized", "the token is not valid",
                           headers={"WWW-Authenticate": 'Bearer realm="syndicate", error="invalid_token"'})
        if scope not in found.scopes:
            raise ApiError(403, "forbidden", f"this token may not {scope}")
        return found.name


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"the request body is larger than {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"the request body is larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _require_json(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")


def _parse_json(raw: bytes, what: str) -> Any:
    try:
        return load_json(raw, what).data
    except InputError as exc:
        where = f"line {exc.line}, column {exc.column}: " if exc.line is not None and exc.column is not None else ""
        raise ApiError(422, "invalid_json", f"{what} is not valid JSON", [(exc.field, where + exc.reason)]) from None


def _small_body(raw: bytes, model: type[BaseModel], *, optional: bool = False) -> Any:
    if not raw.strip() and optional:
        return model()
    data = _parse_json(raw, "the request body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [(".".join(str(p) for p in e["loc"]), plain_message(e, model)) for e in exc.errors()]
        raise ApiError(422, "invalid_request", "the request body is invalid", problems) from None


def _unknown(value: str, allowed: Sequence[str], what: str = "value") -> str:
    """Why ``value`` (a ``what``) is refused: the values allowed, and the one probably meant."""
    guess = did_you_mean(value, allowed)
    return (f"unknown {what} {value[:50]!r}; allowed: {', '.join(allowed)}"
            + (f"; did you mean {guess!r}?" if guess else ""))


def _item_id(request: Request) -> str:
    item_id = str(request.path_params["item_id"])
    if not _ITEM_ID.fullmatch(item_id):
        raise ApiError(404, "not_found", "no such item")
    return item_id


def _int_param(request: Request, name: str, *, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not low <= int(raw) <= high:
        raise ApiError(422, "invalid_request", f"{name} must be an integer from {low} to {high}", [(name, raw[:50])])
    return int(raw)


def _locale(raw: str) -> str:
    if not _LOCALE.fullmatch(raw):
        raise ApiError(422, "invalid_request", "invalid locale", [("locale", raw[:50])])
    try:
        return canonical(raw)
    except InvalidLocale as exc:
        raise ApiError(422, "invalid_request", "invalid locale", [("locale", str(exc))]) from None


Handler = Callable[[Request], Awaitable[Response]]


def _errors(fn: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as exc:
            return exc.response()

    return wrapped


# -- the app --------------------------------------------------------------------------------------


def create_app(rt: Services, *, readiness: Readiness | None = None) -> Starlette:
    """The API bound to ``rt`` (its config, ledger and broker).

    Raises:
        ConfigError: no API token is configured, or a token's variable is unset or too short.
    """
    from .preview import preview_route

    auth = _Auth(_tokens(rt.config))
    limit = rt.config.api.max_body_bytes
    ready = readiness or Readiness([broker_check(rt.broker_url), ledger_check(rt.ledger),
                                    config_check(functools.partial(load_config, rt.config.directory,
                                                                   check_secrets=False))])
    doc = openapi_document()

    def forbidden() -> ApiError:
        return ApiError(403, "not_owner", "the item belongs to another producer",
                        [("id", "submitted by another token; only it, an admin token or an operator may supersede "
                                "or cancel it")])

    def submit_sync(data: Any, producer: str) -> Response:
        from ..intake.producer import log_refused, submit

        try:
            item = parse_item(data, limits=rt.config.intake_limits, source="request body",
                              channels=channel_names(rt.config.registry.names(), rt.config.accounts))
        except InvalidItem as exc:
            log_refused(exc, actor=f"api:{producer}", data=data)
            raise ApiError(422, "invalid_item", "the item is invalid", exc.problems) from None
        except NotApproved as exc:
            log_refused(exc, actor=f"api:{producer}", data=data)
            raise ApiError(422, "not_approved", "the item is not approved", [(exc.field or "approved", exc.reason)]
                           ) from None
        if item.revision > MAX_REVISION:
            raise ApiError(422, "invalid_item", "the item is invalid",
                           [("revision", f"must be at most {MAX_REVISION}")])
        try:
            sub = submit(item, runtime=rt, actor=f"api:{producer}", producer=auth.producer(producer))
        except NotOwner:
            raise forbidden() from None
        except ContentError as exc:
            if exc.field == "revision":
                raise ApiError(409, "revision_conflict", exc.reason, [("revision", exc.reason)]) from None
            raise ApiError(422, "invalid_item", "the item cannot be planned", [(exc.field or "", exc.reason)]
                           ) from None
        body = {"status": sub.status, "item_id": sub.item_id, "revision": sub.revision,
                "superseded": sub.superseded, "publications": [publication_json(p) for p in sub.publications]}
        return _json(body, 201 if sub.status == "created" else 200,
                     {"Location": f"/v1/items/{sub.item_id}/publications?revision={sub.revision}"})

    @_errors
    async def submit_item(request: Request) -> Response:
        producer = auth(request, "submit")
        _require_json(request)
        raw = await _body(request, limit)
        data = _parse_json(raw, "the item")
        return await run_in_threadpool(submit_sync, data, producer)

    def item_publications_sync(item_id: str, revision: int | None) -> Response:
        stored = rt.ledger.item(item_id, revision)
        if stored is None:
            raise ApiError(404, "not_found", "no such item" if revision is None else "no such revision")
        pubs = rt.ledger.publications(item_id=item_id, revision=stored.item.revision)
        return _json({"item_id": item_id, "revision": stored.item.revision, "state": stored.state,
                      "campaign": stored.item.campaign, "publications": [publication_json(p) for p in pubs]})

    @_errors
    async def item_publications(request: Request) -> Response:
        auth(request, "read")
        item_id = _item_id(request)
        revision = _int_param(request, "revision", default=None, low=1, high=MAX_REVISION)
        return await run_in_threadpool(item_publications_sync, item_id, revision)

    def item_clicks_sync(item_id: str) -> Response:
        from ..operations.clicks_report import item_clicks

        if rt.ledger.item(item_id) is None:
            raise ApiError(404, "not_found", "no such item")
        return _json(item_clicks(rt, item_id))

    @_errors
    async def clicks(request: Request) -> Response:
        auth(request, "read")
        item_id = _item_id(request)
        return await run_in_threadpool(item_clicks_sync, item_id)

    def cancel_sync(item_id: str, req: CancelRequest, producer: str) -> Response:
        from ..intake.producer import cancel as cancel_item

        if rt.ledger.item(item_id) is None:
            raise ApiError(404, "not_found", "no such item")
        locale = _locale(req.locale) if req.locale else None
        try:
            done = cancel_item(item_id, locale=locale, account=req.account, runtime=rt, actor=f"api:{producer}",
                               reason=req.reason or f"cancelled through the API by {producer}",
                               producer=auth.producer(producer))
        except NotOwner:
            raise forbidden() from None
        except InvalidFilter as exc:
            raise ApiError(422, "invalid_request", f"unknown {exc.field}", [(exc.field or "", str(exc))]) from None
        ids = [p.id for p in done.cancelled]
        log.info("api.cancelled", item=item_id, locale=locale, account=req.account, publications=len(ids))
        body: dict[str, Any] = {"item_id": item_id, "cancelled": ids}
        if not ids and not done.in_flight:
            body["note"] = "nothing left to cancel: every publication has gone out, failed, or was cancelled or skipped"
        return _json(body)

    @_errors
    async def cancel(request: Request) -> Response:
        producer = auth(request, "cancel")
        item_id = _item_id(request)
        raw = await _body(request, limit)
        if raw.strip():
            _require_json(request)
        req = _small_body(raw, CancelRequest, optional=True)
        return await run_in_threadpool(cancel_sync, item_id, req, producer)

    def unpublish_sync(item_id: str, req: UnpublishRequest, producer: str) -> Response:
        from ..intake.unpublish import unpublish as unpublish_item

        if rt.ledger.item(item_id) is None:
            raise ApiError(404, "not_found", "no such item")
        locale = _locale(req.locale) if req.locale else None
        try:
            done = unpublish_item(item_id, locale=locale, account=req.account, runtime=rt, actor=f"api:{producer}",
                                  producer=auth.producer(producer))
        except NotOwner:
            raise forbidden() from None
        except InvalidFilter as exc:
            raise ApiError(422, "invalid_request", f"unknown {exc.field}", [(exc.field or "", str(exc))]) from None

        def op_json(op: Any) -> dict[str, Any]:
            return {"operation": op.id, "locale": op.locale, "account": op.account, "remote_id": op.remote_id,
                    "state": op.state}

        body: dict[str, Any] = {
            "item_id": item_id, "deleting": [op_json(o) for o in done.deleting],
            "in_progress": [op_json(o) for o in done.in_progress],
            "already_unpublished": [p.id for p in done.already_unpublished],
            "unsupported": [{"publication": p.id, "account": p.account, "permalink": p.permalink}
                            for p in done.unsupported],
            "cancelled": [p.id for p in done.cancellation.cancelled]}
        if done.nothing_to_do and not done.in_progress:
            body["note"] = "nothing to do: already unpublished (no call made)"
        log.info("api.unpublished", item=item_id, locale=locale, account=req.account, deleting=len(done.deleting))
        return _json(body, 202 if done.deleting else 200)

    @_errors
    async def unpublish(request: Request) -> Response:
        producer = auth(request, "cancel")
        item_id = _item_id(request)
        raw = await _body(request, limit)
        if raw.strip():
            _require_json(request)
        req = _small_body(raw, UnpublishRequest, optional=True)
        return await run_in_threadpool(unpublish_sync, item_id, req, producer)

    def review_sync(item_id: str, locale: str, req: ApproveRequest, approve: bool, producer: str) -> Response:
        if rt.ledger.item(item_id, req.revision) is None:
            raise ApiError(404, "not_found", "no such item" if req.revision is None else "no such revision")
        reason = req.reason if isinstance(req, RejectRequest) else None
        try:
            moved = decide_review(rt, item_id, locale, approve=approve, by=req.by, reason=reason,
                                  revision=req.revision, actor=f"api:{producer}")
        except ContentError as exc:
            raise ApiError(422, "invalid_request", str(exc), [(exc.field or "", exc.reason)]) from None
        return _json({"item_id": item_id, "locale": locale, "decision": "approved" if approve else "rejected",
                      "publications": [publication_json(p) for p in moved]})

    def review_endpoint(approve: bool) -> Handler:
        @_errors
        async def endpoint(request: Request) -> Response:
            producer = auth(request, "review")
            item_id = _item_id(request)
            locale = _locale(str(request.path_params["locale"]))
            _require_json(request)
            raw = await _body(request, limit)
            req = _small_body(raw, ApproveRequest if approve else RejectRequest)
            return await run_in_threadpool(review_sync, item_id, locale, req, approve, producer)

        return endpoint

    def campaign_sync(campaign: str, states: list[str] | None, limit_n: int, offset: int) -> Response:
        if not rt.ledger.distinct_values("campaign", campaign=campaign):
            raise ApiError(404, "not_found", f"no publications in campaign {campaign!r}")
        pubs = rt.ledger.publications(campaign=campaign, state=states)
        body: dict[str, Any] = {"campaign": campaign, "total": len(pubs), "offset": offset, "limit": limit_n,
                                "publications": [publication_json(p) for p in pubs[offset:offset + limit_n]]}
        if not pubs:
            body["note"] = nothing_matched("publications", {"campaign": campaign, "state": states})
        return _json(body)

    @_errors
    async def campaign_publications(request: Request) -> Response:
        auth(request, "read")
        campaign = str(request.path_params["campaign"])
        states = request.query_params.getlist("state") or None
        if states is not None:
            bad = [s for s in states if s not in _STATES]
            if bad:
                raise ApiError(422, "invalid_request", "unknown state",
                               [("state", _unknown(s, _STATES, "state")) for s in bad])
        limit_n = _int_param(request, "limit", default=500, low=1, high=5000)
        offset = _int_param(request, "offset", default=0, low=0, high=10_000_000)
        assert limit_n is not None and offset is not None
        if not _CAMPAIGN.fullmatch(campaign):
            raise ApiError(404, "not_found", "no publications in this campaign")
        return await run_in_threadpool(campaign_sync, campaign, states, limit_n, offset)

    async def openapi(_request: Request) -> Response:
        return _json(doc)

    docs_page = render_docs(doc)

    async def docs(_request: Request) -> Response:
        return HTMLResponse(docs_page, headers={"Content-Security-Policy": DOCS_CSP})

    async def healthz(_request: Request) -> Response:
        return _json({"status": "alive"})

    async def readyz(_request: Request) -> Response:
        results = await run_in_threadpool(ready.run)
        ok = all(r.ok for r in results)
        return _json({"status": "ready" if ok else "not ready",
                      "checks": {r.name: {"ok": r.ok, "detail": r.detail} for r in results}}, 200 if ok else 503)

    routes = [
        Route("/v1/items", submit_item, methods=["POST"]),
        Route("/v1/items/{item_id}/publications", item_publications, methods=["GET"]),
        Route("/v1/items/{item_id}/cancel", cancel, methods=["POST"]),
        Route("/v1/items/{item_id}/unpublish", unpublish, methods=["POST"]),
        Route("/v1/items/{item_id}/clicks", clicks, methods=["GET"]),
        Route("/v1/items/{item_id}/locales/{locale}/approve", review_endpoint(True), methods=["POST"]),
        Route("/v1/items/{item_id}/locales/{locale}/reject", review_endpoint(False), methods=["POST"]),
        Route("/v1/campaigns/{campaign}/publications", campaign_publications, methods=["GET"]),
        preview_route(rt, auth),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return ApiError(404, "not_found", "no such resource").response()

    async def not_allowed(request: Request, exc: Exception) -> Response:
        allowed = sorted(m.strip() for m in getattr(exc, "headers", {}).get("Allow", "").split(",") if m.strip())
        return ApiError(405, "method_not_allowed", f"{request.method} is not allowed here; allowed: "
                        f"{', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}).response()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    # For syndicate.config.reload (SIGHUP): a config without a valid token is refused; a valid one's
    # tokens apply at once.
    app.state.config_checks = [_tokens]
    app.state.on_config_reload = [lambda cfg: auth.replace(_tokens(cfg))]
    return app


def decide_review(rt: Services, item_id: str, locale: str, *, approve: bool, by: str, reason: str | None,
                  revision: int | None, actor: str | None = None) -> list[Publication]:
    """Approve or reject a localization's publications waiting in ``awaiting_review``.

    Uses the review gate (``syndicate.localization.review``); where it is not installed, makes the same two
    ledger transitions itself: ``awaiting_review`` → ``scheduled`` (ready) or → ``cancelled``.
    ``actor`` (``api:<token name>``) is recorded as who decided; ``by`` as the name they gave.
    """
    try:
        from ..localization import review
    except ImportError:  # pragma: no cover - the review gate ships with syndicate
        return _decide_review_here(rt, item_id, locale, approve=approve, by=by, reason=reason, revision=revision,
                                   actor=actor)
    if approve:
        return review.approve_review(rt.ledger, item_id, locale, by=by, revision=revision, actor=actor)
    return review.reject_review(rt.ledger, item_id, locale, by=by, reason=reason or "", revision=revision,
                                actor=actor)


def _decide_review_here(rt: Services, item_id: str, locale: str, *, approve: bool, by: str, reason: str | None,
                        revision: int | None, actor: str | None = None) -> list[Publication]:
    from ..model.states import PublicationState as S

    stored = rt.ledger.item(item_id, revision)
    if stored is None:
        raise ContentError("item not found in the ledger", item_id=item_id)
    out: list[Publication] = []
    for p in rt.ledger.publications(item_id=item_id, revision=stored.item.revision, locale=locale,
                                    state=S.AWAITING_REVIEW.value):
        if approve:
            moved = rt.ledger.transition(p.id, S.SCHEDULED, expect=(S.AWAITING_REVIEW,),
                                         actor=actor or f"reviewer:{by}", kind="approved", detail={"reviewer": by},
                                         ready=True)
        else:
            moved = rt.ledger.transition(p.id, S.CANCELLED, expect=(S.AWAITING_REVIEW,),
                                         actor=actor or f"reviewer:{by}", kind="rejected",
                                         error=f"rejected in review by {by}: {reason}",
                                         detail={"reviewer": by, "reason": reason})
        if moved is not None:
            out.append(moved)
    return out


# -- the OpenAPI document -------------------------------------------------------------------------


def _item_schemas() -> dict[str, Any]:
    from ..model.item import ContentItem

    schema = ContentItem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    schema["properties"]["revision"]["maximum"] = MAX_REVISION
    schema["properties"]["approved"] = {"const": True, "description": "must be literally true"}
    return {"Item": schema, **defs}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


_EXAMPLE_ITEM = {
    "id": "spring-launch", "revision": 1, "source_locale": "en-US", "title": "Spring launch",
    "summary": "What is new this spring.", "body": "Read all about it.", "canonical_url": "https://example.com/spring",
    "campaign": "spring", "approved": True, "approved_by": "editor@example.com", "approved_at": "2026-03-01T09:00:00Z",
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API (served at ``/openapi.json``)."""
    item_id = {"name": "item_id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"}}
    locale = {"name": "locale", "in": "path", "required": True, "description": "BCP 47 tag, e.g. de-DE",
              "schema": {"type": "string", "minLength": 2, "maxLength": 35}}
    auth_errors = {"401": _problem("Missing or invalid bearer token"),
                   "403": _problem("Token lacks the scope, or the item belongs to another producer")}
    _pubs = {"type": "array", "items": {"$ref": "#/components/schemas/Publication"}}
    pub_list = {"type": "object", "required": ["item_id", "revision", "state", "campaign", "publications"],
                "properties": {"item_id": {"type": "string"}, "revision": {"type": "integer"},
                               "state": {"type": "string", "enum": ["active", "superseded", "cancelled"]},
                               "campaign": {"type": "string"},
                               "publications": _pubs}}
    nullable_str = {"type": ["string", "null"]}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    schemas: dict[str, Any] = {
        **_item_schemas(),
        "Publication": {
            "type": "object",
            "required": ["id", "key", "item_id", "revision", "locale", "region", "channel", "account", "slot",
                         "campaign", "state", "scheduled_for", "planned_for", "published_at", "permalink",
                         "tagged_url", "utm", "attempts", "last_error"],
            "properties": {
                "id": {"type": "integer"}, "key": {"type": "string"}, "item_id": {"type": "string"},
                "revision": {"type": "integer"}, "locale": {"type": "string"}, "region": {"type": "string"},
                "channel": {"type": "string"}, "account": {"type": "string"}, "slot": {"type": "integer"},
                "campaign": {"type": "string"}, "state": {"type": "string", "enum": list(_STATES)},
                "scheduled_for": {"type": "string", "format": "date-time"},
                "planned_for": {"type": "string", "format": "date-time"}, "published_at": nullable_time,
                "permalink": nullable_str, "tagged_url": {"type": "string"},
                "utm": {"type": "object", "additionalProperties": {"type": "string"}},
                "attempts": {"type": "integer"}, "last_error": nullable_str,
            },
        },
        "ItemClicks": {
            "type": "object", "required": ["item_id", "publications"],
            "properties": {"item_id": {"type": "string"}, "publications": {"type": "array", "items": {
                "type": "object",
                "required": ["publication_id", "revision", "locale", "account", "channel", "slot", "state", "code",
                             "short_link", "tagged_url", "human", "bot", "hours"],
                "properties": {
                    "publication_id": {"type": "integer"}, "revision": {"type": "integer"},
                    "locale": {"type": "string"}, "account": {"type": "string"}, "channel": {"type": "string"},
                    "slot": {"type": "integer"}, "state": {"type": "string", "enum": list(_STATES)},
                    "code": nullable_str, "short_link": nullable_str, "tagged_url": {"type": "string"},
                    "human": {"type": "integer", "description": "Clicks by people, all time"},
                    "bot": {"type": "integer",
                            "description": "Requests by crawlers, link previewers and HEAD requests, all time"},
                    "hours": {"type": "array", "items": {
                        "type": "object", "required": ["hour", "human", "bot"],
                        "properties": {"hour": {"type": "string", "format": "date-time"},
                                       "human": {"type": "integer"}, "bot": {"type": "integer"}}}}}}}},
        },
        "Submission": {
            "type": "object", "required": ["status", "item_id", "revision", "superseded", "publications"],
            "properties": {"status": {"type": "string", "enum": ["created", "unchanged"]},
                           "item_id": {"type": "string"}, "revision": {"type": "integer"},
                           "superseded": {"type": "array", "items": {"type": "integer"}},
                           "publications": {"type": "array", "items": {"$ref": "#/components/schemas/Publication"}}},
        },
        "ItemPublications": pub_list,
        "CampaignPublications": {
            "type": "object", "required": ["campaign", "total", "offset", "limit", "publications"],
            "properties": {"campaign": {"type": "string"}, "total": {"type": "integer"},
                           "offset": {"type": "integer"}, "limit": {"type": "integer"},
                           "publications": {"type": "array", "items": {"$ref": "#/components/schemas/Publication"}},
                           "note": {"type": "string",
                                    "description": "Present when the state filter matches nothing"}},
        },
        "CancelRequest": CancelRequest.model_json_schema(),
        "Cancelled": {"type": "object", "required": ["item_id", "cancelled"],
                      "properties": {"item_id": {"type": "string"},
                                     "cancelled": {"type": "array", "items": {"type": "integer"}},
                                     "note": {"type": "string",
                                              "description": "Present when nothing was left to cancel"}}},
        "UnpublishRequest": UnpublishRequest.model_json_schema(),
        "Unpublishing": {
            "type": "object",
            "required": ["item_id", "deleting", "in_progress", "already_unpublished", "unsupported", "cancelled"],
            "properties": {
                "item_id": {"type": "string"},
                "deleting": {"type": "array", "items": {"$ref": "#/components/schemas/Operation"},
                             "description": "Deletes asked for now, one per live post; the workers carry them out"},
                "in_progress": {"type": "array", "items": {"$ref": "#/components/schemas/Operation"},
                                "description": "Deletes asked for earlier and not finished (no new call)"},
                "already_unpublished": {"type": "array", "items": {"type": "integer"},
                                        "description": "Publications whose post was already deleted"},
                "unsupported": {"type": "array", "items": {
                    "type": "object", "required": ["publication", "account", "permalink"],
                    "properties": {"publication": {"type": "integer"}, "account": {"type": "string"},
                                   "permalink": {"type": ["string", "null"]}}},
                                "description": "Live posts on channels that cannot delete: remove them by hand"},
                "cancelled": {"type": "array", "items": {"type": "integer"},
                              "description": "Publications cancelled before they went out"},
                "note": {"type": "string", "description": "Present when there was nothing to do"}}},
        "Operation": {
            "type": "object", "required": ["operation", "locale", "account", "remote_id", "state"],
            "properties": {"operation": {"type": "integer"}, "locale": {"type": "string"},
                           "account": {"type": "string"}, "remote_id": {"type": "string"},
                           "state": {"type": "string", "enum": ["pending", "calling", "retrying", "in_doubt", "done",
                                                                "failed", "unconfirmed"]}}},
        "ApproveRequest": ApproveRequest.model_json_schema(),
        "RejectRequest": RejectRequest.model_json_schema(),
        "ReviewDecision": {
            "type": "object", "required": ["item_id", "locale", "decision", "publications"],
            "properties": {"item_id": {"type": "string"}, "locale": {"type": "string"},
                           "decision": {"type": "string", "enum": ["approved", "rejected"]},
                           "publications": {"type": "array", "items": {"$ref": "#/components/schemas/Publication"}}},
        },
        "Problem": {
            "type": "object", "required": ["type", "title", "status", "code", "problems"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                           "code": {"type": "string"},
                           "problems": {"type": "array", "items": {
                               "type": "object", "required": ["field", "reason"],
                               "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}}},
        },
        "Health": {"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string"}, "checks": {"type": "object"}}},
        **lifecycle_schemas(),
    }

    def body(ref: str, required: bool = True) -> dict[str, Any]:
        schema = {"$ref": f"#/components/schemas/{ref}"}
        return {"required": required, "content": {"application/json": {"schema": schema}}}

    def ok(ref: str, description: str) -> dict[str, Any]:
        return {"description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}

    from .preview import preview_openapi

    preview_paths, preview_schemas = preview_openapi(_problem, auth_errors, _EXAMPLE_ITEM)
    schemas.update(preview_schemas)
    review_common = {"404": _problem("No such item or revision"), "413": _problem("Body too large"),
                     "415": _problem("Body is not JSON"), "422": _problem("Invalid locale or body"), **auth_errors}
    return {
        "openapi": "3.1.0",
        "info": {"title": "syndicate intake API", "version": "1",
                 "description": "Submit approved content items, preview their posts, follow their publications, "
                                "cancel them, and decide the review gate. See docs/api.md."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "security": [{"bearer": []}],
        "webhooks": lifecycle_webhooks(),
        "paths": {
            "/v1/items": {"post": {
                "operationId": "submitItem", "summary": "Submit an item (same semantics as syndicate.submit)",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Item"}, "example": _EXAMPLE_ITEM}}},
                "responses": {
                    "201": {**ok("Submission", "Stored and planned"),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "200": {**ok("Submission", "Already submitted with this revision: the existing plan"),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "409": _problem("Stale revision, or this revision was submitted with other content"),
                    "413": _problem("Body too large"), "415": _problem("Body is not JSON"),
                    "422": _problem("Invalid item: every problem, by field"), **auth_errors}}},
            "/v1/items/{item_id}/publications": {"get": {
                "operationId": "itemPublications", "summary": "An item's publications (newest revision by default)",
                "parameters": [item_id, {"name": "revision", "in": "query", "required": False,
                                         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_REVISION}}],
                "responses": {"200": ok("ItemPublications", "The item and its publications"),
                              "404": _problem("No such item or revision"),
                              "422": _problem("Invalid query"), **auth_errors}}},
            "/v1/items/{item_id}/cancel": {"post": {
                "operationId": "cancelItem", "summary": "Cancel the open publications of the item's active revision",
                "parameters": [item_id], "requestBody": body("CancelRequest", required=False),
                "responses": {"200": ok("Cancelled", "The publications cancelled (may be none)"),
                              "404": _problem("No such item"), "413": _problem("Body too large"),
                              "415": _problem("Body is not JSON"),
                              "422": _problem("Invalid body, or a locale or account the item has no publication "
                                              "for (the reason lists the ones it has)"), **auth_errors}}},
            "/v1/items/{item_id}/unpublish": {"post": {
                "operationId": "unpublishItem",
                "summary": "Delete the item's posts that went out and cancel the rest (scoped like cancel)",
                "parameters": [item_id], "requestBody": body("UnpublishRequest", required=False),
                "responses": {"202": ok("Unpublishing", "Deletes asked for; the workers carry them out"),
                              "200": ok("Unpublishing", "Nothing new to delete: already unpublished or under way"),
                              "404": _problem("No such item"), "413": _problem("Body too large"),
                              "415": _problem("Body is not JSON"),
                              "422": _problem("Invalid body, or a locale or account the item has no publication "
                                              "for (the reason lists the ones it has)"), **auth_errors}}},
            "/v1/items/{item_id}/clicks": {"get": {
                "operationId": "itemClicks",
                "summary": "Short-link clicks of the item's publications (every revision), per hour",
                "parameters": [item_id],
                "responses": {"200": ok("ItemClicks", "Each publication with a short link or clicks, and its "
                                                      "counts per hour (UTC)"),
                              "404": _problem("No such item"), **auth_errors}}},
            "/v1/items/{item_id}/locales/{locale}/approve": {"post": {
                "operationId": "approveReview", "summary": "Release a localization waiting for review",
                "parameters": [item_id, locale], "requestBody": body("ApproveRequest"),
                "responses": {"200": ok("ReviewDecision", "The publications released (may be none)"),
                              **review_common}}},
            "/v1/items/{item_id}/locales/{locale}/reject": {"post": {
                "operationId": "rejectReview", "summary": "Reject a localization waiting for review",
                "parameters": [item_id, locale], "requestBody": body("RejectRequest"),
                "responses": {"200": ok("ReviewDecision", "The publications cancelled (may be none)"),
                              **review_common}}},
            "/v1/campaigns/{campaign}/publications": {"get": {
                "operationId": "campaignPublications", "summary": "Publications of a campaign",
                "parameters": [
                    {"name": "campaign", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "state", "in": "query", "required": False, "style": "form", "explode": True,
                     "schema": {"type": "array", "items": {"type": "string", "enum": list(_STATES)}}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}},
                    {"name": "offset", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}}],
                "responses": {"200": ok("CampaignPublications", "A page of the campaign's publications"),
                              "404": _problem("No publication in this campaign"),
                              "422": _problem("Invalid query (an unknown state: the reason lists the states)"),
                              **auth_errors}}},
            **preview_paths,
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1",
                                                            "content": {"application/json": {"schema": {
                                                                "type": "object"}}}}}}},
            "/docs": {"get": {"operationId": "docs", "summary": "This document as a page (works offline)",
                              "security": [],
                              "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {
                                  "type": "string"}}}}}}},
            "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness", "security": [],
                                 "responses": {"200": ok("Health", "The process answers")}}},
            "/readyz": {"get": {"operationId": "readyz", "summary": "Readiness: broker, ledger, config",
                                "security": [],
                                "responses": {"200": ok("Health", "Ready"), "503": ok("Health", "Not ready")}}},
        },
    }


def serve(rt: Services, *, host: str, port: int, log_level: str = "info", limits: ClientLimits | None = None) -> None:
    """Run the API with uvicorn until SIGTERM/SIGINT (uvicorn handles those), with deadlines and
    per-client limits against slow clients (:mod:`syndicate.api.serving`); reload the config on SIGHUP
    (:mod:`syndicate.config.reload`)."""
    import uvicorn

    from ..config.reload import ConfigReloader
    from .serving import server_config

    app = create_app(rt)
    ConfigReloader(rt, check_secrets=False, checks=app.state.config_checks,
                   on_reload=app.state.on_config_reload).install()
    config = server_config(app, host=host, port=port, log_level=log_level, limits=limits)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises the Ctrl-C again once it has shut down cleanly
        uvicorn.Server(config).run()
