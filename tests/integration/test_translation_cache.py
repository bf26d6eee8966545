"""The translation cache lives in Redis when the runtime has Redis, in the ledger otherwise, and a
failing cache never fails a localization."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from syndicate import Runtime, submit
from syndicate.base.secrets import SecretSource
from syndicate.ledger.schema import state_kv
from syndicate.localization import LedgerCache, RedisCache, localize_item, translation_cache
from syndicate.localization.step import do_localize
from syndicate.model.config import TranslationSettings
from syndicate.model.item import parse_item
from tests.fakes.base import refused_url
from tests.fakes.deepl import FakeDeepL
from tests.helpers import item_data, sandbox_accounts, simple_route

KEY = "dk-cache-test-0f1e2d3c:fx"


@pytest.fixture
def deepl() -> Iterator[FakeDeepL]:
    with FakeDeepL(KEY) as fake:
        yield fake


def deepl_route() -> dict[str, object]:
    return simple_route("dach", ["de-DE", "de-AT"], ["a"], translation={"engine": "deepl-eu"})


def deepl_profile(fake: FakeDeepL) -> dict[str, object]:
    """settings.yaml with the engine profile the route names."""
    return {"translation": {"engines": {"deepl-eu": {"engine": "deepl", "options": {
        "auth_key": "${DEEPL_AUTH_KEY}", "server_url": fake.url}}}}}


def test_with_redis_the_cache_is_in_redis_and_a_new_revision_sends_nothing(
        config_dir: Callable[..., Path], deepl: FakeDeepL, sqlite_url: str, redis_url: str, redis_namespace: str,
        outbox: Path) -> None:
    # Given a runtime with Redis
    d = config_dir(accounts=sandbox_accounts("a"), routes=[deepl_route()], settings=deepl_profile(deepl))
    with Runtime.create(config=d, database_url=sqlite_url, redis_url=redis_url, namespace=redis_namespace,
                        environ={"DEEPL_AUTH_KEY": KEY}) as rt:
        client = redis.Redis.from_url(redis_url)
        try:
            assert isinstance(translation_cache(rt.redis(), rt.namespace, rt.ledger), RedisCache)
            # When revision 1 is localized into de-DE and de-AT, then revision 2 with only new tags
            submit(item_data(), runtime=rt, ignore_schedule=True)
            for loc in ("de-DE", "de-AT"):
                do_localize(rt, "item-1", 1, loc)
            submit(item_data(revision=2, tags=["other"]), runtime=rt, ignore_schedule=True)
            do_localize(rt, "item-1", 2, "de-DE")
            row = rt.ledger.localization("item-1", 2, "de-DE")
            with rt.ledger.engine.connect() as conn:
                in_ledger = conn.execute(select(state_kv).where(state_kv.c.namespace == "mt-cache")).all()
            keys = list(client.scan_iter(match=f"{redis_namespace}:mt:*"))
            ttl = client.ttl(keys[0])
        finally:
            client.close()
    # Then DeepL was asked once (de-AT shares DeepL's "DE"), the entries are in Redis with a TTL, not in the ledger
    assert len(deepl.translate_requests()) == 1
    assert row is not None and set(row["sources"].values()) == {"cache"}
    assert len(keys) == 4 and ttl > 80 * 86400
    assert in_ledger == []


def test_without_redis_the_cache_is_in_the_ledger(config_dir: Callable[..., Path], deepl: FakeDeepL,
                                                  sqlite_url: str, outbox: Path) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[deepl_route()], settings=deepl_profile(deepl))
    with Runtime.create(config=d, database_url=sqlite_url, redis_url="", environ={"DEEPL_AUTH_KEY": KEY}) as rt:
        assert isinstance(translation_cache(rt.redis(), rt.namespace, rt.ledger), LedgerCache)
        submit(item_data(), runtime=rt, ignore_schedule=True)
        do_localize(rt, "item-1", 1, "de-DE")
        with rt.ledger.engine.connect() as conn:
            rows = conn.execute(select(state_kv).where(state_kv.c.namespace == "mt-cache")).all()
    assert len(rows) == 4


def test_an_unreachable_redis_cache_is_skipped_and_the_engine_answers(deepl: FakeDeepL) -> None:
    # Given a Redis cache whose server is down
    port = int(refused_url().rsplit(":", 1)[1])
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))
    cache = RedisCache(client, "syndicate-test-down")
    settings = TranslationSettings.model_validate({"engine": "deepl", "options": {
        "auth_key": "${DEEPL_AUTH_KEY}", "server_url": deepl.url}})
    # When an item is localized twice / Then both times the engine answered, and nothing failed
    for _ in range(2):
        loc = localize_item(parse_item(item_data()), "de-DE", settings, cache=cache,
                            secrets=SecretSource(environ={"DEEPL_AUTH_KEY": KEY}))
        assert set(loc.sources.values()) == {"machine"}
    assert len(deepl.translate_requests()) == 2
