"""Redaction finds a secret in the forms libraries turn it into on its way to a log line, a ledger
row or an exception message: percent-encoded (``quote``, ``quote_plus``, upper- and lower-case
hex), JSON-escaped, and base64 where it is used in HTTP Basic auth.

Each test registers its own canary, holding a space and ``+ / = :`` (the characters that
encodings change), because the redaction set is process-wide.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import structlog
from sqlalchemy import select

from syndicate.base.logging import configure_logging, get_logger
from syndicate.base.secrets import REDACTED, SecretSource, add_secret, redact
from syndicate.errors import TranslationRejected
from syndicate.ledger import Ledger
from syndicate.ledger.schema import accounts, events
from syndicate.localization.engines import build_translator
from syndicate.localization.options import TranslateOptions
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")


#: Every form a canary must not survive in, by name.
FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda c: c,
    "quote": lambda c: quote(c, safe=""),
    "quote, '/' kept": quote,
    "quote_plus": lambda c: quote_plus(c, safe=""),
    "quote_plus, '/' and ':' kept": lambda c: quote_plus(c, safe="/:"),
    "quote, lower-case hex": lambda c: _lower_hex(quote(c, safe="")),
    "quote_plus, lower-case hex": lambda c: _lower_hex(quote_plus(c, safe="")),
    "JSON string": json.dumps,
    "JSON, ASCII only": lambda c: json.dumps("é" + c)[1:-1],
    "Basic auth, user of 9 bytes": lambda c: _basic("wp-editor", c),
    "Basic auth, user of 10 bytes": lambda c: _basic("wp-editors", c),
    "Basic auth, user of 11 bytes": lambda c: _basic("wp-editor-2", c),
    "Basic auth, URL-safe alphabet": lambda c: base64.urlsafe_b64encode(f"u:{c}".encode()).decode(),
    "Basic auth, percent-encoded": lambda c: quote(_basic("client-id", c), safe=""),
}


def canary() -> str:
    value = f"cAn4ry {uuid.uuid4().hex[:12]}+/=:{uuid.uuid4().hex[:8]} tail"
    add_secret(value)
    return value


def leaked(text: str, secret: str) -> list[str]:
    """The forms of ``secret`` that are still in ``text`` (for Basic auth: any eight characters of
    the base64 text that encode the secret)."""
    out = [name for name, form in FORMS.items() if not name.startswith("Basic") and form(secret) in text]
    for name, form in FORMS.items():
        if name.startswith("Basic"):
            encoded = form(secret)
            tail = encoded[-20:]  # the user name is at the front; the end encodes only the secret
            if any(tail[i:i + 8] in text for i in range(len(tail) - 7)):
                out.append(name)
    return out


@pytest.mark.parametrize("form", list(FORMS), ids=list(FORMS))
def test_each_encoded_form_of_a_secret_is_redacted(form: str) -> None:
    # Given a registered secret with a space and + / = :, in one encoded form inside a sentence
    secret = canary()
    text = f"GET /v2/translate?q=hello&sig={FORMS[form](secret)}&x=1 failed"
    # When redacted / Then no form of it is left, and the text around it is
    out = redact(text)
    assert leaked(out, secret) == [], out
    assert REDACTED in out and out.startswith("GET /v2/translate?q=hello&sig=") and out.endswith("&x=1 failed")


def test_text_that_only_looks_encoded_is_left_alone() -> None:
    canary()
    text = "50%25 off: a+b=c, caf%C3%A9 and Basic dXNlcjpwYXNz"
    assert redact(text) == text


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def test_logs_of_ours_and_of_foreign_libraries_hold_no_encoded_form(capsys: pytest.CaptureFixture[str],
                                                                     restore_logging: None) -> None:
    # Given JSON logging at DEBUG (configured here: capsys's stream belongs to the test's call)
    configure_logging(json=True, level="DEBUG")
    secret = canary()
    # When our code logs a URL and a header dump, and urllib3 and requests-oauthlib log theirs
    get_logger("syndicate.test").warning("engine.call", url=f"https://mt.example/t?sig={quote_plus(secret)}",
                                          detail={"headers": {"X-Signed": quote(secret, safe="")}})
    logging.getLogger("urllib3.connectionpool").warning(
        '%s://%s:%s "%s %s %s" %s %s', "https", "mt.example", 443, "POST",
        f"/translate?q=hi&sig={_lower_hex(quote_plus(secret))}", "HTTP/1.1", 401, 88)
    logging.getLogger("requests_oauthlib.oauth2_session").debug(
        "Prepared refresh request with headers %s", {"Authorization": "Basic " + _basic("client-id", secret)})
    logging.getLogger("deep_translator").debug("sent %s", json.dumps({"q": "hi", "k": secret}))
    # Then no line holds the secret in any form, and each record was written
    err = capsys.readouterr().err
    assert leaked(err, secret) == [], err
    loggers = {json.loads(line)["logger"] for line in err.splitlines() if line.startswith("{")}
    assert {"syndicate.test", "urllib3.connectionpool", "requests_oauthlib.oauth2_session",
            "deep_translator"} <= loggers


def test_ledger_errors_hold_no_encoded_form(sqlite_url: str) -> None:
    secret = canary()
    ledger = Ledger(sqlite_url)
    ledger.migrate()
    # When an error text with encoded forms of the secret is recorded, as an event and as an
    # account's reason
    ledger.record_event("test.error", actor="test",
                        error=f"refused https://api.example/x?token={quote_plus(secret)} with Basic "
                              f"{_basic('wp', secret)}")
    ledger.set_account_status("a1", "needs_credentials", f"401 for {quote(secret, safe='')}", actor="test")
    # Then the stored rows hold none of them
    with ledger.engine.connect() as conn:
        stored = [str(r.error) for r in conn.execute(select(events.c.error))]
        stored += [str(r.reason) for r in conn.execute(select(accounts.c.reason))]
    ledger.close()
    assert stored and all(leaked(text, secret) == [] for text in stored), stored
    assert any(REDACTED in text for text in stored)


def test_an_engine_error_echoing_the_key_percent_encoded_is_redacted() -> None:
    # Given Microsoft Translator behind a gateway that echoes the refused key percent-encoded
    secret = canary()
    with FakeMicrosoftTranslator(api_key="not-the-canary") as server:
        server.echo_key = quote_plus
        tr = build_translator("microsoft", {"api_key": "${MS_KEY}", "base_url": server.url},
                              secrets=SecretSource(environ={"MS_KEY": secret}))
        # When a translation is refused
        with pytest.raises(TranslationRejected) as exc:
            tr.translate(["Hello"], "en-US", "de-DE", TranslateOptions())
        echoed: Any = server.requests[0].header("Ocp-Apim-Subscription-Key")
    # Then the key went in its header, and the exception message holds no form of it
    assert echoed == secret
    assert leaked(str(exc.value), secret) == [] and REDACTED in str(exc.value)
