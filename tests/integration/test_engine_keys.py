"""API keys never travel in a query string where the engine accepts a header or a body: each keyed
engine's fake records the request, and the key is in the header or the body, not the URL. The
text to translate stays out of the URL too where the engine allows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from syndicate.base.secrets import SecretSource
from syndicate.localization import TranslateOptions, build_translator
from tests.fakes.base import FakeServer, Request
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator

KEY = "key with space+slash/equals=colon:0123"
TEXT = "Hello from the launch page"
SECRETS = SecretSource(environ={"ENGINE_KEY": KEY})

#: engine → (its fake, its options, where the key must be found in the request)
ENGINES: dict[str, tuple[Callable[[], FakeServer], Callable[[str], dict[str, Any]], Callable[[Request], Any]]] = {
    "deepl": (lambda: FakeDeepL(KEY), lambda url: {"auth_key": "${ENGINE_KEY}", "server_url": url},
              lambda r: r.header("Authorization")),
    "microsoft": (lambda: FakeMicrosoftTranslator(KEY), lambda url: {"api_key": "${ENGINE_KEY}", "base_url": url},
                  lambda r: r.header("Ocp-Apim-Subscription-Key")),
    "libretranslate": (lambda: FakeLibreTranslate(KEY), lambda url: {"api_key": "${ENGINE_KEY}", "base_url": url},
                       lambda r: r.json().get("api_key")),
    "google": (lambda: FakeGoogleTranslate(KEY),
               lambda url: {"api": "cloud", "api_key": "${ENGINE_KEY}", "cloud_url": f"{url}/language/translate/v2"},
               lambda r: r.header("X-Goog-Api-Key")),
}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_the_key_travels_in_a_header_or_the_body_never_in_the_url(engine: str) -> None:
    make_fake, options, key_of = ENGINES[engine]
    with make_fake() as fake:
        # When one text is translated
        out = build_translator(engine, options(fake.url), secrets=SECRETS).translate(
            [TEXT], "en-US", "de-DE", TranslateOptions())
        [req] = [r for r in fake.requests if r.method == "POST"]
    # Then the engine answered, the key is where the engine reads it, and the URL holds no form of it
    assert out == [TEXT.upper()]
    assert KEY in (key_of(req) or "")
    url = req.path + "?" + "&".join(f"{k}={v}" for k, vs in req.query.items() for v in vs)
    for form in (KEY, quote(KEY, safe=""), quote_plus(KEY), "key with space"):
        assert form not in url


def test_libretranslate_sends_the_text_in_the_body_too() -> None:
    with FakeLibreTranslate(KEY) as fake:
        build_translator("libretranslate", ENGINES["libretranslate"][1](fake.url), secrets=SECRETS).translate(
            [TEXT], "en-US", "fr-FR", TranslateOptions())
        [req] = fake.translate_requests()
    assert req.query == {}
    assert req.json()["q"] == [TEXT] and req.json()["source"] == "en" and req.json()["target"] == "fr"


def test_a_key_echoed_at_the_edge_of_the_quoted_error_text_is_not_cut_in_half() -> None:
    # Given LibreTranslate refusing with a plain-text body that repeats the key around character 300
    from syndicate.errors import TranslationRejected
    from tests.fakes.base import Fault

    with FakeLibreTranslate(KEY) as fake:
        fake.fail_next(Fault("status", path="/translate", status=403, body=b"x" * 290 + KEY.encode() + b" refused"))
        with pytest.raises(TranslationRejected) as exc:
            build_translator("libretranslate", ENGINES["libretranslate"][1](fake.url), secrets=SECRETS).translate(
                [TEXT], "en-US", "fr-FR", TranslateOptions())
    # Then the message quotes the body, redacted before it was cut short: no piece of the key is left
    assert "xxxx" in str(exc.value) and KEY[:10] not in str(exc.value)
