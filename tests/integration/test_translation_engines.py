"""Each engine against its loopback fake: one request per batch, typed errors, timeouts, no key in any message."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from syndicate.base.secrets import SecretSource
from syndicate.errors import (
    LocalizationError,
    PlaceholderMismatch,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationThrottled,
    TranslationUnavailable,
)
from syndicate.localization import TranslateOptions, build_translator
from syndicate.localization.batching import BatchingTranslator
from tests.fakes.base import FakeServer, Fault, refused_url
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator
from tests.fakes.mymemory import FakeMyMemory


class _Url:
    """Stands in for a fake where only the URL matters (nothing listens there)."""

    def __init__(self, url: str) -> None:
        self.url = url


DEEPL_KEY = "dk-5c1f0e2a-7b3d-4e8f-9a6b-0c2d4e6f8a1b:fx"
MS_KEY = "ms-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
LIBRE_KEY = "lt-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SECRETS = SecretSource(environ={"DEEPL_AUTH_KEY": DEEPL_KEY, "MS_KEY": MS_KEY, "LIBRE_KEY": LIBRE_KEY})
KEYS = (DEEPL_KEY, MS_KEY, LIBRE_KEY)
SEGMENTS = ["A title", 'Read <x id="0"/> with <x id="1"/>.\n\nSecond paragraph.', "Read more"]
OPTS = TranslateOptions()
FAKES: dict[str, Callable[[], Any]] = {
    "deepl": lambda: FakeDeepL(DEEPL_KEY),
    "google": FakeGoogleTranslate,
    "microsoft": lambda: FakeMicrosoftTranslator(MS_KEY),
    "libretranslate": lambda: FakeLibreTranslate(LIBRE_KEY),
    "mymemory": FakeMyMemory,
}


def engine(name: str, fake: FakeServer | _Url, **extra: Any) -> BatchingTranslator:
    base = {
        "deepl": {"auth_key": "${DEEPL_AUTH_KEY}", "server_url": fake.url},
        "google": {"base_url": f"{fake.url}/m"},
        "microsoft": {"api_key": "${MS_KEY}", "base_url": fake.url},
        "libretranslate": {"api_key": "${LIBRE_KEY}", "base_url": fake.url},
        "mymemory": {"base_url": f"{fake.url}/get"},
    }[name]
    tr = build_translator(name, {**base, "read_timeout_s": 0.5, "connect_timeout_s": 0.5, **extra}, secrets=SECRETS)
    assert isinstance(tr, BatchingTranslator)
    return tr


@pytest.fixture(params=["deepl", "google", "microsoft", "libretranslate", "mymemory"])
def fake(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    with FAKES[request.param]() as server:
        yield request.param, server


def assert_no_key(exc: BaseException) -> None:
    for key in KEYS:
        assert key not in str(exc)
        assert key not in repr(exc.args)
    assert exc.__cause__ is None  # the library's exception (which may hold the key) is not chained


def test_each_engine_translates_a_batch_in_one_request_with_placeholders_intact(fake: tuple[str, Any]) -> None:
    # Given an engine and its fake / When a batch of three segments is translated
    name, server = fake
    out = engine(name, server).translate(SEGMENTS, "en-US", "de-DE", OPTS)
    # Then one request carried them all, and placeholders and paragraphs came back as they were
    assert out == ["A TITLE", 'READ <x id="0"/> WITH <x id="1"/>.\n\nSECOND PARAGRAPH.', "READ MORE"]
    assert len(server.translate_requests()) == 1


def test_each_engine_reports_an_unreachable_server_as_unavailable(fake: tuple[str, Any]) -> None:
    # Given an engine pointed at a port where nothing listens
    name, _server = fake
    tr_refused = engine(name, _Url(refused_url()), retry_attempts=2)  # the error after a retry
    # Then the error is transient and names the engine, without any key
    with pytest.raises(TranslationUnavailable) as exc:
        tr_refused.translate(SEGMENTS, "en-US", "de-DE", OPTS)
    assert str(exc.value).startswith(name)
    assert_no_key(exc.value)


def test_each_engine_gives_up_on_a_stalled_server_at_its_timeout(fake: tuple[str, Any]) -> None:
    # Given a server that accepts the request and then says nothing for 3 s, a 1 s budget, no retry
    name, server = fake
    server.fail_next(Fault("stall", seconds=3.0))
    tr = engine(name, server, retry_attempts=1)
    started = time.monotonic()
    # Then the call fails as transient well before the server would answer
    with pytest.raises(TranslationUnavailable):
        tr.translate(SEGMENTS, "en-US", "de-DE", OPTS)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(("name", "fault"), [
    ("deepl", FakeDeepL.quota_exceeded()),
    ("microsoft", FakeMicrosoftTranslator.quota_exceeded()),
])
def test_a_used_up_quota_is_a_quota_error_after_a_single_request(name: str, fault: Fault) -> None:
    # Given the engine's answer for a used-up quota / Then it is TranslationQuotaExceeded, never retried in the step
    with FAKES[name]() as server:
        server.fail_next(fault)
        with pytest.raises(TranslationQuotaExceeded) as exc:
            engine(name, server).translate(SEGMENTS, "en-US", "de-DE", OPTS)
        assert len(server.requests) == 1  # no in-step retry: the quota will not come back in seconds
    assert not isinstance(exc.value, TranslationThrottled)


@pytest.mark.parametrize(("name", "fault"), [
    ("deepl", Fault("status", status=429, body={"message": "Too many requests"}, times=9)),
    ("google", Fault("status", path=r"/m", status=429, body="<html><body>unusual traffic</body></html>", times=9)),
    ("microsoft", Fault("status", status=429, body={"error": {"code": 429001, "message": "Too many requests"}},
                        times=9)),
    ("libretranslate", FakeLibreTranslate.slow_down(times=9)),
])
def test_a_rate_limit_that_lasts_is_a_throttled_error_after_the_allowed_attempts(name: str, fault: Fault) -> None:
    # Given an engine answering 429 to every request, and two attempts allowed
    with FAKES[name]() as server:
        server.fail_next(fault)
        with pytest.raises(TranslationThrottled):
            engine(name, server, retry_attempts=2).translate(SEGMENTS, "en-US", "de-DE", OPTS)
        # Then it was asked twice (a rate limit may lift within seconds), and the error is a quota kind
        assert len(server.requests) == 2


def test_mymemorys_quota_warning_in_a_200_answer_is_a_quota_error() -> None:
    # Given MyMemory answering with its "used all available free translations" text as the translation
    with FakeMyMemory() as server:
        server.quota_used_up = True
        with pytest.raises(TranslationQuotaExceeded, match="MYMEMORY WARNING"):
            engine("mymemory", server).translate(SEGMENTS, "en-US", "de-DE", OPTS)


@pytest.mark.parametrize(("name", "status"), [("deepl", 503), ("google", 502), ("microsoft", 500),
                                              ("libretranslate", 500)])
def test_server_errors_that_last_are_unavailable(name: str, status: int) -> None:
    body: Any = {"error": {"code": 500000, "message": "internal"}} if name == "microsoft" else {"error": "boom"}
    with FAKES[name]() as server:
        server.fail_next(Fault("status", status=status, body=body, times=9))
        with pytest.raises(TranslationUnavailable):
            engine(name, server, retry_attempts=2).translate(SEGMENTS, "en-US", "de-DE", OPTS)
        assert len(server.requests) == 2


@pytest.mark.parametrize("name", ["deepl", "microsoft", "libretranslate"])
def test_an_error_body_echoing_the_key_is_rejected_without_the_key(name: str) -> None:
    # Given a server whose error message repeats the key it received
    with FAKES[name]() as server:
        server.echo_key = True
        with pytest.raises(TranslationRejected) as exc:
            engine(name, server).translate(SEGMENTS, "en-US", "de-DE", OPTS)
    # Then the error is a refusal and the key is redacted from it
    assert "[REDACTED]" in str(exc.value)
    assert_no_key(exc.value)


@pytest.mark.parametrize("name", ["deepl", "microsoft", "libretranslate"])
def test_a_wrong_key_is_rejected(name: str) -> None:
    factory = {"deepl": lambda: FakeDeepL("another-key:fx"), "microsoft": lambda: FakeMicrosoftTranslator("other"),
               "libretranslate": lambda: FakeLibreTranslate("other-key")}
    with factory[name]() as server, pytest.raises(TranslationRejected) as exc:
        engine(name, server).translate(SEGMENTS, "en-US", "de-DE", OPTS)
    assert_no_key(exc.value)


def test_libretranslate_connection_errors_do_not_leak_the_key_from_the_query_string() -> None:
    # Given LibreTranslate unreachable / Then no key is in the error (the key travels in the body, not the URL)
    tr = engine("libretranslate", _Url(refused_url()), retry_attempts=2)  # the error after a retry
    with pytest.raises(TranslationUnavailable) as exc:
        tr.translate(SEGMENTS, "en-US", "de-DE", OPTS)
    assert "api_key=[REDACTED]" in str(exc.value) or "api_key" not in str(exc.value)
    assert_no_key(exc.value)


def test_deepl_batches_at_most_fifty_texts_per_request() -> None:
    # Given 120 short segments / When translated / Then three requests of at most 50 texts
    with FakeDeepL(DEEPL_KEY) as server:
        out = engine("deepl", server).translate([f"Text {i}" for i in range(120)], "en-US", "de-DE", OPTS)
        sizes = [len(r.json()["text"]) for r in server.translate_requests()]
    assert out[119] == "TEXT 119" and sizes == [50, 50, 20]


def test_mymemory_splits_under_its_500_byte_limit() -> None:
    # Given a body of 1,500 bytes of short sentences / When translated / Then every query is at most 500 bytes
    body = " ".join(f"Sentence number {i} is here." for i in range(55))
    with FakeMyMemory() as server:
        [out] = engine("mymemory", server).translate([body], "en-US", "de-DE", OPTS)
        sizes = [len(r.query["q"][0].encode()) for r in server.translate_requests()]
    assert out == body.upper() and len(sizes) >= 3 and max(sizes) <= 500


@pytest.mark.parametrize("mangle", ["drop", "duplicate"])
def test_a_joined_batch_whose_boundaries_are_damaged_is_refused_with_the_answer(mangle: str) -> None:
    # Given Google (one text per request, segments joined by boundary markers) damaging the first marker-like tag
    with FakeGoogleTranslate() as server:
        server.mangle = mangle
        with pytest.raises(PlaceholderMismatch) as exc:
            engine("google", server).translate(["One", "Two"], "en-US", "de-DE", OPTS)
    # Then the engine's answer rides on the error, for the reviewer
    assert "ONE" in exc.value.answers["*"]


def test_deepl_without_xml_tag_handling_would_damage_placeholders() -> None:
    # Given the fake's behaviour without tag handling (a real engine translating inside tags)
    from tests.fakes.machine_translation import fake_translate_all

    # Then our placeholders would not survive: this is why DeepL is always called with tag_handling="xml"
    assert fake_translate_all(['Read <x id="0"/>'], keep_markup=False) == ['READ <X ID="0"/>']


def test_errors_are_localization_errors_by_type_not_library_exceptions(fake: tuple[str, Any]) -> None:
    # Given an engine answering garbage / Then whatever the library raises reaches us as a LocalizationError
    name, server = fake
    server.fail_next(Fault("malformed", times=9))
    with pytest.raises(LocalizationError):
        engine(name, server, retry_attempts=2).translate(["Hello there"], "en-US", "de-DE", OPTS)
