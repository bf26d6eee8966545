"""Localizing one item into one locale: precedence per field, protection, glossaries, templates,
batching, the cache and fallbacks. Engines are the loopback fakes; the cache is a real ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syndicate.base.secrets import SecretSource
from syndicate.errors import LocalizationError, PlaceholderMismatch, TranslationRejected, TranslationUnavailable
from syndicate.ledger import Ledger
from syndicate.localization import LedgerCache, localize_item
from syndicate.localization.localize import open_translators
from syndicate.model.config import TranslationSettings
from syndicate.model.glossary import Glossary, GlossaryFile
from syndicate.model.item import ContentItem, parse_item
from tests.fakes.base import Fault, refused_url
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.machine_translation import fake_translate
from tests.helpers import item_data

DEEPL_KEY = "fake-deepl-key:fx"
SECRETS = SecretSource(environ={"DEEPL_AUTH_KEY": DEEPL_KEY})


@pytest.fixture
def deepl() -> Iterator[FakeDeepL]:
    with FakeDeepL(DEEPL_KEY) as fake:
        yield fake


@pytest.fixture
def google() -> Iterator[FakeGoogleTranslate]:
    with FakeGoogleTranslate() as fake:
        yield fake


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as led:
        led.migrate()
        yield led


def item(**kw: Any) -> ContentItem:
    return parse_item(item_data(**kw))


def settings(**kw: Any) -> TranslationSettings:
    return TranslationSettings.model_validate(kw)


def deepl_settings(fake: FakeDeepL, **kw: Any) -> TranslationSettings:
    return settings(engine="deepl", options={"auth_key": "${DEEPL_AUTH_KEY}", "server_url": fake.url,
                                             "read_timeout_s": 2.0}, **kw)


def test_a_human_translation_wins_per_field_and_the_engine_completes_the_rest(deepl: FakeDeepL) -> None:
    # Given a German override of the title only
    it = item(overrides={"locales": {"de-DE": {"title": "Ein Titel"}}})
    # When localized into German with DeepL
    loc = localize_item(it, "de-DE", deepl_settings(deepl), secrets=SECRETS)
    # Then the title is the human one and the other fields are machine translations, each recorded so
    assert loc.fields["title"] == "Ein Titel"
    assert loc.sources == {"title": "human", "summary": "machine", "body": "machine", "cta_text": "machine"}
    assert loc.fields["summary"] == "A SUMMARY THAT SAYS WHAT THE ITEM IS ABOUT."
    assert len(deepl.translate_requests()) == 1
    assert deepl.translate_requests()[0].json()["text"][0].startswith("A summary")


def test_a_complete_human_translation_sends_nothing_to_the_engine(deepl: FakeDeepL) -> None:
    # Given an override of every field
    fields = {"title": "T", "summary": "S", "body": "B", "cta_text": "C"}
    it = item(overrides={"locales": {"de-DE": fields}})
    # When localized / Then every field is human and no request was made
    loc = localize_item(it, "de-DE", deepl_settings(deepl), secrets=SECRETS)
    assert loc.fields == fields and set(loc.sources.values()) == {"human"} and loc.engine == "human"
    assert deepl.requests == []


def test_a_translation_for_another_locale_of_the_language_is_borrowed_with_a_warning(deepl: FakeDeepL) -> None:
    # Given a de-DE override and a de-AT target
    it = item(overrides={"locales": {"de-DE": {"title": "Ein Titel"}}})
    # When localized into de-AT / Then the German title serves, and a warning says so
    loc = localize_item(it, "de-AT", deepl_settings(deepl), secrets=SECRETS)
    assert loc.fields["title"] == "Ein Titel" and loc.sources["title"] == "human"
    assert "de-AT uses the human translation written for de-DE" in loc.warnings


def test_a_locale_of_the_source_language_publishes_the_source_text(deepl: FakeDeepL) -> None:
    # Given an en-US item / When localized into en-GB / Then the source is used and nothing is sent
    loc = localize_item(item(), "en-GB", deepl_settings(deepl), secrets=SECRETS)
    assert set(loc.sources.values()) == {"source"} and loc.fields["title"] == "A title"
    assert deepl.requests == []


def test_protected_spans_and_glossary_terms_reach_the_engine_as_placeholders(deepl: FakeDeepL) -> None:
    # Given a body with a URL, a mention, a hashtag, a glossary term and a do-not-translate term
    body = "Start your free trial of Syndicate at https://example.com/trial?x=1 with @devrel #launch"
    glossary = Glossary(GlossaryFile(terms={"free trial": {"de": "kostenlose Testversion"}}))
    # When localized into German
    loc = localize_item(item(body=body), "de-DE", deepl_settings(deepl, do_not_translate=["Syndicate"]),
                        glossary=glossary, secrets=SECRETS)
    # Then the engine saw placeholders only, and the output has the spans intact and the term translated
    sent = deepl.translate_requests()[0].json()["text"][2]
    assert "https://" not in sent and "@devrel" not in sent and "Syndicate" not in sent and "free trial" not in sent
    assert loc.fields["body"] == ("START YOUR kostenlose Testversion OF Syndicate AT https://example.com/trial?x=1 "
                                  "WITH @devrel #launch")


def test_the_engine_is_asked_for_xml_tag_handling_so_placeholders_survive(deepl: FakeDeepL) -> None:
    # When DeepL is called / Then tag handling is XML and x is a non-splitting, ignored tag
    localize_item(item(), "de-DE", deepl_settings(deepl), secrets=SECRETS)
    body = deepl.translate_requests()[0].json()
    assert body["tag_handling"] == "xml" and body["ignore_tags"] == ["x"] and body["non_splitting_tags"] == ["x"]
    assert body["source_lang"] == "EN" and body["target_lang"] == "DE"


def test_html_bodies_keep_their_markup(deepl: FakeDeepL) -> None:
    # Given an HTML body / When localized / Then tags and attributes come back unchanged
    it = item(body_format="html", body='<p>Read <a href="https://example.com/x">the guide</a> &amp; more</p>')
    loc = localize_item(it, "de-DE", deepl_settings(deepl), secrets=SECRETS)
    assert it.body.startswith('<p>Read <a href="https://example.com/x"')  # as sanitized at intake
    assert loc.fields["body"] == fake_translate(it.body)
    assert loc.fields["body"].startswith('<p>READ <a href="https://example.com/x"')


def test_templates_render_in_the_target_locale_after_translation() -> None:
    # Given a summary with a date template and a route in Tokyo
    it = item(summary="Live on {publish_at:date:long}.", publish_at="2026-06-01T22:30:00Z")
    # When pseudo-localized into Japanese / Then the template is a Japanese date in Tokyo's time zone
    loc = localize_item(it, "ja-JP", settings(engine="pseudo"), timezone=ZoneInfo("Asia/Tokyo"))
    assert "2026年6月2日" in loc.fields["summary"] and "{publish_at" not in loc.fields["summary"]


def test_a_long_body_is_split_at_paragraphs_under_the_engine_limit(google: FakeGoogleTranslate) -> None:
    # Given a body of 12 paragraphs of ~100 characters and a 400-character request limit
    paragraphs = [f"Paragraph {i} " + "word " * 18 for i in range(12)]
    it = item(body="\n\n".join(p.strip() for p in paragraphs))
    s = settings(engine="google", options={"base_url": google.base_url, "max_request_chars": 400})
    # When localized
    loc = localize_item(it, "de-DE", s)
    # Then more than one request was needed, none over the limit, and the paragraphs came back whole and in order
    sent = [r.query["q"][0] for r in google.translate_requests()]
    assert len(sent) > 1 and all(len(q) <= 400 for q in sent)
    assert loc.fields["body"].split("\n\n") == [p.strip().upper() for p in paragraphs]


def test_unchanged_fields_come_from_the_cache_and_are_recorded_as_cache(deepl: FakeDeepL, ledger: Ledger) -> None:
    # Given a localization already made with the ledger cache
    cache = LedgerCache(ledger)
    first = localize_item(item(), "de-DE", deepl_settings(deepl), cache=cache, secrets=SECRETS)
    # When the same item is localized again, and again with a changed URL and title
    second = localize_item(item(), "de-DE", deepl_settings(deepl), cache=cache, secrets=SECRETS)
    third = localize_item(item(title="A new title", body="Some body text with a link https://example.com/other "
                               "and @someone."), "de-DE", deepl_settings(deepl), cache=cache, secrets=SECRETS)
    # Then the second sent nothing, and the third sent only the new title (the body's masked text is unchanged)
    assert first.sources["title"] == "machine" and set(second.sources.values()) == {"cache"}
    assert second.fields == first.fields and second.requests == 0 and second.cache_hits == 4
    assert third.sources == {"title": "machine", "summary": "cache", "body": "cache", "cta_text": "cache"}
    assert "https://example.com/other" in third.fields["body"]
    assert [r.json()["text"] for r in deepl.translate_requests()][1:] == [["A new title"]]


def test_a_cache_entry_is_shared_by_locales_the_engine_does_not_tell_apart(deepl: FakeDeepL, ledger: Ledger) -> None:
    # Given German translated for de-DE / When de-AT is localized (both DeepL "DE") / Then nothing is sent
    cache = LedgerCache(ledger)
    localize_item(item(), "de-DE", deepl_settings(deepl), cache=cache, secrets=SECRETS)
    loc = localize_item(item(), "de-AT", deepl_settings(deepl), cache=cache, secrets=SECRETS)
    assert set(loc.sources.values()) == {"cache"} and len(deepl.translate_requests()) == 1


def test_a_changed_glossary_is_a_cache_miss(deepl: FakeDeepL, ledger: Ledger) -> None:
    # Given a cached localization / When the route's do-not-translate list changes / Then it is translated again
    cache = LedgerCache(ledger)
    localize_item(item(), "de-DE", deepl_settings(deepl), cache=cache, secrets=SECRETS)
    loc = localize_item(item(), "de-DE", deepl_settings(deepl, do_not_translate=["Example"]), cache=cache,
                        secrets=SECRETS)
    assert set(loc.sources.values()) == {"machine"} and len(deepl.translate_requests()) == 2


def test_a_dropped_placeholder_is_translated_again_in_pieces_by_the_same_engine(deepl: FakeDeepL) -> None:
    # Given DeepL losing a placeholder in its markup mode, and Google as the route's fallback
    deepl.mangle = "drop"
    s = deepl_settings(deepl, fallback="google", fallback_options={"base_url": "http://127.0.0.1:9/m"})
    # When localized
    loc = localize_item(item(), "de-DE", s, secrets=SECRETS)
    # Then DeepL translated the damaged field again, in pieces around its spans, and no fallback was needed
    assert loc.fallback is None and loc.engine == "deepl"
    assert loc.strategies == {"title": "placeholders", "summary": "placeholders", "body": "split",
                              "cta_text": "placeholders"}
    assert loc.fields["body"] == "SOME BODY TEXT WITH A LINK https://example.com/more AND @someone."
    assert loc.damaged == 1 and loc.strategy == "split"
    assert any("lost ['https://example.com/more']" in w and "in pieces" in w for w in loc.warnings)
    # and the second request carried the pieces as plain text, without tag handling
    second = deepl.translate_requests()[1].json()
    assert "tag_handling" not in second and second["preserve_formatting"] is True
    assert all("<x" not in t and "https://" not in t for t in second["text"])


def test_when_both_strategies_fail_the_second_engine_translates(deepl: FakeDeepL, google: FakeGoogleTranslate) -> None:
    # Given DeepL losing a placeholder, and inventing one in its plain text answers too; Google as the fallback
    deepl.mangle = "drop+invent"
    s = deepl_settings(deepl, fallback="google", fallback_options={"base_url": google.base_url})
    # When localized
    loc = localize_item(item(), "de-DE", s, secrets=SECRETS)
    # Then Google's answer is used, recorded as machine, and the fallback is not silent
    assert loc.fallback == "google" and loc.engine == "deepl>google"
    assert set(loc.sources.values()) == {"machine"} and "https://example.com/more" in loc.fields["body"]
    assert any("lost ['https://example.com/more']" in w and "fallback engine 'google'" in w for w in loc.warnings)
    assert len(google.translate_requests()) == 1


def test_when_both_strategies_fail_with_hold_the_error_carries_the_engines_answer(deepl: FakeDeepL) -> None:
    # Given DeepL repeating a placeholder, and damaging plain text pieces too, on a route that holds
    deepl.mangle = "duplicate+invent"
    with pytest.raises(PlaceholderMismatch, match="repeated") as exc:
        localize_item(item(), "de-DE", deepl_settings(deepl, fallback="hold"), secrets=SECRETS)
    # Then nothing damaged is returned, and the refused answer is kept for the reviewer
    assert exc.value.answers == {"body": 'SOME BODY TEXT WITH A LINK <x id="0"/> <x id="0"/> AND <x id="1"/>.'}


def test_fallback_source_publishes_the_source_text_and_says_so(deepl: FakeDeepL) -> None:
    # Given DeepL out of quota and a route whose fallback is the source text
    deepl.fail_next(FakeDeepL.quota_exceeded())
    loc = localize_item(item(), "de-DE", deepl_settings(deepl, fallback="source"), secrets=SECRETS)
    # Then the source is used, recorded as source, and a warning names the quota error
    assert loc.fallback == "source" and set(loc.sources.values()) == {"source"} and loc.fields["title"] == "A title"
    assert any("Quota" in w and "publishes the source text" in w for w in loc.warnings)
    assert loc.needs_review


def test_when_both_engines_fail_and_one_was_unreachable_the_error_is_transient(deepl: FakeDeepL) -> None:
    # Given DeepL damaging the text in both strategies, and a fallback that cannot be reached
    deepl.mangle = "drop+invent"
    # (one in-step retry of the fallback, not the default three: the retries are not what is tested)
    s = deepl_settings(deepl, fallback="google", fallback_options={"base_url": refused_url() + "/m",
                                                                   "read_timeout_s": 1.0, "retry_attempts": 2})
    # Then the combined error is transient (a later attempt may work) and names both engines
    with pytest.raises(TranslationUnavailable) as exc:
        localize_item(item(), "de-DE", s, secrets=SECRETS)
    assert "deepl" in str(exc.value) and "google" in str(exc.value)


def test_an_unset_credential_variable_lets_the_fallback_translate(deepl: FakeDeepL) -> None:
    # Given DEEPL_AUTH_KEY unset and the pseudo engine as fallback
    s = deepl_settings(deepl, fallback="pseudo")
    with open_translators(s, secrets=SecretSource(environ={})) as translators:
        loc = localize_item(item(), "de-DE", s, translators=translators, secrets=SecretSource(environ={}))
    # Then the fallback translated, and the warning names the variable, never a value
    assert loc.fallback == "pseudo" and any("DEEPL_AUTH_KEY, which is not set" in w for w in loc.warnings)


def test_a_route_without_an_engine_cannot_translate() -> None:
    with pytest.raises(LocalizationError, match=r"sets no translation\.engine"):
        localize_item(item(), "de-DE", settings())


def test_an_engine_that_cannot_translate_into_the_locale_is_refused() -> None:
    # Given LibreTranslate (no Traditional Chinese) / Then the error says so and names the locale
    s = settings(engine="libretranslate", options={"base_url": "http://127.0.0.1:9"})
    with pytest.raises(TranslationRejected, match="cannot translate into zh-TW"):
        localize_item(item(), "zh-TW", s)


def test_the_engine_options_tell_the_timeout(deepl: FakeDeepL) -> None:
    # Given DeepL stalling longer than the read timeout / Then the localization fails as transient, quickly
    deepl.fail_next(Fault("stall", path="/v2/translate", seconds=2.0))
    s = settings(engine="deepl", options={"auth_key": "${DEEPL_AUTH_KEY}", "server_url": deepl.url,
                                          "read_timeout_s": 0.3, "retry_attempts": 1})
    with pytest.raises(TranslationUnavailable, match="timed out"):
        localize_item(item(), "de-DE", s, secrets=SECRETS, timezone=UTC)
