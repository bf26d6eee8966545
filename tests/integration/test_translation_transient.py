"""Transient engine faults from the socket and HTTP layer of each engine's fake: a one-off fault
is retried within the localize step, at the engine's pace; a refusal or a used-up quota is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from syndicate.base.secrets import SecretSource
from syndicate.errors import TranslationQuotaExceeded, TranslationRejected, TranslationUnavailable
from syndicate.localization import localize_item
from syndicate.model.config import TranslationSettings
from syndicate.model.item import parse_item
from tests.fakes.base import FakeServer, Fault
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator
from tests.fakes.mymemory import FakeMyMemory
from tests.helpers import item_data

DEEPL_KEY = "dk-7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d:fx"
MS_KEY = "ms-1a2b3c4d5e6f708192a3b4c5d6e7f809"
LIBRE_KEY = "lt-1b2c3d4e5f60718293a4b5c6d7e8f90a"
GOOGLE_KEY = "gc-6f708192a3b4c5d6e7f8091a2b3c4d5e"
SECRETS = SecretSource(environ={"DEEPL_AUTH_KEY": DEEPL_KEY, "MS_KEY": MS_KEY, "LIBRE_KEY": LIBRE_KEY,
                                "GOOGLE_KEY": GOOGLE_KEY})
#: Engines as tests name them: ``google-cloud`` is the google engine with ``api: cloud``.
ENGINES = ("deepl", "google", "google-cloud", "microsoft", "libretranslate", "mymemory")
#: The path each engine's fake serves translations on.
PATHS = {"deepl": r"/v2/translate", "google": r"/m", "google-cloud": r"/language/translate/v2",
         "microsoft": r"/translate", "libretranslate": r"/translate", "mymemory": r"/get"}
FAKES: dict[str, Callable[[], FakeServer]] = {
    "deepl": lambda: FakeDeepL(DEEPL_KEY),
    "google": FakeGoogleTranslate,
    "google-cloud": lambda: FakeGoogleTranslate(GOOGLE_KEY),
    "microsoft": lambda: FakeMicrosoftTranslator(MS_KEY),
    "libretranslate": lambda: FakeLibreTranslate(LIBRE_KEY),
    "mymemory": FakeMyMemory,
}
ITEM = parse_item(item_data(title="A short title", summary="A summary with @someone in it.",
                            body="A body with a link https://example.com/more and #news.", cta=None))


def settings(name: str, fake: FakeServer, **extra: Any) -> TranslationSettings:
    options = {
        "deepl": {"auth_key": "${DEEPL_AUTH_KEY}", "server_url": fake.url},
        "google": {"base_url": f"{fake.url}/m"},
        "google-cloud": {"api": "cloud", "api_key": "${GOOGLE_KEY}", "cloud_url": f"{fake.url}/language/translate/v2"},
        "microsoft": {"api_key": "${MS_KEY}", "base_url": fake.url},
        "libretranslate": {"api_key": "${LIBRE_KEY}", "base_url": fake.url},
        "mymemory": {"base_url": f"{fake.url}/get"},
    }[name]
    engine = "google" if name == "google-cloud" else name
    return TranslationSettings.model_validate({"engine": engine, "options": {
        **options, "read_timeout_s": 1.0, "connect_timeout_s": 1.0, **extra}})


def requests_to(fake: FakeServer, name: str) -> int:
    return sum(1 for r in fake.requests if r.path == PATHS[name])


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    with FAKES[request.param]() as server:
        yield request.param, server


@pytest.mark.parametrize("fault", [
    Fault("status", status=503, body={"message": "Service unavailable"}),
    Fault("status", status=502, body=b"<html>Bad gateway</html>"),
    Fault("close"),
    Fault("stall", seconds=2.0),
], ids=["503", "502", "reset", "timeout"])
def test_a_one_off_fault_is_retried_within_the_step_and_the_localization_succeeds(
        engine: tuple[str, Any], fault: Fault) -> None:
    # Given an engine that fails its next translation request once (5xx, a reset connection, a read timeout)
    name, server = engine
    server.fail_next(Fault(fault.kind, path=PATHS[name], status=fault.status, body=fault.body, seconds=fault.seconds))
    # When the item is localized
    with capture_logs() as logs:
        loc = localize_item(ITEM, "de-DE", settings(name, server), secrets=SECRETS)
    # Then it succeeded in this one call, after exactly one more request, and the retry was logged
    assert loc.fields["body"] == "A BODY WITH A LINK https://example.com/more AND #news."
    assert requests_to(server, name) == 2 and loc.requests == 2
    retries = [e for e in logs if e["event"] == "translation.retry"]
    assert len(retries) == 1 and retries[0]["engine"] == name.removesuffix("-cloud") and retries[0]["wait_s"] <= 0.5


@pytest.mark.parametrize("name", ["deepl", "google-cloud", "microsoft", "libretranslate"])
@pytest.mark.parametrize("status", [429, 503])
def test_the_retry_waits_as_long_as_the_engines_retry_after_says(name: str, status: int) -> None:
    # Given an engine answering 429 or 503 once with Retry-After: 1
    with FAKES[name]() as server:
        server.fail_next(Fault("status", path=PATHS[name], status=status, body={"message": "later"},
                               headers={"Retry-After": "1"}))
        with capture_logs() as logs:
            localize_item(ITEM, "de-DE", settings(name, server), secrets=SECRETS)
        sent = requests_to(server, name)
    # Then the retry waited the engine's second, not the short backoff
    [retry] = [e for e in logs if e["event"] == "translation.retry"]
    assert 0.9 <= retry["wait_s"] <= 1.0 and sent == 2


@pytest.mark.parametrize(("name", "fault", "error"), [
    ("deepl", Fault("status", status=403, body={"message": "Authorization failure"}), TranslationRejected),
    ("deepl", FakeDeepL.quota_exceeded(), TranslationQuotaExceeded),
    ("microsoft", Fault("status", status=401, body={"error": {"code": 401000, "message": "bad key"}}),
     TranslationRejected),
    ("microsoft", FakeMicrosoftTranslator.quota_exceeded(), TranslationQuotaExceeded),
    ("libretranslate", Fault("status", status=403, body={"error": "Invalid API key"}), TranslationRejected),
    ("google-cloud", FakeGoogleTranslate.daily_limit_exceeded(), TranslationQuotaExceeded),
    ("google-cloud", Fault("status", status=403, body={"error": {"code": 403, "message": "User Rate Limit Exceeded"}}),
     TranslationQuotaExceeded),
    ("google-cloud", Fault("status", status=400, body={"error": {"code": 400, "message": "API key not valid."}}),
     TranslationRejected),
])
def test_a_refusal_or_a_used_up_quota_is_sent_once(name: str, fault: Fault, error: type[Exception]) -> None:
    # Given an engine refusing the key or out of quota / When localized / Then one request, and the typed error
    with FAKES[name]() as server:
        server.fail_next(fault)
        with pytest.raises(error):
            localize_item(ITEM, "de-DE", settings(name, server), secrets=SECRETS)
        assert requests_to(server, name) == 1


def test_an_engine_down_for_longer_is_left_to_the_ledger_after_the_allowed_attempts() -> None:
    # Given LibreTranslate answering 503 to every request, and three attempts allowed
    with FakeLibreTranslate(LIBRE_KEY) as server:
        server.fail_next(Fault("status", path="/translate", status=503, body={"error": "down"}, times=99))
        with pytest.raises(TranslationUnavailable, match="503"):
            localize_item(ITEM, "de-DE", settings("libretranslate", server, retry_attempts=3), secrets=SECRETS)
        # Then three requests went, and the transient error reaches the pipeline (which defers the localization)
        assert requests_to(server, "libretranslate") == 3


def test_a_retry_after_longer_than_the_budget_is_not_waited_for() -> None:
    # Given Microsoft asking to come back in two minutes
    with FakeMicrosoftTranslator(MS_KEY) as server:
        server.fail_next(Fault("status", path="/translate", status=429, headers={"Retry-After": "120"},
                               body={"error": {"code": 429001, "message": "Too many requests"}}))
        with pytest.raises(TranslationQuotaExceeded):
            localize_item(ITEM, "de-DE", settings("microsoft", server), secrets=SECRETS)
        # Then nothing was retried within the step: the ledger's later attempt takes over
        assert requests_to(server, "microsoft") == 1
