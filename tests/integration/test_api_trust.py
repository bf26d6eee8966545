"""Who may do what over the HTTP API: default scopes, who is recorded for a review decision, and
which token owns an item (only it, or an admin token, may supersede or cancel it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from syndicate import Runtime
from syndicate.localization.step import do_localize
from tests.helpers import item_data, sandbox_accounts, simple_route
from tests.integration.test_api import ApiServer

TOKENS = {
    # name: (value, scopes or None for the default)
    "plain": ("tok-plain-0123456789abcdef", None),
    "cms-a": ("tok-cms-a-0123456789abcdef", ["submit", "read", "cancel"]),
    "cms-b": ("tok-cms-b-0123456789abcdef", ["submit", "read", "cancel"]),
    "ops": ("tok-ops-0123456789abcdefgh", ["submit", "read", "cancel", "admin"]),
    "editor": ("tok-editor-0123456789abcdef", ["read", "review"]),
}


@pytest.fixture
def rt(config_dir: Callable[..., Path], ledger_url: str, outbox: Path,
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    tokens: dict[str, Any] = {}
    for name, (value, scopes) in TOKENS.items():
        var = "API_TOKEN_" + name.upper().replace("-", "_")
        monkeypatch.setenv(var, value)
        tokens[name] = {"token": "${" + var + "}", **({"scopes": scopes} if scopes else {})}
    cfg = config_dir(accounts=sandbox_accounts("a1", "d1"),
                     routes=[simple_route("na", ["en-US"], ["a1"]),
                             simple_route("dach", ["de-DE"], ["d1"],
                                          translation={"engine": "pseudo", "review_required": True})],
                     settings={"api": {"tokens": tokens}})
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="") as runtime:
        yield runtime


@pytest.fixture
def api(rt: Runtime) -> Iterator[str]:
    with ApiServer(rt) as server:
        yield server.url


def post(api: str, token: str, path: str, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKENS[token][0]}", "Content-Type": "application/json"}
    return requests.post(api + path, json=body, headers=headers, timeout=10)


def states(rt: Runtime, revision: int) -> set[str]:
    return {p.state for p in rt.ledger.publications(item_id="item-1", revision=revision)}


def test_a_token_without_scopes_may_submit_and_read_but_not_cancel_or_review(api: str, rt: Runtime) -> None:
    # Given a token configured without scopes, and an item of its own waiting for review
    created = post(api, "plain", "/v1/items", item_data(locales=["de-DE"]))
    do_localize(rt, "item-1", 1, "de-DE")
    # When it reads, approves its own machine translation and cancels
    read = requests.get(f"{api}/v1/items/item-1/publications", timeout=10,
                        headers={"Authorization": f"Bearer {TOKENS['plain'][0]}"})
    approve = post(api, "plain", "/v1/items/item-1/locales/de-DE/approve", {"by": "me"})
    cancel = post(api, "plain", "/v1/items/item-1/cancel")
    # Then only submitting and reading are allowed, and the review gate still holds
    assert created.status_code == 201 and read.status_code == 200
    assert approve.status_code == 403 and approve.json()["code"] == "forbidden"
    assert cancel.status_code == 403
    assert states(rt, 1) == {"awaiting_review"}


def test_a_review_decision_records_the_token_as_actor_and_the_given_name_as_reviewer(api: str, rt: Runtime) -> None:
    # Given a machine translation waiting for review
    post(api, "cms-a", "/v1/items", item_data(locales=["de-DE"]))
    do_localize(rt, "item-1", 1, "de-DE")
    # When the editor token approves it, saying it is anna
    ok = post(api, "editor", "/v1/items/item-1/locales/de-DE/approve", {"by": "anna"})
    # Then the audit trail names the token that decided, and keeps the name given beside it
    assert ok.status_code == 200, ok.text
    decisions = [e for e in rt.ledger.events(item_id="item-1") if e["kind"] in ("review.approved", "approved")]
    assert decisions and {e["actor"] for e in decisions} == {"api:editor"}
    assert all((e["detail"] or {}).get("reviewer") == "anna" for e in decisions)


def test_a_producer_cannot_supersede_another_producers_item(api: str, rt: Runtime) -> None:
    # Given an item submitted by cms-a
    assert post(api, "cms-a", "/v1/items", item_data()).status_code == 201
    # When cms-b submits a new revision of it, and the same revision again
    newer = post(api, "cms-b", "/v1/items", item_data(revision=2, title="Hijacked"))
    same = post(api, "cms-b", "/v1/items", item_data())
    # Then both are refused as not theirs, and cms-a's revision is untouched
    assert newer.status_code == 403 and newer.json()["code"] == "not_owner", newer.text
    assert same.status_code == 403
    stored = rt.ledger.item("item-1")
    assert stored is not None and stored.item.revision == 1 and stored.state == "active"
    assert states(rt, 1) == {"scheduled"}


def test_a_producer_cannot_cancel_another_producers_item(api: str, rt: Runtime) -> None:
    post(api, "cms-a", "/v1/items", item_data())
    refused = post(api, "cms-b", "/v1/items/item-1/cancel", {"reason": "mine now"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_owner"
    assert states(rt, 1) == {"scheduled"}
    stored = rt.ledger.item("item-1")
    assert stored is not None and stored.state == "active"


def test_the_owner_supersedes_and_cancels_its_own_item(api: str, rt: Runtime) -> None:
    post(api, "cms-a", "/v1/items", item_data())
    newer = post(api, "cms-a", "/v1/items", item_data(revision=2, title="Edited"))
    cancelled = post(api, "cms-a", "/v1/items/item-1/cancel")
    assert newer.status_code == 201 and newer.json()["superseded"]
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"]
    assert states(rt, 2) == {"cancelled"}


def test_an_admin_token_supersedes_and_cancels_any_item_and_the_first_owner_keeps_it(api: str, rt: Runtime) -> None:
    # Given cms-a's item
    post(api, "cms-a", "/v1/items", item_data())
    # When the ops token (admin scope) submits a correction, then cms-a edits again
    fixed = post(api, "ops", "/v1/items", item_data(revision=2, title="Corrected by ops"))
    again = post(api, "cms-a", "/v1/items", item_data(revision=3, title="Edited by its producer"))
    cancelled = post(api, "ops", "/v1/items/item-1/cancel")
    # Then each is accepted: the item still belongs to cms-a, and ops may act on it
    assert fixed.status_code == 201, fixed.text
    assert again.status_code == 201, again.text
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"]
    received = [e for e in rt.ledger.events(item_id="item-1") if e["kind"] == "item.received"]
    assert [e["actor"] for e in received] == ["api:cms-a", "api:ops", "api:cms-a"]
