"""Each engine's fake altering markup in text mode, dropping or duplicating placeholders: every
protected span still arrives byte for byte, through the engine's markup mode or, failing that,
the split strategy; the engine's answer is kept when both fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from syndicate.base.secrets import SecretSource
from syndicate.errors import PlaceholderMismatch
from syndicate.localization import localize_item
from syndicate.localization.masking import mask, unmask
from syndicate.model.config import TranslationSettings
from syndicate.model.glossary import Glossary, GlossaryFile
from syndicate.model.item import ContentItem, parse_item
from tests.fakes.base import FakeServer
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.machine_translation import fake_translate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator
from tests.fakes.mymemory import FakeMyMemory
from tests.helpers import item_data

DEEPL_KEY = "dk-1f2e3d4c-5b6a-4789-8a7b-6c5d4e3f2a1b:fx"
MS_KEY = "ms-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
LIBRE_KEY = "lt-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
GOOGLE_KEY = "gc-5e6f708192a3b4c5d6e7f8091a2b3c4d"
SECRETS = SecretSource(environ={"DEEPL_AUTH_KEY": DEEPL_KEY, "MS_KEY": MS_KEY, "LIBRE_KEY": LIBRE_KEY,
                                "GOOGLE_KEY": GOOGLE_KEY})
#: Engines as tests name them: ``google-cloud`` is the google engine with ``api: cloud``.
ENGINES = ("deepl", "google", "google-cloud", "microsoft", "libretranslate", "mymemory")
#: Engines with a markup mode that keeps tags: placeholders survive a text mode that alters them.
MARKUP_MODE = {"deepl", "google-cloud", "microsoft", "libretranslate"}
FAKES: dict[str, Callable[[], FakeServer]] = {
    "deepl": lambda: FakeDeepL(DEEPL_KEY),
    "google": FakeGoogleTranslate,
    "google-cloud": lambda: FakeGoogleTranslate(GOOGLE_KEY),
    "microsoft": lambda: FakeMicrosoftTranslator(MS_KEY),
    "libretranslate": lambda: FakeLibreTranslate(LIBRE_KEY),
    "mymemory": FakeMyMemory,
}

GLOSSARY = Glossary(GlossaryFile(do_not_translate=["Syndicate"], terms={"free trial": {"fr": "essai gratuit"}}))
SPANS = ["https://example.com/guide?ref=launch&x=1", "hello@example.com", "@devrel_team", "#launch2026", "@support",
         "#syndication", "Syndicate", "`syndicate run`"]
ITEM = parse_item(item_data(
    title="Start your free trial of Syndicate",
    summary="Join @devrel_team for the #launch2026 Q&A webinar.",
    body=("Read the guide at https://example.com/guide?ref=launch&x=1 or write to hello@example.com.\n\n"
          "Run `syndicate run` to try it.  Your free trial includes @support and #syndication."),
    cta={"text": "Start the free trial", "url": "https://example.com/trial"}))


def expected(item: ContentItem) -> dict[str, str]:
    """What a faithful engine gives: words upper-cased, spans byte for byte, the term in French."""
    out = {}
    gloss = GLOSSARY.resolve("fr-FR")
    for name in ("title", "summary", "body", "cta_text"):
        text = item.cta.text if name == "cta_text" and item.cta else getattr(item, name)
        m = mask(text, gloss.terms, replacements=gloss.replacements)
        out[name] = unmask(fake_translate(m.text), m)
    return out


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
    return TranslationSettings.model_validate({"engine": engine, "fallback": "hold", "options": {
        **options, "read_timeout_s": 2.0, **extra}})


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    with FAKES[request.param]() as server:
        yield request.param, server


@pytest.mark.parametrize("mangle", ["alter", "drop", "duplicate"])
def test_every_protected_span_arrives_byte_exact_whatever_the_engine_does_to_placeholders(
        engine: tuple[str, Any], mangle: str) -> None:
    # Given an engine whose fake alters markup in text mode, or drops or repeats a placeholder
    name, server = engine
    server.mangle = mangle
    # When the item is localized into French
    loc = localize_item(ITEM, "fr-FR", settings(name, server), glossary=GLOSSARY, secrets=SECRETS)
    # Then every field is what a faithful engine gives: each span byte for byte, spacing and paragraphs kept
    assert loc.fields == expected(ITEM)
    for span in SPANS:
        assert span in "\n".join(loc.fields.values()), span
    assert "essai gratuit" in loc.fields["title"] and "free trial" not in loc.fields["body"]
    # and the strategy says how: whole in the markup mode when the engine has one and only alters text mode
    if mangle == "alter" and name in MARKUP_MODE:
        assert set(loc.strategies.values()) == {"placeholders"} and loc.damaged == 0
    else:
        assert "split" in loc.strategies.values() and loc.damaged >= 1
        assert any("in pieces between the protected spans" in w for w in loc.warnings)


def test_libretranslate_gets_a_list_in_html_mode_with_the_key_in_the_body() -> None:
    with FakeLibreTranslate(LIBRE_KEY) as server:
        server.mangle = "alter"
        localize_item(ITEM, "fr-FR", settings("libretranslate", server), glossary=GLOSSARY, secrets=SECRETS)
        [req] = server.translate_requests()
    body = req.json()
    # Then one request carried the four fields as a list, in HTML mode, the key in the JSON body, nothing in the URL
    assert body["format"] == "html" and len(body["q"]) == 4 and body["api_key"] == LIBRE_KEY
    assert req.query == {}
    # and what HTML mode would change travels as void elements: the paragraph break, the double space, the &
    assert '<br id="v0"/>' in body["q"][2] and "\n" not in body["q"][2] and "  " not in body["q"][2]
    assert "&" not in body["q"][1]


def test_libretranslate_html_mode_rewriting_and_spacing_are_undone() -> None:
    # Given LibreTranslate's HTML mode (x elements written back as <x></x>, text nodes stripped of spaces)
    with FakeLibreTranslate(LIBRE_KEY) as server:
        loc = localize_item(ITEM, "fr-FR", settings("libretranslate", server), glossary=GLOSSARY, secrets=SECRETS)
        answer = server.translate_requests()[0]
    # Then the fields are exact, without needing the split strategy
    assert loc.fields == expected(ITEM) and set(loc.strategies.values()) == {"placeholders"}
    assert answer.json()["format"] == "html"


def test_libretranslate_requests_respect_the_instances_character_limit() -> None:
    # Given an instance with a 120-character limit per request (all texts together) and the same option
    with FakeLibreTranslate(LIBRE_KEY) as server:
        server.char_limit = 120
        loc = localize_item(ITEM, "fr-FR", settings("libretranslate", server, max_request_chars=120),
                            glossary=GLOSSARY, secrets=SECRETS)
        sizes = [sum(len(q) for q in r.json()["q"]) for r in server.translate_requests()]
    # Then several requests went, none over the limit (the instance refused none), and the result is whole
    assert len(sizes) > 1 and max(sizes) <= 120
    assert loc.fields == expected(ITEM)


@pytest.mark.parametrize(("name", "check"), [
    ("deepl", lambda r: "tag_handling" not in r.json() and r.json()["preserve_formatting"] is True),
    ("google-cloud", lambda r: r.json()["format"] == "text" and isinstance(r.json()["q"], list)),
    ("microsoft", lambda r: r.query["textType"] == ["plain"] and isinstance(r.json(), list)),
    ("libretranslate", lambda r: r.json()["format"] == "text" and isinstance(r.json()["q"], list)),
])
def test_the_split_strategy_sends_one_list_of_plain_text_pieces(name: str, check: Callable[[Any], bool]) -> None:
    # Given an engine dropping a placeholder in its markup mode
    with FAKES[name]() as server:
        server.mangle = "drop"  # type: ignore[attr-defined]
        loc = localize_item(ITEM, "fr-FR", settings(name, server), glossary=GLOSSARY, secrets=SECRETS)
        _first, second = server.translate_requests()  # type: ignore[attr-defined]
    # Then the second request carried the damaged field's pieces as plain text, in one list, no placeholder in them
    assert check(second)
    assert "<x" not in second.body.decode() and "https://" not in second.body.decode()
    assert list(loc.strategies.values()).count("split") == 1


def test_a_single_text_engine_sends_each_piece_on_its_own() -> None:
    # Given Google's web endpoint (one text per request, no markup mode) altering tags
    with FakeGoogleTranslate() as server:
        server.mangle = "alter"
        loc = localize_item(ITEM, "fr-FR", settings("google", server), glossary=GLOSSARY, secrets=SECRETS)
        sent = [r.query["q"][0] for r in server.translate_requests()]
    # Then after the joined request, each piece with words went alone, none of them holding a span or a marker
    assert len(sent) > 2 and all("<x" not in q and "@" not in q and "https" not in q for q in sent[1:])
    assert loc.fields == expected(ITEM)


def test_when_both_strategies_fail_nothing_is_returned_and_the_answer_is_kept() -> None:
    # Given LibreTranslate dropping a placeholder in HTML mode and inventing one in text mode
    with FakeLibreTranslate(LIBRE_KEY) as server:
        server.mangle = "drop+invent"
        with pytest.raises(PlaceholderMismatch) as exc:
            localize_item(ITEM, "fr-FR", settings("libretranslate", server), glossary=GLOSSARY, secrets=SECRETS)
    # Then the error says what was lost and that the pieces failed too, and carries the engine's answer
    assert "lost" in str(exc.value) and "failed too" in str(exc.value)
    # (HTML mode translated the text nodes apart and dropped their spaces; the lost placeholder took them along)
    assert exc.value.answers == {"title": 'START YOUROF <x id="1"/>'}


def test_google_cloud_gets_a_list_in_html_mode_with_the_key_in_a_header() -> None:
    with FakeGoogleTranslate(GOOGLE_KEY) as server:
        loc = localize_item(ITEM, "fr-FR", settings("google-cloud", server), glossary=GLOSSARY, secrets=SECRETS)
        [req] = server.translate_requests()
    # Then one request carried the four fields in HTML mode; the key travelled in X-Goog-Api-Key, not the URL
    assert req.json()["format"] == "html" and len(req.json()["q"]) == 4
    assert req.header("X-Goog-Api-Key") == GOOGLE_KEY and req.query == {}
    assert loc.fields == expected(ITEM) and set(loc.strategies.values()) == {"placeholders"}
