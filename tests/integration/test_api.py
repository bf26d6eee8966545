"""The HTTP intake API over real sockets: submit, read, cancel, review, campaigns, auth and limits."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from syndicate import Runtime
from syndicate.api.app import create_app
from syndicate.errors import ConfigError
from syndicate.localization.step import do_localize
from tests.helpers import free_port, item_data, sandbox_accounts, simple_route

TOKEN = "tok-producer-0123456789abcdef"
READER = "tok-reader-0123456789abcdefgh"


class _QuickStopServer(uvicorn.Server):
    """uvicorn's server, stopping within milliseconds of ``should_exit`` when no connection is open.

    uvicorn checks ``should_exit`` every 100 ms and pauses 100 ms in every shutdown; a test module
    that starts a server per test pays both on every test.
    """

    async def main_loop(self) -> None:
        while not self.should_exit:
            await asyncio.sleep(0.005)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)  # draining open connections: uvicorn's own way
            return
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()


class ApiServer:
    """uvicorn serving the API on a loopback port from a thread."""

    def __init__(self, rt: Runtime) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = _QuickStopServer(uvicorn.Config(create_app(rt), host="127.0.0.1", port=self.port,
                                                      log_config=None, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def api_config(config_dir: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("API_TOKEN_PRODUCER", TOKEN)
    monkeypatch.setenv("API_TOKEN_READER", READER)
    return config_dir(
        accounts=sandbox_accounts("a1", "a2", "d1"),
        routes=[simple_route("na", ["en-US"], ["a1", "a2"]),
                simple_route("dach", ["de-DE", "de-AT"], ["d1"],
                             translation={"engine": "pseudo", "review_required": True})],
        settings={"api": {"max_body_bytes": 4096, "tokens": {
            "cms": {"token": "${API_TOKEN_PRODUCER}", "scopes": ["submit", "read", "cancel", "review"]},
            "dashboard": {"token": "${API_TOKEN_READER}", "scopes": ["read"]}}}})


@pytest.fixture
def rt(api_config: Path, ledger_url: str, outbox: Path) -> Iterator[Runtime]:
    with Runtime.create(config=api_config, database_url=ledger_url, redis_url="") as runtime:
        yield runtime


@pytest.fixture
def api(rt: Runtime) -> Iterator[ApiServer]:
    with ApiServer(rt) as server:
        yield server


def post(api: ApiServer, path: str, body: Any = None, *, token: str | None = TOKEN, raw: bytes | None = None,
         content_type: str = "application/json") -> requests.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return requests.post(api.url + path, data=data, headers=headers, timeout=10)


def get(api: ApiServer, path: str, *, token: str | None = TOKEN, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(api.url + path, headers=headers, params=params, timeout=10)


def test_submitting_an_item_answers_201_with_its_plan_and_200_when_repeated(api: ApiServer) -> None:
    # Given a valid item for the North America route
    item = item_data(locales=["en-US"])
    # When a producer posts it twice
    first = post(api, "/v1/items", item)
    again = post(api, "/v1/items", item)
    # Then the first answer is 201 with the plan, the second 200 with the same plan
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == "/v1/items/item-1/publications?revision=1"
    body = first.json()
    assert body["status"] == "created"
    assert sorted((p["locale"], p["account"], p["state"]) for p in body["publications"]) == [
        ("en-US", "a1", "scheduled"), ("en-US", "a2", "scheduled")]
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"
    assert [p["id"] for p in again.json()["publications"]] == [p["id"] for p in body["publications"]]


def test_an_invalid_item_answers_422_listing_every_problem(api: ApiServer) -> None:
    # Given an item with a bad locale, a relative URL and no title
    item = item_data(source_locale="en_US", canonical_url="/relative", title=None)
    # When it is posted
    resp = post(api, "/v1/items", item)
    # Then the answer is a 422 problem document naming each field, and nothing is stored
    assert resp.status_code == 422
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    fields = {p["field"] for p in resp.json()["problems"]}
    assert {"source_locale", "canonical_url", "title"} <= fields
    assert get(api, "/v1/items/item-1/publications").status_code == 404


def test_an_unapproved_item_answers_422(api: ApiServer) -> None:
    # When an item that is not approved is posted
    resp = post(api, "/v1/items", item_data(approved=False))
    # Then it is refused, naming the field
    assert resp.status_code == 422
    assert resp.json()["code"] == "not_approved"
    assert resp.json()["problems"][0]["field"] == "approved"


def test_a_stale_or_reused_revision_answers_409(api: ApiServer) -> None:
    # Given revision 2 of an item is stored
    assert post(api, "/v1/items", item_data(revision=2, locales=["en-US"])).status_code == 201
    # When revision 1 arrives late, and revision 2 comes again with other content
    stale = post(api, "/v1/items", item_data(revision=1, locales=["en-US"]))
    reused = post(api, "/v1/items", item_data(revision=2, locales=["en-US"], title="Another title"))
    # Then both are conflicts on the revision
    assert (stale.status_code, reused.status_code) == (409, 409)
    assert stale.json()["problems"][0]["field"] == "revision"
    assert "older than revision 2" in stale.json()["title"]


def test_json_with_nan_or_duplicate_keys_is_refused(api: ApiServer) -> None:
    # When bodies that are not strict JSON arrive
    nan = post(api, "/v1/items", raw=b'{"id": "x", "revision": NaN}')
    dup = post(api, "/v1/items", raw=b'{"id": "x", "id": "y"}')
    # Then both are 422 invalid_json
    assert (nan.status_code, dup.status_code) == (422, 422)
    assert nan.json()["code"] == dup.json()["code"] == "invalid_json"


def test_requests_without_a_valid_token_are_refused(api: ApiServer) -> None:
    # When a request comes with no token, a wrong token, and a token of the right length but wrong value
    none = post(api, "/v1/items", item_data(), token=None)
    wrong = post(api, "/v1/items", item_data(), token="nope")
    close = post(api, "/v1/items", item_data(), token=TOKEN[:-1] + "X")
    # Then each is a 401 that asks for a bearer token, and nothing was stored
    assert [r.status_code for r in (none, wrong, close)] == [401, 401, 401]
    assert none.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(api, "/v1/items/item-1/publications").status_code == 404


def test_a_read_only_token_may_read_but_not_submit(api: ApiServer) -> None:
    # Given an item stored by the producer
    post(api, "/v1/items", item_data(locales=["en-US"]))
    # When the dashboard token (scope: read) reads it and tries to submit and cancel
    read = get(api, "/v1/items/item-1/publications", token=READER)
    submit = post(api, "/v1/items", item_data(id="other"), token=READER)
    cancel = post(api, "/v1/items/item-1/cancel", token=READER)
    # Then reading works and the others are forbidden
    assert read.status_code == 200
    assert (submit.status_code, cancel.status_code) == (403, 403)


def test_bodies_over_the_limit_and_non_json_bodies_are_refused(api: ApiServer) -> None:
    # When a body over max_body_bytes (4096 here) and a form-encoded body arrive
    big = post(api, "/v1/items", item_data(body="x" * 5000))
    form = post(api, "/v1/items", raw=b"id=x", content_type="application/x-www-form-urlencoded")
    # Then they get 413 and 415
    assert big.status_code == 413 and big.json()["code"] == "too_large"
    assert form.status_code == 415


def test_reading_an_items_publications_by_revision(api: ApiServer) -> None:
    # Given revisions 1 and 2 of an item
    post(api, "/v1/items", item_data(locales=["en-US"]))
    post(api, "/v1/items", item_data(revision=2, locales=["en-US"]))
    # When its publications are read, by default and for revision 1
    newest = get(api, "/v1/items/item-1/publications")
    old = get(api, "/v1/items/item-1/publications", revision=1)
    missing = get(api, "/v1/items/item-1/publications", revision=3)
    # Then the newest is active and revision 1 was superseded (its rows cancelled)
    assert newest.json()["revision"] == 2 and newest.json()["state"] == "active"
    assert old.json()["state"] == "superseded"
    assert {p["state"] for p in old.json()["publications"]} == {"cancelled"}
    assert missing.status_code == 404


def test_cancelling_an_item_through_the_api(api: ApiServer) -> None:
    # Given an item planned for two accounts
    post(api, "/v1/items", item_data(locales=["en-US"]))
    # When one account's publication is cancelled, then the rest
    one = post(api, "/v1/items/item-1/cancel", {"account": "a2", "reason": "wrong audience"})
    rest = post(api, "/v1/items/item-1/cancel")
    unknown = post(api, "/v1/items/nothing-here/cancel")
    # Then each call names what it cancelled, and every row ends cancelled with its reason
    assert one.status_code == 200 and len(one.json()["cancelled"]) == 1
    assert len(rest.json()["cancelled"]) == 1
    assert unknown.status_code == 404
    pubs = get(api, "/v1/items/item-1/publications").json()["publications"]
    assert {p["state"] for p in pubs} == {"cancelled"}
    assert {p["last_error"] for p in pubs if p["account"] == "a2"} == {"wrong audience"}


def test_approving_and_rejecting_the_review_gate(api: ApiServer, rt: Runtime) -> None:
    # Given an item localized by machine into two reviewed locales (waiting in awaiting_review)
    post(api, "/v1/items", item_data(locales=["de-DE", "de-AT"]))
    for loc in ("de-DE", "de-AT"):
        do_localize(rt, "item-1", 1, loc)
    # When a reviewer approves de-DE and rejects de-AT
    ok = post(api, "/v1/items/item-1/locales/de-DE/approve", {"by": "anna"})
    no = post(api, "/v1/items/item-1/locales/de-at/reject", {"by": "anna", "reason": "tone"})
    bad = post(api, "/v1/items/item-1/locales/de-DE/reject", {"by": "anna"})
    underscore = post(api, "/v1/items/item-1/locales/de_AT/approve", {"by": "anna"})
    # Then de-DE is scheduled again, de-AT is cancelled with the reason, a reject needs a reason,
    # and a POSIX-style locale is refused with a hint
    assert ok.status_code == 200, ok.text
    assert [p["state"] for p in ok.json()["publications"]] == ["scheduled"]
    assert no.status_code == 200 and no.json()["locale"] == "de-AT"
    assert [p["state"] for p in no.json()["publications"]] == ["cancelled"]
    assert "tone" in (no.json()["publications"][0]["last_error"] or "")
    assert bad.status_code == 422
    assert underscore.status_code == 422 and "de-AT" in underscore.json()["problems"][0]["reason"]


def test_listing_a_campaign_with_a_state_filter_and_pages(api: ApiServer) -> None:
    # Given three items of one campaign, one cancelled
    for i in range(3):
        post(api, "/v1/items", item_data(id=f"item-{i}", locales=["en-US"], campaign="spring"))
    post(api, "/v1/items/item-0/cancel")
    # When the campaign is listed, filtered and paged
    all_ = get(api, "/v1/campaigns/spring/publications").json()
    scheduled = get(api, "/v1/campaigns/spring/publications", state="scheduled").json()
    page = get(api, "/v1/campaigns/spring/publications", limit=2, offset=4).json()
    bad = get(api, "/v1/campaigns/spring/publications", state="gone")
    # Then the counts match the ledger
    assert all_["total"] == 6
    assert scheduled["total"] == 4 and {p["state"] for p in scheduled["publications"]} == {"scheduled"}
    assert (page["total"], len(page["publications"])) == (6, 2)
    assert bad.status_code == 422


def test_openapi_health_and_unknown_paths(api: ApiServer) -> None:
    # When the unauthenticated endpoints and an unknown path are asked
    doc = requests.get(api.url + "/openapi.json", timeout=5)
    live = requests.get(api.url + "/healthz", timeout=5)
    ready = requests.get(api.url + "/readyz", timeout=5)
    missing = get(api, "/v2/nothing")
    # Then the document lists every operation, the probes pass, and unknown paths are problem 404s
    assert doc.status_code == 200
    ops = {op["operationId"] for path in doc.json()["paths"].values() for op in path.values()}
    assert {"submitItem", "itemPublications", "cancelItem", "approveReview", "rejectReview",
            "campaignPublications"} <= ops
    assert live.json() == {"status": "alive"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/problem+json")


def test_the_api_refuses_to_start_without_tokens(config_dir: Callable[..., Path], sqlite_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings with a token whose variable is unset, and settings with none
    monkeypatch.delenv("API_TOKEN_UNSET", raising=False)
    unset = config_dir(settings={"api": {"tokens": {"cms": {"token": "${API_TOKEN_UNSET}"}}}})
    empty = config_dir()
    # When the app is built for each
    for cfg, expected in ((unset, "API_TOKEN_UNSET"), (empty, "at least one token")):
        # Then a ConfigError says why
        with (Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as runtime,
              pytest.raises(ConfigError, match=expected)):
            create_app(runtime)
