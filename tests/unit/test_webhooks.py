"""Partner webhooks without services: signatures, ids, secrets, payload and option checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from adapters.webhooks import PAYLOAD_SCHEMA_VERSION, WebhookAdapter, WebhookOptions, sign, webhook_id_for
from syndicate.base.secrets import Credentials, SecretRef, SecretSource
from syndicate.channels.contract import AccountContext, MediaRef, PostContent
from syndicate.errors import AuthError

SECRET_BYTES = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()


def adapter(secret: str = SECRET, previous: str | None = None, **options: Any) -> WebhookAdapter:
    refs = {"secret": SecretRef("HOOK_SECRET")}
    env = {"HOOK_SECRET": secret}
    if previous is not None:
        refs["previous_secret"] = SecretRef("HOOK_PREVIOUS")
        env["HOOK_PREVIOUS"] = previous
    creds = Credentials("partner-hook", refs, SecretSource(environ=env))
    return WebhookAdapter(AccountContext(id="partner-hook", options=WebhookOptions.model_validate(options),
                                         credentials=creds, base_url="https://partner.example.net/hooks"))


def content(**overrides: Any) -> PostContent:
    fields: dict[str, Any] = {
        "item_id": "item-1", "revision": 3, "locale": "de-DE", "title": "Grüße", "summary": "Kurz.",
        "body": "Ein **fetter** Text <script>x</script>.", "body_format": "markdown",
        "link": "https://example.com/p?ref=a&utm_source=partner-x&utm_medium=partner&utm_campaign=spring#top",
        "canonical_url": "https://example.com/p?ref=a#top", "cta_text": "Mehr lesen",
        "cta_url": "https://example.com/p?utm_source=partner-x", "tags": ("b2b",),
        "media": (MediaRef("https://example.com/a.png", "Ein Diagramm"),), "campaign": "spring",
    }
    fields.update(overrides)
    return PostContent(**fields)


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    # Given the reference vector of the standardwebhooks test suite (secret, id, time, body, signature)
    secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    # When we sign it
    signature = sign([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    # Then we get the reference signature
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_equals_an_independent_hmac_of_id_timestamp_and_utf8_body() -> None:
    # Given a body with non-ASCII text
    body = '{"title":"Grüße 👋"}'
    # When we sign it and compute the HMAC by hand from the spec
    ours = sign([SECRET_BYTES], "msg_abc", 1700000000, body)
    mac = hmac.new(SECRET_BYTES, b"msg_abc.1700000000." + body.encode("utf-8"), hashlib.sha256).digest()
    # Then they agree
    assert ours == "v1," + base64.b64encode(mac).decode()


def test_signed_headers_verify_with_the_library_for_the_current_and_the_previous_secret() -> None:
    # Given an account rotating its secret
    old = "whsec_" + base64.b64encode(b"o" * 24).decode()
    hooks = adapter(previous=old)
    body = hooks.render(content()).text
    # When headers are signed now
    headers = hooks.signed_headers("msg_1", body)
    # Then there is one v1 signature per secret and a receiver with either secret accepts the message
    assert headers["webhook-signature"].count("v1,") == 2
    assert Webhook(SECRET).verify(body, headers) == json.loads(body)
    assert Webhook(old).verify(body, headers) == json.loads(body)


def test_signing_uses_the_integer_send_time_whatever_the_local_zone() -> None:
    # Given a send time, When headers are signed at it, Then the timestamp header is those Unix seconds
    ts = int(datetime(2026, 11, 23, 14, 0, tzinfo=UTC).timestamp())
    headers = adapter().signed_headers("msg_1", "{}", timestamp_s=ts)
    mac = hmac.new(SECRET_BYTES, f"msg_1.{ts}.{{}}".encode(), hashlib.sha256).digest()
    assert headers == {"webhook-id": "msg_1", "webhook-timestamp": str(ts),
                       "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def test_webhook_id_is_stable_per_publication_and_unique_across_publications() -> None:
    # Given publication keys differing in revision, locale, account and slot
    keys = ["item-1/1/en-US/hook/0", "item-1/2/en-US/hook/0", "item-1/1/de-DE/hook/0", "item-1/1/en-US/other/0",
            "item-1/1/en-US/hook/1"]
    # When ids are derived, Then each key always gives the same id, no two keys share one, and ids have no dot
    ids = [webhook_id_for(k) for k in keys]
    assert ids == [webhook_id_for(k) for k in keys]
    assert len(set(ids)) == len(keys)
    assert all(i.startswith("msg_") and "." not in i and len(i) == 36 for i in ids)


@pytest.mark.parametrize(("secret", "reason"), [
    ("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "must be a Standard Webhooks secret"),
    ("whsec_not*base64!", "not valid base64"),
    ("whsec_" + base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
])
def test_a_malformed_secret_is_an_auth_error_that_does_not_show_it(secret: str, reason: str) -> None:
    # Given an account whose secret is malformed
    hooks = adapter(secret=secret)
    # When a message is signed, Then it fails as an AuthError naming the problem, not the value
    with pytest.raises(AuthError, match=reason) as info:
        hooks.signed_headers("msg_1", "{}")
    assert secret not in str(info.value)


def test_render_is_compact_json_with_the_documented_fields() -> None:
    # Given an item in German with a Markdown body, When it is rendered
    rendered = adapter().render(content())
    payload = json.loads(rendered.text)
    # Then the payload is compact UTF-8 JSON carrying the schema's fields
    assert rendered.format == "json" and ", " not in rendered.text and "Grüße" in rendered.text
    assert payload["type"] == "content.published" and payload["schema_version"] == PAYLOAD_SCHEMA_VERSION
    data = payload["data"]
    assert data["item"] == {"id": "item-1", "revision": 3}
    assert data["locale"] == "de-DE" and data["dir"] == "ltr"
    assert data["body_html"].startswith("<p>Ein <strong>fetter</strong> Text &lt;script&gt;")
    assert data["link"] == content().link and data["canonical_url"] == "https://example.com/p?ref=a#top"
    assert data["cta"] == {"text": "Mehr lesen", "url": "https://example.com/p?utm_source=partner-x"}
    assert data["utm"] == {"utm_source": "partner-x", "utm_medium": "partner", "utm_campaign": "spring"}
    assert data["media"] == [{"url": "https://example.com/a.png", "alt": "Ein Diagramm", "kind": "image"}]
    assert data["tags"] == ["b2b"] and data["campaign"] == "spring" and data["slot"] == 0
    assert "body_markdown" not in data


def test_render_counts_the_payload_in_utf8_bytes_and_is_deterministic() -> None:
    # Given the same content twice, When rendered, Then the text is identical and measured in bytes
    a, b = adapter().render(content()), adapter().render(content())
    assert a.text == b.text
    assert a.length == len(a.text.encode("utf-8")) > len(a.text)


def test_render_can_also_send_the_markdown_source() -> None:
    # Given an account that asks for Markdown too, When rendered, Then the source body is included
    payload = json.loads(adapter(markdown="both").render(content()).text)
    assert payload["data"]["body_markdown"] == content().body


@pytest.mark.parametrize("template", ["https://p.example/s", "https://p.example/{id}",
                                      "https://p.example/{webhook_id}/{webhook_id}", "ftp://p.example/{webhook_id}"])
def test_status_url_must_be_a_web_url_naming_webhook_id_once(template: str) -> None:
    # Given a bad status URL template, When the options are validated, Then they are refused
    with pytest.raises(ValidationError):
        WebhookOptions.model_validate({"status_url": template})
