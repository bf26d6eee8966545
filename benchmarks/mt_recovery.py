"""How long a localization takes when the engine misbehaves, per engine and fault.

For each engine's loopback fake (``tests/fakes``: DeepL, Google's web endpoint and Cloud API,
Microsoft, LibreTranslate, MyMemory) and each scenario, localizes one item (title, summary, body
with a URL, a mention, a hashtag, an e-mail address and a paragraph break, CTA) into French with
``localize_item``, ``--rounds`` times, and prints the median wall time, the requests the engine
received and the strategy the ledger would record:

* ``clean``: a faithful engine;
* ``503 once``: the next request answers 503 (retried within the step after the backoff);
* ``429 once, Retry-After 1``: retried after the engine's second (engines whose answers we read
  ourselves; deep-translator hides the header, Google's web endpoint and MyMemory back off instead);
* ``timeout once``: the next request stalls past the 1 s read timeout;
* ``alter markup``: the engine alters tags in text mode (``<x íd="0"/>``);
* ``drop``: the engine loses a placeholder (its markup mode too), so the split strategy answers.

The ledger's own retry of a deferred localization comes ``localize_stale_after`` (120 s) later:
that is what a one-off fault cost before the in-step retry. Stops by itself (~1 min).

    python -m benchmarks.mt_recovery [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks._services import machine, table
from syndicate.base.logging import configure_logging
from syndicate.base.secrets import SecretSource
from syndicate.localization import localize_item
from syndicate.model.config import TranslationSettings
from syndicate.model.glossary import Glossary, GlossaryFile
from syndicate.model.item import parse_item
from tests.fakes.base import FakeServer, Fault
from tests.fakes.deepl import FakeDeepL
from tests.fakes.google_translate import FakeGoogleTranslate
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.microsoft_translator import FakeMicrosoftTranslator
from tests.fakes.mymemory import FakeMyMemory
from tests.helpers import item_data

KEYS = {"DEEPL": "bench-deepl:fx", "MS": "bench-ms", "LIBRE": "bench-libre", "GOOGLE": "bench-google"}
SECRETS = SecretSource(environ={f"{k}_KEY": v for k, v in KEYS.items()})
ENGINES: dict[str, tuple[Callable[[], FakeServer], str, Callable[[str], dict[str, Any]]]] = {
    "deepl": (lambda: FakeDeepL(KEYS["DEEPL"]), r"/v2/translate",
              lambda url: {"auth_key": "${DEEPL_KEY}", "server_url": url}),
    "google (web)": (FakeGoogleTranslate, r"/m", lambda url: {"base_url": f"{url}/m"}),
    "google (cloud)": (lambda: FakeGoogleTranslate(KEYS["GOOGLE"]), r"/language/translate/v2",
                       lambda url: {"api": "cloud", "api_key": "${GOOGLE_KEY}",
                                    "cloud_url": f"{url}/language/translate/v2"}),
    "microsoft": (lambda: FakeMicrosoftTranslator(KEYS["MS"]), r"/translate",
                  lambda url: {"api_key": "${MS_KEY}", "base_url": url}),
    "libretranslate": (lambda: FakeLibreTranslate(KEYS["LIBRE"]), r"/translate",
                       lambda url: {"api_key": "${LIBRE_KEY}", "base_url": url}),
    "mymemory": (FakeMyMemory, r"/get", lambda url: {"base_url": f"{url}/get"}),
}
ITEM = parse_item(item_data(
    title="Start your free trial of Syndicate",
    summary="Join @devrel_team for the #launch2026 webinar.",
    body=("Read the guide at https://docs.example.org/guide?ref=launch or write to hello@example.com.\n\n"
          "Your free trial includes @support and #syndication."),
    cta={"text": "Start the free trial", "url": "https://example.com/trial"}))
GLOSSARY = Glossary(GlossaryFile(do_not_translate=["Syndicate"], terms={"free trial": {"fr": "essai gratuit"}}))


def scenarios(path: str) -> dict[str, Callable[[FakeServer], None]]:
    def fault(f: Fault) -> Callable[[FakeServer], None]:
        return lambda server: server.fail_next(f)

    def mangle(mode: str) -> Callable[[FakeServer], None]:
        return lambda server: setattr(server, "mangle", mode)

    return {
        "clean": lambda server: None,
        "503 once": fault(Fault("status", path=path, status=503, body={"message": "unavailable"})),
        "429 once, Retry-After 1": fault(Fault("status", path=path, status=429, body={"message": "slow down"},
                                               headers={"Retry-After": "1"})),
        "timeout once": fault(Fault("stall", path=path, seconds=1.5)),
        "alter markup": mangle("alter"),
        "drop": mangle("drop"),
    }


def run(name: str, scenario: str, rounds: int) -> tuple[float, int, str]:
    make, path, options = ENGINES[name]
    times: list[float] = []
    sent = 0
    strategy = ""
    for _ in range(rounds):
        with make() as server:
            scenarios(path)[scenario](server)
            engine = "google" if name.startswith("google") else name
            settings = TranslationSettings.model_validate({"engine": engine, "options": {
                **options(server.url), "read_timeout_s": 1.0, "connect_timeout_s": 1.0}})
            started = time.perf_counter()
            loc = localize_item(ITEM, "fr-FR", settings, glossary=GLOSSARY, secrets=SECRETS)
            times.append(time.perf_counter() - started)
            sent = sum(1 for r in server.requests if r.path == path)
            strategy = loc.strategy or ""
    return statistics.median(times), sent, strategy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5, help="localizations per engine and scenario (median)")
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    print(machine())
    rows = []
    for name in ENGINES:
        for scenario in scenarios("/"):
            seconds, sent, strategy = run(name, scenario, args.rounds)
            rows.append((name, scenario, round(seconds * 1000), sent, strategy))
    print(table(["engine", "scenario", "median ms", "requests", "strategy"], rows))


if __name__ == "__main__":
    main()
