"""The redaction processor, tested as structlog tests its processors: called with a plain dict."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from syndicate.base.logging import configure_logging, get_logger, redact_event
from syndicate.base.secrets import REDACTED, add_secret


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger's handlers and level back after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def test_redact_event_blanks_values_of_secret_named_keys() -> None:
    # Given an event dict with a token, a password and an API key under telling names
    event = {"event": "x.request", "access_token": "abc123abc123", "password": "hunter22", "api_key": "k-123456",
             "Authorization": "Bearer zzz", "account": "x-na"}
    # When the processor runs
    out = redact_event(None, "info", event)
    # Then those values are gone and the rest is untouched
    assert out == {"event": "x.request", "access_token": REDACTED, "password": REDACTED, "api_key": REDACTED,
                   "Authorization": REDACTED, "account": "x-na"}


def test_redact_event_removes_token_shapes_inside_free_text() -> None:
    # Given a message that carries a bearer header, a query-string key and a webhook secret
    event = {"event": "http.debug",
             "detail": "GET /v2?api_key=sk_live_0123456789 Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAMLheAAAA whsec_"
                       "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    # When the processor runs
    out = redact_event(None, "debug", event)
    # Then none of the three secrets is left, and the words around them are
    assert "sk_live_0123456789" not in out["detail"]
    assert "AAAAAAAAAAAAAAAAAAAAAMLheAAAA" not in out["detail"]
    assert "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" not in out["detail"]
    assert out["detail"].startswith("GET /v2?api_key=")


def test_redact_event_walks_nested_headers_lists_bytes_and_exceptions() -> None:
    # Given a registered secret value and an event with it deep in containers
    add_secret("s3cr3t-value-for-logging-test")
    event = {"event": "adapter.call",
             "request": {"headers": {"Authorization": "OAuth oauth_token=\"t\"", "Accept": "json"},
                         "params": ["a", "s3cr3t-value-for-logging-test"]},
             "body": b'{"key": "s3cr3t-value-for-logging-test"}',
             "error": RuntimeError("failed with s3cr3t-value-for-logging-test")}
    # When the processor runs
    out = redact_event(None, "error", event)
    # Then the value appears nowhere, and the nested Authorization header is blanked by its name
    assert "s3cr3t-value-for-logging-test" not in json.dumps(out)
    assert out["request"]["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert out["request"]["params"] == ["a", REDACTED]
    assert out["error"].startswith("RuntimeError: failed with ")


def test_redact_event_keeps_none_under_a_secret_name() -> None:
    # Given an event saying a token is absent
    out = redact_event(None, "info", {"event": "x.oauth2", "refresh_token": None})
    # Then None stays None (absence is not a secret)
    assert out["refresh_token"] is None


def test_redact_event_passes_numbers_and_none_through_and_still_blanks_them_under_secret_names() -> None:
    # Given numbers, a flag and None, some under secret names, beside a string with a token in it
    event = {"event": "x.call", "attempt": 3, "ratio": 0.5, "ok": True, "reason": None, "token": 123456,
             "password": 0.25, "note": "Authorization: Bearer abcdefgh12345678"}
    # When the processor runs
    out = redact_event(None, "info", event)
    # Then plain values are unchanged (same type: True stays a bool, not 1), secret-named ones blanked
    assert out == {"event": "x.call", "attempt": 3, "ratio": 0.5, "ok": True, "reason": None, "token": REDACTED,
                   "password": REDACTED, "note": "Authorization: Bearer [REDACTED]"}
    assert type(out["ok"]) is bool and type(out["attempt"]) is int


def test_json_logs_are_one_object_per_line_with_bound_context(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    # Given JSON logging and ids bound to the context, as the worker middleware binds them
    configure_logging(json=True, level="INFO")
    structlog.contextvars.bind_contextvars(item="launch", revision=2, locale="de-DE", account="x-dach",
                                           publication=7, attempt=1, message_id="m-1")
    # When an event is logged with a multi-line value
    get_logger("syndicate.test").info("publication.published", permalink="https://x.test/1", note="a\nb")
    structlog.contextvars.clear_contextvars()
    # Then stderr holds exactly one JSON object on one line, with the context and the level
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "publication.published"
    assert (record["item"], record["revision"], record["locale"], record["account"], record["publication"],
            record["attempt"], record["message_id"]) == ("launch", 2, "de-DE", "x-dach", 7, 1, "m-1")
    assert record["level"] == "info" and record["logger"] == "syndicate.test"
    assert record["timestamp"].endswith("Z")


def test_console_format_is_used_when_asked(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    # Given console logging (as on a terminal)
    configure_logging(json=False, level="INFO")
    # When an event is logged
    get_logger("syndicate.test").warning("rate_limit.deferred", account="x-na", token="should-not-show")
    # Then the line is not JSON, names the event, and still hides the secret-named field
    err = capsys.readouterr().err
    assert "rate_limit.deferred" in err and "x-na" in err
    assert "should-not-show" not in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.splitlines()[0])
