"""Localization that survives real engines, through the whole pipeline (embedded worker, sandbox
accounts writing each post to the outbox):

* a LibreTranslate whose text mode alters markup (``<x id="0"/>`` → ``<x íd="0"/>``) still yields
  published French and Brazilian Portuguese posts with every URL, mention, hashtag and glossary
  term intact; so does one that drops or repeats a placeholder in its HTML mode;
* a one-off fault of any engine delays a localization by a retry within the step: it is done in
  its first attempt, not left for the ledger's retry minutes later;
* when both strategies fail the locale is held, and ``syndicate review`` shows the engine's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client import REGISTRY

from syndicate import Runtime, submit
from syndicate.cli import main
from syndicate.worker.host import run_until_settled
from tests.fakes.base import FakeServer, Fault
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator
from tests.fakes.mymemory import FakeMyMemory
from tests.helpers import item_data, simple_route

LIBRE_KEY = "lt-3c4d5e6f708192a3b4c5d6e7f8091a2b"
DEEPL_KEY = "dk-2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819:fx"
MS_KEY = "ms-4d5e6f708192a3b4c5d6e7f8091a2b3c"
ENV = {"LIBRETRANSLATE_API_KEY": LIBRE_KEY, "DEEPL_AUTH_KEY": DEEPL_KEY, "MS_TRANSLATOR_KEY": MS_KEY}
GLOSSARY = {"do_not_translate": ["Syndicate"],
            "terms": {"free trial": {"fr": "essai gratuit", "pt": "teste gratuito", "de": "kostenlose Testversion"}}}
SPANS = ["https://docs.example.org/guide?ref=launch&x=1", "hello@example.com", "@devrel_team", "#launch2026",
         "@support", "#syndication", "Syndicate"]
TERM = {"fr-FR": "essai gratuit", "pt-BR": "teste gratuito"}


def launch_item(**kw: Any) -> dict[str, Any]:
    return item_data(
        id="launch-1",
        title="Start your free trial of Syndicate",
        summary="Join @devrel_team for the #launch2026 Q&A webinar.",
        body=("Read the guide at https://docs.example.org/guide?ref=launch&x=1 or write to hello@example.com.\n\n"
              "Your free trial includes @support and #syndication."),
        cta={"text": "Start the free trial", "url": "https://example.com/trial"}, **kw)


def accounts(*ids: str) -> dict[str, Any]:
    return {i: {"adapter": "sandbox", "options": {"style": "article", "max_length": 100_000}} for i in ids}


def profile(engine: str, fake: FakeServer) -> dict[str, Any]:
    timeouts = {"read_timeout_s": 1.0, "connect_timeout_s": 1.0}
    options = {
        "libretranslate": {"api_key": "${LIBRETRANSLATE_API_KEY}", "base_url": fake.url},
        "deepl": {"auth_key": "${DEEPL_AUTH_KEY}", "server_url": fake.url},
        "google": {"base_url": f"{fake.url}/m"},
        "microsoft": {"api_key": "${MS_TRANSLATOR_KEY}", "base_url": fake.url},
        "mymemory": {"base_url": f"{fake.url}/get"},
    }[engine]
    return {"engine": engine, "options": {**options, **timeouts}}


def runtime(config_dir: Callable[..., Path], url: str, engine: str, fake: FakeServer, locales: list[str],
            **translation: Any) -> Runtime:
    routes = [simple_route(f"r-{loc.lower()}", [loc], [f"a-{loc.lower()}"], translation={
        "engine": engine, "glossary": "glossaries/launch.yaml", **translation}) for loc in locales]
    d = config_dir(accounts=accounts(*(f"a-{loc.lower()}" for loc in locales)), routes=routes,
                   settings={"translation": {"engines": {engine: profile(engine, fake)}}},
                   extra_files={"glossaries/launch.yaml": yaml.safe_dump(GLOSSARY, allow_unicode=True)})
    return Runtime.create(config=d, database_url=url, redis_url="", environ=ENV)


def settle(rt: Runtime) -> list[Any]:
    return run_until_settled(rt, lambda: rt.ledger.publications(item_id="launch-1"), threads=4,
                             timeout=timedelta(seconds=60))


def published_text(outbox: Path, locale: str) -> str:
    return (outbox / f"a-{locale.lower()}" / "launch-1" / f"r1.{locale}.0.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("mangle", ["alter", "drop", "duplicate"])
def test_libretranslate_damaging_markup_still_publishes_french_and_portuguese_with_every_span_intact(
        config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, mangle: str) -> None:
    # Given a LibreTranslate instance that alters markup in text mode (or drops or repeats a placeholder)
    with FakeLibreTranslate(LIBRE_KEY) as libre:
        libre.mangle = mangle
        with runtime(config_dir, sqlite_url, "libretranslate", libre, ["fr-FR", "pt-BR"]) as rt:
            # When an item is submitted and the embedded worker runs
            submit(launch_item(), runtime=rt, ignore_schedule=True)
            pubs = settle(rt)
            rows = {loc: rt.ledger.localization("launch-1", 1, loc) for loc in TERM}
    # Then both posts were published, from machine translations...
    assert sorted((p.locale, p.state) for p in pubs) == [("fr-FR", "published"), ("pt-BR", "published")]
    for locale, row in rows.items():
        assert row is not None and row["state"] == "done" and set(row["sources"].values()) == {"machine"}
        text = published_text(outbox, locale)
        # ...with every URL, mention, hashtag and e-mail address byte for byte, and the glossary term in the locale
        for span in SPANS:
            assert span in text, (locale, span)
        assert TERM[locale] in text and "free trial" not in text.lower()
        assert "READ THE GUIDE AT https://docs.example.org/guide?ref=launch&x=1 OR WRITE TO hello@example.com." in text
        assert "Q&A" in text
        # ...and the ledger says how each field was made
        strategies = row["detail"]["strategies"]
        assert set(strategies) == {"title", "summary", "body", "cta_text"}
        assert set(strategies.values()) == ({"placeholders"} if mangle == "alter" else {"placeholders", "split"})


@pytest.mark.parametrize(("engine", "fake"), [
    ("deepl", lambda: FakeDeepL(DEEPL_KEY)),
    ("google", FakeGoogleTranslate),
    ("microsoft", lambda: FakeMicrosoftTranslator(MS_KEY)),
    ("libretranslate", lambda: FakeLibreTranslate(LIBRE_KEY)),
    ("mymemory", FakeMyMemory),
])
def test_a_one_off_503_delays_a_localization_by_a_retry_not_by_the_ledgers_next_attempt(
        config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, engine: str,
        fake: Callable[[], FakeServer]) -> None:
    # Given an engine whose next answer is a 503
    with fake() as server:
        server.fail_next(Fault("status", status=503, body={"message": "Service unavailable"}))
        with runtime(config_dir, sqlite_url, engine, server, ["de-DE"]) as rt:
            # When an item is submitted and the worker runs
            submit(launch_item(), runtime=rt, ignore_schedule=True)
            pubs = settle(rt)
            row = rt.ledger.localization("launch-1", 1, "de-DE")
            kinds = [e["kind"] for e in rt.ledger.events(item_id="launch-1")]
    # Then the post was published, its localization done in its first attempt (retried within the step),
    # with no failed attempt in the audit trail for the ledger to retry minutes later
    assert [p.state for p in pubs] == ["published"]
    assert row is not None and row["state"] == "done" and row["attempts"] == 1
    assert "localization-failed" not in kinds
    assert "@devrel_team" in published_text(outbox, "de-DE")


def _damaged(engine: str, strategy: str) -> float:
    return REGISTRY.get_sample_value("syndicate_mt_damaged_answers_total",
                                     {"engine": engine, "strategy": strategy}) or 0.0


def test_when_both_strategies_fail_the_locale_is_held_and_review_shows_the_engines_answer(
        config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given LibreTranslate dropping a placeholder in HTML mode and damaging plain text too
    before = _damaged("libretranslate", "placeholders"), _damaged("libretranslate", "split")
    with FakeLibreTranslate(LIBRE_KEY) as libre:
        libre.mangle = "drop+invent"
        with runtime(config_dir, sqlite_url, "libretranslate", libre, ["fr-FR"]) as rt:
            cfg = rt.config.directory
            submit(launch_item(), runtime=rt, ignore_schedule=True)
            pubs = settle(rt)
            row = rt.ledger.localization("launch-1", 1, "fr-FR")
    # Then French is held: nothing published, the reason recorded, the engine's answer kept
    assert [p.state for p in pubs] == ["scheduled"] and not (outbox / "a-fr-fr").exists()
    assert row is not None and row["state"] == "failed" and "failed too" in row["error"]
    assert row["detail"]["answers"] == {"title": 'START YOUROF <x id="1"/>'}
    # and both damaged answers were counted
    assert _damaged("libretranslate", "placeholders") == before[0] + 1
    assert _damaged("libretranslate", "split") == before[1] + 1
    # When a reviewer looks
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", sqlite_url)
    shown = CliRunner().invoke(main, ["review", "launch-1", "--locale", "fr-FR", "--config", str(cfg)])
    # Then the review shows the engine's refused answer next to the source, and the ways forward
    assert shown.exit_code == 0, shown.output
    assert "== title [refused]" in shown.output and 'START YOUROF <x id="1"/>' in shown.output
    assert "Nothing was published in fr-FR" in shown.output and "--localizations" in shown.output
