"""Records from other libraries (tweepy, urllib3, Dramatiq) go through our chain and are redacted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import structlog
import tweepy
from requests.adapters import HTTPAdapter

from syndicate.base.logging import configure_logging
from tests.fakes.base import FakeServer, Request, Response

BEARER = ("AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2X"
          "zMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F")


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


class _ToLoopback(HTTPAdapter):
    """Send every request to the fake server instead of the host tweepy hard-codes."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request: Any, **kwargs: Any) -> Any:
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        request.url = f"{self.base}/{path}"
        kwargs["timeout"] = (2, 5)
        return super().send(request, **kwargs)


def _records(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_tweepy_debug_header_dump_is_redacted_in_json_logs(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    # Given DEBUG JSON logging, and tweepy talking to a loopback fake of POST /2/tweets
    configure_logging(json=True, level="DEBUG")
    fake = FakeServer()
    fake.route("POST", "/2/tweets", lambda _r: Response(201, {"data": {"id": "1", "text": "hi"}},
                                                         {"Set-Cookie": "guest_id=v1%3A1234567890; Path=/"}))
    with fake:
        client = tweepy.Client(bearer_token=BEARER)
        client.session.mount("https://", _ToLoopback(fake.url))
        # When tweepy posts with an OAuth 2 bearer token (it logs the request headers at DEBUG)
        client.create_tweet(text="hello", user_auth=False)
        received: Request = fake.requests[0]
    # Then the token reached the platform but no log line holds it
    assert received.header("Authorization") == f"Bearer {BEARER}"
    err = capsys.readouterr().err
    assert BEARER not in err
    assert BEARER[:24] not in err and BEARER[-24:] not in err
    # And tweepy's own record was rendered by our chain, as JSON, with the header marked redacted
    tweepy_lines = [r for r in _records(err) if r.get("logger") == "tweepy.client"]
    assert any("Making API request" in r["event"] and "[REDACTED]" in r["event"] for r in tweepy_lines)
    assert all(r["level"] == "debug" for r in tweepy_lines)


def test_a_foreign_record_with_a_query_string_key_is_redacted(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    # Given JSON logging
    configure_logging(json=True, level="DEBUG")
    # When a library logs a URL with an API key in its query string, and a formatted header dict
    logging.getLogger("urllib3.connectionpool").warning(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api-free.deepl.com", 443, "POST",
        "/v2/translate?auth_key=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:fx", "HTTP/1.1", 200, 512)
    logging.getLogger("deep_translator").debug("headers: %s", {"Ocp-Apim-Subscription-Key": "x", "api-key": "k9k9k9k9"})
    # Then neither secret shows, and both records are JSON lines under their own logger names
    err = capsys.readouterr().err
    assert "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" not in err
    assert "k9k9k9k9" not in err
    names = {r["logger"] for r in _records(err)}
    assert {"urllib3.connectionpool", "deep_translator"} <= names


def test_exception_tracebacks_from_foreign_records_are_redacted(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    # Given JSON logging
    configure_logging(json=True, level="INFO")
    # When a library logs an exception whose message carries a bearer token
    try:
        raise requests.HTTPError(f"401 for url with header Authorization: Bearer {BEARER}")
    except requests.HTTPError:
        logging.getLogger("dramatiq.worker.WorkerThread").exception("Failed to process message")
    # Then the rendered traceback is in the record and the token is not
    err = capsys.readouterr().err
    [record] = [r for r in _records(err) if r.get("logger") == "dramatiq.worker.WorkerThread"]
    assert "HTTPError" in record["exception"]
    assert BEARER not in err
