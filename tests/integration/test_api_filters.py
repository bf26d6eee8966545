"""The API's cancel and list endpoints refuse filters that name nothing, and say when nothing matched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate import Runtime
from tests.helpers import item_data
from tests.integration.test_api import ApiServer, api_config, get, post

__all__ = ["api_config"]  # the fixture, shared with test_api


@pytest.fixture
def rt(api_config: Path, sqlite_url: str, outbox: Path) -> Iterator[Runtime]:
    with Runtime.create(config=api_config, database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


@pytest.fixture
def api(rt: Runtime) -> Iterator[ApiServer]:
    with ApiServer(rt) as server:
        post(server, "/v1/items", item_data(locales=["en-US"]))
        yield server


def test_cancelling_an_account_the_item_has_no_publication_on_answers_422_listing_its_accounts(
    api: ApiServer
) -> None:
    out = post(api, "/v1/items/item-1/cancel", {"account": "nope"})
    assert out.status_code == 422
    assert out.json()["problems"] == [
        {"field": "account", "reason": "unknown account 'nope' (accounts of item 'item-1' revision 1: a1, a2)"}]
    # And nothing was cancelled
    assert {p["state"] for p in get(api, "/v1/items/item-1/publications").json()["publications"]} == {"scheduled"}


def test_cancelling_a_locale_the_item_has_no_publication_in_answers_422(api: ApiServer) -> None:
    out = post(api, "/v1/items/item-1/cancel", {"locale": "de-AT"})
    assert out.status_code == 422
    assert out.json()["problems"][0]["reason"] == "unknown locale 'de-AT' (locales of item 'item-1' revision 1: en-US)"


def test_cancelling_again_says_nothing_was_left(api: ApiServer) -> None:
    first = post(api, "/v1/items/item-1/cancel", {"locale": "en-us"})
    again = post(api, "/v1/items/item-1/cancel")
    assert first.status_code == 200 and len(first.json()["cancelled"]) == 2 and "note" not in first.json()
    assert again.status_code == 200 and again.json()["cancelled"] == []
    assert again.json()["note"] == ("nothing left to cancel: every publication has gone out, failed, or was "
                                    "cancelled or skipped")


def test_listing_an_unknown_state_answers_422_naming_the_states(api: ApiServer) -> None:
    out = get(api, "/v1/campaigns/test-campaign/publications", state="failled")
    assert out.status_code == 422
    reason = out.json()["problems"][0]["reason"]
    assert reason.startswith("unknown state 'failled'; allowed: awaiting_review, scheduled, ")
    assert "failed" in reason


def test_listing_an_unknown_campaign_answers_404(api: ApiServer) -> None:
    assert get(api, "/v1/campaigns/nope/publications").status_code == 404
    assert get(api, "/v1/campaigns/not a campaign!/publications").status_code == 404


def test_a_state_filter_that_matches_nothing_says_so(api: ApiServer) -> None:
    out = get(api, "/v1/campaigns/test-campaign/publications", state="failed")
    assert out.status_code == 200
    assert out.json()["total"] == 0
    assert out.json()["note"] == "no publications match campaign 'test-campaign', state failed"
