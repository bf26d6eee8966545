"""One mapping from BCP 47 to each engine's and platform's codes, tested per system."""

from __future__ import annotations

import deepl
import pytest
from deep_translator.constants import (
    GOOGLE_LANGUAGES_TO_CODES,
    LIBRE_LANGUAGES_TO_CODES,
    MY_MEMORY_LANGUAGES_TO_CODES,
)

from syndicate.base.locales import (
    UnsupportedLocale,
    engine_code,
    html_attributes,
    html_dir,
    is_rtl,
    maximize,
    platform_code,
    supports,
)
from syndicate.channels.markup import with_direction

SAMPLE = ["en", "en-US", "en-GB", "en-AU", "en-CA", "pt", "pt-BR", "pt-PT", "pt-AO", "zh", "zh-CN", "zh-TW", "zh-HK",
          "zh-Hant", "zh-Hans-SG", "he", "he-IL", "jv", "fil", "de-DE", "de-AT", "de-CH", "fr-FR", "fr-CA", "ja-JP",
          "es-ES", "es-MX", "es-419", "nb-NO", "no", "sr-RS", "sr-Latn-RS", "ar-EG", "ko-KR", "it-IT", "ru", "tr",
          "fa-AF", "uk-UA", "pl-PL", "nl-NL", "sv-SE", "id-ID", "vi-VN", "hi-IN"]


@pytest.mark.parametrize(("tag", "code"), [
    ("en-US", "EN-US"), ("en", "EN-US"), ("en-CA", "EN-US"), ("en-GB", "EN-GB"), ("en-AU", "EN-GB"),
    ("pt-BR", "PT-BR"), ("pt", "PT-BR"), ("pt-PT", "PT-PT"), ("pt-AO", "PT-PT"),
    ("zh-CN", "ZH-HANS"), ("zh", "ZH-HANS"), ("zh-Hans-SG", "ZH-HANS"), ("zh-TW", "ZH-HANT"), ("zh-HK", "ZH-HANT"),
    ("zh-Hant", "ZH-HANT"), ("de-AT", "DE"), ("ja-JP", "JA"), ("es-ES", "ES"), ("es-MX", "ES-419"),
    ("es-419", "ES-419"), ("nb-NO", "NB"), ("no", "NB"), ("fil", "TL"), ("he-IL", "HE"),
])
def test_deepl_target_codes_carry_the_variant_deepl_wants(tag: str, code: str) -> None:
    # Given a BCP 47 target / When mapped for DeepL / Then it is DeepL's target code
    assert engine_code("deepl", tag) == code


@pytest.mark.parametrize(("tag", "code"), [("en-US", "EN"), ("en-GB", "EN"), ("pt-BR", "PT"), ("zh-TW", "ZH"),
                                           ("de-CH", "DE")])
def test_deepl_source_codes_have_no_region(tag: str, code: str) -> None:
    # Given a source locale / When mapped as a DeepL source / Then the region is dropped
    assert engine_code("deepl", tag, role="source") == code


@pytest.mark.parametrize(("tag", "code"), [
    ("zh-TW", "zh-TW"), ("zh-Hant-HK", "zh-TW"), ("zh-CN", "zh-CN"), ("zh", "zh-CN"), ("he-IL", "iw"),
    ("jv", "jw"), ("fil", "tl"), ("nb-NO", "no"), ("pt-BR", "pt"), ("de-AT", "de"), ("ja-JP", "ja"),
])
def test_google_codes_are_the_legacy_codes_deep_translator_accepts(tag: str, code: str) -> None:
    # When mapped for Google / Then the code is Google's (iw, jw, zh-TW) and deep-translator knows it
    assert engine_code("google", tag) == code
    assert code in GOOGLE_LANGUAGES_TO_CODES.values()


@pytest.mark.parametrize(("tag", "code"), [
    ("zh-TW", "zh-Hant"), ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"), ("pt-BR", "pt"), ("pt-PT", "pt-PT"),
    ("fr-CA", "fr-CA"), ("fr-FR", "fr"), ("sr-Latn-RS", "sr-Latn"), ("sr-RS", "sr-Cyrl"), ("fa-AF", "prs"),
    ("nb-NO", "nb"), ("no", "nb"), ("he-IL", "he"), ("ja-JP", "ja"),
])
def test_microsoft_codes_use_scripts_and_the_few_regional_variants(tag: str, code: str) -> None:
    # When mapped for Microsoft / Then scripts for Chinese and Serbian, regions only where Microsoft has them
    assert engine_code("microsoft", tag) == code


@pytest.mark.parametrize(("tag", "code"), [("zh-CN", "zh"), ("pt-BR", "pt"), ("es-MX", "es"), ("ja-JP", "ja")])
def test_libretranslate_codes_are_languages_deep_translator_accepts(tag: str, code: str) -> None:
    # When mapped for LibreTranslate / Then a bare language that deep-translator's table holds
    assert engine_code("libretranslate", tag) == code
    assert code in LIBRE_LANGUAGES_TO_CODES.values()


@pytest.mark.parametrize(("tag", "code"), [("de-AT", "de-AT"), ("de", "de-DE"), ("ja", "ja-JP"), ("zh-TW", "zh-TW"),
                                           ("zh-Hans-SG", "zh-CN"), ("he", "he-IL"), ("no", "nb-NO")])
def test_mymemory_codes_carry_a_region(tag: str, code: str) -> None:
    # When mapped for MyMemory / Then language-REGION, the region from CLDR when the tag has none
    assert engine_code("mymemory", tag) == code
    assert code in MY_MEMORY_LANGUAGES_TO_CODES.values()


@pytest.mark.parametrize("engine", ["google", "libretranslate", "mymemory"])
def test_every_code_we_produce_is_one_deep_translator_accepts(engine: str) -> None:
    # Given many tags / When mapped for a deep-translator engine / Then deep-translator's own table has the code
    tables = {"google": GOOGLE_LANGUAGES_TO_CODES, "libretranslate": LIBRE_LANGUAGES_TO_CODES,
              "mymemory": MY_MEMORY_LANGUAGES_TO_CODES}
    for tag in SAMPLE:
        if supports(engine, tag):
            assert engine_code(engine, tag) in tables[engine].values(), tag


def test_every_deepl_code_we_produce_is_a_language_the_deepl_client_lists() -> None:
    # Given the languages deepl-python knows / When our DeepL codes are produced / Then each is among them
    known = {v.upper() for k, v in vars(deepl.Language).items() if k.isupper() and isinstance(v, str)}
    for tag in SAMPLE:
        for role in ("source", "target"):
            if supports("deepl", tag, role=role):  # type: ignore[arg-type]
                assert engine_code("deepl", tag, role=role) in known, (tag, role)  # type: ignore[arg-type]


@pytest.mark.parametrize(("engine", "tag"), [("libretranslate", "zh-TW"), ("libretranslate", "he-IL"),
                                             ("deepl", "am-ET"), ("microsoft", "jv"), ("google", "nn-NO")])
def test_an_unsupported_target_is_refused_with_the_engine_and_locale_named(engine: str, tag: str) -> None:
    # When an engine cannot translate into a locale / Then the error names both and says what to do
    with pytest.raises(UnsupportedLocale) as exc:
        engine_code(engine, tag)
    assert engine in str(exc.value) and tag in str(exc.value) and "choose another engine" in str(exc.value)
    assert not supports(engine, tag)


def test_pseudo_and_none_take_any_valid_tag() -> None:
    # When mapped for the local engines / Then the canonical tag is used
    assert engine_code("pseudo", "zh-hant-tw") == "zh-Hant-TW"
    assert engine_code("none", "sw-KE") == "sw-KE"


@pytest.mark.parametrize(("tag", "linkedin", "wordpress"), [
    ("en-US", "en_US", "en-US"), ("de-AT", "de_AT", "de-AT"), ("zh-Hant-TW", "zh_TW", "zh-TW"),
    ("ja", "ja_JP", "ja-JP"), ("pt", "pt_BR", "pt-BR"),
])
def test_platform_codes_for_linkedin_and_wordpress(tag: str, linkedin: str, wordpress: str) -> None:
    # When mapped for LinkedIn and WordPress / Then language_COUNTRY and language-COUNTRY
    assert platform_code("linkedin", tag) == linkedin
    assert platform_code("wordpress", tag) == wordpress
    assert platform_code("html", tag.lower()) == tag


def test_a_platform_needing_a_country_refuses_a_world_region() -> None:
    # Given Latin American Spanish (region 419, not a country) / When LinkedIn needs a country / Then refused clearly
    with pytest.raises(UnsupportedLocale, match="linkedin needs a country"):
        platform_code("linkedin", "es-419")


def test_maximize_fills_script_and_region_from_cldr() -> None:
    # When tags are maximized / Then CLDR likely subtags fill what is missing, and given parts win
    assert maximize("zh-TW") == ("zh", "Hant", "TW")
    assert maximize("zh") == ("zh", "Hans", "CN")
    assert maximize("sr-ME") == ("sr", "Latn", "ME")
    assert maximize("pt") == ("pt", "Latn", "BR")
    assert maximize("en-GB") == ("en", "Latn", "GB")


@pytest.mark.parametrize(("tag", "rtl"), [("ar", True), ("ar-EG", True), ("he-IL", True), ("fa-IR", True),
                                          ("ur", True), ("sd", True), ("pa-Arab", True), ("ks-Deva", False),
                                          ("az-Arab", True), ("en-US", False), ("ja-JP", False), ("uz", False)])
def test_right_to_left_follows_the_script(tag: str, rtl: bool) -> None:
    # When asked whether a locale is written right to left / Then its (likely) script decides
    assert is_rtl(tag) is rtl
    assert html_dir(tag) == ("rtl" if rtl else "ltr")


def test_html_helpers_mark_rtl_text_and_leave_ltr_text_alone() -> None:
    # Given an HTML body / When wrapped for Arabic and for German / Then only Arabic gets dir="rtl"
    assert with_direction("<p>مرحبا</p>", "ar-EG") == '<div lang="ar-EG" dir="rtl"><p>مرحبا</p></div>'
    assert with_direction("<p>Hallo</p>", "de-DE") == "<p>Hallo</p>"
    assert html_attributes("he-IL") == 'lang="he-IL" dir="rtl"'
    assert html_attributes("de-DE") == 'lang="de-DE"'
