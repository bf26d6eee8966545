"""Partner webhooks: each publication is one JSON POST, signed per Standard Webhooks.

Headers (Standard Webhooks 1.0, checked against ``standardwebhooks`` 1.1 and its spec):

* ``webhook-id``: ``msg_`` + 32 hex digits of a hash of the publication key. The same for every
  attempt of a publication, different for every publication (a new revision, another locale,
  another account, an evergreen repeat), so the receiver dedupes retries on it.
* ``webhook-timestamp``: the send time of this attempt, in integer Unix seconds.
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the
  account's ``secret`` (``whsec_`` + base64 of 24 to 64 random bytes); during a secret rotation,
  also a second ``v1,`` signature with ``previous_secret``, space-separated.

The body is the rendered payload byte for byte (what ``syndicate preview`` shows); see
``docs/channels/webhooks.md`` for its schema. A repeat is deduplicated by the receiver, so
``publish`` is ``idempotent``: ambiguous failures (timeouts after sending, resets, 5xx) are retried
with the same ``webhook-id``, never reconciled.

Status handling, through the kit's one table (:mod:`syndicate.channels.errormap`): 2xx delivered;
410 Gone disables the account (:class:`~syndicate.errors.EndpointGone`); 401/403 are an
:class:`~syndicate.errors.AuthError`; 429 (and 503 with ``Retry-After``) defer; 3xx and other 4xx
are permanent (redirects are not followed: the spec asks senders to update the URL instead); 408
and other 5xx are retried (in doubt or transient: the receiver dedupes a repeat either way).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import string
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from standardwebhooks import Webhook

from syndicate.base.fields import validate_url
from syndicate.channels import (
    AuthError,
    Capability,
    ConfigError,
    ConfigProblem,
    HttpAdapter,
    InDoubt,
    Limits,
    Outcome,
    PermanentError,
    PostContent,
    PublicationRef,
    Receipt,
    Rendered,
    Safety,
    StatusMap,
    TransientError,
    WebUrl,
    answer_complete,
    body_html,
    bounded_session,
    get_logger,
)

__all__ = ["PAYLOAD_SCHEMA_VERSION", "WebhookAdapter", "WebhookOptions", "sign", "webhook_id_for"]

log = get_logger("adapters.webhooks")

#: Version of the payload schema (``schema_version`` in every payload). Bumped on any change
#: that is not a pure addition.
PAYLOAD_SCHEMA_VERSION = 1
#: Secret sizes allowed by the Standard Webhooks spec, in bytes.
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
_SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every Standard Webhooks secret, not a secret
#: Wait this long after a 429 without a usable ``Retry-After``.
DEFAULT_RETRY_AFTER = timedelta(seconds=60)
#: Statuses of a redirect, which is never followed.
_REDIRECTS = (300, 301, 302, 303, 304, 305, 307, 308)


class WebhookOptions(BaseModel):
    """Options of a partner webhook account.

    Attributes:
        url: the receiver's endpoint; default: the account's ``base_url``.
        status_url: a URL template with ``{webhook_id}`` where the receiver answers 200 for a
            message it received and 404 for one it did not; used to reconcile (optional).
        event_type: the payload's ``type``.
        updated_event_type: the ``type`` of a new revision of a publication the receiver has.
        deleted_event_type: the ``type`` of the message that withdraws a publication (``unpublish``).
        max_payload_bytes: the largest body sent; larger payloads fail before any call.
        max_response_bytes: how much of an answer is read (the rest is ignored).
        markdown: ``html``: the body goes out as sanitized HTML (``body_html``); ``both`` also
            sends the source Markdown (``body_markdown``) for receivers that render their own.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    url: WebUrl | None = None
    status_url: str | None = None
    event_type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$",
                                                 max_length=100)] = "content.published"
    updated_event_type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$",
                                                         max_length=100)] = "content.updated"
    deleted_event_type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$",
                                                         max_length=100)] = "content.deleted"
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024, le=10 * 1024 * 1024)
    max_response_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    markdown: Literal["html", "both"] = "html"

    @field_validator("status_url")
    @classmethod
    def _status_template(cls, v: str | None) -> str | None:
        if v is None:
            return v
        fields = [f for _, f, _, _ in string.Formatter().parse(v) if f is not None]
        if fields != ["webhook_id"]:
            raise ValueError("must contain '{webhook_id}' exactly once and no other {placeholder}")
        validate_url(v.replace("{webhook_id}", "msg_0"))
        return v


def webhook_id_for(publication_key: str) -> str:
    """The ``webhook-id`` of a publication: stable across attempts, unique per publication."""
    return "msg_" + hashlib.sha256(f"syndicate-webhook:{publication_key}".encode()).hexdigest()[:32]


def _secret_bytes(value: str, name: str, account: str) -> bytes:
    if not value.startswith(_SECRET_PREFIX):
        raise AuthError(f"account {account!r}: credential {name!r} must be a Standard Webhooks secret "
                        "('whsec_' followed by base64)")
    try:
        raw = base64.b64decode(value[len(_SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise AuthError(f"account {account!r}: credential {name!r} is not valid base64 after 'whsec_'") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise AuthError(f"account {account!r}: credential {name!r} decodes to {len(raw)} bytes; Standard "
                        f"Webhooks secrets are {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes")
    return raw


def sign(secrets: list[bytes], webhook_id: str, timestamp_s: int, body: str) -> str:
    """The ``webhook-signature`` value: one ``v1,`` signature per secret, space-separated.

    ``standardwebhooks.Webhook.sign`` reads its datetime with ``replace(tzinfo=UTC)``, which
    would shift any non-UTC aware time; it is given a UTC time built from the integer seconds.
    """
    at = datetime.fromtimestamp(timestamp_s, UTC)
    return " ".join(Webhook(s).sign(msg_id=webhook_id, timestamp=at, data=body) for s in secrets)


def _utm(link: str) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(urlsplit(link).query, keep_blank_values=True) if k.startswith("utm_")}


class WebhookAdapter(HttpAdapter[WebhookOptions]):
    """Posts each publication as a signed JSON message to a partner's endpoint."""

    name = "webhooks"
    required_credentials = ("secret",)
    publish_safety = Safety.IDEMPOTENT
    #: A revision is an ``updated`` message, ``unpublish`` a ``deleted`` one (receivers dedupe both).
    capabilities = frozenset({Capability.UPDATE, Capability.DELETE})
    default_utm_medium = "partner"
    #: 410 disables the account; a receiver's 408 timed out while it may have handled the message.
    statuses = StatusMap(
        platform="the webhook endpoint",
        statuses={408: Outcome.MAYBE, 410: Outcome.GONE},
        messages={
            401: "{platform} refused our signature or credentials ({what})",
            403: "{platform} refused our signature or credentials ({what})",
            429: "{platform} asked us to wait ({what})",
            **dict.fromkeys(_REDIRECTS, "{platform} redirects to {location} ({what}); redirects are not followed, "
                                        "update the account's url"),
        },
        default_wait=DEFAULT_RETRY_AFTER)

    @property
    def limits(self) -> Limits:
        """The payload cap, in UTF-8 bytes."""
        return Limits(max_length=self.options.max_payload_bytes, counter=lambda s: len(s.encode("utf-8")),
                      max_media=100)

    @property
    def url(self) -> str:
        """The endpoint: option ``url``, else the account's ``base_url``."""
        url = self.options.url or self.account.base_url
        if not url:
            raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{self.account.id}",
                                             "a webhooks account needs options.url or base_url")])
        return url

    # -- render --------------------------------------------------------------------------

    def payload(self, content: PostContent) -> dict[str, Any]:
        """The message body as data (see ``docs/channels/webhooks.md``)."""
        html = body_html(content.body, content.body_format)
        data: dict[str, Any] = {
            "item": {"id": content.item_id, "revision": content.revision},
            "locale": content.locale,
            "dir": "rtl" if content.rtl else "ltr",
            "title": content.title,
            "summary": content.summary,
            "text": content.channel_text or content.variant,
            "body_html": html,
            "link": content.link,
            "canonical_url": content.canonical_url,
            "cta": {"text": content.cta_text, "url": content.cta_url or content.link} if content.cta_text else None,
            "tags": list(content.tags),
            "media": [{"url": m.url, "alt": m.alt, "kind": m.kind} for m in content.media],
            "campaign": content.campaign,
            "utm": _utm(content.link),
            "slot": content.slot,
        }
        if self.options.markdown == "both" and content.body_format == "markdown":
            data["body_markdown"] = content.body
        return {"type": self.options.event_type, "schema_version": PAYLOAD_SCHEMA_VERSION, "data": data}

    def render(self, content: PostContent) -> Rendered:
        """The exact JSON body (compact, UTF-8, keys in schema order)."""
        text = json.dumps(self.payload(content), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        lim = self.limits
        warnings = [f"media {m.url} has no alt text" for m in content.media if not m.alt]
        return Rendered(text=text, length=lim.counter(text), limit=lim.max_length, link=content.link,
                        format="json", title=content.title, media=content.media, warnings=tuple(warnings))

    # -- HTTP ----------------------------------------------------------------------------

    def make_session(self) -> requests.Session:
        """A bounded session that reads at most ``max_response_bytes`` of an answer."""
        session = bounded_session(max_answer_bytes=self.options.max_response_bytes)
        session.headers["User-Agent"] = "syndicate-webhooks/1"
        return session

    def _secrets(self) -> list[bytes]:
        creds = self.account.credentials
        out = [_secret_bytes(creds.get("secret"), "secret", self.account.id)]
        previous = creds.optional("previous_secret")
        if previous:
            out.append(_secret_bytes(previous, "previous_secret", self.account.id))
        return out

    def signed_headers(self, webhook_id: str, body: str, *, timestamp_s: int | None = None) -> dict[str, str]:
        """The three Standard Webhooks headers for ``body``, signed now (or at ``timestamp_s``)."""
        ts = int(time.time()) if timestamp_s is None else timestamp_s
        return {"webhook-id": webhook_id, "webhook-timestamp": str(ts),
                "webhook-signature": sign(self._secrets(), webhook_id, ts, body)}

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """POST the payload; map the answer to a receipt or a typed error."""
        if rendered.length > rendered.limit:
            raise PermanentError(f"payload is {rendered.length:,} bytes, over the limit of {rendered.limit:,} "
                                 "(option max_payload_bytes)")
        webhook_id = webhook_id_for(publication.key)
        resp = self._post(webhook_id, rendered.text)
        return self._receipt(webhook_id, publication, resp.content, answer_complete(resp), resp.status_code)

    def _post(self, webhook_id: str, body: str) -> requests.Response:
        url = self.url
        headers = {"Content-Type": "application/json", **self.signed_headers(webhook_id, body)}
        what = f"the message to {url}"
        resp = self.request("POST", url, creates=True, what=what, data=body.encode("utf-8"), headers=headers)
        if not 200 <= resp.status_code < 300:
            raise self.status_error(resp, creates=True, what=what)
        return resp

    def update(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """The new revision as an ``updated_event_type`` message: the payload of a publish, with
        ``data.publication_id`` naming the message the receiver already has (``remote_id``, the
        ``webhook-id`` of the first revision). Its own ``webhook-id`` is the new revision's, so it is
        not taken for a repeat; the receipt keeps ``remote_id``."""
        payload = json.loads(rendered.text)
        payload["type"] = self.options.updated_event_type
        payload["data"]["publication_id"] = remote_id
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        if self.limits.counter(body) > rendered.limit:
            raise PermanentError(f"payload is over the limit of {rendered.limit:,} bytes (option max_payload_bytes)")
        webhook_id = webhook_id_for(publication.key)
        resp = self._post(webhook_id, body)
        receipt = self._receipt(webhook_id, publication, resp.content, answer_complete(resp), resp.status_code)
        return Receipt(remote_id=remote_id, permalink=receipt.permalink,
                       raw={**receipt.raw, "publication_id": remote_id}, warnings=receipt.warnings)

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """A ``deleted_event_type`` message naming the publication (``data.publication_id``), with a
        ``webhook-id`` stable across attempts, so the receiver dedupes a repeat."""
        webhook_id = webhook_id_for(f"{remote_id}:deleted")
        payload = {"type": self.options.deleted_event_type, "schema_version": PAYLOAD_SCHEMA_VERSION,
                   "data": {"publication_id": remote_id,
                            "item": {"id": publication.item_id, "revision": publication.revision},
                            "locale": publication.locale, "slot": publication.slot}}
        self._post(webhook_id, json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False))

    def _receipt(self, webhook_id: str, publication: PublicationRef, body: bytes, complete: bool,
                 status: int) -> Receipt:
        warnings: list[str] = []
        permalink = publication.tagged_url
        answer: Any = None
        if body.strip():
            try:
                answer = json.loads(body.decode("utf-8")) if complete else None
            except (UnicodeDecodeError, ValueError):
                answer = None
            if answer is None:
                warnings.append("the receiver's answer was not JSON (or too large); the back-link is the tagged "
                                "canonical URL")
        if isinstance(answer, dict) and answer.get("url") is not None:
            candidate = answer["url"]
            try:
                if not isinstance(candidate, str):
                    raise ValueError(f"a {type(candidate).__name__}, not a string")
                permalink = validate_url(candidate)
            except ValueError as exc:
                warnings.append(f"the receiver's url was not usable ({exc}); the back-link is the tagged "
                                "canonical URL")
        for w in warnings:
            log.warning("webhooks.answer_unusable", account=self.account.id, webhook_id=webhook_id, warning=w)
        return Receipt(remote_id=webhook_id, permalink=permalink, raw={"status": status, "webhook_id": webhook_id},
                       warnings=tuple(warnings))

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """Ask the receiver's status URL, if the account has one; otherwise None.

        Without a status URL, None ("absent") is safe: the pipeline then sends again with the same
        ``webhook-id``, which the receiver dedupes (``publish`` is idempotent).
        """
        template = self.options.status_url
        webhook_id = webhook_id_for(publication.key)
        if template is None:
            return None
        url = template.replace("{webhook_id}", webhook_id)
        resp = self.request("GET", url, creates=False, what="asking the webhook status URL",
                            headers=self.signed_headers(webhook_id, ""))
        if resp.status_code == 404:
            return None
        if resp.status_code == 200:
            return self._receipt(webhook_id, publication, resp.content, answer_complete(resp), 200)
        message = self.platform_message(resp)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise TransientError("the webhook status URL is unavailable", status=resp.status_code,
                                 platform_message=message)
        raise InDoubt("the webhook status URL gave no answer we understand", status=resp.status_code,
                      platform_message=message)
