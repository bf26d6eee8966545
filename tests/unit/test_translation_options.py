"""The engine options this issue added: Google's api choice, retry attempts, LibreTranslate's
batch limit; and that none of them splits the cache where the answer would be the same."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syndicate.localization.engines import cache_identity, engine_options


def test_google_cloud_needs_a_key_and_the_web_endpoint_takes_none() -> None:
    with pytest.raises(ValidationError, match="api: cloud needs api_key"):
        engine_options("google", {"api": "cloud"})
    with pytest.raises(ValidationError, match="only sent with api: cloud"):
        engine_options("google", {"api_key": "${GOOGLE_TRANSLATE_API_KEY}"})
    opts = engine_options("google", {"api": "cloud", "api_key": "${GOOGLE_TRANSLATE_API_KEY}"})
    assert opts.cloud_url == "https://translation.googleapis.com/language/translate/v2"  # type: ignore[attr-defined]


def test_the_web_and_cloud_apis_do_not_share_cache_entries_and_the_key_is_not_in_them() -> None:
    web = cache_identity("google", {})
    cloud = cache_identity("google", {"api": "cloud", "api_key": "${GOOGLE_TRANSLATE_API_KEY}"})
    assert web != cloud and "api_key" not in cloud


@pytest.mark.parametrize("attempts", [0, 7])
def test_retry_attempts_stay_a_few(attempts: int) -> None:
    with pytest.raises(ValidationError, match="retry_attempts"):
        engine_options("libretranslate", {"retry_attempts": attempts})


def test_retry_attempts_and_batch_limits_do_not_change_cache_keys() -> None:
    # Given two profiles that differ only in how they send / Then their answers share the cache
    assert cache_identity("libretranslate", {"retry_attempts": 1, "max_texts": 10}) == cache_identity(
        "libretranslate", {})


def test_a_libretranslate_batch_limit_of_one_is_refused() -> None:
    # A list of one text per request would leave the split strategy no list to send
    with pytest.raises(ValidationError, match="max_texts"):
        engine_options("libretranslate", {"max_texts": 1})
