"""Localization through the whole pipeline, against loopback fakes of DeepL, Google, Microsoft and
LibreTranslate: protected spans intact in four locales, one request per (item, locale), none when
nothing changed, and the right outcome for damaged answers, quotas, timeouts and leaked keys, with
no key in any log line or ledger row."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from syndicate import Runtime, submit
from syndicate.base.logging import configure_logging
from syndicate.ledger.schema import metadata
from syndicate.localization.step import do_localize
from syndicate.worker.host import run_until_settled
from tests.fakes.base import Fault
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator
from tests.helpers import item_data, simple_route

DEEPL_KEY = "dk-3e1f7a2b-91c4-4d0e-8f6a-5b2c7d9e0f13:fx"
MS_KEY = "ms-7c0d2e4f6a8b0c1d3e5f7a9b1c3d5e7f"
LIBRE_KEY = "lt-5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d"
ENV = {"DEEPL_AUTH_KEY": DEEPL_KEY, "MS_TRANSLATOR_KEY": MS_KEY, "LIBRETRANSLATE_API_KEY": LIBRE_KEY}
KEYS = tuple(ENV.values())

GLOSSARY = {
    "do_not_translate": ["Syndicate"],
    "terms": {"free trial": {"de": "kostenlose Testversion", "fr": "essai gratuit", "ja": "無料トライアル",
                             "es": "prueba gratuita"}},
}
SPANS = ["https://example.com/guide?ref=launch&x=1", "hello@example.com", "`syndicate run --now`", "@devrel_team",
         "#launch2026", "@support", "#syndication", "Syndicate"]
TERM = {"de-DE": "kostenlose Testversion", "fr-FR": "essai gratuit", "ja-JP": "無料トライアル",
        "es-ES": "prueba gratuita"}


def launch_item(**kw: Any) -> dict[str, Any]:
    return item_data(
        id="launch-1",
        title="Start your free trial of Syndicate",
        summary="Join @devrel_team for the #launch2026 webinar on {publish_at:date:long}.",
        body=("Read the guide at https://example.com/guide?ref=launch&x=1 or write to hello@example.com.\n\n"
              "Run `syndicate run --now` to try it. Your free trial includes @support and #syndication."),
        cta={"text": "Start the free trial", "url": "https://example.com/trial"},
        publish_at="2026-06-01T09:00:00Z",
        **kw)


@dataclass
class Fakes:
    deepl: FakeDeepL
    google: FakeGoogleTranslate
    microsoft: FakeMicrosoftTranslator
    libre: FakeLibreTranslate

    def counts(self) -> dict[str, int]:
        return {"deepl": len(self.deepl.translate_requests()), "google": len(self.google.translate_requests()),
                "microsoft": len(self.microsoft.translate_requests()),
                "libretranslate": len(self.libre.translate_requests())}


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with FakeDeepL(DEEPL_KEY) as d, FakeGoogleTranslate() as g, FakeMicrosoftTranslator(MS_KEY) as m, \
            FakeLibreTranslate(LIBRE_KEY) as lt:
        yield Fakes(d, g, m, lt)


def article_accounts(*ids: str) -> dict[str, Any]:
    return {i: {"adapter": "sandbox", "options": {"style": "article", "max_length": 100_000}} for i in ids}


def profiles(f: Fakes) -> dict[str, Any]:
    """settings.yaml's engine profiles (ops' file): one per fake, named after its engine."""
    timeouts = {"read_timeout_s": 1.0, "connect_timeout_s": 1.0}
    return {"translation": {"engines": {
        "deepl": {"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}", "server_url": f.deepl.url,
                                                 **timeouts}},
        "google": {"engine": "google", "options": {"base_url": f.google.base_url, **timeouts}},
        "microsoft": {"engine": "microsoft", "options": {"api_key": "${MS_TRANSLATOR_KEY}",
                                                         "base_url": f.microsoft.url, **timeouts}},
        "libretranslate": {"engine": "libretranslate", "options": {"api_key": "${LIBRETRANSLATE_API_KEY}",
                                                                   "base_url": f.libre.url, **timeouts}},
    }}}


def routes(**deepl_extra: Any) -> list[dict[str, Any]]:
    return [
        simple_route("dach", ["de-DE"], ["a-de"], timezone="Europe/Berlin", translation={
            "engine": "deepl", "glossary": "glossaries/launch.yaml", **deepl_extra}),
        simple_route("france", ["fr-FR"], ["a-fr"], timezone="Europe/Paris", translation={
            "engine": "google", "glossary": "glossaries/launch.yaml"}),
        simple_route("japan", ["ja-JP"], ["a-ja"], timezone="Asia/Tokyo", translation={
            "engine": "microsoft", "glossary": "glossaries/launch.yaml"}),
        simple_route("spain", ["es-ES"], ["a-es"], timezone="Europe/Madrid", translation={
            "engine": "libretranslate", "glossary": "glossaries/launch.yaml"}),
    ]


def runtime(config_dir: Callable[..., Path], f: Fakes, url: str, **deepl_extra: Any) -> Runtime:
    d = config_dir(accounts=article_accounts("a-de", "a-fr", "a-ja", "a-es"), routes=routes(**deepl_extra),
                   settings=profiles(f),
                   extra_files={"glossaries/launch.yaml": yaml.safe_dump(GLOSSARY, allow_unicode=True)})
    return Runtime.create(config=d, database_url=url, redis_url="", environ=ENV)


def settle(rt: Runtime, item_id: str = "launch-1") -> list[Any]:
    return run_until_settled(rt, lambda: rt.ledger.publications(item_id=item_id), threads=4,
                             timeout=timedelta(seconds=60))


def ledger_dump(rt: Runtime) -> str:
    """Every row of every ledger table, as text."""
    with rt.ledger.engine.connect() as conn:
        return "\n".join(repr(dict(r)) for t in metadata.sorted_tables for r in conn.execute(select(t)).mappings())


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every log line, rendered by our logging setup (JSON, redacted), at DEBUG and above."""
    root = logging.getLogger()
    level = root.level
    configure_logging(json=True, level="DEBUG")
    ours = next(h for h in root.handlers if getattr(h, "_syndicate", False))
    capture = _Lines()
    capture.setFormatter(ours.formatter)
    root.addHandler(capture)
    yield capture.lines
    root.removeHandler(capture)
    root.setLevel(level)


def test_an_item_is_localized_into_four_locales_with_every_protected_span_intact(
        config_dir: Callable[..., Path], fakes: Fakes, ledger_url: str, outbox: Path) -> None:
    # Given four regions on four engines, a shared glossary, and an item with URLs, mentions,
    # hashtags, an e-mail address, code, a do-not-translate term and a glossary term
    with runtime(config_dir, fakes, ledger_url) as rt:
        # When it is submitted and the embedded worker runs
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        pubs = settle(rt)
        locs = {loc: rt.ledger.localization("launch-1", 1, loc) for loc in TERM}
    # Then every locale was published once, from machine translations
    assert sorted((p.locale, p.state) for p in pubs) == [
        ("de-DE", "published"), ("es-ES", "published"), ("fr-FR", "published"), ("ja-JP", "published")]
    for locale, row in locs.items():
        assert row is not None and row["state"] == "done"
        assert set(row["sources"].values()) == {"machine"}, locale
        text = "\n".join(row["fields"].values())
        # every protected span came back byte for byte, and the glossary term in the locale's words
        for span in SPANS:
            assert span in text, (locale, span)
        assert row["fields"]["cta_text"] == f"START THE {TERM[locale]}", locale
        assert "free trial" not in text.lower()
        published = (outbox / f"a-{locale[:2]}" / "launch-1" / f"r1.{locale}.0.txt").read_text(encoding="utf-8")
        assert "https://example.com/guide?ref=launch&x=1" in published and "@devrel_team" in published
    # the date template rendered per locale, in each route's time zone
    assert "1. Juni 2026" in locs["de-DE"]["fields"]["summary"]  # type: ignore[index]
    assert "2026年6月1日" in locs["ja-JP"]["fields"]["summary"]  # type: ignore[index]
    # and each engine was asked once for the whole item
    assert fakes.counts() == {"deepl": 1, "google": 1, "microsoft": 1, "libretranslate": 1}


def test_enqueuing_again_unchanged_sends_no_request(config_dir: Callable[..., Path], fakes: Fakes, sqlite_url: str,
                                                    outbox: Path) -> None:
    # Given the item localized and published in four locales
    with runtime(config_dir, fakes, sqlite_url) as rt:
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        settle(rt)
        assert fakes.counts() == {"deepl": 1, "google": 1, "microsoft": 1, "libretranslate": 1}
        # When the same revision is enqueued again, and then a new revision whose text did not change
        again = submit(launch_item(), runtime=rt, ignore_schedule=True)
        submit(launch_item(revision=2, tags=["testing", "launch"]), runtime=rt, ignore_schedule=True)
        pubs = settle(rt)
        rows = {loc: rt.ledger.localization("launch-1", 2, loc) for loc in TERM}
    # Then nothing more was sent: the repeat was a no-op and revision 2 came from the cache
    assert again.status == "unchanged"
    assert fakes.counts() == {"deepl": 1, "google": 1, "microsoft": 1, "libretranslate": 1}
    assert all(set(r["sources"].values()) == {"cache"} for r in rows.values() if r)
    assert {p.state for p in pubs if p.revision == 2} == {"published"}


def test_a_later_override_for_one_locale_keeps_the_other_fields_from_the_cache(
        config_dir: Callable[..., Path], fakes: Fakes, sqlite_url: str, outbox: Path) -> None:
    # Given the item localized once
    with runtime(config_dir, fakes, sqlite_url) as rt:
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        settle(rt)
        # When a regional marketer's German title arrives as revision 2
        submit(launch_item(revision=2, overrides={"locales": {"de-DE": {"title": "Jetzt kostenlos testen"}}}),
               runtime=rt, ignore_schedule=True)
        settle(rt)
        de = rt.ledger.localization("launch-1", 2, "de-DE")
    # Then the title is human, the rest cached, and no engine was asked again
    assert de is not None
    assert de["sources"] == {"title": "human", "summary": "cache", "body": "cache", "cta_text": "cache"}
    assert de["fields"]["title"] == "Jetzt kostenlos testen"
    assert fakes.counts() == {"deepl": 1, "google": 1, "microsoft": 1, "libretranslate": 1}


def test_a_dropped_placeholder_holds_the_locale_and_publishes_nothing_damaged(
        config_dir: Callable[..., Path], fakes: Fakes, sqlite_url: str, outbox: Path) -> None:
    # Given DeepL losing a placeholder, and damaging plain text pieces too, on a route that holds
    fakes.deepl.mangle = "drop+invent"
    with runtime(config_dir, fakes, sqlite_url, fallback="hold") as rt:
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        pubs = {p.locale: p for p in settle(rt)}
        row = rt.ledger.localization("launch-1", 1, "de-DE")
    # Then German failed with the reason, its publication waits unpublished, and the others went out
    assert row is not None and row["state"] == "failed" and "lost" in row["error"]
    # the engine's refused answer (of the placeholders strategy: the free trial's placeholder is lost) is kept
    assert row["detail"] == {"answers": {"title": 'START YOUR  OF <x id="1"/>'}}
    assert pubs["de-DE"].state == "scheduled" and not pubs["de-DE"].ready
    assert "localization failed" in (pubs["de-DE"].last_error or "")
    assert {pubs[loc].state for loc in ("fr-FR", "ja-JP", "es-ES")} == {"published"}
    assert not (outbox / "a-de").exists()


def test_a_duplicated_placeholder_is_translated_again_by_the_fallback_engine_and_says_so(
        config_dir: Callable[..., Path], fakes: Fakes, sqlite_url: str, outbox: Path, logs: list[str]) -> None:
    # Given DeepL repeating a placeholder (and damaging plain text pieces), with Microsoft as the route's fallback
    fakes.deepl.mangle = "duplicate+invent"
    with runtime(config_dir, fakes, sqlite_url, fallback="microsoft") as rt:
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        pubs = {p.locale: p for p in settle(rt)}
        row = rt.ledger.localization("launch-1", 1, "de-DE")
        events = [e for e in rt.ledger.events(item_id="launch-1") if e["kind"] == "localization-fallback"]
    # Then German was published from Microsoft's translation, and an event and a log line say so
    assert pubs["de-DE"].state == "published"
    assert row is not None and row["engine"] == "deepl>microsoft"
    assert "@devrel_team" in row["fields"]["summary"]
    assert len(events) == 1 and events[0]["detail"]["used"] == "microsoft" and "repeated" in events[0]["error"]
    assert any('"event": "localization.fallback"' in line and "microsoft" in line for line in logs)


def test_a_quota_error_defers_the_localization_and_a_one_off_timeout_does_not(
        config_dir: Callable[..., Path], fakes: Fakes, sqlite_url: str, outbox: Path) -> None:
    # Given DeepL answering 456 (quota) once, then stalling past the read timeout once
    with runtime(config_dir, fakes, sqlite_url) as rt:
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        rt.ledger.mark_localizations_requested("launch-1", 1)
        fakes.deepl.fail_next(FakeDeepL.quota_exceeded())
        do_localize(rt, "launch-1", 1, "de-DE")
        after_quota = rt.ledger.localization("launch-1", 1, "de-DE")
        fakes.deepl.fail_next(Fault("stall", path="/v2/translate", seconds=2.5))
        # When the localization is attempted again
        do_localize(rt, "launch-1", 1, "de-DE")
        done = rt.ledger.localization("launch-1", 1, "de-DE")
        pub = rt.ledger.publications(item_id="launch-1", locale="de-DE")[0]
    # Then the quota left the localization pending for a later attempt (a quota does not come back in seconds)...
    assert after_quota is not None and after_quota["state"] == "pending" and "Quota" in after_quota["error"]
    # ...and the timeout was retried within the second attempt, which succeeded
    assert done is not None and done["state"] == "done" and done["attempts"] == 2
    assert len(fakes.deepl.translate_requests()) == 3
    assert pub.ready and pub.state == "scheduled"


def test_no_key_reaches_a_log_line_or_a_ledger_row_even_when_an_engine_echoes_it(
        config_dir: Callable[..., Path], fakes: Fakes, sqlite_url: str, outbox: Path, logs: list[str]) -> None:
    # Given three engines whose error bodies repeat the key they were sent
    fakes.deepl.echo_key = True
    fakes.microsoft.echo_key = True
    fakes.libre.echo_key = True
    with runtime(config_dir, fakes, sqlite_url) as rt:
        submit(launch_item(), runtime=rt, ignore_schedule=True)
        pubs = {p.locale: p for p in settle(rt)}
        dump = ledger_dump(rt)
    # Then those locales failed as refused, with the error recorded...
    for locale in ("de-DE", "ja-JP", "es-ES"):
        assert pubs[locale].state == "scheduled" and "localization failed" in (pubs[locale].last_error or "")
    assert "[REDACTED]" in dump
    # ...and no key appears in any ledger table or any log line, at any level
    assert logs, "the log capture saw nothing"
    for key in KEYS:
        assert key not in dump
        assert not [line for line in logs if key in line]
