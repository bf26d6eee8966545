"""The translation cache: an unchanged field is never sent to an engine twice.

A cache entry maps a key to the engine's answer for one masked field (placeholders still in it).
The key is a SHA-256 of everything that can change that answer:

* the masked text (so a changed URL or mention does not miss: the placeholder is the same),
* the engine's name and its options without credentials or timeouts,
* the engine's source and target codes (``de-DE``, ``de-AT`` and ``de-CH`` share DeepL's ``DE``),
* the glossary's version.

With Redis (``SYNDICATE_REDIS_URL``) entries live in Redis under ``<namespace>:mt:<key>`` for
:data:`REDIS_TTL`; in embedded mode they live in the ledger's ``state_kv`` table (namespace
``mt-cache``), without expiry. A cache that fails is logged and skipped: it never fails a
localization.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from redis.exceptions import RedisError

from ..base.logging import get_logger
from ..base.secrets import redact
from ..ledger import LedgerError

if TYPE_CHECKING:
    from ..ledger import Ledger

__all__ = ["KV_NAMESPACE", "REDIS_TTL", "LedgerCache", "NoCache", "RedisCache", "TranslationCache", "cache_key",
           "translation_cache"]

log = get_logger("syndicate.localization.cache")

#: How long Redis keeps an entry.
REDIS_TTL = timedelta(days=90)
#: The ``state_kv`` namespace of the embedded cache.
KV_NAMESPACE = "mt-cache"


def cache_key(masked_text: str, *, engine: str, options: Mapping[str, Any], source: str, target: str,
              glossary_version: str) -> str:
    """The cache key of one masked field (hex SHA-256)."""
    payload = json.dumps({"text": masked_text, "engine": engine, "options": dict(options), "source": source,
                          "target": target, "glossary": glossary_version}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TranslationCache(Protocol):
    """Where translations of masked fields are kept."""

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached translations among ``keys``."""
        ...

    def put_many(self, entries: Mapping[str, str]) -> None:
        """Store translations by key."""
        ...


class NoCache:
    """No cache (tests, and callers that want a fresh translation)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """Nothing is cached."""
        return {}

    def put_many(self, entries: Mapping[str, str]) -> None:
        """Forget ``entries``."""


class RedisCache:
    """The cache in Redis, shared by every worker.

    Args:
        client: a ``redis.Redis`` client.
        namespace: our key prefix (``syndicate``).
        ttl: how long an entry lives.
    """

    def __init__(self, client: Any, namespace: str, ttl: timedelta = REDIS_TTL) -> None:
        self._client = client
        self._prefix = f"{namespace}:mt:"
        self._ttl_s = int(ttl.total_seconds())

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached translations among ``keys`` (none if Redis fails)."""
        if not keys:
            return {}
        try:
            values = self._client.mget([self._prefix + k for k in keys])
        except (RedisError, OSError) as exc:  # a cache must never fail the localization
            log.warning("translation_cache.unavailable", backend="redis", error=redact(str(exc)))
            return {}
        return {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in zip(keys, values, strict=True)
                if v is not None}

    def put_many(self, entries: Mapping[str, str]) -> None:
        """Store ``entries`` with the TTL (skipped if Redis fails)."""
        if not entries:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for k, v in entries.items():
                pipe.set(self._prefix + k, v.encode("utf-8"), ex=self._ttl_s)
            pipe.execute()
        except (RedisError, OSError) as exc:  # a cache must never fail the localization
            log.warning("translation_cache.unavailable", backend="redis", error=redact(str(exc)))


class LedgerCache:
    """The cache in the ledger's ``state_kv`` table (embedded mode)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached translations among ``keys``."""
        out: dict[str, str] = {}
        try:
            for k in keys:
                row = self._ledger.kv_get(KV_NAMESPACE, k)
                if row is not None and isinstance(row[0], dict) and isinstance(row[0].get("text"), str):
                    out[k] = row[0]["text"]
        except LedgerError as exc:  # a cache must never fail the localization
            log.warning("translation_cache.unavailable", backend="ledger", error=redact(str(exc)))
        return out

    def put_many(self, entries: Mapping[str, str]) -> None:
        """Store ``entries`` (an existing key keeps its value: the same key means the same answer)."""
        try:
            for k, v in entries.items():
                self._ledger.kv_put(KV_NAMESPACE, k, {"text": v}, expect_version=None)
        except LedgerError as exc:  # a cache must never fail the localization
            log.warning("translation_cache.unavailable", backend="ledger", error=redact(str(exc)))


def translation_cache(redis: Any, namespace: str, ledger: Ledger) -> TranslationCache:
    """In Redis (``redis``, a client, under ``namespace``) when there is one, else in the ledger."""
    if redis is not None:
        return RedisCache(redis, namespace)
    return LedgerCache(ledger)
